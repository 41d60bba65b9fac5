package modemkey

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wantATV is one expected subject attribute: OID, ASN.1 string tag, value.
type wantATV struct {
	oid   asn1.ObjectIdentifier
	tag   int
	value string
}

// rdnATVs decodes a raw subject into its attributes, keeping string tags.
func rdnATVs(t *testing.T, raw []byte) []wantATV {
	t.Helper()
	var rdns []asn1.RawValue
	rest, err := asn1.Unmarshal(raw, &rdns)
	require.NoError(t, err)
	require.Empty(t, rest)
	var out []wantATV
	for _, rdn := range rdns {
		var set []attributeTypeAndValue
		_, err := asn1.UnmarshalWithParams(rdn.FullBytes, &set, "set")
		require.NoError(t, err)
		require.Len(t, set, 1, "one attribute per RDN")
		out = append(out, wantATV{set[0].Type, set[0].Value.Tag, string(set[0].Value.Bytes)})
	}
	return out
}

// sigAlgBytes returns the raw outer signatureAlgorithm TLV of a CSR.
func sigAlgBytes(t *testing.T, der []byte) []byte {
	t.Helper()
	var outer struct {
		Info   asn1.RawValue
		SigAlg asn1.RawValue
		Sig    asn1.RawValue
	}
	_, err := asn1.Unmarshal(der, &outer)
	require.NoError(t, err)
	return outer.SigAlg.FullBytes
}

var (
	sigAlgWithNull    = []byte{0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x05, 0x00}
	sigAlgWithoutNull = []byte{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}
)

func TestBuildCSR(t *testing.T) {
	_, key, _ := fixtures(t)
	tests := []struct {
		name      string
		opts      CSROptions
		wantATVs  []wantATV
		wantKU    []byte
		wantKUSet x509.KeyUsage
	}{
		{
			name:      "default CN is the device UUID, quirky NULL",
			opts:      CSROptions{NullParam: true},
			wantATVs:  []wantATV{{oidCN, asn1.TagUTF8String, realDeviceUUID}},
			wantKU:    []byte{0x03, 0x02, 0x03, 0xe8},
			wantKUSet: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
		},
		{
			name:     "default without NULL",
			opts:     CSROptions{},
			wantATVs: []wantATV{{oidCN, asn1.TagUTF8String, realDeviceUUID}},
			wantKU:   []byte{0x03, 0x02, 0x03, 0xe8},
		},
		{
			name:     "attribute CN replaces the UUID",
			opts:     CSROptions{Attributes: "CN=nrf-355025930000000", NullParam: true},
			wantATVs: []wantATV{{oidCN, asn1.TagUTF8String, "nrf-355025930000000"}},
			wantKU:   []byte{0x03, 0x02, 0x03, 0xe8},
		},
		{
			name: "nrfcredstore attribute example, in order",
			opts: CSROptions{Attributes: "O=Nordic Semiconductor,L=Trondheim,C=no,CN=mydevice", NullParam: true},
			wantATVs: []wantATV{
				{oidOrganization, asn1.TagUTF8String, "Nordic Semiconductor"},
				{oidLocality, asn1.TagUTF8String, "Trondheim"},
				{oidCountry, asn1.TagPrintableString, "no"},
				{oidCN, asn1.TagUTF8String, "mydevice"},
			},
			wantKU: []byte{0x03, 0x02, 0x03, 0xe8},
		},
		{
			name: "legacy string types",
			opts: CSROptions{Attributes: "C=no,emailAddress=a@b.c,CN=x", LegacyStringTypes: true},
			wantATVs: []wantATV{
				{oidCountry, asn1.TagUTF8String, "no"},
				{oidEmail, asn1.TagIA5String, "a@b.c"},
				{oidCN, asn1.TagUTF8String, "x"},
			},
			wantKU: []byte{0x03, 0x02, 0x03, 0xe8},
		},
		{
			name:      "key usage string from a Nordic tool",
			opts:      CSROptions{Attributes: "CN=dev", KeyUsage: "101010000", NullParam: true},
			wantATVs:  []wantATV{{oidCN, asn1.TagUTF8String, "dev"}},
			wantKU:    []byte{0x03, 0x02, 0x03, 0xa8},
			wantKUSet: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement,
		},
		{
			name:     "decipherOnly needs a second byte",
			opts:     CSROptions{KeyUsage: "100000001"},
			wantATVs: []wantATV{{oidCN, asn1.TagUTF8String, realDeviceUUID}},
			wantKU:   []byte{0x03, 0x03, 0x07, 0x80, 0x80},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			der, err := BuildCSR(rand.Reader, key, realDeviceUUID, tc.opts)
			require.NoError(t, err)

			if tc.opts.NullParam {
				assert.Equal(t, sigAlgWithNull, sigAlgBytes(t, der))
			} else {
				assert.Equal(t, sigAlgWithoutNull, sigAlgBytes(t, der))
				direct, err := x509.ParseCertificateRequest(der)
				require.NoError(t, err)
				require.NoError(t, direct.CheckSignature())
			}
			norm, err := NormalizeCSR(der)
			require.NoError(t, err)
			assert.Equal(t, sigAlgWithoutNull, sigAlgBytes(t, norm))

			csr, err := x509.ParseCertificateRequest(norm)
			require.NoError(t, err)
			require.NoError(t, csr.CheckSignature())
			assert.Equal(t, 0, csr.Version)
			assert.Equal(t, x509.ECDSAWithSHA256, csr.SignatureAlgorithm)
			assert.True(t, key.PublicKey.Equal(csr.PublicKey), "CSR key is the generating key")
			assert.Equal(t, tc.wantATVs, rdnATVs(t, csr.RawSubject))

			require.Len(t, csr.Extensions, 1)
			ext := csr.Extensions[0]
			assert.Equal(t, oidKeyUsage, ext.Id)
			assert.False(t, ext.Critical)
			assert.Equal(t, tc.wantKU, ext.Value)
			if tc.wantKUSet != 0 {
				// The same bytes read back through crypto/x509's own decoder.
				tmpl := &x509.Certificate{SerialNumber: bigOne, ExtraExtensions: []pkix.Extension{ext}}
				cder, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
				require.NoError(t, err)
				cert, err := x509.ParseCertificate(cder)
				require.NoError(t, err)
				assert.Equal(t, tc.wantKUSet, cert.KeyUsage)
			}
		})
	}
}

