package zshell

import (
	"context"
	"sync"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/persona/athost"
)

// The NCS `at` shell's strings [S sdk-nrf lib/at_shell/at_shell.c].
const (
	atUsage = "Usage: at <subcommand>\n" +
		"\n" +
		"Subcommands:\n" +
		"  events_enable     Enable AT event handler which prints AT notifications\n" +
		"  events_disable    Disable AT event handler\n" +
		"\n" +
		"Any other subcommand is interpreted as AT command and sent to the modem.\n"
	atEventsEnabled  = "AT command event handler enabled"
	atEventsDisabled = "AT command event handler disabled"
	atEventPrefix    = "AT event handler:\n"
	// DefaultATResponseMax is CONFIG_AT_SHELL_CMD_RESPONSE_MAX_LEN.
	DefaultATResponseMax = 2700
)

// Modem answers AT commands (nrf91modem.Modem).
type Modem interface {
	Handle(ctx context.Context, cmd atparser.Command) atparser.Response
}

// atShell is `at <command>`: nrf_modem_at_cmd's whole answer (info lines
// and the final result, CRLF-terminated) printed with one more newline.
type atShell struct {
	modem  Modem
	mu     sync.Mutex
	events bool // at_monitor resumed by `at events_enable`
}

func (a *atShell) command() *Command {
	return &Command{Name: "at", Help: "Execute an AT command", Run: a.run}
}

func (a *atShell) run(ctx context.Context, o *Output, args []string) int {
	if len(args) < 2 {
		o.Print("%s\n", atUsage)
		return 0
	}
	switch args[1] {
	case "events_enable":
		a.setEvents(true)
		o.Print("%s\n", atEventsEnabled)
		return 0
	case "events_disable":
		a.setEvents(false)
		o.Print("%s\n", atEventsDisabled)
		return 0
	}
	// Only argv[1] goes to the modem: the shell has split the line and
	// removed quotes, as on the real board.
	var resp atparser.Response
	if cmd, err := atparser.Parse([]byte(args[1])); err != nil {
		resp = atparser.Error()
	} else {
		resp = a.modem.Handle(ctx, cmd)
	}
	text := string(athost.Bare.AppendResponse(nil, resp))
	if len(text) > DefaultATResponseMax {
		// nrf_modem_at_cmd fails with -E2BIG when the answer does not fit.
		o.Print("Sending AT command failed with error code %d\n", -E2BIG)
		return -E2BIG
	}
	o.Print("%s\n", text)
	if resp.Final != atparser.FinalOK {
		return -EINVAL
	}
	return 0
}

func (a *atShell) setEvents(on bool) {
	a.mu.Lock()
	a.events = on
	a.mu.Unlock()
}

// eventLine is what the AT monitor prints for a notification, if enabled.
func (a *atShell) eventLine(urc string) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.events {
		return "", false
	}
	return atEventPrefix + urc + "\r\n", true
}
