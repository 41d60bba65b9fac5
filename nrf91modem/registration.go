package nrf91modem

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/modemsim/modemsim/atparser"
)

// +CEREG <stat> values (nRF91x1 AT reference cereg_read [S], 27.007 §10.1.22).
const (
	regNotSearching = 0
	regHome         = 1
	regSearching    = 2
	regDenied       = 3
	regUnknown      = 4 // e.g. out of E-UTRAN coverage
	regRoaming      = 5
	regUICCFailure  = 90
)

// +CEREG subscription levels and their extra fields (cereg_set [S]):
// 2 adds <tac>,<ci>,<AcT>; 3 adds <cause_type>,<reject_cause>; 4 adds the
// PSM timers after two empty cause fields; 5 has both.
const (
	ceregMax        = 5
	ceregCellInfo   = 2
	ceregCause      = 3
	ceregPSM        = 4
	causeTypeEMM    = 0 // <cause_type> 0: <reject_cause> is an EMM cause (24.301 Annex A)
	ceregTestAnswer = "+CEREG: (0-5)"
)

// Access technologies (<AcT>, cereg_read [S]).
const (
	actLTEM  = 7 // E-UTRAN
	actNBIoT = 9 // E-UTRAN NB-S1
)

// +CSCON levels and fields (27.007 §10.1.30 [S]; nRF91 lists levels 0–3 [I]):
// level 2 adds <state> (7 = E-UTRAN connected), level 3 <access>
// (4 = E-UTRAN FDD). Idle mode has no state.
const (
	csconMax        = 3
	csconState      = 2
	csconAccess     = 3
	csconStateEUTRA = 7
	csconAccessFDD  = 4
	csconTestAnswer = "+CSCON: (0,1,2,3)"
)

// +CNEC bits: 8 EMM causes, 16 ESM causes, as +CNEC_EMM: <cause> and
// +CNEC_ESM: <cause>,<cid> notifications (nRF91 AT reference cnec_set, as
// recalled [I]; +CNEC=24 accepted on a device [T pastebin wUPTNrp6]).
const (
	cnecEMM        = 8
	cnecESM        = 16
	cnecTestAnswer = "+CNEC: (0,8,16,24)"
)

func (m *Modem) registeredLocked() bool { return m.regStat == regHome || m.regStat == regRoaming }

// actLocked is the access technology the system mode leads to, 0 if LTE is
// off (%XSYSTEMMODE <LTE_M_support>,<NB_IoT_support>,<GNSS>,<preference>;
// preference 2 and 4 prefer NB-IoT [S lte_lc]).
func (m *Modem) actLocked() int {
	ltem, nb, pref := m.sysMode[0] == 1, m.sysMode[1] == 1, m.sysMode[3]
	switch {
	case ltem && nb && (pref == 2 || pref == 4):
		return actNBIoT
	case ltem:
		return actLTEM
	case nb:
		return actNBIoT
	}
	return 0
}

func (m *Modem) setRegStatLocked(stat int) {
	if m.regStat == stat {
		return
	}
	m.regStat = stat
	if m.cereg > 0 {
		m.notify("+CEREG: " + m.ceregFieldsLocked())
	}
}

func (m *Modem) setConnectedLocked(on bool) {
	if on {
		m.armRRCIdleLocked()
	} else {
		m.stopRRCIdleLocked()
	}
	if m.connected == on {
		return
	}
	m.connected = on
	if m.cscon > 0 {
		m.notify("+CSCON: " + m.csconFieldsLocked())
	}
}

// armRRCIdleLocked (re)starts the inactivity timer that releases the RRC
// connection.
func (m *Modem) armRRCIdleLocked() {
	m.stopRRCIdleLocked()
	d := m.net.RRCIdleAfter.Duration
	if d <= 0 {
		return
	}
	gen := m.rrcGen
	m.rrcTimer = time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if gen != m.rrcGen {
			return
		}
		m.setConnectedLocked(false)
	})
}

func (m *Modem) stopRRCIdleLocked() {
	m.rrcGen++
	if m.rrcTimer != nil {
		m.rrcTimer.Stop()
		m.rrcTimer = nil
	}
}

// RadioActivity tells the modem that traffic flows (the network stack sends
// or receives): a released RRC connection is set up again and the
// inactivity timer restarts. Without a registration it does nothing.
func (m *Modem) RadioActivity() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.registeredLocked() {
		m.setConnectedLocked(true)
	}
}

