// Package atclient is the firmware persona of Nordic's at_client sample: the
// AT Host library forwards every line to the modem and writes the modem's
// answer back unchanged — no echo, no blank lines, info lines then the final
// result, each ending CRLF (nrf91.md §1.1 [S]).
package atclient

import (
	"fmt"
	"sync"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/persona/athost"
)

// Name is how configs and the command line call this persona.
const Name = "at_client"

// Banner is what the sample prints at boot on the shared console/AT UART
// (samples/cellular/at_client/src/main.c [S]; that it reaches the AT port
// is inferred [I]). Nobody has the port open at boot, so a host rarely sees it.
var Banner = []string{"The AT host sample started", "Ready"}

// Config is the sample's build configuration that changes what the port does.
type Config struct {
	// Terminator is CONFIG_AT_HOST_TERMINATION: "any" (modemsim's default,
	// since host tools disagree), "cr" (the sample's Kconfig default), "lf",
	// "crlf" or "nul".
	Terminator string `json:"terminator,omitempty"`
	// QuoteIdleReset discards a command stuck in an open quote after this
	// long without input; "0s" keeps the real firmware's hang.
	QuoteIdleReset *firmware.Duration `json:"quote_idle_reset,omitempty"`
}

// Terminators maps config names to CONFIG_AT_HOST_TERMINATION choices.
var terminators = map[string]atparser.Terminator{
	"": atparser.TermAny, "any": atparser.TermAny, "cr": atparser.TermCR, "lf": atparser.TermLF,
	"crlf": atparser.TermCRLF, "nul": atparser.TermNUL,
}

// Firmware is at_client running over a modem.
type Firmware struct {
	dialect atengine.Dialect

	mu  sync.Mutex
	con firmware.Console // nil until Boot
}

// New flashes at_client over modem.
func New(modem athost.CommandHandler, cfg Config) (*Firmware, error) {
	term, ok := terminators[cfg.Terminator]
	if !ok {
		return nil, fmt.Errorf("at_client: terminator %q: want any, cr, lf, crlf or nul", cfg.Terminator)
	}
	idle := athost.DefaultQuoteIdleReset
	if cfg.QuoteIdleReset != nil {
		idle = cfg.QuoteIdleReset.Duration
	}
	disc := athost.NewDiscipline(athost.Bare, idle,
		atparser.WithTerminator(term), atparser.WithMaxLen(atparser.DefaultMaxLen))
	return &Firmware{dialect: atengine.Dialect{
		Discipline: disc,
		Handler:    athost.Handler{Commands: modem, Framing: athost.Bare},
	}}, nil
}

// Dialect implements firmware.Firmware.
func (f *Firmware) Dialect() atengine.Dialect { return f.dialect }

// Boot implements firmware.Firmware: the sample prints its banner.
func (f *Firmware) Boot(con firmware.Console) error {
	f.mu.Lock()
	f.con = con
	f.mu.Unlock()
	return con.Write(BannerBytes())
}

// ModemURC implements firmware.URCSink: at_host forwards every URC.
func (f *Firmware) ModemURC(line string) {
	f.mu.Lock()
	con := f.con
	f.mu.Unlock()
	if con != nil {
		con.Notify(line)
	}
}

// Close implements firmware.Firmware.
func (f *Firmware) Close() error {
	f.mu.Lock()
	f.con = nil
	f.mu.Unlock()
	return nil
}

// BannerBytes is the boot banner in at_client framing.
func BannerBytes() []byte {
	var b []byte
	for _, l := range Banner {
		b = athost.Bare.AppendURC(b, l)
	}
	return b
}
