package hub

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

// §1.3 constructed vector: key = bytes 0..31.
func vectorKey() []byte {
	k := make([]byte, 32)
	for i := range k {
		k[i] = byte(i)
	}
	return k
}

func TestSASVectors(t *testing.T) {
	t.Parallel()
	key := vectorKey()
	require.Equal(t, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", base64.StdEncoding.EncodeToString(key))
	se := time.Unix(1900000000, 0)
	tok := sas.Sign("myhub.azure-devices.net%2Fdevices%2Fdev1", key, se, "")
	require.Equal(t, "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=2%2FbbVukbBxhdR4aRdJgLLhQzyetTcv8yWMS4N9W7HVY%3D&se=1900000000", tok)
	lower := sas.Sign("myhub.azure-devices.net%2fdevices%2fdev1", key, se, "")
	require.Contains(t, lower, "sig="+url.QueryEscape("LZNJ7dZSH8R77oICFFya0IZ5aqc+3yTvHIp7SbrH+hM="))

	// The hub accepts both casings when each is signed over its own text,
	// and refuses the %2f text carrying the %2F signature (H2).
	clock := func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	s, err := NewService(t.TempDir(), WithHostName("myhub.azure-devices.net"), WithClock(clock))
	require.NoError(t, err)
	_, err = s.CreateDevice(DeviceSpec{ID: "dev1", Auth: AuthSAS, PrimaryKey: base64.StdEncoding.EncodeToString(key)})
	require.NoError(t, err)
	d, err := s.Device("dev1")
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		token string
		ok    bool
	}{
		{"upper escapes", tok, true},
		{"lower escapes", lower, true},
		{"lower sr with upper signature", strings.Replace(tok, "%2Fdevices%2F", "%2fdevices%2f", 1), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := s.authSAS(d, tc.token)
			if tc.ok {
				require.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.Equal(t, CheckSASSignature, r.reason.Check)
			assert.Equal(t, "myhub.azure-devices.net%2fdevices%2fdev1\n1900000000", r.reason.Values["stringToSign"])
		})
	}
}

func TestConnectSASAndTelemetry(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tele, stop := h.e.Telemetry(8)
	defer stop()
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	d.pub(t, "devices/dev1/messages/events/?%24.ct=application%2Fjson&%24.ce=utf-8&color=red%20blue", 1, []byte(`{"t":21}`))
	tok := d.c.Publish("devices/dev1/messages/events/a=1", 0, true, []byte("r"))
	require.True(t, tok.WaitTimeout(10*time.Second))

	m := <-tele
	assert.Equal(t, "dev1", m.DeviceID)
	assert.Equal(t, `{"t":21}`, string(m.Payload))
	assert.Equal(t, map[string]string{"color": "red blue"}, m.Properties)
	assert.Equal(t, map[string]string{"ct": "application/json", "ce": "utf-8"}, m.SystemProperties)
	m = <-tele
	assert.Equal(t, map[string]string{"a": "1", retainProperty: "true"}, m.Properties)
	assert.True(t, h.e.Connected("dev1"))
	atts := h.e.Attempts()
	require.NotEmpty(t, atts)
	assert.Equal(t, OutcomeAccepted, atts[len(atts)-1].Outcome)
}

func TestSASVariants(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	d, err := h.e.Device("dev1")
	require.NoError(t, err)
	sec, _ := base64.StdEncoding.DecodeString(d.SecondaryKey)
	devPol, err := h.e.Policy("device")
	require.NoError(t, err)
	polKey, _ := base64.StdEncoding.DecodeString(devPol.PrimaryKey)
	svcPol, err := h.e.Policy("service")
	require.NoError(t, err)
	svcKey, _ := base64.StdEncoding.DecodeString(svcPol.PrimaryKey)
	future := time.Now().Add(time.Hour)
	for _, tc := range []struct {
		name  string
		user  string
		token string
		code  byte
		check Check
	}{
		{"secondary key", "", sasToken(testHost, "dev1", sec, future), 0, ""},
		{"policy DeviceConnect on devices prefix", "", sas.Sign(url.QueryEscape(testHost+"/devices"), polKey, future, "device"), 0, ""},
		{"old C SDK username without ?", testHost + "/dev1/api-version=2016-11-14&DeviceClientType=x", sasToken(testHost, "dev1", key, future), 0, ""},
		{"bare username", testHost + "/dev1", sasToken(testHost, "dev1", key, future), 0, ""},
		{"bad signature", "", sasToken(testHost, "dev1", []byte("wrong key"), future), 5, CheckSASSignature},
		{"expired", "", sasToken(testHost, "dev1", key, time.Now().Add(-time.Hour)), 5, CheckSASExpired},
		{"other device resource", "", sasToken(testHost, "dev2", key, future), 5, CheckSASResource},
		{"policy without DeviceConnect", "", sas.Sign(url.QueryEscape(testHost+"/devices"), svcKey, future, "service"), 5, CheckSASPolicy},
		{"malformed", "", "SharedAccessSignature nonsense", 5, CheckSASMalformed},
		{"wrong hub in username", "other.azure-devices.net/dev1/?api-version=2021-04-12", sasToken(testHost, "dev1", key, future), 5, CheckHostName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(h.e.Reasons())
			dev, code, err := h.connect(dial{id: "dev1", user: tc.user, pass: tc.token})
			if tc.code == 0 {
				require.NoError(t, err)
				dev.c.Disconnect(0)
				return
			}
			require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
			assert.Equal(t, tc.code, code)
			rs := h.e.Reasons()
			require.Greater(t, len(rs), n)
			assert.Equal(t, tc.check, rs[len(rs)-1].Check)
			assert.Equal(t, "hub", rs[len(rs)-1].Service)
		})
	}
}

