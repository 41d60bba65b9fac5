package modemkey

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type publicKeyEqualer interface{ Equal(crypto.PublicKey) bool }

func pemOf(t *testing.T, typ string, der []byte, headers map[string]string) []byte {
	t.Helper()
	return pem.EncodeToMemory(&pem.Block{Type: typ, Headers: headers, Bytes: der})
}

func TestParsePrivateKeyPEM(t *testing.T) {
	_, ec, rsaKey := fixtures(t)
	sec1, err := x509.MarshalECPrivateKey(ec)
	require.NoError(t, err)
	pk8EC, err := x509.MarshalPKCS8PrivateKey(ec)
	require.NoError(t, err)
	pk8RSA, err := x509.MarshalPKCS8PrivateKey(rsaKey)
	require.NoError(t, err)
	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pk8Ed, err := x509.MarshalPKCS8PrivateKey(edKey)
	require.NoError(t, err)
	ecParams := pemOf(t, "EC PARAMETERS", []byte{0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07}, nil)
	marshalled, err := MarshalPrivateKeyPEM(ec)
	require.NoError(t, err)

	tests := []struct {
		name    string
		in      []byte
		wantPub crypto.PublicKey
		wantErr error // nil: success; errAny: some error
	}{
		{"MarshalPrivateKeyPEM output", marshalled, &ec.PublicKey, nil},
		{"SEC1", pemOf(t, "EC PRIVATE KEY", sec1, nil), &ec.PublicKey, nil},
		{"SEC1 with CRLF", bytes.ReplaceAll(pemOf(t, "EC PRIVATE KEY", sec1, nil), []byte("\n"), []byte("\r\n")), &ec.PublicKey, nil},
		{"openssl ecparam -genkey output", append(ecParams, pemOf(t, "EC PRIVATE KEY", sec1, nil)...), &ec.PublicKey, nil},
		{"text before the block", append([]byte("key:\n"), marshalled...), &ec.PublicKey, nil},
		{"PKCS8 EC", pemOf(t, "PRIVATE KEY", pk8EC, nil), &ec.PublicKey, nil},
		{"PKCS8 RSA", pemOf(t, "PRIVATE KEY", pk8RSA, nil), &rsaKey.PublicKey, nil},
		{"PKCS1 RSA", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil), &rsaKey.PublicKey, nil},
		{"PKCS8 Ed25519", pemOf(t, "PRIVATE KEY", pk8Ed, nil), edKey.Public(), nil},
		{"encrypted PKCS8", pemOf(t, "ENCRYPTED PRIVATE KEY", []byte{0x30, 0x00}, nil), nil, ErrEncryptedKey},
		{"legacy encrypted SEC1", pemOf(t, "EC PRIVATE KEY", []byte{1}, map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}), nil, ErrEncryptedKey},
		{"certificate only", pemOf(t, "CERTIFICATE", []byte{0x30, 0x00}, nil), nil, ErrNoPrivateKey},
		{"not PEM", []byte("HONKHONK"), nil, ErrNoPrivateKey},
		{"empty", nil, nil, ErrNoPrivateKey},
		{"literal backslash-n", bytes.ReplaceAll(marshalled, []byte("\n"), []byte(`\n`)), nil, ErrNoPrivateKey},
		{"corrupt SEC1", pemOf(t, "EC PRIVATE KEY", sec1[:20], nil), nil, errAny},
		{"corrupt PKCS8", pemOf(t, "PRIVATE KEY", pk8EC[:20], nil), nil, errAny},
		{"corrupt PKCS1", pemOf(t, "RSA PRIVATE KEY", []byte{0x30, 0x00}, nil), nil, errAny},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := ParsePrivateKeyPEM(tc.in)
			switch tc.wantErr {
			case nil:
				require.NoError(t, err)
				assert.True(t, s.Public().(publicKeyEqualer).Equal(tc.wantPub))
			case errAny:
				require.Error(t, err)
				assert.Nil(t, s)
			default:
				require.ErrorIs(t, err, tc.wantErr)
			}
		})
	}
}

// errAny marks a test case that must fail without a specific sentinel.
var errAny = &struct{ error }{}

func TestGenerateKey(t *testing.T) {
	k, err := GenerateKey(rand.Reader)
	require.NoError(t, err)
	assert.Equal(t, elliptic.P256(), k.Curve)
	_, err = MarshalPrivateKeyPEM(nil)
	require.ErrorIs(t, err, ErrUnsupportedKey)
}

