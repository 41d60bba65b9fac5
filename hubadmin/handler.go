package hubadmin

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
	"github.com/modemsim/modemsim/serviceapi"
)

// maxBody bounds request bodies: the largest legitimate one is a D2C-sized
// payload or a PEM chain, far below 1 MiB.
const maxBody = 1 << 20

// telemetryBuffer is the per-stream channel size; a slow reader loses
// messages (hub.Service.Telemetry drops and logs) rather than stalling devices.
const telemetryBuffer = 256

// symmetricKeyBytes is the size of generated DPS keys (az generates 64-byte
// base64 keys; DPS accepts 16–64 bytes, §2.3 [doc P-SYM]) [I].
const symmetricKeyBytes = 32

// Option configures the handler.
type Option func(*handler)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(h *handler) { h.log = l } }

// WithClock sets the clock SAS tokens expire by; give the emulator's
// simulation clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(h *handler) { h.now = now } }

// WithDPSReasons adds the DPS refusals to GET /reasons.
func WithDPSReasons(d *DPSReasons) Option { return func(h *handler) { h.dpsReasons = d } }

type handler struct {
	e          *hub.Emulator
	log        *slog.Logger
	now        func() time.Time
	dpsReasons *DPSReasons
	hosts      map[string]bool // WithAllowedHosts, lower case
	token      string          // WithToken
	// connStrings serves GET /connection-strings (WithConnectionStrings).
	connStrings func(policy string) ([]serviceapi.ConnectionString, error)
	// ui serves the web console under /ui/ (WithUI).
	ui http.Handler
}

// NewHandler returns the admin API of e.
func NewHandler(e *hub.Emulator, opts ...Option) http.Handler {
	h := &handler{e: e, log: slog.New(slog.DiscardHandler), now: time.Now, hosts: map[string]bool{}}
	for _, o := range opts {
		o(h)
	}
	mux := http.NewServeMux()
	routes := map[string]func(*http.Request) (int, any, error){
		"GET /info": h.info,

		"GET /devices":                                h.listDevices,
		"GET /devices/{id}":                           h.getDevice,
		"PUT /devices/{id}":                           h.createDevice,
		"DELETE /devices/{id}":                        h.deleteDevice,
		"POST /devices/{id}/disable":                  h.setEnabled(false),
		"POST /devices/{id}/enable":                   h.setEnabled(true),
		"GET /devices/{id}/twin":                      h.getTwin,
		"PATCH /devices/{id}/twin":                    h.patchTwin,
		"POST /devices/{id}/methods/{name}":           h.invokeMethod,
		"POST /devices/{id}/c2d":                      h.sendC2D,
		"GET /devices/{id}/c2d":                       h.pendingC2D,
		"GET /sas-token":                              h.sasToken,
		"GET /attempts":                               h.attempts,
		"GET /reasons":                                h.reasons,
		"GET /certificates":                           h.listCAs,
		"GET /certificates/{name}":                    h.getCA,
		"PUT /certificates/{name}":                    h.putCA,
		"DELETE /certificates/{name}":                 h.deleteCA,
		"POST /certificates/{name}/verification-code": h.caCode,
		"POST /certificates/{name}/verify":            h.verifyCA,

		"GET /dps/enrollments":                            h.listEnrollments,
		"GET /dps/enrollments/{id}":                       h.getEnrollment,
		"PUT /dps/enrollments/{id}":                       h.putEnrollment,
		"DELETE /dps/enrollments/{id}":                    h.deleteEnrollment,
		"GET /dps/enrollment-groups":                      h.listGroups,
		"GET /dps/enrollment-groups/{id}":                 h.getGroup,
		"PUT /dps/enrollment-groups/{id}":                 h.putGroup,
		"DELETE /dps/enrollment-groups/{id}":              h.deleteGroup,
		"GET /dps/certificates":                           h.listDPSCAs,
		"GET /dps/certificates/{name}":                    h.getDPSCA,
		"PUT /dps/certificates/{name}":                    h.putDPSCA,
		"DELETE /dps/certificates/{name}":                 h.deleteDPSCA,
		"POST /dps/certificates/{name}/verification-code": h.dpsCACode,
		"POST /dps/certificates/{name}/verify":            h.verifyDPSCA,
		"GET /dps/registrations":                          h.registrations,
		"GET /connection-strings":                         h.connectionStrings,
	}
	for pattern, f := range routes {
		mux.HandleFunc(pattern, h.wrap(f))
	}
	mux.HandleFunc("GET /telemetry", h.telemetry)
	if h.ui != nil {
		mux.Handle("/ui/", h.ui)
		mux.Handle("GET /{$}", http.RedirectHandler("/ui/", http.StatusFound))
	}
	mux.HandleFunc("GET /roots/{name}", h.root)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no such resource: " + r.Method + " " + r.URL.Path})
	})
	return h.guard(mux)
}

