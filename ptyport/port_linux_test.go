package ptyport

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// openPort opens a port closed at test end.
func openPort(t testing.TB, opts ...Option) *Port {
	t.Helper()
	p, err := Open(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// openClient opens path as a host tool would (pyserial: O_RDWR|O_NOCTTY).
func openClient(t testing.TB, path string) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

func termios(t testing.TB, f *os.File) *unix.Termios {
	t.Helper()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var tio *unix.Termios
	var ioErr error
	require.NoError(t, rc.Control(func(fd uintptr) { tio, ioErr = unix.IoctlGetTermios(int(fd), unix.TCGETS) }))
	require.NoError(t, ioErr)
	return tio
}

func setTermios(t testing.TB, f *os.File, tio *unix.Termios) {
	t.Helper()
	rc, err := f.SyscallConn()
	require.NoError(t, err)
	var ioErr error
	require.NoError(t, rc.Control(func(fd uintptr) { ioErr = unix.IoctlSetTermios(int(fd), unix.TCSETS, tio) }))
	require.NoError(t, ioErr)
}

func assertRaw(t *testing.T, tio *unix.Termios) {
	t.Helper()
	assert.Zero(t, tio.Lflag&(unix.ECHO|unix.ECHONL|unix.ICANON|unix.ISIG|unix.IEXTEN), "lflag")
	assert.Zero(t, tio.Iflag&(unix.ICRNL|unix.INLCR|unix.IGNCR|unix.IXON|unix.IXOFF|unix.ISTRIP|unix.BRKINT|unix.PARMRK), "iflag")
	assert.Zero(t, tio.Oflag&unix.OPOST, "oflag")
	assert.Equal(t, uint32(unix.CS8), tio.Cflag&unix.CSIZE, "CS8")
	assert.Zero(t, tio.Cflag&unix.PARENB, "parity")
}

// readFull reads exactly n bytes from r or fails after a deadline.
func readFull(t testing.TB, f *os.File, n int) []byte {
	t.Helper()
	require.NoError(t, f.SetReadDeadline(time.Now().Add(5*time.Second)))
	buf := make([]byte, n)
	_, err := io.ReadFull(f, buf)
	require.NoError(t, err)
	return buf
}

// assertNothingMore fails if the client can read anything within d.
func assertNothingMore(t testing.TB, f *os.File, d time.Duration) {
	t.Helper()
	require.NoError(t, f.SetReadDeadline(time.Now().Add(d)))
	buf := make([]byte, 256)
	n, err := f.Read(buf)
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "unexpected bytes %q", buf[:n])
}

// eventRecorder collects a port's events through WithEventHandler.
type eventRecorder struct {
	ch       chan Event
	overflow atomic.Bool
}

func newEventRecorder() *eventRecorder { return &eventRecorder{ch: make(chan Event, 64)} }

// handle never blocks, as a handler must not.
func (r *eventRecorder) handle(ev Event) {
	select {
	case r.ch <- ev:
	default:
		r.overflow.Store(true)
	}
}

// openPortEvents opens a port whose events are recorded.
func openPortEvents(t testing.TB, opts ...Option) (*Port, *eventRecorder) {
	t.Helper()
	rec := newEventRecorder()
	p := openPort(t, append(opts, WithEventHandler(rec.handle))...)
	return p, rec
}

// next returns the next event or fails.
func (r *eventRecorder) next(t testing.TB) Event {
	t.Helper()
	require.False(t, r.overflow.Load(), "events dropped")
	select {
	case ev := <-r.ch:
		return ev
	case <-time.After(5 * time.Second):
		require.FailNow(t, "no event")
	}
	return Event{}
}

// none fails if an event arrives within d.
func (r *eventRecorder) none(t testing.TB, d time.Duration) {
	t.Helper()
	select {
	case ev := <-r.ch:
		assert.Fail(t, "unexpected event", "%+v", ev)
	case <-time.After(d):
	}
}

// echoBoard answers every LF-terminated line from the host with "OK <line>\r\n" and
// reports each answered line on the returned channel.
func echoBoard(t testing.TB, p *Port) <-chan string {
	answered := make(chan string, 64)
	go func() {
		defer close(answered)
		r := bufio.NewReader(p)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			if _, err := fmt.Fprintf(p, "OK %s\r\n", line); err != nil {
				return
			}
			answered <- line
		}
	}()
	return answered
}

