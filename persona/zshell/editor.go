package zshell

import "strings"

// Input bytes the shell reacts to [S subsys/shell/shell_vt100.h].
const (
	keyESC   = 0x1b
	keyDEL   = 0x7f
	keyBS    = 0x08
	keyCtrlA = 0x01
	keyCtrlB = 0x02
	keyCtrlC = 0x03
	keyCtrlD = 0x04
	keyCtrlE = 0x05
	keyCtrlF = 0x06
	keyCtrlK = 0x0b
	keyCtrlL = 0x0c
	keyCtrlN = 0x0e
	keyCtrlP = 0x10
	keyCtrlU = 0x15
	keyCtrlW = 0x17
	keyAltB  = 'b'
	keyAltF  = 'f'
)

// receive states of state_collect [S subsys/shell/shell.c].
type recvState int

const (
	recvDefault recvState = iota
	recvESC
	recvESCSeq
	recvTildeExp
)

// editor is the shell's command line: the buffer, the cursor, the VT100
// state machine and the history, ported from shell.c and shell_ops.c so the
// bytes echoed are the ones the Zephyr shell sends.
type editor struct {
	t       *term
	prompt  string
	width   int
	maxBuf  int // CONFIG_SHELL_CMD_BUFF_SIZE, NUL included
	root    *Command
	buf     []byte
	pos     int
	insert  bool // INSERT toggles overwrite ("insert mode" in Zephyr's naming)
	recv    recvState
	lastNL  byte
	hist    history
	temp    string // the line backed up when history browsing starts
	histOff bool   // history_exit: the next up/down starts from the newest entry
	noEcho  bool   // `shell echo off`: keys are stored, not echoed or edited
}

func (e *editor) nameLen() int { return len(e.prompt) }

// multiline is z_shell_multiline_data_calc: 1-based cursor and end positions.
func (e *editor) multiline() (curX, curY, endX, endY int) {
	n := e.nameLen()
	curX = (e.pos+n)%e.width + 1
	curY = (e.pos+n)/e.width + 1
	endX = (len(e.buf)+n)%e.width + 1
	endY = (len(e.buf)+n)/e.width + 1
	return
}

func (e *editor) fullLine() bool {
	l := len(e.buf) + e.nameLen()
	return l != 0 && l%e.width == 0
}

// cursorInEmptyLine is z_shell_cursor_in_empty_line: without echo the
// cursor never left the prompt (cmd_buff_pos * echo).
func (e *editor) cursorInEmptyLine() bool {
	pos := e.pos
	if e.noEcho {
		pos = 0
	}
	return (pos+e.nameLen())%e.width == 0
}

func (e *editor) condNextLine() {
	if e.cursorInEmptyLine() || e.fullLine() {
		e.t.raw("\n")
	}
}

// cursorSync is z_shell_op_cursor_position_synchronize.
func (e *editor) cursorSync() {
	curX, curY, endX, endY := e.multiline()
	if e.fullLine() {
		e.t.raw("\n")
	}
	if curY != endY {
		e.t.cursorVert(endY - curY)
	}
	e.t.cursorHoriz(curX - endX)
}

// cursorMove is z_shell_op_cursor_move.
func (e *editor) cursorMove(val int) {
	n := e.nameLen()
	newPos := e.pos + val
	row := (newPos+n)/e.width - (e.pos+n)/e.width
	col := (newPos+n)%e.width - (e.pos+n)%e.width
	e.t.cursorVert(-row)
	e.t.cursorHoriz(col)
	e.pos = newPos
}

func (e *editor) homeMove() { e.cursorMove(-e.pos) }
func (e *editor) endMove()  { e.cursorMove(len(e.buf) - e.pos) }

func (e *editor) left() {
	if e.pos > 0 {
		e.cursorMove(-1)
	}
}

func (e *editor) right() {
	if e.pos < len(e.buf) {
		e.cursorMove(1)
	}
}

// wordShift is shift_calc.
func (e *editor) wordShift(sign int) int {
	found, ret := false, 0
	for {
		idx := e.pos + ret*sign
		if (idx == 0 && sign < 0) || (idx == len(e.buf) && sign > 0) {
			break
		}
		if idx >= 0 && idx < len(e.buf) && isAlnum(e.buf[idx]) {
			found = true
		} else if found {
			break
		}
		ret++
	}
	return ret
}

func (e *editor) wordMove(sign int) { e.cursorMove(sign * e.wordShift(sign)) }

