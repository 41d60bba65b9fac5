// Package dps emulates the Azure IoT Hub Device Provisioning Service over
// MQTT 3.1.1: CONNECT authentication (X.509 or SAS), the register /
// operation-status flow, individual and group enrollments, the DPS
// certificate store with proof of possession, and a Reason for every refusal.
//
// The wire behaviour follows /work/shared/protocols/azure-iot-hub.md §2.
//
// Wiring: New returns a running Service; Service.Server is a mochi-mqtt
// server with this package's hook and no listeners. The network front
// accepts TLS (tls.Config{ClientAuth: tls.RequestClientCert}: chain verdicts
// belong to DPS, not to the handshake) and calls
//
//	svc.Server().EstablishConnection(listenerID, conn)
//
// with the handshaken *tls.Conn, or with any net.Conn that also has
// ConnectionState() tls.ConnectionState (a WebSocket wrapper), so that X.509
// devices can be attested. The package does not import the hub: it reaches it
// through Assigner. Admin operations (enrollments, certificate store,
// registrations) are methods on Service; state is persisted in dir/dps.json.
//
// How refusals reach the device is configurable where the notes are unsure:
// WithX509Rejection (default CONNACK 5, see DefaultX509Rejection) and
// WithSASRejection (default res/401 with 401000). Every refusal is a Reason
// (WithReasonSink and the slog logger).
package dps

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/quota"
	"github.com/modemsim/modemsim/sas"
)

// Assigner is implemented by the IoT hub.
type Assigner interface {
	// AssignDevice creates or updates the device in the IoT hub registry and
	// returns the hub host name.
	AssignDevice(ctx context.Context, d AssignedDevice) (hubHost string, err error)
}

// AssignedDevice is the hub identity DPS creates for a registration.
type AssignedDevice struct {
	DeviceID string
	// SymmetricKey is the device key (derived for groups); nil for X.509.
	SymmetricKey []byte
	// X509ThumbprintSHA256 is the upper-case hex SHA-256 of the leaf DER: a
	// CA-signed device becomes a thumbprint device in the hub (§2.3 [obs SO 77836421]).
	X509ThumbprintSHA256 string
	// X509CAChain is true when the device was admitted by an X.509 group.
	X509CAChain bool
	// RegistrationID and EnrollmentGroupID say where the device came from.
	RegistrationID    string
	EnrollmentGroupID string
}

// Rejection says how an authentication failure reaches the device.
type Rejection int

const (
	// RejectConnack answers CONNECT with CONNACK 5 (not authorized) and closes the socket.
	RejectConnack Rejection = iota + 1
	// RejectRegister401 accepts CONNECT (CONNACK 0) and answers the register
	// request with `res/401/?$rid=…` and an error body.
	RejectRegister401
)

func (r Rejection) String() string {
	switch r {
	case RejectConnack:
		return "connack5"
	case RejectRegister401:
		return "register401"
	}
	return fmt.Sprintf("Rejection(%d)", int(r))
}

// Defaults.
const (
	// DefaultIDScope is a scope in the real format (the Nordic and SDK samples use 0ne…) [inf].
	DefaultIDScope = "0ne00000000"
	// DefaultRetryAfter is what DPS puts in `retry-after` (§2.2 [src S-PROV example flow]).
	DefaultRetryAfter = 3 * time.Second
	// DefaultAssigningPolls is how many operation-status polls answer 202
	// "assigning" before the final 200. The real service takes about as long
	// as one retry-after to assign [inf]; configurable with WithAssigningPolls.
	DefaultAssigningPolls = 1
	// DefaultX509Rejection is CONNACK 5: it is what the nRF91 library saw from
	// DPS in forum case D1 for every cause listed there (CA never verified,
	// CN ≠ registration ID, group bound to another CA) [obs FAILURE-CASES D1],
	// and D1 is the case this emulator replays. The SDK comment and issues in
	// §2.4 show `res/401` with errorCode 401002 instead [src S-PROV; obs]:
	// choose it with WithX509Rejection(RejectRegister401).
	DefaultX509Rejection = RejectConnack
	// DefaultSASRejection is the 401 publish: §2.4 says whether a bad DPS SAS
	// yields CONNACK 5 or a 401 publish is unverified, default 401 [inf].
	DefaultSASRejection = RejectRegister401
	// assignTimeout bounds one Assigner call.
	assignTimeout = 30 * time.Second
)

// timeFormat is the DPS timestamp format: UTC with 7 fractional digits
// (e.g. "2019-03-01T19:37:44.6532021Z" [doc P-REST examples]).
const timeFormat = "2006-01-02T15:04:05.0000000Z"

