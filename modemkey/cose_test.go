package modemkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/veraison/go-cose"
)

// splitB64 splits "a.b", requires unpadded Base64url parts and decodes them.
func splitB64(t *testing.T, s string) (body, msg []byte) {
	t.Helper()
	parts := strings.Split(s, ".")
	require.Len(t, parts, 2)
	for _, p := range parts {
		require.NotContains(t, p, "=")
		require.NotContains(t, p, "+")
		require.NotContains(t, p, "/")
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[0])
	require.NoError(t, err)
	msg, err = base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	return body, msg
}

// exportedPublicKey goes through the PEM export a verifier would use.
func exportedPublicKey(t *testing.T, id *Identity) *ecdsa.PublicKey {
	t.Helper()
	p, err := id.PublicKeyPEM()
	require.NoError(t, err)
	pub, err := ParsePublicKeyPEM(p)
	require.NoError(t, err)
	return pub
}

// verifyWithGoCOSE checks a message with go-cose directly, independent of
// VerifyCOSE, and returns the decoded message.
func verifyWithGoCOSE(t *testing.T, pub *ecdsa.PublicKey, msgBytes, detached []byte) *cose.Sign1Message {
	t.Helper()
	var msg cose.Sign1Message
	require.NoError(t, msg.UnmarshalCBOR(msgBytes))
	if detached != nil {
		require.Nil(t, msg.Payload)
		msg.Payload = detached
	}
	v, err := cose.NewVerifier(cose.AlgorithmES256, pub)
	require.NoError(t, err)
	require.NoError(t, msg.Verify(nil, v))
	alg, err := msg.Headers.Protected.Algorithm()
	require.NoError(t, err)
	assert.Equal(t, cose.AlgorithmES256, alg)
	assert.Equal(t, []byte{0x21}, msg.Headers.Unprotected[cose.HeaderLabelKeyID])
	assert.Len(t, msg.Signature, 64, "raw r||s")
	return &msg
}

// decodePayload returns the five payload elements after checking the
// self-describe tag.
func decodePayload(t *testing.T, p []byte) []cbor.RawMessage {
	t.Helper()
	require.True(t, bytes.HasPrefix(p, []byte{0xd9, 0xd9, 0xf7}), "tag 55799")
	var arr []cbor.RawMessage
	require.NoError(t, cbor.Unmarshal(p[3:], &arr))
	require.Len(t, arr, 5)
	return arr
}

func bstr(t *testing.T, raw cbor.RawMessage) []byte {
	t.Helper()
	var b []byte
	require.NoError(t, cbor.Unmarshal(raw, &b))
	require.Equal(t, byte(0x40), raw[0]&0xe0, "is a bstr")
	return b
}

