// Package hub emulates Azure IoT Hub (and fronts the DPS service of package
// dps) for unmodified device clients: MQTT 3.1.1 over TLS and over
// WebSockets/TLS, SAS and X.509 authentication, telemetry, device twin,
// direct methods and cloud-to-device messages, with a recorded Reason for
// every refusal. The specification is /work/shared/protocols/azure-iot-hub.md
// (§1 hub over MQTT, §3 TLS, §5 building blocks, §6 checklist, §7 failures).
//
// Structure: Service is the hub proper (a mochi-mqtt server with one hook,
// the registry and CA store persisted as JSON, and the admin API). Emulator
// composes the stand-in PKI (package pki), the Service, the DPS service and
// the network front: an MQTT/TLS listener and a WebSocket/TLS listener
// (package hub/wsconn); the TLS SNI decides between hub and DPS.
//
// What a device observes is what the real hub does: every authentication
// failure is CONNACK 5 (3 for a disabled device as an option), protocol
// violations close the socket without any MQTT packet (policed in mochi's
// OnPacketRead), hub→device publishes go to exactly one connection.
//
// Deviations, stated plainly:
//
//   - TLS renegotiation (forum case WS1). On port 443 the real hub does not
//     ask for a client certificate in the first handshake; unless the
//     request carries `?iothub-no-client-cert=true` it renegotiates after the
//     WebSocket request to ask for one, and a client built without
//     renegotiation support is disconnected. Go's crypto/tls cannot
//     renegotiate as a server, and the server cannot know whether a client
//     would have answered a renegotiation. The emulator asks for the client
//     certificate in the first handshake on every listener (the certificate
//     a renegotiating client ends up sending) and by default accepts a
//     request without the parameter, as the real hub does from a client
//     that can renegotiate (the Node SDK over OpenSSL never sends it). WS1
//     belongs to the device: a simulated device whose TLS stack cannot
//     renegotiate fails its own connection when WebSocketRenegotiates says
//     the hub would renegotiate. WithRenegotiationGate(true) (`modemsim hub
//     --renegotiation-gate`) is the strict server-side model instead: it
//     drops, before answering the upgrade, a request that lacks the
//     parameter from a client that sent no certificate (and records the
//     reason), which also drops clients that could have renegotiated.
//   - Shared ports. The real hub and DPS have their own addresses; here the
//     TLS SNI picks the service, and a connection without a service name
//     in its SNI (none, or an IP) goes where its CONNECT user name points
//     (reason routed-to-dps-by-username). The WebSocket port also serves
//     plain HTTPS for the service REST API (ServeHTTPS, package serviceapi).
//   - State kept across restarts: registry and CA store, the pending C2D
//     queue with its expiry (c2d.json), and the recent attempts and reasons
//     (records.json, written at most once a second); recent telemetry is
//     kept in memory only (TelemetrySince).
//   - Sessions: CleanSession=0 keeps the device's subscriptions across
//     reconnects (and the C2D queue always persists, it is cloud side), but
//     CONNACK's session-present flag is always 0.
//   - Module identities (`deviceId/moduleId`) are refused with a reason;
//     only device identities are emulated.
//   - Fault switches (checklist item 13): CONNACK 3 for disabled devices,
//     twin throttling with 429 (WithTwinRateLimit), DPS throttling with 429
//     and retry-after (dps.WithRegistrationRateLimit through
//     WithDPSOptions), legacy cipher suites and TLS 1.3. Early token expiry
//     is a SAS token with an earlier `se`; mid-flow drops are disabling or
//     deleting the device. The real quotas depend on tier and units, so the
//     limits are the user's to choose.
//   - Connections that never authenticate: the real service closes them
//     but documents no timing. Every accepted connection must deliver its
//     CONNECT within WithConnectTimeout of the TCP accept (default 30 s,
//     TLS handshake and WebSocket upgrade included), and at most
//     WithMaxPendingConnections (default 512) may be waiting; both are
//     recorded (CheckConnectTimeout, CheckTooManyPending).
//   - Facts marked [inf] in the notes (the hub migration default date, the
//     keep-alive value used for 0, closing on >256 KB telemetry) are
//     configurable or documented next to their constant in facts.go.
package hub
