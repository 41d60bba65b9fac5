package pki

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realRootFiles maps each root to its public PEM in testdata.
var realRootFiles = map[RootName]string{
	BaltimoreCyberTrustRoot: "Baltimore_CyberTrust_Root.pem",
	DigiCertGlobalRootG2:    "DigiCert_Global_Root_G2.pem",
	MicrosoftRSARoot2017:    "Microsoft_RSA_Root_Certificate_Authority_2017.pem",
}

func loadRealRoot(t *testing.T, name RootName) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", realRootFiles[name]))
	require.NoError(t, err)
	certs, err := ParseCertsPEM(b)
	require.NoError(t, err)
	require.Len(t, certs, 1)
	return certs[0]
}

func TestRealRootsTableMatchesPublicCertificates(t *testing.T) {
	table := RealRoots()
	require.Len(t, table, len(RootNames()))
	for _, r := range table {
		t.Run(string(r.Name), func(t *testing.T) {
			c := loadRealRoot(t, r.Name)
			assert.Equal(t, string(r.Name), c.Subject.CommonName)
			assert.Equal(t, ThumbprintSHA256(c), r.SHA256)
			assert.Equal(t, ThumbprintSHA1(c), r.SHA1)
			assert.True(t, r.NotBefore.Equal(c.NotBefore), "NotBefore %v vs %v", r.NotBefore, c.NotBefore)
			assert.True(t, r.NotAfter.Equal(c.NotAfter), "NotAfter %v vs %v", r.NotAfter, c.NotAfter)
			assert.Equal(t, strings.ToUpper(hex.EncodeToString(c.SubjectKeyId)), r.SubjectKeyID)

			got, ok := LookupRealRoot(c)
			assert.True(t, ok)
			assert.Equal(t, r.Name, got)
		})
	}
}

func TestRealRootsKnownFacts(t *testing.T) {
	// Values quoted in azure-iot-hub.md §3.3 and FAILURE-CASES W4 / S2.
	byName := map[RootName]RealRoot{}
	for _, r := range RealRoots() {
		byName[r.Name] = r
	}
	tests := []struct {
		name  string
		check func(t *testing.T)
	}{
		{"DigiCert G2 SHA-1", func(t *testing.T) {
			assert.Equal(t, "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4", byName[DigiCertGlobalRootG2].SHA1)
		}},
		{"Microsoft 2017 SHA-1 prefix/suffix", func(t *testing.T) {
			fp := byName[MicrosoftRSARoot2017].SHA1
			assert.True(t, strings.HasPrefix(fp, "73A5E64A"), fp)
			assert.True(t, strings.HasSuffix(fp, "4D74"), fp)
		}},
		{"Baltimore expiry", func(t *testing.T) {
			assert.Equal(t, "2025-05-12", byName[BaltimoreCyberTrustRoot].NotAfter.Format("2006-01-02"))
		}},
		{"Baltimore subject key id as SPWF04 prints it", func(t *testing.T) {
			assert.True(t, strings.HasPrefix(byName[BaltimoreCyberTrustRoot].SubjectKeyID, "E59D5930"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.check)
	}
}

func TestLookupRealRootRejectsOthers(t *testing.T) {
	p := fixture(t)
	tests := []struct {
		name string
		cert func(t *testing.T) *x509.Certificate
	}{
		{"nil", func(*testing.T) *x509.Certificate { return nil }},
		{"stand-in G2", func(t *testing.T) *x509.Certificate {
			a, err := p.Root(DigiCertGlobalRootG2)
			require.NoError(t, err)
			return a.Cert
		}},
		{"stand-in Baltimore", func(t *testing.T) *x509.Certificate {
			a, err := p.Root(BaltimoreCyberTrustRoot)
			require.NoError(t, err)
			return a.Cert
		}},
		{"issuing CA", func(t *testing.T) *x509.Certificate {
			a, err := p.IssuingCA(DigiCertGlobalRootG2)
			require.NoError(t, err)
			return a.Cert
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, ok := LookupRealRoot(tt.cert(t))
			assert.False(t, ok)
			assert.Empty(t, name)
		})
	}
}

func TestStandInsMirrorRealRoots(t *testing.T) {
	p := fixture(t)
	for _, name := range RootNames() {
		t.Run(string(name), func(t *testing.T) {
			real := loadRealRoot(t, name)
			a, err := p.Root(name)
			require.NoError(t, err)
			s := a.Cert

			// Same name bytes, shape and dates...
			assert.Equal(t, real.RawSubject, s.RawSubject, "subject DER")
			assert.Equal(t, real.RawIssuer, s.RawIssuer, "issuer DER")
			assert.Equal(t, real.SignatureAlgorithm, s.SignatureAlgorithm)
			assert.Equal(t, real.PublicKeyAlgorithm, s.PublicKeyAlgorithm)
			assert.Equal(t, real.PublicKey.(*rsa.PublicKey).N.BitLen(), s.PublicKey.(*rsa.PublicKey).N.BitLen())
			assert.True(t, real.NotBefore.Equal(s.NotBefore))
			assert.True(t, real.NotAfter.Equal(s.NotAfter))
			assert.Equal(t, real.KeyUsage, s.KeyUsage)
			assert.Equal(t, real.IsCA, s.IsCA)
			assert.Equal(t, real.MaxPathLen, s.MaxPathLen)
			// Its own key id: with the real root in the same trust store,
			// path building must not take the real root as the issuer.
			assert.NotEmpty(t, s.SubjectKeyId)
			assert.NotEqual(t, real.SubjectKeyId, s.SubjectKeyId)

			// ...but a different key, so never the real certificate.
			assert.NotEqual(t, ThumbprintSHA256(real), ThumbprintSHA256(s))
			assert.False(t, real.PublicKey.(*rsa.PublicKey).Equal(s.PublicKey))
			assert.Error(t, s.CheckSignatureFrom(real), "stand-in must not verify under the real root")
		})
	}
}

func TestIssuingCANames(t *testing.T) {
	tests := []struct {
		root RootName
		want string
	}{
		{DigiCertGlobalRootG2, "Microsoft Azure RSA TLS Issuing CA 03"},
		{MicrosoftRSARoot2017, "Microsoft Azure RSA TLS Issuing CA 03"},
		{BaltimoreCyberTrustRoot, "Microsoft IT TLS CA 4"},
	}
	for _, tt := range tests {
		t.Run(string(tt.root), func(t *testing.T) {
			got, ok := IssuingCAName(tt.root)
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}
	_, ok := IssuingCAName("Nope")
	assert.False(t, ok)
}
