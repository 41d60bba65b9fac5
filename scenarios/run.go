package scenarios

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/pki"
)

// Options tune a run.
type Options struct {
	// Dir holds the run's state (boards, hub) and should be new or empty
	// (a board reopens what it finds); "" is a temporary directory removed
	// when the run ends.
	Dir string
	// PKI shares the stand-in roots between runs; nil makes the run its own
	// (three RSA-4096 keys: seconds).
	PKI *PKIPool
	// BeforeStep is called before each step (the demo's --step waits for
	// Enter there); an error stops the run.
	BeforeStep func(ctx context.Context, index int, s Step) error
	// AfterStep is told each step's result as soon as it is known.
	AfterStep func(StepResult)
	// Wait bounds how long a step waits for its outcome (default 30 s: the
	// machine may be loaded).
	Wait   time.Duration
	Logger *slog.Logger // the boards' and the hub's; nil discards
}

// PKIPool is a stand-in PKI directory several runs load, each at its own
// simulation date. Loading is serialised: it may reissue server leaves.
type PKIPool struct {
	mu  sync.Mutex
	dir string
	// own are the pools of cases whose hub has a PKI of its own at its
	// date (Hub.OwnPKI), one per date: cases of one date share it.
	own map[string]*PKIPool
}

// NewPKIPool uses dir (created with the first load).
func NewPKIPool(dir string) *PKIPool { return &PKIPool{dir: dir} }

// ownAt is the pool for an own PKI created at date.
func (p *PKIPool) ownAt(date string) *PKIPool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.own == nil {
		p.own = map[string]*PKIPool{}
	}
	if p.own[date] == nil {
		p.own[date] = NewPKIPool(filepath.Join(p.dir, "own-"+date))
	}
	return p.own[date]
}

// Dir is the pool's directory.
func (p *PKIPool) Dir() string { return p.dir }

func (p *PKIPool) load(clock func() time.Time, log *slog.Logger) (*pki.PKI, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return pki.LoadOrCreate(p.dir, pki.WithClock(clock), pki.WithLogger(log))
}

