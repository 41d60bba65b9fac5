package hub

import (
	"log/slog"
	"sync"
	"time"
)

// Check names the test that refused (or closed) a connection. The real hub
// only answers CONNACK 5 or closes the socket; the emulator records why
// (DESIGN.md "Diagnostics beyond the real thing").
type Check string

// Checks recorded in Reason.Check.
const (
	CheckProtocolVersion   Check = "protocol-version"
	CheckUsername          Check = "username"
	CheckHostName          Check = "username-host"
	CheckClientID          Check = "client-id"
	CheckModule            Check = "module-identity"
	CheckDeviceNotFound    Check = "device-not-found"
	CheckDeviceDisabled    Check = "device-disabled"
	CheckAuthMethod        Check = "auth-method"
	CheckSASMalformed      Check = "sas-malformed"
	CheckSASResource       Check = "sas-resource"
	CheckSASExpired        Check = "sas-expired"
	CheckSASSignature      Check = "sas-signature"
	CheckSASPolicy         Check = "sas-policy"
	CheckX509NoCert        Check = "x509-no-client-cert"
	CheckX509Thumbprint    Check = "x509-thumbprint"
	CheckX509Chain         Check = "x509-chain"
	CheckX509CAUnverified  Check = "x509-ca-unverified"
	CheckX509CommonName    Check = "x509-common-name"
	CheckRenegotiation     Check = "tls-renegotiation"
	CheckProtocolViolation Check = "protocol-violation"
	CheckTokenExpiredLive  Check = "sas-expired-while-connected"
	CheckTakenOver         Check = "duplicate-connection"
	CheckDisabledLive      Check = "device-disabled-while-connected"
	CheckDeletedLive       Check = "device-deleted-while-connected"
	CheckKeepAlive         Check = "keep-alive-expired"
	// CheckUndeliverable is not a refusal: an answer was dropped because the
	// device had not subscribed to its response topic (its request times out).
	CheckUndeliverable Check = "response-undeliverable"
	// CheckTwinPatch: a reported-properties patch that is not a JSON object (400).
	CheckTwinPatch Check = "twin-patch-malformed"
	CheckThrottled Check = "throttled"
)

// Reason is a structured explanation of one refusal or forced close.
type Reason struct {
	Time     time.Time         `json:"time"`
	Service  string            `json:"service"`
	DeviceID string            `json:"deviceId,omitempty"`
	Check    Check             `json:"check"`
	Detail   string            `json:"detail"`
	Values   map[string]string `json:"values,omitempty"`
}

// Outcome of a connection attempt.
type Outcome string

// Outcomes recorded in Attempt.Outcome.
const (
	OutcomeAccepted Outcome = "accepted"
	OutcomeRefused  Outcome = "refused"
	OutcomeClosed   Outcome = "closed"
)

// Attempt is one connection attempt (or a forced close of an accepted one).
type Attempt struct {
	Time     time.Time `json:"time"`
	Remote   string    `json:"remote"`
	Listener string    `json:"listener"`
	ClientID string    `json:"clientId"`
	DeviceID string    `json:"deviceId,omitempty"`
	Auth     string    `json:"auth,omitempty"`
	Outcome  Outcome   `json:"outcome"`
	// ConnackCode is the CONNACK return code sent; -1 when the socket was closed without one.
	ConnackCode int     `json:"connackCode"`
	Reason      *Reason `json:"reason,omitempty"`
	// TLS is what was known below MQTT (SNI, WebSocket request, client certificate).
	TLS *TLSContext `json:"tls,omitempty"`
}

// ring is a bounded FIFO list: a circular buffer, so adding to a full one
// (every telemetry message once the retention is full) costs no copy.
type ring[T any] struct {
	mu    sync.Mutex
	items []T
	next  int // where the next item goes once len(items) == max
	max   int
}

func (r *ring[T]) add(v T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.items) < r.max {
		r.items = append(r.items, v)
		return
	}
	r.items[r.next] = v
	r.next = (r.next + 1) % r.max
}

// list returns the items oldest first.
func (r *ring[T]) list() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]T, 0, len(r.items))
	out = append(out, r.items[r.next:]...)
	return append(out, r.items[:r.next]...)
}

// recorder keeps reasons and attempts and forwards reasons to a sink.
type recorder struct {
	log      *slog.Logger
	sink     func(Reason)
	reasons  ring[Reason]
	attempts ring[Attempt]
	// onChange, if set, is told after every addition (records.go persists).
	onChange func()
}

func newRecorder(log *slog.Logger, sink func(Reason), max int) *recorder {
	return &recorder{log: log, sink: sink, reasons: ring[Reason]{max: max}, attempts: ring[Attempt]{max: max}}
}

func (r *recorder) reason(rs Reason) {
	attrs := []any{"service", rs.Service, "device", rs.DeviceID, "check", rs.Check, "detail", rs.Detail}
	for k, v := range rs.Values {
		attrs = append(attrs, slog.String("value."+k, v))
	}
	r.log.Warn("hub: check failed", attrs...)
	r.reasons.add(rs)
	if r.sink != nil {
		r.sink(rs)
	}
	if r.onChange != nil {
		r.onChange()
	}
}

func (r *recorder) attempt(a Attempt) {
	r.attempts.add(a)
	if r.onChange != nil {
		r.onChange()
	}
}
