package modemkey

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"testing"

	"github.com/stretchr/testify/require"
)

// oidSignatureECDSASHA256 is ecdsa-with-SHA256 (RFC 5758 §3.2).
var oidSignatureECDSASHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}

// FuzzParsePrivateKeyPEM: users write any bytes with %CMNG type 2.
func FuzzParsePrivateKeyPEM(f *testing.F) {
	_, ec, _ := fixtures(f)
	p, err := MarshalPrivateKeyPEM(ec)
	require.NoError(f, err)
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(f, err)
	f.Add(p)
	f.Add(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n")))
	f.Add(pemBytes("PRIVATE KEY", der))
	f.Add(pemBytes("RSA PRIVATE KEY", []byte{0x30, 0x03, 0x02, 0x01, 0x00}))
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\n-----END ENCRYPTED PRIVATE KEY-----\n"))
	f.Add([]byte("HONKHONK"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParsePrivateKeyPEM(in)
		if err != nil {
			require.Nil(t, s)
			return
		}
		require.NotNil(t, s.Public())
		if _, err := ParseIdentityPEM(in); err == nil {
			// A key the identity accepts must sign COSE messages.
			id, err := ParseIdentityPEM(in)
			require.NoError(t, err)
			_, err = id.AttestationToken(rand.Reader, [16]byte{}, 1, [16]byte{}, [16]byte{})
			require.NoError(t, err)
		}
	})
}

// FuzzNormalizeCSR: CSRs come from devices and users.
func FuzzNormalizeCSR(f *testing.F) {
	_, key, _ := fixtures(f)
	for _, null := range []bool{true, false} {
		der, err := BuildCSR(rand.Reader, key, realDeviceUUID, CSROptions{NullParam: null})
		require.NoError(f, err)
		f.Add(der)
	}
	real, err := ParseKeygenResponse(realKeygenCSR)
	require.NoError(f, err)
	f.Add(real.Body)
	f.Add([]byte{0x30, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := NormalizeCSR(in)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedCSR)
			return
		}
		// Normalizing is idempotent and never leaves the NULL quirk (other
		// parameters are left alone, as utils do).
		again, err := NormalizeCSR(out)
		require.NoError(t, err)
		require.Equal(t, out, again)
		var cr certificationRequest
		_, err = asn1.Unmarshal(out, &cr)
		require.NoError(t, err)
		if cr.Algorithm.Algorithm.Equal(oidSignatureECDSASHA256) {
			require.NotEqual(t, asn1Null, cr.Algorithm.Parameters.FullBytes)
		}
		// A CSR crypto/x509 accepted before normalizing is still accepted,
		// with the same signature status.
		if before, err := x509.ParseCertificateRequest(in); err == nil {
			after, err := x509.ParseCertificateRequest(out)
			require.NoError(t, err)
			require.Equal(t, before.CheckSignature() == nil, after.CheckSignature() == nil)
		}
	})
}

// FuzzParseAttributes: the <attributes> string comes from the AT line.
func FuzzParseAttributes(f *testing.F) {
	for _, s := range []string{"CN=abc", "O=Nordic Semiconductor,L=Trondheim,C=no,CN=mydevice", `CN="a,b"`, `CN=a\,b`, " CN = x ,", "cn=x", "CN"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, legacy bool) {
		attrs, err := parseAttributes(s, legacy)
		if err != nil {
			require.ErrorIs(t, err, ErrBadAttributes)
			return
		}
		require.NotEmpty(t, attrs)
		raw, err := marshalSubject(attrs)
		require.NoError(t, err)
		// Whatever parses must encode to a Name crypto/x509 can read back.
		tmpl := &x509.CertificateRequest{RawSubject: raw}
		_, key, _ := fixtures(t)
		der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
		require.NoError(t, err)
		csr, err := x509.ParseCertificateRequest(der)
		require.NoError(t, err)
		require.Len(t, csr.Subject.Names, len(attrs))
	})
}

// FuzzParseKeygenResponse: KEYGEN strings come from devices and users.
func FuzzParseKeygenResponse(f *testing.F) {
	f.Add(realKeygenCSR)
	f.Add(realKeygenPubKey)
	f.Add("MFkw.0oRDoQEm")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseKeygenResponse(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedMessage)
			return
		}
		require.NotNil(t, m)
	})
}

// FuzzParseAttestationToken: tokens come from devices and users.
func FuzzParseAttestationToken(f *testing.F) {
	f.Add(realAttestToken)
	f.Add("2dn3hQE.")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseAttestationToken(s)
		if err != nil {
			require.ErrorIs(t, err, ErrMalformedMessage)
			return
		}
		require.NotNil(t, m)
	})
}

// FuzzVerifyCOSE: COSE messages come from outside.
func FuzzVerifyCOSE(f *testing.F) {
	id, _, _ := fixtures(f)
	s, err := id.KeygenResponse(rand.Reader, []byte("b"), [16]byte{}, 1, [16]byte{})
	require.NoError(f, err)
	m, err := ParseKeygenResponse(s)
	require.NoError(f, err)
	f.Add(m.COSE, []byte(nil))
	f.Add([]byte{0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40}, []byte("x"))
	f.Fuzz(func(t *testing.T, msg, detached []byte) {
		p, err := VerifyCOSE(&id.Key.PublicKey, msg, detached)
		if err == nil {
			require.NotNil(t, p)
		}
	})
}

func pemBytes(typ string, der []byte) []byte {
	var b bytes.Buffer
	b.WriteString("-----BEGIN " + typ + "-----\n")
	b.WriteString(b64std(der))
	b.WriteString("\n-----END " + typ + "-----\n")
	return b.Bytes()
}
