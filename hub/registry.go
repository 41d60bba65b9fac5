package hub

import (
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
)

// Sentinel errors of the admin API.
var (
	ErrNotFound         = errors.New("hub: not found")
	ErrExists           = errors.New("hub: already exists")
	ErrInvalid          = errors.New("hub: invalid argument")
	ErrDeviceNotOnline  = errors.New("hub: device not online")
	ErrQueueFull        = errors.New("hub: cloud-to-device queue full")
	ErrTooLarge         = errors.New("hub: payload too large")
	ErrVerification     = errors.New("hub: proof-of-possession verification failed")
	ErrMethodTimeout    = errors.New("hub: direct method timed out")
	ErrNotSubscribed    = errors.New("hub: device is not subscribed to the topic")
	ErrClosed           = errors.New("hub: closed")
	ErrModuleIdentities = errors.New("hub: module identities are not emulated")
)

// AuthType is a device's authentication mechanism (§1.4 [doc D-X509]).
type AuthType string

// Authentication types (names as in the IoT Hub registry API).
const (
	AuthSAS        AuthType = "sas"
	AuthSelfSigned AuthType = "selfSigned"
	AuthCA         AuthType = "certificateAuthority"
)

// Right is a shared access policy permission (§1.3 [doc D-SAS]).
type Right string

// Policy rights.
const (
	RightRegistryRead   Right = "RegistryRead"
	RightRegistryWrite  Right = "RegistryWrite"
	RightServiceConnect Right = "ServiceConnect"
	RightDeviceConnect  Right = "DeviceConnect"
)

// defaultPolicies are the policies a new hub has (D-SAS [doc]: iothubowner,
// service, device, registryRead, registryReadWrite).
var defaultPolicies = []struct {
	name   string
	rights []Right
}{
	{"iothubowner", []Right{RightRegistryRead, RightRegistryWrite, RightServiceConnect, RightDeviceConnect}},
	{"service", []Right{RightServiceConnect}},
	{"device", []Right{RightDeviceConnect}},
	{"registryRead", []Right{RightRegistryRead}},
	{"registryReadWrite", []Right{RightRegistryRead, RightRegistryWrite}},
}

// Device is a registry identity.
type Device struct {
	ID       string   `json:"deviceId"`
	Auth     AuthType `json:"authenticationType"`
	Disabled bool     `json:"disabled,omitempty"`
	// PrimaryKey and SecondaryKey are base64 symmetric keys (AuthSAS).
	PrimaryKey   string `json:"primaryKey,omitempty"`
	SecondaryKey string `json:"secondaryKey,omitempty"`
	// PrimaryThumbprint and SecondaryThumbprint are SHA-1 or SHA-256 hex of
	// the leaf DER (AuthSelfSigned); compared case-insensitively, colons ignored.
	PrimaryThumbprint   string    `json:"primaryThumbprint,omitempty"`
	SecondaryThumbprint string    `json:"secondaryThumbprint,omitempty"`
	Created             time.Time `json:"created"`
	Twin                Twin      `json:"twin"`
}

// Twin is the device twin: desired and reported documents with versions.
type Twin struct {
	Desired         map[string]any `json:"desired"`
	DesiredVersion  int64          `json:"desiredVersion"`
	Reported        map[string]any `json:"reported"`
	ReportedVersion int64          `json:"reportedVersion"`
	// Tags are service-side only (never sent to the device, §1.6 sizes: 8 KB).
	Tags        map[string]any `json:"tags,omitempty"`
	TagsVersion int64          `json:"tagsVersion,omitempty"`
}

// Document renders the twin as the device receives it on GET
// (`{"desired":{…,"$version":N},"reported":{…,"$version":M}}`, §1.6 [doc D-MQTT]).
func (t Twin) Document() []byte {
	d := copyMap(t.Desired)
	d["$version"] = t.DesiredVersion
	r := copyMap(t.Reported)
	r["$version"] = t.ReportedVersion
	b, _ := json.Marshal(map[string]any{"desired": d, "reported": r}) // maps of JSON values always marshal
	return b
}

// Policy is a shared access policy.
type Policy struct {
	Name         string  `json:"keyName"`
	PrimaryKey   string  `json:"primaryKey"`
	SecondaryKey string  `json:"secondaryKey"`
	Rights       []Right `json:"rights"`
}

// Has reports whether the policy grants r.
func (p Policy) Has(r Right) bool {
	for _, x := range p.Rights {
		if x == r {
			return true
		}
	}
	return false
}

// CACertificate is an uploaded CA certificate (root or intermediate).
type CACertificate struct {
	Name             string    `json:"name"`
	PEM              string    `json:"pem"`
	Subject          string    `json:"subject"`
	ThumbprintSHA1   string    `json:"thumbprintSha1"`
	ThumbprintSHA256 string    `json:"thumbprintSha256"`
	Verified         bool      `json:"verified"`
	VerificationCode string    `json:"verificationCode,omitempty"`
	Created          time.Time `json:"created"`
}

// state is what the registry persists.
type state struct {
	Devices  map[string]*Device        `json:"devices"`
	Policies map[string]*Policy        `json:"policies"`
	CAs      map[string]*CACertificate `json:"cas"`
}

