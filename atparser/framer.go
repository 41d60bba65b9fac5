package atparser

import (
	"bytes"
	"context"
	"log/slog"
)

// Terminator selects which byte(s) end a command outside quotes.
type Terminator int

const (
	// TermAny ends a command at CR or LF (so CRLF works too). The LF of a
	// CRLF pair ends an empty line, which is dropped like every
	// whitespace-only line, so a leading LF never becomes part of the next
	// command. This is the simulator default because host tools disagree on
	// the line ending; the real at_host has one fixed Kconfig choice.
	TermAny Terminator = iota
	// TermNUL: CONFIG_NULL_TERMINATION [S nrf91.md §1.1].
	TermNUL
	// TermCR: CONFIG_CR_TERMINATION, at_host's Kconfig default [S nrf91.md §1.1].
	// With a CRLF host the LF stays in the buffer and starts the next command,
	// exactly as on the device; Parse skips it.
	TermCR
	// TermLF: CONFIG_LF_TERMINATION [S nrf91.md §1.1]. A CR before the LF is kept.
	TermLF
	// TermCRLF: CONFIG_CR_LF_TERMINATION [S nrf91.md §1.1]: LF ends the command
	// only if the previous stored byte was CR. Unlike at_host, which hands
	// the CR on to the modem, the CR is removed from Frame.Line.
	TermCRLF
)

// String names the terminator for logs and test output.
func (t Terminator) String() string {
	switch t {
	case TermAny:
		return "any"
	case TermNUL:
		return "NUL"
	case TermCR:
		return "CR"
	case TermLF:
		return "LF"
	case TermCRLF:
		return "CRLF"
	}
	return "Terminator(?)"
}

// DefaultMaxLen is CONFIG_AT_HOST_CMD_MAX_LEN's default: 4096 bytes, one of
// which is the NUL slot, so at most 4095 command bytes are kept
// [S nrf91.md §1.1, sdk-nrf lib/at_host/Kconfig].
const DefaultMaxLen = 4096

// Control bytes at_host treats specially [S sdk-nrf lib/at_host/at_host.c uart_rx_handler].
const (
	byteNUL       = 0x00
	byteBackspace = 0x08 // deletes the last stored byte, even inside quotes
	byteLF        = '\n'
	byteCR        = '\r'
	byteQuote     = '"' // toggles the in-quotes flag when stored
	byteDEL       = 0x7F
)

// minGrow is the first allocation of the line buffer; it then doubles up to
// the cap, so short commands stay cheap and long ones never exceed the cap.
const minGrow = 128

// special marks the bytes that need the slow path in Scan; everything else
// is appended in runs.
var special = [256]bool{
	byteNUL:       true,
	byteBackspace: true,
	byteLF:        true,
	byteCR:        true,
	byteQuote:     true,
	byteDEL:       true,
}

// Frame is one completed command taken from the byte stream.
type Frame struct {
	Line      []byte // the command without its terminator; caller owns it
	Truncated bool   // bytes were dropped at the cap
	Dropped   int    // how many
}

// FramerOption configures a Framer.
type FramerOption func(*Framer)

// WithTerminator sets the line terminator (default TermAny).
func WithTerminator(t Terminator) FramerOption {
	return func(f *Framer) { f.term = t }
}

// WithMaxLen sets the command buffer size including the NUL slot, like
// CONFIG_AT_HOST_CMD_MAX_LEN: n-1 command bytes are kept. Values below 1 are
// treated as 1 (nothing is kept, every command is dropped as empty).
func WithMaxLen(n int) FramerOption {
	return func(f *Framer) { f.maxLen = max(n, 1) }
}

// WithLogger logs dropped bytes and ignored NULs (default: discard).
func WithLogger(l *slog.Logger) FramerOption {
	return func(f *Framer) {
		if l != nil {
			f.log = l
		}
	}
}

// Framer splits the byte stream a host writes into commands the way
// Nordic's at_host RX state machine does. It is not safe for concurrent use;
// one goroutine reads the port and feeds it.
type Framer struct {
	term   Terminator
	maxLen int
	log    *slog.Logger

	buf      []byte // stored command bytes, never longer than maxLen-1
	inQuotes bool
	dropped  int // bytes dropped at the cap for the current command
}

