package athost

import (
	"context"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
)

// CommandHandler answers one parsed AT command (the modem, or a firmware's
// own commands in front of it).
type CommandHandler interface {
	Handle(ctx context.Context, cmd atparser.Command) atparser.Response
}

// DefaultQuoteIdleReset is long enough for a person pasting a PEM and short
// against the 3 s read timeout of nrfcredstore 1.x (nrf91.md §5.1).
const DefaultQuoteIdleReset = time.Second

// Discipline is at_host's line discipline for the engine: its quote-aware
// framer, no echo, and unsolicited lines in the host's framing.
type Discipline struct {
	framer  *atparser.Framer
	framing Framing
	idle    time.Duration
}

// NewDiscipline makes the discipline. quoteIdle discards a partial command
// that has sat inside an open quote that long with no further byte. The real
// at_host waits forever (the quote swallows every terminator, nrf91.md
// §1.1); the host times out on that command anyway, and the reset lets the
// next one through. Zero keeps the faithful hang.
func NewDiscipline(f Framing, quoteIdle time.Duration, opts ...atparser.FramerOption) *Discipline {
	return &Discipline{framer: atparser.NewFramer(opts...), framing: f, idle: quoteIdle}
}

// Scan implements atengine.Discipline.
func (d *Discipline) Scan(p []byte) (int, []byte, atparser.Frame, bool) {
	n, fr, ok := d.framer.Scan(p)
	return n, nil, fr, ok
}

// Reset implements atengine.Discipline.
func (d *Discipline) Reset() bool {
	had := d.framer.Pending()
	d.framer.Reset()
	return had
}

// IdleReset implements atengine.Discipline: only a command stuck in an open
// quote is ever reset.
func (d *Discipline) IdleReset() time.Duration {
	if d.framer.InQuotes() {
		return d.idle
	}
	return 0
}

// AppendURC implements atengine.Discipline.
func (d *Discipline) AppendURC(dst []byte, line string) []byte { return d.framing.AppendURC(dst, line) }

// Handler adapts a CommandHandler to the engine: lines that do not parse as
// AT commands answer ERROR at once (the shell-form probe `at AT+CGSN`
// included, nrf91.md §5.2), everything else goes to the command handler.
type Handler struct {
	Commands CommandHandler
	Framing  Framing
}

// Handle implements atengine.Handler.
func (h Handler) Handle(ctx context.Context, fr atparser.Frame) atengine.Reply {
	cmd, err := atparser.Parse(fr.Line)
	if err != nil {
		return atengine.Answer(h.Framing.AppendResponse(nil, atparser.Error()))
	}
	return atengine.Answer(h.Framing.AppendResponse(nil, h.Commands.Handle(ctx, cmd)))
}
