package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/fleet"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/atclient"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/pki"
)

const loadHelp = `Drive a fleet of nRF91 boards through mass production and first connection,
over their ptys as a factory script would, and print what it took.

Each board runs at_client; the host sends AT+CMEE=1, AT+CFUN=4,
AT%KEYGEN=<tag>,2,0, has the CSR signed by the run's group CA (CN = the
registration ID, the board's device UUID), writes the certificate and the CA
back with AT%CMNG=0,<tag>,1 and the real DigiCert Global Root G2 with
AT%CMNG=0,<tag>,0, then flashes the azure_iot_hub sample configured for DPS
and follows its log on the pty until DPS assigned it, it connected to the
hub and its first telemetry event was sent. The hub + DPS run in this
process on loopback ports the kernel picks (or --hub); the group CA is
uploaded, verified by proof of possession and bound to an enrollment group.

Faults come from the fleet file's faults: section (see the fleet package):
latency, dropped connections, UART pacing, +CME ERROR answers, registration
loss, all drawn from --seed. The host retries as a factory script does: an
AT command that answers ERROR or +CME ERROR, or nothing, is sent again
(--retries times); a sample that fails (DPS, connection, a lost
connection) or stalls is reset and followed again (--retries runs).

The summary: boards completed and failed, latency percentiles per stage,
failures and retries by reason, and each fault with how often it fired. The
exit status is 1 when a board failed.`

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("modemsim load", "", loadHelp, stdout)
	n := fs.Int("n", 10, "boards to make (nRF9160 DKs, fresh state); not with -c")
	fleetPath := fs.String("c", "", "fleet file (YAML): the boards (kind nrf91, persona at_client or left out) and the faults: section")
	hubURL := fs.String("hub", "", "admin URL of a running hub (modemsim hub serve); default: a hub in this process on loopback ports of its own")
	state := fs.String("state", "", "state directory of the boards and the in-process hub (default: a temporary directory, removed afterwards)")
	pkiDir := fs.String("pki", filepath.Join(defaultState, "hub", "pki"), "stand-in PKI of the in-process hub, made once and reused (its RSA keys take seconds to make)")
	seed := fs.Int64("seed", 1, "seed of the fault injection; given, it overrides the fleet file's seed:")
	parallel := fs.Int("parallel", 256, "boards driven at once (each at most one connection the hub has not seen CONNECT on: below the hub's 512 pending)")
	retries := fs.Int("retries", 3, "attempts per AT command, and runs of the sample per board")
	stageTimeout := fs.Duration("stage-timeout", time.Minute, "how long the host waits for the next milestone of a run before it resets the board")
	secTag := fs.Uint("sec-tag", 56, "security tag for the key, the certificate and the root")
	rootPath := fs.String("root", defaultRootFile, "the real DigiCert Global Root G2 (PEM) written as the root CA")
	progressFlag := fs.String("progress", "auto", "progress on stderr: auto (a bar on a terminal, a line every 2 s otherwise), bar, lines, off")
	logLevel := fs.String("log-level", "error", "log level: debug, info, warn, error")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to this file (go tool pprof)")
	asJSON := fs.Bool("json", false, "print the summary as JSON")
	retryAfter := fs.Duration("dps-retry-after", dps.DefaultRetryAfter, "retry-after the in-process DPS asks for (whole seconds, at least 1s; real DPS: 3s)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	logger, err := newLogger(stderr, *logLevel)
	if err != nil {
		return usagef(fs, "%v", err)
	}
	mode, err := parseProgress(*progressFlag, stderr)
	if err != nil {
		return usagef(fs, "%v", err)
	}
	switch {
	case *fleetPath != "" && explicitFlag(fs, "n"):
		return usagef(fs, "-n and -c both give the boards: use one")
	case *n < 1:
		return usagef(fs, "-n must be at least 1")
	case *parallel < 1:
		return usagef(fs, "--parallel must be at least 1")
	case *retries < 1:
		return usagef(fs, "--retries must be at least 1")
	case *retryAfter < time.Second:
		return usagef(fs, "--dps-retry-after must be at least 1s")
	case *hubURL != "" && (explicitFlag(fs, "dps-retry-after") || explicitFlag(fs, "pki")):
		return usagef(fs, "--dps-retry-after and --pki set the in-process hub; a running hub has its own")
	case *secTag > 2147483647:
		return usagef(fs, "--sec-tag %d is out of range (0–2147483647)", *secTag)
	}
	root, err := loadRoot(*rootPath)
	if err != nil {
		return err
	}
	var file *fleet.File
	if *fleetPath != "" {
		if file, err = fleet.Load(*fleetPath); err != nil {
			return err
		}
		if err := checkLoadBoards(file); err != nil {
			return err
		}
	}
	dir := *state
	if dir == "" {
		if dir, err = os.MkdirTemp("", "modemsim-load-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	var faults *fleet.Faults
	if file != nil {
		faults = file.Faults
		if faults != nil && faults.HasSeed && !explicitFlag(fs, "seed") {
			*seed = faults.Seed
		}
	}
	r := &loadRun{
		stdout: stdout, logger: logger, root: root, tag: uint32(*secTag), retries: *retries,
		stageTimeout: *stageTimeout, plan: newFaultPlan(faults, *seed), asJSON: *asJSON, retryAfter: *retryAfter, pkiDir: *pkiDir,
	}
	return r.run(ctx, dir, *hubURL, file, *n, *parallel, mode, stderr, *seed)
}

// checkLoadBoards refuses, before anything starts, boards a load run
// cannot drive.
func checkLoadBoards(file *fleet.File) error {
	for _, s := range file.Boards {
		if s.Kind != "" && s.Kind != board.KindNRF91 {
			return fmt.Errorf("board %s: kind %s: a load run provisions nRF91 boards (%%KEYGEN)", s.Name, s.Kind)
		}
		if s.Persona != "" && s.Persona != atclient.Name {
			return fmt.Errorf("board %s: persona %s: a load run provisions over %s, then flashes %s", s.Name, s.Persona, atclient.Name, azuresample.Name)
		}
	}
	return nil
}

// loadRun is one fleet run.
type loadRun struct {
	stdout       io.Writer
	logger       *slog.Logger
	root         []byte
	tag          uint32
	retries      int
	stageTimeout time.Duration
	plan         *faultPlan
	hub          *boardHub
	admin        *hubadmin.Client
	group        *loadGroup
	scope        string
	asJSON       bool
	retryAfter   time.Duration
	pkiDir       string
	seen         *telemetrySeen // nil with --hub
	// boards are the open boards, for faults that act on the hardware.
	boards []atomic.Pointer[board.Board]
}

func (r *loadRun) run(ctx context.Context, dir, hubURL string, file *fleet.File, n, parallel int, mode progressMode, stderr io.Writer, seed int64) error {
	start := time.Now()
	adminURL := hubURL
	where := "running hub " + hubURL
	if hubURL == "" {
		r.seen = &telemetrySeen{}
		u, stop, err := loadHubStart(ctx, filepath.Join(dir, "hub"), r.pkiDir, r.retryAfter, r.seen.record, r.logger)
		if err != nil {
			return err
		}
		defer stop()
		adminURL, where = u, "hub in this process"
	}
	h, err := runningHub(ctx, adminURL)
	if err != nil {
		return err
	}
	r.hub, r.admin = h, hubadmin.NewClient(adminURL, nil)
	info, err := r.admin.Info(ctx)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	r.scope = info.IDScope
	if r.group, err = loadGroupCreate(ctx, r.admin, h.clock()); err != nil {
		return err
	}
	cfgs, err := r.configs(file, n, dir)
	if err != nil {
		return err
	}
	header := r.stdout
	if r.asJSON {
		header = stderr
	}
	fmt.Fprintf(header, "modemsim load: %d boards, %s (%s, ID scope %s), enrollment group %s, seed %d\n",
		len(cfgs), where, info.HostName, r.scope, r.group.id, seed)

	openStart := time.Now()
	f, err := board.NewCatalog().OpenFleet(ctx, cfgs, r.logger)
	if err != nil {
		return err
	}
	defer f.Close()
	opened := time.Since(openStart)
	for i, b := range f.Boards {
		r.boards[i].Store(b)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- f.Run(runCtx) }()

	driveStart := time.Now()
	prog := startProgress(stderr, mode, "boards", len(cfgs), progressEvery(mode))
	results := make([]boardResult, len(f.Boards))
	g := errgroup.Group{}
	g.SetLimit(parallel)
	for i, b := range f.Boards {
		g.Go(func() error {
			results[i] = r.drive(runCtx, i, b)
			prog.add(1)
			return nil
		})
	}
	_ = g.Wait()
	prog.finish()
	drove := time.Since(driveStart)

	s := summarize(results)
	s.open, s.drive, s.wall = opened, drove, time.Since(start)
	s.faults = r.plan.lines(len(cfgs))
	if regs, err := r.admin.Registrations(ctx); err == nil {
		s.registrations = len(regs)
	}
	if r.seen != nil {
		s.telemetry = r.hubReceived(ctx, results)
	}
	cancel()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		r.logger.Warn("fleet", "err", err)
	}
	if r.asJSON {
		if err := s.writeJSON(r.stdout); err != nil {
			return err
		}
	} else {
		s.print(r.stdout)
	}
	if s.failed > 0 {
		return fmt.Errorf("%d of %d boards failed", s.failed, s.boards)
	}
	if s.telemetry >= 0 && s.telemetry < s.done {
		return fmt.Errorf("the hub never received the first event of %d of the %d boards that sent one", s.done-s.telemetry, s.done)
	}
	return ctx.Err()
}

func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// hubReceived is how many completed boards the hub has an event from,
// waiting a moment for events still in flight (QoS 0: the sample logs
// "sent" when the packet is written).
func (r *loadRun) hubReceived(ctx context.Context, results []boardResult) int {
	var ids []string
	for _, res := range results {
		if res.done {
			ids = append(ids, res.regID)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n := r.seen.count(ids)
		if n == len(ids) || time.Now().After(deadline) || ctx.Err() != nil {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func progressEvery(m progressMode) time.Duration {
	if m == progressBar {
		return barEvery
	}
	return lineEvery
}

// configs are the boards of the run: n fresh nRF9160 DKs, or the fleet
// file's boards, each with its faults.
func (r *loadRun) configs(file *fleet.File, n int, dir string) ([]board.Config, error) {
	var cfgs []board.Config
	if file == nil {
		for i := range n {
			name := fmt.Sprintf("load-%04d", i+1)
			cfgs = append(cfgs, board.Config{Name: name, Dir: filepath.Join(dir, name), Kind: board.KindNRF91,
				Hardware: firmware.Knobs{"model": "nrf9160"}})
		}
	} else {
		state := dir
		if file.State != "" {
			state = file.State
		}
		for _, s := range file.Boards {
			cfg := board.Config{Name: s.Name, Dir: filepath.Join(state, s.Name), Kind: board.KindNRF91,
				Hardware: s.Hardware, Firmware: s.Firmware, Port: board.PortConfig{Link: s.Link, DeviceNode: s.DeviceNode}}
			for _, c := range s.Credentials {
				cfg.Credentials = append(cfg.Credentials, board.Credential{Tag: c.Tag, Type: c.Type, Content: c.Content})
			}
			cfgs = append(cfgs, cfg)
		}
	}
	r.boards = make([]atomic.Pointer[board.Board], len(cfgs))
	for i := range cfgs {
		c := &cfgs[i]
		c.Persona = atclient.Name
		c.Network, c.Clock = r.hub.network, r.hub.clock
		c.Port.TranscriptTail = -1 // a fleet keeps no transcript in memory
		r.plan.apply(i, c, func() *nrf91modem.Modem {
			if b := r.boards[i].Load(); b != nil {
				if n, ok := b.NRF91(); ok {
					return n.Modem()
				}
			}
			return nil
		})
	}
	return cfgs, nil
}

// hostCommandTimeout is how long the host waits for an answer: %KEYGEN
// makes a key, %CMNG writes flash [I; nrfcredstore waits 3 s, nrf91.md §5.1].
const hostCommandTimeout = 10 * time.Second

// keygenLine is at_client's %KEYGEN answer: the CSR and its COSE_Sign1,
// base64url each (nrf91.md §3).
var keygenLine = regexp.MustCompile(`^%KEYGEN: "([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)"$`)

// boardDriver is the host script of one board.
type boardDriver struct {
	r   *loadRun
	i   int
	b   *board.Board
	s   *hosttool.Serial
	res *boardResult
}

// drive runs the factory script on board i and follows the sample.
func (r *loadRun) drive(ctx context.Context, i int, b *board.Board) boardResult {
	res := boardResult{name: b.Name()}
	t0 := time.Now()
	s, err := hosttool.OpenSerial(b.PortPath())
	if err != nil {
		res.reason = "open port: " + err.Error()
		return res
	}
	defer s.Close()
	d := &boardDriver{r: r, i: i, b: b, s: s, res: &res}
	regID, err := d.provision(ctx)
	if err != nil {
		res.reason = "provision: " + err.Error()
		return res
	}
	res.stages[stageProvision] = time.Since(t0)
	res.regID = regID
	if err := d.follow(ctx, regID); err != nil {
		res.reason = err.Error()
		return res
	}
	res.stages[stageTotal] = time.Since(t0)
	res.done = true
	return res
}

// exchange sends one AT command and retries it as a factory script does:
// ERROR, +CME ERROR and silence are tried again, a moment later.
func (d *boardDriver) exchange(ctx context.Context, cmd string) ([]string, error) {
	short := cmd
	if i := strings.IndexByte(short, '"'); i > 0 {
		short = short[:i] + `"…"`
	}
	var lastErr error
	for attempt := 1; attempt <= d.r.retries; attempt++ {
		if attempt > 1 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt-1) * 50 * time.Millisecond):
			}
		}
		lines, err := d.s.Exchange(ctx, cmd, hostCommandTimeout)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			lastErr = fmt.Errorf("%s: no answer (%v)", short, errors.Unwrap(err))
			_ = d.s.ResetInput()
		case lines[len(lines)-1] != "OK":
			lastErr = fmt.Errorf("%s: %s", short, lines[len(lines)-1])
		default:
			return lines, nil
		}
		if attempt < d.r.retries {
			d.res.retried = append(d.res.retried, lastErr.Error())
		}
	}
	return nil, lastErr
}

