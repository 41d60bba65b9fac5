package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/fleet"
)

// defaultState is where modemsim keeps boards, PKI and hub state unless
// --state says otherwise.
const defaultState = ".modemsim"

func runBoard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cat := board.NewCatalog()
	fs := newFlagSet("modemsim run", "", "Serve one board on a new pseudo-terminal, or every board of a fleet file (-c),\nuntil SIGINT/SIGTERM.\n\nkinds and personas:\n"+catalogHelp(cat), stdout)
	state := fs.String("state", defaultState, "state directory (boards, PKI, hub)")
	name := fs.String("board", "", "board name: its state lives in <state>/<board> (default: the kind's name)")
	kind := fs.String("kind", "", "kind of hardware: "+strings.Join(cat.Kinds(), ", ")+" (default: what the state holds, else nrf91)")
	persona := fs.String("persona", "", "firmware to flash (default: what was flashed last, else the kind's default)")
	link := fs.String("link", "", "stable symlink to the pty (default tty<KIND>, e.g. ttyNRF91; \"\" for none)")
	devNode := fs.String("device-node", "", "also expose the port as this device node, e.g. /dev/ttyACM99 (root; for nrfcredstore 2.x)")
	transcriptPath := fs.String("transcript", "", "append every byte in each direction, timestamped, to this file")
	configPath := fs.String("config", "", "board settings file (JSON): model, imei, device_uuid, firmware, terminator, …")
	model := fs.String("model", "", "nRF91 model for a new board: nrf9151 (default), nrf9161, nrf9160")
	changeID := fs.Bool("change-identity", false, "let --model/--config change the identity a board already has")
	fleetPath := fs.String("c", "", "fleet file (YAML): serve every board it lists")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	hubURL := fs.String("hub", "", "admin URL of a running hub (modemsim hub serve) for boards that connect; default: a hub in this process on 127.0.0.1:8883/8443, admin 127.0.0.1:8480")
	date := fs.String("date", "", "simulation clock start of the in-process hub and its boards, e.g. 2023-01-10 (default: real time)")
	var prjConf stringList
	fs.Var(&prjConf, "prj-conf", "Kconfig fragment for the azure_iot_hub persona: prj.conf first, then overlays (repeat; later ones win)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return usagef(fs, "%v", err)
	}
	if *fleetPath != "" {
		if *name != "" || *kind != "" || *persona != "" || explicitFlag(fs, "link") || *devNode != "" || *configPath != "" || *model != "" || *transcriptPath != "" || len(prjConf) > 0 {
			return usagef(fs, "-c takes the boards from the fleet file: --board, --kind, --persona, --link, --device-node, --config, --model, --transcript and --prj-conf go in the file")
		}
		return runFleet(ctx, cat, *fleetPath, *state, explicitFlag(fs, "state"), *changeID, hubFlags{*hubURL, *date}, logger, stdout)
	}

	if *kind != "" {
		if _, err := cat.Kind(*kind); err != nil {
			return usagef(fs, "%v", err)
		}
	}
	if *persona != "" {
		if _, err := cat.Persona(cmpOr(*kind, board.KindNRF91), *persona); err != nil {
			return usagef(fs, "%v", err)
		}
	}
	cfg := board.Config{Kind: *kind, Persona: *persona, AllowIdentityChange: *changeID, Logger: logger}
	if *configPath != "" {
		if cfg.Hardware, cfg.Firmware, err = readSettings(cat, *configPath, *kind); err != nil {
			return err
		}
	}
	if *model != "" {
		if cfg.Hardware == nil {
			cfg.Hardware = firmware.Knobs{}
		}
		cfg.Hardware["model"] = *model
	}
	if len(prjConf) > 0 {
		if cfg.Firmware == nil {
			cfg.Firmware = firmware.Knobs{}
		}
		paths := make([]any, len(prjConf))
		for i, p := range prjConf {
			abs, err := filepath.Abs(p) // a reboot reads the files again
			if err != nil {
				return err
			}
			paths[i] = abs
		}
		cfg.Firmware["prj_conf"] = paths
	}
	kindName := cmpOr(*kind, board.KindNRF91)
	if *name == "" {
		*name = kindName
	}
	cfg.Dir = filepath.Join(*state, *name)
	cfg.Port.Link = *link
	if !explicitFlag(fs, "link") {
		cfg.Port.Link = "tty" + strings.ToUpper(kindName)
	}
	cfg.Port.DeviceNode = *devNode
	if *transcriptPath != "" {
		f, err := os.OpenFile(*transcriptPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("transcript: %w", err)
		}
		defer f.Close()
		cfg.Port.Transcript = f
	}

	cfgs := []board.Config{cfg}
	h, err := boardNetwork(ctx, cat, cfgs, *state, *hubURL, *date, logger)
	if err != nil {
		return err
	}
	if h != nil {
		defer h.close()
	}
	b, err := cat.Open(cfgs[0])
	if err != nil {
		return err
	}
	defer b.Close()
	printBoard(stdout, b, cfg.Port)
	if h != nil {
		printHub(stdout, h)
	}
	stop := resetOnSIGHUP(ctx, logger, b)
	defer stop()
	return b.Run(ctx)
}

