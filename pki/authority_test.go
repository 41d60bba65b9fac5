package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	testNotBefore = fixtureNow.Add(-time.Hour)
	testNotAfter  = fixtureNow.Add(365 * 24 * time.Hour)
)

func verifyClient(leaf *x509.Certificate, at time.Time, roots []*x509.Certificate, inter ...*x509.Certificate) error {
	rp := x509.NewCertPool()
	for _, r := range roots {
		rp.AddCert(r)
	}
	ip := x509.NewCertPool()
	for _, c := range inter {
		ip.AddCert(c)
	}
	_, err := leaf.Verify(x509.VerifyOptions{
		Roots: rp, Intermediates: ip, CurrentTime: at,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	return err
}

func TestNewCAAndLeafKeyTypes(t *testing.T) {
	tests := []struct {
		name    string
		keyType []CertOption
		check   func(t *testing.T, pub crypto.PublicKey)
	}{
		{"default ECDSA P-256", nil, func(t *testing.T, pub crypto.PublicKey) {
			k, ok := pub.(*ecdsa.PublicKey)
			require.True(t, ok, "%T", pub)
			assert.Equal(t, elliptic.P256(), k.Curve)
		}},
		{"ECDSA P-384", []CertOption{WithKeyType(ECDSAP384)}, func(t *testing.T, pub crypto.PublicKey) {
			k, ok := pub.(*ecdsa.PublicKey)
			require.True(t, ok, "%T", pub)
			assert.Equal(t, elliptic.P384(), k.Curve)
		}},
		{"RSA 2048", []CertOption{WithKeyType(RSA2048)}, func(t *testing.T, pub crypto.PublicKey) {
			k, ok := pub.(*rsa.PublicKey)
			require.True(t, ok, "%T", pub)
			assert.Equal(t, 2048, k.N.BitLen())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root, err := NewCA(rand.Reader, "Test Root", nil, testNotBefore, testNotAfter, tt.keyType...)
			require.NoError(t, err)
			tt.check(t, root.Cert.PublicKey)
			assert.True(t, root.Cert.IsCA)
			assert.Equal(t, root.Cert.RawSubject, root.Cert.RawIssuer, "self-signed")
			assert.NoError(t, root.Cert.CheckSignatureFrom(root.Cert))

			inter, err := NewCA(rand.Reader, "Test Intermediate", root, testNotBefore, testNotAfter, tt.keyType...)
			require.NoError(t, err)
			assert.Equal(t, "Test Root", inter.Cert.Issuer.CommonName)
			assert.NoError(t, inter.Cert.CheckSignatureFrom(root.Cert))

			leaf, err := NewLeaf(rand.Reader, "dev1", inter, testNotBefore, testNotAfter, tt.keyType...)
			require.NoError(t, err)
			tt.check(t, leaf.Cert.PublicKey)
			assert.Equal(t, "dev1", leaf.Cert.Subject.CommonName)
			assert.False(t, leaf.Cert.IsCA)
			assert.Equal(t, x509.KeyUsageDigitalSignature, leaf.Cert.KeyUsage)
			assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, leaf.Cert.ExtKeyUsage)
			assert.NoError(t, verifyClient(leaf.Cert, fixtureNow, []*x509.Certificate{root.Cert}, inter.Cert))
			// D1: the intermediate missing from the presented chain.
			assert.Error(t, verifyClient(leaf.Cert, fixtureNow, []*x509.Certificate{root.Cert}))
			// Expired.
			assert.Error(t, verifyClient(leaf.Cert, testNotAfter.Add(time.Hour), []*x509.Certificate{root.Cert}, inter.Cert))

			keyPEM, err := leaf.KeyPEM()
			require.NoError(t, err)
			back, err := decodeBundle(append(leaf.CertPEM(), keyPEM...))
			require.NoError(t, err)
			assert.Equal(t, leaf.Cert.Raw, back.Cert.Raw)
			assert.True(t, samePublicKey(leaf.Key, back.Key))
		})
	}
}

func TestNewLeafSelfSigned(t *testing.T) {
	// Thumbprint authentication (azure-iot-hub.md §1.4): no issuer.
	leaf, err := NewLeaf(nil, "thumb-dev", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	assert.Equal(t, leaf.Cert.RawSubject, leaf.Cert.RawIssuer)
	assert.False(t, leaf.Cert.IsCA)
	assert.NoError(t, leaf.Cert.CheckSignature(leaf.Cert.SignatureAlgorithm, leaf.Cert.RawTBSCertificate, leaf.Cert.Signature))
	assert.Len(t, ThumbprintSHA1(leaf.Cert), 40)
	assert.Len(t, ThumbprintSHA256(leaf.Cert), 64)
}

func TestAuthorityErrors(t *testing.T) {
	ca, err := NewCA(nil, "CA", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	leaf, err := NewLeaf(nil, "dev", ca, testNotBefore, testNotAfter)
	require.NoError(t, err)
	tests := []struct {
		name string
		call func() error
		want error
	}{
		{"CA with inverted window", func() error {
			_, err := NewCA(nil, "x", nil, testNotAfter, testNotBefore)
			return err
		}, ErrBadValidity},
		{"leaf signed by a leaf (W3: the device cert used as CA)", func() error {
			_, err := NewLeaf(nil, "x", leaf, testNotBefore, testNotAfter)
			return err
		}, ErrNotCA},
		{"intermediate under a leaf", func() error {
			_, err := NewCA(nil, "x", leaf, testNotBefore, testNotAfter)
			return err
		}, ErrNotCA},
		{"LeafForKey without issuer", func() error {
			_, err := LeafForKey(leaf.Key.Public(), "x", nil, testNotBefore, testNotAfter)
			return err
		}, ErrNoIssuer},
		{"LeafForKey with inverted window", func() error {
			_, err := LeafForKey(leaf.Key.Public(), "x", ca, testNotAfter, testNotBefore)
			return err
		}, ErrBadValidity},
		{"verification cert without CA", func() error {
			_, err := NewVerificationCert(nil, "ABC", nil, fixtureNow)
			return err
		}, ErrNoIssuer},
		{"verification cert with a leaf as CA", func() error {
			_, err := NewVerificationCert(nil, "ABC", leaf, fixtureNow)
			return err
		}, ErrNotCA},
		{"SignCSR nil", func() error {
			_, err := SignCSR(nil, ca, testNotBefore, testNotAfter)
			return err
		}, ErrBadCSR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.call(), tt.want)
		})
	}
}

func TestNewVerificationCert(t *testing.T) {
	ca, err := NewCA(nil, "My Group CA", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	other, err := NewCA(nil, "My Group CA", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	const code = "4A1F2B3C9D8E7F6A5B4C3D2E1F0A9B8C7D6E5F4A3B2C1D0E"
	v, err := NewVerificationCert(nil, code, ca, fixtureNow)
	require.NoError(t, err)
	assert.Equal(t, code, v.Subject.CommonName)
	assert.True(t, validAt(v, fixtureNow))
	tests := []struct {
		name   string
		issuer *x509.Certificate
		ok     bool
	}{
		{"signed by the CA key", ca.Cert, true},
		{"same CA name, other key", other.Cert, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.ok, v.CheckSignatureFrom(tt.issuer) == nil)
			assert.Equal(t, tt.ok, verifyClient(v, fixtureNow, []*x509.Certificate{tt.issuer}) == nil)
		})
	}
	_, err = NewVerificationCert(nil, "", ca, fixtureNow)
	assert.Error(t, err)
}

func makeCSR(t *testing.T, key crypto.Signer, cn string) *x509.CertificateRequest {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: cn, Organization: []string{"Nordic"}},
	}, key)
	require.NoError(t, err)
	csr, err := x509.ParseCertificateRequest(der)
	require.NoError(t, err)
	return csr
}

