package hub

import (
	"crypto/tls"
	"net/url"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/pki"
)

// Issue 12 fix 1: an SDK-style SAS client over WebSockets that omits
// ?iothub-no-client-cert=true (the Node SDK always does) connects with the
// defaults, as at the real hub, where its TLS stack answers the
// renegotiation; the strict gate still drops it and says why.
func TestWebSocketSASWithoutNoClientCertQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    []Option
		connect bool
	}{
		{"default accepts", nil, true},
		{"strict gate drops", []Option{WithRenegotiationGate(true)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.opts...)
			key := h.sasDevice("node1")
			d, _, err := h.connect(dial{id: "node1", ws: true, wsPath: WebSocketPath,
				pass: sasToken(testHost, "node1", key, time.Now().Add(time.Hour))})
			if tt.connect {
				require.NoError(t, err)
				d.pub(t, "devices/node1/messages/events/", 1, []byte("x"))
				return
			}
			require.Error(t, err)
			r := h.waitReason(CheckRenegotiation)
			assert.Equal(t, WebSocketPath, r.Values["requestURI"])
			assert.Equal(t, testHost, r.Values["sni"])
			at := lastAttempt(t, h)
			require.NotNil(t, at.TLS)
			assert.Equal(t, WebSocketPath, at.TLS.WebSocketRequest)
			assert.Equal(t, testHost, at.TLS.SNI)
		})
	}
}

func TestWebSocketRenegotiates(t *testing.T) {
	tests := []struct {
		uri  string
		want bool
	}{
		{WebSocketPath, true},
		{WebSocketPath + "?iothub-no-client-cert=true", false},
		{WebSocketPath + "?iothub-no-client-cert=false", true},
		{WebSocketPath + "?x=1&iothub-no-client-cert=true", false},
	}
	for _, tt := range tests {
		t.Run(tt.uri, func(t *testing.T) {
			u, err := parseRequestURI(tt.uri)
			require.NoError(t, err)
			assert.Equal(t, tt.want, WebSocketRenegotiates(u))
		})
	}
}

func lastAttempt(t *testing.T, h *harness) Attempt {
	t.Helper()
	as := h.e.Attempts()
	require.NotEmpty(t, as)
	return as[len(as)-1]
}

// Issue 12 fix 3: a refusal before MQTT keeps what is known (SNI,
// WebSocket request, client certificate) so it can be found by device.
func TestRefusalBeforeMQTTCarriesContext(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	self := newCA(t, "certdev", nil)

	t.Run("rejected upgrade with a client certificate", func(t *testing.T) {
		tc := &tls.Config{RootCAs: h.roots(), ServerName: testHost, Certificates: []tls.Certificate{*tlsCert(self)}}
		dl := websocket.Dialer{TLSClientConfig: tc, Subprotocols: []string{"mqtt"}, HandshakeTimeout: 5 * time.Second}
		_, resp, err := dl.Dial("wss://"+h.e.WebSocketAddr()+"/mqtt?x=1", nil)
		require.Error(t, err)
		require.NotNil(t, resp)
		at := lastAttempt(t, h)
		require.NotNil(t, at.TLS)
		assert.Equal(t, "/mqtt?x=1", at.TLS.WebSocketRequest)
		assert.Equal(t, testHost, at.TLS.SNI)
		assert.Equal(t, "certdev", at.TLS.ClientCertCN)
		assert.Equal(t, "CN=certdev", at.TLS.ClientCertSubject)
		assert.Equal(t, 1, at.TLS.ClientCertChain)
		assert.True(t, at.Concerns("certdev"))
		assert.False(t, at.Concerns("other"))
		assert.Equal(t, "CN=certdev", at.Reason.Values["clientCertSubject"])
	})
	t.Run("failed TLS handshake keeps the SNI", func(t *testing.T) {
		_, _, err := h.connect(dial{id: "dev1", roots: h.roots(pki.BaltimoreCyberTrustRoot), pass: "x"})
		require.Error(t, err)
		require.Eventually(t, func() bool {
			at := lastAttempt(t, h)
			return at.Reason != nil && at.Reason.Check == CheckTLSHandshake && at.Listener == ListenerMQTT
		}, 10*time.Second, 10*time.Millisecond)
		at := lastAttempt(t, h)
		require.NotNil(t, at.TLS)
		assert.Equal(t, testHost, at.TLS.SNI)
		assert.Equal(t, testHost, at.Reason.Values["sni"])
	})
	t.Run("accepted attempts carry it too", func(t *testing.T) {
		_, err := h.e.CreateDevice(DeviceSpec{ID: "certdev", Auth: AuthSelfSigned, PrimaryThumbprint: pki.ThumbprintSHA256(self.Cert)})
		require.NoError(t, err)
		h.mustConnect(dial{id: "certdev", ws: true, wsPath: WebSocketPath, cert: tlsCert(self)}).c.Disconnect(0)
		var at Attempt
		for _, a := range h.e.Attempts() {
			if a.Outcome == OutcomeAccepted && a.DeviceID == "certdev" {
				at = a
			}
		}
		require.NotNil(t, at.TLS)
		assert.Equal(t, WebSocketPath, at.TLS.WebSocketRequest)
		assert.Equal(t, "certdev", at.TLS.ClientCertCN)
	})
}

func TestAttemptConcerns(t *testing.T) {
	tests := []struct {
		name string
		a    Attempt
		id   string
		want bool
	}{
		{"any", Attempt{}, "", true},
		{"device id", Attempt{DeviceID: "d1"}, "d1", true},
		{"client id", Attempt{ClientID: "d1"}, "d1", true},
		{"certificate CN", Attempt{TLS: &TLSContext{ClientCertCN: "d1"}}, "d1", true},
		{"SNI first label", Attempt{TLS: &TLSContext{SNI: "d1.example.net"}}, "d1", true},
		{"SNI other", Attempt{TLS: &TLSContext{SNI: "hub.azure-devices.net"}}, "d1", false},
		{"nothing known", Attempt{}, "d1", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.a.Concerns(tt.id))
		})
	}
}

func parseRequestURI(s string) (*url.URL, error) { return url.ParseRequestURI(s) }
