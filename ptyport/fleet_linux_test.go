package ptyport

import (
	"bytes"
	"errors"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fleetSize is the fleet of issue 7: 1,000 boards in one process.
const fleetSize = 1000

// requireFreePtys skips when the machine's pty limit (shared with every other
// process) cannot give n more.
func requireFreePtys(tb testing.TB, n int) {
	tb.Helper()
	read := func(name string) int {
		b, err := os.ReadFile("/proc/sys/kernel/pty/" + name)
		require.NoError(tb, err)
		v, err := strconv.Atoi(strings.TrimSpace(string(b)))
		require.NoError(tb, err)
		return v
	}
	if free := read("max") - read("nr"); free < n+64 {
		tb.Skipf("only %d ptys free (kernel.pty.max), need %d", free, n)
	}
}

// openFleet opens n ports on w; the channel receives a port's index when its
// handler has seen a client open and close it (the port is then in session 1).
// The caller closes the ports.
func openFleet(tb testing.TB, w *Watcher, n int) ([]*Port, <-chan int) {
	tb.Helper()
	seen := make(chan int, n)
	ports := make([]*Port, 0, n)
	for i := range n {
		p, err := Open(WithWatcher(w), WithEventHandler(func(ev Event) {
			if ev.Kind == ClientClosed && ev.Session == 1 {
				seen <- i
			}
		}))
		if err != nil {
			closeFleet(ports)
			require.NoError(tb, err, "port %d", i)
		}
		ports = append(ports, p)
	}
	return ports, seen
}

func closeFleet(ports []*Port) {
	for _, p := range ports {
		_ = p.Close()
	}
}

// cycleClients opens and closes a client on every port, as a host tool would.
func cycleClients(tb testing.TB, ports []*Port) {
	tb.Helper()
	for _, p := range ports {
		f, err := os.OpenFile(p.Path(), os.O_RDWR|unix.O_NOCTTY, 0)
		require.NoError(tb, err)
		require.NoError(tb, f.Close())
	}
}

// waitSeen waits until every one of n ports has reported its client's close.
func waitSeen(tb testing.TB, seen <-chan int, n int) {
	tb.Helper()
	got := make(map[int]bool, n)
	deadline := time.After(30 * time.Second)
	for len(got) < n {
		select {
		case i := <-seen:
			got[i] = true
		case <-deadline:
			require.FailNow(tb, "not every port saw its client", "%d of %d", len(got), n)
		}
	}
}

func openFds(tb testing.TB) int {
	tb.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(tb, err)
	return len(entries)
}

// rssKiB reads VmRSS of this process.
func rssKiB(tb testing.TB) int {
	tb.Helper()
	status, err := os.ReadFile("/proc/self/status")
	require.NoError(tb, err)
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			v, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			require.NoError(tb, err)
			return v
		}
	}
	require.FailNow(tb, "no VmRSS")
	return 0
}

func TestThousandPortsOneWatcher(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1,000 ptys")
	}
	requireFreePtys(t, fleetSize)
	w, err := NewWatcher()
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, w.Close()) })
	goroutines, fds := runtime.NumGoroutine(), openFds(t)

	ports, seen := openFleet(t, w, fleetSize)
	t.Cleanup(func() { closeFleet(ports) })
	assert.LessOrEqual(t, runtime.NumGoroutine()-goroutines, 0, "no goroutine per port")
	assert.LessOrEqual(t, openFds(t)-fds, 2*fleetSize, "two descriptors per port")

	cycleClients(t, ports)
	waitSeen(t, seen, fleetSize)
	for i, p := range ports {
		require.Equal(t, uint64(1), p.Session(), "port %d", i)
		require.False(t, p.ClientOpen(), "port %d", i)
	}

	// And the ports still serve: a client of the last one gets what the board writes.
	last := ports[len(ports)-1]
	c := openClient(t, last.Path())
	require.Eventually(t, last.ClientOpen, 5*time.Second, time.Millisecond)
	_, err = last.Write([]byte("OK\r\n"))
	require.NoError(t, err)
	assert.Equal(t, "OK\r\n", string(readFull(t, c, 4)))
}