func TestH2PercentCaseRecordsStringToSign(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	exp := time.Now().Add(time.Hour)
	// Signed over %2F, but the device sends sr with %2f.
	good := sasToken(testHost, "dev1", key, exp)
	bad := strings.ReplaceAll(good, "%2F", "%2f")
	_, code, err := h.connect(dial{id: "dev1", pass: bad})
	require.Error(t, err)
	assert.Equal(t, byte(5), code)
	r := h.lastReason()
	assert.Equal(t, CheckSASSignature, r.Check)
	assert.Contains(t, r.Values["stringToSign"], testHost+"%2fdevices%2fdev1\n")
	assert.Contains(t, r.Detail, "%2fdevices%2fdev1")
}

func TestDisabledUnknownAndClientID(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []Option
		code byte
	}{{"default code 5", nil, 5}, {"code 3 switch", []Option{WithDisabledConnackCode(3)}, 3}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts...)
			key := h.sasDevice("dev1")
			_, err := h.e.SetDeviceEnabled("dev1", false)
			require.NoError(t, err)
			_, code, err := h.connect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
			require.Error(t, err)
			assert.Equal(t, tc.code, code)
			assert.Equal(t, CheckDeviceDisabled, h.lastReason().Check)
		})
	}
	t.Run("unknown device and client id mismatch", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		key := h.sasDevice("dev1")
		_, code, err := h.connect(dial{id: "ghost", pass: sasToken(testHost, "ghost", key, time.Now().Add(time.Hour))})
		require.Error(t, err)
		assert.Equal(t, byte(5), code)
		assert.Equal(t, CheckDeviceNotFound, h.lastReason().Check)
		_, code, err = h.connect(dial{id: "Dev1", user: testHost + "/dev1/?api-version=2021-04-12", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
		require.Error(t, err)
		assert.Equal(t, byte(5), code)
		assert.Equal(t, CheckClientID, h.lastReason().Check)
	})
}

func TestDisableWhileConnectedCloses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	_, err := h.e.SetDeviceEnabled("dev1", false)
	require.NoError(t, err)
	d.waitLost(t)
	h.waitReason(CheckDisabledLive)
}

func TestProtocolLevel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	// 3 (MQIsdp) and a mosquitto bridge's 0x83 (§1.2 [obs mosquitto#953]).
	for _, lvl := range []byte{3, 0x83} {
		r := h.raw("", "")
		ack := r.connect(t, "dev1", sasToken(testHost, "dev1", key, time.Now().Add(time.Hour)), lvl)
		assert.Equal(t, byte(1), ack.ReturnCode, "level %d", lvl)
		assert.Equal(t, CheckProtocolVersion, h.lastReason().Check)
	}
}

func TestX509SelfSigned(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	self := newCA(t, "dev-x", nil) // a self-signed certificate
	other := newCA(t, "dev-x", nil)
	for _, tc := range []struct {
		name  string
		thumb string
		cert  *tls.Certificate
		ok    bool
		check Check
	}{
		{"sha1 thumbprint", pki.ThumbprintSHA1(self.Cert), tlsCert(self), true, ""},
		{"sha256 thumbprint lower case with colons", colons(strings.ToLower(pki.ThumbprintSHA256(self.Cert))), tlsCert(self), true, ""},
		{"thumbprint mismatch", pki.ThumbprintSHA256(self.Cert), tlsCert(other), false, CheckX509Thumbprint},
		{"no client certificate", pki.ThumbprintSHA256(self.Cert), nil, false, CheckX509NoCert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := strings.ReplaceAll(tc.name, " ", "-")
			_, err := h.e.CreateDevice(DeviceSpec{ID: id, Auth: AuthSelfSigned, PrimaryThumbprint: tc.thumb})
			require.NoError(t, err)
			dev, code, err := h.connect(dial{id: id, cert: tc.cert})
			if tc.ok {
				require.NoError(t, err)
				dev.c.Disconnect(0)
				return
			}
			require.ErrorIs(t, err, packets.ErrorRefusedNotAuthorised)
			assert.Equal(t, byte(5), code)
			assert.Equal(t, tc.check, h.lastReason().Check)
		})
	}
}

func colons(hex string) string {
	var b strings.Builder
	for i := 0; i < len(hex); i += 2 {
		if i > 0 {
			b.WriteByte(':')
		}
		b.WriteString(hex[i : i+2])
	}
	return b.String()
}