// wordRemove is z_shell_op_word_remove (Ctrl+W).
func (e *editor) wordRemove() {
	if len(e.buf) == 0 || e.pos == 0 {
		return
	}
	i := e.pos - 1
	n := 0
	for i >= 0 && e.buf[i] == ' ' {
		n++
		i--
	}
	for i >= 0 && e.buf[i] != ' ' {
		n++
		i--
	}
	start := i + 1
	e.buf = append(e.buf[:start], e.buf[start+n:]...)
	e.cursorMove(-n)
	e.t.vt100(vt100SaveCursor)
	e.t.normal(string(e.buf[start:]))
	e.t.vt100(vt100ClearEOS)
	e.t.vt100(vt100RestCursor)
}

// reprintFromCursor is reprint_from_cursor.
func (e *editor) reprintFromCursor(diff int, removed bool) {
	if removed {
		e.t.vt100(vt100ClearEOS)
	}
	lineLen := len(e.buf) + e.nameLen()
	bufPos := e.pos + e.nameLen()
	if bufPos/e.width != lineLen/e.width {
		p := e.pos
		for bufPos < lineLen {
			if bufPos%e.width == 0 {
				e.t.raw("\n")
			}
			bufPos++
			e.t.normal(string(e.buf[p]))
			p++
		}
	} else {
		e.t.normal(string(e.buf[e.pos:]))
	}
	e.pos = len(e.buf)
	if e.fullLine() && (!removed || diff > 0) {
		e.t.raw("\n")
	}
	e.cursorMove(-diff)
}

// dataInsert is data_insert: nothing happens once the buffer is full.
func (e *editor) dataInsert(data []byte) {
	if len(e.buf)+len(data) >= e.maxBuf {
		return
	}
	after := len(e.buf) - e.pos
	e.buf = append(e.buf[:e.pos], append(append([]byte{}, data...), e.buf[e.pos:]...)...)
	if e.noEcho {
		e.pos += len(data)
		return
	}
	e.reprintFromCursor(after, false)
}

func (e *editor) charInsert(c byte) {
	if e.insert && len(e.buf) != e.pos {
		e.buf[e.pos] = c
		e.pos++
		if e.noEcho {
			return
		}
		e.t.raw(string(c))
		if e.cursorInEmptyLine() {
			e.t.raw("\n")
		}
		return
	}
	e.dataInsert([]byte{c})
}

func (e *editor) backspace() {
	if len(e.buf) == 0 || e.pos == 0 {
		return
	}
	e.cursorMove(-1)
	e.deleteChar()
}

func (e *editor) deleteChar() {
	diff := len(e.buf) - e.pos
	if diff == 0 {
		return
	}
	e.buf = append(e.buf[:e.pos], e.buf[e.pos+1:]...)
	e.reprintFromCursor(diff-1, true)
}

func (e *editor) deleteFromCursor() {
	e.buf = e.buf[:e.pos]
	e.t.vt100(vt100ClearEOS)
}

// lineErase is z_shell_cmd_line_erase: back to the prompt's first column,
// then clear to the end of the screen.
func (e *editor) lineErase() {
	curX, curY, _, _ := e.multiline()
	e.t.cursorHoriz(-(curX - 1))
	e.t.cursorVert(curY - 1)
	e.t.vt100(vt100ClearEOS)
}

// printCmd is z_shell_print_cmd: the buffer, broken at the terminal width.
func (e *editor) printCmd() {
	s := string(e.buf)
	adjust := e.nameLen()
	for len(s) > e.width-adjust {
		e.t.raw(s[:e.width-adjust] + "\n")
		s = s[e.width-adjust:]
		adjust = 0
	}
	if s != "" {
		e.t.raw(s)
	}
}

// promptAndCmd is z_shell_print_prompt_and_cmd.
func (e *editor) promptAndCmd() {
	e.t.print(Info, e.prompt)
	if e.noEcho {
		return
	}
	e.printCmd()
	e.cursorSync()
}

// activate is state_set(SHELL_STATE_ACTIVE): a fresh line and the prompt.
func (e *editor) activate() {
	e.buf, e.pos = e.buf[:0], 0
	e.promptAndCmd()
}

// historyHandle is history_handle (up/down, Ctrl+P/N).
func (e *editor) historyHandle(up bool) {
	if e.histOff {
		e.histOff = false
		e.hist.exitMode()
	}
	if !e.hist.active() {
		if !up {
			return
		}
		e.temp = string(e.buf)
	}
	line, ok := e.hist.get(up)
	if !ok {
		line = e.temp
	}
	e.homeMove()
	e.t.vt100(vt100ClearEOS)
	e.buf = append(e.buf[:0], line...)
	e.printCmd()
	e.pos = len(e.buf)
	e.condNextLine()
}

