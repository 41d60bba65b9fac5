package nrf91modem

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }

func parseFirstCert(t *testing.T, pemText string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode([]byte(pemText))
	require.NotNil(t, block)
	c, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	return c
}

// testCertSerial is a self-signed certificate with the given serial (hex).
func testCertSerial(t *testing.T, serialHex string) string {
	t.Helper()
	serial, ok := new(big.Int).SetString(serialHex, 16)
	require.True(t, ok)
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "serial"},
		NotBefore: time.Date(2017, 8, 23, 8, 47, 37, 0, time.UTC), NotAfter: time.Date(2018, 8, 23, 8, 47, 37, 0, time.UTC)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}
