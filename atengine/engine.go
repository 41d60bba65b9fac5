// Package atengine runs a command dialect over a byte stream: it frames what
// the host writes (atparser.Framer), hands each line to the dialect, and
// writes the answer and any unsolicited result codes back, one command at a
// time, the way a module's AT host does. Every dialect (at_client, Serial
// Modem, SPWF04, a shell) shares this loop; a dialect is a LineHandler.
package atengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/transcript"
)

// LineHandler answers one framed line with the exact bytes to send back
// (possibly none).
type LineHandler interface {
	HandleLine(ctx context.Context, fr atparser.Frame) []byte
}

// CommandHandler answers one parsed AT command.
type CommandHandler interface {
	Handle(ctx context.Context, cmd atparser.Command) atparser.Response
}

// ATDialect adapts a CommandHandler to a LineHandler: lines that do not parse
// as AT commands answer ERROR at once (the shell-form probe `at AT+CGSN`
// included, nrf91.md §5.2), everything else goes to the handler.
type ATDialect struct {
	Handler CommandHandler
	Framing atparser.Framing
}

// HandleLine implements LineHandler.
func (d ATDialect) HandleLine(ctx context.Context, fr atparser.Frame) []byte {
	cmd, err := atparser.Parse(fr.Line)
	if err != nil {
		return d.Framing.AppendResponse(nil, atparser.Error())
	}
	return d.Framing.AppendResponse(nil, d.Handler.Handle(ctx, cmd))
}

// Engine serves one dialect on one port. Commands are framed and answered
// in the goroutine that reads the port, as the AT host does (one command at
// a time); URCs, idle resets and hang-ups come from other goroutines and
// meet the reader under mu.
type Engine struct {
	rw      io.ReadWriter
	handler LineHandler
	framing atparser.Framing
	rec     *transcript.Recorder
	log     *slog.Logger
	idle    time.Duration
	hangups <-chan struct{}

	mu        sync.Mutex // guards the fields below
	framer    *atparser.Framer
	busy      bool     // a command is being answered: URCs wait in pending
	pending   []string // URCs raised while busy, written right after the answer
	idleTimer *time.Timer
	idleGen   int // which arming of idleTimer is current

	urcs chan string // URCs raised while idle, for the URC writer
	wmu  sync.Mutex  // one write at a time: answers and URCs never interleave
}

// Option configures an Engine.
type Option func(*Engine)

// WithFramerOptions sets the terminator and line cap of the framer.
func WithFramerOptions(opts ...atparser.FramerOption) Option {
	return func(e *Engine) { e.framer = atparser.NewFramer(opts...) }
}

// WithFraming sets how URCs are framed (responses are framed by the dialect).
func WithFraming(f atparser.Framing) Option { return func(e *Engine) { e.framing = f } }

// WithTranscript records every byte in each direction.
func WithTranscript(r *transcript.Recorder) Option { return func(e *Engine) { e.rec = r } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// WithQuoteIdleReset discards a partial command that has sat inside an open
// quote for d with no further byte. The real at_host would wait forever (the
// quote swallows every terminator, nrf91.md §1.1); the host already times out
// on that command, and the reset lets the next one through. Zero disables
// the reset (faithful hang).
func WithQuoteIdleReset(d time.Duration) Option { return func(e *Engine) { e.idle = d } }

// WithHangups delivers a signal each time the host closes the port: the
// partial command of the old client is discarded.
func WithHangups(ch <-chan struct{}) Option { return func(e *Engine) { e.hangups = ch } }

// DefaultQuoteIdleReset is long enough for a person pasting a PEM and short
// against the 3 s read timeout of nrfcredstore 1.x (nrf91.md §5.1).
const DefaultQuoteIdleReset = time.Second

// urcQueue bounds unsolicited result codes waiting to be written.
const urcQueue = 64

// New makes an engine for handler on rw. Run stops on cancellation by
// setting a read deadline when rw supports one (ptyport.Port and net.Conn
// do); otherwise it returns when rw is closed.
func New(rw io.ReadWriter, handler LineHandler, opts ...Option) *Engine {
	e := &Engine{rw: rw, handler: handler, idle: DefaultQuoteIdleReset, urcs: make(chan string, urcQueue)}
	for _, o := range opts {
		o(e)
	}
	if e.framer == nil {
		e.framer = atparser.NewFramer()
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.rec == nil {
		e.rec = transcript.New(nil)
	}
	return e
}

// Notify raises an unsolicited result code. While a command is being
// answered it is written right after the final result, never inside it;
// otherwise at once. Safe from any goroutine and never blocks: past
// urcQueue waiting URCs it is dropped and logged (a UART would lose it too).
func (e *Engine) Notify(urc string) {
	e.mu.Lock()
	if e.busy {
		if len(e.pending) < urcQueue {
			e.pending = append(e.pending, urc)
			e.mu.Unlock()
			return
		}
		e.mu.Unlock()
		e.dropURC(urc)
		return
	}
	e.mu.Unlock()
	select {
	case e.urcs <- urc:
	default:
		e.dropURC(urc)
	}
}

func (e *Engine) dropURC(urc string) {
	e.log.Warn("URC dropped: queue full", "urc", urc)
	e.rec.Notef("URC dropped (queue full): %s", urc)
}

// Write sends raw bytes to the host (boot banners, log lines of a persona).
func (e *Engine) Write(p []byte) error {
	e.wmu.Lock()
	defer e.wmu.Unlock()
	if len(p) == 0 {
		return nil
	}
	e.rec.Record(transcript.ToHost, p)
	if _, err := e.rw.Write(p); err != nil {
		return fmt.Errorf("write to host: %w", err)
	}
	return nil
}

// Run serves until ctx ends or the port fails.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer wg.Wait() // runs after cancel: the helpers end on ctx
	defer cancel()
	wg.Add(2)
	go func() { defer wg.Done(); e.writeURCs(ctx) }()
	go func() { defer wg.Done(); e.watchHangups(ctx) }()
	if d, ok := e.rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Now()) })
		defer stop()
	}
	defer e.stopIdle()

	buf := make([]byte, 4096)
	for {
		n, err := e.rw.Read(buf)
		if n > 0 {
			e.rec.Record(transcript.FromHost, buf[:n])
			if ferr := e.feed(ctx, buf[:n]); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read from host: %w", err)
		}
	}
}

