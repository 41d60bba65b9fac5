package netstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

// Transport is how MQTT reaches the broker.
type Transport int

// Transports.
const (
	// TransportMQTT is MQTT 3.1.1 over TLS on port 8883.
	TransportMQTT Transport = iota
	// TransportWebSocket is MQTT over WebSockets over TLS on port 443.
	TransportWebSocket
)

// mqttProtocolLevel is MQTT 3.1.1, the only level the hub speaks
// (azure-iot-hub.md §1.2 [obs mosquitto#953]).
const mqttProtocolLevel = 4

// DefaultKeepAlive is the Serial Modem's default keep-alive
// (`#XMQTTCFG` keep_alive=60, nrf91.md §7 [S]).
const DefaultKeepAlive = 60 * time.Second

// MQTTOptions configures a connection.
type MQTTOptions struct {
	Host      string
	Port      int // default by transport: 8883 or 443
	Transport Transport
	// WebSocketPath is the request path and query for TransportWebSocket
	// (default WebSocketPath; add "?"+NoClientCertQuery as a device would).
	WebSocketPath string
	// WebSocketSubprotocols are offered on the upgrade: nil offers
	// WebSocketSubprotocol, an empty non-nil slice none (the hub answers
	// 400 without `mqtt`, FAILURE-CASES WS2).
	WebSocketSubprotocols []string

	ClientID, Username, Password string
	CleanSession                 bool
	// KeepAlive is sent in CONNECT and drives PINGREQ (default
	// DefaultKeepAlive; negative: 0, no keep-alive).
	KeepAlive time.Duration
	// Will, if Topic is set.
	WillTopic   string
	WillPayload []byte
	WillQoS     byte
	WillRetain  bool

	TLS TLSConfig

	// OnMessage receives every incoming PUBLISH, on the client's receive
	// goroutine, in order; keep it short. The payload is the caller's.
	OnMessage func(Message)
	// OnLost is called once when an established connection ends without
	// Disconnect; its error is an *Error.
	OnLost func(error)
}

// Message is an incoming PUBLISH.
type Message struct {
	Topic     string
	Payload   []byte
	QoS       byte
	Retained  bool
	Duplicate bool
	MessageID uint16
}

// MQTTClient is a connected MQTT session.
type MQTTClient struct {
	c    paho.Client
	host string
	tls  *ClientTLS

	once sync.Once
	done chan struct{}
	err  error
}

// MQTTConnect dials (DialTLS, and the WebSocket upgrade for
// TransportWebSocket), sends CONNECT and waits for CONNACK. A refusal is an
// *Error whose Err is a *ConnackError.
func (s *Stack) MQTTConnect(ctx context.Context, o MQTTOptions) (*MQTTClient, error) {
	port := o.Port
	if port == 0 {
		port = PortMQTT
		if o.Transport == TransportWebSocket {
			port = PortWebSocket
		}
	}
	conn, client, err := s.dialMQTTStream(ctx, o, port)
	if err != nil {
		return nil, err
	}
	m := &MQTTClient{host: o.Host, tls: client, done: make(chan struct{})}
	po := paho.NewClientOptions().
		SetClientID(o.ClientID).SetUsername(o.Username).SetPassword(o.Password).
		SetCleanSession(o.CleanSession).SetProtocolVersion(mqttProtocolLevel).
		SetAutoReconnect(false).SetConnectRetry(false).
		SetKeepAlive(keepAlive(o.KeepAlive)).
		SetOrderMatters(true).
		SetConnectTimeout(connectTimeout(ctx, s.timeout)).
		SetCustomOpenConnectionFn(onceConn(conn)).
		SetDefaultPublishHandler(func(_ paho.Client, pm paho.Message) {
			if o.OnMessage != nil {
				o.OnMessage(Message{Topic: pm.Topic(), Payload: pm.Payload(), QoS: pm.Qos(),
					Retained: pm.Retained(), Duplicate: pm.Duplicate(), MessageID: pm.MessageID()})
			}
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			e := &Error{Op: "mqtt", Host: o.Host, Class: Classify(err), Err: err}
			m.finish(e)
			if o.OnLost != nil {
				o.OnLost(e)
			}
		})
	// paho needs a broker URL even with a custom connection; it is not dialled.
	po.AddBroker((&url.URL{Scheme: "tls", Host: hostPort(o.Host, port, 0)}).String())
	if o.WillTopic != "" {
		po.SetBinaryWill(o.WillTopic, o.WillPayload, o.WillQoS, o.WillRetain)
	}
	m.c = paho.NewClient(po)
	tok := m.c.Connect()
	if err := waitToken(ctx, tok); err != nil {
		_ = conn.Close()
		m.c.Disconnect(0)
		return nil, &Error{Op: "mqtt-connect", Host: o.Host, Class: Classify(err), Err: err}
	}
	ct := tok.(*paho.ConnectToken)
	if err := ct.Error(); err != nil {
		_ = conn.Close()
		if rc := ct.ReturnCode(); rc > 0 && rc <= 5 {
			err = fmt.Errorf("%w: %w", &ConnackError{Code: rc}, err)
		}
		return nil, &Error{Op: "mqtt-connect", Host: o.Host, Class: Classify(err), Err: err}
	}
	return m, nil
}

