package modemkey

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
)

// Identity is the board's own persistent device-identity key. It stands in for
// Nordic's factory identity key, which signs the real modem's COSE messages
// and cannot be reproduced (nrf91.md §3 [I]). It is ECDSA P-256 because the
// real messages are ES256 (protected header {1: -7}, §3 [T]).
type Identity struct {
	Key *ecdsa.PrivateKey
}

// NewIdentity makes a fresh identity key for a new board.
func NewIdentity(rand io.Reader) (*Identity, error) {
	k, err := GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("modemkey: new identity: %w", err)
	}
	return &Identity{Key: k}, nil
}

// MarshalPEM encodes the identity's private key for the board's state dir.
func (id *Identity) MarshalPEM() ([]byte, error) {
	if id == nil || id.Key == nil {
		return nil, fmt.Errorf("modemkey: marshal identity: %w", ErrUnsupportedKey)
	}
	return MarshalPrivateKeyPEM(id.Key)
}

// ParseIdentityPEM reads what MarshalPEM wrote (PKCS #8 is accepted too).
func ParseIdentityPEM(b []byte) (*Identity, error) {
	k, err := parseP256(b)
	if err != nil {
		return nil, fmt.Errorf("modemkey: parse identity: %w", err)
	}
	return &Identity{Key: k}, nil
}

// PublicKeyPEM exports the identity's public key ("PUBLIC KEY", PKIX) so a
// verifier — the emulated cloud, a test, a user — can check what the board signs.
func (id *Identity) PublicKeyPEM() ([]byte, error) {
	if id == nil || id.Key == nil {
		return nil, fmt.Errorf("modemkey: identity public key: %w", ErrUnsupportedKey)
	}
	der, err := x509.MarshalPKIXPublicKey(&id.Key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("modemkey: identity public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypePublicKey, Bytes: der}), nil
}

// ParsePublicKeyPEM reads a "PUBLIC KEY" block holding an ECDSA key, e.g. the
// output of PublicKeyPEM, for VerifyCOSE.
func ParsePublicKeyPEM(b []byte) (*ecdsa.PublicKey, error) {
	rest := b
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("modemkey: no PEM public key found: %w", ErrUnsupportedKey)
		}
		if block.Type != pemTypePublicKey {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("modemkey: parse public key: %w", err)
		}
		ek, ok := k.(*ecdsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("modemkey: public key %T: %w", k, ErrUnsupportedKey)
		}
		return ek, nil
	}
}
