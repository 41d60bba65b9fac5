package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/modemsim/modemsim/board"
)

// defaultState is where modemsim keeps boards, PKI and hub state unless
// --state says otherwise.
const defaultState = ".modemsim"

func runBoard(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("modemsim run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", defaultState, "state directory (identity, credentials, PKI, hub)")
	name := fs.String("board", "nrf91", "board name: its state lives in <state>/<board>")
	link := fs.String("link", "ttyNRF91", "stable symlink to the pty (\"\" for none)")
	devNode := fs.String("device-node", "", "also expose the port as this device node, e.g. /dev/ttyACM99 (root; for nrfcredstore 2.x)")
	transcriptPath := fs.String("transcript", "", "append every byte in each direction, timestamped, to this file")
	configPath := fs.String("config", "", "board config file (JSON): model, imei, device_uuid, firmware, terminator, …")
	model := fs.String("model", "", "nRF91 model for a new board: nrf9151 (default), nrf9161, nrf9160")
	logLevel := fs.String("log-level", "warn", "log level: debug, info, warn, error")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: modemsim run [flags]\n\nServe one nRF91 board on a new pseudo-terminal until SIGINT/SIGTERM.\n\nflags:")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return err
	}

	var cfg board.NRF91Config
	if *configPath != "" {
		data, err := os.ReadFile(*configPath)
		if err != nil {
			return fmt.Errorf("board config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&cfg); err != nil {
			return fmt.Errorf("board config %s: %w", *configPath, err)
		}
	}
	if *model != "" {
		cfg.Model = *model
	}
	cfg.Dir = filepath.Join(*state, *name)
	cfg.Link = *link
	cfg.DeviceNode = *devNode
	cfg.Logger = logger
	if *transcriptPath != "" {
		f, err := os.OpenFile(*transcriptPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("transcript: %w", err)
		}
		defer f.Close()
		cfg.Transcript = f
	}

	b, err := board.OpenNRF91(cfg)
	if err != nil {
		return err
	}
	defer b.Close()
	id := b.Identity()
	fmt.Fprintf(stdout, "nRF91 (%s) IMEI %s  on %s", b.Persona(), id.IMEI, b.PortPath())
	if *link != "" {
		fmt.Fprintf(stdout, "  (link %s)", *link)
	}
	if *devNode != "" {
		fmt.Fprintf(stdout, "  (device %s)", *devNode)
	}
	fmt.Fprintf(stdout, "\nstate %s, model %s, firmware %s, device UUID %s\n", cfg.Dir, id.Model, id.Firmware, id.DeviceUUID)
	return b.Run(ctx)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("log level %q: %w", level, err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}
