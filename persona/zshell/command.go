package zshell

import (
	"context"
	"fmt"
	"strings"
)

// Errno values commands return, in Zephyr's numbering [S
// zephyr lib/libc/minimal/include/errno.h; nrf91.md §7].
const (
	ENOENT  = 2
	E2BIG   = 7
	ENOEXEC = 8
	ENOMEM  = 12
	EEXIST  = 17
	EINVAL  = 22
	ENOTSUP = 134
)

// Shell messages [S subsys/shell/shell.c, shell_help.c].
const (
	msgCmdNotFound      = ": command not found"
	msgSpecifySubcmd    = "Please specify a subcommand.\n"
	msgWrongParamCount  = ": wrong parameter count\n"
	msgNotTerminated    = "not terminated: %c\n"
	msgTooManyArgs      = "Too many arguments in the command.\n"
	helpCmdSeparator    = " - "
	helpSubcmdHeader    = "Subcommands:\n"
	helpItemTab         = "  "
	shellCmdHelpPrinted = 1 // SHELL_CMD_HELP_PRINTED
)

// Command is one shell command (SHELL_CMD_ARG): Mandatory counts the command
// itself, as Zephyr's does; Optional extra arguments are allowed.
type Command struct {
	Name      string
	Help      string
	Mandatory int
	Optional  int
	// Run executes the command: args[0] is its name. It prints through out
	// and returns 0 or a negative errno (kept as the shell's retval).
	Run func(ctx context.Context, out *Output, args []string) int
	Sub []*Command
}

func (c *Command) find(name string) *Command {
	for _, s := range c.Sub {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Output is what a command prints through: shell_fprintf with a colour.
type Output struct{ t *term }

// Print is shell_fprintf(sh, SHELL_NORMAL, …).
func (o *Output) Print(format string, a ...any) { o.t.normal(sprintf(format, a...)) }

// Warn is shell_fprintf(sh, SHELL_WARNING, …).
func (o *Output) Warn(format string, a ...any) { o.t.warning(sprintf(format, a...)) }

// Error is shell_fprintf(sh, SHELL_ERROR, …).
func (o *Output) Error(format string, a ...any) { o.t.errorf(sprintf(format, a...)) }

// Info is shell_fprintf(sh, SHELL_INFO, …).
func (o *Output) Info(format string, a ...any) { o.t.print(Info, sprintf(format, a...)) }

func sprintf(format string, a ...any) string {
	if len(a) == 0 {
		return format
	}
	return fmt.Sprintf(format, a...)
}

// helpRequest is z_shell_help_request (CONFIG_SHELL_HELP_OPT_PARSE).
func helpRequest(s string) bool { return s == "-h" || s == "--help" }

// execute runs a trimmed command line against root's commands, as the
// shell's execute() and exec_cmd() do: the deepest command with a handler
// gets the rest of the line as arguments.
func (s *Shell) execute(ctx context.Context, line string) int {
	o := &Output{t: s.term}
	argv, quote := makeArgv(line)
	if len(argv) == 0 {
		return -ENOEXEC
	}
	if quote != 0 {
		o.Error(msgNotTerminated, quote)
		return -ENOEXEC
	}
	if len(argv) > s.cfg.ArgcMax {
		o.Error("%s\n", msgTooManyArgs)
		return -ENOEXEC
	}
	parent := s.root
	var active, help *Command
	handlerLvl := 0
	for i, a := range argv {
		if i > 0 && helpRequest(a) {
			if help != nil {
				s.printHelp(help)
				return shellCmdHelpPrinted
			}
			o.Error(msgSpecifySubcmd)
			return -ENOEXEC
		}
		e := parent.find(a)
		if e == nil {
			if i == 0 {
				o.Error("%s%s\n", argv[0], msgCmdNotFound)
			}
			break
		}
		if e.Run != nil {
			active, handlerLvl = e, i
		}
		if e.Help != "" {
			help = e
		}
		parent = e
	}
	if active == nil {
		if help == nil {
			return -ENOEXEC
		}
		s.printHelp(help)
		return shellCmdHelpPrinted
	}
	args := argv[handlerLvl:]
	if active.Mandatory > 0 && (len(args) < active.Mandatory || len(args) > active.Mandatory+active.Optional) {
		o.Error("%s%s", active.Name, msgWrongParamCount)
		if s.cfg.helpOnWrongCount {
			s.printHelp(active)
		}
		return -EINVAL
	}
	return active.Run(ctx, o, args)
}

// printHelp is shell_internal_help_print: the command's help, then its
// subcommands.
func (s *Shell) printHelp(c *Command) {
	s.term.normal(c.Name + helpCmdSeparator)
	s.formattedText(c.Help, len(c.Name)+len(helpCmdSeparator))
	s.printSubcommands(c.Sub, helpSubcmdHeader)
}

// printSubcommands is z_shell_help_subcmd_print.
func (s *Shell) printSubcommands(sub []*Command, header string) {
	longest := 0
	for _, c := range sub {
		longest = max(longest, len(c.Name))
	}
	if longest == 0 {
		return
	}
	s.term.normal(header)
	for _, c := range sub {
		// help_item_print: tab, name padded to the longest, tab, ": ",
		// help wrapped at the offset 2*len(tab)+longest+1.
		s.term.normal(helpItemTab + c.Name)
		if c.Help == "" {
			s.term.raw("\n")
			continue
		}
		s.term.raw(strings.Repeat(" ", longest-len(c.Name)))
		s.term.normal(helpItemTab + ": ")
		s.formattedText(c.Help, 2*len(helpItemTab)+longest+1)
	}
}

// formattedText is formatted_text_print: str wrapped at the terminal width
// without splitting words, continuation lines moved right by offset.
func (s *Shell) formattedText(str string, offset int) {
	width := s.cfg.TerminalWidth
	i := 0
	for i < len(str) && isSpace(str[i]) {
		i++
	}
	for {
		rest := str[i:]
		if len(rest) <= width-offset {
			// Only the first newline of a short text is indented; the
			// rest is printed as it is (as the C loop does).
			if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
				s.term.raw(rest[:nl] + "\n")
				s.term.cursorHoriz(offset)
				rest = rest[nl+1:]
			}
			s.term.raw(rest)
			break
		}
		length := width - offset
		for idx := 0; ; idx++ {
			if idx < len(rest) && isSpace(rest[idx]) {
				length = idx
				if rest[idx] == '\n' {
					break
				}
			}
			if idx+offset >= width || idx >= len(rest) {
				break
			}
		}
		s.term.raw(rest[:length])
		i += length
		for i < len(str) && isSpace(str[i]) {
			i++
		}
		s.term.raw("\n")
		s.term.cursorHoriz(offset)
	}
	s.term.raw("\n")
}
