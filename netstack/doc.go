// Package netstack is a simulated device's view of the network, shared by
// every persona that connects (Serial Modem, the azure_iot_hub sample,
// SPWF04, nRF7002): name resolution, a TLS client built from the device's
// sec tags, MQTT 3.1.1 over TLS and over WebSockets, and typed errors.
//
// It sits on the device side (DESIGN.md "netstack sits on the device side"):
// the board injects a Stack built from its credential store and clock; the
// stack imports credstore, pki (for the real-root mapping) and modemkey,
// never the hub. Package errmap turns its error classes into each
// firmware's numbers.
//
//	persona ──▶ Stack.MQTTConnect / Stack.DialTLS
//	              │ Resolver.Route: *.azure-devices.net → emulator listener
//	              │ NewClientTLS: sec tags → anchors (mapped), client chain, signer
//	              ▼ real TLS over loopback
//	           hub emulator (or, opt-in, a real IoT Hub)
//
// # Names
//
// An EmulatorResolver answers `*.azure-devices.net`,
// `global.azure-devices-provisioning.net` and any configured name with the
// emulator's listener for the logical port (8883 MQTT/TLS, 443 WebSocket/TLS);
// other ports of a known name are refused, unknown names fail with
// EAI_NONAME (a *DNSError carrying Zephyr's getaddrinfo code).
//
// # TLS
//
// For each connection the stack reads the sec tags (primary first): every
// certificate of the CA type is a trust anchor (a slot may hold several),
// the first tag holding a certificate and a key gives the client
// certificate, sent with the rest of its slot as the chain, and the key is
// used only through a crypto.Signer (an opaque wrapper, or the source's own
// signer when it implements SignerSource), so its bytes never reach the
// TLS library or a log line. Peer verification follows TLSConfig.PeerVerify:
// required uses Go's verification (RootCAs = the anchors, ServerName =
// TLS_HOSTNAME or the dialed host, Time = the device clock); optional and
// none are the two places the firmware itself does not enforce the check,
// and only there is Go's check switched off (optional re-runs it in
// VerifyConnection and records the result).
//
// With WithTrustMapper (NewEmulated does it) a stored real public root
// (recognised by its SHA-256 fingerprint, pki.LookupRealRoot) is replaced by
// the emulator's stand-in of the same name, reported through
// WithRootMappingHook and the logger; an unknown or wrong root stays as it
// is and fails. Validity is checked at the device clock: the real Baltimore
// CyberTrust Root expired on 12 May 2025 and a device on a later date fails
// with ClassCertExpired, the error (*ExpiredAnchorError) naming the anchor,
// its dates and the device time.
//
// # Limits of the device's TLS stack
//
// TLSConfig.MaxIncomingRecord is mbedTLS's incoming record buffer
// (CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN): crypto/tls accepts any record up to
// 16 KiB, so a RecordInspector reads the record headers on the raw
// connection under it and fails a longer record with *RecordTooLargeError
// (ClassRecordTooLarge, FAILURE-CASES WS4; the emulator's Certificate
// record is 3047 bytes, measured by TestRecordLimitAgainstTheHub).
// WithRenegotiationModel says when the service renegotiates after a
// WebSocket request; a device without renegotiation support then fails
// with *RenegotiationRefusedError (ClassPeerClosed, WS1).
// WithMbedTLSCredentials reads the slots as Zephyr's native sockets hand
// them to mbedTLS: PEM only when the buffer ends in NUL (and, for
// certificates, holds `-----BEGIN CERTIFICATE-----`), DER otherwise; a
// slot that does not parse is a *CredentialError naming it.
//
// # MQTT
//
// MQTTConnect makes the TLS connection (and, for TransportWebSocket, the
// upgrade to `wss://host/$iothub/websocket` with subprotocol mqtt), then
// hands it to paho.mqtt.golang through its custom-connection hook with
// protocol level 4, no reconnects and no 3.1 fallback. Publish, Subscribe,
// Unsubscribe wait for their acknowledgements; incoming messages go to
// MQTTOptions.OnMessage in order. A CONNACK refusal is a *ConnackError.
// paho hides the individual QoS 2 handshake packets (PUBREC/PUBREL/PUBCOMP);
// a persona that prints them emits them when Publish returns (the hub
// closes QoS 2 connections anyway, azure-iot-hub.md §1.6).
//
// # Errors
//
// Every failure is an *Error with Op, Host and a Class decided from Go
// error types by one table (ClassRules): x509, crypto/tls, net/syscall,
// DNS, WebSocket upgrade, CONNACK. Classify works on any error.
//
// # Faults (load runs)
//
// WithNetFaults puts a loopback relay of its own under every connection
// the stack opens: it delays each chunk by a latency in each direction,
// cuts chosen connections after a number of bytes, and refuses the
// connections the device has no network for (a lost registration). TLS
// stays end to end. `modemsim load` draws the choices from a seed.
//
// # A real IoT Hub (opt-in)
//
// NewRealHub uses real DNS and the stored roots as they are (no mapping),
// so the same board can talk to a real hub. Set TLSConfig.Renegotiation to
// tls.RenegotiateOnceAsClient for port 443 without `iothub-no-client-cert`.
// It is unit-tested only: the tests check the configuration it builds and
// that names go to DNS; they never dial the internet.
//
// Inferred, and therefore settings or documented: TLS 1.2 as the device's
// maximum (TLSConfig.MaxVersion), the dialed host as TLS_HOSTNAME when
// none is set, the connect timeout (WithConnectTimeout), and the errmap
// rows marked [I]. Credentials are read before the TCP connection is made;
// Zephyr connects first and fails in the handshake setup, so the hub sees
// no connection attempt for a device whose sec tag is empty.
package netstack