// Error codes and messages sent to devices (§2.4).
const (
	errCodeInvalidCertificate = 401002 // "Invalid certificate." [src S-PROV comment; obs]
	errMsgInvalidCertificate  = "Invalid certificate."
	errCodeUnauthorized       = 401000 // "Unauthorized" [obs azure-iot-sdk-node#869]
	errMsgUnauthorized        = "Unauthorized"
	errCodeBadRequest         = 400000 // [inf: class 400, §2.4 lists 400 for bad body]
	errCodeNotFound           = 404000 // [inf: class 404, §2.4]
	errCodeAssignFailed       = 500000 // [inf: class 500, §2.4]
	errCodeThrottled          = 429001 // [inf: class 429, §2.4 "throttled | 429 + retry-after"]
	errMsgThrottled           = "Operations are being throttled for this tenant."
)

// Registration statuses (§2.2 [src S-PROV, S-CS]).
const (
	statusAssigning = "assigning"
	statusAssigned  = "assigned"
	statusFailed    = "failed"
	statusDisabled  = "disabled"
	// substatusInitial is the substatus of a first assignment (§2.2 [src S-PROV example]).
	substatusInitial = "initialAssignment"
)

type options struct {
	logger         *slog.Logger
	clock          func() time.Time
	idScope        string
	reasonSink     func(Reason)
	x509Rejection  Rejection
	sasRejection   Rejection
	assigningPolls int
	retryAfter     time.Duration
	skew           time.Duration
	rand           io.Reader
	regLimit       int
	regWindow      time.Duration
}

// Option configures a Service.
type Option func(*options)

// WithRegistrationRateLimit answers register and operation-status requests
// (all devices together) beyond limit per window with `res/429` and a
// retry-after, as a throttled DPS does (§2.4 [doc P-ERR]). The real limits
// depend on the service's units; 0 means unlimited (the default).
func WithRegistrationRateLimit(limit int, window time.Duration) Option {
	return func(o *options) { o.regLimit, o.regWindow = limit, window }
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithClock sets the simulation clock used for certificate validity, SAS
// expiry and timestamps (default time.Now).
func WithClock(now func() time.Time) Option { return func(o *options) { o.clock = now } }

// WithIDScope sets the ID scope devices must name (default DefaultIDScope).
func WithIDScope(scope string) Option { return func(o *options) { o.idScope = scope } }

// WithReasonSink receives every refusal.
func WithReasonSink(f func(Reason)) Option { return func(o *options) { o.reasonSink = f } }

// WithX509Rejection chooses how X.509 attestation failures reach the device
// (default DefaultX509Rejection; see there why).
func WithX509Rejection(r Rejection) Option { return func(o *options) { o.x509Rejection = r } }

// WithSASRejection chooses how SAS failures reach the device (default DefaultSASRejection).
func WithSASRejection(r Rejection) Option { return func(o *options) { o.sasRejection = r } }

// WithAssigningPolls sets how many status polls answer 202 before the result (default 1).
func WithAssigningPolls(n int) Option { return func(o *options) { o.assigningPolls = max(n, 0) } }

// WithRetryAfter sets the retry-after DPS asks for (whole seconds; default 3 s).
func WithRetryAfter(d time.Duration) Option { return func(o *options) { o.retryAfter = d } }

// WithSkew sets the SAS expiry tolerance (default sas.DefaultSkew).
func WithSkew(d time.Duration) Option { return func(o *options) { o.skew = d } }

// WithRand sets the randomness for verification codes and IDs (default crypto/rand).
func WithRand(r io.Reader) Option { return func(o *options) { o.rand = r } }

// Service is the emulated DPS.
type Service struct {
	dir      string
	lock     *atomicfile.DirLock
	assigner Assigner
	opts     options
	server   *mqtt.Server
	ctx      context.Context
	cancel   context.CancelFunc

	mu       sync.Mutex
	st       *state
	saver    *atomicfile.Batch // keeps st on disk
	sessions map[*mqtt.Client]*session
	ops      map[string]*operation
	// regQuota throttles registration requests (WithRegistrationRateLimit).
	regQuota *quota.Bucket

	closeOnce sync.Once
	closeErr  error
}

// session is one device connection that passed CONNECT.
type session struct {
	id  identity
	att *attestation // nil when refused in RejectRegister401 mode
	ref *refusal     // why, when att is nil
	// errCode/errMsg answer register requests when refused.
	errCode int
	errMsg  string
}

// operation is one registration attempt (operationId).
type operation struct {
	id        string
	regKey    string
	att       *attestation
	polls     int  // 202 answers left
	finishing bool // finish is running (the Assigner is being called)
	result    []byte
}

// New loads (or creates) the DPS state in dir and returns a running Service.
// The mochi server is already serving (no listeners): hand it connections
// with Server().EstablishConnection(listenerID, conn). Close stops it.
func New(dir string, a Assigner, opts ...Option) (*Service, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: nil Assigner", ErrInvalid)
	}
	o := options{
		logger:         slog.New(slog.DiscardHandler),
		clock:          time.Now,
		idScope:        DefaultIDScope,
		x509Rejection:  DefaultX509Rejection,
		sasRejection:   DefaultSASRejection,
		assigningPolls: DefaultAssigningPolls,
		retryAfter:     DefaultRetryAfter,
		skew:           sas.DefaultSkew,
		rand:           rand.Reader,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dps: %w", err)
	}
	lock, err := claimDir(dir, o.logger)
	if err != nil {
		return nil, err
	}
	st, err := loadState(dir)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	s := &Service{dir: dir, lock: lock, assigner: a, opts: o, st: st,
		sessions: map[*mqtt.Client]*session{}, ops: map[string]*operation{}, regQuota: quota.New(o.regLimit, o.regWindow)}
	s.saver = newSaver(dir, &s.mu, st)
	s.ctx, s.cancel = context.WithCancel(context.Background())

	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumQos = 1             // QoS 2 subscribe is granted 1 (§2.1 [doc P-MQTT])
	caps.MinimumProtocolVersion = 3 // let 3.1 through to OnConnect, which refuses it with a Reason
	s.server = mqtt.New(&mqtt.Options{Capabilities: caps, Logger: o.logger})
	if err := s.server.AddHook(&hook{s: s}, nil); err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("dps: add hook: %w", err)
	}
	if err := s.server.Serve(); err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("dps: serve: %w", err)
	}
	return s, nil
}

