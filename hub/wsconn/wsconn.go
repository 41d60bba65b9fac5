// Package wsconn is a mochi-mqtt listener for MQTT over WebSockets/TLS that
// behaves like Azure IoT Hub's port-443 endpoint: one upgrade path, the
// `mqtt` subprotocol matched case-insensitively and echoed as the client
// sent it, HTTP 400 for anything else, and the TLS state of every
// connection kept reachable (X.509 authentication happens at CONNECT).
// See /work/shared/protocols/azure-iot-hub.md §1.1 and §5.1.
package wsconn

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/mochi-mqtt/server/v2/listeners"

	"github.com/modemsim/modemsim/wsnet"
)

// ErrDropped is returned by a Gate to drop a request without any HTTP answer.
var ErrDropped = errors.New("wsconn: request dropped")

// Config configures a Listener.
type Config struct {
	ID      string
	Address string
	// TLSConfig is required: the endpoint is TLS only (§1.1 [doc D-MQTT]).
	TLSConfig *tls.Config
	// Path is the only accepted request path (e.g. "/$iothub/websocket").
	Path string
	// Subprotocol is the required subprotocol, matched case-insensitively.
	Subprotocol string
	// Gate, if set, runs after the path/subprotocol checks; a non-nil error
	// closes the TCP connection without any HTTP response.
	Gate func(r *http.Request) error
	// Route, if set, may hand the connection to another MQTT server (for
	// example DPS chosen by SNI); ok=false uses the listener's own server.
	Route func(r *http.Request) (establish func(c net.Conn) error, ok bool)
	// Fallback, if set, serves plain HTTPS requests (not WebSocket upgrades)
	// for paths other than Path: the real port 443 also carries the
	// service REST API.
	Fallback http.Handler
	// Rejected, if set, is told about every refused request.
	Rejected func(r *http.Request, status int, why string)
	// HandshakeFailed, if set, is told about every failed TLS handshake with
	// what the handshake got to (SNI, client certificates).
	HandshakeFailed func(remote string, state tls.ConnectionState, err error)
	// HandshakeTimeout bounds the TLS handshake (default 10 s).
	HandshakeTimeout time.Duration
	// Admit, if set, takes every accepted TCP connection before the TLS
	// handshake and returns the connection to serve (it may wrap it), or
	// nil when it closed it.
	Admit func(c net.Conn) net.Conn
}

// Listener implements listeners.Listener.
type Listener struct {
	cfg Config

	mu     sync.Mutex
	ln     net.Listener
	srv    *http.Server
	log    *slog.Logger
	closed bool
	conns  map[*Conn]struct{}
	wg     sync.WaitGroup
}

// New returns a listener; call it through mochi's AddListener.
func New(cfg Config) *Listener { return &Listener{cfg: cfg} }

// ID returns the listener id.
func (l *Listener) ID() string { return l.cfg.ID }

// Protocol returns "wss".
func (l *Listener) Protocol() string { return "wss" }

// Address returns the bound address once Init ran.
func (l *Listener) Address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.cfg.Address
}

// Init binds the TCP port.
func (l *Listener) Init(log *slog.Logger) error {
	if l.cfg.TLSConfig == nil {
		return errors.New("wsconn: TLSConfig is required")
	}
	ln, err := net.Listen("tcp", l.cfg.Address)
	if err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l.mu.Lock()
	l.ln, l.log = ln, log
	l.mu.Unlock()
	return nil
}

// Serve serves HTTP upgrades until Close.
func (l *Listener) Serve(establish listeners.EstablishFn) {
	mux := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { l.handle(w, r, establish) })
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		// HTTP/1.1 only: an upgrade cannot happen over HTTP/2.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		// Handshake noise (scanners, aborted TLS) goes to the debug log only.
		ErrorLog: slog.NewLogLogger(l.logger().Handler(), slog.LevelDebug),
	}
	l.mu.Lock()
	l.srv = srv
	ln := l.ln
	l.mu.Unlock()
	_ = srv.Serve(newHandshakeListener(ln, l.cfg))
}

// handshakeListener completes each TLS handshake in its own goroutine
// before http.Server sees the connection, so failures can be reported
// (http.Server only logs them) and a slow client does not block Accept.
type handshakeListener struct {
	net.Listener
	cfg  Config
	out  chan net.Conn
	done chan struct{}
	once sync.Once
}

func newHandshakeListener(ln net.Listener, cfg Config) *handshakeListener {
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = 10 * time.Second
	}
	h := &handshakeListener{Listener: ln, cfg: cfg, out: make(chan net.Conn), done: make(chan struct{})}
	go h.acceptLoop()
	return h
}