// feed frames p and answers every complete command in it.
func (e *Engine) feed(ctx context.Context, p []byte) error {
	for len(p) > 0 {
		e.mu.Lock()
		n, fr, ok := e.framer.Scan(p)
		p = p[n:]
		if ok {
			e.busy = true
			e.stopIdleLocked()
		} else if len(p) == 0 {
			e.armIdleLocked()
		}
		e.mu.Unlock()
		if !ok {
			continue
		}
		if fr.Truncated {
			e.rec.Notef("line cap reached: %d bytes dropped", fr.Dropped)
		}
		if err := e.answer(e.handler.HandleLine(ctx, fr)); err != nil {
			return err
		}
	}
	return nil
}

// answer writes a command's answer, then the URCs raised meanwhile, and
// only then lets new URCs through directly.
func (e *Engine) answer(out []byte) error {
	for {
		if err := e.Write(out); err != nil {
			return err
		}
		e.mu.Lock()
		if len(e.pending) == 0 {
			e.busy = false
			e.mu.Unlock()
			return nil
		}
		out = nil
		for _, u := range e.pending {
			out = e.framing.AppendURC(out, u)
		}
		e.pending = nil
		e.mu.Unlock()
	}
}

// writeURCs writes URCs raised while no command ran.
func (e *Engine) writeURCs(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case urc := <-e.urcs:
			e.mu.Lock()
			if e.busy { // a command started meanwhile: after its answer
				e.pending = append(e.pending, urc)
				e.mu.Unlock()
				continue
			}
			e.mu.Unlock()
			if err := e.Write(e.framing.AppendURC(nil, urc)); err != nil {
				e.log.Warn("URC not written", "urc", urc, "err", err)
			}
		}
	}
}

// watchHangups discards the old client's partial command when the host
// closes the port.
func (e *Engine) watchHangups(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-e.hangups:
			if !ok {
				return // the port is going away; nothing more will come
			}
			e.mu.Lock()
			if e.framer.Pending() {
				e.rec.Notef("host closed the port: partial command discarded")
			}
			e.framer.Reset()
			e.stopIdleLocked()
			e.mu.Unlock()
		}
	}
}

// armIdleLocked starts the open-quote idle reset if a partial command sits
// inside a quote; each arming supersedes the previous one.
func (e *Engine) armIdleLocked() {
	e.stopIdleLocked()
	if e.idle <= 0 || !e.framer.InQuotes() {
		return
	}
	gen := e.idleGen
	e.idleTimer = time.AfterFunc(e.idle, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if gen != e.idleGen || !e.framer.InQuotes() {
			return
		}
		e.rec.Notef("partial command inside an open quote discarded after %v idle", e.idle)
		e.framer.Reset()
		e.idleTimer = nil
	})
}

func (e *Engine) stopIdleLocked() {
	e.idleGen++
	if e.idleTimer != nil {
		e.idleTimer.Stop()
		e.idleTimer = nil
	}
}

func (e *Engine) stopIdle() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stopIdleLocked()
}