// registry is the persisted device registry and CA store.
type registry struct {
	batch *atomicfile.Batch // keeps st in path
	mu    sync.Mutex
	path  string
	st    state
	certs map[string]*x509.Certificate // parsed CAs by name
}

func openRegistry(dir string) (*registry, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hub: state dir: %w", err)
	}
	r := &registry{path: filepath.Join(dir, "registry.json"), certs: map[string]*x509.Certificate{}}
	r.batch = atomicfile.NewBatch(r.path, &r.mu, func() ([]byte, error) {
		b, err := json.MarshalIndent(r.st, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("hub: encode registry: %w", err)
		}
		return b, nil
	})
	b, err := os.ReadFile(r.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		r.st = state{Devices: map[string]*Device{}, Policies: map[string]*Policy{}, CAs: map[string]*CACertificate{}}
		for _, p := range defaultPolicies {
			r.st.Policies[p.name] = &Policy{Name: p.name, PrimaryKey: newKey(), SecondaryKey: newKey(), Rights: p.rights}
		}
		if err := r.saveLocked(); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, fmt.Errorf("hub: read registry: %w", err)
	default:
		if err := json.Unmarshal(b, &r.st); err != nil {
			return nil, fmt.Errorf("hub: parse %s: %w", r.path, err)
		}
		if r.st.Devices == nil {
			r.st.Devices = map[string]*Device{}
		}
		if r.st.Policies == nil {
			r.st.Policies = map[string]*Policy{}
		}
		if r.st.CAs == nil {
			r.st.CAs = map[string]*CACertificate{}
		}
		for n, ca := range r.st.CAs {
			c, err := parseCertPEM([]byte(ca.PEM))
			if err != nil {
				return nil, fmt.Errorf("hub: CA %q: %w", n, err)
			}
			r.certs[n] = c
		}
	}
	return r, nil
}

// saveLocked writes the state atomically and durably; r.mu must be held.
func (r *registry) saveLocked() error {
	if err := r.batch.SaveLocked(); err != nil {
		return fmt.Errorf("hub: write registry: %w", err)
	}
	return nil
}

// save writes the state with every change made before it, sharing the
// write with concurrent changes; r.mu must not be held.
func (r *registry) save() error {
	if err := r.batch.Save(); err != nil {
		return fmt.Errorf("hub: write registry: %w", err)
	}
	return nil
}

func (r *registry) device(id string) (Device, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	d, ok := r.st.Devices[id]
	if !ok {
		return Device{}, false
	}
	return cloneDevice(d), true
}

func (r *registry) policy(name string) (Policy, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, ok := r.st.Policies[name]
	if !ok {
		return Policy{}, false
	}
	return *p, true
}

// update applies fn to a device under the lock and persists.
func (r *registry) update(id string, fn func(d *Device) error) (Device, error) {
	r.mu.Lock()
	d, ok := r.st.Devices[id]
	if !ok {
		r.mu.Unlock()
		return Device{}, fmt.Errorf("%w: device %q", ErrNotFound, id)
	}
	nd := cloneDevice(d)
	if err := fn(&nd); err != nil {
		r.mu.Unlock()
		return Device{}, err
	}
	r.st.Devices[id] = &nd
	out := cloneDevice(&nd)
	r.mu.Unlock()
	if err := r.save(); err != nil {
		r.mu.Lock()
		if r.st.Devices[id] == &nd { // not changed again meanwhile
			r.st.Devices[id] = d
		}
		r.mu.Unlock()
		return Device{}, err
	}
	return out, nil
}

// caPools returns the verified CAs, all CAs, and the CA names by certificate.
func (r *registry) caPools() (verified, all *x509.CertPool, names map[*x509.Certificate]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	verified, all = x509.NewCertPool(), x509.NewCertPool()
	names = map[*x509.Certificate]string{}
	for n, ca := range r.st.CAs {
		c := r.certs[n]
		all.AddCert(c)
		names[c] = n
		if ca.Verified {
			verified.AddCert(c)
		}
	}
	return verified, all, names
}

func cloneDevice(d *Device) Device {
	c := *d
	c.Twin.Desired = copyMap(d.Twin.Desired)
	c.Twin.Reported = copyMap(d.Twin.Reported)
	if d.Twin.Tags != nil {
		c.Twin.Tags = copyMap(d.Twin.Tags)
	}
	return c
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = copyMap(sub)
		}
		out[k] = v
	}
	return out
}

// newKey returns a random 32-byte base64 key, the size the portal generates.
func newKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return base64.StdEncoding.EncodeToString(b)
}

// newVerificationCode returns a random hex code for CA proof of possession.
func newVerificationCode() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return strings.ToUpper(hex.EncodeToString(b))
}

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		if c, err := x509.ParseCertificate(b); err == nil { // accept DER too
			return c, nil
		}
		return nil, fmt.Errorf("%w: no PEM certificate", ErrInvalid)
	}
	if blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: PEM block %q, want CERTIFICATE", ErrInvalid, blk.Type)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c, nil
}

func thumbSHA1(der []byte) string {
	s := sha1.Sum(der)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

func thumbSHA256(der []byte) string {
	s := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// normThumb upper-cases a thumbprint and strips colons and spaces.
func normThumb(s string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(s))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
