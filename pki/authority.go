package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"
)

// Errors callers can test with errors.Is.
var (
	// ErrUnknownRoot: the RootName is not one of RootNames().
	ErrUnknownRoot = errors.New("pki: unknown root")
	// ErrNoIssuer: an operation needs an issuing authority and got none.
	ErrNoIssuer = errors.New("pki: no issuer")
	// ErrNotCA: the issuing authority's certificate is not a CA.
	ErrNotCA = errors.New("pki: issuer is not a CA")
	// ErrBadCSR: the certificate request's signature does not verify.
	ErrBadCSR = errors.New("pki: bad certificate request")
	// ErrNoHosts: a server certificate needs at least one host name or address.
	ErrNoHosts = errors.New("pki: no hosts")
	// ErrBadValidity: notAfter is not after notBefore.
	ErrBadValidity = errors.New("pki: notAfter must be after notBefore")
)

// Authority is a certificate with its private key: a CA you can sign with,
// or a device certificate you can authenticate with.
type Authority struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CertPEM returns the certificate as one PEM block.
func (a *Authority) CertPEM() []byte {
	return EncodeCertsPEM(a.Cert)
}

// KeyPEM returns the private key as a PKCS #8 "PRIVATE KEY" PEM block.
func (a *Authority) KeyPEM() ([]byte, error) {
	b, err := encodeKeyPEM(a.Key)
	if err != nil {
		return nil, fmt.Errorf("pki: key of %q: %w", a.Cert.Subject.CommonName, err)
	}
	return b, nil
}

// KeyType selects the key algorithm of generated certificates.
type KeyType int

// Key types. ECDSA P-256 is the default: it is what nRF91 %KEYGEN and most
// device tutorials produce, and it is fast to generate.
const (
	ECDSAP256 KeyType = iota
	ECDSAP384
	RSA2048
	RSA4096
)

func (k KeyType) String() string {
	switch k {
	case ECDSAP256:
		return "ECDSA P-256"
	case ECDSAP384:
		return "ECDSA P-384"
	case RSA2048:
		return "RSA 2048"
	case RSA4096:
		return "RSA 4096"
	}
	return fmt.Sprintf("KeyType(%d)", int(k))
}

// CertOption adjusts a certificate made by NewCA, NewLeaf or LeafForKey.
type CertOption func(*certOptions)

type certOptions struct {
	keyType KeyType
	subject *pkix.Name
	dns     []string
}

// WithKeyType selects the key algorithm of the generated key (default ECDSA P-256).
func WithKeyType(k KeyType) CertOption { return func(o *certOptions) { o.keyType = k } }

// WithSubject replaces the subject; its CommonName wins over the cn argument
// only when cn is empty.
func WithSubject(n pkix.Name) CertOption { return func(o *certOptions) { o.subject = &n } }

func applyCertOptions(opts []CertOption) certOptions {
	var o certOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (o certOptions) name(cn string) pkix.Name {
	var n pkix.Name
	if o.subject != nil {
		n = *o.subject
	}
	if cn != "" {
		n.CommonName = cn
	}
	return n
}

func generateKey(r io.Reader, k KeyType) (crypto.Signer, error) {
	var (
		key crypto.Signer
		err error
	)
	switch k {
	case ECDSAP256:
		key, err = ecdsa.GenerateKey(elliptic.P256(), r)
	case ECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), r)
	case RSA2048:
		key, err = rsa.GenerateKey(r, 2048)
	case RSA4096:
		key, err = rsa.GenerateKey(r, 4096)
	default:
		return nil, fmt.Errorf("pki: unsupported key type %v", k)
	}
	if err != nil {
		return nil, fmt.Errorf("pki: generate %v key: %w", k, err)
	}
	return key, nil
}

func rsaKeyType(bits int) KeyType {
	if bits >= 4096 {
		return RSA4096
	}
	return RSA2048
}

// serialNumber returns a random positive 127-bit serial, as public CAs use
// (CA/B Forum: at least 64 bits of entropy).
func serialNumber(r io.Reader) (*big.Int, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("pki: serial number: %w", err)
	}
	b[0] &= 0x7f
	b[0] |= 0x01 // keep it 16 bytes long and positive
	return new(big.Int).SetBytes(b), nil
}

func orRand(r io.Reader) io.Reader {
	if r == nil {
		return rand.Reader
	}
	return r
}

