package features

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/mqttcerts"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/persona/zshell"
	"github.com/modemsim/modemsim/scenarios"
)

// The nRF7002 DK scenarios: the board on the hub's network with the
// Zephyr shell, the application directory where prj.conf, mqtt-certs.h
// and the PEM files it includes live, and the sample flashed from them.
func (w *world) registerNRF7002DKSample(sc *godog.ScenarioContext, a *azureWorld) {
	var settings map[string]any
	sc.Step(`^an nRF7002 DK on the hub's network running the Zephyr shell(?: with a (\d+)-byte credential buffer)?$`, func(size string) error {
		knobs := firmware.Knobs{}
		if size != "" {
			var n int
			if _, err := fmt.Sscan(size, &n); err != nil {
				return err
			}
			knobs["cred_buf_size"] = n
		}
		return w.nrf7002dkOnNetwork(knobs)
	})
	sc.Step(`^the application's mqtt-certs.h is the forum's$`, func() error {
		b, err := scenarios.File("mqtt-certs.h")
		if err != nil {
			return err
		}
		return w.appFile("mqtt-certs.h", b)
	})
	sc.Step(`^the application's mqtt-certs.h is:$`, func(doc *godog.DocString) error {
		return w.appFile("mqtt-certs.h", []byte(doc.Content+"\n"))
	})
	sc.Step(`^the application's boards/nrf7002dk_nrf5340_cpuapp.conf is:$`, func(doc *godog.DocString) error {
		return w.appFile(boardConfFile, []byte(doc.Content+"\n"))
	})
	sc.Step(`^the application's (ca-cert|client-cert|private-key)\.pem is (.+), as C string literals$`, func(file, what string) error {
		b, err := w.pemOf(what)
		if err != nil {
			return err
		}
		return w.appFile(file+".pem", mqttcerts.CStringLines(b))
	})
	sc.Step(`^the application's ca-cert\.pem is the file "([^"]*)"$`, func(name string) error {
		b, err := scenarios.File(name)
		if err != nil {
			return err
		}
		return w.appFile("ca-cert.pem", b)
	})
	sc.Step(`^the user provisions (the device certificate|the device key|the real "[^"]*") to sec tag (\d+) as (CA|SERV|PK) with nrfcredstore's TLS shell interface$`,
		func(what string, tag uint64, typ string) error {
			b, err := w.pemOf(what)
			if err != nil {
				return err
			}
			return (&hosttool.TLSCredShell{S: w.serial}).Write(tag, zshellTypes[typ], strings.TrimRight(string(b), "\n"))
		})
	sc.Step(`^the sample's settings are:$`, func(doc *godog.DocString) error {
		settings = map[string]any{}
		return json.Unmarshal([]byte(doc.Content), &settings)
	})
	sc.Step(`^the board is flashed with the azure_iot_hub sample for the nRF7002 DK built from:$`, func(doc *godog.DocString) error {
		path := filepath.Join(w.dir, "app", "prj.conf")
		if err := w.appFile("prj.conf", []byte(doc.Content+"\n")); err != nil {
			return err
		}
		a.knobs = firmware.Knobs{"prj_conf": []any{path}}
		if bc := filepath.Join(w.dir, "app", boardConfFile); fileExists(bc) {
			a.knobs["board_conf"] = bc
		}
		for k, v := range settings {
			a.knobs[k] = v
		}
		a.console, a.seen = nil, 0
		return w.board.Flash(azuresample.Name, a.knobs)
	})
	reflash := func() error {
		a.console, a.seen = nil, 0
		return w.board.Flash(azuresample.Name, a.knobs)
	}
	editConf := func(edit func(string) string) error {
		path := filepath.Join(w.dir, "app", "prj.conf")
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(path, []byte(edit(string(b))), 0o644)
	}
	sc.Step(`^the user flashes the sample again$`, reflash)
	sc.Step(`^the user flashes the sample with the new settings$`, func() error {
		knobs := firmware.Knobs{"prj_conf": a.knobs["prj_conf"]}
		if bc, ok := a.knobs["board_conf"]; ok {
			knobs["board_conf"] = bc
		}
		for k, v := range settings {
			knobs[k] = v
		}
		a.knobs = knobs
		return reflash()
	})
	sc.Step(`^the user adds "([^"]*)" and flashes the sample again$`, func(line string) error {
		if err := editConf(func(s string) string { return s + line + "\n" }); err != nil {
			return err
		}
		return reflash()
	})
	sc.Step(`^the user changes (CONFIG_\w+) to (\S+) and flashes the sample again$`, func(name, value string) error {
		if err := editConf(func(s string) string {
			var out []string
			for _, l := range strings.Split(s, "\n") {
				if strings.HasPrefix(l, name+"=") {
					l = name + "=" + value
				}
				out = append(out, l)
			}
			return strings.Join(out, "\n")
		}); err != nil {
			return err
		}
		return reflash()
	})
	sc.Step(`^the board is flashed with the Zephyr shell again$`, func() error {
		a.console, a.seen = nil, 0
		if err := w.board.Flash(zshell.ZephyrShellName, firmware.Knobs{"cred_buf_size": 4096}); err != nil {
			return err
		}
		return w.shellReady()
	})
}

