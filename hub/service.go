package hub

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/quota"
	"github.com/modemsim/modemsim/sas"
)

// serviceName is Reason.Service for the hub.
const serviceName = "hub"

// Message is a device-to-cloud message as the service side sees it.
type Message struct {
	DeviceID string    `json:"deviceId"`
	Received time.Time `json:"received"`
	Topic    string    `json:"topic"`
	Payload  []byte    `json:"payload"`
	// Properties are the application properties (incl. mqtt-retain,
	// iothub-MessageType=Will); SystemProperties the `$.x` ones without `$.`.
	Properties       map[string]string `json:"properties"`
	SystemProperties map[string]string `json:"systemProperties"`
}

// MethodResult is a device's answer to a direct method.
type MethodResult struct {
	Status  int    `json:"status"`
	Payload []byte `json:"payload"`
}

// C2DMessage is a queued cloud-to-device message.
type C2DMessage struct {
	ID         string            `json:"messageId"`
	Payload    []byte            `json:"payload"`
	Properties map[string]string `json:"properties"`
	Enqueued   time.Time         `json:"enqueued"`
	// Expiry is when the hub drops the message undelivered (WithC2DTTL).
	Expiry time.Time `json:"expiryTime"`

	inflight bool // sent, PUBACK pending
}

// tlsStater is a connection that can report its TLS state (*tls.Conn and
// the WebSocket conn of hub/wsconn).
type tlsStater interface {
	ConnectionState() tls.ConnectionState
}

// sub is one accepted subscription.
type sub struct {
	kind topicKind
	qos  byte
}

// conn is an authenticated device connection.
type conn struct {
	cl          *mqtt.Client
	deviceID    string
	auth        string
	clean       bool
	established bool           // CONNACK 0 sent
	subs        map[string]sub // filter → sub
	inflightC2D map[uint16]*C2DMessage
	timer       *time.Timer
	closing     bool
}

// devState is the runtime state of one device identity.
type devState struct {
	cur        *conn
	persistent map[string]sub // subscriptions kept for CleanSession=0
	c2d        []*C2DMessage
	methods    map[string]chan MethodResult
}

// Service is the emulated IoT Hub: an MQTT server with hooks, the
// registry, twin, methods, C2D and telemetry.
type Service struct {
	cfg  *config
	lock *atomicfile.DirLock // the registry directory, held until Close
	// twinQuota throttles twin requests (WithTwinRateLimit).
	twinQuota *quota.Bucket
	reg       *registry
	rec       *recorder
	srv       *mqtt.Server

	mu      sync.Mutex
	conns   map[*mqtt.Client]*conn
	devices map[string]*devState
	tele    map[int]chan Message
	teleSeq int
	// retained are the recent messages (WithTelemetryRetention).
	retained ring[Message]

	connSeq atomic.Uint64
	ridSeq  atomic.Uint64
	msgSeq  atomic.Uint64
	// c2dPath keeps the pending C2D messages across restarts (c2dstore.go).
	c2dPath string
	// records keeps attempts and reasons across restarts (records.go).
	records *recordStore
}

// NewService opens (or creates) the registry in dir and builds the hub's
// MQTT server (no listeners; see Emulator for the network front).
func NewService(dir string, opts ...Option) (*Service, error) {
	cfg := newConfig(opts)
	return newService(dir, cfg)
}

func newService(dir string, cfg *config) (*Service, error) {
	lock, err := claimDir(dir, cfg.log)
	if err != nil {
		return nil, err
	}
	reg, err := openRegistry(dir)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	s := &Service{
		cfg:       cfg,
		lock:      lock,
		reg:       reg,
		rec:       newRecorder(cfg.log, cfg.reasonSink, cfg.maxRecords),
		twinQuota: quota.New(cfg.twinLimit, cfg.twinWindow),
		conns:     map[*mqtt.Client]*conn{},
		devices:   map[string]*devState{},
		tele:      map[int]chan Message{},
		c2dPath:   filepath.Join(dir, c2dFile),
		retained:  ring[Message]{max: max(cfg.telemetryRetention, 1)},
	}
	if err := s.loadC2D(); err != nil {
		_ = lock.Release()
		return nil, err
	}
	if s.records, err = openRecords(filepath.Join(dir, recordsFile), s.rec, cfg.log); err != nil {
		_ = lock.Release()
		return nil, err
	}
	s.srv = NewMQTTServer(cfg.log)
	if err := s.srv.AddHook(&hook{s: s}, nil); err != nil {
		s.records.close()
		_ = lock.Release()
		return nil, fmt.Errorf("hub: add hook: %w", err)
	}
	return s, nil
}