// TestBuildCSRMatchesRealDevice compares our CertificationRequestInfo byte for
// byte with the real modem's, once the public key is swapped in.
func TestBuildCSRMatchesRealDevice(t *testing.T) {
	_, key, _ := fixtures(t)
	real, err := ParseKeygenResponse(realKeygenCSR)
	require.NoError(t, err)

	der, err := BuildCSR(rand.Reader, key, realDeviceUUID, CSROptions{NullParam: true})
	require.NoError(t, err)

	realCSR, err := ParseCSR(real.Body)
	require.NoError(t, err)
	ours, err := ParseCSR(der)
	require.NoError(t, err)

	realPoint := pointOf(t, realCSR.RawSubjectPublicKeyInfo)
	ourPoint := pointOf(t, ours.RawSubjectPublicKeyInfo)
	require.Len(t, ourPoint, 65)
	swapped := bytes.Replace(ours.RawTBSCertificateRequest, ourPoint, realPoint, 1)
	assert.Equal(t, realCSR.RawTBSCertificateRequest, swapped)
	assert.Equal(t, sigAlgBytes(t, real.Body), sigAlgBytes(t, der))
}

func pointOf(t *testing.T, spki []byte) []byte {
	t.Helper()
	var s struct {
		Alg   pkix.AlgorithmIdentifier
		Point asn1.BitString
	}
	_, err := asn1.Unmarshal(spki, &s)
	require.NoError(t, err)
	return s.Point.Bytes
}

