package serialmodem

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

// mqttState is sm_at_mqtt.c's ctx: configuration and the one session.
type mqttState struct {
	clientID     string
	keepAlive    int
	cleanSession int
	url          string
	port         int
	secTag       int64 // -1: none (SEC_TAG_TLS_INVALID)
	client       *netstack.MQTTClient
	gen          int // which connect the client is, for its lost callback
}

func newMQTTState() mqttState {
	return mqttState{clientID: defaultClientID, keepAlive: defaultKeepAlive, cleanSession: defaultCleanSession, secTag: -1}
}

func evt(typ, result int) string { return fmt.Sprintf(fmtMQTTEvent, typ, result) }

func (f *Firmware) connected() *netstack.MQTTClient {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.mqtt.client
}

// mqttConfig is AT#XMQTTCFG=<client_id>[,<keep_alive>[,<clean_session>]].
func (f *Firmware) mqttConfig(_ context.Context, cmd atparser.Command) reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		return ok(fmt.Sprintf(fmtMQTTCfgRead, f.mqtt.clientID, f.mqtt.keepAlive, f.mqtt.cleanSession))
	case atparser.KindTest:
		return ok(mqttcfgTest)
	case atparser.KindSet:
	default:
		return fail(errInval)
	}
	id, good := stringParam(cmd, 0, maxClientIDLen+1)
	if !good {
		return fail(errInval)
	}
	// The firmware copies the client id before it checks anything else [S].
	f.mqtt.clientID = id
	ka, cs := int64(defaultKeepAlive), int64(defaultCleanSession)
	if cmd.ParamCount() > 1 {
		if ka, good = intParam(cmd, 1, 0, 65535); !good {
			return fail(errInval)
		}
	}
	if cmd.ParamCount() > 2 {
		if cs, good = intParam(cmd, 2, 0, 65535); !good {
			return fail(errInval)
		}
	}
	if f.mqtt.client != nil || (cs != 0 && cs != 1) {
		return fail(errInval)
	}
	f.mqtt.keepAlive, f.mqtt.cleanSession = int(ka), int(cs)
	return ok()
}

// mqttConnect is AT#XMQTTCON=<op>[,<username>,<password>,<url>,<port>[,<sec_tag>]].
func (f *Firmware) mqttConnect(ctx context.Context, cmd atparser.Command) reply {
	switch cmd.Kind {
	case atparser.KindRead:
		f.mu.Lock()
		defer f.mu.Unlock()
		m := f.mqtt
		switch {
		case m.client == nil:
			return ok(mqttConReadIdle)
		case m.secTag >= 0:
			return ok(fmt.Sprintf(fmtMQTTConReadTLS, m.clientID, m.url, m.port, m.secTag))
		}
		return ok(fmt.Sprintf(fmtMQTTConRead, m.clientID, m.url, m.port))
	case atparser.KindTest:
		return ok(mqttconTest)
	case atparser.KindSet:
	default:
		return fail(errInval)
	}
	op, good := cmd.IntParam(0)
	if !good {
		return fail(errInval)
	}
	switch op {
	case mqttDisconnect:
		c := f.connected()
		if c == nil {
			return fail(errNotConn)
		}
		f.mu.Lock()
		f.mqtt.client = nil
		f.mu.Unlock()
		c.Disconnect(0)
		f.notify(evt(evtDisconnect, 0))
		return ok()
	case mqttConnect, mqttConnect6:
	default:
		return fail(errInval)
	}
	user, good1 := stringParam(cmd, 1, f.maxUser+1)
	pass, good2 := stringParam(cmd, 2, f.maxPass+1)
	url, good3 := stringParam(cmd, 3, maxURLLen+1)
	port, good4 := intParam(cmd, 4, 0, 65535)
	if !good1 || !good2 || !good3 || !good4 {
		return fail(errInval)
	}
	secTag := int64(-1)
	if cmd.ParamCount() > 5 {
		var good bool
		if secTag, good = intParam(cmd, 5, 0, 1<<32-1); !good {
			return fail(errInval)
		}
	}
	f.mu.Lock()
	if f.mqtt.client != nil {
		f.mu.Unlock()
		return fail(errIsConn)
	}
	o := netstack.MQTTOptions{
		Host: url, Port: int(port), ClientID: f.mqtt.clientID, Username: user, Password: pass,
		CleanSession: f.mqtt.cleanSession == 1, KeepAlive: time.Duration(f.mqtt.keepAlive) * time.Second,
		// TLS: one sec tag, peer_verify REQUIRED, hostname = the URL [S do_mqtt_connect].
		TLS:       netstack.TLSConfig{SecTags: []uint32{uint32(secTag)}, PeerVerify: netstack.VerifyRequired, HostName: url},
		OnMessage: f.mqttMessage,
	}
	if f.mqtt.keepAlive == 0 {
		o.KeepAlive = -1
	}
	f.mu.Unlock()
	// broker_init: resolution fails without a PDN → -EAGAIN [S].
	if !f.online() {
		f.log.Info("ERROR: mqtt_connect: not registered", "errno", int(errAgain))
		return fail(errAgain)
	}
	if secTag < 0 {
		return f.plainConnect(ctx, o)
	}
	f.mu.Lock()
	f.mqtt.gen++
	gen := f.mqtt.gen
	f.mu.Unlock()
	o.OnLost = func(err error) { f.mqttLost(gen, err) }
	c, err := f.deps.Stack.MQTTConnect(ctx, o)
	if err != nil {
		return f.connectFailed(err)
	}
	f.mu.Lock()
	f.mqtt.client, f.mqtt.url, f.mqtt.port, f.mqtt.secTag = c, url, int(port), secTag
	f.mu.Unlock()
	f.notify(evt(evtConnack, 0))
	return ok()
}