func TestX509CASigned(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	root := newCA(t, "Test Root", nil)
	inter := newCA(t, "Test Intermediate", root)
	_, err := h.e.AddCA("root", root.CertPEM(), false)
	require.NoError(t, err)
	for _, id := range []string{"ca-dev", "ca-unverified", "ca-nointer", "ca-cn"} {
		_, err := h.e.CreateDevice(DeviceSpec{ID: id, Auth: AuthCA})
		require.NoError(t, err)
	}
	// Unverified CA first.
	_, code, err := h.connect(dial{id: "ca-unverified", cert: tlsCert(newLeaf(t, "ca-unverified", inter), inter)})
	require.Error(t, err)
	assert.Equal(t, byte(5), code)
	assert.Equal(t, CheckX509CAUnverified, h.lastReason().Check)
	assert.Equal(t, "root", h.lastReason().Values["ca"])

	// Proof of possession: wrong signer fails, the CA's key succeeds.
	code1, err := h.e.CAVerificationCode("root")
	require.NoError(t, err)
	bogus, err := pki.NewVerificationCert(rand.Reader, code1, newCA(t, "Test Root", nil), time.Now())
	require.NoError(t, err)
	require.ErrorIs(t, h.e.VerifyCA("root", pemOf(bogus.Raw)), ErrVerification)
	vc, err := pki.NewVerificationCert(rand.Reader, code1, root, time.Now())
	require.NoError(t, err)
	require.NoError(t, h.e.VerifyCA("root", pemOf(vc.Raw)))
	assert.True(t, h.e.CAs()[0].Verified)

	for _, tc := range []struct {
		name  string
		id    string
		cert  *tls.Certificate
		check Check
	}{
		{"chain to verified CA", "ca-dev", tlsCert(newLeaf(t, "ca-dev", inter), inter), ""},
		{"missing intermediate", "ca-nointer", tlsCert(newLeaf(t, "ca-nointer", inter)), CheckX509Chain},
		{"CN differs from device id", "ca-cn", tlsCert(newLeaf(t, "someone-else", inter), inter), CheckX509CommonName},
		{"CA certificate used as device certificate (W3)", "ca-cn", tlsCert(root), CheckX509CommonName},
		{"no client certificate", "ca-dev", nil, CheckX509NoCert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev, code, err := h.connect(dial{id: tc.id, cert: tc.cert})
			if tc.check == "" {
				require.NoError(t, err)
				dev.c.Disconnect(0)
				return
			}
			require.Error(t, err)
			assert.Equal(t, byte(5), code)
			assert.Equal(t, tc.check, h.lastReason().Check)
		})
	}
}

func pemOf(der []byte) []byte {
	return []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString(der) + "\n-----END CERTIFICATE-----\n")
}

func TestTwin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})

	// Before subscribing to the response topic, the answer is undeliverable.
	d.pub(t, "$iothub/twin/GET/?$rid=early", 1, nil)
	select {
	case m := <-d.msgs:
		t.Fatalf("unexpected %s", m.Topic())
	case <-time.After(300 * time.Millisecond):
	}
	rs := h.waitReason(CheckUndeliverable)
	assert.Equal(t, "$iothub/twin/res/200/?$rid=early", rs.Values["topic"])

	assert.Equal(t, byte(1), d.sub(t, "$iothub/twin/res/#", 2), "QoS 2 granted as 1")
	d.sub(t, "$iothub/twin/PATCH/properties/desired/#", 1)
	d.pub(t, "$iothub/twin/GET/?$rid=abc%2F1", 1, nil)
	m := d.waitMsg(t, "$iothub/twin/res/")
	assert.Equal(t, "$iothub/twin/res/200/?$rid=abc%2F1", m.Topic())
	assert.JSONEq(t, `{"desired":{"$version":1},"reported":{"$version":1}}`, string(m.Payload()))

	d.pub(t, "$iothub/twin/PATCH/properties/reported/?$rid=2", 1, []byte(`{"fw":"1.0","nested":{"a":1}}`))
	m = d.waitMsg(t, "$iothub/twin/res/")
	assert.Equal(t, "$iothub/twin/res/204/?$rid=2&$version=2", m.Topic())
	assert.Empty(t, m.Payload())
	d.pub(t, "$iothub/twin/PATCH/properties/reported/?$rid=3", 1, []byte(`{"nested":{"a":null,"b":2}}`))
	m = d.waitMsg(t, "$iothub/twin/res/")
	assert.Equal(t, "$iothub/twin/res/204/?$rid=3&$version=3", m.Topic())
	d.pub(t, "$iothub/twin/PATCH/properties/reported/?$rid=4", 1, []byte(`{"broken`))
	m = d.waitMsg(t, "$iothub/twin/res/")
	assert.Equal(t, "$iothub/twin/res/400/?$rid=4", m.Topic())
	assert.Equal(t, `{"broken`, h.waitReason(CheckTwinPatch).Values["body"])

	tw, err := h.e.UpdateDesired("dev1", []byte(`{"interval":20}`))
	require.NoError(t, err)
	assert.Equal(t, int64(2), tw.DesiredVersion)
	m = d.waitMsg(t, "$iothub/twin/PATCH/properties/desired/")
	assert.Equal(t, "$iothub/twin/PATCH/properties/desired/?$version=2", m.Topic())
	assert.JSONEq(t, `{"interval":20,"$version":2}`, string(m.Payload()))

	tw, err = h.e.Twin("dev1")
	require.NoError(t, err)
	b, _ := json.Marshal(tw.Reported)
	assert.JSONEq(t, `{"fw":"1.0","nested":{"b":2}}`, string(b))
	assert.Equal(t, int64(3), tw.ReportedVersion)
}