// claimDir locks the registry directory, so a second emulator on the same
// state fails at once instead of overwriting this one's devices, and,
// holding it, removes what interrupted writes left behind (copies of
// device keys).
func claimDir(dir string, log *slog.Logger) (*atomicfile.DirLock, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("hub: state dir: %w", err)
	}
	lock, err := atomicfile.Lock(dir)
	if err != nil {
		return nil, fmt.Errorf("hub: state: %w", err)
	}
	removed, err := atomicfile.RemoveTemps(dir, 0)
	if err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("hub: state: %w", err)
	}
	if len(removed) > 0 {
		log.Info("hub: removed leftovers of interrupted writes", "dir", dir, "files", removed)
	}
	return lock, nil
}

// NewMQTTServer returns a mochi server with the hub's capabilities and no
// hooks (also the benchmark baseline).
func NewMQTTServer(log *slog.Logger) *mqtt.Server {
	caps := mqtt.NewDefaultServerCapabilities()
	caps.MaximumQos = 1 // QoS 2 is not supported (§1.6 [doc D-MQTT])
	// Level 3 reaches the hook too, so the refusal is recorded with a reason.
	caps.MinimumProtocolVersion = 3
	// D2C limit plus room for the topic and header (§1.6 [doc D-QUOTA]).
	caps.MaximumPacketSize = maxD2CBytes + 64*1024
	return mqtt.New(&mqtt.Options{Capabilities: caps, Logger: log})
}

// Server returns the hub's MQTT server (for listeners / EstablishConnection).
func (s *Service) Server() *mqtt.Server { return s.srv }

// HostName is the hub's host name.
func (s *Service) HostName() string { return s.cfg.hostName }

// Reasons returns the recent refusal/close reasons, oldest first.
func (s *Service) Reasons() []Reason { return s.rec.reasons.list() }

// Attempts returns the recent connection attempts, oldest first.
func (s *Service) Attempts() []Attempt { return s.rec.attempts.list() }

// Connected reports whether deviceID has a live, accepted connection.
func (s *Service) Connected(deviceID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ds := s.devices[deviceID]
	return ds != nil && ds.cur != nil && ds.cur.established
}

func (s *Service) now() time.Time { return s.cfg.clock() }

// dev returns the runtime state for id; s.mu held.
func (s *Service) dev(id string) *devState {
	ds := s.devices[id]
	if ds == nil {
		ds = &devState{methods: map[string]chan MethodResult{}}
		s.devices[id] = ds
	}
	return ds
}

func (s *Service) connFor(cl *mqtt.Client) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[cl]
}

// refusal is an authentication failure: the reason and the CONNACK code
// to send (-1: close without CONNACK).
type refusal struct {
	reason Reason
	code   int
}

func refuse(dev string, check Check, detail string, values map[string]string) *refusal {
	return &refusal{reason: Reason{DeviceID: dev, Check: check, Detail: detail, Values: values}, code: 5}
}

// CONNACK return codes of MQTT 3.1.1 used by the hub (§1.5 [src-doc S-CREL; obs]).
var connackCodes = map[int]packets.Code{
	1: packets.ErrUnsupportedProtocolVersion, // mapped to v3 0x01 by mochi
	3: packets.ErrServerUnavailable,          // mapped to v3 0x03
	5: packets.ErrBadUsernameOrPassword,      // mapped to v3 0x05
}

// authResult is what a successful authentication yields.
type authResult struct {
	deviceID string
	auth     string
	expiry   time.Time // SAS expiry; zero for X.509
}

