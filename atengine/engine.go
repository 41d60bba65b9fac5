// Package atengine runs a firmware's command dialect over a serial port: it
// reads what the host writes, lets the dialect's line discipline frame and
// echo it, hands each request to the dialect's handler, and writes the answer
// and any unsolicited lines back, one request at a time, the way a module's
// command host does. Every dialect (at_client, Serial Modem, SPWF04, a Zephyr
// shell) shares this loop; a dialect is a Discipline plus a Handler.
//
// The engine keeps no goroutine of its own while a board is idle: requests
// are answered in the goroutine that reads the port, timers are
// time.AfterFunc, and unsolicited lines raised while idle are written by a
// short-lived goroutine that ends when they are out. That is what lets one
// process serve a thousand boards.
package atengine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/modemsim/modemsim/transcript"
)

// SessionPort is a port that tells its hosts apart (ptyport.Port): every
// byte read carries the session of the client that wrote it, and a write can
// be bound to a session, so nothing of one client's exchange reaches the next
// client that opens the port.
type SessionPort interface {
	io.Writer // writes to whoever has the port open now
	ReadSession(b []byte) (n int, session uint64, err error)
	WriteSession(session uint64, b []byte) (int, error)
	Session() uint64
}

// plainPort makes any io.ReadWriter a SessionPort with one endless session
// (net.Pipe in tests, a TCP socket).
type plainPort struct{ io.ReadWriter }

func (p plainPort) ReadSession(b []byte) (int, uint64, error) {
	n, err := p.Read(b)
	return n, 0, err
}
func (p plainPort) WriteSession(_ uint64, b []byte) (int, error) { return p.Write(b) }
func (p plainPort) Session() uint64                              { return 0 }

// Engine serves one dialect on one port.
type Engine struct {
	port  SessionPort
	plain bool          // port has one endless session: Hangup only resets
	rw    io.ReadWriter // for the read deadline that ends Run
	rec   *transcript.Recorder
	log   *slog.Logger
	// intercept answers requests before the handler (WithInterceptor).
	intercept Interceptor

	// hmu makes handler calls one at a time: the reader's, and a payload
	// timeout's from its timer.
	hmu sync.Mutex

	mu        sync.Mutex // guards the fields below
	dialect   Dialect
	ctx       context.Context // Run's, for handler calls from timers
	session   uint64          // the host session the engine answers
	busy      bool            // a request is being answered: unsolicited lines wait
	pending   []string        // unsolicited lines waiting to be written
	flushing  bool            // a goroutine is writing pending
	idleTimer *time.Timer
	idleGen   int // which arming of idleTimer is current
	payload   *payloadState

	wmu sync.Mutex // one write at a time: answers and URCs never interleave
}

// payloadState is a raw payload being read for a handler.
type payloadState struct {
	p       *Payload
	buf     []byte
	session uint64
	timer   *time.Timer
	gen     int
}

// Option configures an Engine.
type Option func(*Engine)

// WithTranscript records every byte in each direction.
func WithTranscript(r *transcript.Recorder) Option { return func(e *Engine) { e.rec = r } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(e *Engine) { e.log = l } }

// urcQueue bounds unsolicited lines waiting to be written.
const urcQueue = 64

// readBuf is the engine's read size: a UART FIFO's worth and more, and small
// enough that a thousand idle boards cost little.
const readBuf = 4096

// New makes an engine for dialect d on rw. A SessionPort (ptyport.Port) gets
// per-client answers; any other io.ReadWriter is one endless session. Run
// stops on cancellation by setting a read deadline when rw supports one
// (ptyport.Port and net.Conn do); otherwise it returns when rw is closed.
func New(rw io.ReadWriter, d Dialect, opts ...Option) *Engine {
	e := &Engine{rw: rw, dialect: d, ctx: context.Background()}
	if sp, ok := rw.(SessionPort); ok {
		e.port = sp
	} else {
		e.port, e.plain = plainPort{rw}, true
	}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.rec == nil {
		e.rec = transcript.New(nil)
	}
	e.session = e.port.Session()
	return e
}

// SetDialect replaces the dialect (the board rebooted or was flashed): a
// partial request and a payload in progress are dropped. A handler call in
// progress finishes with the old dialect.
func (e *Engine) SetDialect(d Dialect) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.dialect.Discipline.Reset()
	e.dropPayloadLocked()
	e.stopIdleLocked()
	e.dialect = d
}

// Notify raises an unsolicited line (a URC, a log line). While a request is
// being answered it is written right after the answer, never inside it;
// otherwise at once. Safe from any goroutine and never blocks: past urcQueue
// waiting lines it is dropped and logged (a UART would lose it too).
func (e *Engine) Notify(line string) {
	e.mu.Lock()
	if len(e.pending) >= urcQueue {
		e.mu.Unlock()
		e.log.Warn("URC dropped: queue full", "urc", line)
		e.rec.Notef("URC dropped (queue full): %s", line)
		return
	}
	e.pending = append(e.pending, line)
	e.kickLocked()
	e.mu.Unlock()
}

