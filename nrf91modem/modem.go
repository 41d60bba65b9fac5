package nrf91modem

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
)

// SecretTypes are the %CMNG types whose content the modem never hands out:
// client private key, endorsement key, ownership key (nrf91.md §2 [I]).
func SecretTypes() []int { return []int{TypeClientKey, TypeEndorsementKey, TypeOwnershipKey} }

// Options tune firmware behaviour that varies between versions or is inferred.
type Options struct {
	// ValidatePEM makes %CMNG reject non-certificate content for types 0/1
	// with 527, as mfw ≥ 2.0 does [T DevZone 127428]. Nil: by firmware version.
	ValidatePEM *bool
	// RejectOverwrite answers 519 when writing a (tag, type) that exists,
	// instead of replacing it. The docs list 519 without saying when [I].
	RejectOverwrite bool
	// Network is the simulated LTE network AT+CFUN=1 registers on.
	Network Network
	// Clock is the simulation's time, for +CCLK and %XTIME (time.Now if nil).
	Clock func() time.Time
	// BatteryMillivolts is what %XVBAT reads; 0 picks networkDefaults.vbat.
	BatteryMillivolts int
	// StandardCSR leaves out the explicit NULL parameter the real modem puts
	// on ecdsa-with-SHA256 in %KEYGEN CSRs (nrf91.md §3 [T]); tools strip it.
	StandardCSR bool
	// DeviceType is the attestation token's device type; 0 derives it from
	// the model (nRF Cloud utils' table, nrf91.md §4).
	DeviceType int
	// Rand is the entropy source for keys and nonces (crypto/rand if nil).
	Rand   io.Reader
	Logger *slog.Logger
}

// Config is what a board hands its modem.
type Config struct {
	Identity    Identity
	IdentityKey *modemkey.Identity // signs %KEYGEN and %ATTESTTOKEN answers
	Store       *credstore.Store   // opened with SecretTypes
	Notify      func(urc string)   // unsolicited result codes; may be nil
	Options     Options
}

// Modem is one nRF91 modem: identity, credential store and the state AT
// commands change. Safe for concurrent use; an AT host sends one command at a
// time anyway.
type Modem struct {
	id          Identity
	identityKey *modemkey.Identity
	rand        io.Reader
	model       Model
	store       *credstore.Store
	opts        Options
	log         *slog.Logger
	notify      func(string)

	net      Network // with defaults filled
	handlers map[string]handler

	mu           sync.Mutex
	cmee         int
	fun          int  // +CFUN read value: 0, 1, 2 or 4
	lteActive    bool // "activated" for %CMNG: last of 1/2/21 not undone by 0/4/20/44 [I]
	uicc         bool // the SIM is powered (+CFUN other than 0 / 40)
	cereg        int  // +CEREG subscription level 0–5
	cscon        int  // +CSCON subscription level 0–3
	cgerep       int  // +CGEREP mode
	cnec         int  // +CNEC bits
	xtime        int  // %XTIME subscription
	regStat      int  // 3GPP registration status
	rejectCause  int  // EMM cause while denied
	coverageLost bool // Network.LossAfter already happened in this activation
	connected    bool // RRC connected (+CSCON mode 1)
	pofWarning   bool // %XPOFWARN warning active → NVM writes fail with 528
	sysMode      [4]int
	copsMode     int
	copsFormat   int
	copsPLMN     string // manual selection
	contexts     map[int]*pdpContext
	clockSet     bool          // the network (or +CCLK=) gave the modem a time
	clockOffset  time.Duration // +CCLK= minus the simulation clock
	clockZone    int           // quarter hours
	netTimer     *time.Timer
	rrcTimer     *time.Timer // RRC inactivity (Network.RRCIdleAfter)
	rrcGen       uint64
	netGen       uint64              // bumped whenever the network state machine is stopped
	unsimulated  map[string]struct{} // commands already logged as unsimulated
}

type handler func(ctx context.Context, m *Modem, cmd atparser.Command) atparser.Response