// wrap turns (status, body, error) into a JSON answer.
func (h *handler) wrap(f func(*http.Request) (int, any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		status, body, err := f(r)
		if err != nil {
			status = statusOf(err)
			h.log.Debug("hubadmin: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
			writeJSON(w, status, errorBody{Error: err.Error()})
			return
		}
		if body == nil {
			w.WriteHeader(status)
			return
		}
		writeJSON(w, status, body)
	}
}

// errBadRequest marks malformed requests (bad JSON, bad query values).
var errBadRequest = errors.New("bad request")

// statusOf maps the services' sentinel errors to HTTP statuses.
func statusOf(err error) int {
	switch {
	case errors.Is(err, hub.ErrNotFound), errors.Is(err, dps.ErrNotFound),
		// The real service answers 404103 DeviceNotOnline [I: az error text].
		errors.Is(err, hub.ErrDeviceNotOnline), errors.Is(err, hub.ErrNotSubscribed):
		return http.StatusNotFound
	case errors.Is(err, hub.ErrExists), errors.Is(err, dps.ErrExists):
		return http.StatusConflict
	case errors.Is(err, hub.ErrMethodTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, hub.ErrQueueFull):
		// 403004 DeviceMaximumQueueDepthExceeded in the real service [I].
		return http.StatusForbidden
	case errors.Is(err, hub.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadRequest), errors.Is(err, hub.ErrInvalid), errors.Is(err, dps.ErrInvalid),
		errors.Is(err, hub.ErrVerification), errors.Is(err, dps.ErrVerification),
		errors.Is(err, hub.ErrModuleIdentities):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decode reads a JSON body into v (an empty body leaves v as it is).
func decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("%w: reading body: %v", errBadRequest, err)
	}
	if len(b) > maxBody {
		return fmt.Errorf("%w: body larger than %d bytes", errBadRequest, maxBody)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: JSON body: %v", errBadRequest, err)
	}
	return nil
}

func (h *handler) info(*http.Request) (int, any, error) {
	return http.StatusOK, Info{
		HostName: h.e.HostName(), DPSHostName: hub.DefaultDPSHostName, IDScope: h.e.DPS().IDScope(),
		MQTTAddr: h.e.MQTTAddr(), WebSocketAddr: h.e.WebSocketAddr(),
		HubRoot: string(h.e.HubRoot()), DPSRoot: string(h.e.DPSRoot()),
		Now: h.now().UTC().Format(time.RFC3339),
	}, nil
}

// ---- devices ----

func (h *handler) listDevices(*http.Request) (int, any, error) {
	return http.StatusOK, h.e.Devices(), nil
}

func (h *handler) getDevice(r *http.Request) (int, any, error) {
	d, err := h.e.Device(r.PathValue("id"))
	return http.StatusOK, d, err
}

func (h *handler) createDevice(r *http.Request) (int, any, error) {
	var req DeviceRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	auth, err := ParseAuth(req.Auth)
	if err != nil {
		return 0, nil, err
	}
	d, err := h.e.CreateDevice(hub.DeviceSpec{ID: r.PathValue("id"), Auth: auth,
		PrimaryKey: req.PrimaryKey, SecondaryKey: req.SecondaryKey,
		PrimaryThumbprint: req.PrimaryThumbprint, SecondaryThumbprint: req.SecondaryThumbprint,
		Disabled: req.Disabled})
	return http.StatusCreated, d, err
}

func (h *handler) deleteDevice(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, h.e.DeleteDevice(r.PathValue("id"))
}

func (h *handler) setEnabled(enabled bool) func(*http.Request) (int, any, error) {
	return func(r *http.Request) (int, any, error) {
		d, err := h.e.SetDeviceEnabled(r.PathValue("id"), enabled)
		return http.StatusOK, d, err
	}
}

func (h *handler) getTwin(r *http.Request) (int, any, error) {
	t, err := h.e.Twin(r.PathValue("id"))
	return http.StatusOK, t, err
}

// patchTwin applies the body as a JSON merge patch of the desired properties.
func (h *handler) patchTwin(r *http.Request) (int, any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: reading body: %v", errBadRequest, err)
	}
	t, err := h.e.UpdateDesired(r.PathValue("id"), b)
	return http.StatusOK, t, err
}

