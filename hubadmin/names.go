package hubadmin

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
)

// ParseAuth maps the spellings users know to the registry's AuthType: the
// registry names, the az CLI `--auth-method` values (shared_private_key,
// x509_thumbprint, x509_ca) and the modemsim CLI ones (sas, x509-thumbprint,
// x509-ca). "" means SAS, as in az.
func ParseAuth(s string) (hub.AuthType, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "-", "_")) {
	case "", "sas", "shared_private_key", "symmetrickey":
		return hub.AuthSAS, nil
	case "selfsigned", "x509_thumbprint", "thumbprint":
		return hub.AuthSelfSigned, nil
	case "certificateauthority", "x509_ca", "ca":
		return hub.AuthCA, nil
	}
	return "", fmt.Errorf("%w: authentication type %q (want sas, x509-thumbprint or x509-ca)", hub.ErrInvalid, s)
}

// ParseRoot maps a short root name (digicert-g2, baltimore, microsoft-2017)
// or a root's full subject CN to the stand-in root. "" and "auto" return ""
// (choose by the simulation date).
func ParseRoot(s string) (pki.RootName, error) {
	if s == "" || s == "auto" {
		return "", nil
	}
	if r, ok := rootAlias(strings.ToLower(s)); ok {
		return r, nil
	}
	for _, r := range pki.RootNames() {
		if strings.EqualFold(string(r), s) {
			return r, nil
		}
	}
	return "", fmt.Errorf("%w: root %q (want auto, %s)", hub.ErrInvalid, s, strings.Join(RootAliases(), ", "))
}

// RootAliases lists the short root names, sorted.
func RootAliases() []string { return []string{"baltimore", "digicert-g2", "microsoft-2017"} }

// rootAlias maps a short name (CLI --root, GET /roots/{name}) to a stand-in root.
func rootAlias(s string) (pki.RootName, bool) {
	switch s {
	case "baltimore":
		return pki.BaltimoreCyberTrustRoot, true
	case "digicert-g2":
		return pki.DigiCertGlobalRootG2, true
	case "microsoft-2017":
		return pki.MicrosoftRSARoot2017, true
	}
	return "", false
}

// DPSReasons keeps the most recent DPS refusals: package dps only pushes
// them to a sink (dps.WithReasonSink), so whoever builds the emulator wires
// Record there and hands the log to NewHandler (WithDPSReasons).
type DPSReasons struct {
	mu  sync.Mutex
	max int
	rs  []dps.Reason
}

// NewDPSReasons keeps at most max reasons (max < 1 means 256, the hub's default).
func NewDPSReasons(max int) *DPSReasons {
	if max < 1 {
		max = 256
	}
	return &DPSReasons{max: max}
}

// Record adds a reason; use it as the dps.WithReasonSink function.
func (d *DPSReasons) Record(r dps.Reason) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rs = append(d.rs, r)
	if len(d.rs) > d.max {
		d.rs = slices.Delete(d.rs, 0, len(d.rs)-d.max)
	}
}

// Reasons returns the recorded reasons, oldest first.
func (d *DPSReasons) Reasons() []dps.Reason {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.rs)
}

// mergeReasons merges both services' reasons by time, newest last.
func mergeReasons(h []hub.Reason, d []dps.Reason) []Reason {
	out := make([]Reason, 0, len(h)+len(d))
	for _, r := range h {
		out = append(out, Reason{Time: r.Time, Service: "hub", ID: r.DeviceID, Check: string(r.Check), Detail: r.Detail, Values: r.Values})
	}
	for _, r := range d {
		out = append(out, Reason{Time: r.Time, Service: "dps", ID: r.RegistrationID, Check: r.Check, Detail: r.Detail, Values: r.Values})
	}
	slices.SortStableFunc(out, func(a, b Reason) int { return a.Time.Compare(b.Time) })
	return out
}