func TestWatcherCloseLeavesPortsUsable(t *testing.T) {
	w, err := NewWatcher()
	require.NoError(t, err)
	p := openPort(t, WithWatcher(w))
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "second Close")
	// The port no longer follows clients but reads, writes and closes as before.
	assert.False(t, p.ClientOpen())
	n, err := p.Write([]byte("to nobody"))
	require.NoError(t, err)
	assert.Equal(t, 9, n)
	require.NoError(t, p.Close())

	_, err = Open(WithWatcher(w))
	assert.ErrorIs(t, err, ErrWatcherClosed)
}

// BenchmarkPortsIdle opens fleetSize ports on one Watcher, opens and closes a client
// on each and waits until every port has seen it. It reports the time to open the
// ports, the client cycle per port, and what an idle port costs: descriptors,
// goroutines and RSS.
func BenchmarkPortsIdle(b *testing.B) {
	requireFreePtys(b, fleetSize)
	var openTime, cycleTime time.Duration
	var fds, goroutines, rss int
	runs := 0
	for b.Loop() {
		runtime.GC()
		g0, fd0, rss0 := runtime.NumGoroutine(), openFds(b), rssKiB(b)
		w, err := NewWatcher()
		require.NoError(b, err)
		start := time.Now()
		ports, seen := openFleet(b, w, fleetSize)
		openTime += time.Since(start)
		start = time.Now()
		cycleClients(b, ports)
		waitSeen(b, seen, fleetSize)
		cycleTime += time.Since(start)
		runtime.GC()
		goroutines += runtime.NumGoroutine() - g0
		fds += openFds(b) - fd0
		rss += rssKiB(b) - rss0
		runs++
		closeFleet(ports)
		require.NoError(b, w.Close())
	}
	per := float64(runs * fleetSize)
	b.ReportMetric(float64(openTime.Milliseconds())/float64(runs), "ms/open-1000-ports")
	b.ReportMetric(float64(cycleTime.Microseconds())/per, "µs/client-cycle")
	b.ReportMetric(float64(fds)/per, "fds/port")
	b.ReportMetric(float64(goroutines)/per, "goroutines/port")
	b.ReportMetric(float64(rss)/per, "KiB-RSS/port")
}

// echoRoundTrip measures the bare pty echo on p: the client writes "AT\r\n", a bare
// reader answers "OK\r\n", the client reads that.
func echoRoundTrip(b *testing.B, p *Port) {
	c := openClient(b, p.Path())
	go func() {
		buf := make([]byte, 64)
		var pending []byte
		for {
			n, err := p.Read(buf)
			if err != nil {
				return
			}
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				pending = pending[i+1:]
				if _, err := p.Write([]byte("OK\r\n")); err != nil {
					return
				}
			}
		}
	}()
	req := []byte("AT\r\n")
	resp := make([]byte, 4)
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, resp); err != nil {
			b.Fatal(err)
		}
		if string(resp) != "OK\r\n" {
			b.Fatalf("got %q", resp)
		}
	}
}

// BenchmarkEchoRoundTripAmongIdle is BenchmarkEchoRoundTrip on one port while
// fleetSize-1 idle ports share its Watcher.
func BenchmarkEchoRoundTripAmongIdle(b *testing.B) {
	requireFreePtys(b, fleetSize)
	w, err := NewWatcher()
	require.NoError(b, err)
	defer func() { require.NoError(b, w.Close()) }()
	idle, _ := openFleet(b, w, fleetSize-1)
	defer closeFleet(idle)
	p, err := Open(WithWatcher(w))
	require.NoError(b, err)
	defer func() {
		if err := p.Close(); err != nil && !errors.Is(err, ErrClosed) {
			b.Error(err)
		}
	}()
	echoRoundTrip(b, p)
}

// BenchmarkReconcileScan is the background /proc scan with fleetSize ports open in
// this process, all of them to reconcile (after IN_Q_OVERFLOW).
func BenchmarkReconcileScan(b *testing.B) {
	requireFreePtys(b, fleetSize)
	w, err := NewWatcher()
	require.NoError(b, err)
	defer func() { require.NoError(b, w.Close()) }()
	ports, _ := openFleet(b, w, fleetSize)
	defer closeFleet(ports)
	ours := make(map[uint64]int, len(ports))
	for _, p := range ports {
		ours[p.rdev] = p.slaveFd
	}
	for b.Loop() {
		holders, ok := scanHolders(ours)
		if !ok || len(holders) != 0 {
			b.Fatalf("scan: ok=%v holders=%v", ok, holders)
		}
	}
}
