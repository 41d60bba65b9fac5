package hub

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrPrecondition is an If-Match that names another version (HTTP 412).
var ErrPrecondition = errors.New("hub: precondition failed (etag)")

// maxTagsBytes: twin tags 8 KB (§1.6 [doc D-QUOTA]).
const maxTagsBytes = 8 * 1024

// TwinVersion is the twin's version as the service API shows it: it grows
// with every change of desired, reported or tags [inf: the real hub's
// counter also grows on every twin change].
func (t Twin) TwinVersion() int64 { return t.DesiredVersion + t.ReportedVersion + t.TagsVersion }

// ETag is the twin's entity tag: the base64 big-endian version, the shape
// of the real hub's twin etags ("AAAAAAAAAAE=") [inf].
func (t Twin) ETag() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(t.TwinVersion()))
	return base64.StdEncoding.EncodeToString(b[:])
}

// ETag is the device identity's entity tag: a digest of what an update
// can change (status, keys, thumbprints) [inf].
func (d Device) ETag() string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%t\x00%s\x00%s\x00%s\x00%s", d.Auth, d.Disabled, d.PrimaryKey, d.SecondaryKey, d.PrimaryThumbprint, d.SecondaryThumbprint)
	return base64.StdEncoding.EncodeToString(h.Sum(nil)[:12])
}

// matchETag checks an If-Match value ("" or "*" match anything).
func matchETag(ifMatch, current string) error {
	if ifMatch == "" || ifMatch == "*" || ifMatch == current {
		return nil
	}
	return fmt.Errorf("%w: If-Match %q, current %q", ErrPrecondition, ifMatch, current)
}

// UpdateDevice replaces a device's status and credentials (the registry's
// PUT with If-Match); its twin and creation time stay. Disabling closes the
// live connection (§1.5 [obs azure-iot-sdk-c#2300]).
func (s *Service) UpdateDevice(spec DeviceSpec, ifMatch string) (Device, error) {
	d, err := s.reg.update(spec.ID, func(d *Device) error {
		if err := matchETag(ifMatch, d.ETag()); err != nil {
			return err
		}
		d.Disabled = spec.Disabled
		return setCredentials(d, spec)
	})
	if err != nil {
		return Device{}, err
	}
	if d.Disabled {
		s.closeDevice(d.ID, CheckDisabledLive, "device disabled while connected")
	}
	return d, nil
}

// UpdateTwin applies merge patches to the tags and the desired properties
// in one step (the service API's twin PATCH), if ifMatch matches the
// twin's ETag; the desired patch is pushed to a connected device. Either
// patch may be nil.
func (s *Service) UpdateTwin(id, ifMatch string, tags, desired map[string]any) (Twin, error) {
	d, err := s.reg.update(id, func(d *Device) error {
		if err := matchETag(ifMatch, d.Twin.ETag()); err != nil {
			return err
		}
		if tags != nil {
			if d.Twin.Tags == nil {
				d.Twin.Tags = map[string]any{}
			}
			mergePatch(d.Twin.Tags, tags)
			if b, _ := jsonSize(d.Twin.Tags); b > maxTagsBytes {
				return fmt.Errorf("%w: tags over %d bytes", ErrTooLarge, maxTagsBytes)
			}
			d.Twin.TagsVersion++
		}
		if desired != nil {
			mergePatch(d.Twin.Desired, desired)
			if sectionTooLarge(d.Twin.Desired) {
				return ErrTooLarge
			}
			d.Twin.DesiredVersion++
		}
		return nil
	})
	if err != nil {
		return Twin{}, err
	}
	if desired != nil {
		s.pushDesired(id, desired, d.Twin.DesiredVersion)
	}
	return d.Twin, nil
}

func jsonSize(m map[string]any) (int, error) {
	b, err := json.Marshal(m)
	return len(b), err
}