func (s *Service) authenticate(cl *mqtt.Client, pk packets.Packet) (authResult, *refusal) {
	if pk.ProtocolVersion != protocolLevel311 {
		r := refuse("", CheckProtocolVersion, "only MQTT 3.1.1 (protocol level 4) is supported",
			map[string]string{"protocolLevel": strconv.Itoa(int(pk.ProtocolVersion))})
		r.code = 1
		return authResult{}, r
	}
	user := string(pk.Connect.Username)
	id, err := ParseUsername(user)
	if err != nil {
		return authResult{}, refuse("", CheckUsername, err.Error(), map[string]string{"username": user})
	}
	dev := id.DeviceID
	if !strings.EqualFold(id.Host, s.cfg.hostName) {
		return authResult{}, refuse(dev, CheckHostName, "username names another hub",
			map[string]string{"usernameHost": id.Host, "hubHost": s.cfg.hostName})
	}
	if id.ModuleID != "" {
		return authResult{}, refuse(dev, CheckModule, ErrModuleIdentities.Error(), map[string]string{"moduleId": id.ModuleID})
	}
	if pk.Connect.ClientIdentifier != dev { // deviceId is case-sensitive (§1.2 [doc D-IDREG])
		return authResult{}, refuse(dev, CheckClientID, "client id must equal the username's device id",
			map[string]string{"clientId": pk.Connect.ClientIdentifier, "usernameDeviceId": dev})
	}
	d, ok := s.reg.device(dev)
	if !ok {
		return authResult{}, refuse(dev, CheckDeviceNotFound, "no such device in the registry", nil)
	}
	if d.Disabled {
		r := refuse(dev, CheckDeviceDisabled, "device is disabled", nil)
		r.code = s.cfg.disabledCode
		return authResult{}, r
	}
	if passwordPresent(pk) {
		exp, r := s.authSAS(d, string(pk.Connect.Password))
		return authResult{deviceID: dev, auth: "sas", expiry: exp}, r
	}
	var peer []*x509.Certificate
	if ts, ok := cl.Net.Conn.(tlsStater); ok {
		peer = ts.ConnectionState().PeerCertificates
	}
	switch d.Auth {
	case AuthSAS:
		return authResult{}, refuse(dev, CheckAuthMethod, "SAS device sent no password (SAS token)",
			map[string]string{"authenticationType": string(d.Auth), "clientCertificates": strconv.Itoa(len(peer))})
	case AuthSelfSigned, AuthCA:
		if len(peer) == 0 {
			return authResult{}, refuse(dev, CheckX509NoCert,
				"device uses X.509 but sent no client certificate in the TLS handshake",
				map[string]string{"authenticationType": string(d.Auth)})
		}
		return authResult{deviceID: dev, auth: string(d.Auth)}, s.authX509(d, peer)
	}
	return authResult{}, refuse(dev, CheckAuthMethod, "unknown authentication type", map[string]string{"authenticationType": string(d.Auth)})
}

// authSAS verifies a SAS password over the raw `sr` text (§1.3 [src S-CS]).
func (s *Service) authSAS(d Device, password string) (time.Time, *refusal) {
	dev := d.ID
	tok, err := sas.Parse(password)
	if err != nil {
		return time.Time{}, refuse(dev, CheckSASMalformed, err.Error(), nil)
	}
	target := s.cfg.hostName + "/devices/" + dev
	res, err := tok.ResourceDecoded()
	if err != nil {
		return time.Time{}, refuse(dev, CheckSASMalformed, err.Error(), map[string]string{"sr": tok.Resource})
	}
	vals := map[string]string{
		"sr": tok.Resource, "srDecoded": res, "requiredResource": target,
		"se": strconv.FormatInt(tok.Expiry.Unix(), 10), "stringToSign": tok.StringToSign(),
	}
	if tok.KeyName != "" {
		vals["skn"] = tok.KeyName
	}
	if !sas.ResourceCovers(res, target) {
		return time.Time{}, refuse(dev, CheckSASResource, "token resource does not cover this device", vals)
	}
	now := s.now()
	if err := tok.CheckExpiry(now, s.cfg.skew); err != nil {
		vals["now"] = now.UTC().Format(time.RFC3339)
		vals["expiry"] = tok.Expiry.UTC().Format(time.RFC3339)
		return time.Time{}, refuse(dev, CheckSASExpired, err.Error(), vals)
	}
	var keys []string
	if tok.KeyName != "" {
		p, ok := s.reg.policy(tok.KeyName)
		if !ok {
			return time.Time{}, refuse(dev, CheckSASPolicy, "no shared access policy with this name", vals)
		}
		if !p.Has(RightDeviceConnect) {
			return time.Time{}, refuse(dev, CheckSASPolicy, "policy lacks DeviceConnect", vals)
		}
		keys = []string{p.PrimaryKey, p.SecondaryKey}
	} else {
		if d.Auth != AuthSAS {
			vals["authenticationType"] = string(d.Auth)
			return time.Time{}, refuse(dev, CheckAuthMethod, "device has no symmetric keys (X.509 identity)", vals)
		}
		keys = []string{d.PrimaryKey, d.SecondaryKey}
	}
	var lastErr error
	for _, k := range keys { // primary, then secondary (§1.3 [src S-CS])
		kb, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(kb) == 0 {
			continue
		}
		if lastErr = tok.Verify(kb); lastErr == nil {
			return tok.Expiry, nil
		}
	}
	detail := "signature matches neither primary nor secondary key"
	if lastErr != nil {
		detail += ": " + lastErr.Error()
	}
	return time.Time{}, refuse(dev, CheckSASSignature, detail, vals)
}

