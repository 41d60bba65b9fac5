package transcript

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"
)

const hexDigits = "0123456789abcdef"

// AppendEntry appends e as one transcript line (with its LF) to b. e.Data is escaped
// as is: a Data containing LF other than at its end still round-trips, it just does
// not read as well as what Recorder writes.
func AppendEntry(b []byte, e Entry) []byte {
	b = e.At.UTC().AppendFormat(b, timeLayout)
	b = append(b, ' ', byte(e.Dir), ' ')
	for _, c := range e.Data {
		switch {
		case c == '\\':
			b = append(b, '\\', '\\')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\t':
			b = append(b, '\\', 't')
		case c >= 0x20 && c <= 0x7e:
			b = append(b, c)
		default:
			b = append(b, '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
		}
	}
	return append(b, '\n')
}

// ErrSyntax is wrapped by every Parse error about the text itself.
var ErrSyntax = errors.New("transcript: syntax error")

// SyntaxError locates a malformed line.
type SyntaxError struct {
	Line int // 1-based
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("transcript: line %d: %s", e.Line, e.Msg) }

func (e *SyntaxError) Unwrap() error { return ErrSyntax }

// Parse reads a transcript back: one Entry per non-blank line, Data unescaped exactly.
// A chunk that Recorder split over several lines comes back as several entries with
// the same timestamp.
func Parse(r io.Reader) ([]Entry, error) {
	br := bufio.NewReader(r)
	var out []Entry
	for n := 1; ; n++ {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// Lines may be longer than the buffer when written by AppendEntry directly.
			long := append([]byte(nil), line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
			}
			line = long
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return out, fmt.Errorf("transcript: read: %w", err)
		}
		trimmed := line
		if len(trimmed) > 0 && trimmed[len(trimmed)-1] == '\n' {
			trimmed = trimmed[:len(trimmed)-1]
		}
		if len(trimmed) > 0 {
			e, perr := parseLine(trimmed)
			if perr != nil {
				return out, &SyntaxError{Line: n, Msg: perr.Error()}
			}
			out = append(out, e)
		}
		if err != nil { // EOF
			return out, nil
		}
	}
}

// parseLine parses one line without its LF: "<time> <dir> <escaped data>".
func parseLine(line []byte) (Entry, error) {
	tsLen := len(timeLayout) - len("Z07:00") + 1 // we only write UTC: "…Z"
	if len(line) < tsLen+2 || line[tsLen] != ' ' {
		return Entry{}, errors.New("want \"<time> <direction> <data>\"")
	}
	at, err := time.Parse(timeLayout, string(line[:tsLen]))
	if err != nil {
		return Entry{}, fmt.Errorf("bad time: %w", err)
	}
	d := Direction(line[tsLen+1])
	if !d.valid() {
		return Entry{}, fmt.Errorf("bad direction %q (want '>', '<' or '#')", byte(d))
	}
	rest := line[tsLen+2:]
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return Entry{}, errors.New("want a space after the direction")
		}
		rest = rest[1:]
	}
	data, err := unescape(rest)
	if err != nil {
		return Entry{}, err
	}
	return Entry{At: at, Dir: d, Data: data}, nil
}

func unescape(s []byte) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			if c < 0x20 || c > 0x7e {
				return nil, fmt.Errorf("unescaped byte %#02x at column %d", c, i+1)
			}
			out = append(out, c)
			continue
		}
		if i+1 >= len(s) {
			return nil, errors.New("backslash at end of line")
		}
		i++
		switch s[i] {
		case '\\':
			out = append(out, '\\')
		case 'r':
			out = append(out, '\r')
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'x':
			if i+2 >= len(s) {
				return nil, errors.New("short \\x escape")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("bad \\x escape %q", s[i-1:i+3])
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			return nil, fmt.Errorf("unknown escape \\%c", s[i])
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
