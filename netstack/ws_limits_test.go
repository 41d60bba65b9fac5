package netstack_test

import (
	"crypto/rand"
	"crypto/tls"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// x509Board is a board whose tag holds a CA-signed device certificate for
// id with its key and the real DigiCert Global Root G2.
func x509Board(t *testing.T, e *hub.Emulator, now time.Time, id string, opts ...netstack.Option) *board {
	t.Helper()
	ca, err := pki.NewCA(rand.Reader, "netstack WS CA "+id, nil, now.Add(-time.Hour), now.Add(48*time.Hour))
	require.NoError(t, err)
	_, err = e.AddCA("ws-ca-"+id, ca.CertPEM(), true)
	require.NoError(t, err)
	_, err = e.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthCA})
	require.NoError(t, err)
	b := newBoard(t, e, now)
	if len(opts) > 0 {
		ep := netstack.Endpoint{MQTT: e.MQTTAddr(), WebSocket: e.WebSocketAddr()}
		b.stack = netstack.New(netstack.NewEmulatorResolver(ep), b.store,
			append([]netstack.Option{netstack.WithClock(fixed(now)), netstack.WithTrustMapper(e.PKI())}, opts...)...)
	}
	key, err := modemkey.GenerateKey(rand.Reader)
	require.NoError(t, err)
	keyPEM, err := modemkey.MarshalPrivateKeyPEM(key)
	require.NoError(t, err)
	leaf, err := pki.LeafForKey(key.Public(), id, ca, now.Add(-time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	b.put(t, primary, 2, keyPEM)
	b.put(t, primary, 1, pki.EncodeCertsPEM(leaf, ca.Cert))
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	return b
}

// countingConn runs a RecordInspector without a limit over what the
// server sends.
type countingConn struct {
	net.Conn
	ins *netstack.RecordInspector
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	_ = c.ins.Feed(p[:n])
	return n, err
}

// hubLargestHandshakeRecord measures the longest record the hub sends in
// a TLS handshake on addr (its Certificate message: the server chain).
func hubLargestHandshakeRecord(t *testing.T, e *hub.Emulator, addr string) int {
	t.Helper()
	raw, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer raw.Close()
	cc := &countingConn{Conn: raw, ins: netstack.NewRecordInspector(0)}
	pool, err := e.PKI().RootPool(pki.DigiCertGlobalRootG2, pki.BaltimoreCyberTrustRoot)
	require.NoError(t, err)
	tc := tls.Client(cc, &tls.Config{ServerName: testHost, RootCAs: pool, MaxVersion: tls.VersionTLS12, Time: fixed(afterMigration)})
	require.NoError(t, tc.HandshakeContext(t.Context()))
	return cc.ins.Largest
}

// FAILURE-CASES WS4: a device whose incoming record limit
// (CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN) is below the hub's Certificate
// record cannot finish the handshake; 4096 is enough.
func TestRecordLimitAgainstTheHub(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	largest := hubLargestHandshakeRecord(t, e, e.WebSocketAddr())
	t.Logf("the hub's largest handshake record on 443: %d bytes", largest)
	require.Less(t, largest, 4096, "the thread's 4096 must hold the hub's chain")
	require.Greater(t, largest, 2048, "a real-sized chain (RSA-2048 leaf and intermediate)")
	b := x509Board(t, e, now, "ws4-device")
	tests := []struct {
		name  string
		limit int
		want  netstack.Class
	}{
		{"one byte short of the Certificate record", largest - 1, netstack.ClassRecordTooLarge},
		{"2048", 2048, netstack.ClassRecordTooLarge},
		{"4096 as in the thread", 4096, netstack.ClassNone},
		{"no limit", 0, netstack.ClassNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
				Host: testHost, Transport: netstack.TransportWebSocket, ClientID: "ws4-device", Username: username("ws4-device"),
				TLS: netstack.TLSConfig{SecTags: []uint32{primary}, MaxIncomingRecord: tc.limit},
			})
			assert.Equal(t, tc.want, netstack.Classify(err), "%v", err)
			if err == nil {
				c.Disconnect(0)
			}
		})
	}
}

// FAILURE-CASES WS1 on the device side: with the renegotiation model of
// the real hub, a device that cannot renegotiate fails after the TLS
// handshake unless its request carries iothub-no-client-cert=true; one
// that can (CONFIG_MBEDTLS_SSL_RENEGOTIATION) connects (WS3).
func TestRenegotiationModel(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := x509Board(t, e, now, "ws1-device", netstack.WithRenegotiationModel(hub.WebSocketRenegotiates))
	tests := []struct {
		name  string
		path  string
		reneg tls.RenegotiationSupport
		want  netstack.Class
	}{
		{"no renegotiation, no query: WS1", "", tls.RenegotiateNever, netstack.ClassPeerClosed},
		{"no renegotiation, with the query", netstack.WebSocketPath + "?" + netstack.NoClientCertQuery, tls.RenegotiateNever, netstack.ClassNone},
		{"renegotiation: WS3", "", tls.RenegotiateOnceAsClient, netstack.ClassNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
				Host: testHost, Transport: netstack.TransportWebSocket, WebSocketPath: tc.path,
				ClientID: "ws1-device", Username: username("ws1-device"),
				TLS: netstack.TLSConfig{SecTags: []uint32{primary}, Renegotiation: tc.reneg},
			})
			assert.Equal(t, tc.want, netstack.Classify(err), "%v", err)
			if tc.want == netstack.ClassPeerClosed {
				var re *netstack.RenegotiationRefusedError
				assert.ErrorAs(t, err, &re)
				assert.Equal(t, "wss://"+testHost+netstack.WebSocketPath, re.URL)
			}
			if err == nil {
				c.Disconnect(0)
			}
		})
	}
	u, _ := url.Parse("wss://h" + netstack.WebSocketPath)
	assert.True(t, hub.WebSocketRenegotiates(u))
}