// authX509 authorizes a client certificate chain (§1.4 [doc D-X509]).
func (s *Service) authX509(d Device, peer []*x509.Certificate) *refusal {
	leaf := peer[0]
	sha1h, sha256h := thumbSHA1(leaf.Raw), thumbSHA256(leaf.Raw)
	vals := map[string]string{
		"subject": leaf.Subject.String(), "issuer": leaf.Issuer.String(),
		"thumbprintSha1": sha1h, "thumbprintSha256": sha256h,
		"presentedChainLength": strconv.Itoa(len(peer)),
	}
	if d.Auth == AuthSelfSigned {
		// The hub tries SHA-1 and SHA-256 (§1.4 [obs SO 77836421]).
		for _, want := range []string{d.PrimaryThumbprint, d.SecondaryThumbprint} {
			w := normThumb(want)
			if w != "" && (w == sha1h || w == sha256h) {
				return nil
			}
		}
		vals["primaryThumbprint"] = d.PrimaryThumbprint
		vals["secondaryThumbprint"] = d.SecondaryThumbprint
		return refuse(d.ID, CheckX509Thumbprint, "certificate thumbprint matches neither registered thumbprint", vals)
	}
	verified, all, names := s.reg.caPools()
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	opts := x509.VerifyOptions{
		Roots: verified, Intermediates: inter, CurrentTime: s.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}
	if _, err := leaf.Verify(opts); err != nil {
		opts.Roots = all
		if chains, err2 := leaf.Verify(opts); err2 == nil {
			anchor := chains[0][len(chains[0])-1]
			vals["ca"] = names[anchor]
			return refuse(d.ID, CheckX509CAUnverified, "chain ends at a CA that is uploaded but not verified (proof of possession missing)", vals)
		}
		vals["verifyError"] = err.Error()
		return refuse(d.ID, CheckX509Chain,
			"certificate does not chain to a verified CA (missing intermediate in the presented chain, or unknown CA)", vals)
	}
	if leaf.Subject.CommonName != d.ID {
		vals["commonName"] = leaf.Subject.CommonName
		return refuse(d.ID, CheckX509CommonName, "certificate CN must equal the device id", vals)
	}
	return nil
}

// deliver writes a publish to exactly one connection (never broker
// fan-out, §5.1 [inf]); mirrors mochi's unexported publishToClient.
func (s *Service) deliver(c *conn, topic string, payload []byte, qos byte) (uint16, error) {
	pk := packets.Packet{
		FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: qos},
		TopicName:   topic,
		Payload:     payload,
		Created:     time.Now().Unix(),
	}
	if qos > 0 {
		id, err := c.cl.NextPacketID()
		if err != nil {
			return 0, fmt.Errorf("hub: packet id: %w", err)
		}
		pk.PacketID = uint16(id)
		c.cl.State.Inflight.Set(pk)
	}
	if err := c.cl.WritePacket(pk); err != nil {
		return 0, fmt.Errorf("hub: deliver %s: %w", topic, err)
	}
	return pk.PacketID, nil
}

// subFor returns the granted QoS for kind, ok=false when not subscribed.
func (c *conn) subFor(kinds ...topicKind) (byte, bool) {
	for _, sb := range c.subs {
		for _, k := range kinds {
			if sb.kind == k {
				return sb.qos, true
			}
		}
	}
	return 0, false
}

// forceClose closes a live connection without any MQTT packet, as the hub
// does (§1.5 [doc D-MQTT]).
func (s *Service) forceClose(c *conn, rs Reason) {
	s.mu.Lock()
	if c.closing {
		s.mu.Unlock()
		return
	}
	c.closing = true
	s.mu.Unlock()
	rs.Time, rs.Service = s.now(), serviceName
	if rs.DeviceID == "" {
		rs.DeviceID = c.deviceID
	}
	s.rec.reason(rs)
	s.rec.attempt(Attempt{Time: rs.Time, Remote: c.cl.Net.Remote, Listener: c.cl.Net.Listener, ClientID: c.deviceID,
		DeviceID: c.deviceID, Auth: c.auth, Outcome: OutcomeClosed, ConnackCode: -1, Reason: &rs})
	c.cl.Stop(fmt.Errorf("hub: %s", rs.Check))
}

// closeDevice force-closes deviceID's live connection, if any.
func (s *Service) closeDevice(deviceID string, check Check, detail string) {
	s.mu.Lock()
	var c *conn
	if ds := s.devices[deviceID]; ds != nil {
		c = ds.cur
	}
	s.mu.Unlock()
	if c != nil {
		s.forceClose(c, Reason{Check: check, Detail: detail})
	}
}

func (s *Service) dispatchTelemetry(m Message) {
	if s.cfg.telemetry != nil {
		s.cfg.telemetry(m)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retainLocked(m)
	for _, ch := range s.tele {
		select {
		case ch <- m:
		default:
			s.cfg.log.Warn("hub: telemetry subscriber full, message dropped", "device", m.DeviceID)
		}
	}
}

// Telemetry subscribes to device-to-cloud messages. The channel has the
// given buffer; when it is full, messages are dropped (and logged). Call
// the returned function to unsubscribe.
func (s *Service) Telemetry(buffer int) (<-chan Message, func()) {
	ch := make(chan Message, buffer)
	s.mu.Lock()
	s.teleSeq++
	id := s.teleSeq
	s.tele[id] = ch
	s.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.mu.Lock()
			delete(s.tele, id)
			s.mu.Unlock()
		})
	}
}