// claimDir locks the state directory (two services on one directory would
// overwrite each other's state) and, holding it, removes what interrupted
// writes left behind.
func claimDir(dir string, log *slog.Logger) (*atomicfile.DirLock, error) {
	lock, err := atomicfile.Lock(dir)
	if err != nil {
		return nil, fmt.Errorf("dps: state: %w", err)
	}
	removed, err := atomicfile.RemoveTemps(dir, 0)
	if err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("dps: state: %w", err)
	}
	if len(removed) > 0 {
		log.Info("dps: removed leftovers of interrupted writes", "dir", dir, "files", removed)
	}
	return lock, nil
}

// Server returns the MQTT server to hand connections to.
func (s *Service) Server() *mqtt.Server { return s.server }

// IDScope returns the ID scope devices must use.
func (s *Service) IDScope() string { return s.opts.idScope }

// Close stops the server and cancels pending Assigner calls.
// Idempotent; every call returns once the state directory is released.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		err := s.server.Close()
		// Writes run under s.mu; taking it waits for one in progress.
		s.mu.Lock()
		defer s.mu.Unlock()
		s.closeErr = errors.Join(err, s.lock.Release())
	})
	return s.closeErr
}

// peerCertificates returns the client chain of a TLS connection (or of a
// wrapper, such as a WebSocket conn, that exposes ConnectionState).
func peerCertificates(cl *mqtt.Client) []*x509.Certificate {
	if cs, ok := cl.Net.Conn.(interface{ ConnectionState() tls.ConnectionState }); ok {
		return cs.ConnectionState().PeerCertificates
	}
	return nil
}

// connect authenticates a CONNECT. It returns the session to keep, or the
// CONNACK code to refuse with.
func (s *Service) connect(cl *mqtt.Client, pk packets.Packet) (*session, packets.Code) {
	user := string(pk.Connect.Username)
	id, err := parseUsername(user)
	if err != nil {
		s.refuse(pk.Connect.ClientIdentifier, CheckUsername, err.Error(), map[string]string{"username": user})
		return nil, packets.ErrNotAuthorized
	}
	vals := map[string]string{"username": user, "clientId": pk.Connect.ClientIdentifier}
	// ClientId = registrationId (§2.1 [doc P-MQTT]).
	if pk.Connect.ClientIdentifier != id.RegistrationID {
		s.refuse(id.RegistrationID, CheckClientID, fmt.Sprintf("client ID %q ≠ registration ID %q in the user name",
			pk.Connect.ClientIdentifier, id.RegistrationID), vals)
		return nil, packets.ErrNotAuthorized
	}
	if id.IDScope != s.opts.idScope {
		s.refuse(id.RegistrationID, CheckIDScope, fmt.Sprintf("ID scope %q is not this service's %q", id.IDScope, s.opts.idScope), vals)
		return nil, packets.ErrNotAuthorized
	}

	var (
		att  *attestation
		ref  *refusal
		mode Rejection
		code int
		msg  string
	)
	s.mu.Lock()
	if hasPassword(pk) {
		att, ref = s.attestSAS(id, string(pk.Connect.Password))
		mode, code, msg = s.opts.sasRejection, errCodeUnauthorized, errMsgUnauthorized
	} else {
		att, ref = s.attestX509(id.RegistrationID, peerCertificates(cl))
		mode, code, msg = s.opts.x509Rejection, errCodeInvalidCertificate, errMsgInvalidCertificate
	}
	s.mu.Unlock()
	if ref == nil {
		return &session{id: id, att: att}, packets.CodeSuccess
	}
	if ref.Values == nil {
		ref.Values = map[string]string{}
	}
	ref.Values["rejection"] = mode.String()
	s.refuse(id.RegistrationID, ref.Check, ref.Detail, ref.Values)
	if mode == RejectConnack {
		return nil, packets.ErrNotAuthorized
	}
	return &session{id: id, ref: ref, errCode: code, errMsg: msg}, packets.CodeSuccess
}

