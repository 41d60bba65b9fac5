package hub

import (
	"net"
	"strconv"
	"sync"
	"time"

	mqtt "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Checks of the connection guard.
const (
	// CheckConnectTimeout: no CONNECT within the connect deadline of the
	// TCP accept (TLS handshake and WebSocket upgrade count against it).
	CheckConnectTimeout Check = "connect-timeout"
	// CheckTooManyPending: the bound on connections that have not sent
	// CONNECT yet was reached; the new connection was closed at accept.
	CheckTooManyPending Check = "too-many-unauthenticated"
)

// Defaults of the guard. The real service closes connections that never
// send CONNECT but documents neither the time nor a bound [I]; both are
// settings (WithConnectTimeout, WithMaxPendingConnections).
const (
	DefaultConnectTimeout        = 30 * time.Second
	DefaultMaxPendingConnections = 512
)

// connGuard bounds what a client that never authenticates can hold: each
// accepted TCP connection gets a deadline by which its CONNECT must have
// been read, and at most max connections may be waiting for theirs. A
// connection leaves the pending set when a server (hub or DPS) sees its
// CONNECT, or when it closes.
type connGuard struct {
	timeout time.Duration
	max     int
	rec     *recorder
	clk     func() time.Time

	mu      sync.Mutex
	pending int
}

func newConnGuard(cfg *config, rec *recorder) *connGuard {
	return &connGuard{timeout: cfg.connectTimeout, max: cfg.maxPending, rec: rec, clk: cfg.clock}
}

// admit takes a freshly accepted TCP connection of listener. It returns
// the connection to serve, or nil after closing it when the bound is reached.
func (g *connGuard) admit(listener string, c net.Conn) net.Conn {
	g.mu.Lock()
	full := g.max > 0 && g.pending >= g.max
	if !full {
		g.pending++
	}
	n := g.pending
	g.mu.Unlock()
	if full {
		_ = c.Close()
		g.record(listener, c, CheckTooManyPending,
			"connections that have not sent CONNECT are at the bound; new connection closed at accept",
			map[string]string{"maxPending": strconv.Itoa(g.max), "pending": strconv.Itoa(n)})
		return nil
	}
	gc := &guardedConn{Conn: c, g: g, listener: listener}
	gc.timer = time.AfterFunc(g.timeout, gc.expire)
	return gc
}

func (g *connGuard) record(listener string, c net.Conn, check Check, detail string, vals map[string]string) {
	remote := c.RemoteAddr().String()
	vals["remote"], vals["listener"] = remote, listener
	rs := Reason{Time: g.clk(), Service: serviceName, Check: check, Detail: detail, Values: vals}
	g.rec.reason(rs)
	g.rec.attempt(Attempt{Time: rs.Time, Remote: remote, Listener: listener, Outcome: OutcomeRefused, ConnackCode: -1, Reason: &rs})
}

// pendingCount is the number of connections still waiting for CONNECT.
func (g *connGuard) pendingCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pending
}

// guardedConn is an accepted TCP connection under the guard (it sits under
// TLS, so closing it ends the handshake, the upgrade or the read of CONNECT).
type guardedConn struct {
	net.Conn
	g        *connGuard
	listener string
	timer    *time.Timer

	once sync.Once
}

// leave removes the connection from the pending set once; it reports
// whether this call did. The timer's own goroutine passes stop=false: it
// may run before admit has stored the timer.
func (c *guardedConn) leave(stop bool) bool {
	left := false
	c.once.Do(func() {
		if stop {
			c.timer.Stop()
		}
		c.g.mu.Lock()
		c.g.pending--
		c.g.mu.Unlock()
		left = true
	})
	return left
}

// connected: a server read the CONNECT; authentication decides from here.
func (c *guardedConn) connected() { c.leave(true) }

func (c *guardedConn) expire() {
	if !c.leave(false) {
		return
	}
	_ = c.Conn.Close()
	c.g.record(c.listener, c.Conn, CheckConnectTimeout,
		"no CONNECT within "+c.g.timeout.String()+" of the TCP accept (TLS handshake and WebSocket upgrade included); connection closed",
		map[string]string{"connectTimeout": c.g.timeout.String()})
}

// Close frees the pending slot of a connection that ends before CONNECT.
func (c *guardedConn) Close() error {
	c.leave(true)
	return c.Conn.Close()
}

// netConner is a wrapper that exposes the connection under it
// (*tls.Conn, *wsconn.Conn).
type netConner interface{ NetConn() net.Conn }

// guardedOf finds the guarded TCP connection under an MQTT stream.
func guardedOf(c net.Conn) *guardedConn {
	for c != nil {
		if gc, ok := c.(*guardedConn); ok {
			return gc
		}
		nc, ok := c.(netConner)
		if !ok {
			return nil
		}
		c = nc.NetConn()
	}
	return nil
}

// connectSeen is the mochi hook, on the hub's and DPS's servers, that tells
// the guard a CONNECT was read (every later refusal closes the socket).
type connectSeen struct {
	mqtt.HookBase
}

func (*connectSeen) ID() string { return "modemsim-connect-deadline" }

func (*connectSeen) Provides(b byte) bool { return b == mqtt.OnConnect }

func (*connectSeen) OnConnect(cl *mqtt.Client, _ packets.Packet) error {
	if gc := guardedOf(cl.Net.Conn); gc != nil {
		gc.connected()
	}
	return nil
}
