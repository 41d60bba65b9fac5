package pki

import (
	"bytes"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// ErrNoCertificates: the input holds no "CERTIFICATE" PEM block. Blocks with
// other labels (keys, or made-up labels like "CA CERTIFICATE" from a template
// comment, FAILURE-CASES W2) do not count.
var ErrNoCertificates = errors.New("pki: no CERTIFICATE PEM block")

const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
)

// ThumbprintSHA1 is the SHA-1 of the certificate's DER in uppercase hex, as
// the Azure portal shows thumbprints (azure-iot-hub.md §1.4 [doc D-X509]).
func ThumbprintSHA1(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ThumbprintSHA256 is the SHA-256 of the certificate's DER in uppercase hex
// (DPS-created devices store this one, azure-iot-hub.md §1.4 [obs]).
func ThumbprintSHA256(c *x509.Certificate) string {
	return thumb256(c.Raw)
}

// EncodeCertsPEM encodes certificates as consecutive PEM blocks (LF line ends).
func EncodeCertsPEM(certs ...*x509.Certificate) []byte {
	var buf bytes.Buffer
	for _, c := range certs {
		if c == nil {
			continue
		}
		// pem.Encode only fails on bad headers; there are none.
		_ = pem.Encode(&buf, &pem.Block{Type: pemCertificate, Bytes: c.Raw})
	}
	return buf.Bytes()
}

// ParseCertsPEM parses every "CERTIFICATE" block in b, in order, skipping
// blocks with other labels and text between blocks. CRLF line ends are fine.
func ParseCertsPEM(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for i := 0; ; i++ {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != pemCertificate {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("pki: PEM block %d: %w", i, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, ErrNoCertificates
	}
	return certs, nil
}

// encodeBundle is the on-disk form of a certificate and its key.
func encodeBundle(a *Authority) ([]byte, error) {
	k, err := a.KeyPEM()
	if err != nil {
		return nil, err
	}
	return append(a.CertPEM(), k...), nil
}

// decodeBundle reads what encodeBundle wrote and checks that the key belongs
// to the certificate.
func decodeBundle(b []byte) (*Authority, error) {
	var (
		cert *x509.Certificate
		key  crypto.Signer
	)
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		switch block.Type {
		case pemCertificate:
			if cert != nil {
				return nil, errors.New("more than one certificate")
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("certificate: %w", err)
			}
			cert = c
		case pemPrivateKey:
			if key != nil {
				return nil, errors.New("more than one key")
			}
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("key: %w", err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("key type %T cannot sign", k)
			}
			key = s
		}
	}
	if cert == nil || key == nil {
		return nil, errors.New("certificate or key missing")
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pub, ok := key.Public().(equaler)
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("key does not match certificate")
	}
	return &Authority{Cert: cert, Key: key}, nil
}

func encodeKeyPEM(k crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("pki: marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// readKeyFile reads a file holding one PKCS #8 "PRIVATE KEY" block.
func readKeyFile(path string) (crypto.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fs.ErrNotExist
		}
		return nil, fmt.Errorf("pki: read key: %w", err)
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != pemPrivateKey {
		return nil, fmt.Errorf("%w: %s: no PRIVATE KEY block", ErrCorrupt, path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: %s: key type %T cannot sign", ErrCorrupt, path, k)
	}
	return s, nil
}
