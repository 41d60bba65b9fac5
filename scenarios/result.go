package scenarios

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
)

// Result is what a run recorded. Times are the simulation clock's.
type Result struct {
	Case       Case
	Start, End time.Time
	Steps      []StepResult
	Reasons    []Reason // the hub's and DPS's, oldest first
	Timeline   []Event  // connection attempts and steps, oldest first
	Chains     []Chain  // every certificate chain the case involved
	Err        string   // why the run stopped early; "" when every step held
}

// Passed reports whether every step ended in its outcome.
func (r Result) Passed() bool { return r.Err == "" && len(r.Steps) == len(r.Case.Steps) }

// StepResult is one step as it ran.
type StepResult struct {
	Index      int
	Step       Step
	Start, End time.Time
	Commands   []string // what the host sent or did, in words
	Output     []string // the lines printed during the step, "board| line"
	Transcript []Chunk  // the bytes on each port
	Reasons    []Reason // what the hub and DPS recorded during the step
	Err        string   // "" when the outcome held
}

// Chunk is bytes one way on one board's port.
type Chunk struct {
	Board    string
	FromHost bool
	Data     string
}

// Reason is one refusal the emulator explained.
type Reason struct {
	Time     time.Time
	Service  string // "hub" or "dps"
	DeviceID string
	Check    string
	Detail   string
	Values   map[string]string
}

// Event is one entry of the timeline: a connection attempt the hub saw, a
// DPS refusal, or the start of a step.
type Event struct {
	Time    time.Time
	Kind    string // "step", "attempt", "dps"
	Text    string
	Outcome string // accepted, refused, closed ("" for a step)
}

// Chain is a certificate chain with where it came from.
type Chain struct {
	Title string
	Certs []CertInfo
}

// CertInfo is what a person checks on a certificate.
type CertInfo struct {
	Subject, Issuer     string
	NotBefore, NotAfter time.Time
	SHA256              string // fingerprint of the DER, upper-case hex
	CA                  bool
}

func certInfo(c *x509.Certificate) CertInfo {
	return CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotBefore: c.NotBefore, NotAfter: c.NotAfter,
		SHA256: pki.ThumbprintSHA256(c), CA: c.IsCA}
}

// chainSet collects chains once each, by title.
type chainSet struct{ chains []Chain }

func (s *chainSet) add(title string, certs ...*x509.Certificate) {
	if len(certs) == 0 || slices.ContainsFunc(s.chains, func(c Chain) bool { return c.Title == title }) {
		return
	}
	ch := Chain{Title: title}
	for _, c := range certs {
		ch.Certs = append(ch.Certs, certInfo(c))
	}
	s.chains = append(s.chains, ch)
}

// addPEM adds the certificates of PEM or DER bytes, if there are any (a
// key, a file with made-up labels, and text are not certificates).
func (s *chainSet) addPEM(title string, b []byte) {
	var certs []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if c, err := x509.ParseCertificate(blk.Bytes); err == nil && blk.Type == "CERTIFICATE" {
			certs = append(certs, c)
		}
	}
	if len(certs) == 0 {
		if c, err := x509.ParseCertificate(b); err == nil {
			certs = append(certs, c)
		}
	}
	s.add(title, certs...)
}

// chunks merges a port's log into runs of one direction.
func chunks(board string, log []hosttool.Event) []Chunk {
	var out []Chunk
	for _, ev := range log {
		if len(ev.Data) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].FromHost == ev.Wrote {
			out[n-1].Data += string(ev.Data)
			continue
		}
		out = append(out, Chunk{Board: board, FromHost: ev.Wrote, Data: string(ev.Data)})
	}
	return out
}

func (r *run) reasons() []Reason {
	var out []Reason
	if r.emu != nil {
		for _, rs := range r.emu.Reasons() {
			out = append(out, Reason{Time: rs.Time, Service: "hub", DeviceID: rs.DeviceID, Check: string(rs.Check), Detail: rs.Detail, Values: rs.Values})
		}
	}
	for _, rs := range r.dpsReasons() {
		out = append(out, Reason{Time: rs.Time, Service: "dps", DeviceID: rs.RegistrationID, Check: rs.Check, Detail: rs.Detail, Values: rs.Values})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out
}

func (r *run) result() Result {
	res := Result{Case: r.c, Start: r.start, End: r.now(), Steps: r.steps, Reasons: r.reasons()}
	for _, s := range r.steps {
		res.Timeline = append(res.Timeline, Event{Time: s.Start, Kind: "step", Text: fmt.Sprintf("step %d: %s", s.Index+1, s.Step.Say)})
	}
	if r.emu != nil {
		for _, a := range r.emu.Attempts() {
			text := fmt.Sprintf("%s from %s", a.Listener, a.Remote)
			if a.ClientID != "" {
				text += ", client " + a.ClientID
			}
			if a.ConnackCode >= 0 {
				text += fmt.Sprintf(", CONNACK %d", a.ConnackCode)
			}
			if a.Reason != nil {
				text += fmt.Sprintf(": %s (%s)", a.Reason.Check, a.Reason.Detail)
			}
			res.Timeline = append(res.Timeline, Event{Time: a.Time, Kind: "attempt", Text: text, Outcome: string(a.Outcome)})
		}
		for _, rs := range r.dpsReasons() {
			res.Timeline = append(res.Timeline, Event{Time: rs.Time, Kind: "dps", Outcome: string(hub.OutcomeRefused),
				Text: fmt.Sprintf("DPS registration %s: %s (%s)", rs.RegistrationID, rs.Check, rs.Detail)})
		}
		r.addServedChains()
	}
	sort.SliceStable(res.Timeline, func(i, j int) bool { return res.Timeline[i].Time.Before(res.Timeline[j].Time) })
	res.Chains = slices.Clone(r.chains.chains)
	return res
}

// addServedChains adds the chains the hub and DPS serve at the case's date.
func (r *run) addServedChains() {
	for _, s := range []struct {
		what string
		root pki.RootName
		host string
	}{{"hub", r.emu.HubRoot(), r.emu.HostName()}, {"DPS", r.emu.DPSRoot(), hub.DefaultDPSHostName}} {
		tc, err := r.pki.ServerCertificate(s.root, []string{s.host})
		if err != nil {
			r.log.Warn("served chain", "service", s.what, "err", err)
			continue
		}
		var certs []*x509.Certificate
		for _, der := range tc.Certificate {
			if c, err := x509.ParseCertificate(der); err == nil {
				certs = append(certs, c)
			}
		}
		if root, err := r.pki.Root(s.root); err == nil {
			certs = append(certs, root.Cert)
		}
		r.chains.add(fmt.Sprintf("served by the %s %s (stand-in chain under %s)", s.what, s.host, s.root), certs...)
	}
}
