package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DeviceSpec describes a device to create.
type DeviceSpec struct {
	ID   string
	Auth AuthType
	// PrimaryKey/SecondaryKey (base64) for AuthSAS; generated when empty.
	PrimaryKey, SecondaryKey string
	// PrimaryThumbprint/SecondaryThumbprint (SHA-1 or SHA-256 hex) for AuthSelfSigned.
	PrimaryThumbprint, SecondaryThumbprint string
	Disabled                               bool
}

// deviceIDChars are the characters allowed besides ASCII alphanumerics
// (§1.2 [doc D-IDREG]); at most 128 characters.
const (
	deviceIDChars = "-.%_*?!(),:=@$'"
	maxDeviceID   = 128
)

func validDeviceID(id string) bool {
	if id == "" || len(id) > maxDeviceID {
		return false
	}
	for _, r := range id {
		alnum := r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
		if !alnum && !strings.ContainsRune(deviceIDChars, r) {
			return false
		}
	}
	return true
}

// setCredentials gives d the authentication spec asks for, generating SAS
// keys that spec leaves out; create and update share the rules.
func setCredentials(d *Device, spec DeviceSpec) error {
	d.Auth = spec.Auth
	d.PrimaryKey, d.SecondaryKey, d.PrimaryThumbprint, d.SecondaryThumbprint = "", "", "", ""
	switch spec.Auth {
	case AuthSAS:
		d.PrimaryKey, d.SecondaryKey = spec.PrimaryKey, spec.SecondaryKey
		if d.PrimaryKey == "" {
			d.PrimaryKey = newKey()
		}
		if d.SecondaryKey == "" {
			d.SecondaryKey = newKey()
		}
	case AuthSelfSigned:
		if spec.PrimaryThumbprint == "" {
			return fmt.Errorf("%w: self-signed device needs a primary thumbprint", ErrInvalid)
		}
		d.PrimaryThumbprint, d.SecondaryThumbprint = normThumb(spec.PrimaryThumbprint), normThumb(spec.SecondaryThumbprint)
	case AuthCA:
	default:
		return fmt.Errorf("%w: authentication type %q", ErrInvalid, spec.Auth)
	}
	return nil
}

// CreateDevice adds a device identity.
func (s *Service) CreateDevice(spec DeviceSpec) (Device, error) {
	if !validDeviceID(spec.ID) {
		return Device{}, fmt.Errorf("%w: device id %q", ErrInvalid, spec.ID)
	}
	d := Device{ID: spec.ID, Auth: spec.Auth, Disabled: spec.Disabled, Created: s.now(),
		Twin: Twin{Desired: map[string]any{}, Reported: map[string]any{}, DesiredVersion: 1, ReportedVersion: 1}}
	if err := setCredentials(&d, spec); err != nil {
		return Device{}, err
	}
	s.reg.mu.Lock()
	if _, ok := s.reg.st.Devices[d.ID]; ok {
		s.reg.mu.Unlock()
		return Device{}, fmt.Errorf("%w: device %q", ErrExists, d.ID)
	}
	s.reg.st.Devices[d.ID] = &d
	out := cloneDevice(&d)
	s.reg.mu.Unlock()
	if err := s.reg.save(); err != nil {
		s.reg.mu.Lock()
		if s.reg.st.Devices[d.ID] == &d { // not replaced meanwhile
			delete(s.reg.st.Devices, d.ID)
		}
		s.reg.mu.Unlock()
		return Device{}, err
	}
	s.cfg.log.Info("hub: device created", "device", out.ID, "auth", out.Auth)
	return out, nil
}

// Device returns one device.
func (s *Service) Device(id string) (Device, error) {
	d, ok := s.reg.device(id)
	if !ok {
		return Device{}, fmt.Errorf("%w: device %q", ErrNotFound, id)
	}
	return d, nil
}

// Devices lists all devices sorted by id.
func (s *Service) Devices() []Device {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	out := make([]Device, 0, len(s.reg.st.Devices))
	for _, k := range sortedKeys(s.reg.st.Devices) {
		out = append(out, cloneDevice(s.reg.st.Devices[k]))
	}
	return out
}

