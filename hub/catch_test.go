package hub

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/pki"
)

// Tests that catch wrong lines the mutation run of issue 14 left alive.

// A token accepted within the clock skew (already past se) is cut when
// the skew runs out, not at once and not never.
func TestSASAcceptedWithinSkewIsCutWhenTheSkewEnds(t *testing.T) {
	t.Parallel()
	const skew = 4 * time.Second
	h := newHarness(t, WithSASSkew(skew))
	key := h.sasDevice("dev1")
	expiry := time.Now().Add(-time.Second).Truncate(time.Second)
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, expiry)})
	d.pub(t, "devices/dev1/messages/events/", 1, []byte("inside the skew")) // not cut at once
	d.waitLost(t)
	cut, end := time.Now(), expiry.Add(skew)
	assert.True(t, cut.After(end.Add(-500*time.Millisecond)), "cut at %s, before expiry+skew %s", cut, end)
	assert.True(t, cut.Before(end.Add(5*time.Second)), "cut at %s, long after expiry+skew %s", cut, end)
	r := h.waitReason(CheckTokenExpiredLive)
	assert.Equal(t, "dev1", r.DeviceID)
	assert.Equal(t, expiry.UTC().Format(time.RFC3339), r.Values["expiry"])
}

// rawSubscribe subscribes on a raw connection and reads the SUBACK.
func (r *rawConn) subscribe(t *testing.T, filter string, qos byte) {
	t.Helper()
	sp := packets.NewControlPacket(packets.Subscribe).(*packets.SubscribePacket)
	sp.MessageID, sp.Topics, sp.Qoss = 1, []string{filter}, []byte{qos}
	require.NoError(t, sp.Write(r))
	p := r.read(t)
	_, ok := p.(*packets.SubackPacket)
	require.True(t, ok, "got %T", p)
}

func (r *rawConn) read(t *testing.T) packets.ControlPacket {
	t.Helper()
	_ = r.SetReadDeadline(time.Now().Add(10 * time.Second))
	p, err := packets.ReadPacket(r)
	require.NoError(t, err)
	return p
}

// A C2D message delivered but never PUBACKed goes to the connection that
// took the device over (CleanSession=0: it inherits the subscription).
func TestUnackedC2DRedeliveredAfterTakeover(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	key := h.sasDevice("dev1")
	tok := sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))
	old := h.raw("", "")
	ack := old.connectClean(t, "dev1", tok, false)
	require.Equal(t, byte(0), ack.ReturnCode)
	require.Eventually(t, func() bool { return h.e.Connected("dev1") }, 5*time.Second, 5*time.Millisecond)
	old.subscribe(t, "devices/dev1/messages/devicebound/#", 1)
	id, err := h.e.SendC2D("dev1", []byte("ack me"), nil)
	require.NoError(t, err)
	p := old.read(t)
	pub, ok := p.(*packets.PublishPacket)
	require.True(t, ok, "got %T", p)
	require.Contains(t, pub.TopicName, "%24.mid="+id)
	// No PUBACK: the message stays pending.

	d := h.mustConnect(dial{id: "dev1", pass: tok, clean: false})
	old.expectClosedSilently(t)
	m := d.waitMsg(t, "devices/dev1/messages/devicebound/")
	assert.Equal(t, "ack me", string(m.Payload()))
	assert.Contains(t, m.Topic(), "%24.mid="+id, "the same message, not a copy")
	require.Eventually(t, func() bool { return len(h.e.PendingC2D("dev1")) == 0 }, 10*time.Second, 10*time.Millisecond,
		"the new connection's PUBACK completes it")
}

// connectClean is connect with a choice of CleanSession.
func (r *rawConn) connectClean(t *testing.T, id, pass string, clean bool) *packets.ConnackPacket {
	t.Helper()
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", 4
	cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = id, 60, clean
	cp.UsernameFlag, cp.Username = true, testHost+"/"+id+"/?api-version=2021-04-12"
	cp.PasswordFlag, cp.Password = pass != "", []byte(pass)
	require.NoError(t, cp.Write(r))
	ack, ok := r.read(t).(*packets.ConnackPacket)
	require.True(t, ok)
	return ack
}

// An X.509 device whose client sets the password flag with an empty
// password (some stacks always set it) authenticates by its certificate.
func TestX509ConnectWithEmptyPassword(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	self := newCA(t, "devx", nil)
	_, err := h.e.CreateDevice(DeviceSpec{ID: "devx", Auth: AuthSelfSigned, PrimaryThumbprint: pki.ThumbprintSHA256(self.Cert)})
	require.NoError(t, err)
	h.sasDevice("devs")
	for _, tc := range []struct {
		name string
		id   string
		cert *tls.Certificate
		code byte
		why  Check
	}{
		{"x509 with empty password", "devx", tlsCert(self), 0, ""},
		{"sas device with empty password is not taken for x509", "devs", tlsCert(self), 5, CheckAuthMethod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: h.roots(), ServerName: testHost,
				Certificates: []tls.Certificate{*tc.cert}})
			require.NoError(t, err)
			defer c.Close()
			r := &rawConn{c}
			cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
			cp.ProtocolName, cp.ProtocolVersion = "MQTT", 4
			cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = tc.id, 60, true
			cp.UsernameFlag, cp.Username = true, testHost+"/"+tc.id+"/?api-version=2021-04-12"
			cp.PasswordFlag, cp.Password = true, []byte{}
			require.NoError(t, cp.Write(r))
			ack, ok := r.read(t).(*packets.ConnackPacket)
			require.True(t, ok)
			assert.Equal(t, tc.code, ack.ReturnCode)
			if tc.why != "" {
				rs := h.waitReason(tc.why)
				assert.Equal(t, tc.id, rs.DeviceID)
				assert.True(t, strings.Contains(rs.Detail, "SAS"), rs.Detail)
			}
		})
	}
}