func TestDirectMethod(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := h.e.InvokeMethod(ctx, "dev1", "reboot", nil)
	require.ErrorIs(t, err, ErrDeviceNotOnline, "not subscribed yet")

	d.sub(t, "$iothub/methods/POST/#", 1)
	go func() {
		m := d.waitMsg(t, "$iothub/methods/POST/")
		rid := m.Topic()[strings.Index(m.Topic(), "$rid=")+5:]
		d.c.Publish("$iothub/methods/res/200/?$rid="+rid, 1, false, []byte(`{"echo":`+string(m.Payload())+`}`))
	}()
	res, err := h.e.InvokeMethod(ctx, "dev1", "reboot", []byte(`{"delay":1}`))
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	assert.JSONEq(t, `{"echo":{"delay":1}}`, string(res.Payload))

	short, cancel2 := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel2()
	_, err = h.e.InvokeMethod(short, "dev1", "ignored", nil)
	require.ErrorIs(t, err, ErrMethodTimeout)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestC2D(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	// Queued while offline, delivered after subscribing.
	id, err := h.e.SendC2D("dev1", []byte("hello"), map[string]string{"k": "v w"})
	require.NoError(t, err)
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	d.sub(t, "devices/+/messages/devicebound/#", 1)
	m := d.waitMsg(t, "devices/dev1/messages/devicebound/")
	assert.Equal(t, "hello", string(m.Payload()))
	assert.Contains(t, m.Topic(), "%24.mid="+id)
	assert.Contains(t, m.Topic(), "%24.to=%2Fdevices%2Fdev1%2Fmessages%2Fdevicebound")
	assert.Contains(t, m.Topic(), "k=v+w")
	assert.Contains(t, m.Topic(), "iothub-ack=none")
	require.Eventually(t, func() bool { return len(h.e.PendingC2D("dev1")) == 0 }, 10*time.Second, 10*time.Millisecond, "PUBACK completes")

	// Another device subscribed with the + filter never sees dev1's messages.
	key2 := h.sasDevice("dev2")
	d2 := h.mustConnect(dial{id: "dev2", pass: sasToken(testHost, "dev2", key2, time.Now().Add(time.Hour))})
	d2.sub(t, "devices/+/messages/devicebound/#", 1)
	_, err = h.e.SendC2D("dev1", []byte("second"), nil)
	require.NoError(t, err)
	assert.Equal(t, "second", string(d.waitMsg(t, "devices/dev1/").Payload()))
	select {
	case m := <-d2.msgs:
		t.Fatalf("dev2 received %s", m.Topic())
	case <-time.After(200 * time.Millisecond):
	}
}

func TestWebSocket(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tele, stop := h.e.Telemetry(4)
	defer stop()
	d := h.mustConnect(dial{id: "dev1", ws: true, pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	d.sub(t, "devices/dev1/messages/devicebound/#", 1)
	d.pub(t, "devices/dev1/messages/events/", 1, []byte("over ws"))
	assert.Equal(t, "over ws", string((<-tele).Payload))
	_, err := h.e.SendC2D("dev1", []byte("down"), nil)
	require.NoError(t, err)
	assert.Equal(t, "down", string(d.waitMsg(t, "devices/dev1/").Payload()))

	// X.509 over WebSockets: the certificate from the first handshake is used.
	self := newCA(t, "wsx", nil)
	_, err = h.e.CreateDevice(DeviceSpec{ID: "wsx", Auth: AuthSelfSigned, PrimaryThumbprint: pki.ThumbprintSHA256(self.Cert)})
	require.NoError(t, err)
	h.mustConnect(dial{id: "wsx", ws: true, cert: tlsCert(self)}).c.Disconnect(0)
}

func TestWebSocketUpgradeRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tc := &tls.Config{RootCAs: h.roots(), ServerName: testHost}
	for _, c := range []struct {
		name   string
		path   string
		protos []string
		status int
		echo   string
	}{
		{"wrong path", "/mqtt", []string{"mqtt"}, 400, ""},
		{"no subprotocol", WebSocketPath + "?iothub-no-client-cert=true", nil, 400, ""},
		{"other subprotocol", WebSocketPath + "?iothub-no-client-cert=true", []string{"wamp"}, 400, ""},
		{"upper-case MQTT echoed (C SDK)", WebSocketPath + "?iothub-no-client-cert=true", []string{"MQTT"}, 101, "MQTT"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dl := websocket.Dialer{TLSClientConfig: tc, Subprotocols: c.protos, HandshakeTimeout: 5 * time.Second}
			ws, resp, err := dl.Dial("wss://"+h.e.WebSocketAddr()+c.path, nil)
			require.NotNil(t, resp)
			assert.Equal(t, c.status, resp.StatusCode)
			if c.status == 101 {
				require.NoError(t, err)
				assert.Equal(t, c.echo, ws.Subprotocol())
				_ = ws.Close()
				return
			}
			require.ErrorIs(t, err, websocket.ErrBadHandshake)
			assert.Equal(t, CheckWebSocketUpgrade, h.lastReason().Check)
		})
	}
	// Plain HTTP GET on the path is not an upgrade either.
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	resp, err := cl.Get("https://" + h.e.WebSocketAddr() + WebSocketPath)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// WS1/WS3: without iothub-no-client-cert=true the hub would renegotiate.
func TestWebSocketRenegotiationModel(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithRenegotiationGate(true))
	self := newCA(t, "ws1", nil)
	_, err := h.e.CreateDevice(DeviceSpec{ID: "ws1", Auth: AuthSelfSigned, PrimaryThumbprint: pki.ThumbprintSHA1(self.Cert)})
	require.NoError(t, err)
	// A device that cannot renegotiate presents no certificate up front: dropped.
	_, _, err = h.connect(dial{id: "ws1", ws: true, wsPath: WebSocketPath})
	require.Error(t, err)
	r := h.lastReason()
	assert.Equal(t, CheckRenegotiation, r.Check)
	// A device whose certificate reaches the hub (as after renegotiation) connects (WS3).
	h.mustConnect(dial{id: "ws1", ws: true, wsPath: WebSocketPath, cert: tlsCert(self)}).c.Disconnect(0)
}

func TestSASExpiryWhileConnected(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithSASSkew(0))
	key := h.sasDevice("dev1")
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(3*time.Second))})
	d.waitLost(t)
	r := h.waitReason(CheckTokenExpiredLive)
	assert.Equal(t, "dev1", r.DeviceID)
}

