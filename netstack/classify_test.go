package netstack

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testCert(t testing.TB) *x509.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "t"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c
}

// receivedAlert makes crypto/tls produce the error a client gets when the
// server aborts with an alert: a TLS 1.2 server requiring a client
// certificate that the client does not send.
func receivedAlert(t testing.TB) error {
	t.Helper()
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "srv"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"srv"},
		BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &srvKey.PublicKey, srvKey)
	require.NoError(t, err)
	srvCert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	roots := x509.NewCertPool()
	roots.AddCert(srvCert)
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() {
		s := tls.Server(b, &tls.Config{MaxVersion: tls.VersionTLS12, ClientAuth: tls.RequireAnyClientCert,
			Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: srvKey}}})
		_ = s.Handshake()
	}()
	c := tls.Client(a, &tls.Config{RootCAs: roots, ServerName: "srv", MaxVersion: tls.VersionTLS12})
	err = c.Handshake()
	require.Error(t, err)
	return err
}

func sysErr(n syscall.Errno) error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", n)}
}

// Every row of the Go error → Class table, reached from a value of the type
// it names (never from message text).
func TestClassifyEveryRule(t *testing.T) {
	cert := testCert(t)
	future := *cert
	future.NotBefore = time.Now().Add(time.Hour)
	cases := []struct {
		name string
		err  error
		want Class
	}{
		{"nil", nil, ClassNone},
		{"netstack.Error keeps its class", &Error{Op: "x", Class: ClassTimeout, Err: io.EOF}, ClassTimeout},
		{"EAI_NONAME", &DNSError{Name: "h", Code: EAINoName}, ClassNameNotFound},
		{"EAI_SERVICE", &DNSError{Name: "h", Code: EAIService}, ClassNameNotFound},
		{"EAI_AGAIN", &DNSError{Name: "h", Code: EAIAgain}, ClassNameTemporary},
		{"EAI_FAIL wrapped", fmt.Errorf("x: %w", &DNSError{Name: "h", Code: EAIFail}), ClassNameTemporary},
		{"EAI_CANCELED", &DNSError{Name: "h", Code: EAICanceled}, ClassCanceled},
		{"no credentials", fmt.Errorf("tag 1: %w", ErrNoCredentials), ClassNoCredentials},
		{"bad credential", fmt.Errorf("%w: x", ErrBadCredential), ClassBadCredential},
		{"no trust anchor", fmt.Errorf("%w: %w", ErrNoTrustAnchor, x509.UnknownAuthorityError{Cert: cert}), ClassNoTrustAnchor},
		{"expired anchor", &ExpiredAnchorError{Anchor: cert, Err: x509.UnknownAuthorityError{Cert: cert}}, ClassCertExpired},
		{"not yet valid", &notYetValid{err: x509.CertificateInvalidError{Cert: &future, Reason: x509.Expired}}, ClassCertNotYetValid},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: cert, Reason: x509.Expired}}, ClassCertExpired},
		{"not a CA", x509.CertificateInvalidError{Cert: cert, Reason: x509.NotAuthorizedToSign}, ClassBadCertificate},
		{"unknown authority", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{Cert: cert}}, ClassUnknownAuthority},
		{"hostname", &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: cert, Host: "h"}}, ClassHostNameMismatch},
		{"system roots", x509.SystemRootsError{}, ClassNoTrustAnchor},
		{"constraint", x509.ConstraintViolationError{}, ClassBadCertificate},
		{"insecure algorithm", x509.InsecureAlgorithmError(x509.SHA1WithRSA), ClassBadCertificate},
		{"other verification error", &tls.CertificateVerificationError{Err: errors.New("x")}, ClassBadCertificate},
		{"received alert", receivedAlert(t), ClassTLSAlert},
		{"tls.AlertError", fmt.Errorf("%w", tls.AlertError(40)), ClassTLSAlert},
		{"record header", tls.RecordHeaderError{Msg: "x"}, ClassTLSProtocol},
		{"websocket 400", &WebSocketUpgradeError{Status: 400}, ClassWebSocketUpgrade},
		{"record too large", fmt.Errorf("handshake: %w", &RecordTooLargeError{ContentType: 22, Length: 3047, Limit: 2048}), ClassRecordTooLarge},
		{"renegotiation refused", &RenegotiationRefusedError{URL: "wss://h/$iothub/websocket"}, ClassPeerClosed},
		{"connack 1", &ConnackError{Code: 1}, ClassConnackProtocol},
		{"connack 2 (paho)", packets.ErrorRefusedIDRejected, ClassConnackIdentifier},
		{"connack 3", &ConnackError{Code: 3}, ClassConnackUnavailable},
		{"connack 4 (paho)", packets.ErrorRefusedBadUsernameOrPassword, ClassConnackBadCredentials},
		{"connack 5", fmt.Errorf("%w: %w", &ConnackError{Code: 5}, packets.ErrorRefusedNotAuthorised), ClassConnackNotAuthorized},
		{"canceled", context.Canceled, ClassCanceled},
		{"refused", sysErr(syscall.ECONNREFUSED), ClassConnRefused},
		{"net unreachable", sysErr(syscall.ENETUNREACH), ClassNetUnreachable},
		{"host unreachable", sysErr(syscall.EHOSTUNREACH), ClassHostUnreachable},
		{"reset", sysErr(syscall.ECONNRESET), ClassConnReset},
		{"broken pipe", sysErr(syscall.EPIPE), ClassConnReset},
		{"deadline", context.DeadlineExceeded, ClassTimeout},
		{"i/o timeout", &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded}, ClassTimeout},
		{"ETIMEDOUT", sysErr(syscall.ETIMEDOUT), ClassTimeout},
		{"EOF", fmt.Errorf("network Error : %w", io.EOF), ClassPeerClosed},
		{"unexpected EOF", io.ErrUnexpectedEOF, ClassPeerClosed},
		{"closed", net.ErrClosed, ClassPeerClosed},
		{"anything else", errors.New("boom"), ClassOther},
	}
	hit := map[int]bool{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Classify(tc.err), "%v", tc.err)
		})
		for i, r := range classRules {
			if tc.err != nil && r.match(tc.err) {
				hit[i] = true
				break
			}
		}
	}
	for i, r := range classRules {
		assert.True(t, hit[i], "rule %q has no test case", r.name)
	}
	assert.Len(t, ClassRules(), len(classRules))
}

func TestClassNamesAreComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range append(Classes(), ClassNone) {
		s := c.String()
		assert.NotContains(t, s, "Class(", "class %d has no name", int(c))
		assert.False(t, seen[s], "duplicate name %s", s)
		seen[s] = true
	}
}

func TestEAIFromGoResolverErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want EAI
	}{
		{&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}, EAINoName},
		{&net.DNSError{Err: "timeout", Name: "x", IsTimeout: true}, EAIAgain},
		{&net.DNSError{Err: "server misbehaving", Name: "x", IsTemporary: true}, EAIAgain},
		{&net.DNSError{Err: "other", Name: "x"}, EAIFail},
		{context.Canceled, EAICanceled},
		{context.DeadlineExceeded, EAIAgain},
	} {
		assert.Equal(t, tc.want, eaiFromDNS(tc.err), "%v", tc.err)
	}
}
