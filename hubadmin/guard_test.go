package hubadmin

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
)

// guarded is an admin API served with options, and one SAS device.
type guarded struct {
	e   *hub.Emulator
	srv *httptest.Server
}

func newGuarded(t *testing.T, opts ...Option) *guarded {
	t.Helper()
	e, err := hub.New(t.TempDir(), hub.WithPKI(testPKI(t)), hub.WithHostName(testHost),
		hub.WithMQTTAddr(""), hub.WithWebSocketAddr(""))
	require.NoError(t, err)
	_, err = e.CreateDevice(hub.DeviceSpec{ID: "dev1", Auth: hub.AuthSAS})
	require.NoError(t, err)
	srv := httptest.NewServer(NewHandler(e, opts...))
	t.Cleanup(func() { srv.Close(); _ = e.Close() })
	return &guarded{e: e, srv: srv}
}

type guardReq struct {
	name, method, path, body string
	header                   map[string]string
	host                     string // Host header; "" keeps 127.0.0.1:port
	status                   int
}

func (g *guarded) do(t *testing.T, r guardReq) (int, string) {
	t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), r.method, g.srv.URL+r.path, body)
	require.NoError(t, err)
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	if r.host != "" {
		req.Host = r.host
	}
	resp, err := g.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// The admin API answered any Host (what DNS rebinding needs) and took
// cross-origin text/plain writes (what any web page can send).
func TestAdminRefusesForeignHostsAndCrossOriginWrites(t *testing.T) {
	t.Parallel()
	g := newGuarded(t, WithAllowedHosts("hub-admin.lan", "[fd00::5]"))
	port := g.srv.Listener.Addr().(*net.TCPAddr).Port
	self := "http://127.0.0.1:" + strconv.Itoa(port)
	jsonCT := map[string]string{"Content-Type": "application/json"}
	tests := []guardReq{
		{name: "foreign host reads no keys", method: "GET", path: "/devices", host: "attacker.example:8480", status: 403},
		{name: "foreign host without port", method: "GET", path: "/sas-token?device=dev1", host: "attacker.example", status: 403},
		{name: "rebound name that ends like localhost", method: "GET", path: "/devices", host: "localhost.attacker.example", status: 403},
		{name: "localhost", method: "GET", path: "/devices", host: "localhost:" + strconv.Itoa(port), status: 200},
		{name: "LOCALHOST", method: "GET", path: "/devices", host: "LOCALHOST", status: 200},
		{name: "127.0.0.1", method: "GET", path: "/devices", status: 200},
		{name: "other loopback IP", method: "GET", path: "/devices", host: "127.0.0.2:8480", status: 200},
		{name: "IPv6 loopback", method: "GET", path: "/devices", host: "[::1]:8480", status: 200},
		{name: "configured name", method: "GET", path: "/devices", host: "Hub-Admin.lan:8480", status: 200},
		{name: "configured IPv6", method: "GET", path: "/devices", host: "[fd00::5]:8480", status: 200},
		{name: "non-loopback IP not configured", method: "GET", path: "/devices", host: "192.168.1.20:8480", status: 403},

		{name: "cross-origin disable (Origin)", method: "POST", path: "/devices/dev1/disable",
			header: map[string]string{"Origin": "http://attacker.example"}, status: 403},
		{name: "cross-site c2d (Sec-Fetch-Site)", method: "POST", path: "/devices/dev1/c2d", body: `{"payload":"x"}`,
			header: map[string]string{"Sec-Fetch-Site": "cross-site", "Content-Type": "application/json"}, status: 403},
		{name: "same-site other origin", method: "DELETE", path: "/devices/dev1",
			header: map[string]string{"Sec-Fetch-Site": "same-site"}, status: 403},
		{name: "text/plain c2d", method: "POST", path: "/devices/dev1/c2d", body: `{"payload":"x"}`,
			header: map[string]string{"Content-Type": "text/plain"}, status: 415},
		{name: "form device create", method: "PUT", path: "/devices/dev9", body: `{"authenticationType":"sas"}`,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, status: 415},
		{name: "body without content type", method: "PATCH", path: "/devices/dev1/twin", body: `{"a":1}`, status: 415},

		{name: "same-origin browser write", method: "POST", path: "/devices/dev1/c2d", body: `{"payload":"ok"}`,
			header: map[string]string{"Origin": self, "Content-Type": "application/json"}, status: 202},
		{name: "fetch same-origin", method: "PATCH", path: "/devices/dev1/twin", body: `{"a":1}`,
			header: map[string]string{"Sec-Fetch-Site": "same-origin", "Content-Type": "application/merge-patch+json"}, status: 200},
		{name: "json with charset", method: "PUT", path: "/devices/dev2", body: `{"authenticationType":"sas"}`,
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, status: 201},
		{name: "bodyless write from a tool", method: "POST", path: "/devices/dev2/disable", status: 200},
		{name: "cross-origin read is no write", method: "GET", path: "/info", header: map[string]string{"Origin": "http://attacker.example"}, status: 200},
		{name: "JSON content type alone", method: "POST", path: "/devices/dev1/c2d", body: `{"payload":"y"}`, header: jsonCT, status: 202},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := g.do(t, tc)
			assert.Equal(t, tc.status, status, body)
			if status >= 400 {
				assert.Contains(t, body, `"error"`)
				assert.NotContains(t, body, "primaryKey")
			}
		})
	}
	d, err := g.e.Device("dev1")
	require.NoError(t, err)
	assert.False(t, d.Disabled, "the cross-origin disable did nothing")
	var texts []string
	for _, m := range g.e.PendingC2D("dev1") {
		texts = append(texts, string(m.Payload))
	}
	assert.Equal(t, []string{"ok", "y"}, texts, "only the allowed c2d were queued")
	_, err = g.e.Device("dev9")
	require.ErrorIs(t, err, hub.ErrNotFound)
}