// Run replays c and reports what happened. The error says which step did
// not end in its outcome; the Result holds everything up to there.
func Run(ctx context.Context, c Case, opts Options) (res Result, err error) {
	r, err := newRun(c, opts)
	res.Case = c
	if err != nil {
		return res, err
	}
	defer func() {
		res = r.result()
		if err != nil {
			res.Err = err.Error()
		}
		if cerr := r.close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	if err := r.setUp(ctx); err != nil {
		return res, fmt.Errorf("%s: world: %w", c.ID, err)
	}
	for i, s := range c.Steps {
		if opts.BeforeStep != nil {
			if err := opts.BeforeStep(ctx, i, s); err != nil {
				return res, err
			}
		}
		sr := r.step(ctx, i, s)
		r.steps = append(r.steps, sr)
		if opts.AfterStep != nil {
			opts.AfterStep(sr)
		}
		if sr.Err != "" {
			return res, fmt.Errorf("%s step %d (%s): %s", c.ID, i+1, s.Say, sr.Err)
		}
	}
	return res, nil
}

// run is one replay in progress.
type run struct {
	c       Case
	opts    Options
	log     *slog.Logger
	dir     string
	tempDir bool
	start   time.Time // simulated time at the start
	began   time.Time // wall time at the start

	pki    *pki.PKI
	emu    *hub.Emulator
	stop   context.CancelFunc
	dpsMu  sync.Mutex
	dpsRsn []dps.Reason
	tel    []hub.Message

	cas    map[string]*pki.Authority // own CAs by name
	certs  map[string]*pki.Authority // device certificates by CN
	issuer map[string]string         // device CN → CA name
	boards []*boardRun
	steps  []StepResult
	chains chainSet
}

// boardRun is one open board and what the host read from it.
type boardRun struct {
	spec    BoardSpec
	name    string
	b       *board.Board
	cancel  context.CancelFunc
	done    chan error
	port    *hosttool.Serial
	logSeen int      // port log events already parsed
	partial []byte   // bytes after the last LF
	lines   []string // every line read, cleaned
	seen    int      // lines already matched by a step
	vars    map[string]string
}

func newRun(c Case, opts Options) (*run, error) {
	r := &run{c: c, opts: opts, log: opts.Logger, dir: opts.Dir, began: time.Now(),
		cas: map[string]*pki.Authority{}, certs: map[string]*pki.Authority{}, issuer: map[string]string{}}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if r.opts.Wait == 0 {
		r.opts.Wait = 30 * time.Second
	}
	r.start = r.began
	if c.World.Date != "" {
		day, err := time.Parse(time.DateOnly, c.World.Date)
		if err != nil {
			return nil, fmt.Errorf("%s: date: %w", c.ID, err)
		}
		r.start = day.Add(12 * time.Hour)
	}
	if r.dir == "" {
		d, err := os.MkdirTemp("", "modemsim-demo-"+strings.ToLower(c.ID)+"-*")
		if err != nil {
			return nil, fmt.Errorf("%s: state dir: %w", c.ID, err)
		}
		r.dir, r.tempDir = d, true
	}
	return r, nil
}

// now is the simulation clock: it starts at the case's date and runs.
func (r *run) now() time.Time { return r.start.Add(time.Since(r.began)) }

func (r *run) close() error {
	var errs []error
	for _, b := range slices.Backward(r.boards) {
		if b.port != nil {
			b.port.Close()
		}
		b.cancel()
		<-b.done
		errs = append(errs, b.b.Close())
	}
	if r.emu != nil {
		r.stop()
		errs = append(errs, r.emu.Close())
	}
	if r.tempDir {
		errs = append(errs, os.RemoveAll(r.dir))
	}
	return errors.Join(errs...)
}

func (r *run) setUp(ctx context.Context) error {
	w := r.c.World
	for _, name := range w.CAs {
		ca, err := pki.NewCA(nil, name, nil, r.now().Add(-time.Hour), r.now().AddDate(5, 0, 0))
		if err != nil {
			return fmt.Errorf("CA %q: %w", name, err)
		}
		r.cas[name] = ca
		r.chains.add("own CA "+name+" (openssl in the thread)", ca.Cert)
	}
	for _, d := range w.Certs {
		ca, ok := r.cas[d.Issuer]
		if !ok {
			return fmt.Errorf("device certificate %q: no CA %q", d.CN, d.Issuer)
		}
		leaf, err := pki.NewLeaf(nil, d.CN, ca, r.now().Add(-time.Hour), r.now().AddDate(1, 0, 0))
		if err != nil {
			return fmt.Errorf("device certificate %q: %w", d.CN, err)
		}
		r.certs[d.CN], r.issuer[d.CN] = leaf, d.Issuer
		r.chains.add("device certificate "+d.CN+" (device_fullchain.pem)", leaf.Cert, ca.Cert)
	}
	if w.Hub != nil {
		if err := r.startHub(ctx, w.Hub); err != nil {
			return err
		}
	}
	for _, spec := range w.Boards {
		if spec.Count <= 1 {
			if err := r.openBoard(spec, spec.Name); err != nil {
				return err
			}
			continue
		}
		for i := range spec.Count {
			if err := r.openBoard(spec, fmt.Sprintf("%s-%02d", spec.Name, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *run) startHub(ctx context.Context, h *Hub) error {
	var p *pki.PKI
	var err error
	switch {
	case r.opts.PKI == nil:
		p, err = pki.LoadOrCreate(filepath.Join(r.dir, "pki"), pki.WithClock(r.now), pki.WithLogger(r.log))
	case h.OwnPKI:
		p, err = r.opts.PKI.ownAt(r.c.World.Date).load(r.now, r.log)
	default:
		p, err = r.opts.PKI.load(r.now, r.log)
	}
	if err != nil {
		return fmt.Errorf("stand-in PKI: %w", err)
	}
	r.pki = p
	r.emu, err = hub.New(filepath.Join(r.dir, "hub"), hub.WithPKI(p), hub.WithHostName(h.HostName), hub.WithClock(r.now),
		hub.WithLogger(r.log), hub.WithTelemetryHandler(func(m hub.Message) { r.dpsMu.Lock(); r.tel = append(r.tel, m); r.dpsMu.Unlock() }),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"),
		hub.WithDPSOptions(dps.WithAssigningPolls(0), dps.WithRetryAfter(time.Second),
			dps.WithReasonSink(func(rs dps.Reason) { r.dpsMu.Lock(); r.dpsRsn = append(r.dpsRsn, rs); r.dpsMu.Unlock() })))
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	hctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.stop = cancel
	if err := r.emu.Start(hctx); err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	for _, d := range h.Devices {
		if err := r.addDevice(d); err != nil {
			return err
		}
	}
	for _, name := range h.CAs {
		ca, ok := r.cas[name]
		if !ok {
			return fmt.Errorf("hub CA: no CA %q", name)
		}
		if _, err := r.emu.AddCA(name, ca.CertPEM(), true); err != nil {
			return fmt.Errorf("hub CA %q: %w", name, err)
		}
	}
	for _, c := range h.DPSCAs {
		if err := r.uploadDPSCA(c.Name, c.Verified); err != nil {
			return err
		}
	}
	for _, g := range h.Groups {
		if err := r.addGroup(g); err != nil {
			return err
		}
	}
	return nil
}

// authTypes maps the data's auth names to the registry's.
var authTypes = map[string]hub.AuthType{"sas": hub.AuthSAS, "ca": hub.AuthCA, "self-signed": hub.AuthSelfSigned}

func (r *run) addDevice(d Device) error {
	auth, ok := authTypes[d.Auth]
	if !ok {
		return fmt.Errorf("device %q: unknown auth %q", d.ID, d.Auth)
	}
	spec := hub.DeviceSpec{ID: d.ID, Auth: auth, PrimaryKey: d.PrimaryKey}
	if auth == hub.AuthSelfSigned {
		// A thumbprint no certificate of the case has: the SPWF04 sends none.
		spec.PrimaryThumbprint = strings.Repeat("ab", 32)
	}
	if _, err := r.emu.CreateDevice(spec); err != nil {
		return fmt.Errorf("device %q: %w", d.ID, err)
	}
	return nil
}

// uploadDPSCA is what the DPS thread did in the portal: upload the root
// and, for proof of possession, sign a certificate whose CN is the
// verification code with the root's key.
func (r *run) uploadDPSCA(name string, verify bool) error {
	ca, ok := r.cas[name]
	if !ok {
		return fmt.Errorf("DPS CA: no CA %q", name)
	}
	svc := r.emu.DPS()
	if _, err := svc.UploadCA(name, ca.CertPEM(), false); err != nil {
		return fmt.Errorf("DPS CA %q: %w", name, err)
	}
	if !verify {
		return nil
	}
	code, err := svc.VerificationCode(name)
	if err != nil {
		return fmt.Errorf("DPS CA %q: %w", name, err)
	}
	proof, err := pki.NewVerificationCert(nil, code, ca, r.now())
	if err != nil {
		return fmt.Errorf("DPS CA %q: proof: %w", name, err)
	}
	r.chains.add("proof of possession for "+name+" (CN = verification code)", proof, ca.Cert)
	if _, err := svc.VerifyCA(name, pki.EncodeCertsPEM(proof)); err != nil {
		return fmt.Errorf("DPS CA %q: verify: %w", name, err)
	}
	return nil
}

func (r *run) addGroup(g Group) error {
	_, err := r.emu.DPS().CreateGroupEnrollment(dps.GroupEnrollment{GroupID: g.ID, Attestation: dps.AttestationX509, CAName: g.CA, Enabled: true})
	if err != nil {
		return fmt.Errorf("enrollment group %q: %w", g.ID, err)
	}
	return nil
}

func (r *run) openBoard(spec BoardSpec, name string) error {
	br := &boardRun{spec: spec, name: name, vars: map[string]string{}, done: make(chan error, 1)}
	hw, err := r.expandKnobs(spec.Hardware)
	if err != nil {
		return fmt.Errorf("board %s: %w", name, err)
	}
	fw, err := r.expandKnobs(spec.Firmware)
	if err != nil {
		return fmt.Errorf("board %s: %w", name, err)
	}
	cfg := board.Config{Dir: filepath.Join(r.dir, "boards", name), Kind: spec.Kind, Persona: spec.Persona,
		Hardware: hw, Firmware: fw, Clock: r.now, Logger: r.log}
	for _, c := range spec.Credentials {
		content, err := r.content(c.Content)
		if err != nil {
			return fmt.Errorf("board %s tag %d: %w", name, c.Tag, err)
		}
		r.chains.addPEM(fmt.Sprintf("stored on %s: tag %d type %d (%s)", name, c.Tag, c.Type, c.Content), content)
		cfg.Credentials = append(cfg.Credentials, board.Credential{Tag: c.Tag, Type: c.Type, Content: content})
	}
	if spec.Network {
		if r.emu == nil {
			return fmt.Errorf("board %s: on the hub's network, but the case has no hub", name)
		}
		cfg.Network = &board.Network{Endpoint: netstack.Endpoint{MQTT: r.emu.MQTTAddr(), WebSocket: r.emu.WebSocketAddr()},
			Trust: r.emu.PKI(), Names: []string{r.emu.HostName()},
			// The real hub's renegotiation on 443, played by the device's
			// TLS stack (the emulator cannot renegotiate; WS1).
			Renegotiates: hub.WebSocketRenegotiates}
	}
	br.b, err = board.NewCatalog().Open(cfg)
	if err != nil {
		return fmt.Errorf("board %s: %w", name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	br.cancel = cancel
	go func() { br.done <- br.b.Run(ctx) }()
	r.boards = append(r.boards, br)
	// The host opens the port at once, as the forum users had a terminal
	// open: the boot banner is part of the transcript.
	if br.port, err = hosttool.OpenSerial(br.b.PortPath()); err != nil {
		return fmt.Errorf("board %s: open %s: %w", name, br.b.PortPath(), err)
	}
	return nil
}

func (r *run) expandKnobs(k map[string]any) (firmware.Knobs, error) {
	if k == nil {
		return nil, nil
	}
	out := firmware.Knobs{}
	for key, v := range k {
		if s, ok := v.(string); ok {
			e, err := r.expand(s, nil)
			if err != nil {
				return nil, fmt.Errorf("knob %s: %w", key, err)
			}
			v = e
		}
		out[key] = v
	}
	return out, nil
}

// targets are the boards a step acts on: the first by default, every board
// of a Count group by its name.
func (r *run) targets(name string) ([]*boardRun, error) {
	if len(r.boards) == 0 {
		return nil, nil
	}
	if name == "" {
		return r.boards[:1], nil
	}
	var out []*boardRun
	for _, b := range r.boards {
		if b.name == name || (b.spec.Count > 1 && b.spec.Name == name) {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no board %q", name)
	}
	return out, nil
}

// step runs one step on each of its boards and judges its outcome.
func (r *run) step(ctx context.Context, i int, s Step) StepResult {
	sr := StepResult{Index: i, Step: s, Start: r.now()}
	bs, err := r.targets(s.Board)
	if err != nil {
		sr.Err = err.Error()
		return sr
	}
	logAt := make([]int, len(r.boards))
	for j, b := range r.boards {
		logAt[j] = len(b.port.Log())
	}
	if len(bs) == 0 { // a hub-side step
		bs = []*boardRun{nil}
	}
	for _, b := range bs {
		if err := r.stepOn(ctx, b, s, &sr); err != nil {
			sr.Err = err.Error()
			break
		}
	}
	if sr.Err == "" {
		if err := r.judgeHub(s.Want); err != nil {
			sr.Err = err.Error()
		}
	}
	for j, b := range r.boards {
		sr.Transcript = append(sr.Transcript, chunks(b.name, b.port.Log()[logAt[j]:])...)
	}
	sr.End = r.now()
	for _, rs := range r.reasons() {
		if !rs.Time.Before(sr.Start) {
			sr.Reasons = append(sr.Reasons, rs)
		}
	}
	return sr
}

func (r *run) stepOn(ctx context.Context, b *boardRun, s Step, sr *StepResult) error {
	from := 0
	if b != nil {
		r.feed(b)
		from = len(b.lines)
	}
	if s.Do != nil {
		cmd, err := s.Do.do(ctx, r, b)
		if cmd != "" {
			sr.Commands = append(sr.Commands, cmd)
		}
		if err != nil {
			return err
		}
	}
	if b == nil {
		if len(s.Want.Lines)+len(s.Want.Absent) > 0 {
			return errors.New("the step expects lines but acts on no board")
		}
		return nil
	}
	want := make([]string, len(s.Want.Lines))
	for i, l := range s.Want.Lines {
		var err error
		if want[i], err = r.expand(l, b); err != nil {
			return err
		}
	}
	if err := r.await(ctx, b, want); err != nil {
		return err
	}
	r.quiet(b)
	sr.Output = append(sr.Output, prefixed(b, b.lines[from:])...)
	for _, l := range b.lines[from:] {
		for _, a := range s.Want.Absent {
			if lineMatches(a, l) {
				return fmt.Errorf("%s printed %q", b.name, l)
			}
		}
	}
	return nil
}

func prefixed(b *boardRun, lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = b.name + "| " + l
	}
	return out
}

// feed parses what the port read since the last call into lines.
func (r *run) feed(b *boardRun) {
	log := b.port.Log()
	for _, ev := range log[b.logSeen:] {
		if !ev.Wrote {
			b.take(ev.Data)
		}
	}
	b.logSeen = len(log)
}

// take adds bytes the board printed; each complete line is cleaned and kept.
func (b *boardRun) take(p []byte) {
	b.partial = append(b.partial, p...)
	for {
		i := bytes.IndexByte(b.partial, '\n')
		if i < 0 {
			return
		}
		if l := cleanLine(string(b.partial[:i])); l != "" {
			b.lines = append(b.lines, l)
		}
		b.partial = b.partial[i+1:]
	}
}

// note adds a line the host tool printed (not the board) to what the step
// judges.
func (b *boardRun) note(line string) { b.lines = append(b.lines, line) }

// cleanLine drops CR, ANSI escapes and the azure sample's timestamps: the
// features compare lines "timestamps aside".
func cleanLine(s string) string {
	s = ansiSeq.ReplaceAllString(strings.TrimRight(s, "\r"), "")
	return strings.TrimSpace(azuresample.StripTimestamp(s))
}

// await reads until want has matched in order after the lines already
// matched, or the wait ends.
func (r *run) await(ctx context.Context, b *boardRun, want []string) error {
	if len(want) == 0 {
		return nil
	}
	deadline := time.Now().Add(r.opts.Wait)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("waiting for %q: %w", want, err)
		}
		r.feed(b)
		i, j := b.seen, 0
		for ; i < len(b.lines) && j < len(want); i++ {
			if lineMatches(want[j], b.lines[i]) {
				j++
			}
		}
		if j == len(want) {
			b.seen = i
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s printed\n%s\nwithout %q (in order)", b.name, strings.Join(b.lines[b.seen:], "\n"), want[j])
		}
		b.port.ReadFor(50 * time.Millisecond)
	}
}

// quiet collects what follows at once (an answer's last line, a prompt).
func (r *run) quiet(b *boardRun) {
	b.port.ReadFor(30 * time.Millisecond)
	r.feed(b)
}

// lineMatches compares a line with a pattern where "*" stands for any text.
func lineMatches(want, got string) bool {
	parts := strings.Split(want, "*")
	if len(parts) == 1 {
		return got == want
	}
	if !strings.HasPrefix(got, parts[0]) {
		return false
	}
	got = got[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(got, p)
		if i < 0 {
			return false
		}
		got = got[i+len(p):]
	}
	return strings.HasSuffix(got, parts[len(parts)-1])
}

// judgeHub waits for the reasons the outcome names.
func (r *run) judgeHub(w Outcome) error {
	if w.HubReason == "" && w.DPSReason == "" && w.Telemetry == nil {
		return nil
	}
	if r.emu == nil {
		return errors.New("the step expects a hub reason but the case has no hub")
	}
	deadline := time.Now().Add(min(5*time.Second, r.opts.Wait))
	for {
		hubOK := w.HubReason == "" || slices.ContainsFunc(r.emu.Reasons(), func(rs hub.Reason) bool {
			if string(rs.Check) != w.HubReason || (w.HubReasonDevice != "" && rs.DeviceID != w.HubReasonDevice) {
				return false
			}
			for k, v := range w.HubReasonValues {
				if rs.Values[k] != v {
					return false
				}
			}
			return true
		})
		dpsOK := w.DPSReason == "" || slices.ContainsFunc(r.dpsReasons(), func(rs dps.Reason) bool { return rs.Check == w.DPSReason })
		telOK := w.Telemetry == nil || slices.ContainsFunc(r.telemetry(), func(m hub.Message) bool {
			return m.DeviceID == w.Telemetry.Device && string(m.Payload) == w.Telemetry.Payload
		})
		if hubOK && dpsOK && telOK {
			return nil
		}
		if time.Now().After(deadline) {
			var got []string
			for _, rs := range r.reasons() {
				got = append(got, rs.Service+" "+rs.Check+" "+rs.DeviceID)
			}
			if !telOK {
				return fmt.Errorf("the hub received no %q from %s", w.Telemetry.Payload, w.Telemetry.Device)
			}
			return fmt.Errorf("want hub reason %q / DPS reason %q; recorded: %v", w.HubReason, w.DPSReason, got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *run) dpsReasons() []dps.Reason {
	r.dpsMu.Lock()
	defer r.dpsMu.Unlock()
	return slices.Clone(r.dpsRsn)
}

func (r *run) telemetry() []hub.Message {
	r.dpsMu.Lock()
	defer r.dpsMu.Unlock()
	return slices.Clone(r.tel)
}
