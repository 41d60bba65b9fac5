package pki

import (
	"context"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func parseChain(t *testing.T, c tls.Certificate) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, der := range c.Certificate {
		x, err := x509.ParseCertificate(der)
		require.NoError(t, err)
		out = append(out, x)
	}
	return out
}

func verifyServer(chain []*x509.Certificate, roots *x509.CertPool, host string, at time.Time) error {
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err := chain[0].Verify(x509.VerifyOptions{
		DNSName:       host,
		Roots:         roots,
		Intermediates: inter,
		CurrentTime:   at,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

func realPool(t *testing.T, names ...RootName) *x509.CertPool {
	t.Helper()
	pool := x509.NewCertPool()
	for _, n := range names {
		pool.AddCert(loadRealRoot(t, n))
	}
	return pool
}

func TestServerCertificateChains(t *testing.T) {
	p := fixture(t)
	tests := []struct {
		root       RootName
		issuerCN   string
		issuerOU   []string
		issuerBits int
		sigAlg     x509.SignatureAlgorithm // root → issuing CA
	}{
		{DigiCertGlobalRootG2, "Microsoft Azure RSA TLS Issuing CA 03", nil, 4096, x509.SHA384WithRSA},
		{MicrosoftRSARoot2017, "Microsoft Azure RSA TLS Issuing CA 03", nil, 4096, x509.SHA384WithRSA},
		{BaltimoreCyberTrustRoot, "Microsoft IT TLS CA 4", []string{"Microsoft IT"}, 4096, x509.SHA256WithRSA},
	}
	for _, tt := range tests {
		t.Run(string(tt.root), func(t *testing.T) {
			sc, err := p.ServerCertificate(tt.root, testHosts)
			require.NoError(t, err)
			chain := parseChain(t, sc)
			require.Len(t, chain, 2, "leaf + issuing CA, no root")
			leaf, issuing := chain[0], chain[1]
			assert.Equal(t, leaf.Raw, sc.Leaf.Raw)

			// Leaf shape.
			assert.Equal(t, 2048, leaf.PublicKey.(*rsa.PublicKey).N.BitLen())
			assert.Contains(t, leaf.ExtKeyUsage, x509.ExtKeyUsageServerAuth)
			assert.False(t, leaf.IsCA)
			assert.Equal(t, []string{"myhub.azure-devices.net", "*.azure-devices.net",
				"global.azure-devices-provisioning.net", "*.azure-devices-provisioning.net", "localhost"}, leaf.DNSNames)
			require.Len(t, leaf.IPAddresses, 1)
			assert.Equal(t, "127.0.0.1", leaf.IPAddresses[0].String())
			assert.True(t, validAt(leaf, fixtureNow))

			// Issuing CA of the real era.
			assert.Equal(t, tt.issuerCN, issuing.Subject.CommonName)
			assert.Equal(t, []string{"Microsoft Corporation"}, issuing.Subject.Organization)
			assert.Equal(t, []string{"US"}, issuing.Subject.Country)
			assert.Equal(t, tt.issuerOU, issuing.Subject.OrganizationalUnit)
			assert.Equal(t, tt.issuerBits, issuing.PublicKey.(*rsa.PublicKey).N.BitLen())
			assert.Equal(t, tt.sigAlg, issuing.SignatureAlgorithm)
			assert.True(t, issuing.IsCA)
			assert.True(t, issuing.MaxPathLenZero)
			assert.Equal(t, string(tt.root), issuing.Issuer.CommonName)
			ra, err := p.Root(tt.root)
			require.NoError(t, err)
			assert.Equal(t, ra.Cert.SubjectKeyId, issuing.AuthorityKeyId, "AKI = the stand-in's own key id")
			assert.NotEqual(t, loadRealRoot(t, tt.root).SubjectKeyId, issuing.AuthorityKeyId, "AKI must not name the real root")

			// Verifies under its own stand-in for every served name...
			own, err := p.RootPool(tt.root)
			require.NoError(t, err)
			for _, host := range []string{"myhub.azure-devices.net", "other.azure-devices.net",
				"global.azure-devices-provisioning.net", "localhost", "127.0.0.1"} {
				assert.NoError(t, verifyServer(chain, own, host, fixtureNow), host)
			}
			assert.Error(t, verifyServer(chain, own, "example.com", fixtureNow), "name not in SANs")

			// ...and under no other root: not the other stand-ins, not the real roots.
			for _, other := range RootNames() {
				if other != tt.root {
					pool, err := p.RootPool(other)
					require.NoError(t, err)
					var ua x509.UnknownAuthorityError
					assert.ErrorAs(t, verifyServer(chain, pool, "myhub.azure-devices.net", fixtureNow), &ua, "stand-in %s", other)
				}
				var ua x509.UnknownAuthorityError
				assert.ErrorAs(t, verifyServer(chain, realPool(t, other), "myhub.azure-devices.net", fixtureNow), &ua, "real %s", other)
			}
		})
	}
}

// FAILURE-CASES WS4: the certificate message must be the size of the real
// one (leaf RSA 2048 + RSA 4096 issuing CA ≈ 3–4 KB), so a TLS stack with a
// 2 KB incoming record buffer fails and one with 4 KB may pass.
func TestServerChainSize(t *testing.T) {
	p := fixture(t)
	for _, root := range RootNames() {
		t.Run(string(root), func(t *testing.T) {
			sc, err := p.ServerCertificate(root, testHosts)
			require.NoError(t, err)
			total := 0
			for _, der := range sc.Certificate {
				total += len(der)
			}
			t.Logf("chain DER bytes: leaf %d + issuing %d = %d", len(sc.Certificate[0]), len(sc.Certificate[1]), total)
			assert.Greater(t, total, 2048)
			assert.Less(t, total, 4096)
			assert.Greater(t, len(sc.Certificate[1]), 1300, "RSA-4096 issuing CA with AIA/CRL/policies")
		})
	}
}

func TestCrossCertifiedIssuingCAShareKey(t *testing.T) {
	p := fixture(t)
	g2, err := p.IssuingCA(DigiCertGlobalRootG2)
	require.NoError(t, err)
	ms, err := p.IssuingCA(MicrosoftRSARoot2017)
	require.NoError(t, err)
	balt, err := p.IssuingCA(BaltimoreCyberTrustRoot)
	require.NoError(t, err)
	assert.True(t, samePublicKey(g2.Key, ms.Key), "xsign: one key, two certificates")
	assert.NotEqual(t, g2.Cert.Raw, ms.Cert.Raw)
	assert.False(t, samePublicKey(g2.Key, balt.Key))
}

func TestServerCertificateCacheKey(t *testing.T) {
	p := fixture(t)
	base, err := p.ServerCertificate(DigiCertGlobalRootG2, testHosts)
	require.NoError(t, err)
	tests := []struct {
		name  string
		root  RootName
		hosts []string
		same  bool
		err   error
	}{
		{"same order", DigiCertGlobalRootG2, testHosts, true, nil},
		{"reordered, upper case, duplicated, trailing dot", DigiCertGlobalRootG2, []string{
			"127.0.0.1", "LOCALHOST", "*.azure-devices-provisioning.net", "global.azure-devices-provisioning.net",
			"*.azure-devices.net", "myhub.azure-devices.net.", "localhost"}, true, nil},
		{"other root", BaltimoreCyberTrustRoot, testHosts, false, nil},
		{"empty", DigiCertGlobalRootG2, nil, false, ErrNoHosts},
		{"blank names", DigiCertGlobalRootG2, []string{" ", ""}, false, ErrNoHosts},
		{"unknown root", RootName("Contoso Root"), testHosts, false, ErrUnknownRoot},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := p.ServerCertificate(tt.root, tt.hosts)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.same, string(got.Certificate[0]) == string(base.Certificate[0]))
		})
	}
}