func TestDuplicateConnectionClosesOlderSilently(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tok := sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))
	old := h.raw("dev1", tok)
	h.mustConnect(dial{id: "dev1", pass: tok})
	old.expectClosedSilently(t)
	r := h.waitReason(CheckTakenOver)
	assert.Equal(t, "dev1", r.DeviceID)
	// The new session is established (mochi's OnSessionEstablished) just
	// after its CONNACK went out, so the client may see CONNACK first.
	assert.Eventually(t, func() bool { return h.e.Connected("dev1") }, 5*time.Second, 5*time.Millisecond)
}

func TestProtocolViolationsClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tok := sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))
	write := func(t *testing.T, r *rawConn, p packets.ControlPacket) {
		require.NoError(t, p.Write(r))
	}
	for _, tc := range []struct {
		name string
		pk   func() packets.ControlPacket
	}{
		{"QoS 2 publish", func() packets.ControlPacket {
			p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
			p.TopicName, p.Qos, p.MessageID, p.Payload = "devices/dev1/messages/events/", 2, 1, []byte("x")
			return p
		}},
		{"undocumented publish topic", func() packets.ControlPacket {
			p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
			p.TopicName, p.Qos, p.MessageID = "some/topic", 1, 1
			return p
		}},
		{"telemetry for another device", func() packets.ControlPacket {
			p := packets.NewControlPacket(packets.Publish).(*packets.PublishPacket)
			p.TopicName = "devices/dev2/messages/events/"
			return p
		}},
		{"undocumented subscribe filter", func() packets.ControlPacket {
			p := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
			p.MessageID, p.Topics, p.Qoss = 1, []string{"#"}, []byte{1}
			return p
		}},
		{"sixth subscription", func() packets.ControlPacket {
			p := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
			p.MessageID = 1
			p.Topics = []string{filterTwinRes, filterTwinDesired, filterMethods, "devices/dev1/messages/devicebound/#", "devices/+/messages/devicebound/#", "devices/dev1/messages/#"}
			p.Qoss = []byte{1, 1, 1, 1, 1, 1}
			return p
		}},
		{"second CONNECT", func() packets.ControlPacket {
			p := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
			p.ProtocolName, p.ProtocolVersion, p.ClientIdentifier = "MQTT", 4, "dev1"
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(h.e.Reasons())
			r := h.raw("dev1", tok)
			write(t, r, tc.pk())
			r.expectClosedSilently(t)
			require.Eventually(t, func() bool {
				for _, x := range h.e.Reasons()[n:] {
					if x.Check == CheckProtocolViolation {
						return true
					}
				}
				return false
			}, 10*time.Second, 10*time.Millisecond)
		})
	}
	// Five documented filters in one SUBSCRIBE are fine (Nordic subscribes 4 at once).
	d := h.mustConnect(dial{id: "dev1", pass: tok})
	tk := d.c.SubscribeMultiple(map[string]byte{filterTwinRes: 1, filterTwinDesired: 1, filterMethods: 1, "devices/dev1/messages/devicebound/#": 1, "devices/dev1/messages/#": 1}, nil)
	require.True(t, tk.WaitTimeout(10*time.Second))
	require.NoError(t, tk.Error())
}

