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
	// RegistrationDelay is how long after activation the simulated network
	// takes to register (+CEREG: 2 → 1). Zero means 300 ms.
	RegistrationDelay time.Duration
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

	mu         sync.Mutex
	cmee       int
	fun        int  // +CFUN read value: 0, 1, 2 or 4
	lteActive  bool // "activated" for %CMNG: last of 1/2/21 not undone by 0/4/20/44 [I]
	cereg      int  // +CEREG subscription level 0–5
	cscon      int  // +CSCON subscription level
	regStat    int  // 3GPP registration status
	connected  bool // RRC connected (+CSCON mode 1)
	pofWarning bool // %XPOFWARN warning active → NVM writes fail with 528
	regTimer   *time.Timer
	handlers   map[string]handler
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
	if opts.RegistrationDelay == 0 {
		opts.RegistrationDelay = 300 * time.Millisecond
	}
	if notify == nil {
		notify = func(string) {}
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	m := &Modem{id: id, identityKey: cfg.IdentityKey, rand: opts.Rand, model: model, store: cfg.Store,
		opts: opts, log: opts.Logger, notify: notify, fun: 0, regStat: regNotSearching}
	m.handlers = sharedCommands()
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
// modem does not document answer ERROR (nrf91.md §1.2 [T]).
func (m *Modem) Handle(ctx context.Context, cmd atparser.Command) atparser.Response {
	h, ok := m.handlers[cmd.Name]
	if !ok {
		return atparser.Error()
	}
	return h(ctx, m, cmd)
}

// Close stops timers the modem runs for network simulation.
func (m *Modem) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopRegTimerLocked()
}

// Reset returns the modem to its power-on state, as a reboot of the board
// does: +CFUN=0, +CMEE=0, no subscriptions, not registered. The credential
// store is non-volatile and stays.
func (m *Modem) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stopRegTimerLocked()
	m.cmee, m.fun, m.lteActive, m.cereg, m.cscon = 0, 0, false, 0, 0
	m.regStat, m.connected, m.pofWarning = regNotSearching, false, false
}

func (m *Modem) stopRegTimerLocked() {
	if m.regTimer != nil {
		m.regTimer.Stop()
		m.regTimer = nil
	}
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