func TestKeygenResponse(t *testing.T) {
	id, key, _ := fixtures(t)
	uuid := mustUUID(t, realDeviceUUID)
	nonce := [16]byte{0x1b, 0x87, 0x22, 0xee, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	der, err := BuildCSR(rand.Reader, key, FormatUUID(uuid), CSROptions{NullParam: true})
	require.NoError(t, err)
	pub := exportedPublicKey(t, id)

	tests := []struct {
		secTag  uint32
		wantTag []byte
	}{
		{52, []byte{0x18, 0x34}},
		{16842753, []byte{0x1a, 0x01, 0x01, 0x00, 0x01}},
		{17, []byte{0x11}},
		{0, []byte{0x00}},
		{2147483647, []byte{0x1a, 0x7f, 0xff, 0xff, 0xff}},
		{4294967292, []byte{0x23}}, // reserved tag: int32 -4, as utils decode it
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.secTag), func(t *testing.T) {
			s, err := id.KeygenResponse(rand.Reader, der, uuid, tc.secTag, nonce)
			require.NoError(t, err)
			body, msg := splitB64(t, s)
			assert.Equal(t, der, body)
			// Same envelope as the real modem; only the payload length byte
			// (0x58 <n>) depends on the sec_tag's CBOR size.
			assert.Equal(t, realKeygenCOSEPrefix[:11], msg[:11])
			assert.Equal(t, realKeygenCOSEPrefix[12:], msg[12:16])
			assert.Equal(t, int(realKeygenCOSEPrefix[11])-1+len(tc.wantTag), int(msg[11]), "real payload has a 1-byte sec_tag")

			payload, err := VerifyCOSE(pub, msg, nil)
			require.NoError(t, err)
			gm := verifyWithGoCOSE(t, pub, msg, nil)
			assert.Equal(t, payload, gm.Payload)

			arr := decodePayload(t, payload)
			assert.Equal(t, cbor.RawMessage{0x09}, arr[0])
			assert.Equal(t, uuid[:], bstr(t, arr[1]))
			assert.Equal(t, tc.wantTag, bstr(t, arr[2]))
			sum := sha256.Sum256(der)
			assert.Equal(t, sum[:], bstr(t, arr[3]))
			assert.Equal(t, nonce[:], bstr(t, arr[4]))

			parsed, err := ParseKeygenResponse(s)
			require.NoError(t, err)
			assert.Equal(t, MsgCSRV1, parsed.MsgID)
			assert.Equal(t, tc.secTag, parsed.SecTag)
			assert.Equal(t, uuid, parsed.DeviceUUID)
			assert.Equal(t, nonce, parsed.Nonce)
			csr, err := ParseCSR(parsed.Body)
			require.NoError(t, err)
			assert.Equal(t, FormatUUID(parsed.DeviceUUID), csr.Subject.CommonName, "CN and COSE UUID agree")
		})
	}

	t.Run("other key does not verify", func(t *testing.T) {
		s, err := id.KeygenResponse(rand.Reader, der, uuid, 52, nonce)
		require.NoError(t, err)
		_, msg := splitB64(t, s)
		_, err = VerifyCOSE(&key.PublicKey, msg, nil)
		require.ErrorIs(t, err, ErrBadSignature)
	})
	t.Run("tampered body is caught by the digest", func(t *testing.T) {
		s, err := id.KeygenResponse(rand.Reader, der, uuid, 52, nonce)
		require.NoError(t, err)
		other, err := BuildCSR(rand.Reader, key, "x", CSROptions{})
		require.NoError(t, err)
		_, cosePart, _ := strings.Cut(s, ".")
		_, err = ParseKeygenResponse(base64.RawURLEncoding.EncodeToString(other) + "." + cosePart)
		require.ErrorIs(t, err, ErrMalformedMessage)
	})
}

func TestPublicKeyResponse(t *testing.T) {
	id, key, _ := fixtures(t)
	uuid := mustUUID(t, realDeviceUUID)
	nonce := [16]byte{9}
	s, err := id.PublicKeyResponse(rand.Reader, &key.PublicKey, uuid, 16, nonce)
	require.NoError(t, err)
	body, msg := splitB64(t, s)

	spki, err := x509.ParsePKIXPublicKey(body)
	require.NoError(t, err)
	assert.True(t, key.PublicKey.Equal(spki))
	assert.Len(t, body, 91, "same 91-byte SPKI as the real modem")

	payload, err := VerifyCOSE(exportedPublicKey(t, id), msg, nil)
	require.NoError(t, err)
	verifyWithGoCOSE(t, &id.Key.PublicKey, msg, nil)
	arr := decodePayload(t, payload)
	assert.Equal(t, cbor.RawMessage{0x08}, arr[0])
	assert.Equal(t, []byte{0x10}, bstr(t, arr[2]))
	sum := sha256.Sum256(body)
	assert.Equal(t, sum[:], bstr(t, arr[3]))

	_, err = id.PublicKeyResponse(rand.Reader, nil, uuid, 16, nonce)
	require.ErrorIs(t, err, ErrUnsupportedKey)
}

