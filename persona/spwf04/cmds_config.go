package spwf04

import (
	"context"
	"maps"
	"strconv"
	"time"

	"github.com/modemsim/modemsim/atengine"
)

// AT+S.SCFG=<var>,<value>: unknown variable ERROR:4 [C spwf04.md §7].
func (m *Module) cmdSCFG(_ context.Context, r request) atengine.Reply {
	if len(r.args) < 2 || r.arg(0) == "" {
		return fail(ErrMissingArgs)
	}
	v, known := lookupVar(r.arg(0))
	if !known {
		return fail(ErrVarNotFound)
	}
	value, err := v.normalize(r.arg(1))
	if err != nil {
		return fail(ErrInvalidArgs)
	}
	m.mu.Lock()
	m.vars[v.name] = value
	m.mu.Unlock()
	if v.name == "console_echo" {
		m.echo.Store(value != "0")
	}
	return ok()
}

// AT+S.GCFG[=<var>]: `AT-S.Var:<var>=<value>` lines [C spwf04.md §7].
func (m *Module) cmdGCFG(_ context.Context, r request) atengine.Reply {
	m.mu.Lock()
	defer m.mu.Unlock()
	if name := r.arg(0); name != "" {
		if _, known := lookupVar(name); !known {
			return fail(ErrVarNotFound)
		}
		return ok(varLine(name, m.vars[name]))
	}
	lines := make([]string, 0, len(configVars))
	for _, v := range configVars {
		lines = append(lines, varLine(v.name, m.vars[v.name]))
	}
	return ok(lines...)
}

// statusVars are the read-only variables STS prints [C spwf04.md §7], in
// this order.
var statusVars = []string{"fw_version", "free_heap", "current_time", "wifi_state", "ip_ipaddr", "ip_netmask", "ip_gw", "ip_dns"}

// freeHeap is the STS free_heap value: fixed, the simulation does not
// model the module's heap [U].
const freeHeap = "63468"

func (m *Module) status() map[string]string {
	now := m.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	s := map[string]string{
		"fw_version": m.cfg.FirmwareID, "free_heap": freeHeap,
		"current_time": strconv.FormatInt(now.Unix(), 10),
		"wifi_state":   "0", "ip_ipaddr": "0.0.0.0", "ip_netmask": "0.0.0.0", "ip_gw": "0.0.0.0", "ip_dns": "0.0.0.0",
	}
	if m.up {
		ap := m.hw.AP
		s["wifi_state"], s["ip_ipaddr"], s["ip_netmask"], s["ip_gw"], s["ip_dns"] = "10", ap.IP, ap.Netmask, ap.Gateway, ap.DNS
	}
	return s
}

// AT+S.STS[=<var>]: status variables in the GCFG format [C spwf04.md §7].
func (m *Module) cmdSTS(_ context.Context, r request) atengine.Reply {
	s := m.status()
	if name := r.arg(0); name != "" {
		v, known := s[name]
		if !known {
			return fail(ErrVarNotFound)
		}
		return ok(varLine(name, v))
	}
	lines := make([]string, 0, len(statusVars))
	for _, name := range statusVars {
		lines = append(lines, varLine(name, s[name]))
	}
	return ok(lines...)
}

// AT+S.WCFG saves the running configuration to flash.
func (m *Module) cmdWCFG(context.Context, request) atengine.Reply {
	m.mu.Lock()
	vars := maps.Clone(m.vars)
	m.mu.Unlock()
	if err := m.hw.Flash.SaveConfig(vars); err != nil {
		m.log.Error("WCFG", "err", err)
		return fail(ErrFailedWriteFlash)
	}
	return ok()
}

// AT+S.FCFG restores the factory configuration, running and saved [I]:
// the saved copy is erased so the next boot is the factory one too.
func (m *Module) cmdFCFG(context.Context, request) atengine.Reply {
	if err := m.hw.Flash.SaveConfig(nil); err != nil {
		m.log.Error("FCFG", "err", err)
		return fail(ErrFailedWriteFlash)
	}
	vars := factoryConfig(m.hw.MAC)
	m.mu.Lock()
	m.vars = vars
	m.mu.Unlock()
	m.echo.Store(vars["console_echo"] != "0")
	return ok()
}

// AT+S.RESET: OK, then a soft reset: unsaved variables are lost, the
// banner and association follow (mbed waits for +WIND:32) [C spwf04.md §7].
func (m *Module) cmdRESET(context.Context, request) atengine.Reply {
	m.dropConnections()
	if err := m.loadConfig(); err != nil {
		m.log.Error("RESET", "err", err)
		return fail(ErrFailedReadFlash)
	}
	m.banner(true)
	return ok()
}

// AT+S.TIME=<unix seconds> sets the clock validity checks use (fw 1.1
// replaced SETTIME [C spwf04.md §4]); without a field it prints the clock
// as `AT-S.Time:<unix seconds>` [U].
func (m *Module) cmdTIME(_ context.Context, r request) atengine.Reply {
	if len(r.args) == 0 || r.arg(0) == "" {
		return ok("AT-S.Time:" + strconv.FormatInt(m.Now().Unix(), 10))
	}
	secs, err := strconv.ParseInt(r.arg(0), 10, 64)
	if err != nil || secs < 0 {
		return fail(ErrInvalidArgs)
	}
	m.mu.Lock()
	m.clockSet, m.clockAt = time.Unix(secs, 0).UTC(), m.hw.Clock()
	m.mu.Unlock()
	return ok()
}
