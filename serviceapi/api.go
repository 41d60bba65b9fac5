package serviceapi

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/modemsim/modemsim/hub"
)

// Option configures the API.
type Option func(*API)

// WithDPSHostName sets the DPS instance's service host name (default
// DefaultDPSServiceHostName).
func WithDPSHostName(h string) Option { return func(a *API) { a.dpsHost = h } }

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(a *API) { a.log = l } }

// WithClock sets the clock tokens are checked against (default: time.Now;
// the emulator's simulation clock belongs here).
func WithClock(now func() time.Time) Option { return func(a *API) { a.now = now } }

// API is the service REST API of one emulator.
type API struct {
	e       *hub.Emulator
	dpsPol  *PolicyStore
	dpsHost string
	log     *slog.Logger
	now     func() time.Time
	hubAuth authorizer
	dpsAuth authorizer
	hubMux  *http.ServeMux
	dpsMux  *http.ServeMux
}

// New builds the API over an emulator; DPS's shared access policies are
// kept in dpsPolicyFile (created with provisioningserviceowner).
func New(e *hub.Emulator, dpsPolicyFile string, opts ...Option) (*API, error) {
	a := &API{e: e, dpsHost: DefaultDPSServiceHostName, log: slog.New(slog.DiscardHandler), now: time.Now}
	for _, o := range opts {
		o(a)
	}
	pol, err := OpenPolicyStore(dpsPolicyFile)
	if err != nil {
		return nil, err
	}
	a.dpsPol = pol
	a.hubAuth = authorizer{host: e.HostName(), lookup: a.hubPolicy, now: a.now, skew: hub.DefaultSASSkew}
	a.dpsAuth = authorizer{host: a.dpsHost, lookup: pol.Policy, now: a.now, skew: hub.DefaultSASSkew}
	a.hubMux, a.dpsMux = http.NewServeMux(), http.NewServeMux()
	a.hubRoutes(a.hubMux)
	a.dpsRoutes(a.dpsMux)
	return a, nil
}

// DPSHostName is the DPS service host name of connection strings.
func (a *API) DPSHostName() string { return a.dpsHost }

// DPSPolicies returns DPS's shared access policies.
func (a *API) DPSPolicies() []Policy { return a.dpsPol.Policies() }

func (a *API) hubPolicy(name string) (Policy, bool) {
	p, err := a.e.Policy(name)
	if err != nil {
		return Policy{}, false
	}
	rights := make([]string, 0, len(p.Rights))
	for _, r := range p.Rights {
		rights = append(rights, string(r))
	}
	return Policy{Name: p.Name, PrimaryKey: p.PrimaryKey, SecondaryKey: p.SecondaryKey, Rights: rights}, true
}

// Handler serves the hub's and DPS's service API, chosen by the request's
// host name (Host header, else SNI): DPS names go to DPS.
func (a *API) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hub.IsDPSHostName(requestHost(r)) {
			a.dpsMux.ServeHTTP(w, r)
			return
		}
		a.hubMux.ServeHTTP(w, r)
	})
}

func requestHost(r *http.Request) string {
	h := r.Host
	if hp, _, err := net.SplitHostPort(h); err == nil {
		h = hp
	}
	if h == "" && r.TLS != nil {
		h = r.TLS.ServerName
	}
	return strings.ToLower(h)
}

// refused records a refused call with the values compared.
func (a *API) refused(service string, r *http.Request, err error) {
	vals := map[string]string{"remote": r.RemoteAddr}
	if ae, ok := asAuthError(err); ok {
		for k, v := range ae.values {
			vals[k] = v
		}
	}
	a.e.RecordReason(hub.Reason{Service: service + "-service-api", Check: CheckServiceAuth, Detail: err.Error(), Values: vals})
}

// ConnectionString is a service connection string of one policy.
type ConnectionString struct {
	Service string   `json:"service"` // "hub" or "dps"
	Policy  string   `json:"policy"`
	Rights  []string `json:"rights"`
	Value   string   `json:"connectionString"`
}

// ConnectionStrings lists the connection strings of the hub's and DPS's
// policies (only the one named, when policy is not "").
func (a *API) ConnectionStrings(policy string) ([]ConnectionString, error) {
	var out []ConnectionString
	for _, p := range a.e.Policies() {
		if policy != "" && p.Name != policy {
			continue
		}
		hp, _ := a.hubPolicy(p.Name)
		out = append(out, ConnectionString{Service: "hub", Policy: p.Name, Rights: hp.Rights,
			Value: FormatConnectionString(a.e.HostName(), p.Name, p.PrimaryKey)})
	}
	for _, p := range a.dpsPol.Policies() {
		if policy != "" && p.Name != policy {
			continue
		}
		out = append(out, ConnectionString{Service: "dps", Policy: p.Name, Rights: p.Rights,
			Value: FormatConnectionString(a.dpsHost, p.Name, p.PrimaryKey)})
	}
	if policy != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w: policy %q", hub.ErrNotFound, policy)
	}
	return out, nil
}
