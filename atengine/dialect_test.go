package atengine_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/transcript"
)

// lpDiscipline is a tiny dialect unlike AT, to show the engine takes any:
// every typed byte is echoed, DEL erases, CR ends a line, and a line printed
// while the user types is put above the line being typed.
type lpDiscipline struct{ line []byte }

const lpPrompt = "lp> "

func (d *lpDiscipline) Scan(p []byte) (int, []byte, atparser.Frame, bool) {
	var echo []byte
	for i, c := range p {
		switch c {
		case '\r':
			echo = append(echo, "\r\n"...)
			fr := atparser.Frame{Line: d.line}
			d.line = nil
			return i + 1, echo, fr, true
		case 0x7f:
			if len(d.line) > 0 {
				d.line = d.line[:len(d.line)-1]
				echo = append(echo, "\b \b"...)
			}
		default:
			d.line = append(d.line, c)
			echo = append(echo, c)
		}
	}
	return len(p), echo, atparser.Frame{}, false
}

func (d *lpDiscipline) Reset() bool {
	had := len(d.line) > 0
	d.line = nil
	return had
}

func (d *lpDiscipline) IdleReset() time.Duration { return 0 }

func (d *lpDiscipline) AppendURC(dst []byte, line string) []byte {
	dst = append(dst, "\r* "...)
	dst = append(dst, line...)
	dst = append(dst, "\r\n"+lpPrompt...)
	return append(dst, d.line...)
}

// lpHandler: PING answers PONG; PUT <n> prompts "> " and then reads exactly
// n raw bytes (CR and LF included); DATA reads up to "+++".
func lpHandler(timeout time.Duration) Handler {
	return HandlerFunc(func(_ context.Context, fr atparser.Frame) Reply {
		f := strings.Fields(string(fr.Line))
		switch {
		case len(f) == 1 && f[0] == "PING":
			return Answer([]byte("PONG\r\n" + lpPrompt))
		case len(f) == 2 && f[0] == "PUT":
			n, err := strconv.Atoi(f[1])
			if err != nil || n <= 0 {
				return Answer([]byte("BAD LENGTH\r\n" + lpPrompt))
			}
			return Reply{Out: []byte("> "), Then: &Payload{Len: n, Timeout: timeout,
				Done: func(_ context.Context, payload []byte, cut bool) Reply {
					if cut {
						return Answer(fmt.Appendf(nil, "\r\nCUT %d\r\n%s", len(payload), lpPrompt))
					}
					return Answer(fmt.Appendf(nil, "\r\nSTORED %d %q\r\n%s", len(payload), payload, lpPrompt))
				}}}
		case len(f) == 1 && f[0] == "DATA":
			return Reply{Then: &Payload{Until: []byte("+++"), Max: 16, Echo: true,
				Done: func(_ context.Context, payload []byte, cut bool) Reply {
					return Answer(fmt.Appendf(nil, "\r\nGOT %q cut=%v\r\n%s", payload, cut, lpPrompt))
				}}}
		}
		return Answer([]byte("?\r\n" + lpPrompt))
	})
}

func startLP(t *testing.T, timeout time.Duration) *harness {
	t.Helper()
	host, dev := net.Pipe()
	h := &harness{host: host, rec: transcript.New(nil), done: make(chan error, 1)}
	h.engine = New(dev, Dialect{Discipline: &lpDiscipline{}, Handler: lpHandler(timeout)}, WithTranscript(h.rec))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- h.engine.Run(ctx) }()
	t.Cleanup(func() { cancel(); host.Close(); <-h.done })
	return h
}

func TestTestDialect(t *testing.T) {
	tests := []struct{ name, send, want string }{
		{"echo per byte", "PING\r", "PING\r\nPONG\r\nlp> "},
		{"erase", "PIX\x7fNG\r", "PIX\b \bNG\r\nPONG\r\nlp> "},
		{"length-prefixed payload keeps CR and LF", "PUT 5\rab\r\nc",
			"PUT 5\r\n> \r\nSTORED 5 \"ab\\r\\nc\"\r\nlp> "},
		{"payload then command in one write", "PUT 2\rxyPING\r",
			"PUT 2\r\n> \r\nSTORED 2 \"xy\"\r\nlp> PING\r\nPONG\r\nlp> "},
		{"payload until terminator, echoed", "DATA\rhi+++", "DATA\r\nhi+++\r\nGOT \"hi\" cut=false\r\nlp> "},
		{"payload over its bound", "DATA\r0123456789abcdefghijPING\r",
			"DATA\r\n0123456789abcdefghi\r\nGOT \"0123456789abcdefghi\" cut=true\r\nlp> jPING\r\n?\r\nlp> "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := startLP(t, time.Minute)
			go func() { _, _ = io.WriteString(h.host, tc.send) }()
			h.expect(t, tc.want)
		})
	}
}

