package hub

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

const testHost = "testhub.azure-devices.net"

var (
	sharedPKIOnce sync.Once
	sharedPKI     *pki.PKI
	sharedPKIErr  error
	sharedPKIDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hub-pki-")
	if err != nil {
		panic(err)
	}
	sharedPKIDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// testPKI loads the stand-in PKI once per test binary (RSA roots are slow).
func testPKI(tb testing.TB) *pki.PKI {
	tb.Helper()
	sharedPKIOnce.Do(func() { sharedPKI, sharedPKIErr = pki.LoadOrCreate(sharedPKIDir) })
	require.NoError(tb, sharedPKIErr)
	return sharedPKI
}

type harness struct {
	t *testing.T
	e *Emulator
}

func newHarness(t *testing.T, opts ...Option) *harness {
	t.Helper()
	base := []Option{WithPKI(testPKI(t)), WithHostName(testHost), WithMQTTAddr("127.0.0.1:0"), WithWebSocketAddr("127.0.0.1:0")}
	e, err := New(t.TempDir(), append(base, opts...)...)
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	return &harness{t: t, e: e}
}

// roots returns a pool with the stand-in root(s) a device trusts.
func (h *harness) roots(names ...pki.RootName) *x509.CertPool {
	if len(names) == 0 {
		names = []pki.RootName{h.e.HubRoot()}
	}
	p, err := h.e.PKI().RootPool(names...)
	require.NoError(h.t, err)
	return p
}

func (h *harness) sasDevice(id string) []byte {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	_, err := h.e.CreateDevice(DeviceSpec{ID: id, Auth: AuthSAS, PrimaryKey: base64.StdEncoding.EncodeToString(key)})
	require.NoError(h.t, err)
	return key
}

// sasToken signs the device resource the way the Embedded C SDK does (%2F).
func sasToken(host, dev string, key []byte, exp time.Time) string {
	return sas.Sign(url.QueryEscape(host+"/devices/"+dev), key, exp, "")
}

type dial struct {
	id, user, pass string
	cert           *tls.Certificate
	ws             bool
	wsPath         string // default WebSocketPath + "?iothub-no-client-cert=true" unless wsQuery set
	roots          *x509.CertPool
	clean          bool
	willTopic      string
	willPayload    []byte
	now            func() time.Time // device clock for certificate checks
	serverName     string           // TLS ServerName (default testHost; "-" sends none)
}

type device struct {
	c    paho.Client
	lost chan error
	msgs chan paho.Message
}

func (h *harness) connect(d dial) (*device, byte, error) {
	h.t.Helper()
	dev, code, err := h.dialDevice(d)
	if err == nil {
		h.t.Cleanup(func() { dev.c.Disconnect(0) })
	}
	return dev, code, err
}

// dialDevice connects like connect but leaves the disconnect to the caller
// (the soak test opens thousands of sessions).
func (h *harness) dialDevice(d dial) (*device, byte, error) {
	h.t.Helper()
	if d.user == "" {
		d.user = testHost + "/" + d.id + "/?api-version=2021-04-12"
	}
	if d.roots == nil {
		d.roots = h.roots()
	}
	sn := testHost
	switch d.serverName {
	case "":
	case "-":
		sn = ""
	default:
		sn = d.serverName
	}
	tc := &tls.Config{RootCAs: d.roots, ServerName: sn, MinVersion: tls.VersionTLS12, Time: d.now}
	if d.cert != nil {
		tc.Certificates = []tls.Certificate{*d.cert}
	}
	dev := &device{lost: make(chan error, 1), msgs: make(chan paho.Message, 64)}
	o := paho.NewClientOptions().SetClientID(d.id).SetUsername(d.user).SetPassword(d.pass).
		SetTLSConfig(tc).SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).
		SetCleanSession(d.clean).SetConnectTimeout(15 * time.Second).SetWriteTimeout(10 * time.Second).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { dev.msgs <- m }).
		SetConnectionLostHandler(func(_ paho.Client, err error) { dev.lost <- err })
	if d.willTopic != "" {
		o.SetBinaryWill(d.willTopic, d.willPayload, 1, false)
	}
	if d.ws {
		path := d.wsPath
		if path == "" {
			path = WebSocketPath + "?" + NoClientCertQuery + "=true"
		}
		o.AddBroker("wss://" + h.e.WebSocketAddr() + path)
	} else {
		o.AddBroker("tls://" + h.e.MQTTAddr())
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(20 * time.Second) {
		return nil, 0, fmt.Errorf("connect timeout")
	}
	ct := tok.(*paho.ConnectToken)
	if err := tok.Error(); err != nil {
		return nil, ct.ReturnCode(), err
	}
	dev.c = c
	return dev, 0, nil
}

