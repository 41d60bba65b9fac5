package serialmodem

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/modemsim/modemsim/atparser"
)

// Terminator is CONFIG_SM_CR_TERMINATION / _LF_ / _CR_LF_ (default CR) [S Kconfig].
type Terminator int

// Terminators.
const (
	TermCR Terminator = iota
	TermLF
	TermCRLF
)

// discipline is sm_at_host.c cmd_rx_handler: nothing is buffered until
// "AT" (any case) starts a command, BS/DEL edit, CR/LF inside quotes are
// content, the terminator ends the command, and with ATE1 every byte
// received is echoed as it arrives.
type discipline struct {
	term   Terminator
	echo   *atomic.Bool
	buf    []byte
	quotes bool
	prev   byte
	echoed int
}

func newDiscipline(term Terminator, echo *atomic.Bool) *discipline {
	return &discipline{term: term, echo: echo}
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// Scan implements atengine.Discipline.
func (d *discipline) Scan(p []byte) (int, []byte, atparser.Frame, bool) {
	var echo []byte
	for i, c := range p {
		send, overflow := d.step(c)
		if d.echo.Load() {
			d.echoed++
			if d.echoed < echoMaxLen {
				echo = append(echo, c)
			} else if send {
				echo = append(echo, d.termBytes()...)
			}
		}
		if overflow {
			d.reset()
			return i + 1, echo, atparser.Frame{Truncated: true}, true
		}
		if !send {
			continue
		}
		line := append([]byte(nil), d.buf...)
		d.reset()
		if len(line) == 0 {
			continue // zero-size command: ignored [S]
		}
		return i + 1, echo, atparser.Frame{Line: line}, true
	}
	return len(p), echo, atparser.Frame{}, false
}

// step takes one byte: send reports a complete command, overflow a command
// longer than the buffer.
func (d *discipline) step(c byte) (send, overflow bool) {
	n := len(d.buf)
	if (n == 0 && upper(c) != 'A') || (n == 1 && upper(c) != 'T') {
		d.buf, d.quotes = d.buf[:0], false
		return false, false
	}
	if n >= maxCommandLen {
		return false, true
	}
	switch c {
	case 0x08, 0x7F:
		if n == 0 {
			return false, false
		}
		d.buf = d.buf[:n-1]
		if d.prev == '"' { // the firmware toggles on the previous byte [S]
			d.quotes = !d.quotes
		}
		d.prev = 0
		if len(d.buf) > 0 {
			d.prev = d.buf[len(d.buf)-1]
		}
		return false, false
	}
	if !d.quotes {
		switch {
		case c == '\r' && d.term == TermCR:
			return true, false
		case c == '\n' && d.term == TermLF:
			return true, false
		case c == '\n' && d.term == TermCRLF && n > 0 && d.prev == '\r':
			d.buf = d.buf[:n-1]
			return true, false
		}
	}
	d.buf = append(d.buf, c)
	if c == '"' {
		d.quotes = !d.quotes
	}
	d.prev = c
	return false, false
}

func (d *discipline) termBytes() []byte {
	switch d.term {
	case TermLF:
		return []byte{'\n'}
	case TermCRLF:
		return []byte(crlf)
	}
	return []byte{'\r'}
}

func (d *discipline) reset() {
	d.buf, d.quotes, d.prev, d.echoed = d.buf[:0], false, 0, 0
}

// Reset implements atengine.Discipline.
func (d *discipline) Reset() bool {
	had := len(d.buf) > 0
	d.reset()
	return had
}

// IdleReset implements atengine.Discipline: the firmware keeps a partial
// command (an open quote swallows every terminator) until the host ends it.
func (d *discipline) IdleReset() time.Duration { return 0 }

// AppendURC implements atengine.Discipline: "\r\n<line>\r\n" (urc_send
// "\r\n%s"), except for the URCs the firmware sends bare.
func (d *discipline) AppendURC(dst []byte, line string) []byte {
	prefixed := true
	for _, p := range unprefixedURCs {
		if strings.HasPrefix(line, p) {
			prefixed = false
		}
	}
	if prefixed {
		dst = append(dst, crlf...)
	}
	dst = append(dst, line...)
	return append(dst, crlf...)
}

// grammarOK is sm_at_host.c cmd_grammar_check [S]: AT, ATE0, ATE1, or
// AT<+%#><alnum_>+ followed by nothing, "?", "=", "=?" or "=<params>".
func grammarOK(cmd string) bool {
	if len(cmd) < 2 || upper(cmd[0]) != 'A' || upper(cmd[1]) != 'T' {
		return false
	}
	s := cmd[2:]
	if s == "" {
		return true
	}
	if len(s) == 2 && upper(s[0]) == 'E' && (s[1] == '0' || s[1] == '1') {
		return true
	}
	if s[0] != '+' && s[0] != '%' && s[0] != '#' {
		return false
	}
	s = s[1:]
	i := 0
	for i < len(s) && (isAlnum(s[i]) || s[i] == '_') {
		i++
	}
	if i == 0 {
		return false
	}
	s = s[i:]
	switch {
	case s == "", s == "?", s == "=", s == "=?":
		return true
	case s[0] == '?':
		return false
	case s[0] != '=':
		return false
	case len(s) > 1 && s[1] == '?':
		return false // "=?x"
	}
	return true
}

func isAlnum(c byte) bool {
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
}
