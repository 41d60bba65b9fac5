package netstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strconv"
	"syscall"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Class is what went wrong, in terms every firmware's error table can be
// keyed by (package errmap holds the per-firmware numbers). It is decided
// from Go error types, never from message text.
type Class int

// Classes.
const (
	ClassNone Class = iota
	// ClassNameNotFound: the name does not resolve (EAI_NONAME).
	ClassNameNotFound
	// ClassNameTemporary: the resolver could not answer (EAI_AGAIN/EAI_FAIL).
	ClassNameTemporary
	// ClassConnRefused: TCP RST on connect.
	ClassConnRefused
	// ClassTimeout: no answer within the deadline.
	ClassTimeout
	// ClassNetUnreachable / ClassHostUnreachable: no route.
	ClassNetUnreachable
	ClassHostUnreachable
	// ClassConnReset: the peer reset an established connection.
	ClassConnReset
	// ClassPeerClosed: the peer closed the connection (EOF), e.g. the hub
	// dropping a client mid-handshake or after a violation.
	ClassPeerClosed
	// ClassNoCredentials: a sec tag holds nothing (ErrNoCredentials).
	ClassNoCredentials
	// ClassNoTrustAnchor: verification required, no anchor stored.
	ClassNoTrustAnchor
	// ClassBadCredential: a stored credential cannot be parsed.
	ClassBadCredential
	// ClassUnknownAuthority: the server chain ends in no stored anchor.
	ClassUnknownAuthority
	// ClassCertExpired: a certificate of the chain, or the anchor it ends
	// in, expired before the device's clock.
	ClassCertExpired
	// ClassCertNotYetValid: a certificate is not valid yet at the device's clock.
	ClassCertNotYetValid
	// ClassHostNameMismatch: the server certificate does not name the host.
	ClassHostNameMismatch
	// ClassBadCertificate: the chain is invalid for another reason
	// (not a CA, key usage, name constraints, too long, bad signature).
	ClassBadCertificate
	// ClassTLSAlert: the server aborted the handshake with an alert.
	ClassTLSAlert
	// ClassTLSProtocol: the server did not speak TLS (bad record header).
	ClassTLSProtocol
	// ClassWebSocketUpgrade: the HTTP upgrade was refused (status ≠ 101).
	ClassWebSocketUpgrade
	// ClassRecordTooLarge: the peer sent a TLS record longer than the
	// device's incoming record limit (TLSConfig.MaxIncomingRecord,
	// FAILURE-CASES WS4).
	ClassRecordTooLarge
	// ClassConnack1…5: CONNACK refused with return code 1…5 (MQTT 3.1.1
	// §3.2.2.3; the hub always answers 5, azure-iot-hub.md §1.5).
	ClassConnackProtocol
	ClassConnackIdentifier
	ClassConnackUnavailable
	ClassConnackBadCredentials
	ClassConnackNotAuthorized
	// ClassCanceled: the caller's context ended.
	ClassCanceled
	// ClassOther: none of the above.
	ClassOther
)

var classNames = map[Class]string{
	ClassNone: "none", ClassNameNotFound: "name-not-found", ClassNameTemporary: "name-temporary",
	ClassConnRefused: "connection-refused", ClassTimeout: "timeout", ClassNetUnreachable: "network-unreachable",
	ClassHostUnreachable: "host-unreachable", ClassConnReset: "connection-reset", ClassPeerClosed: "peer-closed",
	ClassNoCredentials: "no-credentials", ClassNoTrustAnchor: "no-trust-anchor", ClassBadCredential: "bad-credential",
	ClassUnknownAuthority: "unknown-authority", ClassCertExpired: "certificate-expired",
	ClassCertNotYetValid: "certificate-not-yet-valid", ClassHostNameMismatch: "hostname-mismatch",
	ClassBadCertificate: "bad-certificate", ClassTLSAlert: "tls-alert", ClassTLSProtocol: "tls-protocol",
	ClassWebSocketUpgrade: "websocket-upgrade", ClassRecordTooLarge: "record-too-large", ClassConnackProtocol: "connack-1-protocol",
	ClassConnackIdentifier: "connack-2-identifier", ClassConnackUnavailable: "connack-3-unavailable",
	ClassConnackBadCredentials: "connack-4-bad-credentials", ClassConnackNotAuthorized: "connack-5-not-authorized",
	ClassCanceled: "canceled", ClassOther: "other",
}