// provision makes the key, has the CSR signed and writes the certificate
// and the root; it returns the registration ID (the CSR's CN).
func (d *boardDriver) provision(ctx context.Context) (string, error) {
	for _, cmd := range []string{"AT+CMEE=1", "AT+CFUN=4"} {
		if _, err := d.exchange(ctx, cmd); err != nil {
			return "", err
		}
	}
	lines, err := d.exchange(ctx, fmt.Sprintf("AT%%KEYGEN=%d,%d,0", d.r.tag, nrf91modem.TypeClientKey))
	if err != nil {
		return "", err
	}
	m := keygenLine.FindStringSubmatch(lines[0])
	if len(lines) != 2 || m == nil {
		return "", fmt.Errorf("AT%%KEYGEN answered %q", lines)
	}
	der, err := base64.RawURLEncoding.DecodeString(m[1])
	if err != nil {
		return "", fmt.Errorf("%%KEYGEN CSR: %w", err)
	}
	csr, err := modemkey.ParseCSR(der)
	if err != nil {
		return "", fmt.Errorf("%%KEYGEN CSR: %w", err)
	}
	regID := csr.Subject.CommonName
	if want := d.deviceUUID(); regID != want {
		return "", fmt.Errorf("the CSR's CN %q is not the board's device UUID %q", regID, want)
	}
	now := d.r.hub.clock()
	cert, err := pki.SignCSR(csr, d.r.group.ca, now.Add(-time.Hour), now.Add(365*24*time.Hour))
	if err != nil {
		return "", fmt.Errorf("sign CSR: %w", err)
	}
	chain := strings.TrimRight(string(append(pki.EncodeCertsPEM(cert), d.r.group.ca.CertPEM()...)), "\n")
	for _, w := range []struct {
		typ int
		pem string
	}{{nrf91modem.TypeClientCert, chain}, {nrf91modem.TypeRootCA, string(d.r.root)}} {
		if _, err := d.exchange(ctx, fmt.Sprintf(`AT%%CMNG=0,%d,%d,"%s"`, d.r.tag, w.typ, w.pem)); err != nil {
			return "", err
		}
	}
	return regID, nil
}

