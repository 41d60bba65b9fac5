// Package firmware is the contract between a simulated board and the
// firmware personas flashed on it: what a persona gives the board (its
// dialect, its boot, its shutdown) and what the board gives a persona (a
// console). Personas get the hardware pieces they need (a modem, a store, a
// network) from their own constructors, so no persona imports the board.
package firmware

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/modemsim/modemsim/atengine"
)

// Console is the firmware's serial console: raw bytes (a boot banner) and
// unsolicited lines (URCs, log lines) that the dialect places between answers.
type Console interface {
	Write(p []byte) error
	Notify(line string)
}

// Firmware is one persona running on a board.
type Firmware interface {
	// Dialect is what the port speaks while this firmware runs.
	Dialect() atengine.Dialect
	// Boot runs once the port is up: a banner, background work (a sample
	// that connects on its own). It must not block.
	Boot(con Console) error
	// Close stops the firmware's background work (reboot, flash, power off).
	Close() error
}

// URCSink is a firmware that receives the nRF91 modem's unsolicited result
// codes; at_client forwards them to the host, a sample reacts to them.
type URCSink interface {
	ModemURC(line string)
}

// Knobs are settings as a config file gives them (YAML or JSON decoded into
// maps), before a kind or persona decodes them into its own struct.
type Knobs map[string]any

// Decode fills dst (a pointer to a struct with json tags) from k, refusing
// names dst does not have, so a typo in a fleet file is an error.
func (k Knobs) Decode(dst any) error {
	if len(k) == 0 {
		return nil
	}
	data, err := json.Marshal(map[string]any(k))
	if err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("settings: %w", err)
	}
	return nil
}

// Duration is a time.Duration written as "1s" in config files.
type Duration struct{ time.Duration }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"1s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// Rebooter is a firmware that can reboot its own board (Zephyr's
// `kernel reboot cold`); the board hands it the reboot after flashing. The
// call comes from the firmware's command handler, and the board's reboot
// replaces the running firmware, so the firmware must not hold its own
// locks while calling it.
type Rebooter interface {
	SetReboot(reboot func() error)
}