func (c Class) String() string {
	if s, ok := classNames[c]; ok {
		return s
	}
	return "Class(" + strconv.Itoa(int(c)) + ")"
}

// Classes lists every class but ClassNone, for tables that must cover them all.
func Classes() []Class {
	out := make([]Class, 0, int(ClassOther))
	for c := ClassNameNotFound; c <= ClassOther; c++ {
		out = append(out, c)
	}
	return out
}

// Error is a failed network operation of the device.
type Error struct {
	Op    string // "resolve", "dial", "tls", "websocket", "mqtt-connect", …
	Host  string // the host name the device asked for
	Class Class
	Err   error
}

func (e *Error) Error() string {
	s := "netstack: " + e.Op
	if e.Host != "" {
		s += " " + e.Host
	}
	s += " (" + e.Class.String() + ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ConnackError is a CONNACK with a non-zero return code.
type ConnackError struct {
	Code byte
}

func (e *ConnackError) Error() string {
	return "mqtt: connection refused, CONNACK return code " + strconv.Itoa(int(e.Code))
}

// WebSocketUpgradeError is an HTTP answer other than 101 to the upgrade
// (the hub answers 400 for a wrong path or subprotocol, azure-iot-hub.md §1.1).
type WebSocketUpgradeError struct {
	Status int
}

func (e *WebSocketUpgradeError) Error() string {
	return "websocket: upgrade refused with HTTP " + strconv.Itoa(e.Status)
}

// RenegotiationRefusedError is the end of a connection whose peer asked
// for a TLS renegotiation the device's TLS stack does not support: the
// device answers the HelloRequest with a no_renegotiation alert and the
// real hub closes the connection (FAILURE-CASES WS1: mbedTLS built without
// CONFIG_MBEDTLS_SSL_RENEGOTIATION, `mbedtls_ssl_fetch_input() returned
// -29312 (-0x7280)`). It unwraps to io.EOF: to the device it is the peer
// closing.
type RenegotiationRefusedError struct {
	// URL is the WebSocket request after which the peer renegotiates.
	URL string
}

func (e *RenegotiationRefusedError) Error() string {
	return "tls: the server renegotiates after the WebSocket request " + e.URL +
		" to ask for the client certificate; the device's TLS stack refuses renegotiation and the server closes the connection"
}

func (e *RenegotiationRefusedError) Unwrap() error { return io.EOF }

// ExpiredAnchorError says the server chain ends in a stored trust anchor
// that is outside its validity at the device's clock (the real Baltimore
// CyberTrust Root expired on 12 May 2025, DESIGN.md "Time"). Go reports
// this as x509.UnknownAuthorityError; the device's TLS stack (mbedTLS)
// flags the anchor as expired.
type ExpiredAnchorError struct {
	Anchor *x509.Certificate
	Now    time.Time // the device clock
	Err    error     // Go's verification error
}

func (e *ExpiredAnchorError) Error() string {
	return fmt.Sprintf("x509: trust anchor %q valid %s to %s is not valid at the device time %s",
		e.Anchor.Subject.CommonName, e.Anchor.NotBefore.UTC().Format("2006-01-02"),
		e.Anchor.NotAfter.UTC().Format("2006-01-02"), e.Now.UTC().Format(time.RFC3339))
}

func (e *ExpiredAnchorError) Unwrap() error { return e.Err }

// classRule is one row of the Go-error → Class table.
type classRule struct {
	name   string
	match  func(error) bool
	class  Class
	source string
}

func isType[T error](err error) bool {
	var t T
	return errors.As(err, &t)
}

func isErrno(n syscall.Errno) func(error) bool {
	return func(err error) bool { return errors.Is(err, n) }
}

func isCertInvalid(reasons ...x509.InvalidReason) func(error) bool {
	return func(err error) bool {
		var ce x509.CertificateInvalidError
		if !errors.As(err, &ce) {
			return false
		}
		for _, r := range reasons {
			if ce.Reason == r {
				return true
			}
		}
		return false
	}
}

func isDNS(codes ...EAI) func(error) bool {
	return func(err error) bool {
		var de *DNSError
		if !errors.As(err, &de) {
			return false
		}
		for _, c := range codes {
			if de.Code == c {
				return true
			}
		}
		return false
	}
}

func isConnack(code byte, sentinel error) func(error) bool {
	return func(err error) bool {
		var ce *ConnackError
		if errors.As(err, &ce) {
			return ce.Code == code
		}
		return errors.Is(err, sentinel)
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, syscall.ETIMEDOUT) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// classRules is THE table from Go error types to classes, first match wins.
// Order matters where types nest: a certificate problem arrives wrapped in
// *tls.CertificateVerificationError, a CONNACK refusal may wrap a network
// error, so the specific rows come first.
var classRules = []classRule{
	{"DNSError EAI_NONAME", isDNS(EAINoName, EAIService, EAIFamily), ClassNameNotFound, "resolver.go; Zephyr DNS_EAI_* [S]"},
	{"DNSError EAI_AGAIN/FAIL", isDNS(EAIAgain, EAIFail, EAISystem, EAIBadFlags), ClassNameTemporary, "resolver.go [S/I]"},
	{"DNSError canceled", isDNS(EAICanceled), ClassCanceled, "resolver.go"},
	{"ErrNoCredentials", func(err error) bool { return errors.Is(err, ErrNoCredentials) }, ClassNoCredentials, "FAILURE-CASES W1 [T]"},
	{"ErrBadCredential", func(err error) bool { return errors.Is(err, ErrBadCredential) }, ClassBadCredential, "FAILURE-CASES W2 [T]"},
	{"ErrNoTrustAnchor", func(err error) bool { return errors.Is(err, ErrNoTrustAnchor) }, ClassNoTrustAnchor, "FAILURE-CASES M3, D3 [T]"},
	{"ExpiredAnchorError", isType[*ExpiredAnchorError], ClassCertExpired, "DESIGN.md Time; Go verify.go reports it as UnknownAuthorityError [src]"},
	{"x509.CertificateInvalidError NotYetValid", isNotYetValid, ClassCertNotYetValid, "crypto/x509 Expired reason, NotBefore after the clock [src]"},
	{"x509.CertificateInvalidError Expired", isCertInvalid(x509.Expired), ClassCertExpired, "crypto/x509 [src]"},
	{"x509.CertificateInvalidError (other)", isType[x509.CertificateInvalidError], ClassBadCertificate, "crypto/x509 [src]"},
	{"x509.UnknownAuthorityError", isType[x509.UnknownAuthorityError], ClassUnknownAuthority, "crypto/x509 [src]; FAILURE-CASES M1 [T]"},
	{"x509.HostnameError", isType[x509.HostnameError], ClassHostNameMismatch, "crypto/x509 [src]"},
	{"x509.SystemRootsError", isType[x509.SystemRootsError], ClassNoTrustAnchor, "crypto/x509 [src]"},
	{"x509.ConstraintViolationError", isType[x509.ConstraintViolationError], ClassBadCertificate, "crypto/x509 [src]"},
	{"x509.InsecureAlgorithmError", isType[x509.InsecureAlgorithmError], ClassBadCertificate, "crypto/x509 [src]"},
	{"tls.CertificateVerificationError", isType[*tls.CertificateVerificationError], ClassBadCertificate, "crypto/tls [src]"},
	{"tls alert from the peer", func(err error) bool { _, ok := AlertOf(err); return ok }, ClassTLSAlert, "crypto/tls conn.go: net.OpError{Op: \"remote error\"} around the alert; tls.AlertError [src]"},
	{"tls.RecordHeaderError", isType[tls.RecordHeaderError], ClassTLSProtocol, "crypto/tls [src]"},
	{"WebSocketUpgradeError", isType[*WebSocketUpgradeError], ClassWebSocketUpgrade, "azure-iot-hub.md §1.1 [obs]"},
	{"RecordTooLargeError", isType[*RecordTooLargeError], ClassRecordTooLarge, "recordlimit.go; mbedTLS ssl_msg.c bad message length [S]"},
	{"CONNACK 1", isConnack(packets.ErrRefusedBadProtocolVersion, packets.ErrorRefusedBadProtocolVersion), ClassConnackProtocol, "MQTT 3.1.1 §3.2.2.3; paho packets.ConnErrors [src]"},
	{"CONNACK 2", isConnack(packets.ErrRefusedIDRejected, packets.ErrorRefusedIDRejected), ClassConnackIdentifier, "MQTT 3.1.1 §3.2.2.3 [src]"},
	{"CONNACK 3", isConnack(packets.ErrRefusedServerUnavailable, packets.ErrorRefusedServerUnavailable), ClassConnackUnavailable, "MQTT 3.1.1 §3.2.2.3; azure-iot-hub.md §1.5 [obs]"},
	{"CONNACK 4", isConnack(packets.ErrRefusedBadUsernameOrPassword, packets.ErrorRefusedBadUsernameOrPassword), ClassConnackBadCredentials, "MQTT 3.1.1 §3.2.2.3 [src]"},
	{"CONNACK 5", isConnack(packets.ErrRefusedNotAuthorised, packets.ErrorRefusedNotAuthorised), ClassConnackNotAuthorized, "azure-iot-hub.md §1.5 [src-doc S-CREL]"},
	{"context.Canceled", func(err error) bool { return errors.Is(err, context.Canceled) }, ClassCanceled, "context"},
	{"ECONNREFUSED", isErrno(syscall.ECONNREFUSED), ClassConnRefused, "net.OpError wrapping os.SyscallError [src]"},
	{"ENETUNREACH", isErrno(syscall.ENETUNREACH), ClassNetUnreachable, "net.OpError [src]"},
	{"EHOSTUNREACH", isErrno(syscall.EHOSTUNREACH), ClassHostUnreachable, "net.OpError [src]"},
	{"ECONNRESET/EPIPE", func(err error) bool { return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) }, ClassConnReset, "net.OpError [src]"},
	{"timeout", isTimeout, ClassTimeout, "net.Error Timeout(), ETIMEDOUT, context.DeadlineExceeded [src]"},
	{"EOF/closed", func(err error) bool {
		return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
	}, ClassPeerClosed, "io.EOF from crypto/tls and paho [src]"},
}

func isNotYetValid(err error) bool {
	var ce x509.CertificateInvalidError
	if !errors.As(err, &ce) || ce.Reason != x509.Expired || ce.Cert == nil {
		return false
	}
	var nv *notYetValid
	return errors.As(err, &nv)
}

// notYetValid marks a CertificateInvalidError{Expired} whose certificate's
// NotBefore is after the device clock (Go uses one reason for both ends of
// the window; the stack knows the clock and adds this marker).
type notYetValid struct{ err error }

func (n *notYetValid) Error() string { return n.err.Error() }
func (n *notYetValid) Unwrap() error { return n.err }

// Classify returns the class of err from the types in its chain.
func Classify(err error) Class {
	if err == nil {
		return ClassNone
	}
	var ne *Error
	if errors.As(err, &ne) {
		return ne.Class
	}
	for _, r := range classRules {
		if r.match(err) {
			return r.class
		}
	}
	return ClassOther
}

// ClassRule describes one row of the classification table (for
// documentation and tests).
type ClassRule struct {
	Name   string
	Class  Class
	Source string
}

// ClassRules returns the classification table, in the order it is applied.
func ClassRules() []ClassRule {
	out := make([]ClassRule, len(classRules))
	for i, r := range classRules {
		out[i] = ClassRule{Name: r.name, Class: r.class, Source: r.source}
	}
	return out
}

// AlertOf returns the TLS alert the peer sent, if err carries one.
// crypto/tls returns a received alert as *net.OpError{Op: "remote error"}
// around its unexported alert type (a uint8), and wraps tls.AlertError
// only on QUIC paths; both are read here, by type and kind.
func AlertOf(err error) (tls.AlertError, bool) {
	var a tls.AlertError
	if errors.As(err, &a) {
		return a, true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == remoteErrorOp && op.Err != nil {
		v := reflect.ValueOf(op.Err)
		if v.Kind() == reflect.Uint8 && v.Type().PkgPath() == "crypto/tls" {
			return tls.AlertError(v.Uint()), true
		}
	}
	return 0, false
}

// remoteErrorOp is the net.OpError.Op crypto/tls uses for a received alert
// [src go/src/crypto/tls/conn.go readRecordOrCCS].
const remoteErrorOp = "remote error"

// ConnackOf returns the CONNACK return code, if err is a refusal.
func ConnackOf(err error) (byte, bool) {
	var ce *ConnackError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	return 0, false
}

// EAIOf returns the getaddrinfo code, if err is a resolution failure.
func EAIOf(err error) (EAI, bool) {
	var de *DNSError
	if errors.As(err, &de) {
		return de.Code, true
	}
	return 0, false
}