// violation records a protocol violation and returns an error wrapping
// mochi's reject sentinel, so ReadPacket fails and the
// socket closes without any MQTT packet (§5.1).
func (s *Service) violation(c *conn, detail string, vals map[string]string) error {
	s.forceClose(c, Reason{Check: CheckProtocolViolation, Detail: detail, Values: vals})
	return fmt.Errorf("%w: %s", packets.ErrRejectPacket, detail)
}

// police enforces the hub's MQTT subset on every packet a device sends
// (§1.6, §1.7; checklist §6.6).
func (s *Service) police(c *conn, pk packets.Packet) error {
	switch pk.FixedHeader.Type {
	case packets.Connect:
		return s.violation(c, "second CONNECT on a connection", nil)
	case packets.Publish:
		vals := map[string]string{"topic": pk.TopicName, "qos": strconv.Itoa(int(pk.FixedHeader.Qos))}
		if pk.FixedHeader.Qos > 1 {
			return s.violation(c, "PUBLISH with QoS 2", vals)
		}
		pt := classifyPublish(c.deviceID, pk.TopicName)
		if pt.kind == kindInvalid {
			return s.violation(c, "PUBLISH to an undocumented topic", vals)
		}
		if pt.kind == kindTelemetry && len(pk.Payload) > maxD2CBytes {
			vals["size"] = strconv.Itoa(len(pk.Payload))
			return s.violation(c, "device-to-cloud message larger than 256 KB", vals)
		}
	case packets.Subscribe:
		s.mu.Lock()
		next := make(map[string]sub, len(c.subs)+len(pk.Filters))
		for k, v := range c.subs {
			next[k] = v
		}
		s.mu.Unlock()
		for _, f := range pk.Filters {
			k := classifyFilter(c.deviceID, f.Filter)
			if k == kindInvalid {
				return s.violation(c, "SUBSCRIBE to an undocumented topic filter", map[string]string{"filter": f.Filter})
			}
			next[f.Filter] = sub{kind: k, qos: min(f.Qos, 1)}
		}
		if len(next) > maxSubscriptions {
			return s.violation(c, "more than five subscriptions", map[string]string{"subscriptions": strconv.Itoa(len(next))})
		}
		s.mu.Lock()
		c.subs = next
		s.mu.Unlock()
	case packets.Unsubscribe:
		s.mu.Lock()
		for _, f := range pk.Filters {
			delete(c.subs, f.Filter)
		}
		s.mu.Unlock()
	case packets.Puback:
		s.completeC2D(c, pk.PacketID)
	case packets.Pubrec, packets.Pubrel, packets.Pubcomp:
		return s.violation(c, "QoS 2 flow packet", map[string]string{"type": packets.PacketNames[pk.FixedHeader.Type]})
	case packets.Auth:
		return s.violation(c, "AUTH packet (MQTT 5)", nil)
	}
	return nil
}

// onPublish handles an accepted device publish.
func (s *Service) onPublish(c *conn, pk packets.Packet) {
	pt := classifyPublish(c.deviceID, pk.TopicName)
	switch pt.kind {
	case kindTelemetry:
		app, sys, err := ParsePropertyBag(pt.bag)
		if err != nil {
			s.cfg.log.Warn("hub: bad property bag, properties dropped", "device", c.deviceID, "topic", pk.TopicName, "error", err)
			app, sys = map[string]string{}, map[string]string{}
		}
		if pk.FixedHeader.Retain {
			app[retainProperty] = "true"
		}
		s.dispatchTelemetry(Message{DeviceID: c.deviceID, Received: s.now(), Topic: pk.TopicName,
			Payload: append([]byte(nil), pk.Payload...), Properties: app, SystemProperties: sys})
	case kindTwinGet, kindTwinReported:
		rid, _ := queryValue(pt.query, "$rid")
		if !s.twinQuota.Allow(s.now()) {
			s.rec.reason(Reason{Time: s.now(), Service: serviceName, DeviceID: c.deviceID, Check: CheckThrottled,
				Detail: "twin request over the hub's twin quota; answered 429",
				Values: map[string]string{"topic": pk.TopicName, "limit": strconv.Itoa(s.cfg.twinLimit), "window": s.cfg.twinWindow.String()}})
			s.twinReply(c, 429, rid, "", nil)
			return
		}
		if pt.kind == kindTwinReported {
			s.reportedPatch(c, rid, pk.Payload)
			return
		}
		d, ok := s.reg.device(c.deviceID)
		if !ok {
			s.twinReply(c, 404, rid, "", nil)
			return
		}
		s.twinReply(c, 200, rid, "", d.Twin.Document())
	case kindMethodResponse:
		rid, _ := queryValue(pt.query, "$rid")
		s.mu.Lock()
		ch := s.dev(c.deviceID).methods[rid]
		delete(s.dev(c.deviceID).methods, rid)
		s.mu.Unlock()
		if ch != nil {
			ch <- MethodResult{Status: pt.status, Payload: append([]byte(nil), pk.Payload...)}
		}
	}
}