func (h *handshakeListener) acceptLoop() {
	defer h.Close()
	for {
		c, err := h.Listener.Accept()
		if err != nil {
			return
		}
		if h.cfg.Admit != nil {
			if c = h.cfg.Admit(c); c == nil {
				continue
			}
		}
		go func() {
			tc := tls.Server(c, h.cfg.TLSConfig)
			ctx, cancel := context.WithTimeout(context.Background(), h.cfg.HandshakeTimeout)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				if h.cfg.HandshakeFailed != nil {
					h.cfg.HandshakeFailed(c.RemoteAddr().String(), tc.ConnectionState(), err)
				}
				_ = c.Close()
				return
			}
			select {
			case h.out <- tc:
			case <-h.done:
				_ = tc.Close()
			}
		}()
	}
}

func (h *handshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-h.out:
		return c, nil
	case <-h.done:
		return nil, net.ErrClosed
	}
}

func (h *handshakeListener) Close() error {
	h.once.Do(func() { close(h.done) })
	return h.Listener.Close()
}

// Shutdown stops accepting, closes every connection and waits until no
// handler is running (so no EstablishFn call is in progress). Idempotent.
func (l *Listener) Shutdown() {
	l.mu.Lock()
	l.closed = true
	srv, ln := l.srv, l.ln
	for c := range l.conns {
		_ = c.Close()
	}
	l.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	} else if ln != nil {
		_ = ln.Close()
	}
	l.wg.Wait()
}

// Close stops the listener and the clients of this listener.
func (l *Listener) Close(closeClients listeners.CloseFn) {
	l.Shutdown()
	closeClients(l.cfg.ID)
}

// enter registers a running handler; false once the listener is closed.
func (l *Listener) enter() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.wg.Add(1)
	return true
}

func (l *Listener) track(c *Conn, on bool) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conns == nil {
		l.conns = map[*Conn]struct{}{}
	}
	if !on {
		delete(l.conns, c)
		return true
	}
	if l.closed {
		return false
	}
	l.conns[c] = struct{}{}
	return true
}

// pickSubprotocol returns the client's token that matches want
// case-insensitively (the C SDK sends "MQTT", §1.1 [src S-C]).
func pickSubprotocol(r *http.Request, want string) (string, bool) {
	for _, p := range websocket.Subprotocols(r) {
		if strings.EqualFold(p, want) {
			return p, true
		}
	}
	return "", false
}

func (l *Listener) reject(w http.ResponseWriter, r *http.Request, why string) {
	if l.cfg.Rejected != nil {
		l.cfg.Rejected(r, http.StatusBadRequest, why)
	}
	http.Error(w, why, http.StatusBadRequest)
}

func (l *Listener) handle(w http.ResponseWriter, r *http.Request, establish listeners.EstablishFn) {
	if !l.enter() {
		return
	}
	defer l.wg.Done()
	if r.URL.Path != l.cfg.Path {
		if l.cfg.Fallback != nil && !websocket.IsWebSocketUpgrade(r) {
			l.cfg.Fallback.ServeHTTP(w, r)
			return
		}
		l.reject(w, r, "wrong path "+r.URL.Path)
		return
	}
	if !websocket.IsWebSocketUpgrade(r) {
		l.reject(w, r, "not a WebSocket upgrade")
		return
	}
	proto, ok := pickSubprotocol(r, l.cfg.Subprotocol)
	if !ok {
		l.reject(w, r, "subprotocol "+l.cfg.Subprotocol+" not offered")
		return
	}
	if l.cfg.Gate != nil {
		if err := l.cfg.Gate(r); err != nil {
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					_ = c.Close()
					return
				}
			}
			panic(http.ErrAbortHandler) // closes the connection without a response
		}
	}
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	ws, err := up.Upgrade(w, r, http.Header{"Sec-Websocket-Protocol": {proto}})
	if err != nil {
		return // gorilla already answered with an HTTP error
	}
	c := &Conn{Conn: wsnet.New(ws), query: r.URL.Query(), host: r.Host, requestURI: r.RequestURI}
	if r.TLS != nil {
		c.state = *r.TLS
	}
	if !l.track(c, true) {
		_ = c.Close()
		return
	}
	defer l.track(c, false)
	if l.cfg.Route != nil {
		if est, ok := l.cfg.Route(r); ok {
			_ = est(c)
			return
		}
	}
	_ = establish(l.cfg.ID, c)
}

// Conn is an MQTT byte stream over binary WebSocket messages that keeps
// the TLS state of the underlying connection.
type Conn struct {
	*wsnet.Conn
	state tls.ConnectionState
	query url.Values
	host  string
	// requestURI is the upgrade request's path and query.
	requestURI string
}

// ConnectionState returns the TLS state of the handshake under the upgrade.
func (c *Conn) ConnectionState() tls.ConnectionState { return c.state }

// RequestURI returns the upgrade request's path and query as sent.
func (c *Conn) RequestURI() string { return c.requestURI }

// Query returns the upgrade request's query parameters.
func (c *Conn) Query() url.Values { return c.query }

func (l *Listener) logger() *slog.Logger {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.log
}