// New makes a modem over a board's identity and credential store.
func New(cfg Config) (*Modem, error) {
	id, opts, notify := cfg.Identity, cfg.Options, cfg.Notify
	if cfg.Store == nil {
		return nil, errors.New("nrf91 modem needs a credential store")
	}
	model, err := LookupModel(id.Model)
	if err != nil {
		return nil, err
	}
	if err := id.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.BatteryMillivolts == 0 {
		opts.BatteryMillivolts = networkDefaults.vbat
	}
	net, err := opts.Network.withDefaults(id.HomePLMN())
	if err != nil {
		return nil, fmt.Errorf("nrf91 modem: %w", err)
	}
	if notify == nil {
		notify = func(string) {}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	m := &Modem{id: id, identityKey: cfg.IdentityKey, rand: opts.Rand, model: model, store: cfg.Store,
		opts: opts, log: opts.Logger, notify: notify, net: net, handlers: sharedCommands()}
	m.resetLocked()
	return m, nil
}

// Identity returns the board identity the modem reports.
func (m *Modem) Identity() Identity { return m.id }

// Activated reports whether LTE is active (writes to NVM are refused then).
func (m *Modem) Activated() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lteActive
}

// Handle answers one parsed AT command. Unknown commands and forms the
// modem does not document answer ERROR (nrf91.md §1.2 [T]). A command the
// real modem has but the simulator does not answers ERROR too; it is
// logged once per modem so a missing command shows up.
func (m *Modem) Handle(ctx context.Context, cmd atparser.Command) atparser.Response {
	h, ok := m.handlers[cmd.Name]
	if !ok {
		m.logUnsimulated(cmd)
		return atparser.Error()
	}
	return h(ctx, m, cmd)
}

func (m *Modem) logUnsimulated(cmd atparser.Command) {
	m.mu.Lock()
	_, seen := m.unsimulated[cmd.Name]
	if !seen {
		if m.unsimulated == nil {
			m.unsimulated = make(map[string]struct{})
		}
		m.unsimulated[cmd.Name] = struct{}{}
	}
	m.mu.Unlock()
	if !seen {
		m.log.Warn("AT command not simulated; answering ERROR", "command", "AT"+cmd.Name, "imei", m.id.IMEI)
	}
}

// Close stops timers the modem runs for network simulation.
func (m *Modem) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopNetTimerLocked()
	m.stopRRCIdleLocked()
}

// Reset returns the modem to its power-on state, as a reboot of the board
// does: +CFUN=0, +CMEE=0, no subscriptions, not registered, no clock. The
// credential store is non-volatile and stays; so do the settings the
// modem keeps in NVM (%XSYSTEMMODE, +COPS, +CGDCONT) on a real device,
// which the simulator resets too, as it has no NVM for them [I].
func (m *Modem) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopNetTimerLocked()
	m.stopRRCIdleLocked()
	m.resetLocked()
}

func (m *Modem) resetLocked() {
	m.cmee, m.fun, m.lteActive, m.uicc = 0, 0, false, false
	m.cereg, m.cscon, m.cgerep, m.cnec, m.xtime = 0, 0, 0, 0, 0
	m.regStat, m.rejectCause, m.connected, m.pofWarning, m.coverageLost = regNotSearching, 0, false, false, false
	m.sysMode = networkDefaults.xsystemmode
	m.copsMode, m.copsFormat, m.copsPLMN = copsAuto, networkDefaults.copsFormat, ""
	m.contexts = defaultContexts()
	m.clockSet, m.clockOffset, m.clockZone = false, 0, 0
}

// sharedCommands is one read-only command table for every modem in the
// process: a fleet of a thousand boards need not hold a thousand maps.
var sharedCommands = sync.OnceValue(commandTable)

