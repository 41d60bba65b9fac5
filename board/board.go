package board

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/ptyport"
	"github.com/modemsim/modemsim/transcript"
	"github.com/modemsim/modemsim/uartpace"
)

// Config is one board: where its state lives, what hardware it is, what
// firmware runs on it and how its port is exposed.
type Config struct {
	// Name is the board's name in messages; default: the base of Dir.
	Name string
	// Dir holds the board's state; created if missing.
	Dir string
	// Kind of hardware; "" takes the one Dir holds, else nrf91.
	Kind string
	// Persona to flash; "" keeps the one flashed last, else the kind's default.
	Persona string
	// Hardware and Firmware settings, decoded by the kind and the persona.
	Hardware firmware.Knobs
	Firmware firmware.Knobs
	// Credentials are preloaded into the hardware's store at start.
	Credentials []Credential
	// AllowIdentityChange lets Hardware settings change a persisted identity.
	AllowIdentityChange bool
	Port                PortConfig
	Logger              *slog.Logger
	// Clock is the simulation clock (default time.Now).
	Clock func() time.Time
	// Network is the hub the board's radio reaches; nil: none.
	Network *Network
	// Faults are injected by load runs; the zero value injects none.
	Faults Faults
}

// PortConfig is how the board's serial port is exposed.
type PortConfig struct {
	Link       string // symlink to the pty
	DeviceNode string // e.g. /dev/ttyACM99 (root): see ptyport.WithDeviceNode
	// Watcher follows client opens and closes; boards of a fleet share one.
	Watcher *ptyport.Watcher
	// Transcript gets every byte, timestamped; nil for none.
	Transcript io.Writer
	// TranscriptTail is how many bytes of transcript the board keeps in
	// memory for reports: 0 is transcript.DefaultMemoryLimit, < 0 none.
	TranscriptTail int
}

// Board is a running board.
type Board struct {
	name   string
	dir    string
	kind   *Kind
	cat    *Catalog
	hw     Hardware
	port   *ptyport.Port
	engine *atengine.Engine
	rec    *transcript.Recorder
	log    *slog.Logger
	lock   *atomicfile.DirLock // the state directory is this board's alone

	mu      sync.Mutex // guards the firmware fields
	persona *Persona
	knobs   firmware.Knobs
	fw      firmware.Firmware
}

// markerFile records which kind a state directory holds and which persona
// was flashed last, as the hardware would remember its firmware.
const markerFile = "board.json"

type marker struct {
	Kind    string `json:"kind"`
	Persona string `json:"persona"`
}