func (h *handler) invokeMethod(r *http.Request) (int, any, error) {
	var req MethodRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	timeout := DefaultMethodTimeout
	if req.TimeoutSeconds > 0 {
		timeout = time.Duration(req.TimeoutSeconds) * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	res, err := h.e.InvokeMethod(ctx, r.PathValue("id"), r.PathValue("name"), req.Payload)
	if err != nil {
		return 0, nil, err
	}
	out := MethodResponse{Status: res.Status}
	switch {
	case len(res.Payload) == 0:
	case json.Valid(res.Payload):
		out.Payload = res.Payload
	default:
		out.Payload, _ = json.Marshal(string(res.Payload))
	}
	return http.StatusOK, out, nil
}

func (h *handler) sendC2D(r *http.Request) (int, any, error) {
	var req C2DRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	payload := []byte(req.Payload)
	if req.PayloadBase64 != nil {
		payload = req.PayloadBase64
	}
	id, err := h.e.SendC2D(r.PathValue("id"), payload, req.Properties)
	return http.StatusAccepted, C2DResponse{MessageID: id}, err
}

func (h *handler) pendingC2D(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	if _, err := h.e.Device(id); err != nil {
		return 0, nil, err
	}
	p := h.e.PendingC2D(id)
	if p == nil {
		p = []hub.C2DMessage{}
	}
	return http.StatusOK, p, nil
}

// sasToken signs a device token with the device's primary key over
// `{host}/devices/{id}` URL-encoded the way the SDKs do (%2F, §1.3 [src S-HUB]).
func (h *handler) sasToken(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	id := q.Get("device")
	if id == "" {
		return 0, nil, fmt.Errorf("%w: query parameter device is required", errBadRequest)
	}
	ttl := DefaultSASTTL
	if s := q.Get("ttl"); s != "" {
		d, err := parseTTL(s)
		if err != nil {
			return 0, nil, err
		}
		ttl = d
	}
	d, err := h.e.Device(id)
	if err != nil {
		return 0, nil, err
	}
	if d.Auth != hub.AuthSAS {
		return 0, nil, fmt.Errorf("%w: device %q uses %s authentication, not SAS", hub.ErrInvalid, id, d.Auth)
	}
	keyText := d.PrimaryKey
	if q.Get("key") == "secondary" {
		keyText = d.SecondaryKey
	}
	key, err := base64.StdEncoding.DecodeString(keyText)
	if err != nil {
		return 0, nil, fmt.Errorf("device %q key is not base64: %w", id, err)
	}
	host := h.e.HostName()
	resource := url.QueryEscape(host + "/devices/" + id)
	exp := h.now().Add(ttl).Truncate(time.Second)
	return http.StatusOK, SASToken{DeviceID: id, HostName: host, Resource: resource,
		Token: sas.Sign(resource, key, exp, ""), Expiry: exp.UTC(),
		ClientID: id, Username: host + "/" + id + "/?api-version=" + APIVersion}, nil
}

// parseTTL takes a Go duration ("1h", "90m") or whole seconds ("3600", as
// az --duration), positive and at most MaxSASTTL: beyond that now+ttl
// overflows and the token's se would lie in the past.
func parseTTL(s string) (time.Duration, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: ttl %q: %s (want a positive duration such as 1h, or seconds, at most %s)", errBadRequest, s, why, MaxSASTTL)
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return 0, bad("not positive")
		}
		if n > int64(MaxSASTTL/time.Second) {
			return 0, bad("too long")
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, bad("not a duration")
	case d <= 0:
		return 0, bad("not positive")
	case d > MaxSASTTL:
		return 0, bad("too long")
	}
	return d, nil
}

func (h *handler) attempts(r *http.Request) (int, any, error) {
	all := h.e.Attempts()
	dev := r.URL.Query().Get("device")
	out := make([]hub.Attempt, 0, len(all))
	for _, a := range all {
		if a.Concerns(dev) {
			out = append(out, a)
		}
	}
	return http.StatusOK, out, nil
}

func (h *handler) reasons(*http.Request) (int, any, error) {
	var d []dps.Reason
	if h.dpsReasons != nil {
		d = h.dpsReasons.Reasons()
	}
	return http.StatusOK, mergeReasons(h.e.Reasons(), d), nil
}

