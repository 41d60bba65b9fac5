package hubadmin

import (
	"encoding/json"
	"errors"
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