// SetDeviceEnabled enables or disables a device; disabling closes its live
// connection (§1.5 [obs azure-iot-sdk-c#2300]).
func (s *Service) SetDeviceEnabled(id string, enabled bool) (Device, error) {
	d, err := s.reg.update(id, func(d *Device) error { d.Disabled = !enabled; return nil })
	if err != nil {
		return Device{}, err
	}
	if !enabled {
		s.closeDevice(id, CheckDisabledLive, "device disabled while connected")
	}
	return d, nil
}

// DeleteDevice removes a device and closes its live connection.
func (s *Service) DeleteDevice(id string) error {
	s.reg.mu.Lock()
	d, ok := s.reg.st.Devices[id]
	if !ok {
		s.reg.mu.Unlock()
		return fmt.Errorf("%w: device %q", ErrNotFound, id)
	}
	delete(s.reg.st.Devices, id)
	if err := s.reg.saveLocked(); err != nil {
		s.reg.st.Devices[id] = d
		s.reg.mu.Unlock()
		return err
	}
	s.reg.mu.Unlock()
	s.closeDevice(id, CheckDeletedLive, "device deleted while connected")
	s.mu.Lock()
	if ds := s.devices[id]; ds != nil {
		ds.c2d, ds.persistent = nil, nil
		if err := s.saveC2DLocked(); err != nil {
			s.cfg.log.Warn("hub: c2d state not saved after delete", "device", id, "error", err)
		}
	}
	s.mu.Unlock()
	return nil
}

// Policies lists the shared access policies.
func (s *Service) Policies() []Policy {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	out := make([]Policy, 0, len(s.reg.st.Policies))
	for _, k := range sortedKeys(s.reg.st.Policies) {
		out = append(out, *s.reg.st.Policies[k])
	}
	return out
}

// Policy returns one shared access policy.
func (s *Service) Policy(name string) (Policy, error) {
	p, ok := s.reg.policy(name)
	if !ok {
		return Policy{}, fmt.Errorf("%w: policy %q", ErrNotFound, name)
	}
	return p, nil
}

// CreatePolicy adds a shared access policy with fresh keys.
func (s *Service) CreatePolicy(name string, rights ...Right) (Policy, error) {
	if name == "" || len(rights) == 0 {
		return Policy{}, fmt.Errorf("%w: policy needs a name and rights", ErrInvalid)
	}
	p := Policy{Name: name, PrimaryKey: newKey(), SecondaryKey: newKey(), Rights: rights}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	if _, ok := s.reg.st.Policies[name]; ok {
		return Policy{}, fmt.Errorf("%w: policy %q", ErrExists, name)
	}
	s.reg.st.Policies[name] = &p
	if err := s.reg.saveLocked(); err != nil {
		delete(s.reg.st.Policies, name)
		return Policy{}, err
	}
	return p, nil
}

// DeletePolicy removes a shared access policy.
func (s *Service) DeletePolicy(name string) error {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	p, ok := s.reg.st.Policies[name]
	if !ok {
		return fmt.Errorf("%w: policy %q", ErrNotFound, name)
	}
	delete(s.reg.st.Policies, name)
	if err := s.reg.saveLocked(); err != nil {
		s.reg.st.Policies[name] = p
		return err
	}
	return nil
}

// AddCA uploads a CA certificate (PEM or DER). verified=true models
// "set status to verified on upload" (§1.4 [doc D-X509, P-VER]).
func (s *Service) AddCA(name string, certPEM []byte, verified bool) (CACertificate, error) {
	c, err := parseCertPEM(certPEM)
	if err != nil {
		return CACertificate{}, err
	}
	if name == "" {
		return CACertificate{}, fmt.Errorf("%w: CA name", ErrInvalid)
	}
	ca := CACertificate{Name: name, PEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
		Subject: c.Subject.String(), ThumbprintSHA1: thumbSHA1(c.Raw), ThumbprintSHA256: thumbSHA256(c.Raw),
		Verified: verified, Created: s.now()}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	if _, ok := s.reg.st.CAs[name]; ok {
		return CACertificate{}, fmt.Errorf("%w: CA %q", ErrExists, name)
	}
	s.reg.st.CAs[name] = &ca
	s.reg.certs[name] = c
	if err := s.reg.saveLocked(); err != nil {
		delete(s.reg.st.CAs, name)
		delete(s.reg.certs, name)
		return CACertificate{}, err
	}
	return ca, nil
}

