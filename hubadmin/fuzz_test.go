package hubadmin

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
)

// FuzzHandler sends arbitrary bodies and path segments to every JSON
// resource: the API must answer with a status below 500 and a JSON body.
func FuzzHandler(f *testing.F) {
	e, err := hub.New(f.TempDir(), hub.WithPKI(testPKI(f)), hub.WithHostName(testHost),
		hub.WithMQTTAddr(""), hub.WithWebSocketAddr(""))
	require.NoError(f, err)
	f.Cleanup(func() { _ = e.Close() })
	_, err = e.CreateDevice(hub.DeviceSpec{ID: "dev1", Auth: hub.AuthSAS})
	require.NoError(f, err)
	h := NewHandler(e)

	routes := []struct{ method, path string }{
		{"PUT", "/devices/%s"}, {"GET", "/devices/%s"}, {"DELETE", "/devices/%s"}, {"POST", "/devices/%s/disable"},
		{"PATCH", "/devices/%s/twin"}, {"POST", "/devices/%s/c2d"}, {"POST", "/devices/%s/methods/%s"},
		{"GET", "/sas-token?device=%s&ttl=%s"}, {"PUT", "/certificates/%s"}, {"POST", "/certificates/%s/verify"},
		{"POST", "/certificates/%s/verification-code"}, {"PUT", "/dps/enrollments/%s"}, {"PUT", "/dps/enrollment-groups/%s"},
		{"PUT", "/dps/certificates/%s"}, {"POST", "/dps/certificates/%s/verify"}, {"GET", "/attempts?device=%s"},
	}
	seeds := []string{`{}`, `{"authenticationType":"sas"}`, `{"pem":"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----"}`,
		`{"attestation":"symmetricKey","primaryKey":"AAEC"}`, `{"attestation":"x509","thumbprintsSha256":["zz"]}`,
		`{"payload":"x","properties":{"a":"b"}}`, `{"payload":{"n":1},"responseTimeoutInSeconds":1}`, `null`, `[`, ``}
	for i, s := range seeds {
		f.Add(uint8(i), "dev1", "1h", s)
	}
	f.Fuzz(func(t *testing.T, route uint8, id, arg, body string) {
		r := routes[int(route)%len(routes)]
		path := strings.Replace(r.path, "%s", url.PathEscape(id), 1)
		path = strings.Replace(path, "%s", url.QueryEscape(arg), 1)
		req := httptest.NewRequestWithContext(t.Context(), r.method, "http://localhost"+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, path, body, w.Code, w.Body)
		}
		if w.Code != http.StatusNoContent && w.Code/100 != 3 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: answer is not JSON: %q", r.method, path, w.Body)
		}
	})
}

func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"1h", "3600", "-1", "0", "90m", "1e9", "", "87600h", "315360000"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 21, 5, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTTL(s)
		if err != nil {
			if !errors.Is(err, errBadRequest) {
				t.Fatalf("parseTTL(%q) error %v is not a bad request", s, err)
			}
			return
		}
		if d <= 0 || d > MaxSASTTL {
			t.Fatalf("parseTTL(%q) = %v without error", s, d)
		}
		if !now.Add(d).After(now) {
			t.Fatalf("parseTTL(%q) = %v: expiry is not after now", s, d)
		}
	})
}

// FuzzAdminGuard sends arbitrary Host, Origin, Sec-Fetch-Site,
// Content-Type and Authorization headers: a request that reaches the
// routes names a loopback or configured host, carries the token, and has
// a JSON body if any; no request from another origin writes.
func FuzzAdminGuard(f *testing.F) {
	const token = "tok"
	h := &handler{log: slog.New(slog.DiscardHandler), hosts: map[string]bool{"hub.lan": true}, token: token}
	reached := false
	g := h.guard(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { reached = true }))
	f.Add("POST", "127.0.0.1:8480", "", "", "application/json", "Bearer tok", "{}")
	f.Add("GET", "attacker.example", "http://attacker.example", "cross-site", "", "Bearer tok", "")
	f.Add("PUT", "[::1]:1", "http://[::1]:1", "same-origin", "application/merge-patch+json; charset=utf-8", "Basic OnRvaw==", "{}")
	f.Add("DELETE", "hub.lan", "null", "", "text/plain", "Bearer tok", "x")
	f.Fuzz(func(t *testing.T, method, host, origin, fetchSite, contentType, auth, body string) {
		req, err := http.NewRequest(method, "http://localhost/devices", strings.NewReader(body))
		if err != nil {
			return // not a method http would send
		}
		req.Host = host
		for k, v := range map[string]string{"Origin": origin, "Sec-Fetch-Site": fetchSite, "Content-Type": contentType, "Authorization": auth} {
			if v != "" {
				req.Header.Set(k, v)
			}
		}
		reached = false
		w := httptest.NewRecorder()
		g.ServeHTTP(w, req)
		if !reached {
			if w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden && w.Code != http.StatusUnsupportedMediaType {
				t.Fatalf("refused with %d", w.Code)
			}
			return
		}
		name := host
		if n, _, err := net.SplitHostPort(host); err == nil {
			name = n
		}
		name = strings.ToLower(strings.Trim(name, "[]"))
		ip := net.ParseIP(name)
		if name != "localhost" && name != "hub.lan" && (ip == nil || !ip.IsLoopback()) {
			t.Fatalf("host %q reached the routes", host)
		}
		if _, pass, ok := req.BasicAuth(); (!ok || pass != token) && strings.TrimSpace(strings.TrimPrefix(auth, "Bearer ")) != token {
			t.Fatalf("authorization %q reached the routes", auth)
		}
		if body != "" && !strings.Contains(strings.ToLower(contentType), "json") {
			t.Fatalf("body of type %q reached the routes", contentType)
		}
		safe := method == "GET" || method == "HEAD" || method == "OPTIONS"
		if !safe && (fetchSite == "cross-site" || fetchSite == "same-site") {
			t.Fatalf("%s with Sec-Fetch-Site %q reached the routes", method, fetchSite)
		}
	})
}
