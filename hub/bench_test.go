package hub

import (
	"crypto/tls"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	mqtt "github.com/mochi-mqtt/server/v2"
	mqttpackets "github.com/mochi-mqtt/server/v2/packets"
	"github.com/stretchr/testify/require"
)

// benchTarget is a server reachable over TLS with the hub's TLS setup.
type benchTarget struct {
	addr  string
	tls   *tls.Config
	user  string
	pass  string
	id    string
	close func()
}

// hubTarget runs the full emulator with one SAS device.
func hubTarget(b *testing.B) benchTarget {
	e, err := New(b.TempDir(), WithPKI(testPKI(b)), WithHostName(testHost), WithMQTTAddr("127.0.0.1:0"), WithWebSocketAddr(""))
	require.NoError(b, err)
	require.NoError(b, e.Start(b.Context()))
	key := make([]byte, 32)
	_, err = e.CreateDevice(DeviceSpec{ID: "bench", Auth: AuthSAS, PrimaryKey: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="})
	require.NoError(b, err)
	for i := range key {
		key[i] = byte(i)
	}
	roots, err := e.PKI().RootPool(e.HubRoot())
	require.NoError(b, err)
	return benchTarget{addr: e.MQTTAddr(), tls: &tls.Config{RootCAs: roots, ServerName: testHost},
		user: testHost + "/bench/?api-version=2021-04-12", pass: sasToken(testHost, "bench", key, time.Now().Add(time.Hour)),
		id: "bench", close: func() { _ = e.Close() }}
}

// baselineTarget runs a plain mochi server (allow-all auth, no hub hook)
// behind the same TLS listener and configuration.
func baselineTarget(b *testing.B) benchTarget {
	cfg := newConfig([]Option{WithHostName(testHost)})
	st := newServerTLS(cfg, testPKI(b))
	srv := NewMQTTServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, srv.AddHook(new(allowAll), nil))
	l := &tlsListener{id: "baseline", addr: "127.0.0.1:0", tlsCfg: st.tlsConfig(), timeout: 10 * time.Second,
		rec: newRecorder(cfg.log, nil, 16), clk: time.Now}
	require.NoError(b, srv.AddListener(l))
	require.NoError(b, srv.Serve())
	roots, err := testPKI(b).RootPool(st.hubRoot())
	require.NoError(b, err)
	return benchTarget{addr: l.Address(), tls: &tls.Config{RootCAs: roots, ServerName: testHost},
		user: "u", pass: "p", id: "bench", close: func() { l.shutdown(); _ = srv.Close() }}
}

func (bt benchTarget) connect(b *testing.B) *tls.Conn {
	c, err := tls.Dial("tcp", bt.addr, bt.tls)
	require.NoError(b, err)
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = "MQTT", 4, bt.id, 60, true
	cp.UsernameFlag, cp.Username, cp.PasswordFlag, cp.Password = true, bt.user, true, []byte(bt.pass)
	require.NoError(b, cp.Write(c))
	p, err := packets.ReadPacket(c)
	require.NoError(b, err)
	require.Equal(b, byte(0), p.(*packets.ConnackPacket).ReturnCode)
	return c
}

var benchTargets = []struct {
	name string
	make func(*testing.B) benchTarget
}{{"hub", hubTarget}, {"baseline-mochi", baselineTarget}}

// BenchmarkTLSConnect: TLS handshake + CONNECT/CONNACK + DISCONNECT per op.
func BenchmarkTLSConnect(b *testing.B) {
	for _, tg := range benchTargets {
		b.Run(tg.name, func(b *testing.B) {
			bt := tg.make(b)
			defer bt.close()
			_ = bt.connect(b).Close() // warm-up: the first handshake creates the server certificate
			for b.Loop() {
				c := bt.connect(b)
				_ = packets.NewControlPacket(packets.Disconnect).Write(c)
				_ = c.Close()
			}
		})
	}
}

// BenchmarkTelemetryQoS1: one telemetry PUBLISH QoS 1 and its PUBACK per op.
func BenchmarkTelemetryQoS1(b *testing.B) {
	payload := []byte(`{"temperature":21.5,"humidity":40}`)
	for _, tg := range benchTargets {
		b.Run(tg.name, func(b *testing.B) {
			bt := tg.make(b)
			defer bt.close()
			c := bt.connect(b)
			defer c.Close()
			pp := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
			pp.TopicName, pp.Qos, pp.Payload = "devices/bench/messages/events/%24.ct=application%2Fjson&k=v", 1, payload
			var id uint16
			for b.Loop() {
				id++
				if id == 0 {
					id = 1
				}
				pp.MessageID = id
				require.NoError(b, pp.Write(c))
				p, err := packets.ReadPacket(c)
				require.NoError(b, err)
				require.Equal(b, id, p.(*packets.PubackPacket).MessageID)
			}
		})
	}
}

// allowAll is the baseline's only hook: mochi refuses everything without an auth hook.
type allowAll struct{ mqtt.HookBase }

func (allowAll) ID() string { return "allow-all" }
func (allowAll) Provides(b byte) bool {
	return b == mqtt.OnConnectAuthenticate || b == mqtt.OnACLCheck
}
func (allowAll) OnConnectAuthenticate(*mqtt.Client, mqttpackets.Packet) bool { return true }
func (allowAll) OnACLCheck(*mqtt.Client, string, bool) bool                  { return true }