func TestServerCertificateOtherHostSet(t *testing.T) {
	p := fixture(t)
	sc, err := p.ServerCertificate(DigiCertGlobalRootG2, []string{"::1", "hub.local"})
	require.NoError(t, err)
	chain := parseChain(t, sc)
	assert.Equal(t, "hub.local", chain[0].Subject.CommonName)
	pool, err := p.RootPool(DigiCertGlobalRootG2)
	require.NoError(t, err)
	assert.NoError(t, verifyServer(chain, pool, "::1", fixtureNow))
	assert.Error(t, verifyServer(chain, pool, "myhub.azure-devices.net", fixtureNow))
}

func TestLoadOrCreateReusesState(t *testing.T) {
	p := fixture(t)
	again, err := LoadOrCreate(fixtureDir(), WithClock(fixedClock(fixtureNow)))
	require.NoError(t, err)
	for _, name := range RootNames() {
		t.Run(string(name), func(t *testing.T) {
			a, err := p.Root(name)
			require.NoError(t, err)
			b, err := again.Root(name)
			require.NoError(t, err)
			assert.Equal(t, a.Cert.Raw, b.Cert.Raw)
			assert.True(t, samePublicKey(a.Key, b.Key))

			ia, err := p.IssuingCA(name)
			require.NoError(t, err)
			ib, err := again.IssuingCA(name)
			require.NoError(t, err)
			assert.Equal(t, ia.Cert.Raw, ib.Cert.Raw)

			sa, err := p.ServerCertificate(name, testHosts)
			require.NoError(t, err)
			sb, err := again.ServerCertificate(name, testHosts)
			require.NoError(t, err)
			assert.Equal(t, sa.Certificate, sb.Certificate)
		})
	}
}