// kickLocked starts a writer for pending lines unless a request is being
// answered (its end writes them) or a writer runs already.
func (e *Engine) kickLocked() {
	if e.busy || e.flushing || len(e.pending) == 0 {
		return
	}
	e.flushing = true
	go e.flushPending()
}

func (e *Engine) flushPending() {
	for {
		e.mu.Lock()
		if e.busy || len(e.pending) == 0 {
			e.flushing = false
			e.mu.Unlock()
			return
		}
		out := e.framePendingLocked()
		e.mu.Unlock()
		if err := e.Write(out); err != nil {
			e.log.Warn("URC not written", "err", err)
		}
	}
}

func (e *Engine) framePendingLocked() []byte {
	var out []byte
	for _, u := range e.pending {
		out = e.dialect.Discipline.AppendURC(out, u)
	}
	e.pending = e.pending[:0]
	return out
}

// Write sends raw bytes to whoever has the port open (boot banners, a
// persona's log lines).
func (e *Engine) Write(p []byte) error {
	return e.write(p, func() (int, error) { return e.port.Write(p) })
}

// writeSession sends bytes only to the client of session s.
func (e *Engine) writeSession(s uint64, p []byte) error {
	return e.write(p, func() (int, error) { return e.port.WriteSession(s, p) })
}

func (e *Engine) write(p []byte, do func() (int, error)) error {
	if len(p) == 0 {
		return nil
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	e.rec.Record(transcript.ToHost, p)
	if _, err := do(); err != nil {
		return fmt.Errorf("write to host: %w", err)
	}
	return nil
}

// Hangup tells the engine that the host's session ended (the last client
// closed the port): the old client's partial request and payload are
// dropped. Ports that deliver events call it from their watcher.
func (e *Engine) Hangup(session uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.plain:
		e.newSessionLocked(e.session)
	case session > e.session:
		e.newSessionLocked(session)
	}
}

func (e *Engine) newSessionLocked(s uint64) {
	e.session = s
	if e.dialect.Discipline.Reset() {
		e.rec.Notef("host closed the port: partial command discarded")
	}
	if e.payload != nil {
		e.rec.Notef("host closed the port: raw payload of %d bytes discarded", len(e.payload.buf))
		e.dropPayloadLocked()
	}
	e.stopIdleLocked()
}

