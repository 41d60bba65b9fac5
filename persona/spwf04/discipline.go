package spwf04

import (
	"sync/atomic"
	"time"

	"github.com/modemsim/modemsim/atparser"
)

// Bytes the console treats specially.
const (
	byteCR  = '\r' // ends a command: every driver sends CR only [C spwf04.md §1]
	byteLF  = '\n'
	byteBS  = 0x08
	byteDEL = 0x7f
)

// eraseEcho is what an erased byte echoes, as a terminal expects it [U]:
// the module's line editing is not documented.
const eraseEcho = "\b \b"

// Discipline is the module's UART console line discipline: commands end at
// CR, typed bytes are echoed while console_echo is 1, a LF before a command
// (a CRLF host's) is dropped, BS/DEL erase, and a command longer than the
// line buffer is cut (the handler answers it with an error). Raw payloads
// after a length-prefixed command are read by the engine, never here.
type Discipline struct {
	echo   *atomic.Bool
	maxLen int

	line    []byte
	dropped int
}

// NewDiscipline returns the discipline; echo is shared with the handler
// (SCFG=console_echo,0 turns it off at once), maxLen bounds a command line.
func NewDiscipline(echo *atomic.Bool, maxLen int) *Discipline {
	return &Discipline{echo: echo, maxLen: max(maxLen, 1)}
}

// Scan implements atengine.Discipline.
func (d *Discipline) Scan(p []byte) (int, []byte, atparser.Frame, bool) {
	on := d.echo.Load()
	var echo []byte
	for i, c := range p {
		switch c {
		case byteCR:
			if on {
				echo = append(echo, "\r\n"...)
			}
			fr := atparser.Frame{Line: d.line, Truncated: d.dropped > 0, Dropped: d.dropped}
			d.line, d.dropped = nil, 0
			return i + 1, echo, fr, true
		case byteLF:
			if len(d.line) == 0 && d.dropped == 0 {
				continue
			}
		case byteBS, byteDEL:
			if len(d.line) > 0 && d.dropped == 0 {
				d.line = d.line[:len(d.line)-1]
				if on {
					echo = append(echo, eraseEcho...)
				}
			}
			continue
		}
		if len(d.line) >= d.maxLen {
			d.dropped++
			continue
		}
		d.line = append(d.line, c)
		if on {
			echo = append(echo, c)
		}
	}
	return len(p), echo, atparser.Frame{}, false
}

// Reset implements atengine.Discipline.
func (d *Discipline) Reset() bool {
	had := len(d.line) > 0 || d.dropped > 0
	d.line, d.dropped = nil, 0
	return had
}

// IdleReset implements atengine.Discipline: the module keeps a partial
// command until CR [U].
func (d *Discipline) IdleReset() time.Duration { return 0 }

// AppendURC implements atengine.Discipline: an indication is a line of its
// own ending CR LF [C spwf04.md §1]; the engine puts it between answers.
func (d *Discipline) AppendURC(dst []byte, line string) []byte {
	dst = append(dst, line...)
	return append(dst, "\r\n"...)
}