// ---- hub CA certificates ----

func (h *handler) listCAs(*http.Request) (int, any, error) { return http.StatusOK, h.e.CAs(), nil }

func (h *handler) hubCA(name string) (hub.CACertificate, error) {
	for _, c := range h.e.CAs() {
		if c.Name == name {
			return c, nil
		}
	}
	return hub.CACertificate{}, fmt.Errorf("%w: CA %q", hub.ErrNotFound, name)
}

func (h *handler) getCA(r *http.Request) (int, any, error) {
	c, err := h.hubCA(r.PathValue("name"))
	return http.StatusOK, c, err
}

func (h *handler) putCA(r *http.Request) (int, any, error) {
	var req CertificateRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, err := h.e.AddCA(r.PathValue("name"), []byte(req.PEM), req.Verified)
	return http.StatusCreated, c, err
}

func (h *handler) deleteCA(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, h.e.DeleteCA(r.PathValue("name"))
}

func (h *handler) caCode(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	code, err := h.e.CAVerificationCode(name)
	return http.StatusOK, VerificationCode{Name: name, Code: code}, err
}

func (h *handler) verifyCA(r *http.Request) (int, any, error) {
	var req CertificateRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	name := r.PathValue("name")
	if err := h.e.VerifyCA(name, []byte(req.PEM)); err != nil {
		return 0, nil, err
	}
	c, err := h.hubCA(name)
	return http.StatusOK, c, err
}

// ---- DPS ----

func (h *handler) listEnrollments(*http.Request) (int, any, error) {
	return http.StatusOK, h.e.DPS().ListIndividualEnrollments(), nil
}

func (h *handler) getEnrollment(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	for _, e := range h.e.DPS().ListIndividualEnrollments() {
		// Registration IDs are case-insensitive (§2.1 [doc P-X509]).
		if strings.EqualFold(e.RegistrationID, id) {
			return http.StatusOK, e, nil
		}
	}
	return 0, nil, fmt.Errorf("%w: individual enrollment %q", dps.ErrNotFound, id)
}

// putEnrollment creates or replaces an enrollment; the ID comes from the
// path, enabled defaults to true and an empty symmetric key is generated.
func (h *handler) putEnrollment(r *http.Request) (int, any, error) {
	e := dps.IndividualEnrollment{Enabled: true}
	if err := decode(r, &e); err != nil {
		return 0, nil, err
	}
	e.RegistrationID = r.PathValue("id")
	if e.Attestation == dps.AttestationSymmetricKey && len(e.PrimaryKey) == 0 {
		e.PrimaryKey, e.SecondaryKey = newKey(), newKey()
	}
	out, err := h.e.DPS().CreateIndividualEnrollment(e)
	return http.StatusOK, out, err
}

func (h *handler) deleteEnrollment(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, h.e.DPS().DeleteIndividualEnrollment(r.PathValue("id"))
}

func (h *handler) listGroups(*http.Request) (int, any, error) {
	return http.StatusOK, h.e.DPS().ListGroupEnrollments(), nil
}

func (h *handler) getGroup(r *http.Request) (int, any, error) {
	id := r.PathValue("id")
	for _, g := range h.e.DPS().ListGroupEnrollments() {
		if g.GroupID == id {
			return http.StatusOK, g, nil
		}
	}
	return 0, nil, fmt.Errorf("%w: enrollment group %q", dps.ErrNotFound, id)
}

func (h *handler) putGroup(r *http.Request) (int, any, error) {
	g := dps.GroupEnrollment{Enabled: true}
	if err := decode(r, &g); err != nil {
		return 0, nil, err
	}
	g.GroupID = r.PathValue("id")
	if g.Attestation == dps.AttestationSymmetricKey && len(g.PrimaryKey) == 0 {
		g.PrimaryKey, g.SecondaryKey = newKey(), newKey()
	}
	out, err := h.e.DPS().CreateGroupEnrollment(g)
	return http.StatusOK, out, err
}

func (h *handler) deleteGroup(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, h.e.DPS().DeleteGroupEnrollment(r.PathValue("id"))
}

func (h *handler) listDPSCAs(*http.Request) (int, any, error) {
	return http.StatusOK, h.e.DPS().ListCAs(), nil
}

