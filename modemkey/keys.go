package modemkey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
)

// PEM block types. "EC PRIVATE KEY" (SEC 1) is what the simulator writes;
// users storing their own key with %CMNG type 2 may write any of them.
const (
	pemTypeECPrivateKey  = "EC PRIVATE KEY"        // SEC 1 / RFC 5915
	pemTypePKCS8         = "PRIVATE KEY"           // PKCS #8 / RFC 5208
	pemTypePKCS1         = "RSA PRIVATE KEY"       // PKCS #1
	pemTypeEncryptedPKCS = "ENCRYPTED PRIVATE KEY" // PKCS #8 EncryptedPrivateKeyInfo
	pemTypeECParameters  = "EC PARAMETERS"         // `openssl ecparam -genkey` prints it before the key
	pemTypePublicKey     = "PUBLIC KEY"            // SubjectPublicKeyInfo
)

// Sentinel errors callers can test with errors.Is.
var (
	// ErrNoPrivateKey means the input holds no PEM private-key block.
	ErrNoPrivateKey = errors.New("modemkey: no PEM private key found")
	// ErrEncryptedKey means the key is password-protected. %CMNG accepts a
	// <passwd> for encrypted PKCS #8 keys (nrf91.md §2 [S]); the standard
	// library cannot decrypt them, so this package reports it instead.
	ErrEncryptedKey = errors.New("modemkey: encrypted private key not supported")
	// ErrUnsupportedKey means the key parsed but is of a kind this package
	// cannot use (for the identity: anything but ECDSA P-256).
	ErrUnsupportedKey = errors.New("modemkey: unsupported private key")
)

// GenerateKey makes a client key the way %KEYGEN does: ECDSA P-256
// (prime256v1), nrf91.md §3 [T].
func GenerateKey(rand io.Reader) (*ecdsa.PrivateKey, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, fmt.Errorf("modemkey: generate P-256 key: %w", err)
	}
	return k, nil
}

// MarshalPrivateKeyPEM encodes k as an "EC PRIVATE KEY" PEM block (SEC 1),
// the form mbedTLS and the nRF91 TLS stack load directly.
func MarshalPrivateKeyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	if k == nil {
		return nil, fmt.Errorf("modemkey: marshal private key: %w", ErrUnsupportedKey)
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("modemkey: marshal private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypeECPrivateKey, Bytes: der}), nil
}

// ParsePrivateKeyPEM returns the first private key in b. It accepts
// "EC PRIVATE KEY" (SEC 1), "PRIVATE KEY" (PKCS #8: ECDSA, RSA, Ed25519) and
// "RSA PRIVATE KEY" (PKCS #1), skips other blocks such as "EC PARAMETERS",
// and tolerates CRLF line ends (nRF Cloud utils write PEM with CRLF, §6).
func ParsePrivateKeyPEM(b []byte) (crypto.Signer, error) {
	rest := b
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, ErrNoPrivateKey
		}
		switch block.Type {
		case pemTypeECPrivateKey:
			if isLegacyEncrypted(block) {
				return nil, ErrEncryptedKey
			}
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("modemkey: parse %s: %w", block.Type, err)
			}
			return k, nil
		case pemTypePKCS8:
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("modemkey: parse %s: %w", block.Type, err)
			}
			s, ok := k.(crypto.Signer)
			if !ok {
				return nil, fmt.Errorf("modemkey: %T: %w", k, ErrUnsupportedKey)
			}
			return s, nil
		case pemTypePKCS1:
			if isLegacyEncrypted(block) {
				return nil, ErrEncryptedKey
			}
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("modemkey: parse %s: %w", block.Type, err)
			}
			return k, nil
		case pemTypeEncryptedPKCS:
			return nil, ErrEncryptedKey
		}
	}
}

// isLegacyEncrypted reports an OpenSSL "Proc-Type: 4,ENCRYPTED" block.
func isLegacyEncrypted(b *pem.Block) bool {
	_, ok := b.Headers["DEK-Info"]
	return ok || b.Headers["Proc-Type"] == "4,ENCRYPTED"
}

// parseP256 narrows ParsePrivateKeyPEM to the only kind the identity can be.
func parseP256(b []byte) (*ecdsa.PrivateKey, error) {
	s, err := ParsePrivateKeyPEM(b)
	if err != nil {
		return nil, err
	}
	k, ok := s.(*ecdsa.PrivateKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("modemkey: identity must be ECDSA P-256, got %T: %w", s, ErrUnsupportedKey)
	}
	return k, nil
}
