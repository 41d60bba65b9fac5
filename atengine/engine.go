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

// Engine serves one dialect on one port.
type Engine struct {
	rw      io.ReadWriter
	handler LineHandler
	framing atparser.Framing
	framer  *atparser.Framer
	rec     *transcript.Recorder
	log     *slog.Logger
	idle    time.Duration
	hangups <-chan struct{}

	urcs chan string
	wmu  sync.Mutex // one write at a time: responses and URCs never interleave
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

// urcQueue bounds unsolicited result codes waiting for a command to finish.
const urcQueue = 64

// New makes an engine for handler on rw.
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

// Notify queues an unsolicited result code. It is written after the
// response in progress, never inside it. Safe from any goroutine; if the
// queue is full the URC is dropped and logged (a UART would lose it too).
func (e *Engine) Notify(urc string) {
	select {
	case e.urcs <- urc:
	default:
		e.log.Warn("URC dropped: queue full", "urc", urc)
		e.rec.Notef("URC dropped (queue full): %s", urc)
	}
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

type chunk struct {
	data []byte
	err  error
}

// Run serves until ctx ends or the port fails. Reading happens in its own
// goroutine so that URCs and idle resets are handled while the host is quiet.
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	chunks := make(chan chunk)
	go e.readLoop(ctx, chunks)

	var idleTimer *time.Timer
	var idleC <-chan time.Time
	stopIdle := func() {
		if idleTimer != nil {
			idleTimer.Stop()
			idleTimer, idleC = nil, nil
		}
	}
	defer stopIdle()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case c := <-chunks:
			if c.err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return fmt.Errorf("read from host: %w", c.err)
			}
			e.rec.Record(transcript.FromHost, c.data)
			if err := e.feed(ctx, c.data); err != nil {
				return err
			}
			stopIdle()
			if e.idle > 0 && e.framer.InQuotes() {
				idleTimer = time.NewTimer(e.idle)
				idleC = idleTimer.C
			}
		case <-idleC:
			idleTimer, idleC = nil, nil
			e.rec.Notef("partial command inside an open quote discarded after %v idle", e.idle)
			e.framer.Reset()
		case _, ok := <-e.hangups:
			if !ok {
				e.hangups = nil // the port is going away; nothing more will come
				continue
			}
			if e.framer.Pending() {
				e.rec.Notef("host closed the port: partial command discarded")
			}
			e.framer.Reset()
		case urc := <-e.urcs:
			if err := e.Write(e.framing.AppendURC(nil, urc)); err != nil {
				return err
			}
		}
	}
}

func (e *Engine) feed(ctx context.Context, p []byte) error {
	for len(p) > 0 {
		n, fr, ok := e.framer.Scan(p)
		p = p[n:]
		if !ok {
			continue
		}
		if fr.Truncated {
			e.rec.Notef("line cap reached: %d bytes dropped", fr.Dropped)
		}
		if err := e.Write(e.handler.HandleLine(ctx, fr)); err != nil {
			return err
		}
		// URCs raised while the command ran go out after its final result.
		if err := e.flushURCs(); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) flushURCs() error {
	for {
		select {
		case urc := <-e.urcs:
			if err := e.Write(e.framing.AppendURC(nil, urc)); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

func (e *Engine) readLoop(ctx context.Context, out chan<- chunk) {
	buf := make([]byte, 4096)
	for {
		n, err := e.rw.Read(buf)
		var c chunk
		if n > 0 {
			c.data = append([]byte(nil), buf[:n]...)
		} else if err == nil {
			continue
		}
		if n == 0 {
			c.err = err
			if errors.Is(err, io.EOF) {
				c.err = io.ErrUnexpectedEOF
			}
		}
		select {
		case out <- c:
		case <-ctx.Done():
			return
		}
		if c.err != nil {
			return
		}
	}
}