// Open loads (or creates) the board's state, flashes the persona and opens
// its serial port. Close releases everything.
func (c *Catalog) Open(cfg Config) (_ *Board, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Name == "" {
		cfg.Name = filepath.Base(cfg.Dir)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("board %s: state dir: %w", cfg.Name, err)
	}
	lock, err := atomicfile.Lock(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
	}
	// With the directory ours, what a crash left half-written (a copy of
	// the identity key among it) can go.
	if removed, err := atomicfile.RemoveTemps(cfg.Dir, 0); err != nil {
		cfg.Logger.Warn("leftovers of interrupted writes not removed", "board", cfg.Name, "err", err)
	} else if len(removed) > 0 {
		cfg.Logger.Info("removed leftovers of interrupted writes", "board", cfg.Name, "files", removed)
	}
	old, err := readMarker(cfg.Dir)
	if err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
	}
	kindName := cmpOr(cfg.Kind, old.Kind, KindNRF91)
	if old.Kind != "" && old.Kind != kindName {
		_ = lock.Release()
		return nil, fmt.Errorf("board %s: %s holds an %s board, not %s: choose another board name", cfg.Name, cfg.Dir, old.Kind, kindName)
	}
	kind, err := c.Kind(kindName)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}
	personaName := cfg.Persona
	if personaName == "" && old.Kind == kindName {
		personaName = old.Persona
	}
	persona, err := c.Persona(kindName, personaName)
	if err != nil {
		_ = lock.Release()
		return nil, err
	}

	b := &Board{name: cfg.Name, dir: cfg.Dir, kind: kind, cat: c, log: cfg.Logger.With("board", cfg.Name), lock: lock}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	b.hw, err = kind.Open(cfg.Dir, cfg.Hardware, HardwareEnv{Logger: b.log, Clock: cfg.Clock, Notify: b.hardwareLine,
		AllowIdentityChange: cfg.AllowIdentityChange, Network: cfg.Network, Note: b.note})
	if err != nil {
		return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
	}
	if err := b.hw.Preload(cfg.Credentials); err != nil {
		return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
	}
	if (marker{kindName, persona.Name}) != old {
		if err := writeMarker(cfg.Dir, marker{kindName, persona.Name}); err != nil {
			return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
		}
	}
	fw, err := persona.Flash(b.hw, cfg.Firmware)
	if err != nil {
		return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
	}
	b.persona, b.knobs, b.fw = persona, cfg.Firmware, fw
	b.wire(fw)

	tail := cfg.Port.TranscriptTail
	if tail == 0 {
		tail = transcript.DefaultMemoryLimit
	}
	b.rec = transcript.New(cfg.Port.Transcript, transcript.WithMemoryLimit(tail), transcript.WithClock(cfg.Clock))
	if b.port, err = openPort(cfg.Port, b.log, b.hangup); err != nil {
		return nil, fmt.Errorf("board %s: serial port: %w", cfg.Name, err)
	}
	if err := writePortRecord(cfg.Dir, b.port.Path(), cfg.Port); err != nil {
		return nil, fmt.Errorf("board %s: %w", cfg.Name, err)
	}
	var rw io.ReadWriter = b.port
	if cfg.Faults.Baud > 0 {
		rw = pacedPort{b.port, uartpace.New(cfg.Faults.Baud), cfg.Faults.OnPaced}
	}
	b.engine = atengine.New(rw, fw.Dialect(), append([]atengine.Option{atengine.WithTranscript(b.rec), atengine.WithLogger(b.log)},
		cfg.Faults.engineOptions()...)...)
	b.rec.Notef("boot: %s, persona %s, port %s", kindName, persona.Name, b.port.Path())
	// The firmware boots before any host could have the port open: its
	// banner reaches the transcript, not a client.
	if err := fw.Boot(b.engine); err != nil {
		return nil, fmt.Errorf("board %s: boot %s: %w", cfg.Name, persona.Name, err)
	}
	return b, nil
}

// ResolvePersona is the persona Open would flash for cfg: the one named,
// else the one flashed last in cfg.Dir, else the kind's default. A command
// uses it to know, before opening, whether the board needs a network.
func (c *Catalog) ResolvePersona(cfg Config) (*Persona, error) {
	old, err := readMarker(cfg.Dir)
	if err != nil {
		return nil, err
	}
	kind := cmpOr(cfg.Kind, old.Kind, KindNRF91)
	name := cfg.Persona
	if name == "" && old.Kind == kind {
		name = old.Persona
	}
	return c.Persona(kind, name)
}

func cmpOr(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

func readMarker(dir string) (marker, error) {
	var m marker
	data, err := os.ReadFile(filepath.Join(dir, markerFile))
	switch {
	case errors.Is(err, os.ErrNotExist):
		// A state directory from before the marker holds an nRF91.
		if _, err := os.Stat(filepath.Join(dir, identityFile)); err == nil {
			m.Kind = KindNRF91
		}
		return m, nil
	case err != nil:
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, markerFile), err)
	}
	return m, nil
}

func writeMarker(dir string, m marker) error {
	data, _ := json.MarshalIndent(m, "", "  ")
	return atomicfile.Write(filepath.Join(dir, markerFile), append(data, '\n'))
}

// wire hands a firmware what it may ask of its board.
func (b *Board) wire(fw firmware.Firmware) {
	if r, ok := fw.(firmware.Rebooter); ok {
		r.SetReboot(b.Reboot)
	}
}