// ErrorBody is the JSON DPS sends with an error status (§2.4).
type ErrorBody struct {
	ErrorCode    int    `json:"errorCode"`
	TrackingID   string `json:"trackingId"`
	Message      string `json:"message"`
	TimestampUTC string `json:"timestampUtc"`
}

// OperationStatus is the register / operation-status reply (§2.2).
type OperationStatus struct {
	OperationID       string             `json:"operationId"`
	Status            string             `json:"status"`
	RegistrationState *RegistrationState `json:"registrationState,omitempty"`
}

// RegistrationState is the device registration state in a reply (§2.2 [src S-PROV; doc P-REST]).
type RegistrationState struct {
	X509                   *X509RegistrationInfo `json:"x509,omitempty"`
	SymmetricKey           *SymmetricKeyInfo     `json:"symmetricKey,omitempty"`
	RegistrationID         string                `json:"registrationId"`
	CreatedDateTimeUTC     string                `json:"createdDateTimeUtc,omitempty"`
	AssignedHub            string                `json:"assignedHub,omitempty"`
	DeviceID               string                `json:"deviceId,omitempty"`
	Status                 string                `json:"status"`
	Substatus              string                `json:"substatus,omitempty"`
	ErrorCode              int                   `json:"errorCode,omitempty"`
	ErrorMessage           string                `json:"errorMessage,omitempty"`
	LastUpdatedDateTimeUTC string                `json:"lastUpdatedDateTimeUtc,omitempty"`
	ETag                   string                `json:"etag,omitempty"`
}

// X509RegistrationInfo is registrationState.x509 [doc P-REST].
type X509RegistrationInfo struct {
	CertificateInfo        *X509CertificateInfo `json:"certificateInfo,omitempty"`
	EnrollmentGroupID      string               `json:"enrollmentGroupId,omitempty"`
	SigningCertificateInfo *X509CertificateInfo `json:"signingCertificateInfo,omitempty"`
}

// X509CertificateInfo describes a certificate [doc P-REST].
type X509CertificateInfo struct {
	SubjectName      string `json:"subjectName"`
	SHA1Thumbprint   string `json:"sha1Thumbprint"`
	SHA256Thumbprint string `json:"sha256Thumbprint"`
	IssuerName       string `json:"issuerName"`
	NotBeforeUTC     string `json:"notBeforeUtc"`
	NotAfterUTC      string `json:"notAfterUtc"`
	SerialNumber     string `json:"serialNumber"`
	Version          int    `json:"version"`
}

// SymmetricKeyInfo is registrationState.symmetricKey [doc P-REST].
type SymmetricKeyInfo struct {
	EnrollmentGroupID string `json:"enrollmentGroupId,omitempty"`
}

func certInfo(c *x509.Certificate) *X509CertificateInfo {
	if c == nil {
		return nil
	}
	return &X509CertificateInfo{
		SubjectName:      c.Subject.String(),
		SHA1Thumbprint:   thumbSHA1(c),
		SHA256Thumbprint: thumbSHA256(c),
		IssuerName:       c.Issuer.String(),
		NotBeforeUTC:     c.NotBefore.UTC().Format(timeFormat),
		NotAfterUTC:      c.NotAfter.UTC().Format(timeFormat),
		SerialNumber:     fmt.Sprintf("%X", c.SerialNumber),
		Version:          c.Version,
	}
}

// errUndeliverable is returned when the device has not subscribed to the response filter.
var errUndeliverable = errors.New("dps: device has not subscribed to " + ResponseFilter)
