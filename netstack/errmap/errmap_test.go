package errmap_test

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

// Every firmware has exactly one row per class.
func TestEveryClassHasOneRowPerFirmware(t *testing.T) {
	for _, fw := range errmap.Firmwares() {
		seen := map[netstack.Class]int{}
		for _, r := range errmap.Rows(fw) {
			seen[r.Class]++
			assert.NotEmpty(t, r.Source, "%s %s has no source", fw, r.Class)
		}
		for _, c := range netstack.Classes() {
			assert.Equal(t, 1, seen[c], "%s: class %s", fw, c)
		}
	}
}

// sample is a Go error of each class, built from the types netstack
// classifies (a netstack.Error where the class comes from the stack's own
// knowledge, e.g. the device clock).
func sample(c netstack.Class) error {
	refused := &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	switch c {
	case netstack.ClassNameNotFound:
		return &netstack.DNSError{Name: "x", Code: netstack.EAINoName}
	case netstack.ClassConnRefused:
		return refused
	case netstack.ClassUnknownAuthority:
		return x509.UnknownAuthorityError{}
	case netstack.ClassHostNameMismatch:
		return x509.HostnameError{Host: "x"}
	case netstack.ClassNoCredentials:
		return fmt.Errorf("tag 7: %w", netstack.ErrNoCredentials)
	case netstack.ClassBadCredential:
		return fmt.Errorf("tag 7: %w", netstack.ErrBadCredential)
	case netstack.ClassConnackNotAuthorized:
		return &netstack.ConnackError{Code: 5}
	case netstack.ClassWebSocketUpgrade:
		return &netstack.WebSocketUpgradeError{Status: 400}
	case netstack.ClassRecordTooLarge:
		return fmt.Errorf("handshake: %w", &netstack.RecordTooLargeError{ContentType: 22, Length: 3000, Limit: 2048})
	case netstack.ClassPeerClosed:
		return &netstack.RenegotiationRefusedError{URL: "wss://h/$iothub/websocket"}
	}
	return &netstack.Error{Op: "test", Class: c}
}

// The numbers each firmware shows, row by row; the sources are in errmap.go.
func TestRows(t *testing.T) {
	type want struct {
		errno, mbed int
		flags       uint32
		eai         netstack.EAI
		connack     int
	}
	z := func(errno, mbed int, flags uint32) want { return want{errno: errno, mbed: mbed, flags: flags} }
	m := func(errno int) want { return want{errno: errno} }
	tests := map[errmap.Firmware]map[netstack.Class]want{
		errmap.ZephyrNative: {
			netstack.ClassNameNotFound:          {eai: -2},
			netstack.ClassNameTemporary:         {eai: -3},
			netstack.ClassConnRefused:           z(-111, 0, 0),
			netstack.ClassTimeout:               z(-116, 0, 0),
			netstack.ClassNetUnreachable:        z(-114, 0, 0),
			netstack.ClassHostUnreachable:       z(-118, 0, 0),
			netstack.ClassConnReset:             z(-104, 0, 0),
			netstack.ClassPeerClosed:            z(-113, -29312, 0), // -0x7280, FAILURE-CASES WS1
			netstack.ClassNoCredentials:         z(-2, 0, 0),        // W1
			netstack.ClassNoTrustAnchor:         z(-113, -0x7680, 0),
			netstack.ClassBadCredential:         z(-22, -0x21E2, 0), // W2
			netstack.ClassUnknownAuthority:      z(-113, -9984, 8),  // 0x2700, flags 8
			netstack.ClassCertExpired:           z(-113, -0x2700, 0x01),
			netstack.ClassCertNotYetValid:       z(-113, -0x2700, 0x0200),
			netstack.ClassHostNameMismatch:      z(-113, -0x2700, 0x04),
			netstack.ClassBadCertificate:        z(-113, -0x2700, 0x0100),
			netstack.ClassTLSAlert:              z(-113, -0x7780, 0),
			netstack.ClassTLSProtocol:           z(-113, -0x7200, 0),
			netstack.ClassWebSocketUpgrade:      z(-113, 0, 0),
			netstack.ClassRecordTooLarge:        z(-113, -0x7200, 0), // WS4
			netstack.ClassConnackProtocol:       {errno: -111, connack: 1},
			netstack.ClassConnackIdentifier:     {errno: -111, connack: 2},
			netstack.ClassConnackUnavailable:    {errno: -111, connack: 3},
			netstack.ClassConnackBadCredentials: {errno: -111, connack: 4},
			netstack.ClassConnackNotAuthorized:  {errno: -111, connack: 5}, // W3
			netstack.ClassCanceled:              z(-140, 0, 0),
			netstack.ClassOther:                 z(-5, 0, 0),
		},
		errmap.NRF91Modem: {
			netstack.ClassNameNotFound:          {eai: -2},
			netstack.ClassNameTemporary:         {eai: -3},
			netstack.ClassConnRefused:           m(-111),
			netstack.ClassTimeout:               m(-116),
			netstack.ClassNetUnreachable:        m(-114),
			netstack.ClassHostUnreachable:       m(-118),
			netstack.ClassConnReset:             m(-104),
			netstack.ClassPeerClosed:            m(-113),
			netstack.ClassNoCredentials:         m(-111),
			netstack.ClassNoTrustAnchor:         m(-111), // M3
			netstack.ClassBadCredential:         m(-111),
			netstack.ClassUnknownAuthority:      m(-111), // M1
			netstack.ClassCertExpired:           m(-111),
			netstack.ClassCertNotYetValid:       m(-111),
			netstack.ClassHostNameMismatch:      m(-111),
			netstack.ClassBadCertificate:        m(-111),
			netstack.ClassTLSAlert:              m(-111),
			netstack.ClassTLSProtocol:           m(-111),
			netstack.ClassWebSocketUpgrade:      m(-113),
			netstack.ClassRecordTooLarge:        m(-111),
			netstack.ClassConnackProtocol:       {errno: -111, connack: 1},
			netstack.ClassConnackIdentifier:     {errno: -111, connack: 2},
			netstack.ClassConnackUnavailable:    {errno: -111, connack: 3},
			netstack.ClassConnackBadCredentials: {errno: -111, connack: 4},
			netstack.ClassConnackNotAuthorized:  {errno: -111, connack: 5},
			netstack.ClassCanceled:              m(-140),
			netstack.ClassOther:                 m(-5),
		},
	}
	for fw, rows := range tests {
		require.Len(t, rows, len(netstack.Classes()), "%s: test covers every class", fw)
		for c, w := range rows {
			t.Run(string(fw)+"/"+c.String(), func(t *testing.T) {
				r := errmap.For(fw, sample(c))
				assert.Equal(t, c, r.Class)
				assert.Equal(t, w.errno, r.Errno, "errno")
				assert.Equal(t, w.mbed, r.MbedTLS, "mbedTLS code")
				assert.Equal(t, w.flags, r.VerifyFlags, "verify flags")
				assert.Equal(t, w.eai, r.EAI, "EAI")
				assert.Equal(t, w.connack, r.Connack, "CONNACK")
			})
		}
	}
}

func TestForNilAndUnknownFirmware(t *testing.T) {
	assert.Equal(t, errmap.Report{}, errmap.For(errmap.NRF91Modem, nil))
	r := errmap.For("no-such-firmware", x509.UnknownAuthorityError{})
	assert.Equal(t, errmap.Report{}, r, "an unknown firmware has no rows")
	_, ok := errmap.Lookup(errmap.ZephyrNative, netstack.ClassNone)
	assert.False(t, ok)
}
