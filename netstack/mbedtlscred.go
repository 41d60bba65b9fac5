package netstack

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"github.com/modemsim/modemsim/modemkey"
)

// WithMbedTLSCredentials makes the stack read credentials as Zephyr's
// native TLS sockets hand them to mbedTLS: a certificate buffer is PEM only
// if it ends in NUL and contains "-----BEGIN CERTIFICATE-----", a key
// buffer only if it ends in NUL; anything else is parsed as DER
// [S zephyr subsys/net/lib/sockets/sockets_tls.c crt_is_pem; mbedtls
// library/x509_crt.c mbedtls_x509_crt_parse, pkparse.c mbedtls_pk_parse_key].
// The PEM text ends at the NUL, as C reads it. So a `BEGIN CA CERTIFICATE`
// label (FAILURE-CASES W2) and a PEM stored without its NUL both fail,
// while `cred add … bint` and mqtt-certs.h's sizeof (NUL included) work.
// Without it (the nRF91 modem) PEM is read as the modem reads it.
func WithMbedTLSCredentials() Option { return func(s *Stack) { s.mbedtls = true } }

// mbedtlsCertificateHeader is what mbedTLS looks for to read PEM.
const mbedtlsCertificateHeader = "-----BEGIN CERTIFICATE-----"

// mbedtlsCertificates is mbedtls_x509_crt_parse over a stored buffer.
func mbedtlsCertificates(b []byte) ([]*x509.Certificate, error) {
	if len(b) == 0 || b[len(b)-1] != 0 || !bytes.Contains(b, []byte(mbedtlsCertificateHeader)) {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("%w: not PEM to mbedTLS, and not DER: %w", ErrBadCredential, err)
		}
		return []*x509.Certificate{c}, nil
	}
	text := b[:bytes.IndexByte(b, 0)]
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, text = pem.Decode(text)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCredential, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%w: no CERTIFICATE block", ErrBadCredential)
	}
	return certs, nil
}

// mbedtlsKey is mbedtls_pk_parse_key over a stored buffer.
func mbedtlsKey(b []byte) (crypto.Signer, error) {
	if len(b) > 0 && b[len(b)-1] == 0 {
		s, err := modemkey.ParsePrivateKeyPEM(b[:bytes.IndexByte(b, 0)])
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrBadCredential, err)
		}
		return s, nil
	}
	if k, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParseECPrivateKey(b); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("%w: key is not NUL-terminated PEM, and not DER", ErrBadCredential)
}
