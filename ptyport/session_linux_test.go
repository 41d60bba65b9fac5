package ptyport

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// sessionLine is a line a sessionBoard framed, with the session it came in.
type sessionLine struct {
	session uint64
	line    string
}

// sessionBoard is a slow board that frames lines as an engine does: it reads in
// small chunks (so a backlog stays queued in the kernel), resets its line buffer when
// the session changes, and answers each line with WriteSession in the line's session
// after perLine of work.
func sessionBoard(t testing.TB, p *Port, perLine time.Duration) <-chan sessionLine {
	lines := make(chan sessionLine, 4096)
	go func() {
		defer close(lines)
		buf := make([]byte, 16)
		var pending []byte
		var current uint64
		for {
			n, s, err := p.ReadSession(buf)
			if err != nil {
				return
			}
			if s != current {
				pending, current = pending[:0], s
			}
			pending = append(pending, buf[:n]...)
			for {
				i := bytes.IndexByte(pending, '\n')
				if i < 0 {
					break
				}
				line := strings.TrimRight(string(pending[:i]), "\r")
				pending = pending[i+1:]
				lines <- sessionLine{s, line}
				time.Sleep(perLine) // the board's work, not a wait for a condition
				if _, err := p.WriteSession(s, []byte("OK "+line+"\r\n")); err != nil {
					return
				}
			}
		}
	}()
	return lines
}

// TestNewClientInheritsNothing is the defect "a new client inherits the previous
// client's leftovers": a client writes a backlog and a partial command and closes
// without reading; the next client must see answers to its own commands only, and
// the board must frame nothing of the old client's input in the new session.
func TestNewClientInheritsNothing(t *testing.T) {
	backlog := strings.Repeat("AT+CGMI\r\n", 50) + "AT+CG"
	p, events := openPortEvents(t)
	lines := sessionBoard(t, p, 200*time.Microsecond)

	for i := range 20 {
		old := p.Session()
		a := openClient(t, p.Path())
		_, err := a.Write([]byte(backlog))
		require.NoError(t, err)
		require.NoError(t, a.Close())
		// The next client opens once the port has seen the close: by the watcher
		// (the event), or by the board's next call (here Session).
		if i%2 == 1 {
			require.Eventually(t, func() bool { return p.Session() == old+1 }, 5*time.Second, time.Millisecond)
		}
		events.waitClosed(t, old+1)
		b := openClient(t, p.Path())
		require.Eventually(t, p.ClientOpen, 5*time.Second, time.Millisecond)
		current := p.Session()
		require.Equal(t, old+1, current, "round %d: one session per client", i)

		stale, err := p.WriteSession(old, []byte("STALE\r\n"))
		require.NoError(t, err)
		assert.Equal(t, 7, stale, "a write to an old session reports success")

		cmd := fmt.Sprintf("AT+NEW=%d", i)
		_, err = b.Write([]byte(cmd + "\r\n"))
		require.NoError(t, err)
		for l := range lines {
			if l.session == current {
				require.Equal(t, cmd, l.line, "round %d: the board framed old input in the new session", i)
				break
			}
			require.Equal(t, old, l.session, "round %d", i)
			require.Equal(t, "AT+CGMI", l.line, "round %d", i)
		}
		want := "OK " + cmd + "\r\n"
		assert.Equal(t, want, string(readFull(t, b, len(want))), "round %d: only its own answer", i)
		assertNothingMore(t, b, 20*time.Millisecond)
		require.NoError(t, b.Close())
		events.waitClosed(t, current+1)
	}
}

// waitClosed consumes events up to the ClientClosed that starts session.
func (r *eventRecorder) waitClosed(t testing.TB, session uint64) {
	t.Helper()
	for {
		ev := r.next(t)
		if ev.Kind == ClientClosed && ev.Session == session {
			return
		}
		require.Less(t, ev.Session, session, "missed the close: %+v", ev)
	}
}

func TestWriteSession(t *testing.T) {
	tests := []struct {
		name      string
		session   func(current uint64) uint64
		client    bool
		delivered bool
	}{
		{"current session, client open", func(c uint64) uint64 { return c }, true, true},
		{"previous session, client open", func(c uint64) uint64 { return c - 1 }, true, false},
		{"future session", func(c uint64) uint64 { return c + 1 }, true, false},
		{"current session, no client", func(c uint64) uint64 { return c }, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, events := openPortEvents(t)
			// Start in session 1 so that "previous" exists.
			first := openClient(t, p.Path())
			require.Equal(t, ClientOpened, events.next(t).Kind)
			require.NoError(t, first.Close())
			require.Equal(t, ClientClosed, events.next(t).Kind)
			require.Equal(t, uint64(1), p.Session())

			var c *os.File
			if tt.client {
				c = openClient(t, p.Path())
				require.Equal(t, ClientOpened, events.next(t).Kind)
			}
			n, err := p.WriteSession(tt.session(p.Session()), []byte("hello"))
			require.NoError(t, err)
			assert.Equal(t, 5, n, "success either way, like a UART")
			if c == nil {
				c = openClient(t, p.Path())
			}
			if tt.delivered {
				assert.Equal(t, "hello", string(readFull(t, c, 5)))
			}
			assertNothingMore(t, c, 20*time.Millisecond)
		})
	}
}

func TestReadSessionAttributesBytes(t *testing.T) {
	p, events := openPortEvents(t)
	buf := make([]byte, 64)
	for want := range uint64(3) {
		c := openClient(t, p.Path())
		require.Equal(t, ClientOpened, events.next(t).Kind)
		_, err := c.Write([]byte("AT\r\n"))
		require.NoError(t, err)
		require.NoError(t, p.SetReadDeadline(time.Now().Add(5*time.Second)))
		n, s, err := p.ReadSession(buf)
		require.NoError(t, err)
		assert.Equal(t, want, s)
		assert.Equal(t, "AT\r\n", string(buf[:n]))
		require.NoError(t, c.Close())
		require.Equal(t, ClientClosed, events.next(t).Kind)
	}
}

func TestBlockedWriteReturnsWhenClientCloses(t *testing.T) {
	// A client that opens and never reads fills the pty; the board's Write waits
	// for room, and the client's close must end the wait: the rest is to nobody.
	p, events := openPortEvents(t)
	c := openClient(t, p.Path())
	require.Equal(t, ClientOpened, events.next(t).Kind)
	big := bytes.Repeat([]byte("+CEREG: 5\r\n"), 100_000)
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := p.Write(big)
		done <- result{n, err}
	}()
	// The client's input queue fills up: the Write is stuck.
	require.Eventually(t, func() bool {
		n, err := unix.IoctlGetInt(int(c.Fd()), unix.TIOCINQ)
		return err == nil && n >= 4095
	}, 5*time.Second, time.Millisecond)
	select {
	case r := <-done:
		require.FailNow(t, "Write returned while the client still had the port open", "%+v", r)
	default:
	}
	require.NoError(t, c.Close())
	select {
	case r := <-done:
		require.NoError(t, r.err)
		assert.Equal(t, len(big), r.n)
	case <-time.After(5 * time.Second):
		require.FailNow(t, "Write still blocked after the client closed")
	}
}
