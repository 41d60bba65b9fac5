package board

import (
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/netstack"
)

// Kind is a kind of hardware: what it keeps in its state directory and
// which firmware personas run on it.
type Kind struct {
	Name           string
	Description    string
	DefaultPersona string
	// Open loads (or creates, the first time) the hardware's state in dir.
	Open func(dir string, settings firmware.Knobs, env HardwareEnv) (Hardware, error)
	// Inspect describes the state in dir without opening it, so it works
	// while another process serves the board.
	Inspect func(dir string) (Description, error)
	// Settings is the kind's settings struct (zero value): its json names
	// are the settings the hardware takes.
	Settings any
}

// HardwareEnv is what the board hands the hardware it opens.
type HardwareEnv struct {
	Logger *slog.Logger
	Clock  func() time.Time
	// Notify carries the hardware's unsolicited lines (the nRF91 modem's
	// URCs) to whatever firmware runs at the time.
	Notify func(line string)
	// AllowIdentityChange lets settings change a persisted identity.
	AllowIdentityChange bool
	// Network is the hub the hardware's radio reaches; nil: no network
	// (every connection fails as out of coverage).
	Network *Network
	// Note records a line in the board's transcript (the real-root
	// mapping must be visible there, DESIGN.md "Real roots vs stand-ins").
	Note func(line string)
}

// Network is what a board needs to build its device network stack: the
// emulator's listeners to talk to and the stand-ins that replace real
// public roots. The clock is HardwareEnv.Clock.
type Network struct {
	Endpoint netstack.Endpoint
	// Trust maps real public roots to the emulator's stand-ins: the
	// in-process hub's *pki.PKI, or pki.StandIns read from a running one.
	Trust netstack.TrustMapper
	// Names are host names that resolve to the emulator besides
	// *.azure-devices.net and the DPS name (a hub with its own name).
	Names []string
	// Renegotiates says when the real service renegotiates TLS after a
	// WebSocket request (hub.WebSocketRenegotiates); a board whose TLS
	// stack cannot renegotiate then fails as against the real hub
	// (netstack.WithRenegotiationModel, FAILURE-CASES WS1). Nil: not modelled.
	Renegotiates func(*url.URL) bool
	// StackOptions are added to the board's network stack (the nRF91's):
	// netstack.WithNetFaults for a load run's network faults.
	StackOptions []netstack.Option
}

// Hardware is a board's lasting part: identity and non-volatile storage.
type Hardware interface {
	Describe() Description
	// Reset returns volatile state to power-on (a reboot or a flash).
	Reset()
	// Preload writes credentials into the hardware's store, as a factory
	// would before the board ships; unchanged ones are left alone.
	Preload(creds []Credential) error
	Close() error
}

// Credential is a preloaded credential: slot and content.
type Credential struct {
	Tag     uint32
	Type    int
	Content []byte
}

// Description is what `modemsim boards` and the start-up line print.
type Description struct {
	Kind   string
	Fields []Field // identity, in the order a person reads it
	Slots  []Slot
	// HeldBy is the pid serving the board now, 0 if none.
	HeldBy int
	// Changes lists what the settings changed in a persisted identity.
	Changes []string
}

// Field is one identity value.
type Field struct{ Name, Value string }

// Slot is one stored credential.
type Slot struct {
	Tag    uint32
	Type   int
	Digest string // uppercase SHA-256 hex, as %CMNG lists it
	Size   int
}

// Field returns the value of the named field, "" if absent.
func (d Description) Field(name string) string {
	for _, f := range d.Fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

// Persona is a firmware that runs on one kind of hardware.
type Persona struct {
	Name        string
	Kind        string
	Description string
	// Flash makes the firmware for hw (a Hardware of the persona's kind)
	// from its settings.
	Flash func(hw Hardware, settings firmware.Knobs) (firmware.Firmware, error)
	// Network says the firmware connects on its own or on command, so the
	// board should be given a network (Config.Network).
	Network bool
}

// Catalog lists the kinds of hardware and the personas a process knows.
type Catalog struct {
	kinds    []*Kind
	personas []*Persona
}

// NewCatalog knows every built-in kind and persona.
func NewCatalog() *Catalog {
	c := &Catalog{}
	c.AddKind(nrf91Kind())
	for _, p := range nrf91Personas() {
		c.AddPersona(p)
	}
	c.addNRF7002DK()
	c.AddKind(spwf04Kind())
	for _, p := range spwf04Personas() {
		c.AddPersona(p)
	}
	return c
}

// AddKind registers a kind of hardware (tests add their own).
func (c *Catalog) AddKind(k *Kind) { c.kinds = append(c.kinds, k) }

// AddPersona registers a persona for its kind.
func (c *Catalog) AddPersona(p *Persona) { c.personas = append(c.personas, p) }

// Kinds names the kinds, in registration order.
func (c *Catalog) Kinds() []string {
	var names []string
	for _, k := range c.kinds {
		names = append(names, k.Name)
	}
	return names
}

// Personas names the personas that run on kind.
func (c *Catalog) Personas(kind string) []string {
	var names []string
	for _, p := range c.personas {
		if p.Kind == kind {
			names = append(names, p.Name)
		}
	}
	return names
}

// HardwareSettings names the settings the hardware of kind takes ("" is
// nrf91), so that a flat settings file can be split between hardware and
// firmware.
func (c *Catalog) HardwareSettings(kind string) (map[string]bool, error) {
	if kind == "" {
		kind = KindNRF91
	}
	k, err := c.Kind(kind)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	if k.Settings == nil {
		return names, nil
	}
	t := reflect.TypeOf(k.Settings)
	for i := range t.NumField() {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			names[name] = true
		}
	}
	return names, nil
}

// Kind finds a kind by name; the error lists the valid ones.
func (c *Catalog) Kind(name string) (*Kind, error) {
	for _, k := range c.kinds {
		if k.Name == name {
			return k, nil
		}
	}
	return nil, fmt.Errorf("unknown board kind %q (valid: %s)", name, strings.Join(c.Kinds(), ", "))
}

// Persona finds the persona that runs on kind; "" is the kind's default.
// The error lists the personas the kind can run.
func (c *Catalog) Persona(kind, name string) (*Persona, error) {
	k, err := c.Kind(kind)
	if err != nil {
		return nil, err
	}
	if name == "" {
		name = k.DefaultPersona
	}
	for _, p := range c.personas {
		if p.Kind == kind && p.Name == name {
			return p, nil
		}
	}
	valid := c.Personas(kind)
	slices.Sort(valid)
	return nil, fmt.Errorf("%s cannot run persona %q (valid: %s)", kind, name, strings.Join(valid, ", "))
}
