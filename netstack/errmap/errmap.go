// Package errmap turns the device network stack's error classes
// (netstack.Class) into the numbers each firmware reports: the Zephyr errno
// a socket or mqtt_connect call returns, the getaddrinfo code, the mbedTLS
// code and verification flags a native TLS stack logs, the CONNACK code an
// MQTT event carries.
//
// DESIGN.md says each persona owns the table that turns typed errors into
// its firmware's numbers. The tables live here, keyed by firmware, so the
// personas that share a firmware (Serial Modem and the azure_iot_hub sample
// on the nRF91 both sit on the modem's offloaded sockets) share one table
// instead of copying it; a persona picks its Firmware.
//
// Every row names its source; [I] rows are inferred and are the ones to
// change when a real device shows otherwise.
package errmap

import (
	"github.com/modemsim/modemsim/netstack"
)

// Firmware names a TLS/socket implementation whose numbers a table holds.
type Firmware string

// Firmwares.
const (
	// ZephyrNative: Zephyr's own sockets with mbedTLS (sockets_tls.c), as on
	// the nRF7002 DK (Wi-Fi) running the NCS azure_iot_hub sample.
	ZephyrNative Firmware = "zephyr-mbedtls"
	// NRF91Modem: sockets offloaded to the nRF91 modem, whose TLS stack is
	// inside the modem firmware (Serial Modem, azure_iot_hub on nRF91).
	NRF91Modem Firmware = "nrf91-modem"
)

// Firmwares lists the tables.
func Firmwares() []Firmware { return []Firmware{ZephyrNative, NRF91Modem} }

// Report is what a firmware shows for one class of failure.
type Report struct {
	Class netstack.Class
	// Errno is the negative Zephyr errno returned by connect/mqtt_connect
	// (or, for CONNACK refusals, the MQTT_EVT_DISCONNECT result); 0 when
	// the failure is reported otherwise.
	Errno int
	// EAI is the getaddrinfo code for resolution failures.
	EAI netstack.EAI
	// MbedTLS is the mbedTLS code a native stack logs (0: none).
	MbedTLS int
	// VerifyFlags are the mbedTLS verification flags (0: none).
	VerifyFlags uint32
	// Connack is the CONNACK return code delivered in MQTT_EVT_CONNACK /
	// `#XMQTTEVT: 0,<n>` (0: not a CONNACK refusal).
	Connack int
	Source  string
}

// handshake is what Zephyr's native TLS returns for any handshake error
// other than a timeout: `NET_ERR("TLS handshake error: -0x%x")` then
// -ECONNABORTED [S zephyr subsys/net/lib/sockets/sockets_tls.c
// tls_mbedtls_handshake].
const handshake = -ECONNABORTED

// connackErrno: Zephyr's MQTT library disconnects with -ECONNREFUSED after a
// refused CONNACK (MQTT_EVT_DISCONNECT: result = -111) [T FAILURE-CASES W3;
// S zephyr subsys/net/lib/mqtt/mqtt_rx.c].
const connackErrno = -ECONNREFUSED

// modemTLS is what the nRF91 modem's offloaded connect returns when its
// TLS handshake fails: `mqtt_helper: mqtt_connect, error: -111` for a root
// that does not match the server chain [T DevZone 126485, 106640;
// FAILURE-CASES M1, M3]. Used for every local verification failure; for the
// ones no thread shows, inferred [I].
const modemTLS = -ECONNREFUSED