// D4: %KEYGEN on the modem → CSR → signed by the group CA → written back.
func TestSignCSR(t *testing.T) {
	ca, err := NewCA(nil, "Group CA", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)

	tampered := makeCSR(t, ecKey, "dev-tampered")
	tampered.Signature = append([]byte(nil), tampered.Signature...)
	tampered.Signature[len(tampered.Signature)-1] ^= 0xff

	tests := []struct {
		name    string
		csr     *x509.CertificateRequest
		key     crypto.Signer
		wantErr error
	}{
		{"ECDSA P-256 CSR", makeCSR(t, ecKey, "50503041-3633-4261-803d-1e2b8f70111a"), ecKey, nil},
		{"RSA CSR", makeCSR(t, rsaKey, "dev-rsa"), rsaKey, nil},
		{"bad signature", tampered, nil, ErrBadCSR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := SignCSR(tt.csr, ca, testNotBefore, testNotAfter)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.csr.Subject.CommonName, c.Subject.CommonName)
			assert.Equal(t, []string{"Nordic"}, c.Subject.Organization)
			assert.True(t, pubEqual(tt.key.Public(), c.PublicKey), "certificate carries the CSR's key")
			assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, c.ExtKeyUsage)
			assert.NoError(t, verifyClient(c, fixtureNow, []*x509.Certificate{ca.Cert}))
		})
	}
}

func pubEqual(a, b crypto.PublicKey) bool {
	pa, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pa.Equal(b)
}

func TestLeafForKey(t *testing.T) {
	ca, err := NewCA(nil, "Group CA", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	c, err := LeafForKey(key.Public(), "dev-42", ca, testNotBefore, testNotAfter)
	require.NoError(t, err)
	assert.Equal(t, "dev-42", c.Subject.CommonName)
	assert.True(t, key.PublicKey.Equal(c.PublicKey))
	assert.NoError(t, verifyClient(c, fixtureNow, []*x509.Certificate{ca.Cert}))
}

func TestDecodeBundleRejectsMismatch(t *testing.T) {
	a, err := NewLeaf(nil, "a", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	b, err := NewLeaf(nil, "b", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	bk, err := b.KeyPEM()
	require.NoError(t, err)
	ak, err := a.KeyPEM()
	require.NoError(t, err)
	tests := []struct {
		name string
		in   []byte
	}{
		{"key of another cert", append(a.CertPEM(), bk...)},
		{"no key", a.CertPEM()},
		{"no cert", ak},
		{"two certs", append(append(a.CertPEM(), b.CertPEM()...), ak...)},
		{"bad key DER", append(a.CertPEM(), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2}})...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeBundle(tt.in)
			assert.Error(t, err)
		})
	}
}