// CAs lists the uploaded CA certificates.
func (s *Service) CAs() []CACertificate {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	out := make([]CACertificate, 0, len(s.reg.st.CAs))
	for _, k := range sortedKeys(s.reg.st.CAs) {
		out = append(out, *s.reg.st.CAs[k])
	}
	return out
}

// DeleteCA removes a CA certificate.
func (s *Service) DeleteCA(name string) error {
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	if _, ok := s.reg.st.CAs[name]; !ok {
		return fmt.Errorf("%w: CA %q", ErrNotFound, name)
	}
	ca, c := s.reg.st.CAs[name], s.reg.certs[name]
	delete(s.reg.st.CAs, name)
	delete(s.reg.certs, name)
	if err := s.reg.saveLocked(); err != nil {
		s.reg.st.CAs[name], s.reg.certs[name] = ca, c
		return err
	}
	return nil
}

// CAVerificationCode generates (and stores) a new verification code for
// proof of possession (§1.4 [doc D-X509, P-VER]).
func (s *Service) CAVerificationCode(name string) (string, error) {
	code := newVerificationCode()
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	ca, ok := s.reg.st.CAs[name]
	if !ok {
		return "", fmt.Errorf("%w: CA %q", ErrNotFound, name)
	}
	old := ca.VerificationCode
	ca.VerificationCode = code
	if err := s.reg.saveLocked(); err != nil {
		ca.VerificationCode = old
		return "", err
	}
	return code, nil
}

// VerifyCA checks a proof-of-possession certificate: subject CN equal to
// the current verification code, signed by the CA's key, valid now
// (§1.4 [doc D-X509, P-VER]). On success the CA is marked verified.
func (s *Service) VerifyCA(name string, certPEM []byte) error {
	vc, err := parseCertPEM(certPEM)
	if err != nil {
		return err
	}
	now := s.now()
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	ca, ok := s.reg.st.CAs[name]
	if !ok {
		return fmt.Errorf("%w: CA %q", ErrNotFound, name)
	}
	switch {
	case ca.VerificationCode == "":
		return fmt.Errorf("%w: no verification code generated for CA %q", ErrVerification, name)
	case vc.Subject.CommonName != ca.VerificationCode:
		return fmt.Errorf("%w: subject CN %q is not the verification code %q", ErrVerification, vc.Subject.CommonName, ca.VerificationCode)
	case now.Before(vc.NotBefore) || now.After(vc.NotAfter):
		return fmt.Errorf("%w: verification certificate not valid at %s", ErrVerification, now.UTC().Format(time.RFC3339))
	}
	if err := vc.CheckSignatureFrom(s.reg.certs[name]); err != nil {
		return fmt.Errorf("%w: not signed by the CA key: %v", ErrVerification, err)
	}
	ca.Verified = true
	ca.VerificationCode = ""
	if err := s.reg.saveLocked(); err != nil {
		ca.Verified = false
		return err
	}
	return nil
}

// Twin returns a device's twin.
func (s *Service) Twin(id string) (Twin, error) {
	d, err := s.Device(id)
	if err != nil {
		return Twin{}, err
	}
	return d.Twin, nil
}

// decodeObject parses a JSON object, keeping numbers exact.
func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after JSON object")
	}
	return m, nil
}

// mergePatch applies a JSON merge patch (null deletes, objects merge).
func mergePatch(dst, patch map[string]any) {
	for k, v := range patch {
		if strings.HasPrefix(k, "$") { // $version and other metadata are the hub's
			continue
		}
		switch pv := v.(type) {
		case nil:
			delete(dst, k)
		case map[string]any:
			cur, ok := dst[k].(map[string]any)
			if !ok {
				cur = map[string]any{}
			}
			mergePatch(cur, pv)
			dst[k] = cur
		default:
			dst[k] = v
		}
	}
}

func sectionTooLarge(m map[string]any) bool {
	b, _ := json.Marshal(m)
	return len(b) > maxTwinSectionBytes
}