func TestBuildCSRErrors(t *testing.T) {
	_, key, _ := fixtures(t)
	tests := []struct {
		name string
		uuid string
		opts CSROptions
		want error
	}{
		{"empty UUID and no attributes", "", CSROptions{}, ErrBadAttributes},
		{"bad attributes", realDeviceUUID, CSROptions{Attributes: "XX=1"}, ErrBadAttributes},
		{"short key usage", realDeviceUUID, CSROptions{KeyUsage: "1010"}, ErrBadKeyUsage},
		{"non-binary key usage", realDeviceUUID, CSROptions{KeyUsage: "10101000x"}, ErrBadKeyUsage},
		{"nil key", realDeviceUUID, CSROptions{}, ErrUnsupportedKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k := key
			if tc.want == ErrUnsupportedKey {
				k = nil
			}
			_, err := BuildCSR(rand.Reader, k, tc.uuid, tc.opts)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func TestParseAttributes(t *testing.T) {
	tests := []struct {
		in      string
		want    []dnAttr // nil with wantErr
		wantErr bool
	}{
		{in: "CN=abc", want: []dnAttr{{oidCN, tagUTF8String, "abc"}}},
		{in: "commonName=abc", want: []dnAttr{{oidCN, tagUTF8String, "abc"}}},
		{in: " CN = abc ,O= x y ", want: []dnAttr{{oidCN, tagUTF8String, "abc"}, {oidOrganization, tagUTF8String, "x y"}}},
		{in: `CN="a,b"`, want: []dnAttr{{oidCN, tagUTF8String, "a,b"}}},
		{in: `CN=a\,b`, want: []dnAttr{{oidCN, tagUTF8String, "a,b"}}},
		{in: "CN=abc,", want: []dnAttr{{oidCN, tagUTF8String, "abc"}}},
		{in: "CN=a,O=o,CN=b", want: []dnAttr{{oidCN, tagUTF8String, "b"}, {oidOrganization, tagUTF8String, "o"}}},
		{in: "DC=example,serialNumber=123", want: []dnAttr{{oidDomainComponent, tagIA5String, "example"}, {oidSerialNumber, tagPrintableString, "123"}}},
		{in: "CN=Trondhjæm", want: []dnAttr{{oidCN, tagUTF8String, "Trondhjæm"}}},
		{in: "CN=" + string(bytes.Repeat([]byte("a"), maxDNValue)), want: []dnAttr{{oidCN, tagUTF8String, string(bytes.Repeat([]byte("a"), maxDNValue))}}},
		{in: "CN=" + string(bytes.Repeat([]byte("a"), maxDNValue+1)), wantErr: true},
		{in: "cn=abc", wantErr: true}, // names are case-sensitive in mbedTLS
		{in: "XX=abc", wantErr: true},
		{in: "CN", wantErr: true},
		{in: "CN=", wantErr: true},
		{in: "CN=   ", wantErr: true},
		{in: "CN=a,,O=b", wantErr: true},
		{in: ",", wantErr: true},
		{in: "   ", wantErr: true},
		{in: `CN="abc`, wantErr: true},
		{in: `CN="a"b`, wantErr: true},
		{in: `CN=a\b`, wantErr: true},
		{in: `CN=a\`, wantErr: true},
		{in: "CN abc", wantErr: true},
		{in: "C=nø", wantErr: true},        // not PrintableString
		{in: "CN=\xff\xfe", wantErr: true}, // not UTF-8
		{in: "emailAddress=ø@x", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseAttributes(tc.in, false)
			if tc.wantErr {
				require.ErrorIs(t, err, ErrBadAttributes)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestKeyUsageExtensionValue(t *testing.T) {
	tests := []struct {
		in   string
		want []byte
		err  bool
	}{
		{in: "", want: []byte{0x03, 0x02, 0x03, 0xe8}},
		{in: DefaultKeyUsage, want: []byte{0x03, 0x02, 0x03, 0xe8}},
		{in: "101010000", want: []byte{0x03, 0x02, 0x03, 0xa8}},
		{in: "100000000", want: []byte{0x03, 0x02, 0x07, 0x80}},
		{in: "000000000", want: []byte{0x03, 0x01, 0x00}},
		{in: "111111111", want: []byte{0x03, 0x03, 0x07, 0xff, 0x80}},
		{in: "11101000", err: true},
		{in: "1110100000", err: true},
		{in: "11101000 ", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := keyUsageExtensionValue(tc.in)
			if tc.err {
				require.ErrorIs(t, err, ErrBadKeyUsage)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestNormalizeCSR(t *testing.T) {
	_, key, _ := fixtures(t)
	real, err := ParseKeygenResponse(realKeygenCSR)
	require.NoError(t, err)
	plain, err := BuildCSR(rand.Reader, key, realDeviceUUID, CSROptions{})
	require.NoError(t, err)

	t.Run("real device CSR", func(t *testing.T) {
		n, err := NormalizeCSR(real.Body)
		require.NoError(t, err)
		assert.Len(t, n, len(real.Body)-2)
		csr, err := x509.ParseCertificateRequest(n)
		require.NoError(t, err)
		require.NoError(t, csr.CheckSignature())
		assert.Equal(t, realDeviceUUID, csr.Subject.CommonName)
		// Idempotent.
		n2, err := NormalizeCSR(n)
		require.NoError(t, err)
		assert.Equal(t, n, n2)
	})
	t.Run("already normal is unchanged", func(t *testing.T) {
		n, err := NormalizeCSR(plain)
		require.NoError(t, err)
		assert.Equal(t, plain, n)
	})
	bad := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a csr")},
		{"trailing bytes", append(append([]byte{}, plain...), 0)},
		{"truncated", plain[:len(plain)-1]},
		{"wrong inner types", []byte{0x30, 0x09, 0x02, 0x01, 0x00, 0x30, 0x02, 0x06, 0x00, 0x05, 0x00}},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NormalizeCSR(tc.in)
			require.ErrorIs(t, err, ErrMalformedCSR)
			_, err = ParseCSR(tc.in)
			require.Error(t, err)
		})
	}
}

// TestOpenSSLVerifiesQuirkyCSR checks the NULL-parameter CSR the way a user
// would, with openssl (skipped when it is not installed).
func TestOpenSSLVerifiesQuirkyCSR(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not on PATH")
	}
	_, key, _ := fixtures(t)
	for _, attrs := range []string{"", "O=Nordic Semiconductor,L=Trondheim,C=no,CN=mydevice"} {
		t.Run(attrs, func(t *testing.T) {
			der, err := BuildCSR(rand.Reader, key, realDeviceUUID, CSROptions{Attributes: attrs, NullParam: true})
			require.NoError(t, err)
			require.Equal(t, sigAlgWithNull, sigAlgBytes(t, der))
			f := filepath.Join(t.TempDir(), "f.der")
			require.NoError(t, os.WriteFile(f, der, 0o600))
			out, err := exec.CommandContext(t.Context(), openssl, "req", "-inform", "DER", "-in", f, "-noout", "-verify").CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "verify OK")
		})
	}
}
