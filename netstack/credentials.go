package netstack

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
)

// CredentialSource is the device's credential storage as the network stack
// uses it: content for the device's own use, secret or not. *credstore.Store
// satisfies it. What Use returns stays inside the device.
type CredentialSource interface {
	Use(k credstore.Key) ([]byte, error)
}

// SignerSource is a CredentialSource that can hand out a private key as a
// crypto.Signer without its bytes (a key held by a secure element). When the
// source implements it, the stack asks it for type-2 keys instead of parsing
// the slot.
type SignerSource interface {
	Signer(k credstore.Key) (crypto.Signer, error)
}

// SlotTypes says which credential types hold what, in the board's numbering.
type SlotTypes struct {
	CA   int // trust anchors (one or more certificates)
	Cert int // the client certificate, optionally followed by its chain
	Key  int // the client private key
}

// ModemSlotTypes is the nRF91 modem's %CMNG numbering: 0 root CA chain,
// 1 client certificate, 2 client private key (nrf91.md §9
// modem_key_mgmt types [S]).
func ModemSlotTypes() SlotTypes { return SlotTypes{CA: 0, Cert: 1, Key: 2} }

// ZephyrSlotTypes is Zephyr's enum tls_credential_type numbering, used by
// the nRF7002 DK's TLS credential store: TLS_CREDENTIAL_CA_CERTIFICATE 1,
// TLS_CREDENTIAL_PUBLIC_CERTIFICATE (formerly SERVER_CERTIFICATE) 2,
// TLS_CREDENTIAL_PRIVATE_KEY 3 [S zephyr include/zephyr/net/tls_credentials.h].
func ZephyrSlotTypes() SlotTypes { return SlotTypes{CA: 1, Cert: 2, Key: 3} }

// Sentinel errors for credential problems found before or during the
// handshake; they are classified in errors.go.
var (
	// ErrNoCredentials: a configured sec tag holds nothing at all. Zephyr's
	// native TLS fails the socket option with -ENOENT (FAILURE-CASES W1).
	ErrNoCredentials = errors.New("netstack: sec tag holds no credentials")
	// ErrNoTrustAnchor: peer verification is required but no sec tag holds a
	// trust anchor (FAILURE-CASES M3: root written as type 1; D3).
	ErrNoTrustAnchor = errors.New("netstack: no trust anchor in the sec tags")
	// ErrBadCredential: a slot holds something the TLS stack cannot parse
	// (FAILURE-CASES W2: `BEGIN CA CERTIFICATE` labels).
	ErrBadCredential = errors.New("netstack: credential cannot be parsed")
)

// CredentialError is a slot the TLS stack could not use: which one, and why.
type CredentialError struct {
	Tag  uint32
	Type int
	What string // "CA", "client certificate", "key"
	Err  error
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("sec tag %d type %d (%s): %v", e.Tag, e.Type, e.What, e.Err)
}

func (e *CredentialError) Unwrap() error { return e.Err }

// tagMaterial is what one sec tag contributes to a TLS client.
type tagMaterial struct {
	tag     uint32
	anchors []*x509.Certificate
	chain   []*x509.Certificate // leaf first, as stored
	signer  crypto.Signer
}

// loadTag reads one sec tag. A missing slot is not an error; a tag with no
// slot at all is ErrNoCredentials.
func loadTag(src CredentialSource, types SlotTypes, tag uint32) (tagMaterial, error) {
	return loadTagAs(src, types, tag, false)
}

// loadTagAs reads one sec tag, by mbedTLS's rules when mbed is set
// (WithMbedTLSCredentials).
func loadTagAs(src CredentialSource, types SlotTypes, tag uint32, mbed bool) (tagMaterial, error) {
	m := tagMaterial{tag: tag}
	parseCertificates := parseCertificates
	parseKey := func(b []byte) (crypto.Signer, error) {
		s, err := modemkey.ParsePrivateKeyPEM(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCredential, err)
		}
		return s, nil
	}
	if mbed {
		parseCertificates, parseKey = mbedtlsCertificates, mbedtlsKey
	}
	found := false
	if b, ok, err := use(src, credstore.Key{Tag: tag, Type: types.CA}); err != nil {
		return m, err
	} else if ok {
		found = true
		certs, err := parseCertificates(b)
		if err != nil {
			return m, &CredentialError{Tag: tag, Type: types.CA, What: "CA", Err: err}
		}
		m.anchors = certs
	}
	if b, ok, err := use(src, credstore.Key{Tag: tag, Type: types.Cert}); err != nil {
		return m, err
	} else if ok {
		found = true
		certs, err := parseCertificates(b)
		if err != nil {
			return m, &CredentialError{Tag: tag, Type: types.Cert, What: "client certificate", Err: err}
		}
		m.chain = certs
	}
	keyKey := credstore.Key{Tag: tag, Type: types.Key}
	if ss, ok := src.(SignerSource); ok {
		s, err := ss.Signer(keyKey)
		switch {
		case err == nil:
			found = true
			m.signer = s
		case !errors.Is(err, credstore.ErrNotFound):
			return m, &CredentialError{Tag: tag, Type: types.Key, What: "key", Err: err}
		}
	} else if b, ok, err := use(src, keyKey); err != nil {
		return m, err
	} else if ok {
		found = true
		s, err := parseKey(b)
		if err != nil {
			return m, &CredentialError{Tag: tag, Type: types.Key, What: "key", Err: err}
		}
		m.signer = opaqueSigner{s}
	}
	if !found {
		return m, fmt.Errorf("sec tag %d: %w", tag, ErrNoCredentials)
	}
	return m, nil
}

func use(src CredentialSource, k credstore.Key) ([]byte, bool, error) {
	b, err := src.Use(k)
	switch {
	case err == nil:
		return b, true, nil
	case errors.Is(err, credstore.ErrNotFound):
		return nil, false, nil
	}
	return nil, false, fmt.Errorf("netstack: credential %v: %w", k, err)
}

// parseCertificates reads every CERTIFICATE block of a slot (a CA slot may
// hold several roots; a client slot may hold a full chain). Blocks with
// other labels are not certificates to mbedTLS or the modem (FAILURE-CASES
// W2); a slot with none is ErrBadCredential. A DER certificate is accepted
// as the only content [S zephyr sockets_tls.c: non-PEM buffers are parsed
// as DER].
func parseCertificates(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := b
	sawPEM := false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCredential, err)
		}
		certs = append(certs, c)
	}
	if len(certs) > 0 {
		return certs, nil
	}
	if !sawPEM {
		if c, err := x509.ParseCertificate(b); err == nil {
			return []*x509.Certificate{c}, nil
		}
	}
	return nil, fmt.Errorf("%w: no CERTIFICATE block", ErrBadCredential)
}

// opaqueSigner hides the concrete key type, so nothing downstream (the TLS
// library, a log line with %v) can reach the key bytes: only Public and
// Sign are exposed, as a modem exposes a key it keeps.
type opaqueSigner struct{ s crypto.Signer }

func (o opaqueSigner) Public() crypto.PublicKey { return o.s.Public() }

func (o opaqueSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return o.s.Sign(r, digest, opts)
}

// String keeps formatting verbs from printing the wrapped key.
func (o opaqueSigner) String() string { return "netstack.Signer(hidden)" }
