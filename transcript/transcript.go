// Package transcript records every byte that crosses a simulated serial port, in both
// directions, timestamped, in a text form a person can read and Parse can read back
// exactly.
//
// One line per piece of a chunk; a chunk is split after every LF (and after
// maxLineData bytes) so that AT commands and responses read as lines:
//
//	2026-11-21T05:01:02.123456Z > AT%CMNG=1\r\n
//	2026-11-21T05:01:02.125001Z < %CMNG: 16842753,0,"B9BA…"\r\n
//	2026-11-21T05:01:02.125001Z < OK\r\n
//	2026-11-21T05:01:03.000000Z # client closed port
//
// Printable ASCII except the backslash is written as is; \r \n \t \\ are escaped by
// name and every other byte as \xNN, so the data is lossless. Timestamps are UTC with
// microsecond precision.
package transcript

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"
)

// Direction says who sent the bytes of an entry.
type Direction byte

const (
	FromHost Direction = '>' // written by the host tool into the port
	ToHost   Direction = '<' // written by the simulated board to the host tool
	Note     Direction = '#' // annotation by the simulator, not on the wire
)

func (d Direction) valid() bool { return d == FromHost || d == ToHost || d == Note }

func (d Direction) String() string {
	switch d {
	case FromHost:
		return "from host"
	case ToHost:
		return "to host"
	case Note:
		return "note"
	default:
		return fmt.Sprintf("Direction(%q)", byte(d))
	}
}

// Entry is one line of a transcript.
type Entry struct {
	At   time.Time
	Dir  Direction
	Data []byte
}

const (
	// timeLayout: fixed width, so columns line up; microseconds are enough to order
	// bytes on a 115200 baud line (one byte ≈ 87 µs).
	timeLayout = "2006-01-02T15:04:05.000000Z07:00"
	// maxLineData bounds the bytes on one line, so binary data without LF stays
	// readable and the memory tail can be trimmed in small steps.
	maxLineData = 256
	// DefaultMemoryLimit is the default size of the in-memory tail.
	DefaultMemoryLimit = 256 << 10
)

type options struct {
	clock  func() time.Time
	limit  int
	logger *slog.Logger
}

// Option configures a Recorder.
type Option func(*options)

// WithClock sets the time source (default time.Now); scenarios pass their simulated clock.
func WithClock(clock func() time.Time) Option { return func(o *options) { o.clock = clock } }

// WithMemoryLimit bounds the in-memory tail kept for String to about n bytes of text
// (whole lines are dropped from the front, so a single line longer than n is not
// kept). n <= 0 keeps nothing in memory.
func WithMemoryLimit(n int) Option { return func(o *options) { o.limit = n } }

// WithLogger sets the logger used to report a failing writer (default: discard).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// Recorder writes a transcript to an optional io.Writer and keeps its tail in memory.
// It is safe for concurrent use; lines are written whole and in the order recorded.
type Recorder struct {
	mu      sync.Mutex
	w       io.Writer
	werr    error
	clock   func() time.Time
	limit   int
	log     *slog.Logger
	tail    []byte
	dropped int
	line    []byte // scratch
}

// New returns a Recorder writing to w; w may be nil to keep the transcript in memory only.
func New(w io.Writer, opts ...Option) *Recorder {
	o := options{clock: time.Now, limit: DefaultMemoryLimit}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.clock == nil {
		o.clock = time.Now
	}
	return &Recorder{w: w, clock: o.clock, limit: o.limit, log: o.logger}
}

// Record adds p as sent in direction d. An empty p records nothing unless d is Note.
// A d other than FromHost, ToHost and Note is recorded as a Note naming it.
func (r *Recorder) Record(d Direction, p []byte) {
	if !d.valid() {
		p = append(fmt.Appendf(nil, "[direction %q] ", byte(d)), p...)
		d = Note
	}
	if len(p) == 0 && d != Note {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	at := r.clock()
	r.line = r.line[:0]
	for first := true; first || len(p) > 0; first = false {
		n := pieceLen(p)
		r.line = AppendEntry(r.line, Entry{At: at, Dir: d, Data: p[:n]})
		p = p[n:]
	}
	r.emit(r.line)
}

// pieceLen is the length of the first line's worth of p: up to and including the first
// LF, at most maxLineData bytes.
func pieceLen(p []byte) int {
	n := min(len(p), maxLineData)
	for i, c := range p[:n] {
		if c == '\n' {
			return i + 1
		}
	}
	return n
}

// Notef records an annotation, e.g. "client closed port".
func (r *Recorder) Notef(format string, args ...any) {
	r.Record(Note, []byte(fmt.Sprintf(format, args...)))
}

// Writer returns an io.Writer that records everything written to it as direction d,
// for use with io.TeeReader or io.MultiWriter. It never fails.
func (r *Recorder) Writer(d Direction) io.Writer { return dirWriter{r, d} }

type dirWriter struct {
	r *Recorder
	d Direction
}

func (w dirWriter) Write(p []byte) (int, error) {
	w.r.Record(w.d, p)
	return len(p), nil
}

// emit writes text (whole lines) to w and the memory tail; r.mu is held.
func (r *Recorder) emit(text []byte) {
	if r.w != nil && r.werr == nil {
		if _, err := r.w.Write(text); err != nil {
			// Keep recording in memory: the tail is what a failing scenario's
			// report needs, and a half-written file is already incomplete.
			r.werr = fmt.Errorf("transcript: write: %w", err)
			r.log.Error("transcript writer failed; keeping the in-memory copy only", "err", err)
		}
	}
	if r.limit <= 0 {
		r.dropped += len(text)
		return
	}
	r.tail = append(r.tail, text...)
	if over := len(r.tail) - r.limit; over > 0 {
		cut := over
		if i := bytes.IndexByte(r.tail[cut-1:], '\n'); i > 0 {
			cut += i // cut after the LF that ends the line containing byte `over`
		} else if i < 0 {
			cut = len(r.tail)
		}
		r.dropped += cut
		r.tail = r.tail[cut:]
	}
}

// Err returns the first error of the writer given to New, if any. After it, the
// Recorder keeps recording in memory only.
func (r *Recorder) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.werr
}

// String returns the kept tail. If earlier lines were dropped it starts with a Note
// saying how many bytes, so the result still parses.
func (r *Recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.dropped == 0 {
		return string(r.tail)
	}
	at := r.clock()
	if len(r.tail) > 0 {
		if e, err := parseLine(r.tail[:pieceEnd(r.tail)]); err == nil {
			at = e.At
		}
	}
	head := AppendEntry(nil, Entry{At: at, Dir: Note,
		Data: fmt.Appendf(nil, "[transcript truncated: %d earlier bytes dropped]", r.dropped)})
	return string(head) + string(r.tail)
}

func pieceEnd(b []byte) int {
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return i
	}
	return len(b)
}
