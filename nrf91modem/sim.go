package nrf91modem

import (
	"context"

	"github.com/modemsim/modemsim/atparser"
)

// SIM answers (nRF91x1 AT reference [S]: cpin_read, cimi_set, xiccid_set).
const (
	cpinReady = "+CPIN: READY"
	// A 19-digit ICCID is padded to 20 nibbles with F, as EF_ICCID holds it
	// in BCD (3GPP TS 31.102 §4.2 [S]; printed so by %XICCID [I]).
	iccidPad = "F"
)

// simReadyLocked: the UICC is powered (+CFUN other than 0/40) and present.
// Without a SIM, +CPIN? answers ERROR [T probe of an nRF9151 without SIM].
func (m *Modem) simReadyLocked() bool { return m.uicc && m.net.Outcome != OutcomeNoSIM }

func handleCPIN(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmd.Kind != atparser.KindRead {
		// No PIN is set on a simulated SIM: there is nothing to enter [I].
		return atparser.Error()
	}
	if !m.simReadyLocked() {
		return atparser.Error()
	}
	return atparser.OK(cpinReady)
}

func handleCIMI(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmd.Kind != atparser.KindExec || !m.simReadyLocked() {
		return atparser.Error()
	}
	return atparser.OK(m.id.IMSI)
}

func handleXICCID(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmd.Kind != atparser.KindExec || !m.simReadyLocked() {
		return atparser.Error()
	}
	iccid := m.id.ICCID
	if len(iccid) == iccidMinDigits {
		iccid += iccidPad
	}
	return atparser.OK("%XICCID: " + iccid)
}