// nextLine returns the next line echoBoard answered or fails.
func nextLine(t testing.TB, answered <-chan string) string {
	t.Helper()
	select {
	case line := <-answered:
		return line
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the board got no line")
	}
	return ""
}

func TestRawModeAndEightBitClean(t *testing.T) {
	p := openPort(t)
	c := openClient(t, p.Path())
	assertRaw(t, termios(t, c))

	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"every byte value", all},
		{"CR LF and control chars", []byte("AT\r\n\x03\x04\x11\x13\x1a\x7f\b")},
	}
	for _, tt := range tests {
		t.Run(tt.name+" host to board", func(t *testing.T) {
			_, err := c.Write(tt.data)
			require.NoError(t, err)
			require.NoError(t, p.SetReadDeadline(time.Now().Add(5*time.Second)))
			got := make([]byte, 0, len(tt.data))
			buf := make([]byte, 512)
			for len(got) < len(tt.data) {
				n, err := p.Read(buf)
				require.NoError(t, err)
				got = append(got, buf[:n]...)
			}
			assert.Equal(t, tt.data, got)
		})
		t.Run(tt.name+" board to host", func(t *testing.T) {
			n, err := p.Write(tt.data)
			require.NoError(t, err)
			require.Equal(t, len(tt.data), n)
			assert.Equal(t, tt.data, readFull(t, c, len(tt.data)))
			assertNothingMore(t, c, 20*time.Millisecond)
		})
	}
}

func TestRawRestoredWhenLastClientCloses(t *testing.T) {
	p, events := openPortEvents(t)
	c := openClient(t, p.Path())
	require.Equal(t, ClientOpened, events.next(t).Kind)

	// What a terminal program might leave behind: cooked, echoing, CRLF mapping.
	cooked := termios(t, c)
	cooked.Lflag |= unix.ECHO | unix.ICANON | unix.ISIG
	cooked.Iflag |= unix.ICRNL | unix.IXON
	cooked.Oflag |= unix.OPOST | unix.ONLCR
	setTermios(t, c, cooked)
	require.NotZero(t, termios(t, c).Lflag&unix.ECHO)
	require.NoError(t, c.Close())
	require.Equal(t, ClientClosed, events.next(t).Kind)

	c2 := openClient(t, p.Path())
	assertRaw(t, termios(t, c2))
	// And it behaves raw: LF is not turned into CRLF, no echo of host bytes.
	_, err := p.Write([]byte("a\nb"))
	require.NoError(t, err)
	assert.Equal(t, []byte("a\nb"), readFull(t, c2, 3))
	assertNothingMore(t, c2, 20*time.Millisecond)
}

func TestReopenTenTimesNoStaleBytes(t *testing.T) {
	p := openPort(t)
	answered := echoBoard(t, p)

	for i := range 10 {
		c := openClient(t, p.Path())
		line := fmt.Sprintf("AT+TEST=%d", i)
		_, err := c.Write([]byte(line + "\r\n"))
		require.NoError(t, err)
		require.Equal(t, line, nextLine(t, answered), "iteration %d", i)

		switch i % 3 {
		case 0: // the client reads its answer, nothing else is there
			want := "OK " + line + "\r\n"
			assert.Equal(t, want, string(readFull(t, c, len(want))), "iteration %d", i)
			assertNothingMore(t, c, 20*time.Millisecond)
			require.NoError(t, c.Close())
		case 1: // the client closes without reading the answer
			require.NoError(t, c.Close())
		case 2: // the board keeps talking after the client closed (a URC)
			want := "OK " + line + "\r\n"
			assert.Equal(t, want, string(readFull(t, c, len(want))), "iteration %d", i)
			require.NoError(t, c.Close())
			n, err := p.Write([]byte("+CEREG: 5\r\n"))
			require.NoError(t, err)
			assert.Equal(t, 11, n)
		}
	}
	// A last client sees its own answer and nothing stale from any earlier one.
	c := openClient(t, p.Path())
	_, err := c.Write([]byte("AT\r\n"))
	require.NoError(t, err)
	require.Equal(t, "AT", nextLine(t, answered))
	assert.Equal(t, "OK AT\r\n", string(readFull(t, c, 7)))
	assertNothingMore(t, c, 50*time.Millisecond)
}

