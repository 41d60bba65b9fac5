package hub

import (
	"io"
	"log/slog"
	"time"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
)

// Option configures the Emulator (and NewService).
type Option func(*config)

type config struct {
	hostName     string
	log          *slog.Logger
	clock        func() time.Time
	skew         time.Duration
	disabledCode int
	reasonSink   func(Reason)
	telemetry    func(Message)
	maxRecords   int

	// network front
	mqttAddr, wsAddr  string
	tls13             bool
	legacyCiphers     bool
	hubRoot, dpsRoot  pki.RootName
	hubMigration      time.Time
	pki               *pki.PKI
	extraHosts        []string
	renegotiationGate bool
	handshakeTimeout  time.Duration
	connectTimeout    time.Duration
	maxPending        int
	dpsOpts           []dps.Option

	// c2dTTL is how long a C2D message waits for its device (WithC2DTTL).
	c2dTTL time.Duration
	// telemetryRetention is how many recent messages are kept.
	telemetryRetention int

	// fault switches
	twinLimit  int
	twinWindow time.Duration
}

func newConfig(opts []Option) *config {
	c := &config{
		hostName:           DefaultHostName,
		log:                slog.New(slog.NewTextHandler(io.Discard, nil)),
		clock:              time.Now,
		skew:               DefaultSASSkew,
		disabledCode:       5,
		maxRecords:         256,
		mqttAddr:           "127.0.0.1:8883",
		wsAddr:             "127.0.0.1:443",
		hubMigration:       DefaultHubMigrationDate,
		renegotiationGate:  false,
		handshakeTimeout:   10 * time.Second,
		connectTimeout:     DefaultConnectTimeout,
		maxPending:         DefaultMaxPendingConnections,
		c2dTTL:             DefaultC2DTTL,
		telemetryRetention: DefaultTelemetryRetention,
	}
	for _, o := range opts {
		o(c)
	}
	return c
}

// WithTwinRateLimit answers device twin requests (GET and reported
// PATCH, all devices together) beyond limit per window with status 429, as
// a throttled hub does (§1.6, §7 "Throttled twin op" [doc D-MQTT, D-QUOTA]).
// The real quota depends on the hub's tier and units; 0 means unlimited
// (the default).
func WithTwinRateLimit(limit int, window time.Duration) Option {
	return func(c *config) { c.twinLimit, c.twinWindow = limit, window }
}

// WithHostName sets the hub host name (default DefaultHostName).
func WithHostName(h string) Option { return func(c *config) { c.hostName = h } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithClock sets the simulation clock used for SAS expiry, certificate
// validity and the root-migration choice.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithSASSkew sets the tolerated SAS clock skew (default 5 min, §1.3).
func WithSASSkew(d time.Duration) Option { return func(c *config) { c.skew = d } }

// WithDisabledConnackCode selects the CONNACK code for a disabled device:
// 5 (default) or 3 (§1.5: sources disagree [I]).
func WithDisabledConnackCode(code int) Option {
	return func(c *config) {
		if code == 3 || code == 5 {
			c.disabledCode = code
		}
	}
}

// WithReasonSink receives every refusal/close reason as it is recorded.
func WithReasonSink(f func(Reason)) Option { return func(c *config) { c.reasonSink = f } }

// WithTelemetryHandler receives every device-to-cloud message (synchronously,
// on the device's read goroutine: keep it quick).
func WithTelemetryHandler(f func(Message)) Option { return func(c *config) { c.telemetry = f } }

// WithMaxRecords bounds the in-memory reason and attempt lists (default 256).
func WithMaxRecords(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.maxRecords = n
		}
	}
}

// WithMQTTAddr sets the MQTT/TLS listen address (real service: port 8883);
// "" disables the listener.
func WithMQTTAddr(a string) Option { return func(c *config) { c.mqttAddr = a } }

// WithWebSocketAddr sets the MQTT-over-WebSockets/TLS listen address (real
// service: port 443); "" disables the listener.
func WithWebSocketAddr(a string) Option { return func(c *config) { c.wsAddr = a } }

// WithTLS13 allows TLS 1.3 (opt-in; classic hub names are TLS ≤1.2, §3.1).
func WithTLS13(on bool) Option { return func(c *config) { c.tls13 = on } }

// WithLegacyCipherSuites adds the pre-2025 (unenforced hub) RSA-kex and
// CBC-SHA suites that Go implements (§3.2 [doc D-TLS21]).
func WithLegacyCipherSuites(on bool) Option { return func(c *config) { c.legacyCiphers = on } }

// WithRoot pins the hub's server chain to a root instead of choosing it
// by the simulation date (e.g. a hub migrated early or reverted, §3.3).
func WithRoot(r pki.RootName) Option { return func(c *config) { c.hubRoot = r } }

// WithDPSRoot pins the DPS server chain root.
func WithDPSRoot(r pki.RootName) Option { return func(c *config) { c.dpsRoot = r } }

// WithHubMigrationDate sets the date from which the hub serves the DigiCert
// Global Root G2 chain (default DefaultHubMigrationDate [I]: regions moved
// between 2023-02-15 and 2023-10-15).
func WithHubMigrationDate(t time.Time) Option { return func(c *config) { c.hubMigration = t } }

// WithPKI shares an already loaded PKI (otherwise <dir>/pki is used).
func WithPKI(p *pki.PKI) Option { return func(c *config) { c.pki = p } }

// WithExtraHosts adds names/IPs to the server certificates' SANs.
func WithExtraHosts(h ...string) Option {
	return func(c *config) { c.extraHosts = append(c.extraHosts, h...) }
}

// WithRenegotiationGate turns the strict server-side WS1 model on or off
// (default off). On: on the WebSocket listener a request without
// `iothub-no-client-cert=true` from a client that sent no certificate in the
// first handshake is dropped, as the real hub's renegotiation drops a client
// that cannot renegotiate — but so is every client that could have
// renegotiated (the Node and C SDKs over OpenSSL), which the real hub
// accepts. Off (the default) accepts what the real hub accepts from a
// client that can renegotiate; a device model whose TLS stack cannot
// renegotiate reproduces WS1 itself with WebSocketRenegotiates. See the
// package documentation.
func WithRenegotiationGate(on bool) Option { return func(c *config) { c.renegotiationGate = on } }

// WithConnectTimeout sets how long an accepted connection may take to
// deliver its CONNECT, counted from the TCP accept (TLS handshake and
// WebSocket upgrade included; default DefaultConnectTimeout). A connection
// that misses it is closed and recorded with CheckConnectTimeout.
func WithConnectTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.connectTimeout = d
		}
	}
}

// WithMaxPendingConnections bounds the connections, on all listeners
// together, that have not sent CONNECT yet (default
// DefaultMaxPendingConnections; 0 means no bound). Beyond it a new
// connection is closed at accept and recorded with CheckTooManyPending.
func WithMaxPendingConnections(n int) Option {
	return func(c *config) {
		if n >= 0 {
			c.maxPending = n
		}
	}
}