// Run serves until ctx ends or the port fails.
func (e *Engine) Run(ctx context.Context) error {
	e.mu.Lock()
	e.ctx = ctx
	e.mu.Unlock()
	if d, ok := e.rw.(interface{ SetReadDeadline(time.Time) error }); ok {
		stop := context.AfterFunc(ctx, func() { _ = d.SetReadDeadline(time.Now()) })
		defer stop()
	}
	defer func() {
		e.mu.Lock()
		e.stopIdleLocked()
		e.dropPayloadLocked()
		e.mu.Unlock()
	}()

	buf := make([]byte, readBuf)
	for {
		n, sess, err := e.port.ReadSession(buf)
		if n > 0 {
			e.rec.Record(transcript.FromHost, buf[:n])
			e.hmu.Lock()
			ferr := e.feed(ctx, buf[:n], sess)
			e.hmu.Unlock()
			if ferr != nil {
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

// feed frames p, written by the client of session sess, and answers every
// complete request in it. Called with hmu held.
func (e *Engine) feed(ctx context.Context, p []byte, sess uint64) error {
	for len(p) > 0 {
		e.mu.Lock()
		switch {
		case sess < e.session:
			e.mu.Unlock()
			e.rec.Notef("%d bytes of a closed session discarded", len(p))
			return nil
		case sess > e.session: // the hang-up event has not arrived yet
			e.newSessionLocked(sess)
		}
		if e.payload != nil {
			n, err := e.feedPayloadLocked(ctx, p) // unlocks
			if err != nil {
				return err
			}
			p = p[n:]
			continue
		}
		d := e.dialect
		n, echo, fr, ok := d.Discipline.Scan(p)
		if n <= 0 && !ok {
			n = len(p) // a discipline that takes nothing would spin
		}
		p = p[n:]
		if ok {
			e.busy = true
			e.stopIdleLocked()
		} else if len(p) == 0 {
			e.armIdleLocked()
		}
		e.mu.Unlock()
		if err := e.writeSession(sess, echo); err != nil {
			return err
		}
		if !ok {
			continue
		}
		if fr.Truncated {
			e.rec.Notef("line cap reached: %d bytes dropped", fr.Dropped)
		}
		r, ok := e.intercepted(fr)
		if !ok {
			r = d.Handler.Handle(ctx, fr)
		}
		if err := e.reply(r, sess); err != nil {
			return err
		}
	}
	return nil
}

// feedPayloadLocked adds bytes to the payload in progress and answers it
// when complete. Called with mu held; returns with it released.
func (e *Engine) feedPayloadLocked(ctx context.Context, p []byte) (int, error) {
	ps := e.payload
	n, done := ps.take(p)
	cut := done && ps.p.Len == 0 && !ps.terminated() // Until: the Max bound was hit
	var echo []byte
	if ps.p.Echo {
		echo = p[:n]
	}
	if !done {
		e.armPayloadTimerLocked(ps)
		e.mu.Unlock()
		return n, e.writeSession(ps.session, echo)
	}
	e.stopPayloadTimerLocked(ps)
	e.payload = nil
	e.mu.Unlock()
	if err := e.writeSession(ps.session, echo); err != nil {
		return n, err
	}
	return n, e.reply(ps.p.Done(ctx, ps.data(), cut), ps.session)
}

// reply writes a handler's answer; with a payload to read next the engine
// stays busy (no unsolicited line lands inside a raw exchange), otherwise the
// lines raised meanwhile follow the answer.
func (e *Engine) reply(r Reply, sess uint64) error {
	if r.Then != nil && r.Then.Done != nil && (r.Then.Len > 0 || len(r.Then.Until) > 0) {
		e.mu.Lock()
		if sess == e.session { // else the client is gone: nobody will send the payload
			// Armed before the prompt goes out, so whatever the host sends
			// after seeing it is payload.
			ps := &payloadState{p: r.Then, session: sess}
			e.payload = ps
			e.armPayloadTimerLocked(ps)
			e.mu.Unlock()
			return e.writeSession(sess, r.Out)
		}
		e.mu.Unlock()
	}
	if err := e.writeSession(sess, r.Out); err != nil {
		return err
	}
	return e.finish()
}

// finish writes the lines raised while a request was answered, then lets
// new ones through directly.
func (e *Engine) finish() error {
	for {
		e.mu.Lock()
		if len(e.pending) == 0 {
			e.busy = false
			e.mu.Unlock()
			return nil
		}
		out := e.framePendingLocked()
		e.mu.Unlock()
		if err := e.Write(out); err != nil {
			return err
		}
	}
}

// take appends what p holds of the payload; it reports the bytes consumed
// and whether the payload is complete.
func (ps *payloadState) take(p []byte) (int, bool) {
	if ps.p.Len > 0 {
		k := min(len(p), ps.p.Len-len(ps.buf))
		ps.buf = append(ps.buf, p[:k]...)
		return k, len(ps.buf) == ps.p.Len
	}
	term := ps.p.Until
	for i, c := range p {
		ps.buf = append(ps.buf, c)
		if ps.terminated() || (ps.p.Max > 0 && len(ps.buf) >= ps.p.Max+len(term)) {
			return i + 1, true
		}
	}
	return len(p), false
}

func (ps *payloadState) terminated() bool {
	t := ps.p.Until
	return len(t) > 0 && len(ps.buf) >= len(t) && string(ps.buf[len(ps.buf)-len(t):]) == string(t)
}

// data is the payload without its terminator.
func (ps *payloadState) data() []byte {
	if ps.terminated() {
		return ps.buf[:len(ps.buf)-len(ps.p.Until)]
	}
	return ps.buf
}

func (e *Engine) armPayloadTimerLocked(ps *payloadState) {
	if ps.p.Timeout <= 0 {
		return
	}
	e.stopPayloadTimerLocked(ps)
	gen := ps.gen
	ps.timer = time.AfterFunc(ps.p.Timeout, func() { e.payloadTimedOut(ps, gen) })
}

func (e *Engine) stopPayloadTimerLocked(ps *payloadState) {
	ps.gen++
	if ps.timer != nil {
		ps.timer.Stop()
		ps.timer = nil
	}
}

func (e *Engine) dropPayloadLocked() {
	if e.payload == nil {
		return
	}
	e.stopPayloadTimerLocked(e.payload)
	e.payload = nil
	e.busy = false
	e.kickLocked()
}

// payloadTimedOut hands a payload that stopped short to its handler.
func (e *Engine) payloadTimedOut(ps *payloadState, gen int) {
	e.hmu.Lock()
	defer e.hmu.Unlock()
	e.mu.Lock()
	if e.payload != ps || ps.gen != gen {
		e.mu.Unlock()
		return
	}
	e.payload = nil
	ctx := e.ctx
	e.mu.Unlock()
	e.rec.Notef("raw payload cut short after %v: %d bytes", ps.p.Timeout, len(ps.buf))
	if err := e.reply(ps.p.Done(ctx, ps.data(), true), ps.session); err != nil {
		e.log.Warn("answer to a cut payload not written", "err", err)
	}
}

// armIdleLocked starts the discipline's idle reset for a partial request;
// each arming supersedes the previous one.
func (e *Engine) armIdleLocked() {
	e.stopIdleLocked()
	d := e.dialect.Discipline.IdleReset()
	if d <= 0 {
		return
	}
	gen := e.idleGen
	e.idleTimer = time.AfterFunc(d, func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		if gen != e.idleGen {
			return
		}
		if e.dialect.Discipline.Reset() {
			e.rec.Notef("partial command discarded after %v idle", d)
		}
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