func TestIdentityPEM(t *testing.T) {
	id, ec, rsaKey := fixtures(t)
	p, err := id.MarshalPEM()
	require.NoError(t, err)
	assert.Contains(t, string(p), "-----BEGIN EC PRIVATE KEY-----")

	back, err := ParseIdentityPEM(p)
	require.NoError(t, err)
	assert.True(t, id.Key.Equal(back.Key))

	pub, err := back.PublicKeyPEM()
	require.NoError(t, err)
	assert.Contains(t, string(pub), "-----BEGIN PUBLIC KEY-----")
	pk, err := ParsePublicKeyPEM(pub)
	require.NoError(t, err)
	assert.True(t, id.Key.PublicKey.Equal(pk))

	t.Run("PKCS8 accepted", func(t *testing.T) {
		der, err := x509.MarshalPKCS8PrivateKey(ec)
		require.NoError(t, err)
		got, err := ParseIdentityPEM(pemOf(t, "PRIVATE KEY", der, nil))
		require.NoError(t, err)
		assert.True(t, ec.Equal(got.Key))
	})
	t.Run("RSA rejected", func(t *testing.T) {
		_, err := ParseIdentityPEM(pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), nil))
		require.ErrorIs(t, err, ErrUnsupportedKey)
	})
	t.Run("P-384 rejected", func(t *testing.T) {
		k, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		require.NoError(t, err)
		der, err := x509.MarshalECPrivateKey(k)
		require.NoError(t, err)
		_, err = ParseIdentityPEM(pemOf(t, "EC PRIVATE KEY", der, nil))
		require.ErrorIs(t, err, ErrUnsupportedKey)
	})
	t.Run("garbage", func(t *testing.T) {
		_, err := ParseIdentityPEM([]byte("nope"))
		require.ErrorIs(t, err, ErrNoPrivateKey)
	})
	t.Run("nil identity", func(t *testing.T) {
		var nilID *Identity
		_, err := nilID.MarshalPEM()
		require.ErrorIs(t, err, ErrUnsupportedKey)
		_, err = nilID.PublicKeyPEM()
		require.ErrorIs(t, err, ErrUnsupportedKey)
		_, err = nilID.AttestationToken(rand.Reader, [16]byte{}, 1, [16]byte{}, [16]byte{})
		require.ErrorIs(t, err, ErrUnsupportedKey)
	})
	t.Run("public key PEM errors", func(t *testing.T) {
		_, err := ParsePublicKeyPEM([]byte("nope"))
		require.ErrorIs(t, err, ErrUnsupportedKey)
		rsaPub, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
		require.NoError(t, err)
		_, err = ParsePublicKeyPEM(pemOf(t, "PUBLIC KEY", rsaPub, nil))
		require.ErrorIs(t, err, ErrUnsupportedKey)
	})
}

func TestDeviceTypeForModel(t *testing.T) {
	tests := []struct {
		model string
		want  int
		ok    bool
	}{
		{"nRF9160 SIAA", 1, true},
		{"nRF9160 SIBA", 2, true},
		{"NRF9160 SIAA", 3, true},
		{"nRF9161 LACA", 4, true},
		{"nRF9131 LACA", 5, true},
		{"nRF9151 LACA", 6, true},
		{"nRF9151-LACA", 6, true},     // AT+CGMM form
		{"nRF9161 LACA A0A", 4, true}, // AT%HWVERSION form
		{"nrf9131_laca", 5, true},
		{"nRF9160-SICA", 3, true}, // inferred
		{"nRF9160 SICA B0A", 3, true},
		{"nRF9999 XXXX", 0, false},
		{"nRF9160", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			got, ok := DeviceTypeForModel(tc.model)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
	table := DeviceTypes()
	require.Len(t, table, 6)
	table[0].ID = 99
	assert.Equal(t, 1, DeviceTypes()[0].ID, "DeviceTypes returns a copy")
}

func TestUUID(t *testing.T) {
	u, err := ParseUUID(realDeviceUUID)
	require.NoError(t, err)
	assert.Equal(t, realDeviceUUID, FormatUUID(u))
	u2, err := ParseUUID("50363154393144F08022121B6401627D")
	require.NoError(t, err)
	assert.Equal(t, u, u2)
	for _, bad := range []string{"", "50363154-3931-44f0-8022-121b6401627", "50363154x3931-44f0-8022-121b6401627d", "zz363154-3931-44f0-8022-121b6401627d", "5036315439314"} {
		_, err := ParseUUID(bad)
		assert.Error(t, err, bad)
	}
}