// connectFailed is how a failed connect shows: mqtt_connect fails (ERROR,
// the errno only logged) when resolution, TCP or TLS fail; a CONNACK
// refusal arrives after OK as MQTT_EVT_CONNACK with the return code, then
// MQTT_EVT_DISCONNECT with -ECONNREFUSED (Zephyr mqtt_rx.c [S]).
func (f *Firmware) connectFailed(err error) reply {
	rep := errmap.For(errmap.NRF91Modem, err)
	var ne *netstack.Error
	if errors.As(err, &ne) && ne.Op == "mqtt-connect" {
		if rep.Connack != 0 {
			f.notify(evt(evtConnack, rep.Connack))
			f.notify(evt(evtDisconnect, rep.Errno))
			return ok()
		}
		// CONNECT was sent and the broker closed or went silent.
		f.notify(evt(evtDisconnect, lostErrno(err)))
		return ok()
	}
	code := rep.Errno
	if rep.EAI != 0 {
		code = int(errAgain) // broker_init maps any resolution failure to -EAGAIN [S]
	}
	f.log.Info(fmt.Sprintf("ERROR: mqtt_connect %d", code), "err", err)
	return fail(errno(code))
}

// lostErrno is the MQTT_EVT_DISCONNECT result for a session that ended
// without DISCONNECT.
func lostErrno(err error) int {
	if netstack.Classify(err) == netstack.ClassPeerClosed {
		return errnoNotConn
	}
	if r := errmap.For(errmap.NRF91Modem, err); r.Errno != 0 {
		return r.Errno
	}
	return errnoNotConn
}

func (f *Firmware) mqttLost(gen int, err error) {
	f.mu.Lock()
	if f.mqtt.client == nil || f.mqtt.gen != gen {
		f.mu.Unlock()
		return
	}
	f.mqtt.client = nil
	f.mu.Unlock()
	f.notify(evt(evtDisconnect, lostErrno(err)))
}

// mqttMessage is handle_mqtt_publish_evt: "#XMQTTMSG: <topic_len>,<payload_len>",
// the topic, the payload, each followed by CRLF, then MQTT_EVT_PUBLISH [S].
func (f *Firmware) mqttMessage(m netstack.Message) {
	f.notify(fmt.Sprintf(fmtMQTTMsg, len(m.Topic), len(m.Payload), m.Topic, m.Payload))
	f.notify(evt(evtPublish, 0))
}

