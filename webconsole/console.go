// Package webconsole is the emulator's web console on the admin address:
// server-rendered pages (html/template) of the devices (status, auth, last
// activity, connected now), their twins, the recent connection attempts
// with their reasons (a click opens the compared values and the presented
// certificate chain), live telemetry, and DPS enrollments, groups and
// registrations. A few lines of JavaScript, served from the binary (no CDN),
// refresh the sections and stream telemetry from the admin API's
// Server-Sent Events (GET /telemetry). Device keys are never shown.
package webconsole

import (
	"embed"
	"encoding/json"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
)

//go:embed assets templates
var files embed.FS

// maxAttempts is how many recent attempts the console lists.
const maxAttempts = 50

// Console serves the pages under /ui/.
type Console struct {
	e    *hub.Emulator
	log  *slog.Logger
	tmpl *template.Template
	mux  *http.ServeMux
}

// New returns the console of e; mount it at /ui/ (hubadmin.WithUI).
func New(e *hub.Emulator, log *slog.Logger) (*Console, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	t, err := template.New("").Funcs(template.FuncMap{
		"ts":   func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"json": func(v any) string { b, _ := json.MarshalIndent(v, "", "  "); return string(b) },
		"keys": sortedKeys,
	}).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	c := &Console{e: e, log: log, tmpl: t, mux: http.NewServeMux()}
	assets, err := fs.Sub(files, "assets")
	if err != nil {
		return nil, err
	}
	c.mux.Handle("GET /ui/assets/", http.StripPrefix("/ui/assets/", http.FileServerFS(assets)))
	c.mux.HandleFunc("GET /ui/{$}", c.page("index.html", c.overview))
	c.mux.HandleFunc("GET /ui/devices/{id}", c.page("device.html", c.device))
	for _, name := range []string{"devices", "attempts", "dps"} {
		c.mux.HandleFunc("GET /ui/fragments/"+name, c.page(name+".html", c.overview))
	}
	return c, nil
}

// ServeHTTP serves the console; its pages only read, and are never to be
// framed, cached or extended with outside scripts.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; script-src 'self'")
	w.Header().Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// page renders a template with the data of load.
func (c *Console) page(name string, load func(*http.Request) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := load(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := c.tmpl.ExecuteTemplate(w, name, data); err != nil {
			c.log.Warn("webconsole: render", "page", name, "error", err)
		}
	}
}

// DeviceRow is one line of the devices table.
type DeviceRow struct {
	ID           string
	Auth         hub.AuthType
	Enabled      bool
	Connected    bool
	LastActivity time.Time
	Created      time.Time
}

// Overview is the data of the main page.
type Overview struct {
	HostName      string
	DPSScope      string
	Devices       []DeviceRow
	Attempts      []hub.Attempt
	Enrollments   []dps.IndividualEnrollment
	Groups        []dps.GroupEnrollment
	Registrations []dps.Registration
	Now           time.Time
}

func (c *Console) overview(*http.Request) (any, error) {
	atts := c.e.Attempts()
	last := map[string]time.Time{}
	for _, a := range atts {
		if a.DeviceID != "" && a.Time.After(last[a.DeviceID]) {
			last[a.DeviceID] = a.Time
		}
	}
	var rows []DeviceRow
	for _, d := range c.e.Devices() {
		rows = append(rows, DeviceRow{ID: d.ID, Auth: d.Auth, Enabled: !d.Disabled, Connected: c.e.Connected(d.ID),
			LastActivity: last[d.ID], Created: d.Created})
	}
	// newest first, bounded
	recent := make([]hub.Attempt, 0, maxAttempts)
	for i := len(atts) - 1; i >= 0 && len(recent) < maxAttempts; i-- {
		recent = append(recent, atts[i])
	}
	d := c.e.DPS()
	return Overview{HostName: c.e.HostName(), DPSScope: d.IDScope(), Devices: rows, Attempts: recent,
		Enrollments: d.ListIndividualEnrollments(), Groups: d.ListGroupEnrollments(), Registrations: d.Registrations(),
		Now: time.Now()}, nil
}

// DevicePage is the data of one device's page.
type DevicePage struct {
	Device    hub.Device
	Connected bool
	Twin      map[string]any
	Attempts  []hub.Attempt
	Pending   []hub.C2DMessage
}

func (c *Console) device(r *http.Request) (any, error) {
	id := r.PathValue("id")
	d, err := c.e.Device(id)
	if err != nil {
		return nil, err
	}
	var twin map[string]any
	_ = json.Unmarshal(d.Twin.Document(), &twin)
	if len(d.Twin.Tags) > 0 {
		twin["tags"] = d.Twin.Tags
	}
	var atts []hub.Attempt
	all := c.e.Attempts()
	for i := len(all) - 1; i >= 0 && len(atts) < maxAttempts; i-- {
		if all[i].Concerns(id) {
			atts = append(atts, all[i])
		}
	}
	return DevicePage{Device: d, Connected: c.e.Connected(id), Twin: twin, Attempts: atts, Pending: c.e.PendingC2D(id)}, nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
