package nrf91modem

import (
	"context"
	"fmt"
	"sort"

	"github.com/modemsim/modemsim/atparser"
)

// PDP contexts (nRF91x1 AT reference cgdcont_set / cgact_set [S]): cid
// 0–11, cid 0 is the initial PDN the modem activates on attach and can be
// neither activated nor deactivated by +CGACT.
const (
	maxCID          = 11
	cgdcontTest     = `+CGDCONT: (0-11),("IP","IPV6","IPV4V6","Non-IP")` // [I] from the documented ranges
	cgactTest       = "+CGACT: (0,1)"                                    // [I]
	cgerepTest      = "+CGEREP: (0,1),(0)"                               // [I]; <bfr> is always 0 (+CGEREP: 1,0 [T])
	cgerepMax       = 1
	pdnActivateWord = "ME PDN ACT"   // +CGEV: ME PDN ACT <cid> [S lte_lc tests]
	pdnDeactWord    = "ME PDN DEACT" // +CGEV: ME PDN DEACT <cid> [S lte_lc]
)

var pdpTypes = map[string]bool{"IP": true, "IPV6": true, "IPV4V6": true, "Non-IP": true}

type pdpContext struct {
	cid     int
	pdpType string
	apn     string // as the host defined it
	netAPN  string // as the network assigned it (cid 0 after attach)
	addr    string
	active  bool
}

func (c *pdpContext) shownAPN() string {
	if c.netAPN != "" {
		return c.netAPN
	}
	return c.apn
}

func defaultContexts() map[int]*pdpContext {
	return map[int]*pdpContext{0: {cid: 0, pdpType: networkDefaults.cgdcontType}}
}

func (m *Modem) sortedContextsLocked() []*pdpContext {
	out := make([]*pdpContext, 0, len(m.contexts))
	for _, c := range m.contexts {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].cid < out[j].cid })
	return out
}

func (m *Modem) anyPDNActiveLocked() bool {
	for _, c := range m.contexts {
		if c.active {
			return true
		}
	}
	return false
}

// handleCGDCONT: AT+CGDCONT=<cid>[,<PDP_type>[,<APN>]] defines a context,
// AT+CGDCONT=<cid> undefines it; read lists
// +CGDCONT: <cid>,"<type>","<APN>","<addr>",0,0 (d_comp/h_comp always 0
// [T pastebin wUPTNrp6]).
func handleCGDCONT(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		var lines []string
		for _, c := range m.sortedContextsLocked() {
			lines = append(lines, fmt.Sprintf(`+CGDCONT: %d,"%s","%s","%s",0,0`, c.cid, c.pdpType, c.shownAPN(), c.addr))
		}
		return atparser.OK(lines...)
	case atparser.KindTest:
		return atparser.OK(cgdcontTest)
	case atparser.KindSet:
	default:
		return atparser.Error()
	}
	cid, ok := cmd.IntParam(0)
	if !ok || cmd.ParamCount() > 3 {
		return atparser.Error()
	}
	if cid < 0 || cid > maxCID {
		return m.fail(CMEIncorrectParams)
	}
	c := m.contexts[int(cid)]
	if c != nil && c.active {
		// An active context cannot be redefined [I].
		return m.fail(CMENotAllowedActive)
	}
	if cmd.ParamCount() == 1 {
		if cid == 0 {
			return m.fail(CMEIncorrectParams) // the initial PDN always exists [I]
		}
		delete(m.contexts, int(cid))
		return atparser.OK()
	}
	typ, ok := cmd.StringParam(1)
	if !ok || !pdpTypes[typ] {
		return m.fail(CMEIncorrectParams)
	}
	apn := ""
	if cmd.ParamCount() == 3 {
		if apn, ok = cmd.StringParam(2); !ok {
			return m.fail(CMEIncorrectParams)
		}
	}
	m.contexts[int(cid)] = &pdpContext{cid: int(cid), pdpType: typ, apn: apn}
	return atparser.OK()
}

// handleCGACT: read lists +CGACT: <cid>,<state> per defined context; set
// +CGACT=<state>,<cid> works for cid 1–10 once registered (cgact_set [S]:
// cid 0 cannot be changed).
func handleCGACT(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		var lines []string
		for _, c := range m.sortedContextsLocked() {
			lines = append(lines, fmt.Sprintf("+CGACT: %d,%d", c.cid, boolInt(c.active)))
		}
		return atparser.OK(lines...)
	case atparser.KindTest:
		return atparser.OK(cgactTest)
	case atparser.KindSet:
	default:
		return atparser.Error()
	}
	state, ok1 := cmd.IntParam(0)
	cid, ok2 := cmd.IntParam(1)
	if !ok1 || !ok2 || cmd.ParamCount() != 2 {
		return atparser.Error()
	}
	c := m.contexts[int(cid)]
	if state < 0 || state > 1 || cid < 1 || cid > maxCID-1 || c == nil {
		return m.fail(CMEIncorrectParams)
	}
	on := state == 1
	if on && !m.registeredLocked() {
		return m.fail(CMEPhoneFailure) // no network to activate it on [I]
	}
	if c.active != on {
		c.active = on
		c.addr = ""
		event := pdnDeactWord
		if on {
			event, c.addr = pdnActivateWord, m.net.IPAddress
		}
		m.notifyCGEVLocked(fmt.Sprintf("%s %d", event, c.cid))
	}
	return atparser.OK()
}

// handleCGEREP: +CGEREP=[<mode>] subscribes +CGEV (cgerep_set [S]); an
// empty <mode> unsubscribes.
func handleCGEREP(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		return atparser.OK(fmt.Sprintf("+CGEREP: %d,0", m.cgerep))
	case atparser.KindTest:
		return atparser.OK(cgerepTest)
	case atparser.KindSet:
		n, ok := subscription(cmd, cgerepMax)
		if !ok {
			return atparser.Error()
		}
		m.cgerep = n
		return atparser.OK()
	}
	return atparser.Error()
}