// mqttPublish is AT#XMQTTPUB=<topic>[,<msg>[,<qos>[,<retain>]]]; no
// message enters data mode.
func (f *Firmware) mqttPublish(ctx context.Context, cmd atparser.Command) reply {
	c := f.connected()
	if c == nil {
		return fail(errNotConn) // checked before the form [S]
	}
	switch cmd.Kind {
	case atparser.KindTest:
		return ok(mqttpubTest)
	case atparser.KindSet:
	default:
		return fail(errInval)
	}
	topic, good := stringParam(cmd, 0, maxTopicLen+1)
	if !good {
		return fail(errInval)
	}
	var msg string
	if cmd.ParamCount() > 1 && !cmd.IsEmptyParam(1) {
		if msg, good = cmd.StringParam(1); !good {
			return fail(errInval)
		}
	}
	qos, retain := int64(0), int64(0)
	if cmd.ParamCount() > 2 {
		if qos, good = intParam(cmd, 2, 0, 65535); !good {
			return fail(errInval)
		}
	}
	if cmd.ParamCount() > 3 {
		if retain, good = intParam(cmd, 3, 0, 65535); !good {
			return fail(errInval)
		}
	}
	if qos > 2 || retain > 1 {
		return fail(errInval)
	}
	pub := func(ctx context.Context, payload []byte) error {
		return f.publish(ctx, c, topic, byte(qos), retain == 1, payload)
	}
	if msg == "" {
		return reply{then: f.dataMode(pub)}
	}
	if err := pub(ctx, []byte(msg)); err != nil {
		return fail(errno(lostErrno(err)))
	}
	return ok()
}

// publish sends one PUBLISH and raises the acknowledgement events the
// Zephyr client reports (PUBACK; PUBREC then PUBCOMP, which paho hides and
// which are emitted when the exchange completes).
func (f *Firmware) publish(ctx context.Context, c *netstack.MQTTClient, topic string, qos byte, retain bool, payload []byte) error {
	if err := c.Publish(ctx, topic, qos, retain, payload); err != nil {
		return err
	}
	switch qos {
	case 1:
		f.notify(evt(evtPuback, 0))
	case 2:
		f.notify(evt(evtPubrec, 0))
		f.notify(evt(evtPubcomp, 0))
	}
	return nil
}

// dataMode reads raw bytes until "+++" and sends them with send: what
// arrives before an idle pause is sent as one message, as the firmware's
// inactivity timer does; more than the buffer is an overflow, after which
// bytes are dropped until "+++" and the exit reports -1 [S sm_at_host.c].
func (f *Firmware) dataMode(send func(context.Context, []byte) error) *atengine.Payload {
	p := &atengine.Payload{Until: []byte(dataModeTerminator), Max: dataModeBufSize, Timeout: f.idle}
	p.Done = func(ctx context.Context, data []byte, cut bool) atengine.Reply {
		overflow := cut && len(data) > dataModeBufSize
		if overflow {
			f.log.Warn("Data mode buffer overflow")
			return atengine.Reply{Then: f.dropUntilTerminator()}
		}
		if len(data) > 0 {
			if err := send(ctx, data); err != nil {
				f.log.Warn("data mode send failed", "err", err)
				return atengine.Reply{Then: f.dropUntilTerminator()}
			}
		}
		if cut { // an idle pause: still in data mode
			return atengine.Reply{Then: p}
		}
		return atengine.Reply{Out: []byte(crlf + dataModeExitOK + crlf)}
	}
	return p
}

