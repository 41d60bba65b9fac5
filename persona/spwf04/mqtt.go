package spwf04

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/netstack"
)

// mqttClientID is the only MQTT client id: ST always uses 0 and its SPI
// driver reads a single digit [C spwf04.md §5].
const mqttClientID = "0"

// MQTTCONN security field values: 0 plain, 2 TLS with server verification
// (HTTPGET's coding) [C spwf04.md §5]; 1 is [U] and treated as 2.
const (
	mqttPlain = "0"
	mqttTLS1  = "1"
	mqttTLS   = "2"
)

// defaultKeepAlive is used when MQTTCONN leaves the field empty [U].
const defaultKeepAlive = 60

// mqttSession is the module's MQTT client 0.
type mqttSession struct {
	client *netstack.MQTTClient
	once   sync.Once
}

func (s *mqttSession) close() {
	s.once.Do(func() { s.client.Disconnect(100 * time.Millisecond) })
}

// AT+S.MQTTCONN=<host>,<port>,<path>,<tls>,<user>,<pwd>,<clientId>,
// <keepAlive>,<retry>,<lwtQoS>,<lwtTopic>,<lwtMsg> [C order spwf04.md §5]:
// an empty path is MQTT on TLS, a path is MQTT over WebSockets.
func (m *Module) cmdMQTTCONN(ctx context.Context, r request) atengine.Reply {
	host, portText, path, security := r.arg(0), r.arg(1), r.arg(2), r.arg(3)
	if host == "" || portText == "" {
		return fail(ErrMissingArgs)
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port <= 0 || port > 65535 {
		return fail(ErrInvalidArgs)
	}
	keepAlive := defaultKeepAlive
	if s := r.arg(7); s != "" {
		if keepAlive, err = strconv.Atoi(s); err != nil || keepAlive < 0 {
			return fail(ErrInvalidArgs)
		}
	}
	if s := r.arg(8); s != "" { // retry: semantics [U], only checked
		if _, err := strconv.Atoi(s); err != nil {
			return fail(ErrInvalidArgs)
		}
	}
	var willQoS int
	if s := r.arg(9); s != "" {
		if willQoS, err = strconv.Atoi(s); err != nil || willQoS < 0 || willQoS > 2 {
			return fail(ErrInvalidArgs)
		}
	}
	switch security {
	case mqttTLS, mqttTLS1:
	case "", mqttPlain:
		// The hub (real and emulated) listens only with TLS; plain MQTT
		// is not simulated.
		m.log.Info("MQTTCONN without TLS: the hub only listens with TLS", "host", host, "port", port)
		return fail(ErrRequestFailed)
	default:
		return fail(ErrInvalidArgs)
	}

	m.mu.Lock()
	radio, up, busy := m.radio, m.up, m.mqtt != nil
	m.mu.Unlock()
	switch {
	case !radio:
		return fail(ErrRadioNotRunning)
	case !up:
		return fail(ErrIPNotReady)
	case busy:
		return fail(ErrTooManySockets)
	case m.hw.Network == nil:
		m.log.Error("MQTTCONN: the board gave the module no network")
		return fail(ErrRequestFailed)
	}

	trust, src, err := m.loadTrust()
	if err != nil {
		m.log.Error("MQTTCONN: read the TLS store", "err", err)
		return fail(ErrFailedReadFlash)
	}
	h := &handshake{}
	if len(trust.anchors()) == 0 {
		// No anchor can be found by key id: the module refuses the server
		// (no anonymous TLS [C F1]). The simulation decides before it
		// dials, so the hub sees no attempt.
		h.lines, h.certErr = []string{lineSkipCA}, m.cfg.CertUnknownCA
		return fail(ErrRequestFailed, h.out()...)
	}
	stack, err := m.hw.Network(src, m.Now)
	if err != nil {
		m.log.Error("MQTTCONN: network", "err", err)
		return fail(ErrRequestFailed)
	}
	opts := netstack.MQTTOptions{
		Host: host, Port: port, ClientID: r.arg(6), Username: r.arg(4), Password: r.arg(5),
		CleanSession: true, // [U]
		KeepAlive:    time.Duration(keepAlive) * time.Second,
		WillTopic:    r.arg(10), WillPayload: []byte(r.arg(11)), WillQoS: byte(willQoS),
		TLS: netstack.TLSConfig{SecTags: []uint32{tlsSlot}, HostName: host,
			VerifyConnection: m.verifier(trust, h)},
	}
	if keepAlive == 0 {
		opts.KeepAlive = -1
	}
	if path != "" {
		opts.Transport, opts.WebSocketPath = netstack.TransportWebSocket, path
	}
	var sess *mqttSession
	var smu sync.Mutex // sess is set after connect; callbacks may run before
	opts.OnMessage = func(msg netstack.Message) { m.published(msg) }
	opts.OnLost = func(error) {
		smu.Lock()
		s := sess
		smu.Unlock()
		m.lost(s)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.MQTTTimeout.Duration)
	defer cancel()
	client, err := stack.MQTTConnect(cctx, opts)
	if err != nil {
		m.failedHandshake(trust, h, err)
		m.log.Info("MQTTCONN failed", "host", host, "class", netstack.Classify(err), "err", err)
		if !h.passed {
			return fail(ErrRequestFailed, h.out()...)
		}
		// TLS passed and the broker refused or closed: the client closes
		// after the answer [C FT: ERROR:111 then +WIND:87:MQTT Closed:0:0].
		m.closedWind()
		if m.cfg.MQTTRefusedOK {
			return ok(append(h.out(), m.onLines()...)...)
		}
		return fail(ErrRequestFailed, h.out()...)
	}
	smu.Lock()
	sess = &mqttSession{client: client}
	smu.Unlock()
	m.mu.Lock()
	m.mqtt = sess
	m.mu.Unlock()
	return ok(append(h.out(), m.onLines()...)...)
}

// onLines is `AT-S.On:<id>` when the setting prints it [I spwf04.md §5:
// WSOCKON's and SOCKDON's shape].
func (m *Module) onLines() []string {
	if *m.cfg.MQTTOnLine {
		return []string{"AT-S.On:" + mqttClientID}
	}
	return nil
}

// closedWind raises `+WIND:87:MQTT Closed:<id>:<reason>` [C FT].
func (m *Module) closedWind() {
	m.wind(WindMQTTClosed, windText[WindMQTTClosed], mqttClientID, strconv.Itoa(m.cfg.MQTTClosedReason))
}

// lost is an established session ending without MQTTDISC.
func (m *Module) lost(s *mqttSession) {
	m.mu.Lock()
	if s == nil || m.mqtt != s {
		m.mu.Unlock()
		return
	}
	m.mqtt = nil
	m.mu.Unlock()
	m.closedWind()
}

// published raises an incoming PUBLISH as `+WIND:86:MQTT Published:<id>:
// <topic>:<qos>:<retained>:<dup>:<len>:<total>:<bytes>`, in chunks of at
// most MQTTChunk bytes (<len> < <total> marks a chunk) [C X2 parser;
// meaning of the three numeric fields U].
func (m *Module) published(msg netstack.Message) {
	total := len(msg.Payload)
	for off := 0; off < total || (total == 0 && off == 0); {
		n := min(m.cfg.MQTTChunk, total-off)
		var b strings.Builder
		b.WriteString(msg.Topic)
		for _, f := range []int{int(msg.QoS), boolInt(msg.Retained), boolInt(msg.Duplicate), n, total} {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(f))
		}
		b.WriteByte(':')
		b.Write(msg.Payload[off : off+n])
		m.wind(WindMQTTPublished, windText[WindMQTTPublished], mqttClientID, b.String())
		off += n
		if total == 0 {
			break
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// session checks the id field and returns the connected session.
func (m *Module) session(id string) (*mqttSession, Code) {
	if id == "" {
		return nil, ErrMissingArgs
	}
	if id != mqttClientID {
		return nil, ErrIllegalSocketID
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mqtt == nil {
		return nil, ErrSocketNotConn
	}
	return m.mqtt, 0
}

func parseQoS(s string) (byte, bool) {
	switch s {
	case "", "0": // empty: the default, 0 [U]
		return 0, true
	case "1":
		return 1, true
	case "2":
		return 2, true
	}
	return 0, false
}

// AT+S.MQTTPUB=<id>,<topic>,<qos>,<retained>,<len><CR><len bytes>
// [C spwf04.md §5, X1].
func (m *Module) cmdMQTTPUB(_ context.Context, r request) atengine.Reply {
	if r.arg(1) == "" {
		return fail(ErrMissingArgs)
	}
	qos, valid := parseQoS(r.arg(2))
	retain := r.arg(3) == "1"
	if !valid || (r.arg(3) != "" && r.arg(3) != "0" && !retain) {
		return fail(ErrInvalidArgs)
	}
	n, err := m.parseLen(r.arg(4))
	if err != nil {
		return failErr(err)
	}
	// The payload is read even when the client is not connected, so its
	// bytes never run as commands [I].
	topic := r.arg(1)
	return m.payload(n, func(ctx context.Context, data []byte) atengine.Reply {
		s, code := m.session(r.arg(0))
		if code != 0 {
			return fail(code)
		}
		cctx, cancel := context.WithTimeout(ctx, m.cfg.MQTTTimeout.Duration)
		defer cancel()
		if err := s.client.Publish(cctx, topic, qos, retain, data); err != nil {
			m.log.Info("MQTTPUB failed", "err", err)
			return fail(ErrRequestFailed)
		}
		return ok()
	})
}

// AT+S.MQTTSUB=<id>,<topic>,<qos> [C spwf04.md §5].
func (m *Module) cmdMQTTSUB(ctx context.Context, r request) atengine.Reply {
	if r.arg(1) == "" {
		return fail(ErrMissingArgs)
	}
	qos, valid := parseQoS(r.arg(2))
	if !valid {
		return fail(ErrInvalidArgs)
	}
	s, code := m.session(r.arg(0))
	if code != 0 {
		return fail(code)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.MQTTTimeout.Duration)
	defer cancel()
	granted, err := s.client.Subscribe(cctx, r.arg(1), qos)
	if err != nil || granted == 0x80 {
		m.log.Info("MQTTSUB failed", "granted", granted, "err", err)
		return fail(ErrRequestFailed)
	}
	return ok()
}

// AT+S.MQTTUNSUB=<id>,<topic> [C spwf04.md §5].
func (m *Module) cmdMQTTUNSUB(ctx context.Context, r request) atengine.Reply {
	if r.arg(1) == "" {
		return fail(ErrMissingArgs)
	}
	s, code := m.session(r.arg(0))
	if code != 0 {
		return fail(code)
	}
	cctx, cancel := context.WithTimeout(ctx, m.cfg.MQTTTimeout.Duration)
	defer cancel()
	if err := s.client.Unsubscribe(cctx, r.arg(1)); err != nil {
		m.log.Info("MQTTUNSUB failed", "err", err)
		return fail(ErrRequestFailed)
	}
	return ok()
}

// AT+S.MQTTDISC=<id> [C spwf04.md §5]: no +WIND:87 for a disconnect the
// host asked for [U].
func (m *Module) cmdMQTTDISC(_ context.Context, r request) atengine.Reply {
	s, code := m.session(r.arg(0))
	if code != 0 {
		return fail(code)
	}
	m.mu.Lock()
	if m.mqtt == s {
		m.mqtt = nil
	}
	m.mu.Unlock()
	s.close()
	return ok()
}
