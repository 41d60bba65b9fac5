// Package zshell is the Zephyr shell on a board's UART: the `uart:~$ `
// prompt, echo and line editing byte for byte as the Zephyr shell sends them
// (VT100 cursor keys, history, tab completion), log lines printed above the
// line being typed, and the command sets NCS firmware links in: the TLS
// credentials shell (`cred`), `kernel`, the Wi-Fi shell (`wifi`) and the NCS
// `at` shell. The personas zephyr_shell (nRF7002 DK) and at_shell (nRF91)
// are this shell with different command sets.
//
// Sources: zephyr subsys/shell/shell.c, shell_ops.c, shell_utils.c,
// shell_help.c, shell_history.c, shell_vt100.h;
// subsys/net/lib/tls_credentials/tls_credentials_shell.c (the NCS
// sdk-zephyr version, where `cred buf clear` is an argument, not a
// subcommand); subsys/net/l2/wifi/wifi_shell.c; sdk-nrf lib/at_shell.
package zshell

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
)

// Kconfig defaults [S zephyr subsys/shell/Kconfig, Kconfig.backends,
// subsys/net/lib/tls_credentials/Kconfig.shell].
const (
	DefaultPrompt        = "uart:~$ " // CONFIG_SHELL_PROMPT_UART
	DefaultTerminalWidth = 80         // CONFIG_SHELL_DEFAULT_TERMINAL_WIDTH
	DefaultCmdBuffSize   = 256        // CONFIG_SHELL_CMD_BUFF_SIZE
	DefaultArgcMax       = 20         // CONFIG_SHELL_ARGC_MAX
	DefaultHistoryBuffer = 512        // CONFIG_SHELL_HISTORY_BUFFER
	DefaultCredBufSize   = 1024       // CONFIG_TLS_CREDENTIALS_SHELL_CRED_BUF_SIZE
	DefaultCredOutWidth  = 32         // CONFIG_TLS_CREDENTIALS_SHELL_CRED_OUTPUT_WIDTH
)

// Config is the shell's build configuration. Zero values take the Kconfig
// defaults above.
type Config struct {
	Prompt        string `json:"prompt,omitempty"`
	TerminalWidth int    `json:"terminal_width,omitempty"`
	CmdBuffSize   int    `json:"cmd_buff_size,omitempty"`
	ArgcMax       int    `json:"argc_max,omitempty"`
	HistoryBuffer int    `json:"history_buffer,omitempty"`
	// Colors is CONFIG_SHELL_VT100_COLORS (default on).
	Colors *bool `json:"colors,omitempty"`
	// HelpOnWrongArgumentCount is CONFIG_SHELL_HELP_ON_WRONG_ARGUMENT_COUNT
	// (default on [I]).
	HelpOnWrongArgumentCount *bool `json:"help_on_wrong_argument_count,omitempty"`
	// CredBufSize is CONFIG_TLS_CREDENTIALS_SHELL_CRED_BUF_SIZE: the cred
	// shell's buffer holds the base64 text, so a 1188-byte PEM needs more
	// than the default (nrf91.md §8).
	CredBufSize     int `json:"cred_buf_size,omitempty"`
	CredOutputWidth int `json:"cred_output_width,omitempty"`
	// MaxCredentials is CONFIG_TLS_MAX_CREDENTIALS_NUMBER; 0 = no limit
	// beyond the store's.
	MaxCredentials int `json:"max_credentials,omitempty"`
}