// commandTable maps command names (as atparser upper-cases them) to handlers.
func commandTable() map[string]handler {
	return map[string]handler{
		"":             handleAT,
		"+CMEE":        handleCMEE,
		"+CFUN":        handleCFUN,
		"+CGSN":        handleCGSN,
		"+CGMI":        infoCommand(func(m *Modem) string { return manufacturer }),
		"+CGMM":        infoCommand(func(m *Modem) string { return m.model.CGMM }),
		"+CGMR":        infoCommand(func(m *Modem) string { return m.id.Firmware }),
		"%SHORTSWVER":  infoCommand(func(m *Modem) string { return "%SHORTSWVER: " + shortSWVersion(m.id.Firmware) }),
		"%HWVERSION":   infoCommand(func(m *Modem) string { return "%HWVERSION: " + m.model.HWVersion }),
		"%XMODEMUUID":  infoCommand(func(m *Modem) string { return "%XMODEMUUID: " + m.id.ModemUUID }),
		"%DEVICEUUID":  handleDeviceUUID,
		"+CEREG":       handleCEREG,
		"+CSCON":       handleCSCON,
		"+CNEC":        handleCNEC,
		"+CGEREP":      handleCGEREP,
		"+CGDCONT":     handleCGDCONT,
		"+CGACT":       handleCGACT,
		"+CPIN":        handleCPIN,
		"+CIMI":        handleCIMI,
		"%XICCID":      handleXICCID,
		"+COPS":        handleCOPS,
		"%XMONITOR":    handleXMONITOR,
		"+CESQ":        handleCESQ,
		"%XSYSTEMMODE": handleXSYSTEMMODE,
		"%XVBAT":       handleXVBAT,
		"%XTIME":       handleXTIME,
		"+CCLK":        handleCCLK,
		"+CLAC":        handleCLAC,
		"%CERTEXPIRY":  handleCERTEXPIRY,
		"%XPOFWARN":    handleXPOFWARN,
		"%CMNG":        handleCMNG,
		"%KEYGEN":      handleKEYGEN,
		"%ATTESTTOKEN": handleATTESTTOKEN,
	}
}

// manufacturer is the +CGMI answer (nrf91.md §4 [T]).
const manufacturer = "Nordic Semiconductor ASA"

func handleAT(_ context.Context, _ *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindExec {
		return atparser.Error()
	}
	return atparser.OK()
}

// infoCommand answers an exec-only identity command with one line; read and
// test forms answer ERROR (AT+CGMI?, AT%XMODEMUUID? → ERROR [T]).
func infoCommand(line func(m *Modem) string) handler {
	return func(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
		if cmd.Kind != atparser.KindExec {
			return atparser.Error()
		}
		return atparser.OK(line(m))
	}
}

func handleDeviceUUID(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if !m.model.HasDevUUID || cmd.Kind != atparser.KindExec {
		return atparser.Error()
	}
	return atparser.OK("%DEVICEUUID: " + m.id.DeviceUUID)
}

func handleCMEE(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		return atparser.OK(fmt.Sprintf("+CMEE: %d", m.cmee))
	case atparser.KindTest:
		return atparser.OK("+CMEE: (0,1)")
	case atparser.KindSet:
		n, ok := cmd.IntParam(0)
		if !ok || cmd.ParamCount() != 1 || n < 0 || n > 2 {
			return atparser.Error()
		}
		// 2 (verbose) still gives numeric codes on nRF9151 [T DevZone 127428].
		m.cmee = int(n)
		return atparser.OK()
	}
	return atparser.Error()
}

func handleCGSN(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	snt := int64(0)
	switch cmd.Kind {
	case atparser.KindExec:
	case atparser.KindTest:
		return atparser.OK("+CGSN: (0-3)")
	case atparser.KindSet:
		var ok bool
		if snt, ok = cmd.IntParam(0); !ok || cmd.ParamCount() != 1 {
			return atparser.Error()
		}
	default:
		return atparser.Error()
	}
	// nrf91.md §4 [S cgsn_set]: 0 bare IMEI, 1 quoted IMEI, 2 IMEISV, 3 SVN.
	switch snt {
	case 0:
		return atparser.OK(m.id.IMEI)
	case 1:
		return atparser.OK(`+CGSN: "` + m.id.IMEI + `"`)
	case 2:
		return atparser.OK(`+CGSN: "` + m.id.IMEISV() + `"`)
	case 3:
		return atparser.OK(`+CGSN: "` + m.id.SVN + `"`)
	}
	return atparser.Error()
}
