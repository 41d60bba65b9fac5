package zshell

import (
	"strconv"
	"strings"
	"testing"
)

// screen is a small VT100 model (one line matters here): printable bytes,
// CR, LF, cursor moves, clear to end of screen, save/restore, colours
// ignored. It checks that what the shell echoes shows the line it holds.
type screen struct {
	rows       [][]byte
	x, y       int
	sx, sy     int
	width      int
	unexpected string
}

func newScreen(width int) *screen { return &screen{width: width, rows: [][]byte{nil}} }

func (s *screen) row() []byte {
	for len(s.rows) <= s.y {
		s.rows = append(s.rows, nil)
	}
	return s.rows[s.y]
}

func (s *screen) put(c byte) {
	r := s.row()
	for len(r) <= s.x {
		r = append(r, ' ')
	}
	r[s.x] = c
	s.rows[s.y] = r
	if s.x < s.width-1 {
		s.x++
	}
}

func (s *screen) write(p string) {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\r':
			s.x = 0
		case c == '\n':
			s.y++
			s.row()
		case c == 0x1b && i+1 < len(p) && (p[i+1] == '7' || p[i+1] == '8'):
			if p[i+1] == '7' {
				s.sx, s.sy = s.x, s.y
			} else {
				s.x, s.y = s.sx, s.sy
			}
			i++
		case c == 0x1b && i+1 < len(p) && p[i+1] == '[':
			j := i + 2
			for j < len(p) && (p[j] < '@' || p[j] > '~') {
				j++
			}
			if j >= len(p) {
				s.unexpected = "cut sequence"
				return
			}
			arg, final := p[i+2:j], p[j]
			n := 1
			if v, err := strconv.Atoi(arg); err == nil {
				n = v
			}
			switch final {
			case 'C':
				s.x = min(s.x+n, s.width-1)
			case 'D':
				s.x = max(s.x-n, 0)
			case 'A':
				s.y = max(s.y-n, 0)
			case 'B':
				s.y += n
			case 'J':
				r := s.row()
				if len(r) > s.x {
					s.rows[s.y] = r[:s.x]
				}
				s.rows = s.rows[:s.y+1]
			case 'm', 'H':
				if final == 'H' {
					s.x, s.y = 0, 0
				}
			default:
				s.unexpected = "ESC[" + arg + string(final)
			}
			i = j
		case c >= 0x20 && c < 0x7f:
			s.put(c)
		default:
			s.unexpected = "byte " + strconv.Itoa(int(c))
		}
	}
}

func (s *screen) line() string { return strings.TrimRight(string(s.row()), " ") }

// FuzzEchoShowsTheLine types random editing keys into a short line (so it
// never wraps) and checks the terminal shows prompt+line with the cursor
// where the shell has it.
func FuzzEchoShowsTheLine(f *testing.F) {
	f.Add([]byte("abc\x1b[D\x1b[DX\x1b[3~\x7f\x1b[Hz\x1b[F"))
	f.Add([]byte("one two\x17\x01x\x05\x1bb\x1bf\x0b"))
	f.Add([]byte("hist\r\x1b[Ab\x1b[B\x1b[A\x15"))
	f.Fuzz(func(t *testing.T, keys []byte) {
		no := false
		s, err := NewShell(Config{Colors: &no, CmdBuffSize: 40})
		if err != nil {
			t.Fatal(err)
		}
		scr := newScreen(DefaultTerminalWidth)
		scr.write(string(s.Prompt()))
		for _, k := range keys {
			if k == '\r' || k == '\n' || k == '\t' || k == keyCtrlL || k == keyCtrlC {
				continue // these start new lines or clear the screen
			}
			_, echo, _, _ := s.Scan([]byte{k})
			scr.write(string(echo))
			if scr.unexpected != "" {
				t.Fatalf("unexpected %s in %q", scr.unexpected, echo)
			}
			if s.ed.recv != recvDefault {
				continue
			}
			want := DefaultPrompt + string(s.ed.buf)
			if got := scr.line(); got != strings.TrimRight(want, " ") {
				t.Fatalf("after %q: screen %q, shell %q", keys, got, want)
			}
			if scr.x != len(DefaultPrompt)+s.ed.pos {
				t.Fatalf("after %q: cursor at %d, shell at %d", keys, scr.x, len(DefaultPrompt)+s.ed.pos)
			}
		}
	})
}