// reportedPatch applies a reported-properties patch and answers 204 with
// the new version, or 400 for malformed JSON (§1.6 [doc D-MQTT]).
func (s *Service) reportedPatch(c *conn, rid string, payload []byte) {
	ver, status := s.patchReported(c.deviceID, payload)
	if status == 400 {
		s.rec.reason(Reason{Time: s.now(), Service: serviceName, DeviceID: c.deviceID, Check: CheckTwinPatch,
			Detail: "reported-properties patch is not a JSON object; answered 400",
			Values: map[string]string{"body": truncateString(string(payload), 256)}})
	}
	extra := ""
	if status == 204 {
		extra = "&$version=" + strconv.FormatInt(ver, 10)
	}
	s.twinReply(c, status, rid, extra, nil)
}

// twinReply answers on `$iothub/twin/res/{status}/?$rid=…` only if the
// device subscribed to `$iothub/twin/res/#`; otherwise the response is
// undeliverable and the device's request times out (§7 [doc D-MQTT]).
func (s *Service) twinReply(c *conn, status int, rid, extra string, body []byte) {
	s.mu.Lock()
	qos, ok := c.subFor(kindSubTwinResponse)
	s.mu.Unlock()
	topic := twinResPrefix + strconv.Itoa(status) + "/?$rid=" + rid + extra
	if !ok {
		s.rec.reason(Reason{Time: s.now(), Service: serviceName, DeviceID: c.deviceID, Check: CheckUndeliverable,
			Detail: "twin response dropped: the device has not subscribed to " + filterTwinRes + "; its request will time out",
			Values: map[string]string{"topic": topic}})
		return
	}
	if _, err := s.deliver(c, topic, body, qos); err != nil {
		s.cfg.log.Debug("hub: twin reply", "error", err)
	}
}

// Close cancels timers and stops the MQTT server (and its listeners).
func (s *Service) Close() error {
	s.mu.Lock()
	for _, c := range s.conns {
		if c.timer != nil {
			c.timer.Stop()
		}
	}
	s.mu.Unlock()
	err := s.srv.Close()
	s.records.close()
	// Registry writes run under reg.mu; taking it waits for one in progress.
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	return errors.Join(err, s.lock.Release())
}

// hook connects mochi's events to the Service.
type hook struct {
	mqtt.HookBase
	s *Service
}

func (h *hook) ID() string { return "modemsim-iothub" }

func (h *hook) Provides(b byte) bool {
	switch b {
	case mqtt.OnConnect, mqtt.OnConnectAuthenticate, mqtt.OnACLCheck, mqtt.OnPacketRead,
		mqtt.OnPublish, mqtt.OnSessionEstablished, mqtt.OnDisconnect, mqtt.OnWill, mqtt.OnPacketSent:
		return true
	}
	return false
}

var errRefused = errors.New("hub: connection refused")