func TestStaleOutputFlushedWhenClientCloses(t *testing.T) {
	// The board wrote while the client had the port open, the client never read it.
	p := openPort(t)
	c := openClient(t, p.Path())
	require.True(t, p.ClientOpen())
	_, err := p.Write([]byte("never read\r\n"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.False(t, p.ClientOpen())

	c2 := openClient(t, p.Path())
	assertNothingMore(t, c2, 50*time.Millisecond)
}

func TestWriteWithoutClientIsDiscarded(t *testing.T) {
	p := openPort(t)
	require.False(t, p.ClientOpen())
	n, err := p.Write([]byte("Ready\r\n"))
	require.NoError(t, err)
	assert.Equal(t, 7, n)

	c := openClient(t, p.Path())
	assertNothingMore(t, c, 50*time.Millisecond)
}

func TestNoEIOWhenClientCloses(t *testing.T) {
	p := openPort(t)
	c := openClient(t, p.Path())
	require.NoError(t, c.Close())

	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		buf := make([]byte, 16)
		n, err := p.Read(buf)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		require.FailNow(t, "Read returned with no client", "n=%d err=%v", r.n, r.err)
	case <-time.After(100 * time.Millisecond):
	}
	c2 := openClient(t, p.Path())
	_, err := c2.Write([]byte("x"))
	require.NoError(t, err)
	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, 1, r.n)
}

func TestEventsSessionsAndClientOpen(t *testing.T) {
	p, events := openPortEvents(t)
	assert.Zero(t, p.Session(), "sessions start at 0")
	for i := range uint64(3) {
		c := openClient(t, p.Path())
		ev := events.next(t)
		assert.Equal(t, ClientOpened, ev.Kind)
		assert.Equal(t, i, ev.Session, "the client talks in the current session")
		assert.WithinDuration(t, time.Now(), ev.At, 5*time.Second)
		assert.True(t, p.ClientOpen())
		assert.Equal(t, i, p.Session())
		require.NoError(t, c.Close())
		ev = events.next(t)
		assert.Equal(t, ClientClosed, ev.Kind)
		assert.Equal(t, i+1, ev.Session, "the last close starts the next session")
		assert.False(t, p.ClientOpen())
		assert.Equal(t, i+1, p.Session())
	}
	require.NoError(t, p.Close())
	events.none(t, 20*time.Millisecond)
}

func TestTwoClients(t *testing.T) {
	// Two opens (or closes) back to back may reach us as one inotify event; the
	// background /proc scan puts the count right within a reconcile period.
	p := openPort(t)
	a := openClient(t, p.Path())
	b := openClient(t, p.Path())
	require.NoError(t, a.Close())
	require.Eventually(t, p.ClientOpen, 5*time.Second, time.Millisecond, "b still has the port open")
	_, err := p.Write([]byte("for b\r\n"))
	require.NoError(t, err)
	assert.Equal(t, "for b\r\n", string(readFull(t, b, 7)))

	c := openClient(t, p.Path())
	require.NoError(t, b.Close())
	require.NoError(t, c.Close())
	require.Eventually(t, func() bool { return !p.ClientOpen() }, 5*time.Second, time.Millisecond, "both closed")
	_, err = p.Write([]byte("nobody\r\n"))
	require.NoError(t, err)
	d := openClient(t, p.Path())
	assertNothingMore(t, d, 50*time.Millisecond)
}

