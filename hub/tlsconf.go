package hub

import (
	"crypto/tls"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/pki"
)

// strongCipherSuites is the hub's enforced TLS 1.2 set that Go implements
// (§3.2 [doc D-TLS21]; Go lacks the *_CBC_SHA384 ones), plus the ECDSA
// variants listed for DPS and the ECC preview (§3.2 [doc P-TLS]).
var strongCipherSuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,
}

// legacyCipherSuites are the pre-2025 suites of unenforced hubs that Go
// implements (§3.2 [doc D-TLS21]); opt-in with WithLegacyCipherSuites.
var legacyCipherSuites = []uint16{
	tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA256,
	tls.TLS_RSA_WITH_AES_128_CBC_SHA,
	tls.TLS_RSA_WITH_AES_256_CBC_SHA,
	tls.TLS_RSA_WITH_3DES_EDE_CBC_SHA,
}

// isDPSName reports whether an SNI name belongs to DPS (§3.3 [inf]).
func isDPSName(sni string) bool {
	return strings.HasSuffix(strings.ToLower(sni), dpsHostSuffix)
}

// serverTLS builds the listeners' TLS configuration and picks the server
// chain per SNI and simulation date.
type serverTLS struct {
	cfg      *config
	pki      *pki.PKI
	hubHosts []string
	dpsHosts []string

	mu    sync.Mutex
	cache map[string]*tls.Certificate
}

func newServerTLS(cfg *config, p *pki.PKI) *serverTLS {
	hub := append([]string{cfg.hostName}, cfg.extraHosts...)
	dps := append([]string{DefaultDPSHostName, "*" + dpsHostSuffix}, cfg.extraHosts...)
	return &serverTLS{cfg: cfg, pki: p, hubHosts: hub, dpsHosts: dps, cache: map[string]*tls.Certificate{}}
}

// rootAt is the root a chain comes from at time now: explicit, or
// Baltimore before the migration date and DigiCert Global Root G2 after (§3.3 [doc D-MIG]).
func rootAt(explicit pki.RootName, migration, now time.Time) pki.RootName {
	if explicit != "" {
		return explicit
	}
	if now.Before(migration) {
		return pki.BaltimoreCyberTrustRoot
	}
	return pki.DigiCertGlobalRootG2
}

func (t *serverTLS) hubRoot() pki.RootName {
	return rootAt(t.cfg.hubRoot, t.cfg.hubMigration, t.cfg.clock())
}

func (t *serverTLS) dpsRoot() pki.RootName {
	return rootAt(t.cfg.dpsRoot, DPSMigrationDate, t.cfg.clock())
}

func (t *serverTLS) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return t.certificateFor(isDPSName(hello.ServerName))
}

// warm issues the hub and DPS chains of the current date before any
// device connects: issuing one can mean generating RSA keys, which must not
// happen inside a handshake (a slow first handshake times out).
func (t *serverTLS) warm() error {
	for _, dps := range []bool{false, true} {
		if _, err := t.certificateFor(dps); err != nil {
			return err
		}
	}
	return nil
}

func (t *serverTLS) certificateFor(dps bool) (*tls.Certificate, error) {
	root, hosts, kind := t.hubRoot(), t.hubHosts, "hub"
	if dps {
		root, hosts, kind = t.dpsRoot(), t.dpsHosts, "dps"
	}
	key := kind + "|" + string(root)
	now := t.cfg.clock()
	t.mu.Lock()
	defer t.mu.Unlock()
	if c := t.cache[key]; c != nil && c.Leaf != nil && !now.Before(c.Leaf.NotBefore) && now.Before(c.Leaf.NotAfter) {
		return c, nil
	}
	c, err := t.pki.ServerCertificate(root, hosts)
	if err != nil {
		return nil, fmt.Errorf("hub: server certificate (%s, %s): %w", kind, root, err)
	}
	t.cache[key] = &c
	return &c, nil
}

// tlsConfig returns the listener configuration: TLS 1.2 minimum (1.3
// opt-in), the documented suites, and a client-certificate request without
// verification — the verdict belongs to CONNECT (§3.4, §5.3).
func (t *serverTLS) tlsConfig() *tls.Config {
	suites := append([]uint16(nil), strongCipherSuites...)
	if t.cfg.legacyCiphers {
		suites = append(suites, legacyCipherSuites...)
	}
	maxV := uint16(tls.VersionTLS12)
	if t.cfg.tls13 {
		maxV = tls.VersionTLS13
	}
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		MaxVersion:     maxV,
		CipherSuites:   suites,
		ClientAuth:     tls.RequestClientCert,
		GetCertificate: t.getCertificate,
		Time:           t.cfg.clock,
	}
}