// NewFramer returns a Framer with TermAny and DefaultMaxLen unless told otherwise.
func NewFramer(opts ...FramerOption) *Framer {
	f := &Framer{
		term:   TermAny,
		maxLen: DefaultMaxLen,
		log:    slog.New(slog.DiscardHandler),
	}
	for _, o := range opts {
		o(f)
	}
	return f
}

// limit is how many command bytes fit (one slot is at_host's NUL).
func (f *Framer) limit() int { return f.maxLen - 1 }

// Scan consumes bytes from p until one frame completes or p is exhausted; it
// returns the bytes consumed and whether fr is a completed frame. Bytes after
// a completed frame are left for the next call, so the caller can switch to
// reading a raw payload between frames (atengine.Payload). Whitespace-only
// lines never complete a frame.
func (f *Framer) Scan(p []byte) (n int, fr Frame, ok bool) {
	for n < len(p) {
		c := p[n]
		if !special[c] {
			// Fast path: a run of ordinary bytes.
			end := n + 1
			for end < len(p) && !special[p[end]] {
				end++
			}
			f.store(p[n:end])
			n = end
			continue
		}
		n++
		if f.step(c) {
			if fr, ok = f.send(); ok {
				return n, fr, true
			}
		}
	}
	return n, Frame{}, false
}

// step applies one special byte; it reports whether the command ends here.
func (f *Framer) step(c byte) bool {
	if c == byteBackspace || c == byteDEL {
		// at_host quirk: deleting a '"' does not toggle the quote flag back.
		if len(f.buf) > 0 {
			f.buf = f.buf[:len(f.buf)-1]
		}
		return false
	}
	if !f.inQuotes {
		switch c {
		case byteNUL:
			if f.term == TermNUL {
				return true
			}
			// at_host: "Ignored null; would terminate string early."
			f.log.Debug("atparser: ignored NUL outside quotes")
			return false
		case byteCR:
			if f.term == TermCR || f.term == TermAny {
				return true
			}
		case byteLF:
			if f.term == TermLF || f.term == TermAny {
				return true
			}
			if f.term == TermCRLF && len(f.buf) > 0 && f.buf[len(f.buf)-1] == byteCR {
				f.buf = f.buf[:len(f.buf)-1]
				return true
			}
		}
	}
	if f.store([]byte{c}) == 1 && c == byteQuote {
		f.inQuotes = !f.inQuotes
	}
	return false
}

// store appends as much of b as fits under the cap and counts the rest as
// dropped; it returns how many bytes were stored.
func (f *Framer) store(b []byte) int {
	room := f.limit() - len(f.buf)
	if room < 0 {
		room = 0
	}
	keep := min(room, len(b))
	if keep > 0 {
		need := len(f.buf) + keep
		if need > cap(f.buf) {
			newCap := min(max(2*cap(f.buf), need, minGrow), f.limit())
			nb := make([]byte, len(f.buf), newCap)
			copy(nb, f.buf)
			f.buf = nb
		}
		f.buf = append(f.buf, b[:keep]...)
	}
	f.dropped += len(b) - keep
	return keep
}

// send ends the current command and resets the state machine; like at_host
// it delivers nothing if the line has no byte above ' '.
func (f *Framer) send() (Frame, bool) {
	line, dropped := f.buf, f.dropped
	f.buf, f.inQuotes, f.dropped = f.buf[:0], false, 0
	printable := false
	for _, b := range line {
		if b > ' ' {
			printable = true
			break
		}
	}
	if !printable {
		return Frame{}, false
	}
	if dropped > 0 {
		f.log.LogAttrs(context.Background(), slog.LevelWarn, "atparser: command buffer overflow, bytes dropped",
			slog.Int("kept", len(line)), slog.Int("dropped", dropped))
	}
	return Frame{Line: bytes.Clone(line), Truncated: dropped > 0, Dropped: dropped}, true
}

// Reset drops a partial command (client closed the port, idle timeout).
func (f *Framer) Reset() {
	f.buf, f.inQuotes, f.dropped = f.buf[:0], false, 0
}

// Pending reports whether a partial command is buffered.
// A command whose bytes were all deleted by backspace still counts while the
// quote flag is set, because the state machine is not back at its start.
func (f *Framer) Pending() bool {
	return len(f.buf) > 0 || f.inQuotes || f.dropped > 0
}

// InQuotes reports whether the framer is inside a "…" string, where CR, LF
// and NUL are content.
func (f *Framer) InQuotes() bool { return f.inQuotes }