// deviceUUID is the board's device UUID as the modem reports it.
func (d *boardDriver) deviceUUID() string {
	if n, ok := d.b.NRF91(); ok {
		return n.Identity().DeviceUUID
	}
	return ""
}

// prjConf is the sample's configuration for DPS with the run's ID scope and
// the board's registration ID (as azure_sample.feature D4 builds it).
func (d *boardDriver) prjConf(regID string) string {
	return fmt.Sprintf(`CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DPS=y
CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="%s"
CONFIG_AZURE_IOT_HUB_DPS_REG_ID="%s"
CONFIG_MQTT_HELPER_SEC_TAG=%d
CONFIG_SETTINGS=y
`, d.r.scope, regID, d.r.tag)
}

// follow flashes the sample and follows its log to the first telemetry
// event, resetting the board when a run fails or stalls.
func (d *boardDriver) follow(ctx context.Context, regID string) error {
	path := filepath.Join(d.b.Dir(), "prj.conf")
	if err := os.WriteFile(path, []byte(d.prjConf(regID)), 0o644); err != nil {
		return fmt.Errorf("prj.conf: %w", err)
	}
	var lastErr error
	for attempt := 1; attempt <= d.r.retries; attempt++ {
		d.res.attempts = attempt
		t := time.Now()
		var err error
		if attempt == 1 {
			err = d.b.Flash(azuresample.Name, firmware.Knobs{"prj_conf": []any{path}})
		} else {
			err = d.b.Reboot() // the RESET button
		}
		if err != nil {
			return fmt.Errorf("flash %s: %w", azuresample.Name, err)
		}
		stages, err := d.milestones(ctx, t)
		if err == nil {
			copy(d.res.stages[stageDPS:stageTotal], stages[:])
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		lastErr = err
		if attempt < d.r.retries {
			d.res.retried = append(d.res.retried, "reset: "+err.Error())
		}
	}
	return lastErr
}

// milestones reads the sample's console until its first event was sent:
// the time of DPS, hub connect and first telemetry. A failure line or a
// stall ends the run with the stage it ended in.
func (d *boardDriver) milestones(ctx context.Context, start time.Time) ([3]time.Duration, error) {
	var st [3]time.Duration
	stage, last := 0, start // 0 DPS, 1 hub, 2 telemetry
	names := [3]string{"dps", "hub connect", "first telemetry"}
	want := [3]azuresample.Milestone{azuresample.DPSDone, azuresample.HubConnected, azuresample.EventSent}
	deadline := time.Now().Add(d.r.stageTimeout)
	for {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return st, fmt.Errorf("%s: no progress in %s", names[stage], d.r.stageTimeout)
		}
		line, err := d.s.ReadLine(wait)
		if err != nil && !errors.Is(err, hosttool.ErrTimeout) {
			return st, fmt.Errorf("%s: %w", names[stage], err)
		}
		m, text := azuresample.MilestoneOf(string(line))
		switch {
		case m == azuresample.RunFailed:
			return st, fmt.Errorf("%s: %s", names[stage], text)
		case m == want[stage]:
			now := time.Now()
			st[stage], last = now.Sub(last), now
			if stage == 2 {
				return st, nil
			}
			stage++
			deadline = now.Add(d.r.stageTimeout)
		}
	}
}