// OnConnect authenticates and sends the refusal CONNACK itself, so the code
// and the recorded reason are the hub's (§5.1: an error here closes the socket).
func (h *hook) OnConnect(cl *mqtt.Client, pk packets.Packet) error {
	s := h.s
	now := s.now()
	att := Attempt{Time: now, Remote: cl.Net.Remote, Listener: cl.Net.Listener, ClientID: pk.Connect.ClientIdentifier,
		TLS: clientTLSContext(cl)}
	res, ref := s.authenticate(cl, pk)
	if ref != nil {
		rs := ref.reason
		rs.Time, rs.Service = now, serviceName
		s.rec.reason(rs)
		att.DeviceID, att.Outcome, att.ConnackCode, att.Reason = rs.DeviceID, OutcomeRefused, ref.code, &rs
		s.rec.attempt(att)
		if code, ok := connackCodes[ref.code]; ok {
			cl.Properties.ProtocolVersion = protocolLevel311 // answer in 3.1.1 framing whatever was asked
			_ = s.srv.SendConnack(cl, code, false, nil)
		}
		return fmt.Errorf("%w: %s", errRefused, rs.Check)
	}
	ka := cl.State.Keepalive
	if ka == 0 || ka > maxKeepAlive {
		ka = maxKeepAlive
	}
	cl.State.Keepalive = ka
	c := &conn{cl: cl, deviceID: res.deviceID, auth: res.auth, clean: pk.Connect.Clean,
		subs: map[string]sub{}, inflightC2D: map[uint16]*C2DMessage{}}
	// A per-connection mochi id keeps mochi's own session takeover (which
	// writes a DISCONNECT, invalid in 3.1.1) out of the way; the hub handles
	// duplicates and persistence itself.
	cl.ID = fmt.Sprintf("%s\x00%d", res.deviceID, s.connSeq.Add(1))
	cl.Properties.Clean = true

	s.mu.Lock()
	ds := s.dev(res.deviceID)
	old := ds.cur
	ds.cur = c
	s.conns[cl] = c
	if !c.clean {
		prev := ds.persistent
		if old != nil { // takeover: the live session is the one to inherit
			prev = old.subs
		}
		for k, v := range prev {
			c.subs[k] = v
		}
	}
	if c.clean {
		ds.persistent = nil
	}
	s.mu.Unlock()
	if old != nil {
		// D5: the older socket is closed without an MQTT packet (§1.5 [doc D-MQTT] 400027).
		s.forceClose(old, Reason{Check: CheckTakenOver,
			Detail: "a new connection with the same device id took over; older connection closed",
			Values: map[string]string{"oldRemote": old.cl.Net.Remote, "newRemote": cl.Net.Remote}})
	}
	if !res.expiry.IsZero() {
		d := res.expiry.Sub(now)
		if d <= 0 { // accepted within the clock skew
			d = res.expiry.Add(s.cfg.skew).Sub(now)
		}
		exp := res.expiry
		c.timer = time.AfterFunc(d, func() {
			s.forceClose(c, Reason{Check: CheckTokenExpiredLive, Detail: "SAS token expired; the hub severs the connection (§1.3 [doc D-SAS])",
				Values: map[string]string{"expiry": exp.UTC().Format(time.RFC3339)}})
		})
	}
	att.DeviceID, att.Auth, att.Outcome, att.ConnackCode = res.deviceID, res.auth, OutcomeAccepted, 0
	s.rec.attempt(att)
	s.cfg.log.Info("hub: device connected", "device", res.deviceID, "auth", res.auth, "remote", cl.Net.Remote, "listener", cl.Net.Listener)
	return nil
}

// refuseLevel answers an unsupported protocol level with CONNACK 1.
func (s *Service) refuseLevel(cl *mqtt.Client, pk packets.Packet) error {
	now := s.now()
	rs := Reason{Time: now, Service: serviceName, DeviceID: pk.Connect.ClientIdentifier, Check: CheckProtocolVersion,
		Detail: "only MQTT 3.1.1 (protocol level 4) is supported",
		Values: map[string]string{"protocolLevel": strconv.Itoa(int(pk.ProtocolVersion)), "protocolName": string(pk.Connect.ProtocolName)}}
	s.rec.reason(rs)
	s.rec.attempt(Attempt{Time: now, Remote: cl.Net.Remote, Listener: cl.Net.Listener, ClientID: pk.Connect.ClientIdentifier,
		Outcome: OutcomeRefused, ConnackCode: 1, Reason: &rs})
	cl.Properties.ProtocolVersion = protocolLevel311
	_ = s.srv.SendConnack(cl, packets.ErrUnsupportedProtocolVersion, false, nil)
	return fmt.Errorf("%w: protocol level %d", packets.ErrRejectPacket, pk.ProtocolVersion)
}

// OnConnectAuthenticate: authentication already happened in OnConnect.
func (h *hook) OnConnectAuthenticate(*mqtt.Client, packets.Packet) bool { return true }

// OnACLCheck: topic policing happens in OnPacketRead.
func (h *hook) OnACLCheck(*mqtt.Client, string, bool) bool { return true }

func (h *hook) OnSessionEstablished(cl *mqtt.Client, _ packets.Packet) {
	s := h.s
	s.mu.Lock()
	c := s.conns[cl]
	if c != nil {
		c.established = true
	}
	s.mu.Unlock()
	if c != nil {
		s.flushC2D(c.deviceID)
	}
}

func (h *hook) OnPacketRead(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	c := h.s.connFor(cl)
	if c == nil { // the first CONNECT, before authentication
		if pk.FixedHeader.Type == packets.Connect {
			pk.Connect.PasswordFlag = passwordPresent(pk)
		}
		if pk.FixedHeader.Type == packets.Connect && pk.ProtocolVersion != protocolLevel311 {
			// Answered here because mochi would send a v5-only code (0x82)
			// for e.g. "MQTT" level 3 or a bridge's 0x83 (§1.2 [obs mosquitto#953]).
			return pk, h.s.refuseLevel(cl, pk)
		}
		return pk, nil
	}
	if err := h.s.police(c, pk); err != nil {
		return pk, err
	}
	return pk, nil
}

