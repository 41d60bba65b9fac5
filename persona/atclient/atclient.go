// Package atclient is the firmware persona of Nordic's at_client sample: the
// AT Host library forwards every line to the modem and writes the modem's
// answer back unchanged — no echo, no blank lines, info lines then the final
// result, each ending CRLF (nrf91.md §1.1 [S]).
package atclient

import (
	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
)

// Name is how configs and the command line call this persona.
const Name = "at_client"

// Banner is what the sample prints at boot on the shared console/AT UART
// (samples/cellular/at_client/src/main.c [S]; that it reaches the AT port
// is inferred [I]). Nobody has the port open at boot, so a host rarely sees it.
var Banner = []string{"The AT host sample started", "Ready"}

// Persona returns the line handler and engine options of at_client over a
// modem. term selects the AT Host termination (CONFIG_AT_HOST_TERMINATION;
// the sample's default is CR, modemsim's default accepts CR, LF and CRLF).
func Persona(modem atengine.CommandHandler, term atparser.Terminator) (atengine.LineHandler, []atengine.Option) {
	h := atengine.ATDialect{Handler: modem, Framing: atparser.FramingBare}
	return h, []atengine.Option{
		atengine.WithFraming(atparser.FramingBare),
		atengine.WithFramerOptions(atparser.WithTerminator(term), atparser.WithMaxLen(atparser.DefaultMaxLen)),
	}
}

// BannerBytes is the boot banner in at_client framing.
func BannerBytes() []byte {
	var b []byte
	for _, l := range Banner {
		b = append(b, l...)
		b = append(b, '\r', '\n')
	}
	return b
}