func (h *handler) dpsCA(name string) (dps.CACertificate, error) {
	for _, c := range h.e.DPS().ListCAs() {
		if c.Name == name {
			return c, nil
		}
	}
	return dps.CACertificate{}, fmt.Errorf("%w: CA %q", dps.ErrNotFound, name)
}

func (h *handler) getDPSCA(r *http.Request) (int, any, error) {
	c, err := h.dpsCA(r.PathValue("name"))
	return http.StatusOK, c, err
}

func (h *handler) putDPSCA(r *http.Request) (int, any, error) {
	var req CertificateRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, err := h.e.DPS().UploadCA(r.PathValue("name"), []byte(req.PEM), req.Verified)
	return http.StatusCreated, c, err
}

func (h *handler) deleteDPSCA(r *http.Request) (int, any, error) {
	return http.StatusNoContent, nil, h.e.DPS().DeleteCA(r.PathValue("name"))
}

func (h *handler) dpsCACode(r *http.Request) (int, any, error) {
	name := r.PathValue("name")
	code, err := h.e.DPS().VerificationCode(name)
	return http.StatusOK, VerificationCode{Name: name, Code: code}, err
}

func (h *handler) verifyDPSCA(r *http.Request) (int, any, error) {
	var req CertificateRequest
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	c, err := h.e.DPS().VerifyCA(r.PathValue("name"), []byte(req.PEM))
	return http.StatusOK, c, err
}

func (h *handler) registrations(*http.Request) (int, any, error) {
	return http.StatusOK, h.e.DPS().Registrations(), nil
}

// ---- streams and files ----

// telemetry streams device-to-cloud messages until the client goes away:
// newline-delimited JSON, or Server-Sent Events when the client accepts
// text/event-stream. ?device=ID filters.
func (h *handler) telemetry(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "streaming not supported"})
		return
	}
	sse := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	dev := r.URL.Query().Get("device")
	since, err := parseSince(r.URL.Query().Get("since"), h.now())
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	var retained []hub.Message
	var ch <-chan hub.Message
	var stop func()
	if since.IsZero() {
		ch, stop = h.e.Telemetry(telemetryBuffer)
	} else {
		retained, ch, stop = h.e.TelemetrySince(since, telemetryBuffer)
	}
	defer stop()
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
	} else {
		w.Header().Set("Content-Type", "application/x-ndjson")
	}
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	// write sends one message; false when the client went away.
	write := func(m hub.Message) bool {
		if dev != "" && m.DeviceID != dev {
			return true
		}
		ev := TelemetryEvent{Message: m}
		if utf8.Valid(m.Payload) {
			ev.Text = string(m.Payload)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			h.log.Warn("hubadmin: telemetry encode", "error", err)
			return true
		}
		if sse {
			_, err = fmt.Fprintf(w, "event: telemetry\ndata: %s\n\n", b)
		} else {
			_, err = fmt.Fprintf(w, "%s\n", b)
		}
		if err != nil {
			return false
		}
		flusher.Flush()
		return true
	}
	for _, m := range retained {
		if !write(m) {
			return
		}
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case m, ok := <-ch:
			if !ok || !write(m) {
				return
			}
		}
	}
}

// root serves a stand-in root as PEM: a short name, a full subject CN,
// "hub"/"dps" (the root each serves now) or "all" (every stand-in root).
func (h *handler) root(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var roots []pki.RootName
	switch name {
	case "hub":
		roots = []pki.RootName{h.e.HubRoot()}
	case "dps":
		roots = []pki.RootName{h.e.DPSRoot()}
	case "all":
		roots = pki.RootNames()
	default:
		rn, err := ParseRoot(name)
		if err != nil || rn == "" {
			writeJSON(w, http.StatusNotFound, errorBody{Error: fmt.Sprintf("unknown root %q (want hub, dps, all, %s)", name, strings.Join(RootAliases(), ", "))})
			return
		}
		roots = []pki.RootName{rn}
	}
	pemText, err := RootsPEM(h.e.PKI(), roots...)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	_, _ = w.Write(pemText)
}

// RootsPEM concatenates the PEM of the named stand-in roots.
func RootsPEM(p *pki.PKI, roots ...pki.RootName) ([]byte, error) {
	var out []byte
	for _, rn := range roots {
		a, err := p.Root(rn)
		if err != nil {
			return nil, fmt.Errorf("root %q: %w", rn, err)
		}
		out = append(out, a.CertPEM()...)
	}
	return out, nil
}

func newKey() []byte {
	b := make([]byte, symmetricKeyBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go ≥1.24)
	return b
}