// dialMQTTStream opens the byte stream MQTT runs on.
func (s *Stack) dialMQTTStream(ctx context.Context, o MQTTOptions, port int) (net.Conn, *ClientTLS, error) {
	tc, err := s.DialTLS(ctx, o.Host, port, o.TLS)
	if err != nil {
		return nil, nil, err
	}
	if o.Transport != TransportWebSocket {
		return tc, tc.Client, nil
	}
	path := o.WebSocketPath
	if path == "" {
		path = WebSocketPath
	}
	hostHeader := hostPort(o.Host, port, PortWebSocket)
	if err := s.checkRenegotiation(hostHeader, path, o.TLS); err != nil {
		_ = tc.Close()
		return nil, nil, &Error{Op: "websocket", Host: o.Host, Class: Classify(err), Err: err}
	}
	wctx, cancel := s.withTimeout(ctx)
	defer cancel()
	ws, err := upgradeWebSocket(wctx, tc, hostHeader, path, o.WebSocketSubprotocols)
	if err != nil {
		_ = tc.Close()
		return nil, nil, &Error{Op: "websocket", Host: o.Host, Class: Classify(err), Err: err}
	}
	return ws, tc.Client, nil
}

func keepAlive(d time.Duration) time.Duration {
	switch {
	case d == 0:
		return DefaultKeepAlive
	case d < 0:
		return 0
	}
	return d.Truncate(time.Second)
}

func connectTimeout(ctx context.Context, def time.Duration) time.Duration {
	if dl, ok := ctx.Deadline(); ok {
		if left := time.Until(dl); left > 0 && left < def {
			return left
		}
	}
	return def
}

// onceConn hands paho the connection the stack already made; with
// reconnection off paho asks once.
func onceConn(c net.Conn) paho.OpenConnectionFunc {
	var mu sync.Mutex
	used := false
	return func(*url.URL, paho.ClientOptions) (net.Conn, error) {
		mu.Lock()
		defer mu.Unlock()
		if used {
			return nil, errors.New("netstack: connection already used")
		}
		used = true
		return c, nil
	}
}

// waitToken waits for a paho token or the context.
func waitToken(ctx context.Context, t paho.Token) error {
	select {
	case <-t.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *MQTTClient) finish(err error) {
	m.once.Do(func() {
		m.err = err
		close(m.done)
	})
}

// TLS returns the TLS configuration the session was made with.
func (m *MQTTClient) TLS() *ClientTLS { return m.tls }

// Done is closed when the session ends (lost or disconnected).
func (m *MQTTClient) Done() <-chan struct{} { return m.done }

// Err is why the session ended: nil after Disconnect, an *Error if lost.
func (m *MQTTClient) Err() error {
	select {
	case <-m.done:
		return m.err
	default:
		return nil
	}
}

func (m *MQTTClient) opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Op: op, Host: m.host, Class: Classify(err), Err: err}
}

// Publish sends a PUBLISH and, for QoS 1 and 2, waits for its
// acknowledgement (PUBACK, or PUBREC/PUBCOMP).
func (m *MQTTClient) Publish(ctx context.Context, topic string, qos byte, retain bool, payload []byte) error {
	t := m.c.Publish(topic, qos, retain, payload)
	if err := waitToken(ctx, t); err != nil {
		return m.opError("mqtt-publish", err)
	}
	return m.opError("mqtt-publish", t.Error())
}

// Subscribe sends a SUBSCRIBE for one filter and returns the granted QoS
// (0x80 is a refusal, returned without error as the SUBACK carries it).
func (m *MQTTClient) Subscribe(ctx context.Context, filter string, qos byte) (byte, error) {
	t := m.c.Subscribe(filter, qos, nil)
	if err := waitToken(ctx, t); err != nil {
		return 0, m.opError("mqtt-subscribe", err)
	}
	if err := t.Error(); err != nil {
		return 0, m.opError("mqtt-subscribe", err)
	}
	granted, ok := t.(*paho.SubscribeToken).Result()[filter]
	if !ok {
		return 0, m.opError("mqtt-subscribe", errors.New("no SUBACK result for the filter"))
	}
	return granted, nil
}

// Unsubscribe sends an UNSUBSCRIBE and waits for UNSUBACK.
func (m *MQTTClient) Unsubscribe(ctx context.Context, filters ...string) error {
	t := m.c.Unsubscribe(filters...)
	if err := waitToken(ctx, t); err != nil {
		return m.opError("mqtt-unsubscribe", err)
	}
	return m.opError("mqtt-unsubscribe", t.Error())
}

// Disconnect sends DISCONNECT (after at most quiesce for work in flight)
// and closes the connection.
func (m *MQTTClient) Disconnect(quiesce time.Duration) {
	m.c.Disconnect(uint(quiesce / time.Millisecond))
	m.finish(nil)
}

// Connected reports whether the session is up.
func (m *MQTTClient) Connected() bool { return m.c.IsConnectionOpen() }