// resetOnSIGHUP reboots the boards on SIGHUP, as the RESET button of a DK
// does: a firmware's boot log goes to a UART nobody reads until a terminal
// opens the port, so a user opens it first, then resets (kill -HUP <pid>).
func resetOnSIGHUP(ctx context.Context, log *slog.Logger, boards ...*board.Board) (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-ch:
				for _, b := range boards {
					if err := b.Reboot(); err != nil {
						log.Warn("reset", "board", b.Name(), "err", err)
					}
				}
			}
		}
	}()
	return func() { signal.Stop(ch); cancel() }
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// hubFlags are run's --hub and --date.
type hubFlags struct{ url, date string }

// explicitFlag reports whether the command line set the flag.
func explicitFlag(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func catalogHelp(cat *board.Catalog) string {
	var b strings.Builder
	for _, k := range cat.Kinds() {
		fmt.Fprintf(&b, "  %-8s %s\n", k, strings.Join(cat.Personas(k), ", "))
	}
	return strings.TrimRight(b.String(), "\n")
}

// printBoard is the start-up line of a single board.
func printBoard(w io.Writer, b *board.Board, port board.PortConfig) {
	d := b.Describe()
	fmt.Fprintf(w, "%s (%s) %s %s  on %s", b.Kind(), b.Persona(), d.Fields[0].Name, d.Fields[0].Value, b.PortPath())
	if port.Link != "" {
		fmt.Fprintf(w, "  (link %s)", port.Link)
	}
	if port.DeviceNode != "" {
		fmt.Fprintf(w, "  (device %s)", port.DeviceNode)
	}
	fmt.Fprintf(w, "\nstate %s", b.Dir())
	for _, f := range d.Fields[1:] {
		fmt.Fprintf(w, ", %s %s", f.Name, f.Value)
	}
	fmt.Fprintln(w)
	for _, c := range d.Changes {
		fmt.Fprintf(w, "identity changed: %s\n", c)
	}
}

// readSettings reads a board settings file. Its keys may be grouped
// ({"hardware": {…}, "firmware": {…}}) or flat, as before hardware and
// firmware were told apart: then each key goes to whichever of the two
// knows it.
func readSettings(cat *board.Catalog, path, kind string) (hw, fw firmware.Knobs, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("board config: %w", err)
	}
	var all map[string]any
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, nil, fmt.Errorf("board config %s: %w", path, err)
	}
	hwPart, hasHW := all["hardware"].(map[string]any)
	fwPart, hasFW := all["firmware"].(map[string]any)
	if hasHW || hasFW {
		for k := range all {
			if k != "hardware" && k != "firmware" {
				return nil, nil, fmt.Errorf("board config %s: unknown key %q next to hardware/firmware", path, k)
			}
		}
		return hwPart, fwPart, nil
	}
	hwKeys, err := cat.HardwareSettings(kind)
	if err != nil {
		return nil, nil, err
	}
	hw, fw = firmware.Knobs{}, firmware.Knobs{}
	for k, v := range all {
		if hwKeys[k] {
			hw[k] = v
		} else {
			fw[k] = v // the persona refuses what it does not know
		}
	}
	return hw, fw, nil
}