func TestAttestationToken(t *testing.T) {
	id, _, _ := fixtures(t)
	uuid := mustUUID(t, realDeviceUUID)
	fw := mustUUID(t, realFirmwareUUID)
	nonce := [16]byte{0xd3, 0xef, 0xdd, 0x7f}
	pub := exportedPublicKey(t, id)

	for _, devType := range []int{1, 3, 6} {
		t.Run(fmt.Sprint(devType), func(t *testing.T) {
			s, err := id.AttestationToken(rand.Reader, uuid, devType, fw, nonce)
			require.NoError(t, err)
			body, msg := splitB64(t, s)
			assert.True(t, bytes.HasPrefix(msg, realAttestCOSEPrefix), "nil payload like the real token: % x", msg[:13])

			arr := decodePayload(t, body)
			assert.Equal(t, cbor.RawMessage{0x01}, arr[0])
			assert.Equal(t, uuid[:], bstr(t, arr[1]))
			assert.Equal(t, cbor.RawMessage{byte(devType)}, arr[2])
			assert.Equal(t, fw[:], bstr(t, arr[3]))
			assert.Equal(t, nonce[:], bstr(t, arr[4]))

			got, err := VerifyCOSE(pub, msg, body)
			require.NoError(t, err)
			assert.Equal(t, body, got)
			verifyWithGoCOSE(t, pub, msg, body)

			_, err = VerifyCOSE(pub, msg, nil)
			require.ErrorIs(t, err, ErrDetachedPayload)
			_, err = VerifyCOSE(pub, msg, append(append([]byte{}, body...), 0))
			require.ErrorIs(t, err, ErrBadSignature)

			tok, err := ParseAttestationToken(s)
			require.NoError(t, err)
			assert.Equal(t, MsgDeviceIdentityV1, tok.MsgID)
			assert.Equal(t, uuid, tok.DeviceUUID)
			assert.Equal(t, devType, tok.DeviceType)
			assert.Equal(t, fw, tok.FirmwareUUID)
			assert.Equal(t, nonce, tok.Nonce)
		})
	}
}

