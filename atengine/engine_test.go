package atengine_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	. "github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/persona/athost"
	"github.com/modemsim/modemsim/transcript"
)

// echoModem answers AT with OK, AT+X=<s> with "+X: <s>", and AT+NOTE by
// raising a URC while the command runs.
type echoModem struct{ e *Engine }

func (m *echoModem) Handle(_ context.Context, cmd atparser.Command) atparser.Response {
	switch cmd.Name {
	case "":
		return atparser.OK()
	case "+X":
		s, _ := cmd.StringParam(0)
		return atparser.OK("+X: " + s)
	case "+NOTE":
		m.e.Notify("+CEREG: 1")
		return atparser.OK("+NOTE: done")
	}
	return atparser.Error()
}

type harness struct {
	host   net.Conn
	rec    *transcript.Recorder
	engine *Engine
	cancel context.CancelFunc
	done   chan error
}

// atDialect is at_client's dialect over m with the given framing and
// open-quote idle reset.
func atDialect(m athost.CommandHandler, f athost.Framing, idle time.Duration) Dialect {
	return Dialect{Discipline: athost.NewDiscipline(f, idle), Handler: athost.Handler{Commands: m, Framing: f}}
}

func start(t *testing.T, f athost.Framing, idle time.Duration) *harness {
	t.Helper()
	host, dev := net.Pipe()
	h := &harness{host: host, rec: transcript.New(nil), done: make(chan error, 1)}
	m := &echoModem{}
	e := New(dev, atDialect(m, f, idle), WithTranscript(h.rec))
	m.e = e
	h.engine = e
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.done <- e.Run(ctx) }()
	t.Cleanup(func() { cancel(); host.Close(); <-h.done })
	return h
}

func (h *harness) send(t *testing.T, s string) {
	t.Helper()
	require.NoError(t, h.host.SetWriteDeadline(time.Now().Add(2*time.Second)))
	_, err := io.WriteString(h.host, s)
	require.NoError(t, err)
}

// expect reads exactly len(want) bytes.
func (h *harness) expect(t *testing.T, want string) {
	t.Helper()
	require.NoError(t, h.host.SetReadDeadline(time.Now().Add(2*time.Second)))
	got := make([]byte, len(want))
	_, err := io.ReadFull(h.host, got)
	require.NoError(t, err, "waiting for %q", want)
	assert.Equal(t, want, string(got))
}

// expectSilence checks nothing arrives for d.
func (h *harness) expectSilence(t *testing.T, d time.Duration) {
	t.Helper()
	require.NoError(t, h.host.SetReadDeadline(time.Now().Add(d)))
	var b [64]byte
	n, _ := h.host.Read(b[:])
	assert.Zero(t, n, "unexpected %q", b[:n])
}

func TestEngineAnswers(t *testing.T) {
	tests := []struct{ name, send, want string }{
		{"OK", "AT\r\n", "OK\r\n"},
		{"unknown", "AT+NOPE\r\n", "ERROR\r\n"},
		{"shell probe", "at AT+CGSN\r\n", "ERROR\r\n"},
		{"garbage", "\x01\x02zz\r", "ERROR\r\n"},
		{"quoted CRLF is content", "AT+X=\"a\r\nb\"\r\n", "+X: a\r\nb\r\nOK\r\n"},
		{"two in one write", "AT\rAT\n", "OK\r\nOK\r\n"},
		{"blank lines dropped", "\r\n \r\n\r\nAT\r\n", "OK\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, athost.Bare, athost.DefaultQuoteIdleReset)
			h.send(t, tc.send)
			h.expect(t, tc.want)
		})
	}
}

func TestURCAfterResponse(t *testing.T) {
	h := start(t, athost.Bare, athost.DefaultQuoteIdleReset)
	h.send(t, "AT+NOTE\r\n")
	h.expect(t, "+NOTE: done\r\nOK\r\n+CEREG: 1\r\n")
}

func TestURCWhileIdle(t *testing.T) {
	h := start(t, athost.Prefixed, athost.DefaultQuoteIdleReset)
	h.send(t, "AT\r\n")
	h.expect(t, "\r\nOK\r\n")
	h.engine.Notify("+CSCON: 1")
	h.expect(t, "\r\n+CSCON: 1\r\n")
}

func TestOpenQuoteIdleReset(t *testing.T) {
	h := start(t, athost.Bare, 50*time.Millisecond)
	h.send(t, "AT+X=\"never closed\r\n")
	h.expectSilence(t, 150*time.Millisecond) // as the real at_host: no answer
	h.send(t, "AT\r\n")
	h.expect(t, "OK\r\n")
	assert.Contains(t, h.rec.String(), "discarded")
}

func TestOpenQuoteHangsWithoutReset(t *testing.T) {
	h := start(t, athost.Bare, 0)
	h.send(t, "AT+X=\"never closed\r\n")
	time.Sleep(20 * time.Millisecond)
	h.send(t, "AT\r\n")
	h.expectSilence(t, 100*time.Millisecond)
	h.send(t, "\"\r\n") // closing the quote ends the swallowed command
	h.expect(t, "+X: never closed\r\nAT\r\n\r\nOK\r\n")
}

func TestHangupDropsPartialCommand(t *testing.T) {
	h := start(t, athost.Bare, athost.DefaultQuoteIdleReset)
	h.send(t, "AT+X=\"half")
	time.Sleep(20 * time.Millisecond)
	h.engine.Hangup(1)
	h.send(t, "AT\r\n")
	h.expect(t, "OK\r\n")
}

func TestLongLineThenNextCommand(t *testing.T) {
	h := start(t, athost.Bare, athost.DefaultQuoteIdleReset)
	long := make([]byte, 100*1024)
	for i := range long {
		long[i] = 'A'
	}
	go func() { _, _ = h.host.Write(long) }()
	time.Sleep(50 * time.Millisecond)
	h.send(t, "\r\nAT\r\n")
	// The cut-short line reaches the modem as the real buffer holds it
	// (4095 bytes of 'A'): not a command, so ERROR; then the next one works.
	h.expect(t, "ERROR\r\nOK\r\n")
	assert.Contains(t, h.rec.String(), "bytes dropped")
}

func TestRunEndsWhenThePortFails(t *testing.T) {
	host, dev := net.Pipe()
	e := New(dev, atDialect(&echoModem{}, athost.Bare, 0))
	done := make(chan error, 1)
	go func() { done <- e.Run(context.Background()) }()
	require.NoError(t, host.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return after the port failed")
	}
}

func TestRunEndsOnCancelWithoutClosingThePort(t *testing.T) {
	host, dev := net.Pipe()
	defer host.Close()
	e := New(dev, atDialect(&echoModem{}, athost.Bare, 0))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(2 * time.Second):
		t.Fatal("Run did not return on cancel")
	}
}
