package nrf91modem

import (
	"context"
	"fmt"
	"time"

	"github.com/modemsim/modemsim/atparser"
)

// +CFUN functional modes (nrf91.md §4 [S Nordic cellular-monitor functionMode.ts]).
var cfunModes = map[int64]struct{}{0: {}, 1: {}, 2: {}, 4: {}, 20: {}, 21: {}, 30: {}, 31: {}, 40: {}, 41: {}, 44: {}}

// cfunTest is the modem's test-form answer, exactly as Nordic's tests show it [T].
const cfunTest = "+CFUN: (0,1,4,20,21,30,31,40,41,44)"

const xpofwarnMaxArgs = 2

func handleCFUN(ctx context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	switch cmd.Kind {
	case atparser.KindRead:
		m.mu.Lock()
		defer m.mu.Unlock()
		return atparser.OK(fmt.Sprintf("+CFUN: %d", m.fun))
	case atparser.KindTest:
		return atparser.OK(cfunTest)
	case atparser.KindSet:
	default:
		return atparser.Error()
	}
	mode, ok := cmd.IntParam(0)
	if _, known := cfunModes[mode]; !ok || !known || cmd.ParamCount() != 1 {
		return atparser.Error()
	}
	m.setFunctionalMode(int(mode))
	return atparser.OK()
}

// setFunctionalMode applies +CFUN=<mode>. Activation starts a simulated
// network registration; deactivation drops it with the URCs a subscriber
// would see.
func (m *Modem) setFunctionalMode(mode int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch mode {
	case 0, 4, 44:
		m.fun = mode
		if mode == 44 {
			m.fun = 4
		}
		m.deactivateLocked()
		// +CFUN=0 powers the UICC off; flight mode keeps it [I].
		m.uicc = mode != 0
	case 20:
		m.deactivateLocked()
		if m.fun == 1 || m.fun == 2 {
			m.fun = 4
		}
	case 1, 2, 21:
		if mode != 21 {
			m.fun = mode
		} else {
			m.fun = 1
		}
		m.uicc = true
		m.activateLocked()
	case 40:
		m.uicc = false
	case 41:
		m.uicc = true
	default:
		// 30/31 GNSS do not change LTE activation or the value +CFUN?
		// reports [I].
	}
}

func (m *Modem) activateLocked() {
	if m.lteActive {
		return
	}
	m.lteActive = true
	if m.net.Outcome == OutcomeNoSIM {
		m.setRegStatLocked(regUICCFailure)
		return
	}
	if m.actLocked() == 0 {
		return // GNSS-only system mode: LTE does not search [I]
	}
	m.startSearchLocked()
}

func (m *Modem) startSearchLocked() {
	m.setRegStatLocked(regSearching)
	m.afterLocked(m.net.Delay.Duration, m.registrationResultLocked)
}

// registrationResultLocked ends a search the way the board's network says.
func (m *Modem) registrationResultLocked() {
	if m.copsMode == copsManual && m.copsPLMN != m.net.PLMN {
		// The selected network is not there: the modem keeps searching [I].
		return
	}
	switch m.net.Outcome {
	case OutcomeHome, OutcomeRoaming:
		m.registerLocked(true)
	case OutcomePDNReject:
		m.registerLocked(false)
	case OutcomeDenied:
		m.rejectCause = m.net.RejectCause
		m.notifyCNECLocked(cnecEMM, fmt.Sprintf("+CNEC_EMM: %d", m.net.RejectCause))
		m.setRegStatLocked(regDenied)
	case OutcomeNoCoverage:
		m.setRegStatLocked(regUnknown)
	}
}

// registerLocked attaches: the RRC connection comes up, the default PDN is
// activated (or refused), then registration is reported and the network
// sends its time. That order is what nRF91 logs show [I].
func (m *Modem) registerLocked(withPDN bool) {
	m.setConnectedLocked(true)
	cid0 := m.contexts[0]
	if withPDN && !cid0.active {
		cid0.active = true
		cid0.netAPN, cid0.addr = m.net.APN, m.net.IPAddress
		m.notifyCGEVLocked(fmt.Sprintf("ME PDN ACT %d", 0))
	} else if !withPDN {
		m.notifyCNECLocked(cnecESM, fmt.Sprintf("+CNEC_ESM: %d,%d", m.net.ESMCause, 0))
	}
	stat := regHome
	if m.net.Outcome == OutcomeRoaming {
		stat = regRoaming
	}
	m.setRegStatLocked(stat)
	m.receiveNetworkTimeLocked()
	if m.net.LossAfter.Duration > 0 && !m.coverageLost {
		m.afterLocked(m.net.LossAfter.Duration, m.coverageLostLocked)
	}
}

// coverageLostLocked: the cell is gone. The RRC connection drops and the
// registration reads "unknown (out of E-UTRAN coverage)" [S cereg_read];
// the PDN context is kept, as EPS bearers survive a radio outage [I].
func (m *Modem) coverageLostLocked() {
	m.coverageLost = true // once per activation, not a flapping cell
	m.setConnectedLocked(false)
	m.setRegStatLocked(regUnknown)
	if m.net.RegainAfter.Duration > 0 {
		m.afterLocked(m.net.RegainAfter.Duration, func() { m.registerLocked(m.net.Outcome != OutcomePDNReject) })
	}
}

func (m *Modem) deactivateLocked() {
	m.stopNetTimerLocked()
	if !m.lteActive {
		return
	}
	m.lteActive = false
	m.dropRegistrationLocked()
	m.coverageLost = false
	m.setRegStatLocked(regNotSearching)
}

// afterLocked runs f (with m.mu held) after d unless the network state
// changes first: every stop bumps netGen, so a timer that fires late does
// nothing.
func (m *Modem) afterLocked(d time.Duration, f func()) {
	m.stopNetTimerLocked()
	gen := m.netGen
	m.netTimer = time.AfterFunc(d, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if gen != m.netGen || !m.lteActive {
			return
		}
		f()
	})
}

func (m *Modem) stopNetTimerLocked() {
	m.netGen++
	if m.netTimer != nil {
		m.netTimer.Stop()
		m.netTimer = nil
	}
}

// handleXPOFWARN enables power-off warnings (`AT%XPOFWARN=1,30` [S]). The
// warning itself is raised by the board's fault knobs (SetPowerOffWarning).
func handleXPOFWARN(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindSet || cmd.ParamCount() < 1 || cmd.ParamCount() > xpofwarnMaxArgs {
		return atparser.Error()
	}
	if state, ok := cmd.IntParam(0); !ok || state < 0 || state > 1 {
		return atparser.Error()
	}
	return atparser.OK()
}

// SetPowerOffWarning raises or clears a power-off warning; while raised the
// modem refuses NVM writes with 528 (nrf91.md §4 [S]). The URC text is not
// documented [I].
func (m *Modem) SetPowerOffWarning(on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.pofWarning = on
	if on {
		m.notify("%XPOFWARN: 1,30")
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