func (c *Config) fill() error {
	if c.Prompt == "" {
		c.Prompt = DefaultPrompt
	}
	if c.TerminalWidth == 0 {
		c.TerminalWidth = DefaultTerminalWidth
	}
	if c.CmdBuffSize == 0 {
		c.CmdBuffSize = DefaultCmdBuffSize
	}
	if c.ArgcMax == 0 {
		c.ArgcMax = DefaultArgcMax
	}
	if c.HistoryBuffer == 0 {
		c.HistoryBuffer = DefaultHistoryBuffer
	}
	if c.CredBufSize == 0 {
		c.CredBufSize = DefaultCredBufSize
	}
	if c.CredOutputWidth == 0 {
		c.CredOutputWidth = DefaultCredOutWidth
	}
	t := true
	if c.Colors == nil {
		c.Colors = &t
	}
	if c.HelpOnWrongArgumentCount == nil {
		c.HelpOnWrongArgumentCount = &t
	}
	switch {
	case c.TerminalWidth < len(c.Prompt)+2:
		return fmt.Errorf("zephyr shell: terminal_width %d is narrower than the prompt", c.TerminalWidth)
	case c.CmdBuffSize < 2:
		return fmt.Errorf("zephyr shell: cmd_buff_size %d below 2", c.CmdBuffSize)
	case c.CredOutputWidth%4 != 0 || c.CredOutputWidth <= 0:
		return fmt.Errorf("zephyr shell: cred_output_width %d must be a positive multiple of 4", c.CredOutputWidth)
	case c.CredBufSize < 1:
		return fmt.Errorf("zephyr shell: cred_buf_size %d below 1", c.CredBufSize)
	}
	return nil
}

// settings are the resolved config the commands read.
type settings struct {
	Config
	helpOnWrongCount bool
}

// Shell is one shell instance: the line discipline and the command handler
// of the engine at once (both sides share the command line and the colour).
type Shell struct {
	mu     sync.Mutex
	cfg    settings
	term   *term
	ed     editor
	root   *Command
	retval int
	then   func() // runs after the answer is framed (a reboot)
}

// NewShell makes a shell with the shell's own commands (help, clear,
// history, retval) and cmds.
func NewShell(cfg Config, cmds ...*Command) (*Shell, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Shell{cfg: settings{Config: cfg, helpOnWrongCount: *cfg.HelpOnWrongArgumentCount}}
	s.term = &term{colors: *cfg.Colors, col: colorDefault}
	s.root = &Command{Sub: sortCommands(append(s.builtins(), cmds...))}
	s.ed = editor{t: s.term, prompt: cfg.Prompt, width: cfg.TerminalWidth, maxBuf: cfg.CmdBuffSize,
		root: s.root, hist: history{size: cfg.HistoryBuffer, current: -1}}
	return s, nil
}

// sortCommands orders root commands by name, as the linker section that
// holds SHELL_CMD_REGISTER entries is sorted.
func sortCommands(c []*Command) []*Command {
	for i := 1; i < len(c); i++ {
		for j := i; j > 0 && c[j].Name < c[j-1].Name; j-- {
			c[j], c[j-1] = c[j-1], c[j]
		}
	}
	return c
}

// Scan implements atengine.Discipline.
func (s *Shell) Scan(p []byte) (int, []byte, atparser.Frame, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, line, ok := s.ed.feed(p)
	echo := s.term.take()
	if !ok {
		return n, echo, atparser.Frame{}, false
	}
	return n, echo, atparser.Frame{Line: []byte(line)}, true
}

// Reset implements atengine.Discipline.
func (s *Shell) Reset() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ed.reset()
}

// IdleReset implements atengine.Discipline: a shell keeps the line forever.
func (s *Shell) IdleReset() time.Duration { return 0 }

// AppendURC implements atengine.Discipline: a line printed while the prompt
// is up (a log message, a Wi-Fi event) erases the command line, prints the
// line and redraws prompt and command (shell_log_process, shell_vfprintf
// outside the command context [S subsys/shell/shell.c]).
func (s *Shell) AppendURC(dst []byte, line string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ed.lineErase()
	s.term.raw(line + "\n")
	s.ed.promptAndCmd()
	return append(dst, s.term.take()...)
}

// Handle implements atengine.Handler: execute the line, then the prompt.
func (s *Shell) Handle(ctx context.Context, fr atparser.Frame) atengine.Reply {
	s.mu.Lock()
	s.retval = s.execute(ctx, string(fr.Line))
	then := s.then
	s.then = nil
	if then == nil {
		s.ed.activate()
	}
	out := s.term.take()
	s.mu.Unlock()
	if then != nil {
		then() // the board reboots: the new firmware prints its banner
	}
	return atengine.Answer(out)
}