// Concurrent first use of one fresh directory, from separate PKI values (as
// separate processes would), ends with a single root.
func TestLoadOrCreateConcurrentFirstUse(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	certs := make([][]byte, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := LoadOrCreate(dir)
			if !assert.NoError(t, err) {
				return
			}
			a, err := p.Root(DigiCertGlobalRootG2)
			if assert.NoError(t, err) {
				certs[i] = a.Cert.Raw
			}
		}()
	}
	wg.Wait()
	for i := 1; i < n; i++ {
		assert.Equal(t, certs[0], certs[i], "PKI %d", i)
	}
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "one root file, no temp files left")
	info, err := entries[0].Info()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(filePerm), info.Mode().Perm())
}

// The clock drives the issuing CA and leaf windows; roots keep the real dates.
func TestServerCertificateFollowsClock(t *testing.T) {
	dir := copyFixture(t)
	now := fixtureNow
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	setNow := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	p, err := LoadOrCreate(dir, WithClock(clock))
	require.NoError(t, err)

	first, err := p.ServerCertificate(BaltimoreCyberTrustRoot, testHosts)
	require.NoError(t, err)
	rootA, err := p.Root(BaltimoreCyberTrustRoot)
	require.NoError(t, err)
	ownPool, err := p.RootPool(BaltimoreCyberTrustRoot)
	require.NoError(t, err)

	// A year later the old leaf has expired; a new one is issued...
	later := time.Date(2025, time.June, 1, 0, 0, 0, 0, time.UTC)
	setNow(later)
	second, err := p.ServerCertificate(BaltimoreCyberTrustRoot, testHosts)
	require.NoError(t, err)
	assert.NotEqual(t, first.Certificate[0], second.Certificate[0])
	assert.True(t, validAt(second.Leaf, later))
	rootB, err := p.Root(BaltimoreCyberTrustRoot)
	require.NoError(t, err)
	assert.Equal(t, rootA.Cert.Raw, rootB.Cert.Raw, "roots are never re-issued")

	// ...but Baltimore itself expired on 2025-05-12 (W4/M1 era): the chain
	// no longer verifies, exactly as with the real root.
	var invalid x509.CertificateInvalidError
	require.ErrorAs(t, verifyServer(parseChain(t, second), ownPool, "myhub.azure-devices.net", later), &invalid)
	assert.Equal(t, x509.Expired, invalid.Reason)

	// Back in time: a fresh PKI on the same directory serves a chain that is
	// valid at that date again (the issuing CA of the later date still
	// covers it; the leaf is re-issued).
	setNow(fixtureNow)
	p2, err := LoadOrCreate(dir, WithClock(clock))
	require.NoError(t, err)
	third, err := p2.ServerCertificate(BaltimoreCyberTrustRoot, testHosts)
	require.NoError(t, err)
	assert.NoError(t, verifyServer(parseChain(t, third), ownPool, "myhub.azure-devices.net", fixtureNow))
	assert.True(t, validAt(third.Leaf, fixtureNow))
}

func TestCorruptStateFiles(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		content string
		call    func(p *PKI) error
		wantErr error
	}{
		{"garbage root", "root-digicert-global-root-g2.pem", "not pem",
			func(p *PKI) error { _, err := p.Root(DigiCertGlobalRootG2); return err }, ErrCorrupt},
		{"garbage CA key", "cakey-microsoft-azure-rsa-tls-issuing-ca-03.pem", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
			func(p *PKI) error { _, err := p.IssuingCA(DigiCertGlobalRootG2); return err }, ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, tt.file), []byte(tt.content), 0o600))
			p, err := LoadOrCreate(dir, WithClock(fixedClock(fixtureNow)))
			require.NoError(t, err)
			require.ErrorIs(t, tt.call(p), tt.wantErr)
		})
	}
}

// A stored server certificate that no longer fits (here: garbage) is re-issued.
func TestCorruptServerFileIsReissued(t *testing.T) {
	dir := copyFixture(t)
	matches, err := filepath.Glob(filepath.Join(dir, "server-digicert-global-root-g2-*.pem"))
	require.NoError(t, err)
	require.NotEmpty(t, matches)
	for _, m := range matches {
		require.NoError(t, os.WriteFile(m, []byte("garbage"), 0o600))
	}
	p, err := LoadOrCreate(dir, WithClock(fixedClock(fixtureNow)))
	require.NoError(t, err)
	sc, err := p.ServerCertificate(DigiCertGlobalRootG2, testHosts)
	require.NoError(t, err)
	pool, err := p.RootPool(DigiCertGlobalRootG2)
	require.NoError(t, err)
	assert.NoError(t, verifyServer(parseChain(t, sc), pool, "myhub.azure-devices.net", fixtureNow))
}

func TestLoadOrCreateBadDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := LoadOrCreate(filepath.Join(file, "sub"))
	assert.Error(t, err)
	_, err = LoadOrCreate("")
	assert.Error(t, err)
}

// A real TLS handshake (over an in-memory pipe) with a device that trusts a
// given root: the stand-in of the serving root passes, anything else fails
// with the same error type a device would map (x509.UnknownAuthorityError).
func TestTLSHandshake(t *testing.T) {
	p := fixture(t)
	tests := []struct {
		name    string
		serve   RootName
		trust   func(t *testing.T) *x509.CertPool
		sni     string
		wantErr bool
	}{
		{"G2 chain, device trusts stand-in G2", DigiCertGlobalRootG2, standIn(p, DigiCertGlobalRootG2), "myhub.azure-devices.net", false},
		{"G2 chain, DPS name", DigiCertGlobalRootG2, standIn(p, DigiCertGlobalRootG2), "global.azure-devices-provisioning.net", false},
		{"G2 chain, device trusts only Baltimore (W4, M1)", DigiCertGlobalRootG2, standIn(p, BaltimoreCyberTrustRoot), "myhub.azure-devices.net", true},
		{"G2 chain, device trusts the real G2 PEM unmapped", DigiCertGlobalRootG2, func(t *testing.T) *x509.CertPool { return realPool(t, DigiCertGlobalRootG2) }, "myhub.azure-devices.net", true},
		{"Baltimore chain, device trusts Baltimore and G2 (M2)", BaltimoreCyberTrustRoot, standIn(p, BaltimoreCyberTrustRoot, DigiCertGlobalRootG2), "global.azure-devices-provisioning.net", false},
		{"Baltimore chain, device trusts only G2", BaltimoreCyberTrustRoot, standIn(p, DigiCertGlobalRootG2), "global.azure-devices-provisioning.net", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := p.ServerCertificate(tt.serve, testHosts)
			require.NoError(t, err)
			cliConn, srvConn := net.Pipe()
			defer cliConn.Close()
			defer srvConn.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := tls.Server(srvConn, &tls.Config{Certificates: []tls.Certificate{sc}, MinVersion: tls.VersionTLS12, Time: fixedClock(fixtureNow)})
			cli := tls.Client(cliConn, &tls.Config{RootCAs: tt.trust(t), ServerName: tt.sni, MinVersion: tls.VersionTLS12, Time: fixedClock(fixtureNow)})
			srvErr := make(chan error, 1)
			go func() {
				err := srv.HandshakeContext(ctx)
				if err != nil {
					srvConn.Close() // unblock the client if the server gives up first
				}
				srvErr <- err
			}()
			err = cli.HandshakeContext(ctx)
			if tt.wantErr {
				var ua x509.UnknownAuthorityError
				var tv *tls.CertificateVerificationError
				require.ErrorAs(t, err, &tv)
				assert.True(t, errors.As(err, &ua), "got %v", err)
				cliConn.Close()
				<-srvErr
				return
			}
			require.NoError(t, err)
			require.NoError(t, <-srvErr)
			assert.Len(t, cli.ConnectionState().PeerCertificates, 2)
		})
	}
}

func standIn(p *PKI, names ...RootName) func(t *testing.T) *x509.CertPool {
	return func(t *testing.T) *x509.CertPool {
		pool, err := p.RootPool(names...)
		require.NoError(t, err)
		return pool
	}
}

// The hub calls ServerCertificate per handshake (GetCertificate); the cached
// path must cost next to nothing.
func BenchmarkServerCertificateCached(b *testing.B) {
	p := fixture(b)
	_, err := p.ServerCertificate(DigiCertGlobalRootG2, testHosts)
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer() // the fixture's key generation is not what is measured
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := p.ServerCertificate(DigiCertGlobalRootG2, testHosts); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestUnknownRoot(t *testing.T) {
	p, err := LoadOrCreate(t.TempDir())
	require.NoError(t, err)
	const bogus = RootName("DigiCert Global Root CA")
	tests := []struct {
		name string
		call func() error
	}{
		{"Root", func() error { _, err := p.Root(bogus); return err }},
		{"IssuingCA", func() error { _, err := p.IssuingCA(bogus); return err }},
		{"ServerCertificate", func() error { _, err := p.ServerCertificate(bogus, testHosts); return err }},
		{"RootPool", func() error { _, err := p.RootPool(bogus); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.call(), ErrUnknownRoot)
		})
	}
	entries, err := os.ReadDir(p.Dir())
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing generated for an unknown name")
}