func TestPayloadCutShort(t *testing.T) {
	h := startLP(t, 50*time.Millisecond)
	h.send(t, "PUT 10\rabc")
	h.expect(t, "PUT 10\r\n> \r\nCUT 3\r\nlp> ")
	h.send(t, "PING\r")
	h.expect(t, "PING\r\nPONG\r\nlp> ")
	assert.Contains(t, h.rec.String(), "cut short")
}

func TestURCAboveTheLineBeingTyped(t *testing.T) {
	h := startLP(t, time.Minute)
	h.send(t, "PI")
	h.expect(t, "PI")
	h.engine.Notify("wifi connected")
	h.expect(t, "\r* wifi connected\r\nlp> PI")
	h.send(t, "NG\r")
	h.expect(t, "NG\r\nPONG\r\nlp> ")
}

func TestURCsWaitForThePayload(t *testing.T) {
	h := startLP(t, time.Minute)
	h.send(t, "PUT 2\r")
	h.expect(t, "PUT 2\r\n> ")
	h.engine.Notify("late")
	h.expectSilence(t, 50*time.Millisecond)
	h.send(t, "ok")
	h.expect(t, "\r\nSTORED 2 \"ok\"\r\nlp> \r* late\r\nlp> ")
}

func TestSetDialectDropsPartialInput(t *testing.T) {
	h := startLP(t, time.Minute)
	h.send(t, "PUT 4\r")
	h.expect(t, "PUT 4\r\n> ")
	h.engine.SetDialect(Dialect{Discipline: &lpDiscipline{}, Handler: lpHandler(time.Minute)})
	h.send(t, "PING\r")
	h.expect(t, "PING\r\nPONG\r\nlp> ")
}

// sessionPort is an in-memory SessionPort: the test says when a client
// session ends, and writes of an ended session are dropped, as ptyport does.
type sessionPort struct {
	net.Conn
	session atomic.Uint64
	mu      sync.Mutex
	dropped []string
}

func (p *sessionPort) ReadSession(b []byte) (int, uint64, error) {
	s := p.session.Load()
	n, err := p.Read(b)
	return n, s, err
}

func (p *sessionPort) WriteSession(s uint64, b []byte) (int, error) {
	if s != p.session.Load() {
		p.mu.Lock()
		p.dropped = append(p.dropped, string(b))
		p.mu.Unlock()
		return len(b), nil
	}
	return p.Write(b)
}

func (p *sessionPort) Session() uint64 { return p.session.Load() }

func TestAnswersNeverReachTheNextSession(t *testing.T) {
	host, dev := net.Pipe()
	port := &sessionPort{Conn: dev}
	release := make(chan struct{})
	slow := HandlerFunc(func(_ context.Context, fr atparser.Frame) Reply {
		if string(fr.Line) == "SLOW" {
			<-release
		}
		return Answer([]byte(string(fr.Line) + " done\r\n"))
	})
	e := New(port, Dialect{Discipline: &lpDiscipline{}, Handler: slow})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	defer func() { cancel(); host.Close(); <-done }()
	h := &harness{host: host}

	h.send(t, "SLOW\r")
	h.expect(t, "SLOW\r\n")
	port.session.Store(1) // the client hung up while SLOW ran
	e.Hangup(1)
	close(release)
	h.send(t, "NEXT\r")
	h.expect(t, "NEXT\r\nNEXT done\r\n")
	port.mu.Lock()
	defer port.mu.Unlock()
	assert.Equal(t, []string{"SLOW done\r\n"}, port.dropped)
}

func TestIdleEngineKeepsNoGoroutine(t *testing.T) {
	h := startLP(t, time.Minute)
	h.send(t, "PING\r")
	h.expect(t, "PING\r\nPONG\r\nlp> ")
	for i := range 20 {
		h.engine.Notify("n" + strconv.Itoa(i))
	}
	var got strings.Builder
	require.NoError(t, h.host.SetReadDeadline(time.Now().Add(2*time.Second)))
	buf := make([]byte, 256)
	for !strings.HasSuffix(got.String(), "n19\r\n"+lpPrompt) {
		n, err := h.host.Read(buf)
		require.NoError(t, err)
		got.Write(buf[:n])
	}
	// Only the reader stays: the URC writer ends once the lines are out.
	require.Eventually(t, func() bool { return engineGoroutines() == 1 }, 2*time.Second, 5*time.Millisecond)
}

// engineGoroutines counts goroutines running engine code.
func engineGoroutines() int {
	buf := make([]byte, 1<<20)
	n := 0
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		if strings.Contains(g, "atengine.(*Engine)") {
			n++
		}
	}
	return n
}