// processNL is process_nl: CR, LF, and CRLF or LFCR as one line end.
func (e *editor) processNL(c byte) bool {
	if c != '\r' && c != '\n' {
		e.lastNL = 0
		return false
	}
	if e.lastNL == 0 || c == e.lastNL {
		e.lastNL = c
		return true
	}
	return false
}

// feed processes input bytes until a command line is complete; it returns
// the bytes taken and the line (trimmed, already put in the history).
func (e *editor) feed(p []byte) (int, string, bool) {
	for i, c := range p {
		if c > 127 { // CONFIG_SHELL_ASCII_FILTER
			continue
		}
		switch e.recv {
		case recvDefault:
			if e.processNL(c) {
				if len(e.buf) == 0 {
					e.hist.exitMode()
					e.histOff = false
					e.t.raw("\n")
					e.activate()
					continue
				}
				// execute(): cursor to the end, a new line, trim, history.
				e.endMove()
				if !e.cursorInEmptyLine() {
					e.t.raw("\n")
				}
				line := strings.TrimFunc(string(e.buf), func(r rune) bool { return r < 0x80 && isSpace(byte(r)) })
				e.buf = append(e.buf[:0], line...)
				e.pos = len(e.buf)
				e.hist.put(line)
				e.histOff = false
				return i + 1, line, true
			}
			e.defaultKey(c)
		case recvESC:
			e.recv = recvDefault
			switch {
			case c == '[':
				e.recv = recvESCSeq
			case e.noEcho:
			case c == keyAltB:
				e.wordMove(-1)
			case c == keyAltF:
				e.wordMove(1)
			}
		case recvESCSeq:
			e.recv = recvDefault
			if !e.noEcho { // without echo the sequence's last byte is dropped
				e.escSeq(c)
			}
		case recvTildeExp:
			e.recv = recvDefault
		}
	}
	return len(p), "", false
}

func (e *editor) defaultKey(c byte) {
	switch c {
	case keyESC:
		e.recv = recvESC
	case 0:
	case '\t':
		if !e.noEcho {
			e.histOff = true
			e.tab()
		}
	case keyBS, keyDEL: // mode_delete is on by default: DEL erases left
		if !e.noEcho {
			e.histOff = true
			e.backspace()
		}
	default:
		if isPrint(c) {
			e.histOff = true
			e.charInsert(c)
			return
		}
		if !e.noEcho {
			e.ctrlKey(c)
		}
	}
}

func (e *editor) ctrlKey(c byte) {
	switch c {
	case keyCtrlA:
		e.homeMove()
	case keyCtrlB:
		e.left()
	case keyCtrlC:
		e.endMove()
		if !e.cursorInEmptyLine() {
			e.t.raw("\n")
		}
		e.histOff = true
		e.activate()
	case keyCtrlD:
		e.deleteChar()
	case keyCtrlE:
		e.endMove()
	case keyCtrlF:
		e.right()
	case keyCtrlK:
		e.deleteFromCursor()
	case keyCtrlL:
		e.t.vt100(vt100CursorHome)
		e.t.vt100(vt100ClearScreen)
		e.promptAndCmd()
	case keyCtrlN:
		e.historyHandle(false)
	case keyCtrlP:
		e.historyHandle(true)
	case keyCtrlU:
		e.homeMove()
		e.buf, e.pos = e.buf[:0], 0
		e.histOff = true
		e.t.vt100(vt100ClearEOS)
	case keyCtrlW:
		e.wordRemove()
		e.histOff = true
	}
}

func (e *editor) escSeq(c byte) {
	switch c {
	case 'A':
		e.historyHandle(true)
	case 'B':
		e.historyHandle(false)
	case 'C':
		e.right()
	case 'D':
		e.left()
	case '4':
		e.recv = recvTildeExp
		e.endMove()
	case 'F':
		e.endMove()
	case '1':
		e.recv = recvTildeExp
		e.homeMove()
	case 'H':
		e.homeMove()
	case '2':
		e.recv = recvTildeExp
		e.insert = !e.insert
	case 'L':
		e.insert = !e.insert
	case '3':
		e.recv = recvTildeExp
		e.deleteChar()
	}
}

// reset drops the line being typed (the host hung up).
func (e *editor) reset() bool {
	had := len(e.buf) > 0 || e.recv != recvDefault
	e.buf, e.pos, e.recv, e.lastNL = e.buf[:0], 0, recvDefault, 0
	e.hist.exitMode()
	return had
}