func (h *harness) mustConnect(d dial) *device {
	h.t.Helper()
	dev, code, err := h.connect(d)
	require.NoError(h.t, err, "connack %d", code)
	return dev
}

// lastReason returns the newest recorded reason.
func (h *harness) lastReason() Reason {
	rs := h.e.Reasons()
	require.NotEmpty(h.t, rs)
	return rs[len(rs)-1]
}

// waitReason waits until a reason with check appears.
func (h *harness) waitReason(check Check) Reason {
	h.t.Helper()
	var got Reason
	require.Eventually(h.t, func() bool {
		for _, r := range h.e.Reasons() {
			if r.Check == check {
				got = r
				return true
			}
		}
		return false
	}, 10*time.Second, 10*time.Millisecond, "no reason %s in %v", check, h.e.Reasons())
	return got
}

func (d *device) sub(t *testing.T, filter string, qos byte) byte {
	t.Helper()
	tok := d.c.Subscribe(filter, qos, nil)
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
	return tok.(*paho.SubscribeToken).Result()[filter]
}

func (d *device) pub(t *testing.T, topic string, qos byte, payload []byte) {
	t.Helper()
	tok := d.c.Publish(topic, qos, false, payload)
	require.True(t, tok.WaitTimeout(10*time.Second))
	require.NoError(t, tok.Error())
}

func (d *device) waitMsg(t *testing.T, prefix string) paho.Message {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case m := <-d.msgs:
			if strings.HasPrefix(m.Topic(), prefix) {
				return m
			}
		case <-deadline:
			t.Fatalf("no message on %s", prefix)
		}
	}
}

func (d *device) waitLost(t *testing.T) error {
	t.Helper()
	select {
	case err := <-d.lost:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed")
	}
	return nil
}

// newCA makes a test CA (ECDSA, fast); parent nil = self-signed root.
func newCA(t testing.TB, cn string, parent *pki.Authority) *pki.Authority {
	now := time.Now()
	a, err := pki.NewCA(rand.Reader, cn, parent, now.Add(-time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	return a
}

func newLeaf(t testing.TB, cn string, issuer *pki.Authority) *pki.Authority {
	now := time.Now()
	a, err := pki.NewLeaf(rand.Reader, cn, issuer, now.Add(-time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	return a
}

func tlsCert(leaf *pki.Authority, chain ...*pki.Authority) *tls.Certificate {
	c := &tls.Certificate{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}
	for _, a := range chain {
		c.Certificate = append(c.Certificate, a.Cert.Raw)
	}
	return c
}

// rawConn is a TLS connection driven with paho's packet codec, for checks
// paho's client cannot make (bytes after a close, a second CONNECT).
type rawConn struct {
	net.Conn
}

func (h *harness) raw(id, pass string) *rawConn {
	h.t.Helper()
	c, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost})
	require.NoError(h.t, err)
	h.t.Cleanup(func() { _ = c.Close() })
	r := &rawConn{c}
	if id != "" {
		ack := r.connect(h.t, id, pass, 4)
		require.Equal(h.t, byte(0), ack.ReturnCode)
	}
	return r
}

func (r *rawConn) connect(t *testing.T, id, pass string, level byte) *packets.ConnackPacket {
	t.Helper()
	return r.connectKeepAlive(t, id, pass, level, 60)
}

func (r *rawConn) connectKeepAlive(t *testing.T, id, pass string, level byte, keepAlive uint16) *packets.ConnackPacket {
	t.Helper()
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", level
	if level == 3 {
		cp.ProtocolName = "MQIsdp"
	}
	cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = id, keepAlive, true
	cp.UsernameFlag, cp.Username = true, testHost+"/"+id+"/?api-version=2021-04-12"
	cp.PasswordFlag, cp.Password = true, []byte(pass)
	require.NoError(t, cp.Write(r))
	_ = r.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := packets.ReadPacket(r)
	require.NoError(t, err)
	ack, ok := p.(*packets.ConnackPacket)
	require.True(t, ok, "got %T", p)
	return ack
}

// expectClosedSilently asserts the server closes without sending a byte.
func (r *rawConn) expectClosedSilently(t *testing.T) {
	t.Helper()
	_ = r.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 16)
	n, err := r.Read(b)
	require.Error(t, err)
	require.Zero(t, n, "server sent %x before closing", b[:n])
	var ne net.Error
	if errorsAs(err, &ne) {
		require.False(t, ne.Timeout(), "connection not closed: %v", err)
	}
}

func errorsAs(err error, target *net.Error) bool { return errors.As(err, target) }