// patchReported applies a device's reported patch; returns the new version
// and the twin status (204, or 400 for malformed JSON / too large, §1.6).
func (s *Service) patchReported(id string, body []byte) (int64, int) {
	patch, err := decodeObject(body)
	if err != nil {
		s.cfg.log.Info("hub: malformed reported patch", "device", id, "error", err)
		return 0, 400
	}
	status := 204
	d, err := s.reg.update(id, func(d *Device) error {
		mergePatch(d.Twin.Reported, patch)
		if sectionTooLarge(d.Twin.Reported) {
			status = 400
			return ErrTooLarge
		}
		d.Twin.ReportedVersion++
		return nil
	})
	if err != nil {
		if status == 204 {
			status = 500
		}
		return 0, status
	}
	return d.Twin.ReportedVersion, status
}

// UpdateDesired applies a JSON merge patch to the desired properties and
// pushes it to the device if it is connected and subscribed (§1.6: pushes
// only while connected).
func (s *Service) UpdateDesired(id string, patch []byte) (Twin, error) {
	p, err := decodeObject(patch)
	if err != nil {
		return Twin{}, fmt.Errorf("%w: desired patch: %v", ErrInvalid, err)
	}
	d, err := s.reg.update(id, func(d *Device) error {
		mergePatch(d.Twin.Desired, p)
		if sectionTooLarge(d.Twin.Desired) {
			return ErrTooLarge
		}
		d.Twin.DesiredVersion++
		return nil
	})
	if err != nil {
		return Twin{}, err
	}
	s.pushDesired(id, p, d.Twin.DesiredVersion)
	return d.Twin, nil
}

// pushDesired sends a desired-properties patch to the device if it is
// connected and subscribed (§1.6: pushes only while connected).
func (s *Service) pushDesired(id string, p map[string]any, ver int64) {
	push := copyMap(p)
	push["$version"] = ver
	body, _ := json.Marshal(push)
	s.mu.Lock()
	var c *conn
	var qos byte
	if ds := s.devices[id]; ds != nil && ds.cur != nil && ds.cur.established {
		if q, ok := ds.cur.subFor(kindSubTwinDesired); ok {
			c, qos = ds.cur, q
		}
	}
	s.mu.Unlock()
	if c != nil {
		if _, err := s.deliver(c, twinDesiredPrefix+"?$version="+strconv.FormatInt(ver, 10), body, qos); err != nil {
			s.cfg.log.Debug("hub: desired push", "device", id, "error", err)
		}
	}
}

// InvokeMethod calls a direct method and waits for the device's answer
// until ctx ends (caller-side timeout, §6.10 [inf]). The device must be
// connected and subscribed to `$iothub/methods/POST/#`.
func (s *Service) InvokeMethod(ctx context.Context, id, name string, payload []byte) (MethodResult, error) {
	if name == "" || strings.ContainsAny(name, "/#+") {
		return MethodResult{}, fmt.Errorf("%w: method name %q", ErrInvalid, name)
	}
	if len(payload) > maxMethodPayload {
		return MethodResult{}, fmt.Errorf("%w: method payload %d bytes", ErrTooLarge, len(payload))
	}
	// Small decimal rids: some clients parse them with strconv.Atoi (§1.6 [src amenzhinsky/iothub; inf]).
	rid := strconv.FormatUint(s.ridSeq.Add(1), 10)
	ch := make(chan MethodResult, 1)
	s.mu.Lock()
	ds := s.devices[id]
	if ds == nil || ds.cur == nil || !ds.cur.established {
		s.mu.Unlock()
		return MethodResult{}, fmt.Errorf("%w: %q", ErrDeviceNotOnline, id)
	}
	c := ds.cur
	qos, ok := c.subFor(kindSubMethods)
	if !ok {
		s.mu.Unlock()
		return MethodResult{}, fmt.Errorf("%w: %q not subscribed to %s", ErrDeviceNotOnline, id, filterMethods)
	}
	ds.methods[rid] = ch
	s.mu.Unlock()
	cleanup := func() {
		s.mu.Lock()
		delete(ds.methods, rid)
		s.mu.Unlock()
	}
	if _, err := s.deliver(c, methodsPostPrefix+name+"/?$rid="+rid, payload, qos); err != nil {
		cleanup()
		return MethodResult{}, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		cleanup()
		return MethodResult{}, fmt.Errorf("%w: %s on %q: %w", ErrMethodTimeout, name, id, ctx.Err())
	}
}