func TestWillOnUncleanClose(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tele, stop := h.e.Telemetry(4)
	defer stop()
	tok := sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))
	r := h.raw("", "")
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = "MQTT", 4, "dev1", 60, true
	cp.UsernameFlag, cp.Username, cp.PasswordFlag, cp.Password = true, testHost+"/dev1/?api-version=2021-04-12", true, []byte(tok)
	cp.WillFlag, cp.WillTopic, cp.WillMessage, cp.WillQos = true, "devices/dev1/messages/events/state=gone", []byte("bye"), 1
	require.NoError(t, cp.Write(r))
	_, err := packets.ReadPacket(r)
	require.NoError(t, err)
	_ = r.Close() // unclean
	select {
	case m := <-tele:
		assert.Equal(t, "bye", string(m.Payload))
		assert.Equal(t, map[string]string{"state": "gone", willPropertyName: willPropertyValue}, m.Properties)
	case <-time.After(5 * time.Second):
		t.Fatal("no will telemetry")
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t.Run("TLS 1.1 refused", func(t *testing.T) {
		_, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost,
			MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		require.Error(t, err)
		h.waitReason(CheckTLSHandshake)
	})
	t.Run("TLS 1.3 only client refused unless opted in", func(t *testing.T) {
		_, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost, MinVersion: tls.VersionTLS13})
		require.Error(t, err)
	})
	t.Run("no common strong suite refused", func(t *testing.T) {
		_, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost,
			MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}})
		require.Error(t, err)
		h.waitReason(CheckTLSHandshake)
	})
	t.Run("TLS 1.2 with a documented suite", func(t *testing.T) {
		c, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost})
		require.NoError(t, err)
		st := c.ConnectionState()
		assert.Equal(t, uint16(tls.VersionTLS12), st.Version)
		assert.Contains(t, strongCipherSuites, st.CipherSuite)
		_ = c.Close()
	})
}

// A hub without the 2025 enforcement still speaks the legacy suites (§3.2).
func TestLegacyCipherSuitesOptIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithLegacyCipherSuites(true))
	c, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost,
		MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}})
	require.NoError(t, err)
	assert.Equal(t, tls.TLS_RSA_WITH_AES_128_CBC_SHA, c.ConnectionState().CipherSuite)
	_ = c.Close()
}

func TestTLS13OptIn(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithTLS13(true))
	c, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost, MinVersion: tls.VersionTLS13})
	require.NoError(t, err)
	assert.Equal(t, uint16(tls.VersionTLS13), c.ConnectionState().Version)
	_ = c.Close()
}

// W4/M1: a device that trusts only Baltimore cannot verify a G2-era hub.
func TestRootMigration(t *testing.T) {
	t.Parallel()
	g2 := newHarness(t) // real clock: after the migration
	require.Equal(t, pki.DigiCertGlobalRootG2, g2.e.HubRoot())
	key := g2.sasDevice("dev1")
	_, _, err := g2.connect(dial{id: "dev1", roots: g2.roots(pki.BaltimoreCyberTrustRoot), pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate signed by unknown authority")
	g2.waitReason(CheckTLSHandshake)
	// Both roots (M2): works.
	g2.mustConnect(dial{id: "dev1", roots: g2.roots(pki.BaltimoreCyberTrustRoot, pki.DigiCertGlobalRootG2), pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))}).c.Disconnect(0)

	// Before the migration (simulated 2023-01): Baltimore chain, and a
	// device trusting only DigiCert G2 fails instead.
	then := time.Date(2023, 1, 10, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return then }
	oldPKI, err := pki.LoadOrCreate(t.TempDir(), pki.WithClock(clock))
	require.NoError(t, err)
	bal := newHarness(t, WithPKI(oldPKI), WithClock(clock))
	require.Equal(t, pki.BaltimoreCyberTrustRoot, bal.e.HubRoot())
	key = bal.sasDevice("dev1")
	bal.mustConnect(dial{id: "dev1", now: clock, roots: bal.roots(pki.BaltimoreCyberTrustRoot), pass: sasToken(testHost, "dev1", key, then.Add(time.Hour))}).c.Disconnect(0)
	_, _, err = bal.connect(dial{id: "dev1", now: clock, roots: bal.roots(pki.DigiCertGlobalRootG2), pass: sasToken(testHost, "dev1", key, then.Add(time.Hour))})
	require.Error(t, err)

	for _, tc := range []struct {
		now       time.Time
		hub, dpsR pki.RootName
	}{
		{time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), pki.BaltimoreCyberTrustRoot, pki.BaltimoreCyberTrustRoot},
		{time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC), pki.DigiCertGlobalRootG2, pki.BaltimoreCyberTrustRoot},
		{time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), pki.DigiCertGlobalRootG2, pki.DigiCertGlobalRootG2},
	} {
		assert.Equal(t, tc.hub, rootAt("", DefaultHubMigrationDate, tc.now), tc.now)
		assert.Equal(t, tc.dpsR, rootAt("", DPSMigrationDate, tc.now), tc.now)
	}
}

