package netstack

import (
	"crypto/x509"
	"log/slog"
	"net"
	"net/url"
	"time"

	"github.com/modemsim/modemsim/pki"
)

// TrustMapper replaces real public roots by the emulator's stand-ins
// (*pki.PKI implements it, DESIGN.md "Real roots vs stand-ins").
type TrustMapper interface {
	MapTrustAnchors(anchors []*x509.Certificate) ([]*x509.Certificate, []pki.Substitution, error)
}

// Stack is one device's network: its resolver, its credential storage and
// its clock. It is safe for concurrent use; every connection reads the
// credentials afresh, as the firmware loads a sec tag at connect time.
type Stack struct {
	resolver Resolver
	creds    CredentialSource
	types    SlotTypes
	trust    TrustMapper
	clock    func() time.Time
	log      *slog.Logger
	onMapped func(RootMapping)
	timeout  time.Duration
	// renegotiates says when the peer would renegotiate after a WebSocket
	// request (WithRenegotiationModel).
	renegotiates func(*url.URL) bool
	// mbedtls reads credentials by mbedTLS's rules (WithMbedTLSCredentials).
	mbedtls bool
}

// Option configures a Stack.
type Option func(*Stack)

// WithClock sets the device clock used to check certificate validity
// (default time.Now). The device checks dates as the firmware does: a
// certificate outside its window at this time fails.
func WithClock(now func() time.Time) Option {
	return func(s *Stack) {
		if now != nil {
			s.clock = now
		}
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(s *Stack) {
		if l != nil {
			s.log = l
		}
	}
}

// WithTrustMapper turns on the real-root mapping: a stored real public root
// (recognised by fingerprint) is replaced by the stand-in of the same name.
// Without it stored roots are used as they are, which is right for a real
// hub and makes a real root fail against the emulator.
func WithTrustMapper(m TrustMapper) Option { return func(s *Stack) { s.trust = m } }

// WithRootMappingHook is called for every substitution the mapping makes, so
// the board can show it in the transcript.
func WithRootMappingHook(f func(RootMapping)) Option { return func(s *Stack) { s.onMapped = f } }

// WithSlotTypes sets the credential type numbering (default ModemSlotTypes()).
func WithSlotTypes(t SlotTypes) Option { return func(s *Stack) { s.types = t } }

// WithRenegotiationModel tells the stack when the service it talks to
// renegotiates TLS after a WebSocket request to ask for the client
// certificate (the real hub on port 443 without `iothub-no-client-cert=true`,
// hub.WebSocketRenegotiates). The emulator cannot renegotiate (Go servers
// cannot), so a device whose TLS stack does not support renegotiation
// (TLSConfig.Renegotiation == tls.RenegotiateNever) fails there itself with
// a *RenegotiationRefusedError, as it would against the real hub
// (FAILURE-CASES WS1). Nil (the default): no renegotiation is modelled.
func WithRenegotiationModel(f func(*url.URL) bool) Option {
	return func(s *Stack) { s.renegotiates = f }
}

// WithConnectTimeout bounds TCP connect and TLS handshake when the caller's
// context has no earlier deadline (default 30 s [I]: the firmware's own
// socket timeouts vary by build).
func WithConnectTimeout(d time.Duration) Option {
	return func(s *Stack) {
		if d > 0 {
			s.timeout = d
		}
	}
}

// New returns the stack of one device.
func New(r Resolver, creds CredentialSource, opts ...Option) *Stack {
	s := &Stack{
		resolver: r,
		creds:    creds,
		types:    ModemSlotTypes(),
		clock:    time.Now,
		log:      slog.New(slog.DiscardHandler),
		timeout:  30 * time.Second,
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// NewEmulated returns a stack whose Azure names resolve to the emulator at
// ep and whose real public roots map to the stand-ins of p. This is the
// default setup of a simulated board.
func NewEmulated(ep Endpoint, p TrustMapper, creds CredentialSource, opts ...Option) *Stack {
	return New(NewEmulatorResolver(ep), creds, append([]Option{WithTrustMapper(p)}, opts...)...)
}

// NewRealHub returns a stack for a real IoT Hub: real DNS (net.DefaultResolver
// unless r is given), the stored roots as they are, no mapping. Opt-in; the
// emulator never needs it. Pass renegotiation support in TLSConfig when using
// port 443 without `iothub-no-client-cert` (azure-iot-hub.md §3.4).
func NewRealHub(r *net.Resolver, creds CredentialSource, opts ...Option) *Stack {
	return New(SystemResolver{Resolver: r}, creds, opts...)
}

// Resolver returns the stack's resolver.
func (s *Stack) Resolver() Resolver { return s.resolver }

// Now is the device clock.
func (s *Stack) Now() time.Time { return s.clock() }
