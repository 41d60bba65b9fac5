package fleet

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/modemsim/modemsim/nrf91modem"
)

// Faults is the faults: section of a fleet file: what `modemsim load`
// injects into the run. Every fault is off at its zero value.
type Faults struct {
	// Seed makes the injection reproducible; HasSeed says whether the file
	// gave one (the command line's --seed wins over it).
	Seed    int64
	HasSeed bool
	// Latency is added to every device connection, in each direction, to
	// each chunk of bytes (netstack.WithNetFaults).
	Latency time.Duration
	// DropRate is the fraction of device connections the network cuts
	// (after a seeded number of bytes, often inside the TLS handshake).
	DropRate float64
	// Baud paces each board's serial output as a UART at this rate does
	// (8N1: ten bit times a byte); 0 leaves it unpaced.
	Baud int
	// CMEErrorRate is the fraction of host AT commands the modem answers
	// "+CME ERROR: <CMEError>" without running them.
	CMEErrorRate float64
	CMEError     int
	// RegistrationLossRate is the fraction of boards whose modem loses LTE
	// registration once, as the hub connection comes up; it finds the
	// network again after RegainAfter (nrf91modem Network.RegainAfter).
	RegistrationLossRate float64
	RegainAfter          time.Duration
	// Line is where the section's mapping starts.
	Line int
}

// Defaults of the faults: section.
const (
	// DefaultCMEError is a transient refusal a factory script retries: the
	// modem's power-off warning (nrf91.md §2 [S]).
	DefaultCMEError = nrf91modem.CMEPowerOffWarning
	// DefaultRegainAfter is how long a lost registration stays lost [I].
	DefaultRegainAfter = 500 * time.Millisecond
	// maxFaultLatency and maxRegainAfter bound what a typo can ask for.
	maxFaultLatency = 10 * time.Second
	maxRegainAfter  = time.Minute
)

// UARTBaudRates are the rates the nRF91's UARTE can run at (its BAUDRATE
// register's values) [S nRF9160 Product Specification, UARTE BAUDRATE].
var UARTBaudRates = []int{1200, 2400, 4800, 9600, 14400, 19200, 28800, 31250, 38400,
	56000, 57600, 76800, 115200, 230400, 250000, 460800, 921600, 1000000}

var faultKeys = []string{"seed", "latency", "drop_rate", "baud", "cme_error_rate", "cme_error", "registration_loss_rate", "regain_after"}

// Any reports whether any fault is on.
func (f *Faults) Any() bool {
	return f != nil && (f.Latency > 0 || f.DropRate > 0 || f.Baud > 0 || f.CMEErrorRate > 0 || f.RegistrationLossRate > 0)
}

// faults reads the faults: section. Every key is checked; errors name the
// key's line.
func (p *parser) faults(n *yaml.Node) *Faults {
	fields := p.mapping(n, "faults", faultKeys)
	if fields == nil {
		return nil
	}
	before := len(p.errs)
	f := &Faults{Line: n.Line, CMEError: DefaultCMEError, RegainAfter: DefaultRegainAfter}
	for _, key := range faultKeys {
		v := fields[key]
		if v == nil {
			continue
		}
		field := join("faults", key)
		switch key {
		case "seed":
			if s, ok := p.integer(v, field); ok {
				f.Seed, f.HasSeed = s, true
			}
		case "latency":
			f.Latency = p.duration(v, field, maxFaultLatency)
		case "regain_after":
			if d := p.duration(v, field, maxRegainAfter); d > 0 {
				f.RegainAfter = d
			} else if len(p.errs) == before {
				p.errorf(v.Line, field, "must be more than 0s: a registration that never comes back fails every board it hits")
			}
		case "drop_rate":
			f.DropRate = p.rate(v, field)
		case "cme_error_rate":
			f.CMEErrorRate = p.rate(v, field)
		case "registration_loss_rate":
			f.RegistrationLossRate = p.rate(v, field)
		case "baud":
			if b, ok := p.integer(v, field); ok {
				if b != 0 && !slices.Contains(UARTBaudRates, int(b)) {
					p.errorf(v.Line, field, "%d is not a rate the nRF91 UART runs at (0 for unpaced, or one of %s)", b, baudList())
				} else {
					f.Baud = int(b)
				}
			}
		case "cme_error":
			if c, ok := p.integer(v, field); ok {
				// 3GPP 27.007 §9.2 codes 0–255, Nordic's from 512 [S nrf91.md §2].
				if c < 0 || c > 65535 {
					p.errorf(v.Line, field, "%d is not a +CME ERROR code (0–65535)", c)
				} else {
					f.CMEError = int(c)
				}
			}
		}
	}
	if len(p.errs) > before {
		return nil
	}
	return f
}

// duration reads a Go duration ("20ms", "1.5s") from 0 to max.
func (p *parser) duration(n *yaml.Node, field string, max time.Duration) time.Duration {
	s, ok := p.str(n, field)
	if !ok {
		return 0
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		p.errorf(n.Line, field, "%q is not a duration (write it like 20ms or 1.5s)", s)
	case d < 0 || d > max:
		p.errorf(n.Line, field, "%s is out of range (0s to %s)", d, max)
	default:
		return d
	}
	return 0
}

// rate reads a fraction from 0 to 1.
func (p *parser) rate(n *yaml.Node, field string) float64 {
	if n.Kind == yaml.ScalarNode && (n.ShortTag() == "!!float" || n.ShortTag() == "!!int") {
		var r float64
		if err := n.Decode(&r); err == nil && !math.IsNaN(r) && r >= 0 && r <= 1 {
			return r
		}
	}
	p.errorf(n.Line, field, "must be a fraction from 0 to 1, e.g. 0.05 for 5%%, not %q", n.Value)
	return 0
}

func baudList() string {
	s := make([]string, len(UARTBaudRates))
	for i, b := range UARTBaudRates {
		s[i] = strconv.Itoa(b)
	}
	return strings.Join(s, ", ")
}