func TestReadWriteAfterClose(t *testing.T) {
	p := openPort(t)
	var before unix.Stat_t
	require.NoError(t, unix.Stat(p.Path(), &before))
	errc := make(chan error, 1)
	go func() {
		_, err := p.Read(make([]byte, 8))
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	require.NoError(t, p.Close())
	select {
	case err := <-errc:
		assert.ErrorIs(t, err, ErrClosed)
		assert.ErrorIs(t, err, os.ErrClosed)
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Close did not unblock Read")
	}
	_, err := p.Write([]byte("x"))
	assert.ErrorIs(t, err, os.ErrClosed)
	_, err = p.Read(make([]byte, 8))
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.False(t, p.ClientOpen())
	assert.NoError(t, p.Close(), "second Close")
	assertReleased(t, p.Path(), before)
}

// assertReleased checks that the pty at path is gone. Another process on the machine
// may have been given the same number since: then it is a new inode.
func assertReleased(t *testing.T, path string, before unix.Stat_t) {
	t.Helper()
	var after unix.Stat_t
	err := unix.Stat(path, &after)
	if err == nil {
		assert.NotEqual(t, before.Ctim, after.Ctim, "pty %s still there", path)
		return
	}
	assert.ErrorIs(t, err, unix.ENOENT, "pty released")
}

func TestLink(t *testing.T) {
	// A pty that no longer exists: open one, note its path, close it.
	dead := openPort(t)
	deadPath := dead.Path()
	require.NoError(t, dead.Close())

	tests := []struct {
		name    string
		prepare func(t *testing.T, link string)
		wantErr error
	}{
		{"no file", func(*testing.T, string) {}, nil},
		{"link to dead pty", func(t *testing.T, link string) { require.NoError(t, os.Symlink(deadPath, link)) }, nil},
		{"dangling link", func(t *testing.T, link string) { require.NoError(t, os.Symlink("/nonexistent/x", link)) }, nil},
		{"link to a live pty with no lock file (an older version)", func(t *testing.T, link string) {
			require.NoError(t, os.Symlink(openPort(t).Path(), link))
		}, nil},
		{"link to something else", func(t *testing.T, link string) {
			target := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(target, nil, 0o600))
			require.NoError(t, os.Symlink(target, link))
		}, ErrLinkExists},
		{"regular file", func(t *testing.T, link string) { require.NoError(t, os.WriteFile(link, []byte("keep"), 0o600)) }, ErrLinkExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			link := filepath.Join(t.TempDir(), "ttyACM-sim")
			tt.prepare(t, link)
			before, _ := os.Readlink(link)
			p, err := Open(WithLink(link))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				after, _ := os.Readlink(link)
				assert.Equal(t, before, after, "left alone")
				return
			}
			require.NoError(t, err)
			got, err := os.Readlink(link)
			require.NoError(t, err)
			assert.Equal(t, p.Path(), got)

			c := openClient(t, link)
			_, err = p.Write([]byte("hi"))
			require.NoError(t, err)
			assert.Equal(t, "hi", string(readFull(t, c, 2)))

			require.NoError(t, p.Close())
			_, err = os.Lstat(link)
			assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the link")
		})
	}
}

func TestCloseKeepsLinkSomeoneElseOwns(t *testing.T) {
	link := filepath.Join(t.TempDir(), "tty")
	p := openPort(t, WithLink(link))
	other := openPort(t)
	require.NoError(t, os.Remove(link))
	require.NoError(t, os.Symlink(other.Path(), link))
	require.NoError(t, p.Close())
	got, err := os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, other.Path(), got)
}

func TestCloseCleansUpAfterErrors(t *testing.T) {
	link := filepath.Join(t.TempDir(), "tty")
	p := openPort(t, WithLink(link))
	var before unix.Stat_t
	require.NoError(t, unix.Stat(p.Path(), &before))
	// Someone removed the link already: Close still succeeds and releases the pty.
	require.NoError(t, os.Remove(link))
	require.NoError(t, p.Close())
	assertReleased(t, p.Path(), before)
}

func requireRootMount(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("device nodes need root")
	}
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe")
	require.NoError(t, os.WriteFile(probe, nil, 0o600))
	if err := unix.Mount("/dev/null", probe, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount not permitted here (%v): needs CAP_SYS_ADMIN", err)
	}
	require.NoError(t, unix.Unmount(probe, unix.MNT_DETACH))
}

// nodePath returns a name pyserial's comports() globs (/dev/ttyACM*), unique per test,
// and makes sure nothing is left there even if the test fails half-way.
func nodePath(t *testing.T) string {
	node := fmt.Sprintf("/dev/ttyACM%d%d", os.Getpid()%10000, time.Now().UnixNano()%1000)
	t.Cleanup(func() {
		for i := 0; i < 8 && unix.Unmount(node, unix.MNT_DETACH) == nil; i++ {
		}
		_ = os.Remove(node)
	})
	return node
}

func isMounted(t *testing.T, path string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	require.NoError(t, err)
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) > 4 && f[4] == path {
			return true
		}
	}
	return false
}

func TestDeviceNodeBindMount(t *testing.T) {
	requireRootMount(t)
	for _, method := range []NodeMethod{NodeAuto, NodeBindMount} {
		t.Run(method.String(), func(t *testing.T) {
			node := nodePath(t)
			p, events := openPortEvents(t, WithDeviceNode(node), WithDeviceNodeMethod(method))
			fi, err := os.Lstat(node)
			require.NoError(t, err)
			assert.Zero(t, fi.Mode()&os.ModeSymlink, "a real node, not a symlink")
			real, err := filepath.EvalSymlinks(node)
			require.NoError(t, err)
			assert.Equal(t, node, real, "realpath is the node itself (nrfcredstore compares it)")
			assert.True(t, isMounted(t, node))

			answered := echoBoard(t, p)
			for i := range 3 {
				c := openClient(t, node)
				assert.Equal(t, ClientOpened, events.next(t).Kind)
				assertRaw(t, termios(t, c))
				_, err := c.Write([]byte("AT\r\n"))
				require.NoError(t, err)
				require.Equal(t, "AT", nextLine(t, answered))
				assert.Equal(t, "OK AT\r\n", string(readFull(t, c, 7)), "round %d", i)
				require.NoError(t, c.Close())
				assert.Equal(t, ClientClosed, events.next(t).Kind)
			}
			require.NoError(t, p.Close())
			assert.False(t, isMounted(t, node), "unmounted")
			_, err = os.Lstat(node)
			assert.ErrorIs(t, err, os.ErrNotExist, "removed")
		})
	}
}