// runFleet serves every board of a fleet file.
func runFleet(ctx context.Context, cat *board.Catalog, path, state string, stateFlag, changeID bool, hf hubFlags, logger *slog.Logger, stdout io.Writer) error {
	file, err := fleet.Load(path)
	if err != nil {
		return err
	}
	if file.State != "" && !stateFlag {
		state = file.State
	}
	var cfgs []board.Config
	var closers []io.Closer
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	for _, s := range file.Boards {
		cfg := board.Config{
			Name: s.Name, Dir: filepath.Join(state, s.Name), Kind: s.Kind, Persona: s.Persona,
			Hardware: s.Hardware, Firmware: s.Firmware, AllowIdentityChange: changeID,
			Port: board.PortConfig{Link: s.Link, DeviceNode: s.DeviceNode, TranscriptTail: fleetTail(s)},
		}
		for _, c := range s.Credentials {
			cfg.Credentials = append(cfg.Credentials, board.Credential{Tag: c.Tag, Type: c.Type, Content: c.Content})
		}
		if s.Transcript != "" && s.Transcript != fleet.TranscriptMemory {
			if err := os.MkdirAll(filepath.Dir(s.Transcript), 0o755); err != nil {
				return fmt.Errorf("board %s: transcript: %w", s.Name, err)
			}
			f, err := os.OpenFile(s.Transcript, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			if err != nil {
				return fmt.Errorf("board %s: transcript: %w", s.Name, err)
			}
			closers = append(closers, f)
			cfg.Port.Transcript = f
		}
		cfgs = append(cfgs, cfg)
	}
	h, err := boardNetwork(ctx, cat, cfgs, state, hf.url, hf.date, logger)
	if err != nil {
		return err
	}
	if h != nil {
		defer h.close()
	}
	f, err := cat.OpenFleet(ctx, cfgs, logger)
	if err != nil {
		return err
	}
	defer f.Close()
	printFleet(stdout, f)
	if h != nil {
		printHub(stdout, h)
	}
	stop := resetOnSIGHUP(ctx, logger, f.Boards...)
	defer stop()
	return f.Run(ctx)
}

// fleetTail keeps a fleet's memory small: a board with no transcript keeps
// none in memory, one with a transcript keeps what the file asks, else 4 KiB.
func fleetTail(s fleet.Spec) int {
	switch {
	case s.TranscriptTail != 0:
		return s.TranscriptTail
	case s.Transcript == "":
		return -1
	}
	return 4 << 10
}

func printFleet(w io.Writer, f *board.Fleet) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BOARD\tKIND\tPERSONA\tIDENTITY\tPORT")
	for _, b := range f.Boards {
		d := b.Describe()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\n", b.Name(), b.Kind(), b.Persona(), d.Fields[0].Name, d.Fields[0].Value, b.PortPath())
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "%d boards serving (Ctrl-C to stop)\n", len(f.Boards))
}

func runBoards(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("modemsim boards", "", "List the boards a state directory holds, running or not: identity, stored\ncredentials, and the process serving each one.", stdout)
	state := fs.String("state", defaultState, "state directory")
	slots := fs.Bool("slots", false, "list every stored credential (tag, type, SHA-256 as %CMNG lists it)")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	boards, err := board.NewCatalog().Inspect(*state)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(boards)
	}
	if len(boards) == 0 {
		fmt.Fprintf(stdout, "no boards in %s\n", *state)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "BOARD\tKIND\tPERSONA\tIDENTITY\tSLOTS\tSTATUS")
	for _, b := range boards {
		id := "-"
		if len(b.Fields) > 0 {
			id = b.Fields[0].Name + " " + b.Fields[0].Value
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", b.Name, b.Kind, b.Persona, id, len(b.Slots), status(b.HeldBy))
		if *slots {
			for _, s := range b.Slots {
				fmt.Fprintf(tw, "  %d,%d\t%s\t\t\t\t\n", s.Tag, s.Type, s.Digest)
			}
		}
	}
	return tw.Flush()
}

func status(pid int) string {
	switch {
	case pid > 0:
		return fmt.Sprintf("running (pid %d)", pid)
	case pid < 0:
		return "running"
	}
	return "stopped"
}

func runCleanup(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlagSet("modemsim cleanup", "", "Remove the links and device nodes that boards of a state directory left behind\nwhen their process was killed (kill -9): a dead /dev/ttyACM* node is still listed\nby pyserial and fails with EIO on open. Boards that are running are left alone.", stdout)
	state := fs.String("state", defaultState, "state directory")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cleaned, err := board.NewCatalog().Cleanup(*state)
	n := 0
	for _, c := range cleaned {
		for _, p := range c.Removed {
			fmt.Fprintf(stdout, "removed %s (board %s)\n", p, c.Board)
			n++
		}
	}
	if n == 0 && err == nil {
		fmt.Fprintln(stdout, "nothing to clean up")
	}
	if err != nil {
		return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