func TestVerifyCOSEErrors(t *testing.T) {
	id, _, _ := fixtures(t)
	s, err := id.KeygenResponse(rand.Reader, []byte("body"), [16]byte{}, 1, [16]byte{})
	require.NoError(t, err)
	_, msg := splitB64(t, s)
	tests := []struct {
		name     string
		pub      *ecdsa.PublicKey
		msg      []byte
		detached []byte
		want     error
	}{
		{"nil key", nil, msg, nil, ErrUnsupportedKey},
		{"garbage", &id.Key.PublicKey, []byte{0xd2, 0x84, 0x00}, nil, ErrMalformedMessage},
		{"untagged", &id.Key.PublicKey, msg[1:], nil, ErrMalformedMessage},
		{"both payloads", &id.Key.PublicKey, msg, []byte("x"), ErrDetachedPayload},
		{"flipped signature bit", &id.Key.PublicKey, flipLast(msg), nil, ErrBadSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyCOSE(tc.pub, tc.msg, tc.detached)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

func flipLast(b []byte) []byte {
	c := append([]byte{}, b...)
	c[len(c)-1] ^= 1
	return c
}

// TestRealVectors decodes the published real-device output with this
// package's parsers.
func TestRealVectors(t *testing.T) {
	uuid := mustUUID(t, realDeviceUUID)
	t.Run("KEYGEN CSR", func(t *testing.T) {
		m, err := ParseKeygenResponse(realKeygenCSR)
		require.NoError(t, err)
		assert.Equal(t, MsgCSRV1, m.MsgID)
		assert.Equal(t, uuid, m.DeviceUUID)
		assert.Equal(t, uint32(17), m.SecTag)
		assert.Equal(t, [16]byte{0x1b, 0x87, 0x22, 0xee, 0x1d, 0xeb, 0x58, 0x15, 0x66, 0xe2, 0xcb, 0x13, 0x59, 0xb2, 0x7c, 0xd2}, m.Nonce)
		assert.True(t, bytes.HasPrefix(m.COSE, realKeygenCOSEPrefix))
		assert.Equal(t, sigAlgWithNull, sigAlgBytes(t, m.Body))
		csr, err := ParseCSR(m.Body)
		require.NoError(t, err)
		require.NoError(t, csr.CheckSignature())
		assert.Equal(t, []wantATV{{oidCN, 12, realDeviceUUID}}, rdnATVs(t, csr.RawSubject))
		require.Len(t, csr.Extensions, 1)
		assert.Equal(t, []byte{0x03, 0x02, 0x03, 0xe8}, csr.Extensions[0].Value)
	})
	t.Run("KEYGEN public key", func(t *testing.T) {
		m, err := ParseKeygenResponse(realKeygenPubKey)
		require.NoError(t, err)
		assert.Equal(t, MsgPubKeyV2, m.MsgID)
		assert.Equal(t, uint32(16), m.SecTag)
		_, err = x509.ParsePKIXPublicKey(m.Body)
		require.NoError(t, err)
	})
	t.Run("ATTESTTOKEN", func(t *testing.T) {
		m, err := ParseAttestationToken(realAttestToken)
		require.NoError(t, err)
		assert.Equal(t, MsgDeviceIdentityV1, m.MsgID)
		assert.Equal(t, uuid, m.DeviceUUID)
		assert.Equal(t, 3, m.DeviceType)
		assert.Equal(t, mustUUID(t, realFirmwareUUID), m.FirmwareUUID)
		assert.True(t, bytes.HasPrefix(m.COSE, realAttestCOSEPrefix))
	})
	t.Run("padded input as utils send it", func(t *testing.T) {
		body, cosePart, _ := strings.Cut(realKeygenPubKey, ".")
		_, err := ParseKeygenResponse(body + "=." + cosePart + "==")
		require.NoError(t, err)
	})
}

func TestParseErrors(t *testing.T) {
	for _, s := range []string{"", "!!!", "MFkw.!!!", "MFkw.0oRD", "AAAA.0oRDoQEmoQRBIfZYQA"} {
		t.Run(s, func(t *testing.T) {
			if s != "" && !strings.Contains(s, ".") {
				_, err := ParseKeygenResponse(s)
				require.ErrorIs(t, err, ErrMalformedMessage)
			}
			if strings.Contains(s, ".") {
				_, err := ParseKeygenResponse(s)
				require.ErrorIs(t, err, ErrMalformedMessage)
			}
			_, err := ParseAttestationToken(s)
			require.ErrorIs(t, err, ErrMalformedMessage)
		})
	}
}

func BenchmarkKeygenResponse(b *testing.B) {
	id, key, _ := fixtures(b)
	der, err := BuildCSR(rand.Reader, key, realDeviceUUID, CSROptions{NullParam: true})
	require.NoError(b, err)
	uuid := mustUUID(b, realDeviceUUID)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := id.KeygenResponse(rand.Reader, der, uuid, 16842753, [16]byte{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeygen is the whole AT%KEYGEN=…,2,0 crypto: key, CSR, COSE.
func BenchmarkKeygen(b *testing.B) {
	id, _, _ := fixtures(b)
	uuid := mustUUID(b, realDeviceUUID)
	b.ReportAllocs()
	for b.Loop() {
		k, err := GenerateKey(rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		der, err := BuildCSR(rand.Reader, k, realDeviceUUID, CSROptions{NullParam: true})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := id.KeygenResponse(rand.Reader, der, uuid, 16842753, [16]byte{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAttestationToken(b *testing.B) {
	id, _, _ := fixtures(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := id.AttestationToken(rand.Reader, [16]byte{1}, 6, [16]byte{2}, [16]byte{3}); err != nil {
			b.Fatal(err)
		}
	}
}