func TestRegistryPersistsAndAdmin(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := NewService(dir)
	require.NoError(t, err)
	_, err = s.CreateDevice(DeviceSpec{ID: "a", Auth: AuthSAS})
	require.NoError(t, err)
	_, err = s.CreateDevice(DeviceSpec{ID: "a", Auth: AuthSAS})
	require.ErrorIs(t, err, ErrExists)
	_, err = s.CreateDevice(DeviceSpec{ID: "bad#id", Auth: AuthSAS})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.CreateDevice(DeviceSpec{ID: "b", Auth: AuthSelfSigned})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.CreatePolicy("gw", RightDeviceConnect)
	require.NoError(t, err)
	root := newCA(t, "R", nil)
	_, err = s.AddCA("r", root.CertPEM(), true)
	require.NoError(t, err)
	_, err = s.UpdateDesired("a", []byte(`{"x":1}`))
	require.NoError(t, err)
	_, err = s.UpdateDesired("a", []byte(`[1]`))
	require.ErrorIs(t, err, ErrInvalid)
	_, err = s.SendC2D("a", make([]byte, maxC2DBytes+1), nil)
	require.ErrorIs(t, err, ErrTooLarge)
	for range maxC2DQueue {
		_, err = s.SendC2D("a", nil, nil)
		require.NoError(t, err)
	}
	_, err = s.SendC2D("a", nil, nil)
	require.ErrorIs(t, err, ErrQueueFull)

	require.NoError(t, s.Close())
	s2, err := NewService(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s2.Close() })
	d, err := s2.Device("a")
	require.NoError(t, err)
	assert.Equal(t, float64(1), mustFloat(t, d.Twin.Desired["x"]))
	_, err = s2.Policy("gw")
	require.NoError(t, err)
	require.Len(t, s2.CAs(), 1)
	assert.True(t, s2.CAs()[0].Verified)
	require.NoError(t, s2.DeleteDevice("a"))
	_, err = s2.Device("a")
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s2.DeleteCA("r"))
	require.NoError(t, s2.DeletePolicy("gw"))
}

func mustFloat(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		require.NoError(t, err)
		return f
	case float64:
		return x
	}
	t.Fatalf("not a number: %T", v)
	return 0
}

func TestReasonSink(t *testing.T) {
	t.Parallel()
	got := make(chan Reason, 4)
	h := newHarness(t, WithReasonSink(func(r Reason) { got <- r }))
	_, _, err := h.connect(dial{id: "nobody", pass: "SharedAccessSignature sr=x&sig=y&se=1"})
	require.Error(t, err)
	r := <-got
	for r.Check == CheckTLSHandshake { // a starved machine may time out a first attempt
		r = <-got
	}
	assert.Equal(t, CheckDeviceNotFound, r.Check)
	assert.Equal(t, "nobody", r.DeviceID)
	assert.False(t, r.Time.IsZero())
}

// CleanSession=0: the C2D subscription survives a reconnect and the queued
// message arrives without subscribing again (§1.2 [doc D-MQTT]).
func TestPersistentSessionC2D(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tok := sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))
	d := h.mustConnect(dial{id: "dev1", pass: tok, clean: false})
	d.sub(t, "devices/dev1/messages/devicebound/#", 1)
	d.c.Disconnect(100)
	require.Eventually(t, func() bool { return !h.e.Connected("dev1") }, 10*time.Second, 10*time.Millisecond)
	_, err := h.e.SendC2D("dev1", []byte("while away"), nil)
	require.NoError(t, err)
	d = h.mustConnect(dial{id: "dev1", pass: tok, clean: false})
	assert.Equal(t, "while away", string(d.waitMsg(t, "devices/dev1/messages/devicebound/").Payload()))
	// paho acknowledges after the handler returns; a message not yet
	// completed is delivered again, as the real hub does (at least once).
	require.Eventually(t, func() bool { return len(h.e.PendingC2D("dev1")) == 0 }, 10*time.Second, 10*time.Millisecond)

	// CleanSession=1 forgets the subscription: nothing arrives until subscribing.
	d.c.Disconnect(100)
	require.Eventually(t, func() bool { return !h.e.Connected("dev1") }, 10*time.Second, 10*time.Millisecond)
	_, err = h.e.SendC2D("dev1", []byte("later"), nil)
	require.NoError(t, err)
	d = h.mustConnect(dial{id: "dev1", pass: tok, clean: true})
	select {
	case m := <-d.msgs:
		t.Fatalf("unexpected %s before subscribing", m.Topic())
	case <-time.After(300 * time.Millisecond):
	}
	d.sub(t, "devices/dev1/messages/devicebound/#", 1)
	assert.Equal(t, "later", string(d.waitMsg(t, "devices/dev1/").Payload()))
}