// SendC2D queues a cloud-to-device message and delivers it when the
// device is connected and subscribed (§1.6, §6.8). Returns the message id.
func (s *Service) SendC2D(id string, payload []byte, props map[string]string) (string, error) {
	if _, ok := s.reg.device(id); !ok {
		return "", fmt.Errorf("%w: device %q", ErrNotFound, id)
	}
	if len(payload) > maxC2DBytes {
		return "", fmt.Errorf("%w: C2D payload %d bytes (max %d)", ErrTooLarge, len(payload), maxC2DBytes)
	}
	now := s.now()
	m := &C2DMessage{ID: fmt.Sprintf("c2d-%d-%d", now.Unix(), s.msgSeq.Add(1)), Payload: append([]byte(nil), payload...),
		Properties: map[string]string{}, Enqueued: now, Expiry: now.Add(s.cfg.c2dTTL)}
	for k, v := range props {
		m.Properties[k] = v
	}
	s.mu.Lock()
	ds := s.dev(id)
	s.dropExpiredLocked(id, ds, now)
	if len(ds.c2d) >= maxC2DQueue {
		s.mu.Unlock()
		return "", fmt.Errorf("%w: %d messages pending for %q", ErrQueueFull, maxC2DQueue, id)
	}
	ds.c2d = append(ds.c2d, m)
	if err := s.saveC2DLocked(); err != nil {
		ds.c2d = ds.c2d[:len(ds.c2d)-1]
		s.mu.Unlock()
		return "", err
	}
	s.mu.Unlock()
	s.flushC2D(id)
	return m.ID, nil
}

// PendingC2D returns the messages not yet completed (PUBACKed) by the device.
func (s *Service) PendingC2D(id string) []C2DMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []C2DMessage
	if ds := s.devices[id]; ds != nil {
		s.dropExpiredLocked(id, ds, s.now())
		for _, m := range ds.c2d {
			out = append(out, *m)
		}
	}
	return out
}

// c2dTopic renders `devices/{id}/messages/devicebound/{bag}` with the
// system properties of the real example (§1.6 [doc D-TUT]).
func c2dTopic(id string, m *C2DMessage) string {
	sys := map[string]string{"mid": m.ID, "to": "/devices/" + id + "/messages/devicebound", "ce": "utf-8"}
	app := map[string]string{"iothub-ack": "none"}
	for k, v := range m.Properties {
		app[k] = v
	}
	return "devices/" + id + "/messages/devicebound/" + encodePropertyBag(sys, app)
}

// flushC2D sends queued messages to the device's live, subscribed connection.
func (s *Service) flushC2D(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.devices[id]
	if ds == nil || ds.cur == nil || !ds.cur.established || ds.cur.closing {
		return
	}
	c := ds.cur
	if _, ok := c.subFor(kindSubC2D, kindSubMessages); !ok {
		return
	}
	s.dropExpiredLocked(id, ds, s.now())
	for _, m := range ds.c2d {
		if m.inflight {
			continue
		}
		// C2D is always QoS 1 (§1.6 [doc D-MQTT]); written under s.mu so the
		// PUBACK cannot overtake the bookkeeping.
		pid, err := s.deliver(c, c2dTopic(id, m), m.Payload, 1)
		if err != nil {
			s.cfg.log.Debug("hub: c2d delivery", "device", id, "error", err)
			return
		}
		m.inflight = true
		c.inflightC2D[pid] = m
	}
}

// completeC2D removes a message when the device PUBACKs it (§1.6: PUBACK = complete).
func (s *Service) completeC2D(c *conn, pid uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := c.inflightC2D[pid]
	if !ok {
		return
	}
	delete(c.inflightC2D, pid)
	ds := s.dev(c.deviceID)
	for i, x := range ds.c2d {
		if x == m {
			ds.c2d = append(ds.c2d[:i], ds.c2d[i+1:]...)
			break
		}
	}
	if err := s.saveC2DLocked(); err != nil {
		s.cfg.log.Warn("hub: c2d state not saved; a completed message may be delivered again after a restart", "device", c.deviceID, "error", err)
	}
}