var tables = map[Firmware][]Report{
	ZephyrNative: {
		{Class: netstack.ClassNameNotFound, EAI: netstack.EAINoName, Source: "mqtt_helper `getaddrinfo() failed, error -2` [S/I nrf91.md §7]"},
		{Class: netstack.ClassNameTemporary, EAI: netstack.EAIAgain, Source: "zephyr DNS_EAI_AGAIN [I]"},
		{Class: netstack.ClassConnRefused, Errno: -ECONNREFUSED, Source: "zephyr errno.h [S]"},
		{Class: netstack.ClassTimeout, Errno: -ETIMEDOUT, Source: "zephyr errno.h; sockets_tls.c handshake timeout [S]"},
		{Class: netstack.ClassNetUnreachable, Errno: -ENETUNREACH, Source: "zephyr errno.h [S]"},
		{Class: netstack.ClassHostUnreachable, Errno: -EHOSTUNREACH, Source: "zephyr errno.h [S]"},
		{Class: netstack.ClassConnReset, Errno: -ECONNRESET, Source: "zephyr errno.h [S]"},
		{Class: netstack.ClassPeerClosed, Errno: handshake, MbedTLS: MbedTLSSSLConnEOF, Source: "sockets_tls.c [S]; -0x7280 FAILURE-CASES WS1 [T]"},
		{Class: netstack.ClassNoCredentials, Errno: -ENOENT, Source: "sockets_tls.c set_credentials: tag not found -ENOENT [S]; FAILURE-CASES W1 [T]"},
		{Class: netstack.ClassNoTrustAnchor, Errno: handshake, MbedTLS: MbedTLSSSLCAChainRequired, Source: "sockets_tls.c [S]; mbedTLS with no CA chain [I]"},
		{Class: netstack.ClassBadCredential, Errno: -EINVAL, MbedTLS: MbedTLSX509InvalidFormat + MbedTLSASN1UnexpectedTag, Source: "FAILURE-CASES W2 -22 [T]; a non-PEM buffer parsed as DER [S sockets_tls.c crt_is_pem], code [I]"},
		{Class: netstack.ClassUnknownAuthority, Errno: handshake, MbedTLS: MbedTLSX509CertVerifyFailed, VerifyFlags: BadCertNotTrusted, Source: "sockets_tls.c [S]; 0x2700 flags 8 [obs azure-iot-central-esp32-sample#5]"},
		{Class: netstack.ClassCertExpired, Errno: handshake, MbedTLS: MbedTLSX509CertVerifyFailed, VerifyFlags: BadCertExpired, Source: "sockets_tls.c [S]; mbedTLS checks every certificate's validity, the trusted root included [S x509_crt.c]"},
		{Class: netstack.ClassCertNotYetValid, Errno: handshake, MbedTLS: MbedTLSX509CertVerifyFailed, VerifyFlags: BadCertFuture, Source: "sockets_tls.c, x509_crt.c [S]"},
		{Class: netstack.ClassHostNameMismatch, Errno: handshake, MbedTLS: MbedTLSX509CertVerifyFailed, VerifyFlags: BadCertCNMismatch, Source: "sockets_tls.c sets the hostname (\"\" if unset) so the name is always checked [S]"},
		{Class: netstack.ClassBadCertificate, Errno: handshake, MbedTLS: MbedTLSX509CertVerifyFailed, VerifyFlags: BadCertOther, Source: "sockets_tls.c [S]; flag [I]"},
		{Class: netstack.ClassTLSAlert, Errno: handshake, MbedTLS: MbedTLSSSLFatalAlertMessage, Source: "sockets_tls.c, mbedTLS ssl_msg.c [S]"},
		{Class: netstack.ClassTLSProtocol, Errno: handshake, MbedTLS: MbedTLSSSLInvalidRecord, Source: "sockets_tls.c [S]; code [I]"},
		{Class: netstack.ClassWebSocketUpgrade, Errno: -ECONNABORTED, Source: "zephyr subsys/net/lib/websocket/websocket.c: handshake failed -ECONNABORTED [S]"},
		{Class: netstack.ClassRecordTooLarge, Errno: handshake, MbedTLS: MbedTLSSSLInvalidRecord, Source: "mbedTLS ssl_msg.c `bad message length` → MBEDTLS_ERR_SSL_INVALID_RECORD [S]; sockets_tls.c handshake error [S]; FAILURE-CASES WS4"},
		{Class: netstack.ClassConnackProtocol, Errno: connackErrno, Connack: 1, Source: "MQTT_EVT_CONNACK result [S zephyr mqtt]; FAILURE-CASES W3 [T]"},
		{Class: netstack.ClassConnackIdentifier, Errno: connackErrno, Connack: 2, Source: "as CONNACK 1"},
		{Class: netstack.ClassConnackUnavailable, Errno: connackErrno, Connack: 3, Source: "as CONNACK 1"},
		{Class: netstack.ClassConnackBadCredentials, Errno: connackErrno, Connack: 4, Source: "as CONNACK 1"},
		{Class: netstack.ClassConnackNotAuthorized, Errno: connackErrno, Connack: 5, Source: "`Connection was rejected with return code 5`, then -111 [T FAILURE-CASES W3]"},
		{Class: netstack.ClassCanceled, Errno: -ECANCELED, Source: "zephyr errno.h [S]; use [I]"},
		{Class: netstack.ClassOther, Errno: -EIO, Source: "[I]"},
	},
	NRF91Modem: {
		{Class: netstack.ClassNameNotFound, EAI: netstack.EAINoName, Source: "nrf91.md §7 [S/I]"},
		{Class: netstack.ClassNameTemporary, EAI: netstack.EAIAgain, Source: "[I]"},
		{Class: netstack.ClassConnRefused, Errno: -ECONNREFUSED, Source: "nrf_modem_os errno translation, zephyr errno.h [S]; `zsock_connect() error: -111` nrf91.md §7"},
		{Class: netstack.ClassTimeout, Errno: -ETIMEDOUT, Source: "NRF_ETIMEDOUT → ETIMEDOUT [S nrf_modem_os.c]"},
		{Class: netstack.ClassNetUnreachable, Errno: -ENETUNREACH, Source: "NRF_ENETUNREACH [S]"},
		{Class: netstack.ClassHostUnreachable, Errno: -EHOSTUNREACH, Source: "NRF_EHOSTUNREACH [S]"},
		{Class: netstack.ClassConnReset, Errno: -ECONNRESET, Source: "NRF_ECONNRESET [S]"},
		{Class: netstack.ClassPeerClosed, Errno: -ECONNABORTED, Source: "`ERROR: mqtt_connect -113` in SLM logs, nrf91.md §7 [T]; which failure it was [I]"},
		{Class: netstack.ClassNoCredentials, Errno: modemTLS, Source: "empty sec tag: the modem's handshake fails like M3 [I]"},
		{Class: netstack.ClassNoTrustAnchor, Errno: modemTLS, Source: "root written as type 1 → -111 [T FAILURE-CASES M3, DevZone 106640]"},
		{Class: netstack.ClassBadCredential, Errno: modemTLS, Source: "mfw ≥ 2.0 refuses non-certificates at %CMNG write (527); at connect [I]"},
		{Class: netstack.ClassUnknownAuthority, Errno: modemTLS, Source: "Baltimore only after the migration → -111 [T FAILURE-CASES M1]"},
		{Class: netstack.ClassCertExpired, Errno: modemTLS, Source: "[I] as M1"},
		{Class: netstack.ClassCertNotYetValid, Errno: modemTLS, Source: "[I] as M1"},
		{Class: netstack.ClassHostNameMismatch, Errno: modemTLS, Source: "[I] as M1"},
		{Class: netstack.ClassBadCertificate, Errno: modemTLS, Source: "[I] as M1"},
		{Class: netstack.ClassTLSAlert, Errno: modemTLS, Source: "[I] the modem reports a failed handshake as refused"},
		{Class: netstack.ClassTLSProtocol, Errno: modemTLS, Source: "[I]"},
		{Class: netstack.ClassWebSocketUpgrade, Errno: -ECONNABORTED, Source: "Zephyr websocket library over the offloaded socket [S websocket.c]"},
		{Class: netstack.ClassRecordTooLarge, Errno: modemTLS, Source: "[I] the modem's TLS buffer; reported as a failed handshake"},
		{Class: netstack.ClassConnackProtocol, Errno: connackErrno, Connack: 1, Source: "Zephyr MQTT library on the modem socket [S]; #XMQTTEVT: 0,<code> [I nrf91.md §7]"},
		{Class: netstack.ClassConnackIdentifier, Errno: connackErrno, Connack: 2, Source: "as CONNACK 1"},
		{Class: netstack.ClassConnackUnavailable, Errno: connackErrno, Connack: 3, Source: "as CONNACK 1"},
		{Class: netstack.ClassConnackBadCredentials, Errno: connackErrno, Connack: 4, Source: "as CONNACK 1"},
		{Class: netstack.ClassConnackNotAuthorized, Errno: connackErrno, Connack: 5, Source: "as CONNACK 1; FAILURE-CASES D1 `rejected with return code 5` [T]"},
		{Class: netstack.ClassCanceled, Errno: -ECANCELED, Source: "[I]"},
		{Class: netstack.ClassOther, Errno: -EIO, Source: "[I]"},
	},
}

// Lookup returns firmware fw's report for class c.
func Lookup(fw Firmware, c netstack.Class) (Report, bool) {
	for _, r := range tables[fw] {
		if r.Class == c {
			return r, true
		}
	}
	return Report{}, false
}

// For classifies err (by type) and returns what fw reports for it; an
// unknown firmware or class gives the ClassOther row, nil gives a zero Report.
func For(fw Firmware, err error) Report {
	c := netstack.Classify(err)
	if c == netstack.ClassNone {
		return Report{}
	}
	if r, ok := Lookup(fw, c); ok {
		return r
	}
	r, _ := Lookup(fw, netstack.ClassOther)
	return r
}

// Rows returns fw's table.
func Rows(fw Firmware) []Report { return append([]Report(nil), tables[fw]...) }
