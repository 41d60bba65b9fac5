package hub

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"
)

// CheckTLSHandshake records a failed TLS handshake (no CONNECT was read).
const CheckTLSHandshake Check = "tls-handshake"

// tlsListener is a mochi listener for MQTT over TLS that finishes the
// handshake itself so the SNI can pick the hub or the DPS server (§3.4 [inf]).
type tlsListener struct {
	id, addr string
	tlsCfg   *tls.Config
	timeout  time.Duration
	// dps, when set, serves connections whose SNI names DPS.
	dps func(c net.Conn) error
	rec *recorder
	clk func() time.Time
	// admit, when set, takes each accepted TCP connection first and
	// returns the one to serve, or nil when it closed it (connGuard.admit).
	admit func(listener string, c net.Conn) net.Conn

	mu     sync.Mutex
	ln     net.Listener
	log    *slog.Logger
	closed bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func (l *tlsListener) ID() string       { return l.id }
func (l *tlsListener) Protocol() string { return "mqtts" }

func (l *tlsListener) Address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.addr
}

func (l *tlsListener) Init(log *slog.Logger) error {
	ln, err := net.Listen("tcp", l.addr)
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.ln, l.log = ln, log
	l.mu.Unlock()
	return nil
}

func (l *tlsListener) Serve(establish listeners.EstablishFn) {
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		if l.admit != nil {
			if c = l.admit(l.id, c); c == nil {
				continue
			}
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = c.Close()
			return
		}
		if l.conns == nil {
			l.conns = map[net.Conn]struct{}{}
		}
		l.conns[c] = struct{}{}
		l.wg.Add(1) // under mu: shutdown's Wait cannot race with it
		l.mu.Unlock()
		go func() {
			defer l.wg.Done()
			l.handle(c, establish)
			l.mu.Lock()
			delete(l.conns, c)
			l.mu.Unlock()
		}()
	}
}

func (l *tlsListener) handle(c net.Conn, establish listeners.EstablishFn) {
	tc := tls.Server(c, l.tlsCfg)
	ctx, cancel := context.WithTimeout(context.Background(), l.timeout)
	err := tc.HandshakeContext(ctx)
	cancel()
	if err != nil {
		recordHandshakeFailure(l.rec, l.clk, l.id, c.RemoteAddr().String(), newTLSContext(tc.ConnectionState(), ""), err)
		_ = c.Close()
		return
	}
	if l.dps != nil && isDPSName(tc.ConnectionState().ServerName) {
		_ = l.dps(tc)
		return
	}
	if l.dps != nil && needsUsernameRoute(tc.ConnectionState().ServerName) {
		_ = routeByUsername(tc, l.timeout, l.rec, l.clk, l.id, l.dps, func(c net.Conn) error { return establish(l.id, c) })
		return
	}
	_ = establish(l.id, tc)
}

// shutdown stops accepting, closes every connection and waits until no
// goroutine is inside mochi's EstablishConnection (which must not run
// concurrently with mochi's Server.Close).
func (l *tlsListener) shutdown() {
	l.mu.Lock()
	l.closed = true
	if l.ln != nil {
		_ = l.ln.Close()
	}
	for c := range l.conns {
		_ = c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

func (l *tlsListener) Close(closeClients listeners.CloseFn) {
	l.shutdown()
	closeClients(l.id)
}

// recordHandshakeFailure keeps a TLS refusal (e.g. TLS 1.1, a device that
// rejected the server chain) in the attempt list.
func recordHandshakeFailure(rec *recorder, clk func() time.Time, listener, remote string, tc *TLSContext, err error) {
	if errors.Is(err, net.ErrClosed) {
		return // closed on this side (connect deadline, shutdown), which recorded its own reason
	}
	rs := Reason{Time: clk(), Service: serviceName, Check: CheckTLSHandshake, Detail: err.Error(),
		Values: map[string]string{"remote": remote, "listener": listener}}
	tc.addValues(rs.Values)
	rec.reason(rs)
	rec.attempt(Attempt{Time: rs.Time, Remote: remote, Listener: listener, Outcome: OutcomeRefused, ConnackCode: -1, Reason: &rs, TLS: tc})
}
