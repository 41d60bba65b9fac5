package hubadmin

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"mime"
	"net"
	"net/http"
	"strings"
)

// The admin API hands out every device key, so only its owner may drive
// it. Three checks run before any route (issue 14):
//
//   - Host: a web page whose name was rebound to 127.0.0.1 (DNS
//     rebinding) sends its own name as Host; only loopback names, the
//     listener's own IPs and names given with WithAllowedHosts pass.
//   - Cross-origin writes: a browser marks them (Sec-Fetch-Site, Origin);
//     http.CrossOriginProtection refuses every non-GET from another origin.
//   - Bodies must be JSON: a page can send text/plain or a form without a
//     preflight, never application/json.
//
// With WithToken, every request must also carry the token (Bearer, or as
// the Basic password: http://:TOKEN@host/ in a URL), which is how a
// non-loopback address is served.

// jsonMediaTypes are the body types the API accepts (merge patch for
// PATCH …/twin, as RFC 7396 names it).
var jsonMediaTypes = map[string]bool{"application/json": true, "application/merge-patch+json": true}

// WithAllowedHosts accepts these host names (or IPs) in the Host header,
// beside the loopback ones (localhost, 127.0.0.0/8, ::1).
func WithAllowedHosts(hosts ...string) Option {
	return func(h *handler) {
		for _, n := range hosts {
			h.hosts[strings.ToLower(strings.Trim(n, "[]"))] = true
		}
	}
}

// WithToken requires every request to present token, as
// "Authorization: Bearer <token>" or as the password of Basic
// authentication (any user name). "" means no token.
func WithToken(token string) Option { return func(h *handler) { h.token = token } }

// NewToken returns a random admin token (256 bits, URL-safe).
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// IsLoopbackAddr reports whether a listen address (host:port) accepts
// loopback connections only. An empty host or 0.0.0.0 listens on every
// interface; a name other than localhost may resolve anywhere.
func IsLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	return isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// ListenerHosts returns the IP literals clients reach a listener at
// under its own address: the bound IP, or every interface address when it
// listens on all of them. Give them to WithAllowedHosts.
func ListenerHosts(addr net.Addr) []string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	if !ta.IP.IsUnspecified() {
		return []string{ta.IP.String()}
	}
	ifAddrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range ifAddrs {
		if ipn, ok := a.(*net.IPNet); ok {
			out = append(out, ipn.IP.String())
		}
	}
	return out
}

// guard wraps the routes with the checks above.
func (h *handler) guard(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.refuse(w, r, http.StatusForbidden, "cross-origin "+r.Method+" refused (the admin API takes writes from its own origin only)")
	}))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.token != "" && !h.hasToken(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="modemsim hub admin"`)
			h.refuse(w, r, http.StatusUnauthorized, "admin token required (Authorization: Bearer <token>, or http://:<token>@host/ as the admin URL)")
			return
		}
		if !h.hostAllowed(r.Host) {
			h.refuse(w, r, http.StatusForbidden, fmt.Sprintf("host %q is not an admin API name (loopback names and configured ones only)", r.Host))
			return
		}
		if err := cop.Check(r); err != nil {
			cop.Handler(next).ServeHTTP(w, r) // answers with the deny handler
			return
		}
		if hasBody(r) {
			mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
			if err != nil || !jsonMediaTypes[mt] {
				h.refuse(w, r, http.StatusUnsupportedMediaType,
					fmt.Sprintf("request body must be application/json, not %q", r.Header.Get("Content-Type")))
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *handler) refuse(w http.ResponseWriter, r *http.Request, status int, why string) {
	h.log.Warn("hubadmin: request refused", "method", r.Method, "path", r.URL.Path, "host", r.Host,
		"origin", r.Header.Get("Origin"), "remote", r.RemoteAddr, "status", status, "reason", why)
	writeJSON(w, status, errorBody{Error: why})
}

func (h *handler) hasToken(r *http.Request) bool {
	got := ""
	if auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		got = strings.TrimSpace(auth)
	} else if _, pass, ok := r.BasicAuth(); ok {
		got = pass
	}
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(h.token)) == 1
}

func (h *handler) hostAllowed(hostport string) bool {
	host := hostport
	if hh, _, err := net.SplitHostPort(hostport); err == nil {
		host = hh
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if host == "" {
		return false
	}
	return isLoopbackHost(host) || h.hosts[host]
}

// hasBody: a request with content (a length, or chunked). Bodyless writes
// such as POST …/disable are covered by the cross-origin check.
func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody
}
