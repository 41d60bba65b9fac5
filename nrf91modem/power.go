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

// 3GPP 27.007 +CEREG <stat> values.
const (
	regNotSearching = 0
	regHome         = 1
	regSearching    = 2
)

// Serving cell the simulated network reports in +CEREG level ≥ 2 (a value
// seen in the wild, nrf91.md §4 [T DevZone 120513]); AcT 7 = LTE-M.
const (
	cellTAC = "67C0"
	cellCI  = "01AA1300"
	cellAcT = 7
	// PSM timers reported at levels 4/5 when granted [T same transcript].
	psmActiveTime   = "00001010"
	psmPeriodicTAU  = "01011111"
	xpofwarnMaxArgs = 2
)

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
		m.activateLocked()
	default:
		// 30/31 GNSS and 40/41 UICC do not change LTE activation or the
		// value +CFUN? reports [I].
	}
}

func (m *Modem) activateLocked() {
	if m.lteActive {
		return
	}
	m.lteActive = true
	m.setRegStatLocked(regSearching)
	if m.regTimer != nil {
		m.regTimer.Stop()
	}
	m.regTimer = time.AfterFunc(m.opts.RegistrationDelay, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if !m.lteActive {
			return
		}
		m.setRegStatLocked(regHome)
		m.setConnectedLocked(true)
	})
}

func (m *Modem) deactivateLocked() {
	if m.regTimer != nil {
		m.regTimer.Stop()
		m.regTimer = nil
	}
	if !m.lteActive {
		return
	}
	m.lteActive = false
	m.setConnectedLocked(false)
	m.setRegStatLocked(regNotSearching)
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
	if m.connected == on {
		return
	}
	m.connected = on
	if m.cscon > 0 {
		m.notify(fmt.Sprintf("+CSCON: %d", boolInt(on)))
	}
}

// ceregFieldsLocked renders <stat>[,"<tac>","<ci>",<AcT>[…]] for the
// subscription level (27.007 §10.1.22; nrf91.md §4 [S cereg_set]).
func (m *Modem) ceregFieldsLocked() string {
	s := fmt.Sprint(m.regStat)
	if m.cereg < 2 || m.regStat != regHome {
		return s
	}
	s += fmt.Sprintf(`,"%s","%s",%d`, cellTAC, cellCI, cellAcT)
	if m.cereg >= 4 {
		s += fmt.Sprintf(`,,,"%s","%s"`, psmActiveTime, psmPeriodicTAU)
	}
	return s
}

func handleCEREG(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		return atparser.OK(fmt.Sprintf("+CEREG: %d,%s", m.cereg, m.ceregFieldsLocked()))
	case atparser.KindTest:
		return atparser.OK("+CEREG: (0-5)")
	case atparser.KindSet:
		n, ok := cmd.IntParam(0)
		if !ok || cmd.ParamCount() != 1 || n < 0 || n > 5 {
			return atparser.Error()
		}
		m.cereg = int(n)
		return atparser.OK()
	}
	return atparser.Error()
}

func handleCSCON(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		return atparser.OK(fmt.Sprintf("+CSCON: %d,%d", m.cscon, boolInt(m.connected)))
	case atparser.KindTest:
		return atparser.OK("+CSCON: (0,1)")
	case atparser.KindSet:
		n, ok := cmd.IntParam(0)
		if !ok || cmd.ParamCount() != 1 || n < 0 || n > 1 {
			return atparser.Error()
		}
		m.cscon = int(n)
		return atparser.OK()
	}
	return atparser.Error()
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