// OnPacketSent delivers queued C2D once the SUBACK that enables it is on
// the wire (mochi calls OnSubscribed before writing the SUBACK).
func (h *hook) OnPacketSent(cl *mqtt.Client, pk packets.Packet, _ []byte) {
	if pk.FixedHeader.Type != packets.Suback {
		return
	}
	if c := h.s.connFor(cl); c != nil {
		h.s.flushC2D(c.deviceID)
	}
}

// OnPublish handles every device publish itself and stops mochi's fan-out
// (CodeSuccessIgnore still sends the PUBACK); RETAIN is never stored (§1.6).
func (h *hook) OnPublish(cl *mqtt.Client, pk packets.Packet) (packets.Packet, error) {
	if c := h.s.connFor(cl); c != nil {
		h.s.onPublish(c, pk)
	}
	pk.FixedHeader.Retain = false
	return pk, packets.CodeSuccessIgnore
}

// OnWill turns a Will into telemetry with iothub-MessageType=Will (§1.2
// [doc D-MQTT]) and points mochi's own will publish at a topic nobody can
// subscribe to.
func (h *hook) OnWill(cl *mqtt.Client, will mqtt.Will) (mqtt.Will, error) {
	s := h.s
	if c := s.connFor(cl); c != nil {
		pt := classifyPublish(c.deviceID, will.TopicName)
		if pt.kind == kindTelemetry {
			app, sys, err := ParsePropertyBag(pt.bag)
			if err != nil {
				app, sys = map[string]string{}, map[string]string{}
			}
			app[willPropertyName] = willPropertyValue
			if will.Retain {
				app[retainProperty] = "true"
			}
			s.dispatchTelemetry(Message{DeviceID: c.deviceID, Received: s.now(), Topic: will.TopicName,
				Payload: append([]byte(nil), will.Payload...), Properties: app, SystemProperties: sys})
		} else {
			s.cfg.log.Info("hub: will on an undocumented topic dropped", "device", c.deviceID, "topic", will.TopicName)
		}
	}
	will.TopicName = "$modemsim/consumed-will"
	will.Retain = false
	return will, nil
}

func (h *hook) OnDisconnect(cl *mqtt.Client, err error, _ bool) {
	s := h.s
	s.mu.Lock()
	c := s.conns[cl]
	if c == nil {
		s.mu.Unlock()
		return
	}
	delete(s.conns, cl)
	if c.timer != nil {
		c.timer.Stop()
	}
	closing := c.closing
	ds := s.dev(c.deviceID)
	if ds.cur == c { // a taken-over connection must not overwrite its successor's state
		ds.cur = nil
		if !c.clean {
			ds.persistent = c.subs
		}
	}
	for _, m := range c.inflightC2D { // unacknowledged: redeliver (now, or on the next connection)
		m.inflight = false
	}
	successor := ds.cur != nil && len(c.inflightC2D) > 0
	s.mu.Unlock()
	if !closing && isTimeout(err) {
		// Silence longer than 1.5 × keep-alive: the hub disconnects (§1.5
		// [doc D-MQTT] 404104 DeviceConnectionClosedRemotely).
		rs := Reason{Time: s.now(), Service: serviceName, DeviceID: c.deviceID, Check: CheckKeepAlive,
			Detail: "no packet within 1.5 × the keep-alive; connection closed",
			Values: map[string]string{"keepAlive": strconv.Itoa(int(cl.State.Keepalive)) + "s"}}
		s.rec.reason(rs)
		s.rec.attempt(Attempt{Time: rs.Time, Remote: cl.Net.Remote, Listener: cl.Net.Listener, ClientID: c.deviceID,
			DeviceID: c.deviceID, Auth: c.auth, Outcome: OutcomeClosed, ConnackCode: -1, Reason: &rs})
	}
	if successor {
		s.flushC2D(c.deviceID)
	}
	s.cfg.log.Info("hub: device disconnected", "device", c.deviceID, "remote", cl.Net.Remote, "error", err)
}

// passwordPresent: MQTT 3.1.1 allows a password of 0 bytes after the flag
// [MQTT 3.1.1 §3.1.3.5], and some X.509 clients always set the flag. An
// empty password is no SAS token; it is cleared before mochi's CONNECT
// validation, which would answer 0x82, a code 3.1.1 does not have [I].
func passwordPresent(pk packets.Packet) bool {
	return pk.Connect.PasswordFlag && len(pk.Connect.Password) > 0
}

// isTimeout reports whether a connection ended on a read deadline, which is
// how the broker enforces keep-alive.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func truncateString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