func checkWindow(notBefore, notAfter time.Time) error {
	if !notAfter.After(notBefore) {
		return fmt.Errorf("%w (%s .. %s)", ErrBadValidity, notBefore.UTC().Format(time.RFC3339), notAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func checkIssuer(issuer *Authority) error {
	if issuer == nil || issuer.Cert == nil || issuer.Key == nil {
		return ErrNoIssuer
	}
	if !issuer.Cert.IsCA {
		return fmt.Errorf("%w: %q", ErrNotCA, issuer.Cert.Subject.CommonName)
	}
	return nil
}

// sign creates tmpl signed by issuer (or self-signed with selfKey when issuer
// is nil) and parses the result.
func sign(r io.Reader, tmpl *x509.Certificate, pub crypto.PublicKey, issuer *Authority, selfKey crypto.Signer) (*x509.Certificate, error) {
	parent, key := tmpl, selfKey
	if issuer != nil {
		parent, key = issuer.Cert, issuer.Key
	}
	der, err := x509.CreateCertificate(r, tmpl, parent, pub, key)
	if err != nil {
		return nil, fmt.Errorf("pki: sign %q: %w", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("pki: parse new certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	return c, nil
}

// NewCA makes a CA certificate and key. parent nil makes a self-signed root;
// otherwise parent signs it (an intermediate). The key is ECDSA P-256 unless
// WithKeyType says otherwise.
func NewCA(r io.Reader, cn string, parent *Authority, notBefore, notAfter time.Time, opts ...CertOption) (*Authority, error) {
	r = orRand(r)
	if err := checkWindow(notBefore, notAfter); err != nil {
		return nil, err
	}
	if parent != nil {
		if err := checkIssuer(parent); err != nil {
			return nil, err
		}
	}
	o := applyCertOptions(opts)
	key, err := generateKey(r, o.keyType)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber(r)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               o.name(cn),
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	c, err := sign(r, tmpl, key.Public(), parent, key)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: c, Key: key}, nil
}

// deviceTemplate is the shape of a device (client) certificate: what Azure's
// tutorials and the forum threads make with openssl (clientAuth, digitalSignature).
func deviceTemplate(serial *big.Int, subject pkix.Name, notBefore, notAfter time.Time) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
}

// NewLeaf makes a device certificate (clientAuth, digitalSignature) with a
// new key. issuer nil makes it self-signed, for thumbprint authentication.
func NewLeaf(r io.Reader, cn string, issuer *Authority, notBefore, notAfter time.Time, opts ...CertOption) (*Authority, error) {
	r = orRand(r)
	if err := checkWindow(notBefore, notAfter); err != nil {
		return nil, err
	}
	if issuer != nil {
		if err := checkIssuer(issuer); err != nil {
			return nil, err
		}
	}
	o := applyCertOptions(opts)
	key, err := generateKey(r, o.keyType)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber(r)
	if err != nil {
		return nil, err
	}
	c, err := sign(r, deviceTemplate(serial, o.name(cn), notBefore, notAfter), key.Public(), issuer, key)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: c, Key: key}, nil
}

// LeafForKey signs a device certificate for a public key generated elsewhere
// (the modem's %KEYGEN key, FAILURE-CASES D4). The issuer is required: there
// is no private key here to self-sign with.
func LeafForKey(pub crypto.PublicKey, cn string, issuer *Authority, notBefore, notAfter time.Time, opts ...CertOption) (*x509.Certificate, error) {
	if err := checkIssuer(issuer); err != nil {
		return nil, err
	}
	if err := checkWindow(notBefore, notAfter); err != nil {
		return nil, err
	}
	o := applyCertOptions(opts)
	serial, err := serialNumber(rand.Reader)
	if err != nil {
		return nil, err
	}
	return sign(rand.Reader, deviceTemplate(serial, o.name(cn), notBefore, notAfter), pub, issuer, nil)
}

// SignCSR checks the request's self-signature and signs a device certificate
// for its key with its subject (CN = device/registration ID).
func SignCSR(csr *x509.CertificateRequest, issuer *Authority, notBefore, notAfter time.Time) (*x509.Certificate, error) {
	if csr == nil {
		return nil, fmt.Errorf("%w: nil", ErrBadCSR)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadCSR, err)
	}
	return LeafForKey(csr.PublicKey, "", issuer, notBefore, notAfter, WithSubject(csr.Subject))
}

// Verification certificates live briefly: they are uploaded once, right after
// the code is generated (azure-iot-hub.md §2.3 [doc P-VER]).
const (
	verificationBackdate = time.Hour
	verificationLifetime = 30 * 24 * time.Hour
)

// NewVerificationCert makes the proof-of-possession certificate for a CA:
// subject CN = the verification code the hub/DPS generated, signed by the CA's
// key (azure-iot-hub.md §1.4, §2.3 [doc D-X509, P-VER]). Its own key is fresh
// and discarded; only the CA's signature matters.
func NewVerificationCert(r io.Reader, code string, ca *Authority, now time.Time) (*x509.Certificate, error) {
	if err := checkIssuer(ca); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, errors.New("pki: empty verification code")
	}
	leaf, err := NewLeaf(r, code, ca, now.Add(-verificationBackdate), now.Add(verificationLifetime))
	if err != nil {
		return nil, fmt.Errorf("pki: verification certificate: %w", err)
	}
	return leaf.Cert, nil
}