// after runs f once the current command's output is framed, outside the
// shell's lock (kernel reboot replaces this shell).
func (s *Shell) after(f func()) { s.then = f }

// Prompt is the boot output: the shell starts and prints its prompt.
func (s *Shell) Prompt() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ed.activate()
	return s.term.take()
}

// Dialect is the shell as an engine dialect.
func (s *Shell) Dialect() atengine.Dialect { return atengine.Dialect{Discipline: s, Handler: s} }

func (s *Shell) builtins() []*Command {
	return []*Command{
		{Name: "help", Help: "Prints the help message.", Run: s.cmdHelp},
		{Name: "clear", Help: "Clear screen.", Mandatory: 1, Run: func(_ context.Context, o *Output, _ []string) int {
			o.t.vt100(vt100CursorHome)
			o.t.vt100(vt100ClearScreen)
			return 0
		}},
		{Name: "history", Help: "Command history.", Mandatory: 1, Run: s.cmdHistory},
		s.shellCommands(),
		{Name: "retval", Help: "Print return value of most recent command", Mandatory: 1,
			Run: func(_ context.Context, o *Output, _ []string) int {
				o.Print("%d\n", s.retval)
				return 0
			}},
	}
}

// Help text of the `help` command [S subsys/shell/shell_cmds.c cmd_help,
// with CONFIG_SHELL_TAB, _TAB_AUTOCOMPLETION, _HELP, _METAKEYS].
const helpText = "Please press the <Tab> button to see all available commands.\n" +
	"You can also use the <Tab> button to prompt or auto-complete all commands or its subcommands.\n" +
	"You can try to call commands with <-h> or <--help> parameter for more information.\n" +
	"\nShell supports following meta-keys:\n" +
	"  Ctrl + (a key from: abcdefklnpuw)\n" +
	"  Alt  + (a key from: bf)\n" +
	"Please refer to shell documentation for more details.\n"

func (s *Shell) cmdHelp(_ context.Context, o *Output, _ []string) int {
	o.Print(helpText)
	s.printSubcommands(s.root.Sub, "\nAvailable commands:\n")
	return 0
}

func (s *Shell) cmdHistory(_ context.Context, o *Output, _ []string) int {
	for i, l := range s.ed.hist.lines {
		o.Print("[%3d] %s\n", i, l)
	}
	return 0
}

// Messages of the `shell` command set [S subsys/shell/modules/shell_cmds.c;
// I: the help texts].
const (
	shellMsgEchoStatus   = "Echo status: %s\n"
	shellMsgUnknownParam = " unknown parameter: "
)

// shellCommands is the part of `shell` scripts use: colours and echo.
func (s *Shell) shellCommands() *Command {
	onOff := func(set func(bool), on bool) func(context.Context, *Output, []string) int {
		return func(context.Context, *Output, []string) int {
			set(on)
			return 0
		}
	}
	colors := func(on bool) { s.term.colors = on }
	echo := func(on bool) { s.ed.noEcho = !on }
	return &Command{Name: "shell", Help: "Useful, not Unix-like shell commands.", Sub: []*Command{
		{Name: "colors", Help: "Toggle colored syntax.", Sub: []*Command{
			{Name: "off", Help: "Disable colored syntax.", Mandatory: 1, Run: onOff(colors, false)},
			{Name: "on", Help: "Enable colored syntax.", Mandatory: 1, Run: onOff(colors, true)},
		}},
		{Name: "echo", Help: "Toggle shell echo.", Mandatory: 1, Optional: 1, Run: func(_ context.Context, o *Output, args []string) int {
			if len(args) == 2 {
				o.Error("%s:%s%s\n", args[0], shellMsgUnknownParam, args[1])
				return -EINVAL
			}
			status := "on"
			if s.ed.noEcho {
				status = "off"
			}
			o.Print(shellMsgEchoStatus, status)
			return 0
		}, Sub: []*Command{
			{Name: "off", Help: "Disable shell echo. Editing keys and meta-keys are not handled", Mandatory: 1, Run: onOff(echo, false)},
			{Name: "on", Help: "Enable shell echo.", Mandatory: 1, Run: onOff(echo, true)},
		}},
	}}
}
