package features

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/atclient"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/scenarios"
)

// azureWorld is a scenario's board running the azure_iot_hub sample.
type azureWorld struct {
	knobs   firmware.Knobs // the sample's build, for reflashing it
	console []byte         // what the board printed since the last flash
	seen    int            // log lines already matched
}

func (w *world) registerAzureSample(sc *godog.ScenarioContext) {
	a := &azureWorld{}
	w.registerNRF7002DKSample(sc, a)
	sc.Step(`^an nRF9160 DK on the hub's network whose tag (\d+) holds the device certificate with its root, its key and the real "([^"]*)"$`,
		func(tag uint32, root string) error { return w.azureBoard(map[uint32]string{tag: root}) })
	sc.Step(`^an nRF9160 DK on the hub's network whose tags (\d+) and (\d+) hold the device certificate with its root and its key, and the real "([^"]*)" and "([^"]*)"$`,
		func(tag1, tag2 uint32, root1, root2 string) error {
			return w.azureBoard(map[uint32]string{tag1: root1, tag2: root2})
		})
	sc.Step(`^the board is flashed with the azure_iot_hub sample built from:$`, func(doc *godog.DocString) error {
		return w.flashAzureSample(a, doc.Content)
	})
	sc.Step(`^the sample logs:$`, func(doc *godog.DocString) error { return w.sampleLogs(a, doc.Content) })
	sc.Step(`^(\d+) nRF9160 DKs on the hub's network, each with a key made by AT%KEYGEN in tag (\d+), its CSR signed by "([^"]*)" and the certificate written back with the real DigiCert Global Root G2$`,
		w.provisionFleet)
	sc.Step(`^every board is flashed with the azure_iot_hub sample built from:$`, func(doc *godog.DocString) error { return w.flashFleet(doc.Content) })
	sc.Step(`^every board's sample logs:$`, func(doc *godog.DocString) error { return w.everyBoardLogs(doc.Content) })
	sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		for i := len(w.fleetStops) - 1; i >= 0; i-- {
			w.fleetStops[i]()
		}
		w.fleetStops, w.fleet = nil, nil
		return ctx, nil
	})
	sc.Step(`^the user writes the real "([^"]*)" to tag (\d+) as ROOT_CA_CERT with the at_client sample and flashes the azure_iot_hub sample again$`,
		func(root string, tag uint32) error { return w.rewriteRoot(a, root, tag) })
}

// shellPrompt is the Zephyr shell's prompt, ANSI colours stripped.
const shellPrompt = "uart:~$ "

// realRootPEM is a real public root as Debian ships it (the cases' copy).
func realRootPEM(name string) ([]byte, error) { return scenarios.RealRootPEM(name) }