// boardConfFile is the application's own board fragment (the forum user's
// nrf7002dk_nrf5340_cpuapp.conf), which replaces the sample's.
const boardConfFile = "nrf7002dk_nrf5340_cpuapp.conf"

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// nrf7002dkOnNetwork opens the nRF7002 DK with the Zephyr shell on the
// scenario's hub network; the real hub's renegotiation on 443 is modelled
// on the device side (hub.WebSocketRenegotiates).
func (w *world) nrf7002dkOnNetwork(knobs firmware.Knobs) error {
	e := w.hub.emu
	if e == nil {
		return fmt.Errorf("the scenario needs a hub first")
	}
	b, err := board.NewCatalog().Open(board.Config{
		Dir: filepath.Join(w.dir, "nrf7002dk"), Kind: board.KindNRF7002DK, Firmware: knobs,
		Clock: w.boardClock(), Logger: debugLogger(),
		Network: &board.Network{Endpoint: endpointOf(e), Trust: e.PKI(), Names: []string{e.HostName()},
			Renegotiates: hub.WebSocketRenegotiates},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.board, w.cancel, w.done = b, cancel, make(chan error, 1)
	go func() { w.done <- b.Run(ctx) }()
	if err := w.hostOpens(); err != nil {
		return err
	}
	return w.shellReady()
}

// shellReady waits for the shell's prompt after a boot.
func (w *world) shellReady() error {
	z := &zshellWorld{}
	return z.types(w, "")
}

// appFile writes a file of the application directory.
func (w *world) appFile(name string, b []byte) error {
	dir := filepath.Join(w.dir, "app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), b, 0o644)
}

// pemOf is the PEM a step names: the device's certificate or key, a CA's
// certificate or key, or a real public root.
func (w *world) pemOf(what string) ([]byte, error) {
	h := &w.hub
	switch {
	case what == "the device certificate":
		if h.device == nil {
			return nil, fmt.Errorf("no device certificate yet")
		}
		return h.device.CertPEM(), nil
	case what == "the device key":
		if h.device == nil {
			return nil, fmt.Errorf("no device certificate yet")
		}
		return h.device.KeyPEM()
	case strings.HasPrefix(what, "the real "):
		return realRootPEM(strings.Trim(strings.TrimPrefix(what, "the real "), `"`))
	case strings.HasPrefix(what, "the certificate of "):
		ca, ok := h.authorities[strings.Trim(strings.TrimPrefix(what, "the certificate of "), `"`)]
		if !ok {
			return nil, fmt.Errorf("no CA in %q", what)
		}
		return ca.CertPEM(), nil
	case strings.HasPrefix(what, "the key of "):
		ca, ok := h.authorities[strings.Trim(strings.TrimPrefix(what, "the key of "), `"`)]
		if !ok {
			return nil, fmt.Errorf("no CA in %q", what)
		}
		return ca.KeyPEM()
	}
	return nil, fmt.Errorf("unknown PEM %q", what)
}

// debugLogger shows the boards' own log (why a connect failed, what the
// simulation did not model) when MODEMSIM_FEATURE_LOG is set.
func debugLogger() *slog.Logger {
	if os.Getenv("MODEMSIM_FEATURE_LOG") == "" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
