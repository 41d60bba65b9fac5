package atengine

import (
	"context"
	"time"

	"github.com/modemsim/modemsim/atparser"
)

// Dialect is what a firmware persona gives the engine: how the bytes a host
// types become requests (the Discipline) and what answers them (the Handler).
// A board swaps the dialect when it is rebooted or flashed (SetDialect).
type Dialect struct {
	Discipline Discipline
	Handler    Handler
}

// Discipline is a firmware's line discipline: framing, echo, prompt and how
// lines that nobody asked for are placed between answers. The engine calls
// it under its lock, from one goroutine at a time, so it needs no locking of
// its own unless the persona shares state with it (echo on/off, say).
type Discipline interface {
	// Scan consumes a prefix of p. It returns how many bytes it took, bytes to
	// echo to the host at once (nil for none), and a request when one is
	// complete. Bytes after a complete request are left for the next call, so
	// that a handler can switch the engine to a raw payload in between.
	Scan(p []byte) (n int, echo []byte, fr atparser.Frame, ok bool)
	// Reset drops a partial request (the host hung up, or it sat idle too
	// long) and reports whether anything was dropped.
	Reset() bool
	// IdleReset is how long the partial request held now may wait for more
	// input before Reset; zero keeps it forever.
	IdleReset() time.Duration
	// AppendURC frames one unsolicited line (a URC, a log line) for writing
	// between answers; a shell redraws its prompt and the line being typed.
	AppendURC(dst []byte, line string) []byte
}

// Handler answers one request.
type Handler interface {
	Handle(ctx context.Context, fr atparser.Frame) Reply
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, fr atparser.Frame) Reply

// Handle implements Handler.
func (f HandlerFunc) Handle(ctx context.Context, fr atparser.Frame) Reply { return f(ctx, fr) }

// Reply is a handler's answer: the exact bytes to send, and optionally a raw
// payload to read next (SPWF04 `AT+S.TLSCERT=ca,2037`, Serial Modem data
// mode) whose own answer follows.
type Reply struct {
	Out  []byte
	Then *Payload
}

// Answer is a Reply that only sends out.
func Answer(out []byte) Reply { return Reply{Out: out} }

// Payload asks the engine to read raw bytes after a reply: no framing, no
// editing, no line cap beyond Len. Exactly one of Len and Until is set.
type Payload struct {
	// Len: exactly this many bytes.
	Len int
	// Until: every byte up to this terminator, which is consumed and not
	// passed on (Serial Modem data mode ends on "+++").
	Until []byte
	// Max bounds an Until payload; past it the payload ends as cut.
	Max int
	// Timeout ends a payload that stops short: after this much silence Done
	// gets what arrived, with cut set. Zero waits forever.
	Timeout time.Duration
	// Echo sends the payload bytes back as they arrive.
	Echo bool
	// Done answers the payload. It runs like any handler call: one at a time,
	// never inside another answer.
	Done func(ctx context.Context, payload []byte, cut bool) Reply
}