// azureBoard is the thread's board: device_fullchain.pem as CLIENT_CERT,
// the key as CLIENT_KEY and a root as ROOT_CA_CERT, provisioned before the
// sample is flashed; the port is open, so the boot log is seen.
func (w *world) azureBoard(roots map[uint32]string) error {
	e := w.hub.emu
	if e == nil || w.hub.device == nil {
		return fmt.Errorf("the scenario needs a hub and a device certificate first")
	}
	keyPEM, err := w.hub.device.KeyPEM()
	if err != nil {
		return err
	}
	chain := append(append([]byte{}, w.hub.device.CertPEM()...), w.hub.deviceCA.CertPEM()...)
	var creds []board.Credential
	for tag, root := range roots {
		rootPEM, err := realRootPEM(root)
		if err != nil {
			return err
		}
		creds = append(creds, board.Credential{Tag: tag, Type: nrf91modem.TypeRootCA, Content: rootPEM},
			board.Credential{Tag: tag, Type: nrf91modem.TypeClientCert, Content: chain},
			board.Credential{Tag: tag, Type: nrf91modem.TypeClientKey, Content: keyPEM})
	}
	b, err := board.NewCatalog().Open(board.Config{
		Dir: filepath.Join(w.dir, "nrf91"), Persona: atclient.Name, Hardware: firmware.Knobs{"model": "nrf9160"},
		Clock:       w.boardClock(),
		Network:     &board.Network{Endpoint: endpointOf(e), Trust: e.PKI(), Names: []string{e.HostName()}},
		Credentials: creds,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.board, w.cancel, w.done = b, cancel, make(chan error, 1)
	go func() { w.done <- b.Run(ctx) }()
	return w.hostOpens()
}

// flashAzureSample builds the sample from the scenario's prj.conf, where
// {ID_SCOPE} stands for the emulated DPS's ID scope, and flashes it.
func (w *world) flashAzureSample(a *azureWorld, conf string) error {
	conf = strings.ReplaceAll(conf, "{ID_SCOPE}", w.hub.emu.DPS().IDScope())
	path := filepath.Join(w.dir, "prj.conf")
	if err := os.WriteFile(path, []byte(conf+"\n"), 0o644); err != nil {
		return err
	}
	a.knobs = firmware.Knobs{"prj_conf": []any{path}}
	a.console, a.seen = nil, 0
	return w.board.Flash(azuresample.Name, a.knobs)
}

// sampleLogs waits for the doc's lines, in order, among the sample's lines,
// timestamps aside (azuresample.StripTimestamp).
func (w *world) sampleLogs(a *azureWorld, doc string) error {
	var want []string
	for _, l := range strings.Split(doc, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			want = append(want, l)
		}
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		a.console = append(a.console, w.serial.ReadFor(50*time.Millisecond)...)
		var got []string
		for _, l := range bytes.Split(a.console, []byte("\r\n")) {
			// With CONFIG_SHELL the shell prints each log line above its
			// prompt (erase, line, prompt again): compare the line alone.
			line := strings.TrimPrefix(stripANSI(string(l)), shellPrompt)
			got = append(got, azuresample.StripTimestamp(line))
		}
		i, j := a.seen, 0
		for ; i < len(got) && j < len(want); i++ {
			if got[i] == want[j] {
				j++
			}
		}
		if j == len(want) {
			a.seen = i
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the sample logged\n%s\nwithout %q (in order)", strings.Join(got[a.seen:], "\n"), want[j])
		}
	}
}

// rewriteRoot is the forum's fix: at_client back on the board, the root
// written over AT%CMNG, the sample flashed again.
func (w *world) rewriteRoot(a *azureWorld, root string, tag uint32) error {
	if err := w.board.Flash(atclient.Name, nil); err != nil {
		return err
	}
	pem, err := realRootPEM(root)
	if err != nil {
		return err
	}
	time.Sleep(50 * time.Millisecond) // the banner of the reboot
	w.serial.ReadFor(50 * time.Millisecond)
	lines, err := w.serial.Exchange(context.Background(), fmt.Sprintf(`AT%%CMNG=0,%d,0,"%s"`, tag, strings.TrimRight(string(pem), "\n")), 5*time.Second)
	if err != nil {
		return err
	}
	if len(lines) != 1 || lines[0] != "OK" {
		return fmt.Errorf("AT%%CMNG write answered %q", lines)
	}
	a.console, a.seen = nil, 0
	return w.board.Flash(azuresample.Name, a.knobs)
}

// keygenInfoLine is at_client's %KEYGEN line: the CSR and its COSE_Sign1.
var keygenInfoLine = regexp.MustCompile(`^%KEYGEN: "([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)"$`)

// keygenBoard is one board of the D4 fleet and its console.
type keygenBoard struct {
	b       *board.Board
	s       *hosttool.Serial
	id      string // the CSR's subject: the device UUID
	console azureWorld
}

// provisionFleet is the thread's mass production: each board makes its key
// with AT%KEYGEN (it never leaves the modem), the CSR is signed by the
// group's CA and the certificate, with the CA, written back beside the key,
// with the real DigiCert Global Root G2 as ROOT_CA_CERT; every byte over the
// board's pty as a factory script would send it (at_client).
func (w *world) provisionFleet(n int, tag uint32, caName string) error {
	ca, ok := w.hub.authorities[caName]
	if !ok {
		return fmt.Errorf("no CA %q", caName)
	}
	root, err := realRootPEM("DigiCert Global Root G2")
	if err != nil {
		return err
	}
	e := w.hub.emu
	for i := range n {
		b, err := board.NewCatalog().Open(board.Config{
			Dir: filepath.Join(w.dir, fmt.Sprintf("d4-%02d", i)), Persona: atclient.Name, Hardware: firmware.Knobs{"model": "nrf9160"},
			Clock:   w.boardClock(),
			Network: &board.Network{Endpoint: endpointOf(e), Trust: e.PKI(), Names: []string{e.HostName()}},
		})
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- b.Run(ctx) }()
		w.fleetStops = append(w.fleetStops, func() { cancel(); <-done; b.Close() })
		s, err := hosttool.OpenSerial(b.PortPath())
		if err != nil {
			return err
		}
		w.fleetStops = append(w.fleetStops, func() { s.Close() })
		lines, err := s.Exchange(ctx, fmt.Sprintf("AT%%KEYGEN=%d,2,0", tag), 5*time.Second)
		if err != nil || len(lines) != 2 || lines[1] != "OK" {
			return fmt.Errorf("board %d: AT%%KEYGEN answered %q (%v)", i, lines, err)
		}
		m := keygenInfoLine.FindStringSubmatch(lines[0])
		if m == nil {
			return fmt.Errorf("board %d: %q is no %%KEYGEN line", i, lines[0])
		}
		der, err := base64.RawURLEncoding.DecodeString(m[1])
		if err != nil {
			return err
		}
		csr, err := modemkey.ParseCSR(der)
		if err != nil {
			return err
		}
		now := w.boardClock()()
		cert, err := pki.SignCSR(csr, ca, now.Add(-time.Hour), now.Add(24*time.Hour))
		if err != nil {
			return err
		}
		for _, wr := range []struct {
			typ int
			pem []byte
		}{{nrf91modem.TypeClientCert, append(pki.EncodeCertsPEM(cert), ca.CertPEM()...)}, {nrf91modem.TypeRootCA, root}} {
			cmd := fmt.Sprintf(`AT%%CMNG=0,%d,%d,"%s"`, tag, wr.typ, strings.TrimRight(string(wr.pem), "\n"))
			if lines, err := s.Exchange(ctx, cmd, 5*time.Second); err != nil || len(lines) != 1 || lines[0] != "OK" {
				return fmt.Errorf("board %d: AT%%CMNG=0,%d,%d answered %q (%v)", i, tag, wr.typ, lines, err)
			}
		}
		w.fleet = append(w.fleet, &keygenBoard{b: b, s: s, id: csr.Subject.CommonName})
	}
	return nil
}

// flashFleet flashes the sample on every board, {DEVICE_ID} standing for
// the board's own device UUID.
func (w *world) flashFleet(conf string) error {
	for i, k := range w.fleet {
		c := strings.ReplaceAll(strings.ReplaceAll(conf, "{ID_SCOPE}", w.hub.emu.DPS().IDScope()), "{DEVICE_ID}", k.id)
		path := filepath.Join(w.dir, fmt.Sprintf("prj-%02d.conf", i))
		if err := os.WriteFile(path, []byte(c+"\n"), 0o644); err != nil {
			return err
		}
		if err := k.b.Flash(azuresample.Name, firmware.Knobs{"prj_conf": []any{path}}); err != nil {
			return err
		}
	}
	return nil
}

// everyBoardLogs checks each board's console, {DEVICE_ID} standing for its
// device UUID.
func (w *world) everyBoardLogs(doc string) error {
	for i, k := range w.fleet {
		serial := w.serial
		w.serial = k.s
		err := w.sampleLogs(&k.console, strings.ReplaceAll(doc, "{DEVICE_ID}", k.id))
		w.serial = serial
		if err != nil {
			return fmt.Errorf("board %d (%s): %w", i, k.id, err)
		}
	}
	return nil
}
