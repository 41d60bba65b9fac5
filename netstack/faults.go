package netstack

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// NetFaults are network faults put between a device and the emulator, for
// load runs (`modemsim load`): every connection the stack opens goes
// through a loopback relay of its own that delays the bytes and may cut
// the connection, as a bad cellular link does. The TLS session stays end to
// end: the relay sees only ciphertext.
type NetFaults struct {
	// Latency is added to every chunk of bytes in each direction (a
	// one-way delay; a round trip pays it twice).
	Latency time.Duration
	// Cut decides for the stack's conn-th connection (0-based) whether the
	// network cuts it, and after how many bytes from the server. It must be
	// deterministic for reproducible runs; nil cuts nothing.
	Cut func(conn int) (afterBytes int, cut bool)
	// OnCut is told when a connection is cut (for a run's fault counts).
	OnCut func()
	// Unreachable reports, for the stack's conn-th connection, that the
	// device has no network for it (its registration was lost): the
	// connection is refused. nil: the network is always there.
	Unreachable func(conn int) bool
}

// relayAcceptTimeout bounds how long a relay waits for the dial its
// address was handed out for.
const relayAcceptTimeout = 30 * time.Second

// WithNetFaults routes every connection of the stack through a faulty
// relay. The zero NetFaults relays without faults.
func WithNetFaults(f NetFaults) Option {
	return func(s *Stack) { s.resolver = &faultResolver{inner: s.resolver, f: f, log: s} }
}

// faultResolver hands out, for each Route, the address of a one-connection
// relay toward the real route. Route is called once per TCP connect
// (DialTCP), so its count is the stack's connection number.
type faultResolver struct {
	inner Resolver
	f     NetFaults
	log   *Stack
	conns atomic.Int64
}

func (r *faultResolver) Lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return r.inner.Lookup(ctx, host)
}

func (r *faultResolver) Route(ctx context.Context, host string, port int) (string, error) {
	upstream, err := r.inner.Route(ctx, host, port)
	if err != nil || upstream == closedPort {
		return upstream, err
	}
	n := int(r.conns.Add(1) - 1)
	if r.f.Unreachable != nil && r.f.Unreachable(n) {
		return closedPort, nil
	}
	cutAt, cut := -1, false
	if r.f.Cut != nil {
		cutAt, cut = r.f.Cut(n)
		if !cut {
			cutAt = -1
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		// No relay: the connection goes unfaulted rather than failing for
		// a reason of the test rig.
		r.log.log.Warn("netstack: fault relay not started", "error", err)
		return upstream, nil
	}
	go r.relay(ln.(*net.TCPListener), upstream, cutAt)
	return ln.Addr().String(), nil
}

// relay serves the one connection dialled to ln.
func (r *faultResolver) relay(ln *net.TCPListener, upstream string, cutAt int) {
	_ = ln.SetDeadline(time.Now().Add(relayAcceptTimeout))
	dev, err := ln.Accept()
	ln.Close()
	if err != nil {
		return
	}
	srv, err := net.Dial("tcp", upstream)
	if err != nil {
		// The device sees the refusal as a peer that closed at once.
		dev.Close()
		return
	}
	var once sync.Once
	closeBoth := func() { once.Do(func() { dev.Close(); srv.Close() }) }
	onCut := func() {
		if r.f.OnCut != nil {
			r.f.OnCut()
		}
		closeBoth()
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); delayedCopy(dev, srv, r.f.Latency, cutAt, onCut); closeBoth() }()
	go func() { defer wg.Done(); delayedCopy(srv, dev, r.f.Latency, -1, nil); closeBoth() }()
	wg.Wait()
}

// chunk is bytes read at one time, due for delivery at due.
type chunk struct {
	b   []byte
	due time.Time
}

// delayedCopy copies src to dst, each chunk delivered delay after it was
// read, in order. With cutAt ≥ 0 it delivers that many bytes, then calls
// onCut and stops.
func delayedCopy(dst, src net.Conn, delay time.Duration, cutAt int, onCut func()) {
	q := make(chan chunk, 64)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 16<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{buf[:n], time.Now().Add(delay)}
			}
			if err != nil {
				return
			}
		}
	}()
	sent := 0
	for c := range q {
		if d := time.Until(c.due); d > 0 {
			time.Sleep(d)
		}
		b := c.b
		if cutAt >= 0 && sent+len(b) >= cutAt {
			b = b[:cutAt-sent]
			if len(b) > 0 {
				_, _ = dst.Write(b)
			}
			onCut()
			drain(q)
			return
		}
		if _, err := dst.Write(b); err != nil {
			drain(q) // the caller closes both ends, which ends the reader
			return
		}
		sent += len(b)
	}
}

// drain lets the reader goroutine end once its source is closed.
func drain(q chan chunk) {
	go func() {
		for range q {
		}
	}()
}