// W4 over WebSockets: the failed handshake is recorded for the WS listener too.
func TestWebSocketHandshakeFailureRecorded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	_, _, err := h.connect(dial{id: "dev1", ws: true, roots: h.roots(pki.BaltimoreCyberTrustRoot), pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	require.Error(t, err)
	r := h.waitReason(CheckTLSHandshake)
	assert.Equal(t, ListenerWS, r.Values["listener"])
}

// Keep-alive: 0 and values above 1177 s become 1177 s, so the server
// timeout (1.5×) stays within 1767 s (§1.5 [doc D-MQTT]).
func TestKeepAliveClamp(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	for _, tc := range []struct{ in, want uint16 }{{0, maxKeepAlive}, {4000, maxKeepAlive}, {240, 240}} {
		r := h.raw("", "")
		cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
		cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = "MQTT", 4, "dev1", tc.in, true
		cp.UsernameFlag, cp.Username = true, testHost+"/dev1/?api-version=2021-04-12"
		cp.PasswordFlag, cp.Password = true, []byte(sasToken(testHost, "dev1", key, time.Now().Add(time.Hour)))
		require.NoError(t, cp.Write(r))
		p, err := packets.ReadPacket(r)
		require.NoError(t, err)
		require.Equal(t, byte(0), p.(*packets.ConnackPacket).ReturnCode)
		h.e.Service.mu.Lock()
		c := h.e.devices["dev1"].cur
		h.e.Service.mu.Unlock()
		assert.Equal(t, tc.want, c.cl.State.Keepalive, "keep-alive %d", tc.in)
		_ = r.Close()
	}
}

func TestEmulatorLifecycle(t *testing.T) {
	t.Parallel()
	e, err := New(t.TempDir(), WithPKI(testPKI(t)), WithMQTTAddr("127.0.0.1:0"), WithWebSocketAddr(""))
	require.NoError(t, err)
	assert.Empty(t, e.MQTTAddr())
	ctx, cancel := context.WithCancel(t.Context())
	require.NoError(t, e.Start(ctx))
	require.Error(t, e.Start(ctx), "second Start")
	assert.NotEmpty(t, e.MQTTAddr())
	assert.Empty(t, e.WebSocketAddr())
	cancel() // ending the context closes the emulator
	require.Eventually(t, func() bool {
		_, err := tls.Dial("tcp", e.MQTTAddr(), &tls.Config{ServerName: DefaultHostName})
		return err != nil && strings.Contains(err.Error(), "refused")
	}, 10*time.Second, 20*time.Millisecond)
	require.NoError(t, e.Close())
	require.ErrorIs(t, e.Start(t.Context()), ErrClosed)

	e2, err := New(t.TempDir(), WithPKI(testPKI(t)))
	require.NoError(t, err)
	require.NoError(t, e2.Close(), "close without start")
}

func TestTwinThrottled(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithTwinRateLimit(2, time.Hour))
	key := h.sasDevice("dev1")
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	d.sub(t, "$iothub/twin/res/#", 1)
	for i, want := range []string{"200", "204", "429", "429"} {
		topic := "$iothub/twin/GET/?$rid=" + strconv.Itoa(i)
		var body []byte
		if want == "204" {
			topic, body = "$iothub/twin/PATCH/properties/reported/?$rid="+strconv.Itoa(i), []byte(`{"a":1}`)
		}
		d.pub(t, topic, 1, body)
		m := d.waitMsg(t, "$iothub/twin/res/")
		assert.True(t, strings.HasPrefix(m.Topic(), "$iothub/twin/res/"+want+"/?$rid="+strconv.Itoa(i)), "request %d: %s", i, m.Topic())
	}
	rs := h.waitReason(CheckThrottled)
	assert.Equal(t, "dev1", rs.DeviceID)
	assert.Equal(t, "2", rs.Values["limit"])
	// A throttled device stays connected: 429 is an answer, not a close.
	assert.True(t, h.e.Connected("dev1"))
}

func TestKeepAliveExpiryCloses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("quiet")
	r := h.raw("", "")
	ack := r.connectKeepAlive(t, "quiet", sasToken(testHost, "quiet", key, time.Now().Add(time.Hour)), 4, 1)
	require.Equal(t, byte(0), ack.ReturnCode)
	// Silent for longer than 1.5 × 1 s: the hub closes without a packet.
	r.expectClosedSilently(t)
	rs := h.waitReason(CheckKeepAlive)
	assert.Equal(t, "quiet", rs.DeviceID)
	assert.Equal(t, "1s", rs.Values["keepAlive"])
}

func TestOversizedTelemetryCloses(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("big")
	d := h.mustConnect(dial{id: "big", pass: sasToken(testHost, "big", key, time.Now().Add(time.Hour))})
	tok := d.c.Publish("devices/big/messages/events/", 0, false, make([]byte, 256*1024+1))
	tok.WaitTimeout(5 * time.Second)
	require.Error(t, d.waitLost(t))
	rs := h.waitReason(CheckProtocolViolation)
	assert.Contains(t, rs.Detail, "256 KB")
}