// ceregFieldsLocked renders <stat>[,…] for the subscription level. The cell
// fields appear when the modem is camped: registered or denied by the cell
// it found [I].
func (m *Modem) ceregFieldsLocked() string {
	var b strings.Builder
	fmt.Fprint(&b, m.regStat)
	camped := m.registeredLocked() || m.regStat == regDenied
	if m.cereg < ceregCellInfo || !camped {
		return b.String()
	}
	fmt.Fprintf(&b, `,"%s","%s",%d`, m.net.TAC, m.net.CellID, m.actLocked())
	denied := m.regStat == regDenied
	switch m.cereg {
	case ceregCause:
		if denied {
			fmt.Fprintf(&b, ",%d,%d", causeTypeEMM, m.rejectCause)
		}
	case ceregPSM:
		if !denied {
			fmt.Fprintf(&b, `,,,"%s","%s"`, m.net.ActiveTime, m.net.PeriodicTAU)
		}
	case ceregMax:
		if denied {
			fmt.Fprintf(&b, ",%d,%d", causeTypeEMM, m.rejectCause)
		} else {
			fmt.Fprintf(&b, `,,,"%s","%s"`, m.net.ActiveTime, m.net.PeriodicTAU)
		}
	}
	return b.String()
}

func (m *Modem) csconFieldsLocked() string {
	if !m.connected || m.cscon < csconState {
		return fmt.Sprint(boolInt(m.connected))
	}
	if m.cscon < csconAccess {
		return fmt.Sprintf("1,%d", csconStateEUTRA)
	}
	return fmt.Sprintf("1,%d,%d", csconStateEUTRA, csconAccessFDD)
}

// subscription parses +X=<n> with 0 ≤ n ≤ hi; an empty <n> means 0, as
// 27.007 defaults it.
func subscription(cmd atparser.Command, hi int64) (int, bool) {
	if cmd.ParamCount() != 1 {
		return 0, false
	}
	if cmd.IsEmptyParam(0) {
		return 0, true
	}
	n, ok := cmd.IntParam(0)
	if !ok || n < 0 || n > hi {
		return 0, false
	}
	return int(n), true
}

// subscriptionCommand is the shape +CEREG and +CSCON share: the read form
// answers the subscription level and the state's fields, the set form takes
// a level up to max [S nrf91 AT reference, +CEREG and +CSCON].
func subscriptionCommand(name string, level func(*Modem) *int, max int64, fields func(*Modem) string, test string) handler {
	return func(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
		m.mu.Lock()
		defer m.mu.Unlock()
		switch cmd.Kind {
		case atparser.KindRead:
			return atparser.OK(fmt.Sprintf("%s: %d,%s", name, *level(m), fields(m)))
		case atparser.KindTest:
			return atparser.OK(test)
		case atparser.KindSet:
			n, ok := subscription(cmd, max)
			if !ok {
				return atparser.Error()
			}
			*level(m) = n
			return atparser.OK()
		}
		return atparser.Error()
	}
}

func handleCEREG(ctx context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	return subscriptionCommand("+CEREG", func(m *Modem) *int { return &m.cereg }, ceregMax,
		(*Modem).ceregFieldsLocked, ceregTestAnswer)(ctx, m, cmd)
}

func handleCSCON(ctx context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	return subscriptionCommand("+CSCON", func(m *Modem) *int { return &m.cscon }, csconMax,
		(*Modem).csconFieldsLocked, csconTestAnswer)(ctx, m, cmd)
}

func handleCNEC(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		return atparser.OK(fmt.Sprintf("+CNEC: %d", m.cnec))
	case atparser.KindTest:
		return atparser.OK(cnecTestAnswer)
	case atparser.KindSet:
		n, ok := subscription(cmd, cnecEMM|cnecESM)
		if !ok || n&^(cnecEMM|cnecESM) != 0 {
			return atparser.Error()
		}
		m.cnec = n
		return atparser.OK()
	}
	return atparser.Error()
}

func (m *Modem) notifyCNECLocked(bit int, line string) {
	if m.cnec&bit != 0 {
		m.notify(line)
	}
}

func (m *Modem) notifyCGEVLocked(event string) {
	if m.cgerep == 1 {
		m.notify("+CGEV: " + event)
	}
}

// NetworkState is what the device's network stack needs from the modem.
type NetworkState struct {
	Registered bool   // +CEREG 1 or 5
	Roaming    bool   // +CEREG 5
	PDNActive  bool   // the default PDN (cid 0) carries traffic
	IPAddress  string // of cid 0, when active
}

// NetworkState reports whether the modem can carry traffic now.
func (m *Modem) NetworkState() NetworkState {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.contexts[0]
	return NetworkState{Registered: m.registeredLocked(), Roaming: m.regStat == regRoaming,
		PDNActive: c.active, IPAddress: c.addr}
}