// hardwareLine passes a line the hardware raised (a modem URC) to the
// firmware, if it listens.
func (b *Board) hardwareLine(line string) {
	b.mu.Lock()
	fw := b.fw
	b.mu.Unlock()
	if sink, ok := fw.(firmware.URCSink); ok {
		sink.ModemURC(line)
	}
}

// note records a hardware line in the transcript; the recorder exists
// before any connection can be made.
func (b *Board) note(line string) {
	if b.rec != nil {
		b.rec.Notef("%s", line)
	}
}

func (b *Board) hangup(session uint64) {
	if b.engine != nil {
		b.engine.Hangup(session)
	}
}

// Run serves the port until ctx ends.
func (b *Board) Run(ctx context.Context) error {
	err := b.engine.Run(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// Reboot restarts the firmware: the hardware's volatile state returns to
// power-on, the persona boots again; storage and the port stay.
func (b *Board) Reboot() error {
	b.mu.Lock()
	p, k := b.persona, b.knobs
	b.mu.Unlock()
	return b.flash(p, k)
}

// Flash writes another persona onto the board and boots it; everything the
// hardware keeps stays. knobs are the new firmware's settings.
func (b *Board) Flash(persona string, knobs firmware.Knobs) error {
	p, err := b.cat.Persona(b.kind.Name, persona)
	if err != nil {
		return err
	}
	if err := b.flash(p, knobs); err != nil {
		return err
	}
	return writeMarker(b.dir, marker{b.kind.Name, p.Name})
}

func (b *Board) flash(p *Persona, knobs firmware.Knobs) error {
	b.mu.Lock()
	old := b.fw
	b.fw = nil // lines raised while rebooting reach nobody
	b.mu.Unlock()
	if err := old.Close(); err != nil {
		b.log.Warn("firmware did not stop cleanly", "err", err)
	}
	b.hw.Reset()
	fw, err := p.Flash(b.hw, knobs)
	if err != nil {
		return fmt.Errorf("board %s: flash %s: %w", b.name, p.Name, err)
	}
	b.wire(fw)
	b.engine.SetDialect(fw.Dialect())
	b.mu.Lock()
	b.persona, b.knobs, b.fw = p, knobs, fw
	b.mu.Unlock()
	b.rec.Notef("boot: %s, persona %s", b.kind.Name, p.Name)
	return fw.Boot(b.engine)
}

// Close stops the firmware and releases the port and the hardware.
func (b *Board) Close() error {
	var errs []error
	b.mu.Lock()
	fw := b.fw
	b.fw = nil
	b.mu.Unlock()
	if fw != nil {
		errs = append(errs, fw.Close())
	}
	if b.port != nil {
		errs = append(errs, b.port.Close())
		removePortRecord(b.dir)
	}
	if b.hw != nil {
		errs = append(errs, b.hw.Close())
	}
	errs = append(errs, b.lock.Release())
	return errors.Join(errs...)
}

// Name is the board's name.
func (b *Board) Name() string { return b.name }

// Dir is the board's state directory.
func (b *Board) Dir() string { return b.dir }

// Kind is the board's kind of hardware.
func (b *Board) Kind() string { return b.kind.Name }

// Persona is the firmware the board runs.
func (b *Board) Persona() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.persona.Name
}

// PortPath is the pty a host tool opens.
func (b *Board) PortPath() string { return b.port.Path() }

// Describe is the board's identity and stored credentials.
func (b *Board) Describe() Description { return b.hw.Describe() }

// Hardware is the board's hardware, for tests and fault knobs.
func (b *Board) Hardware() Hardware { return b.hw }

// NRF91 is the board's nRF91 hardware, if it is one.
func (b *Board) NRF91() (*NRF91, bool) {
	n, ok := b.hw.(*NRF91)
	return n, ok
}

// Transcript is the recent traffic, for reports.
func (b *Board) Transcript() string { return b.rec.String() }
