package pki

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"os"
	"time"
)

// Substitution records that a device's trust anchor was a real public root
// and the stand-in of the same name was used in its place. Callers show it
// in the transcript: the mapping must be visible (DESIGN.md "Real roots vs
// stand-ins").
type Substitution struct {
	Name    RootName
	Real    *x509.Certificate
	StandIn *x509.Certificate
}

// MapTrustAnchors returns the anchors a simulated device verifies servers
// with: each real public Azure root (recognised by SHA-256 fingerprint) is
// replaced by its stand-in, every other certificate is kept as it is. An
// unknown or wrong root therefore stays unknown or wrong.
func (p *PKI) MapTrustAnchors(anchors []*x509.Certificate) ([]*x509.Certificate, []Substitution, error) {
	return mapAnchors(anchors, func(name RootName) (*x509.Certificate, error) {
		a, err := p.Root(name)
		if err != nil {
			return nil, err
		}
		return a.Cert, nil
	})
}

// StandIns are the stand-in roots of an emulator running in another
// process, by name (what its admin API publishes at GET /roots/{name}); they
// map real roots exactly as (*PKI).MapTrustAnchors does.
type StandIns map[RootName]*x509.Certificate

// MapTrustAnchors implements the same mapping as (*PKI).MapTrustAnchors.
func (s StandIns) MapTrustAnchors(anchors []*x509.Certificate) ([]*x509.Certificate, []Substitution, error) {
	return mapAnchors(anchors, func(name RootName) (*x509.Certificate, error) {
		c, ok := s[name]
		if !ok {
			return nil, fmt.Errorf("pki: no stand-in for %q", name)
		}
		return c, nil
	})
}

func mapAnchors(anchors []*x509.Certificate, standIn func(RootName) (*x509.Certificate, error)) ([]*x509.Certificate, []Substitution, error) {
	out := make([]*x509.Certificate, 0, len(anchors))
	var subs []Substitution
	for _, c := range anchors {
		name, ok := LookupRealRoot(c)
		if !ok {
			out = append(out, c)
			continue
		}
		si, err := standIn(name)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, si)
		subs = append(subs, Substitution{Name: name, Real: c, StandIn: si})
	}
	return out, subs, nil
}

// Service is an Azure endpoint whose server chain changed root on a known date.
type Service int

// Services.
const (
	ServiceHub Service = iota
	ServiceDPS
)

func (s Service) String() string {
	switch s {
	case ServiceHub:
		return "IoT Hub"
	case ServiceDPS:
		return "DPS"
	}
	return "Service(?)"
}

// Migration is the window in which a service moved from Baltimore CyberTrust
// Root to DigiCert Global Root G2, region by region
// (azure-iot-hub.md §3.3 [doc D-MIG]).
type Migration struct {
	Start, End time.Time
}

// MigrationOf returns the Baltimore → DigiCert G2 window of a service: hubs
// 15 Feb – 15 Oct 2023, DPS 15 Jan – 15 Feb 2024 [doc D-MIG].
func MigrationOf(s Service) Migration {
	switch s {
	case ServiceDPS:
		return Migration{
			Start: time.Date(2024, time.January, 15, 0, 0, 0, 0, time.UTC),
			End:   time.Date(2024, time.February, 15, 0, 0, 0, 0, time.UTC),
		}
	default:
		return Migration{
			Start: time.Date(2023, time.February, 15, 0, 0, 0, 0, time.UTC),
			End:   time.Date(2023, time.October, 15, 0, 0, 0, 0, time.UTC),
		}
	}
}

// RootAt is the root a service's chain ends in at time t. Inside the
// migration window a given hub moved on an unknown day, so the default
// treats the whole window as still Baltimore [I]; a scenario that needs a
// particular hub's day sets the root explicitly.
func RootAt(s Service, t time.Time) RootName {
	if t.Before(MigrationOf(s).End) {
		return BaltimoreCyberTrustRoot
	}
	return DigiCertGlobalRootG2
}

// RealKeyID maps the key id of a stand-in root (the Authority Key
// Identifier of the issuing CAs the emulator serves) to the Subject Key
// Identifier of the real root of the same name. A device model that finds
// its trust anchor by key id (a `<subject key id>.ca` file, FAILURE-CASES
// S4) looks the real key id up, as it would on the real hub. ok is false
// for any other key id.
func (p *PKI) RealKeyID(keyID []byte) (real []byte, name RootName, ok bool) {
	for _, r := range RealRoots() {
		// Only stand-ins that exist can have issued the key id: never
		// generate one here.
		if _, err := os.Stat(p.rootPath(r.Name)); err != nil {
			continue
		}
		a, err := p.Root(r.Name)
		if err != nil {
			continue
		}
		if len(keyID) > 0 && bytes.Equal(a.Cert.SubjectKeyId, keyID) {
			return mustHex(r.SubjectKeyID), r.Name, true
		}
	}
	return nil, "", false
}
