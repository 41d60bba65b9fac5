package pki

import (
	"bytes"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func TestThumbprints(t *testing.T) {
	upperHex := regexp.MustCompile(`^[0-9A-F]+$`)
	// Values printed by `openssl x509 -fingerprint` for the public PEMs.
	tests := []struct {
		file   string
		sha1   string
		sha256 string
	}{
		{"DigiCert_Global_Root_G2.pem", "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
			"CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F"},
		{"Baltimore_CyberTrust_Root.pem", "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
			"16AF57A9F676B0AB126095AA5EBADEF22AB31119D644AC95CD4B93DBF3F26AEB"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			certs, err := ParseCertsPEM(readTestdata(t, tt.file))
			require.NoError(t, err)
			got1, got256 := ThumbprintSHA1(certs[0]), ThumbprintSHA256(certs[0])
			assert.Equal(t, tt.sha1, got1)
			assert.Equal(t, tt.sha256, got256)
			assert.Regexp(t, upperHex, got1)
			assert.Regexp(t, upperHex, got256)
		})
	}
}

func TestParseCertsPEM(t *testing.T) {
	g2 := readTestdata(t, "DigiCert_Global_Root_G2.pem")
	balt := readTestdata(t, "Baltimore_CyberTrust_Root.pem")
	ms := readTestdata(t, "Microsoft_RSA_Root_Certificate_Authority_2017.pem")
	leaf, err := NewLeaf(nil, "dev1", nil, testNotBefore, testNotAfter)
	require.NoError(t, err)
	keyPEM, err := leaf.KeyPEM()
	require.NoError(t, err)

	crlf := bytes.ReplaceAll(g2, []byte("\n"), []byte("\r\n"))
	madeUpLabel := strings.ReplaceAll(string(g2), "CERTIFICATE-----", "CA CERTIFICATE-----")
	block, _ := pem.Decode(g2)
	badDER := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes[:len(block.Bytes)-10]})

	tests := []struct {
		name    string
		in      []byte
		wantCNs []string
		wantErr error // nil with wantCNs nil: any error
	}{
		{"one", g2, []string{"DigiCert Global Root G2"}, nil},
		{"three in order", bytes.Join([][]byte{balt, g2, ms}, nil),
			[]string{"Baltimore CyberTrust Root", "DigiCert Global Root G2", "Microsoft RSA Root Certificate Authority 2017"}, nil},
		{"CRLF line ends (H3)", crlf, []string{"DigiCert Global Root G2"}, nil},
		{"text around and a key in between", []byte("Subject: x\n" + string(leaf.CertPEM()) + "junk\n" + string(keyPEM) + string(g2) + "trailer"),
			[]string{"dev1", "DigiCert Global Root G2"}, nil},
		{"made-up label (W2)", []byte(madeUpLabel), nil, ErrNoCertificates},
		{"key only", keyPEM, nil, ErrNoCertificates},
		{"empty", nil, nil, ErrNoCertificates},
		{"not PEM", []byte("MIIDjjCCAnagAwIBAgIQAzrx5qcRqaC7KGSxHQn65TANBgkqhkiG9w0BAQsFADBh"), nil, ErrNoCertificates},
		{"truncated DER", badDER, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			certs, err := ParseCertsPEM(tt.in)
			if tt.wantCNs == nil {
				require.Error(t, err)
				if tt.wantErr != nil {
					assert.ErrorIs(t, err, tt.wantErr)
				} else {
					assert.NotErrorIs(t, err, ErrNoCertificates)
				}
				return
			}
			require.NoError(t, err)
			var cns []string
			for _, c := range certs {
				cns = append(cns, c.Subject.CommonName)
			}
			assert.Equal(t, tt.wantCNs, cns)
		})
	}
}

func TestEncodeCertsPEMRoundTrip(t *testing.T) {
	var all []byte
	for _, f := range realRootFiles {
		all = append(all, readTestdata(t, f)...)
	}
	certs, err := ParseCertsPEM(all)
	require.NoError(t, err)
	require.Len(t, certs, 3)
	enc := EncodeCertsPEM(append(certs, nil)...) // nil entries are skipped
	assert.Equal(t, 3, bytes.Count(enc, []byte("-----BEGIN CERTIFICATE-----")))
	assert.NotContains(t, string(enc), "\r")
	back, err := ParseCertsPEM(enc)
	require.NoError(t, err)
	require.Len(t, back, len(certs))
	for i := range certs {
		assert.Equal(t, certs[i].Raw, back[i].Raw)
	}
	assert.Empty(t, EncodeCertsPEM())
}

func FuzzParseCertsPEM(f *testing.F) {
	g2 := readTestdata(f, "DigiCert_Global_Root_G2.pem")
	f.Add(g2)
	f.Add(bytes.ReplaceAll(g2, []byte("\n"), []byte("\r\n")))
	f.Add(append(readTestdata(f, "Baltimore_CyberTrust_Root.pem"), g2...))
	f.Add([]byte("-----BEGIN CA CERTIFICATE-----\nAAAA\n-----END CA CERTIFICATE-----\n"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		certs, err := ParseCertsPEM(in)
		if err != nil {
			if len(certs) != 0 {
				t.Fatalf("certificates returned with error %v", err)
			}
			return
		}
		if len(certs) == 0 {
			t.Fatal("no error and no certificates")
		}
		// What parsed re-encodes to the same DER, in the same order.
		back, err := ParseCertsPEM(EncodeCertsPEM(certs...))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if len(back) != len(certs) {
			t.Fatalf("re-parse count %d != %d", len(back), len(certs))
		}
		for i := range certs {
			if !bytes.Equal(back[i].Raw, certs[i].Raw) {
				t.Fatalf("cert %d changed on round trip", i)
			}
			_ = ThumbprintSHA1(certs[i])
			_ = ThumbprintSHA256(certs[i])
			_, _ = LookupRealRoot(certs[i])
		}
	})
}
