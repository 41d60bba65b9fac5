package zshell

import (
	"strconv"
	"strings"
)

// Zephyr shell colours: enum shell_vt100_color and the SHELL_NORMAL/INFO/
// OPTION/WARNING/ERROR aliases [S zephyr include/zephyr/shell/shell_types.h,
// shell.h]. A colour is sent as ESC[1;3<n>m, NORMAL as SHELL_VT100_MODESOFF
// ESC[m [S subsys/shell/shell_ops.c z_shell_vt100_color_set].
type color int

const (
	colorBlack color = iota
	colorRed
	colorGreen
	colorYellow
	colorBlue
	colorMagenta
	colorCyan
	colorWhite
	colorDefault

	Normal  = colorDefault
	Info    = colorGreen // the prompt
	Option  = colorCyan  // tab completion lists
	Warning = colorYellow
	Error   = colorRed
)

// VT100 sequences the shell sends [S subsys/shell/shell_vt100.h].
const (
	vt100ModesOff    = "\x1b[m" // SHELL_VT100_MODESOFF
	vt100ClearEOS    = "\x1b[J" // SHELL_VT100_CLEAREOS
	vt100SaveCursor  = "\x1b7"  // SHELL_VT100_SAVECURSOR
	vt100RestCursor  = "\x1b8"  // SHELL_VT100_RESTORECURSOR
	vt100CursorHome  = "\x1b[H" // SHELL_VT100_CURSORHOME
	vt100ClearScreen = "\x1b[2J"
)

// term renders what the shell prints: the current colour (the shell sends a
// colour change only when the colour differs), and "\n" written as "\r\n"
// because the UART backend is defined with SHELL_FLAG_OLF_CRLF [S
// subsys/shell/shell_fprintf.c out_func, backends/shell_uart.c].
type term struct {
	out    []byte
	col    color
	colors bool // CONFIG_SHELL_VT100_COLORS and the backend's use_colors flag
}

// take returns what was rendered and starts over.
func (t *term) take() []byte {
	out := t.out
	t.out = nil
	return out
}

// raw is z_shell_raw_fprintf: no colour handling, "\n" still becomes CRLF.
func (t *term) raw(s string) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			t.out = append(t.out, '\r')
		}
		t.out = append(t.out, s[i])
	}
}

// vt100 sends a VT100 command (Z_SHELL_VT100_CMD).
func (t *term) vt100(s string) { t.out = append(t.out, s...) }

func (t *term) setColor(c color) {
	if !t.colors || t.col == c {
		return
	}
	t.col = c
	if c != colorDefault {
		t.vt100("\x1b[1;3" + strconv.Itoa(int(c)) + "m")
	} else {
		t.vt100(vt100ModesOff)
	}
}

// print is z_shell_fprintf: switch to c for the text, then back.
func (t *term) print(c color, s string) {
	if t.colors && c != t.col {
		old := t.col
		t.setColor(c)
		t.raw(s)
		t.setColor(old)
		return
	}
	t.raw(s)
}

// printf-like helpers used by the commands: shell_fprintf(sh, SHELL_*, ...).
func (t *term) normal(s string)  { t.print(Normal, s) }
func (t *term) warning(s string) { t.print(Warning, s) }
func (t *term) errorf(s string)  { t.print(Error, s) }

// cursorHoriz is z_shell_op_cursor_horiz_move.
func (t *term) cursorHoriz(delta int) {
	switch {
	case delta > 0:
		t.vt100("\x1b[" + strconv.Itoa(delta) + "C")
	case delta < 0:
		t.vt100("\x1b[" + strconv.Itoa(-delta) + "D")
	}
}

// cursorVert is z_shell_op_cursor_vert_move: positive moves up.
func (t *term) cursorVert(delta int) {
	switch {
	case delta > 0:
		t.vt100("\x1b[" + strconv.Itoa(delta) + "A")
	case delta < 0:
		t.vt100("\x1b[" + strconv.Itoa(-delta) + "B")
	}
}

// stripVT100 removes colour and cursor sequences, for tests and logs.
func stripVT100(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b && i+1 < len(s) {
			j := i + 1
			if s[j] == '[' {
				j++
				for j < len(s) && (s[j] < '@' || s[j] > '~') {
					j++
				}
			}
			i = j
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
