package pki

import (
	"crypto/rand"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// systemBundle is Debian's concatenated system trust store (ca-certificates).
const systemBundle = "/etc/ssl/certs/ca-certificates.crt"

// realRootsAll is every real public root of the table, from testdata: added
// to the "system store" so the same-name conflict exists even on a machine
// whose store lacks one of them (Baltimore left Mozilla's store in 2025).
func realRootsAll(t *testing.T) []*x509.Certificate {
	t.Helper()
	var out []*x509.Certificate
	for _, n := range RootNames() {
		out = append(out, loadRealRoot(t, n))
	}
	return out
}

// TestSystemPoolPlusStandIns: a Go client that trusts the system store plus
// roots.pem (issue 12 fix 2) verifies every era's hub/DPS chain.
func TestSystemPoolPlusStandIns(t *testing.T) {
	p := fixture(t)
	pool, err := x509.SystemCertPool()
	if err != nil {
		t.Skipf("no system certificate pool: %v", err)
	}
	for _, c := range realRootsAll(t) {
		pool.AddCert(c)
	}
	for _, n := range RootNames() {
		a, err := p.Root(n)
		require.NoError(t, err)
		pool.AddCert(a.Cert)
	}
	for _, n := range RootNames() {
		t.Run(string(n), func(t *testing.T) {
			sc, err := p.ServerCertificate(n, testHosts)
			require.NoError(t, err)
			chain := parseChain(t, sc)
			for _, host := range []string{"myhub.azure-devices.net", "global.azure-devices-provisioning.net", "localhost", "127.0.0.1"} {
				assert.NoError(t, verifyServer(chain, pool, host, fixtureNow), host)
			}
		})
	}
}

// legacyChain rebuilds what the stand-ins looked like before issue 12: the
// root with the real root's Subject Key Identifier and the issuing CA with
// that Authority Key Identifier (same keys, so no key generation here).
func legacyChain(t *testing.T, p *PKI, n RootName) (root, issuing *x509.Certificate) {
	t.Helper()
	ra, err := p.Root(n)
	require.NoError(t, err)
	ia, err := p.IssuingCA(n)
	require.NoError(t, err)
	rt := *ra.Cert
	rt.SubjectKeyId = loadRealRoot(t, n).SubjectKeyId
	rt.ExtraExtensions = nil
	rootDER, err := x509.CreateCertificate(rand.Reader, &rt, &rt, ra.Key.Public(), ra.Key)
	require.NoError(t, err)
	root, err = x509.ParseCertificate(rootDER)
	require.NoError(t, err)
	it := *ia.Cert
	it.AuthorityKeyId = nil // taken from the parent's SubjectKeyId
	issDER, err := x509.CreateCertificate(rand.Reader, &it, root, ia.Key.Public(), ra.Key)
	require.NoError(t, err)
	issuing, err = x509.ParseCertificate(issDER)
	require.NoError(t, err)
	return root, issuing
}

// TestOpenSSLSystemBundlePlusStandIns: OpenSSL (what Node's
// NODE_EXTRA_CA_CERTS and Python's certifi-plus-file end up using) with one
// CA file holding the system bundle and roots.pem verifies the chains; the
// stand-ins as they were (copied key id) fail, which is the bug.
func TestOpenSSLSystemBundlePlusStandIns(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	bundle, err := os.ReadFile(systemBundle)
	if err != nil {
		t.Skipf("no system bundle: %v", err)
	}
	p := fixture(t)
	dir := t.TempDir()
	write := func(name string, parts ...[]byte) string {
		path := filepath.Join(dir, name)
		var b []byte
		for _, x := range parts {
			b = append(b, x...)
			b = append(b, '\n')
		}
		require.NoError(t, os.WriteFile(path, b, 0o600))
		return path
	}
	system := append(append([]byte(nil), bundle...), EncodeCertsPEM(realRootsAll(t)...)...)
	verify := func(caFile, untrusted, leaf string) (string, error) {
		out, err := exec.Command(openssl, "verify", "-CAfile", caFile, "-untrusted", untrusted,
			"-attime", strconv.FormatInt(fixtureNow.Unix(), 10), "-purpose", "sslserver", leaf).CombinedOutput()
		return string(out), err
	}
	for _, n := range RootNames() {
		t.Run(string(n), func(t *testing.T) {
			sc, err := p.ServerCertificate(n, testHosts)
			require.NoError(t, err)
			chain := parseChain(t, sc)
			ra, err := p.Root(n)
			require.NoError(t, err)
			leaf := write(slug(string(n))+"-leaf.pem", EncodeCertsPEM(chain[0]))
			inter := write(slug(string(n))+"-issuing.pem", EncodeCertsPEM(chain[1]))
			for _, order := range []string{"system first", "stand-ins first"} {
				parts := [][]byte{system, ra.CertPEM()}
				if order == "stand-ins first" {
					parts = [][]byte{ra.CertPEM(), system}
				}
				ca := write(slug(string(n)+order)+"-ca.pem", parts...)
				out, err := verify(ca, inter, leaf)
				assert.NoError(t, err, "%s: %s", order, out)
			}

			legacyRoot, legacyIssuing := legacyChain(t, p, n)
			ca := write(slug(string(n))+"-legacy-ca.pem", system, EncodeCertsPEM(legacyRoot))
			out, err := verify(ca, write(slug(string(n))+"-legacy-issuing.pem", EncodeCertsPEM(legacyIssuing)), leaf)
			assert.Error(t, err, "a stand-in with the real key id is passed over for the real root: %s", out)
		})
	}
}

func TestRealKeyID(t *testing.T) {
	p := fixture(t)
	for _, n := range RootNames() {
		t.Run(string(n), func(t *testing.T) {
			ia, err := p.IssuingCA(n)
			require.NoError(t, err)
			real, name, ok := p.RealKeyID(ia.Cert.AuthorityKeyId)
			require.True(t, ok)
			assert.Equal(t, n, name)
			assert.Equal(t, loadRealRoot(t, n).SubjectKeyId, real)
		})
	}
	_, _, ok := p.RealKeyID(loadRealRoot(t, DigiCertGlobalRootG2).SubjectKeyId)
	assert.False(t, ok, "the real key id is not a stand-in's")
	_, _, ok = p.RealKeyID(nil)
	assert.False(t, ok)
}

// TestCopiedKeyIDRootIsReissued: a state directory made before issue 12
// (stand-in carrying the real key id) is repaired on load with the same key.
func TestCopiedKeyIDRootIsReissued(t *testing.T) {
	p := fixture(t)
	n := DigiCertGlobalRootG2
	ra, err := p.Root(n)
	require.NoError(t, err)
	legacyRoot, _ := legacyChain(t, p, n)
	dir := t.TempDir()
	q, err := LoadOrCreate(dir, WithClock(fixedClock(fixtureNow)))
	require.NoError(t, err)
	data, err := encodeBundle(&Authority{Cert: legacyRoot, Key: ra.Key})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(q.rootPath(n), data, 0o600))

	got, err := q.Root(n)
	require.NoError(t, err)
	assert.NotEqual(t, legacyRoot.SubjectKeyId, got.Cert.SubjectKeyId)
	assert.True(t, samePublicKey(got.Key, ra.Key), "same key")
	again, err := LoadOrCreate(dir, WithClock(fixedClock(fixtureNow)))
	require.NoError(t, err)
	stored, err := again.Root(n)
	require.NoError(t, err)
	assert.Equal(t, got.Cert.Raw, stored.Cert.Raw, "the repaired root is persisted")
}
