// Package hosttool drives a board's serial port the way real host tools do:
// a Serial client that opens a tty like pyserial (raw, 115200 8N1), and the
// exact command sequences of nrfcredstore 1.1.1 and 2.0.9
// (nrf91.md §5). Features, benchmarks and demos use it to talk to a board
// as a user's tool would, byte for byte.
package hosttool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrTimeout is returned when no complete line arrives in time, as a
// pyserial readline() returning b” does.
var ErrTimeout = errors.New("serial read timed out")

// Serial is an open tty.
type Serial struct {
	f   *os.File
	buf []byte // bytes read but not yet returned as a line

	mu  sync.Mutex
	log []Event // every byte written and read, in order
}

// Event is one write to or read from the port, as the client saw it.
type Event struct {
	Wrote bool // true: the client wrote Data; false: it read Data
	Data  []byte
}

// Log returns every byte the client wrote and read so far, in order.
func (s *Serial) Log() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.log...)
}

func (s *Serial) record(wrote bool, p []byte) {
	if len(p) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.log = append(s.log, Event{Wrote: wrote, Data: append([]byte(nil), p...)})
}

// AnswersTo returns what the client read after each time it wrote exactly
// sent (up to its next write), in order.
func (s *Serial) AnswersTo(sent []byte) [][]byte { return AnswersTo(s.Log(), sent) }

// AnswersTo finds, in a client's log, what it read after each time it wrote
// exactly sent, up to its next write.
func AnswersTo(log []Event, sent []byte) [][]byte {
	var out [][]byte
	var cur []byte
	in := false
	for _, e := range log {
		if e.Wrote {
			if in {
				out = append(out, cur)
			}
			in, cur = string(e.Data) == string(sent), nil
			continue
		}
		if in {
			cur = append(cur, e.Data...)
		}
	}
	if in {
		out = append(out, cur)
	}
	return out
}

// OpenSerial opens path raw, like pyserial's Serial(port, 115200): the
// process keeps no controlling terminal, and reads honour deadlines.
func OpenSerial(path string) (*Serial, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("%s is not a tty: %w", path, err)
	}
	// cfmakeraw plus 8N1 at 115200, as pyserial configures a port.
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8 | unix.CREAD | unix.CLOCAL
	t.Cflag = t.Cflag&^unix.CBAUD | unix.B115200
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 1, 0
	if err := unix.IoctlSetTermios(fd, unix.TCSETS, t); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("configure %s: %w", path, err)
	}
	return &Serial{f: os.NewFile(uintptr(fd), path)}, nil
}

// Close closes the port.
func (s *Serial) Close() error { return s.f.Close() }

// Write sends bytes as they are.
func (s *Serial) Write(p []byte) error {
	s.record(true, p)
	_, err := s.f.Write(p)
	if err != nil {
		return fmt.Errorf("serial write: %w", err)
	}
	return nil
}

// ResetInput discards everything received and not yet read, like pyserial's
// reset_input_buffer (tcflush TCIFLUSH).
func (s *Serial) ResetInput() error {
	s.buf = s.buf[:0]
	if err := unix.IoctlSetInt(int(s.f.Fd()), unix.TCFLSH, unix.TCIFLUSH); err != nil {
		return fmt.Errorf("flush input: %w", err)
	}
	return nil
}

// ReadLine returns the next line including its LF, waiting at most timeout
// (pyserial readline with a port timeout). On timeout it returns what it has
// with ErrTimeout.
func (s *Serial) ReadLine(timeout time.Duration) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	for {
		if i := bytes.IndexByte(s.buf, '\n'); i >= 0 {
			line := append([]byte(nil), s.buf[:i+1]...)
			s.buf = append(s.buf[:0], s.buf[i+1:]...)
			return line, nil
		}
		if err := s.f.SetReadDeadline(deadline); err != nil {
			return nil, fmt.Errorf("serial deadline: %w", err)
		}
		var chunk [4096]byte
		n, err := s.f.Read(chunk[:])
		s.record(false, chunk[:n])
		s.buf = append(s.buf, chunk[:n]...)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				line := append([]byte(nil), s.buf...)
				s.buf = s.buf[:0]
				return line, ErrTimeout
			}
			return nil, fmt.Errorf("serial read: %w", err)
		}
	}
}

// ReadFor collects everything that arrives within d.
func (s *Serial) ReadFor(d time.Duration) []byte {
	out := append([]byte(nil), s.buf...)
	s.buf = s.buf[:0]
	deadline := time.Now().Add(d)
	for {
		if err := s.f.SetReadDeadline(deadline); err != nil {
			return out
		}
		var chunk [4096]byte
		n, err := s.f.Read(chunk[:])
		s.record(false, chunk[:n])
		out = append(out, chunk[:n]...)
		if err != nil {
			return out
		}
	}
}

// Exchange sends cmd+"\r\n" and returns the lines up to and including the
// final result (OK, ERROR, +CME ERROR: n).
func (s *Serial) Exchange(ctx context.Context, cmd string, timeout time.Duration) ([]string, error) {
	if err := s.Write([]byte(cmd + "\r\n")); err != nil {
		return nil, err
	}
	var lines []string
	for {
		if err := ctx.Err(); err != nil {
			return lines, err
		}
		l, err := s.ReadLine(timeout)
		if err != nil {
			return lines, fmt.Errorf("%q: %w", cmd, err)
		}
		line := string(bytes.TrimRight(l, "\r\n"))
		lines = append(lines, line)
		if IsFinal(line) {
			return lines, nil
		}
	}
}

// IsFinal reports whether an AT line is a final result code.
func IsFinal(line string) bool {
	return line == "OK" || line == "ERROR" || bytes.HasPrefix([]byte(line), []byte("+CME ERROR")) ||
		bytes.HasPrefix([]byte(line), []byte("+CMS ERROR"))
}
