package pki_test

import (
	"crypto/tls"
	"log"
	"time"

	"github.com/modemsim/modemsim/pki"
)

// A hub listener serving the chain of the simulation date's era.
func ExamplePKI_ServerCertificate() {
	simNow := time.Date(2024, time.March, 1, 0, 0, 0, 0, time.UTC)
	p, err := pki.LoadOrCreate("/var/lib/modemsim/pki", pki.WithClock(func() time.Time { return simNow }))
	if err != nil {
		log.Fatal(err)
	}
	hosts := []string{"myhub.azure-devices.net", "*.azure-devices.net", "localhost", "127.0.0.1"}
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			c, err := p.ServerCertificate(pki.RootAt(pki.ServiceHub, simNow), hosts)
			return &c, err
		},
	}
	_ = cfg
}

// A device that stored the real public DigiCert Global Root G2 PEM trusts the
// stand-in of the same name; the substitution is shown to the user.
func ExamplePKI_MapTrustAnchors() {
	p, err := pki.LoadOrCreate("/var/lib/modemsim/pki")
	if err != nil {
		log.Fatal(err)
	}
	var storedPEM []byte // what the device holds in its root CA slot
	anchors, err := pki.ParseCertsPEM(storedPEM)
	if err != nil {
		log.Fatal(err)
	}
	mapped, subs, err := p.MapTrustAnchors(anchors)
	if err != nil {
		log.Fatal(err)
	}
	for _, s := range subs {
		log.Printf("trust anchor %q (real, SHA-256 %s) -> emulator stand-in", s.Name, pki.ThumbprintSHA256(s.Real))
	}
	_ = mapped
}

// Proof of possession for a CA uploaded to DPS (azure-iot-hub.md §2.3).
func ExampleNewVerificationCert() {
	now := time.Now()
	ca, err := pki.NewCA(nil, "My Group CA", nil, now.Add(-time.Hour), now.AddDate(5, 0, 0))
	if err != nil {
		log.Fatal(err)
	}
	v, err := pki.NewVerificationCert(nil, "4A1F2B3C9D8E7F6A", ca, now)
	if err != nil {
		log.Fatal(err)
	}
	_ = pki.EncodeCertsPEM(v) // upload this
}