func TestDeviceNodeMknod(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mknod needs root")
	}
	node := nodePath(t)
	p, err := Open(WithDeviceNode(node), WithDeviceNodeMethod(NodeMknod))
	if err != nil {
		// Linux >= 4.7: a pty slave opens only via its own devpts mount (EIO).
		var nerr *DeviceNodeError
		require.ErrorAs(t, err, &nerr)
		assert.Equal(t, NodeMknod, nerr.Method)
		assert.ErrorIs(t, err, ErrNodeUnusable)
		assert.ErrorIs(t, err, unix.EIO)
		assert.Contains(t, err.Error(), "CAP_SYS_ADMIN", "says what to do instead")
		_, statErr := os.Lstat(node)
		assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing left behind")
		t.Logf("mknod node unusable on this kernel: %v", err)
		return
	}
	t.Cleanup(func() { _ = p.Close() })
	c := openClient(t, node)
	_, err = p.Write([]byte("hi"))
	require.NoError(t, err)
	assert.Equal(t, "hi", string(readFull(t, c, 2)))
	require.NoError(t, c.Close())
	require.NoError(t, p.Close())
	_, err = os.Lstat(node)
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestDeviceNodeStaleAndConflicts(t *testing.T) {
	requireRootMount(t)
	tests := []struct {
		name    string
		prepare func(t *testing.T, node string)
		wantErr error
	}{
		{"leftover empty file", func(t *testing.T, node string) { require.NoError(t, os.WriteFile(node, nil, 0o600)) }, nil},
		{"leftover bind mount of a dead pty", func(t *testing.T, node string) {
			dead := openPort(t)
			require.NoError(t, os.WriteFile(node, nil, 0o600))
			require.NoError(t, unix.Mount(dead.Path(), node, "", unix.MS_BIND, ""))
			require.NoError(t, dead.Close())
		}, nil},
		{"file with content", func(t *testing.T, node string) {
			require.NoError(t, os.WriteFile(node, []byte("not ours"), 0o600))
		}, ErrNodeExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node := nodePath(t)
			tt.prepare(t, node)
			p, err := Open(WithDeviceNode(node))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				data, rerr := os.ReadFile(node)
				require.NoError(t, rerr)
				assert.Equal(t, "not ours", string(data))
				return
			}
			require.NoError(t, err)
			c := openClient(t, node)
			_, err = p.Write([]byte("ok"))
			require.NoError(t, err)
			assert.Equal(t, "ok", string(readFull(t, c, 2)))
			require.NoError(t, p.Close())
			assert.False(t, isMounted(t, node))
		})
	}
}

func TestOpenFailureLeavesNothingBehind(t *testing.T) {
	requireRootMount(t)
	node := nodePath(t)
	link := filepath.Join(t.TempDir(), "regular")
	require.NoError(t, os.WriteFile(link, nil, 0o600))
	_, err := Open(WithDeviceNode(node), WithLink(link))
	require.ErrorIs(t, err, ErrLinkExists)
	assert.False(t, isMounted(t, node))
	_, err = os.Lstat(node)
	assert.ErrorIs(t, err, os.ErrNotExist, "node removed after the link failed")
}

func TestDeviceNodeNotRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("checks the error a non-root user gets")
	}
	_, err := Open(WithDeviceNode("/dev/ttyACM-never"))
	require.ErrorIs(t, err, ErrNotRoot)
	assert.Contains(t, err.Error(), "CAP_SYS_ADMIN")
}

// BenchmarkEchoRoundTrip is the bare pty baseline: the client writes "AT\r\n", the
// board reads it and writes "OK\r\n", the client reads that.
func BenchmarkEchoRoundTrip(b *testing.B) { echoRoundTrip(b, openPort(b)) }