// dropUntilTerminator is SM_NULL_MODE: everything is dropped until "+++",
// then data mode exits with the handler's error.
func (f *Firmware) dropUntilTerminator() *atengine.Payload {
	p := &atengine.Payload{Until: []byte(dataModeTerminator), Max: dataModeBufSize}
	p.Done = func(_ context.Context, _ []byte, cut bool) atengine.Reply {
		if cut {
			return atengine.Reply{Then: p}
		}
		return atengine.Reply{Out: []byte(crlf + dataModeExitError + crlf)}
	}
	return p
}

// mqttSubscribe is AT#XMQTTSUB=<topic>,<qos>.
func (f *Firmware) mqttSubscribe(ctx context.Context, cmd atparser.Command) reply {
	c := f.connected()
	if c == nil {
		return fail(errNotConn)
	}
	switch cmd.Kind {
	case atparser.KindTest:
		return ok(mqttsubTest)
	case atparser.KindSet:
	default:
		return fail(errInval)
	}
	topic, good := stringParam(cmd, 0, maxTopicLen+1)
	qos, good2 := intParam(cmd, 1, 0, 2)
	if cmd.ParamCount() != 2 || !good || !good2 {
		return fail(errInval)
	}
	if _, err := c.Subscribe(ctx, topic, byte(qos)); err != nil {
		return fail(errno(lostErrno(err)))
	}
	f.notify(evt(evtSuback, 0))
	return ok()
}

// mqttUnsubscribe is AT#XMQTTUNSUB=<topic>.
func (f *Firmware) mqttUnsubscribe(ctx context.Context, cmd atparser.Command) reply {
	c := f.connected()
	if c == nil {
		return fail(errNotConn)
	}
	switch cmd.Kind {
	case atparser.KindTest:
		return ok(mqttunsubTest)
	case atparser.KindSet:
	default:
		return fail(errInval)
	}
	topic, good := stringParam(cmd, 0, maxTopicLen+1)
	if cmd.ParamCount() != 1 || !good {
		return fail(errInval)
	}
	if err := c.Unsubscribe(ctx, topic); err != nil {
		return fail(errno(lostErrno(err)))
	}
	f.notify(evt(evtUnsuback, 0))
	return ok()
}

// plainConnect is #XMQTTCON without a sec tag: MQTT_TRANSPORT_NON_SECURE.
// mqtt_connect opens TCP and sends CONNECT, then returns (OK); the broker's
// answer arrives as an event. The hub only speaks TLS on its ports, so it
// drops the connection and the session ends with MQTT_EVT_DISCONNECT. A
// plain broker that accepts is not simulated (netstack speaks MQTT over
// TLS only) and is reported the same way [I].
func (f *Firmware) plainConnect(ctx context.Context, o netstack.MQTTOptions) reply {
	conn, err := f.deps.Stack.DialTCP(ctx, o.Host, o.Port)
	if err != nil {
		return f.connectFailed(err)
	}
	p := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	p.ProtocolName, p.ProtocolVersion, p.ClientIdentifier = "MQTT", 4, o.ClientID
	p.CleanSession, p.Keepalive = o.CleanSession, uint16(o.KeepAlive/time.Second)
	if o.Username != "" {
		p.UsernameFlag, p.Username = true, o.Username
		if o.Password != "" {
			p.PasswordFlag, p.Password = true, []byte(o.Password)
		}
	}
	if err := p.Write(conn); err != nil {
		_ = conn.Close()
		return fail(errno(lostErrno(err)))
	}
	go func() {
		defer conn.Close()
		wait := 2 * o.KeepAlive // no answer within 1.5 keep-alives is a dead broker (MQTT 3.1.1 §3.1.2.10)
		if wait <= 0 {
			wait = 2 * defaultKeepAlive * time.Second
		}
		_ = conn.SetReadDeadline(time.Now().Add(wait))
		_, err := packets.ReadPacket(conn)
		if err == nil {
			f.log.Warn("a plain MQTT broker answered; plain sessions are not simulated")
			err = io.EOF
		}
		f.notify(evt(evtDisconnect, lostErrno(&netstack.Error{Op: "mqtt", Host: o.Host, Class: netstack.Classify(err), Err: err})))
	}()
	return ok()
}
