package zshell

import "strings"

// tabOptionIndent is the tab before each row of completion options
// [S subsys/shell/shell.c tab_item_print].
const tabOptionIndent = "  "

// lastCommand is z_shell_get_last_command: the deepest command argv names,
// and how many of argv it used; nil when argv[0] is not a command.
func lastCommand(root *Command, argv []string) (*Command, int) {
	entry, n := root, 0
	for n < len(argv) {
		next := entry.find(argv[n])
		if next == nil {
			break
		}
		entry = next
		n++
	}
	if n == 0 {
		return nil, 0
	}
	return entry, n
}

// tab is tab_handle: complete the word at the cursor from the commands the
// line names so far, or list the candidates.
func (e *editor) tab() {
	if e.maxBuf-1-len(e.buf) == 0 {
		return
	}
	argv, _ := makeArgv(string(e.buf[:e.pos]))
	space := e.pos > 0 && isSpace(e.buf[e.pos-1])
	cmd, argIdx := e.root, 0
	if len(argv) != 0 && (space || len(argv) != 1) {
		search := len(argv)
		if !space {
			search--
		}
		cmd, argIdx = lastCommand(e.root, argv[:search])
		if cmd == nil {
			if search != 0 {
				return
			}
			cmd = e.root
		}
	}
	arg := ""
	if argIdx < len(argv) {
		arg = argv[argIdx]
	}
	var cands []*Command
	longest := 0
	for _, c := range cmd.Sub {
		if strings.HasPrefix(c.Name, arg) {
			cands = append(cands, c)
			longest = max(longest, len(c.Name))
		}
	}
	switch {
	case len(cands) == 1:
		e.autocomplete(cands[0].Name, arg)
	case len(cands) > 1:
		e.printOptions(cands, longest)
		common := cands[0].Name
		for _, c := range cands[1:] {
			n := 0
			for n < len(common) && n < len(c.Name) && common[n] == c.Name[n] {
				n++
			}
			common = common[:n]
		}
		if len(common) > len(arg) {
			e.dataInsert([]byte(common[len(arg):]))
		}
	}
}

// autocomplete completes the one candidate and adds the space after it.
func (e *editor) autocomplete(name, arg string) {
	if len(name) != len(arg) {
		e.dataInsert([]byte(name[len(arg):]))
	}
	if e.pos < len(e.buf) && isSpace(e.buf[e.pos]) {
		e.cursorMove(1)
		return
	}
	ins := e.insert
	e.insert = false
	e.charInsert(' ')
	e.insert = ins
}

// printOptions is tab_options_print: the candidates in columns, then the
// prompt and the line again.
func (e *editor) printOptions(cands []*Command, longest int) {
	longest += len(tabOptionIndent)
	columns := (e.width - len(tabOptionIndent)) / longest
	for i, c := range cands {
		if i%columns == 0 {
			e.t.print(Option, "\n"+tabOptionIndent+c.Name)
		} else {
			e.t.print(Option, c.Name)
		}
		e.t.cursorHoriz(longest - len(c.Name))
	}
	e.t.raw("\n")
	e.promptAndCmd()
}

// history is the shell's command history (shell_history.c): newest first,
// a repeat of the newest line is not stored, and the oldest lines go when
// the ring buffer (CONFIG_SHELL_HISTORY_BUFFER bytes) is full.
type history struct {
	size    int      // bytes
	lines   []string // newest first
	current int      // index into lines while browsing, -1 when not
}

// historyItemOverhead is what each entry costs in the ring buffer besides
// its text: a list node and a length, word-aligned [I shell_history.c
// struct shell_history_item on a 32-bit MCU].
const historyItemOverhead = 12

func itemCost(line string) int { return (len(line) + historyItemOverhead + 3) &^ 3 }

func (h *history) active() bool { return h.current >= 0 }

func (h *history) exitMode() { h.current = -1 }

func (h *history) put(line string) {
	h.exitMode()
	if line == "" || h.size <= 0 {
		return
	}
	if len(h.lines) > 0 && h.lines[0] == line {
		return
	}
	if itemCost(line) > h.size {
		return
	}
	h.lines = append([]string{line}, h.lines...)
	used := 0
	for i, l := range h.lines {
		used += itemCost(l)
		if used > h.size {
			h.lines = h.lines[:i]
			break
		}
	}
}

// get moves up (older) or down (newer); false means browsing ended (past
// either end) and the line typed before browsing comes back.
func (h *history) get(up bool) (string, bool) {
	if len(h.lines) == 0 {
		return "", false
	}
	switch {
	case !up && h.current < 0:
		return "", false
	case !up:
		h.current--
	case h.current < 0:
		h.current = 0
	default:
		h.current++
	}
	if h.current < 0 || h.current >= len(h.lines) {
		h.current = -1
		return "", false
	}
	return h.lines[h.current], true
}