// With a token (how a non-loopback address is served) every request must
// carry it; the Client sends it from the URL, as `--admin http://:TOKEN@…`.
func TestAdminToken(t *testing.T) {
	t.Parallel()
	const token = "s3cret-token"
	g := newGuarded(t, WithToken(token))
	tests := []guardReq{
		{name: "no token", method: "GET", path: "/devices", status: 401},
		{name: "wrong bearer", method: "GET", path: "/devices", header: map[string]string{"Authorization": "Bearer nope"}, status: 401},
		{name: "token as user name is not the password", method: "GET", path: "/devices",
			header: map[string]string{"Authorization": "Basic czNjcmV0LXRva2VuOg=="}, status: 401},
		{name: "bearer", method: "GET", path: "/devices", header: map[string]string{"Authorization": "Bearer " + token}, status: 200},
		{name: "basic password", method: "GET", path: "/devices",
			header: map[string]string{"Authorization": "Basic OnMzY3JldC10b2tlbg=="}, status: 200},
		{name: "token does not excuse a foreign host", method: "GET", path: "/devices", host: "attacker.example",
			header: map[string]string{"Authorization": "Bearer " + token}, status: 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := g.do(t, tc)
			assert.Equal(t, tc.status, status, body)
		})
	}
	status, _ := g.do(t, guardReq{method: "GET", path: "/devices"})
	require.Equal(t, 401, status)

	u, err := url.Parse(g.srv.URL)
	require.NoError(t, err)
	u.User = url.UserPassword("", token)
	c := NewClient(u.String(), g.srv.Client())
	devs, err := c.Devices(t.Context())
	require.NoError(t, err, "the client sends the token from its URL")
	require.Len(t, devs, 1)
	_, err = NewClient(g.srv.URL, g.srv.Client()).Devices(t.Context())
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 401, apiErr.Status)
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8480": true, "127.0.0.1:0": true, "localhost:8480": true, "[::1]:8480": true, "127.1.2.3:1": true,
		"0.0.0.0:8480": false, ":8480": false, "[::]:8480": false, "192.168.1.2:8480": false,
		"example.com:8480": false, "127.0.0.1": false, "": false,
	} {
		assert.Equal(t, want, IsLoopbackAddr(addr), addr)
	}
}

func TestListenerHostsAndToken(t *testing.T) {
	assert.Equal(t, []string{"127.0.0.1"}, ListenerHosts(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8480}))
	assert.Equal(t, []string{"10.1.2.3"}, ListenerHosts(&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3)}))
	assert.NotEmpty(t, ListenerHosts(&net.TCPAddr{IP: net.IPv4zero}), "every interface, loopback at least")
	a, b := NewToken(), NewToken()
	assert.Len(t, a, 43)
	assert.NotEqual(t, a, b)
}
