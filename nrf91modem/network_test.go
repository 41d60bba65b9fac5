package nrf91modem

import (
	"context"
	"crypto/rand"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/firmware"
)

// simTime is the fake simulation clock of these tests.
var simTime = time.Date(2026, 12, 1, 9, 30, 5, 0, time.UTC)

func fixedClock() time.Time { return simTime }

func netOpts(n Network) Options {
	if n.Delay.Duration == 0 {
		n.Delay.Duration = time.Millisecond
	}
	return Options{Network: n, Clock: fixedClock}
}

// waitURCs waits until n URCs arrived and returns them.
func (tm *testModem) waitURCs(t *testing.T, n int) []string {
	t.Helper()
	require.Eventually(t, func() bool { return tm.urcCount() >= n }, 5*time.Second, time.Millisecond,
		"waiting for %d URCs", n)
	return tm.takeURCs()
}

func dur(d time.Duration) firmware.Duration { return firmware.Duration{Duration: d} }

const (
	cellFields = `"67C0","01AA1300",7`
	psmFields  = `,,,"00001010","01011111"`
	xtimeURC   = `%XTIME: "00","62211090035000","00"`
)

func TestRegistrationOutcomes(t *testing.T) {
	tests := []struct {
		outcome string
		urcs    []string
		state   NetworkState
		cereg   string // +CEREG? afterwards, at level 5
	}{
		{OutcomeHome, []string{"+CEREG: 2", "+CSCON: 1,7,4", "+CGEV: ME PDN ACT 0", "+CEREG: 1," + cellFields + psmFields, xtimeURC},
			NetworkState{Registered: true, PDNActive: true, IPAddress: "10.0.1.1"}, "+CEREG: 5,1," + cellFields + psmFields},
		{OutcomeRoaming, []string{"+CEREG: 2", "+CSCON: 1,7,4", "+CGEV: ME PDN ACT 0", "+CEREG: 5," + cellFields + psmFields, xtimeURC},
			NetworkState{Registered: true, Roaming: true, PDNActive: true, IPAddress: "10.0.1.1"}, "+CEREG: 5,5," + cellFields + psmFields},
		{OutcomeDenied, []string{"+CEREG: 2", "+CNEC_EMM: 11", "+CEREG: 3," + cellFields + ",0,11"},
			NetworkState{}, "+CEREG: 5,3," + cellFields + ",0,11"},
		{OutcomePDNReject, []string{"+CEREG: 2", "+CSCON: 1,7,4", "+CNEC_ESM: 27,0", "+CEREG: 1," + cellFields + psmFields, xtimeURC},
			NetworkState{Registered: true}, "+CEREG: 5,1," + cellFields + psmFields},
		{OutcomeNoCoverage, []string{"+CEREG: 2", "+CEREG: 4"}, NetworkState{}, "+CEREG: 5,4"},
		{OutcomeNoSIM, []string{"+CEREG: 90"}, NetworkState{}, "+CEREG: 5,90"},
	}
	for _, tc := range tests {
		t.Run(tc.outcome, func(t *testing.T) {
			tm := newTestModem(t, "nrf9151", netOpts(Network{Outcome: tc.outcome}))
			for _, c := range []string{"AT+CEREG=5", "AT+CSCON=3", "AT+CGEREP=1", "AT+CNEC=24", "AT%XTIME=1", "AT+CFUN=1"} {
				require.Equal(t, "OK\r\n", tm.at(t, c), c)
			}
			assert.Equal(t, tc.urcs, tm.waitURCs(t, len(tc.urcs)))
			assert.Equal(t, tc.state, tm.NetworkState())
			assert.Equal(t, tc.cereg+"\r\nOK\r\n", tm.at(t, "AT+CEREG?"))
			assert.True(t, tm.Activated())
		})
	}
}

func TestDeactivationURCs(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	runSteps(t, tm, []step{{"AT+CEREG=1", "OK\r\n"}, {"AT+CSCON=1", "OK\r\n"}, {"AT+CGEREP=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	tm.waitURCs(t, 4)
	runSteps(t, tm, []step{{"AT+CFUN=4", "OK\r\n"}})
	assert.Equal(t, []string{"+CSCON: 0", "+CGEV: ME DETACH", "+CEREG: 0"}, tm.takeURCs())
	assert.Equal(t, NetworkState{}, tm.NetworkState())
	runSteps(t, tm, []step{
		{"AT+CGACT?", "+CGACT: 0,0\r\nOK\r\n"},
		{"AT+CGDCONT?", `+CGDCONT: 0,"IP","","",0,0` + "\r\nOK\r\n"}, // network-assigned APN and address go with the PDN
	})
}

func TestCoverageLossAndRegain(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{LossAfter: dur(2 * time.Millisecond), RegainAfter: dur(2 * time.Millisecond)}))
	runSteps(t, tm, []step{{"AT+CEREG=1", "OK\r\n"}, {"AT+CSCON=1", "OK\r\n"}, {"AT+CGEREP=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	want := []string{"+CEREG: 2", "+CSCON: 1", "+CGEV: ME PDN ACT 0", "+CEREG: 1", // registered
		"+CSCON: 0", "+CEREG: 4", // lost: out of coverage, PDN kept
		"+CSCON: 1", "+CEREG: 1"} // back, no second PDN activation
	assert.Equal(t, want, tm.waitURCs(t, len(want)))
	assert.Equal(t, NetworkState{Registered: true, PDNActive: true, IPAddress: "10.0.1.1"}, tm.NetworkState())
	// The loss happens once per activation, not as a flapping cell.
	assert.Never(t, func() bool { return tm.urcCount() > 0 }, 30*time.Millisecond, 5*time.Millisecond)
}

func TestPDNRejectSurvivesCoverageLoss(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{Outcome: OutcomePDNReject,
		LossAfter: dur(2 * time.Millisecond), RegainAfter: dur(2 * time.Millisecond)}))
	runSteps(t, tm, []step{{"AT+CEREG=1", "OK\r\n"}, {"AT+CGEREP=1", "OK\r\n"}, {"AT+CNEC=16", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	want := []string{"+CEREG: 2", "+CNEC_ESM: 27,0", "+CEREG: 1", "+CEREG: 4", "+CNEC_ESM: 27,0", "+CEREG: 1"}
	assert.Equal(t, want, tm.waitURCs(t, len(want)))
	assert.Equal(t, NetworkState{Registered: true}, tm.NetworkState(), "the PDN stays refused")
}

func TestRRCInactivity(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{RRCIdleAfter: dur(3 * time.Millisecond)}))
	tm.RadioActivity() // not registered: nothing to connect
	runSteps(t, tm, []step{{"AT+CSCON=1", "OK\r\n"}, {"AT+CEREG=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	want := []string{"+CEREG: 2", "+CSCON: 1", "+CEREG: 1", "+CSCON: 0"} // released after inactivity
	assert.Equal(t, want, tm.waitURCs(t, len(want)))
	tm.RadioActivity() // traffic sets the connection up again, then it idles again
	assert.Equal(t, []string{"+CSCON: 1", "+CSCON: 0"}, tm.waitURCs(t, 2))
	assert.True(t, tm.NetworkState().Registered, "RRC idle is still registered")
	runSteps(t, tm, []step{{"AT+CFUN=4", "OK\r\n"}})
	assert.Equal(t, []string{"+CEREG: 0"}, tm.takeURCs())
}

func TestRegistrationDelayAndCancel(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{Delay: dur(time.Hour)}))
	runSteps(t, tm, []step{{"AT+CEREG=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}, {"AT+CEREG?", "+CEREG: 1,2\r\nOK\r\n"}, {"AT+CFUN=4", "OK\r\n"}})
	assert.Equal(t, []string{"+CEREG: 2", "+CEREG: 0"}, tm.takeURCs())
	assert.False(t, tm.NetworkState().Registered)
}

func TestCEREGLevels(t *testing.T) {
	tests := []struct {
		level, outcome, read string
	}{
		{"0", OutcomeHome, "+CEREG: 0,1"},
		{"1", OutcomeHome, "+CEREG: 1,1"},
		{"2", OutcomeHome, "+CEREG: 2,1," + cellFields},
		{"3", OutcomeHome, "+CEREG: 3,1," + cellFields},
		{"4", OutcomeHome, "+CEREG: 4,1," + cellFields + psmFields},
		{"5", OutcomeHome, "+CEREG: 5,1," + cellFields + psmFields},
		{"2", OutcomeDenied, "+CEREG: 2,3," + cellFields},
		{"3", OutcomeDenied, "+CEREG: 3,3," + cellFields + ",0,11"},
		{"4", OutcomeDenied, "+CEREG: 4,3," + cellFields},
		{"5", OutcomeDenied, "+CEREG: 5,3," + cellFields + ",0,11"},
		{"5", OutcomeNoCoverage, "+CEREG: 5,4"},
	}
	for _, tc := range tests {
		t.Run(tc.outcome+"/"+tc.level, func(t *testing.T) {
			tm := newTestModem(t, "nrf9151", netOpts(Network{Outcome: tc.outcome}))
			runSteps(t, tm, []step{{"AT+CEREG=5", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
			tm.waitURCs(t, 2)
			runSteps(t, tm, []step{{"AT+CEREG=" + tc.level, "OK\r\n"}, {"AT+CEREG?", tc.read + "\r\nOK\r\n"}})
		})
	}
	tm := newTestModem(t, "nrf9151", netOpts(Network{NoPSM: true, RejectCause: 15}))
	runSteps(t, tm, []step{
		{"AT+CEREG=?", "+CEREG: (0-5)\r\nOK\r\n"},
		{"AT+CEREG=6", "ERROR\r\n"},
		{"AT+CEREG=-1", "ERROR\r\n"},
		{"AT+CEREG=1,2", "ERROR\r\n"},
		{`AT+CEREG="1"`, "ERROR\r\n"},
		{"AT+CEREG=", "OK\r\n"}, // empty <n> = 0
		{"AT+CEREG", "ERROR\r\n"},
		{"AT+CEREG=4", "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
	})
	tm.waitURCs(t, 2)
	// Without PSM the Active-Time reads as deactivated (24.008).
	runSteps(t, tm, []step{{"AT+CEREG?", "+CEREG: 4,1," + cellFields + `,,,"11100000","01011111"` + "\r\nOK\r\n"}})
}

func TestCSCONLevels(t *testing.T) {
	tests := []struct{ level, urc, read string }{
		{"1", "+CSCON: 1", "+CSCON: 1,1"},
		{"2", "+CSCON: 1,7", "+CSCON: 2,1,7"},
		{"3", "+CSCON: 1,7,4", "+CSCON: 3,1,7,4"},
	}
	for _, tc := range tests {
		t.Run(tc.level, func(t *testing.T) {
			tm := newTestModem(t, "nrf9151", netOpts(Network{}))
			runSteps(t, tm, []step{{"AT+CSCON=" + tc.level, "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
			assert.Equal(t, []string{tc.urc}, tm.waitURCs(t, 1))
			runSteps(t, tm, []step{{"AT+CSCON?", tc.read + "\r\nOK\r\n"}, {"AT+CFUN=4", "OK\r\n"}, {"AT+CSCON?", "+CSCON: " + tc.level + ",0\r\nOK\r\n"}})
			assert.Equal(t, []string{"+CSCON: 0"}, tm.takeURCs())
		})
	}
	// +CSCON=0 silences it while the connection still changes.
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	runSteps(t, tm, []step{
		{"AT+CSCON=?", "+CSCON: (0,1,2,3)\r\nOK\r\n"},
		{"AT+CSCON=4", "ERROR\r\n"},
		{"AT+CSCON=1", "OK\r\n"},
		{"AT+CSCON=0", "OK\r\n"},
		{"AT+CEREG=1", "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
	})
	assert.Equal(t, []string{"+CEREG: 2", "+CEREG: 1"}, tm.waitURCs(t, 2))
	runSteps(t, tm, []step{{"AT+CSCON?", "+CSCON: 0,1\r\nOK\r\n"}, {"AT+CFUN=0", "OK\r\n"}})
	assert.Equal(t, []string{"+CEREG: 0"}, tm.takeURCs())
}

// registered returns a modem registered on its (default) network.
func registered(t *testing.T, n Network) *testModem {
	t.Helper()
	tm := newTestModem(t, "nrf9151", netOpts(n))
	runSteps(t, tm, []step{{"AT+CEREG=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	tm.waitURCs(t, 2)
	return tm
}

func TestSIMCommands(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	id := tm.Identity()
	runSteps(t, tm, []step{
		{"AT+CPIN?", "ERROR\r\n"}, // +CFUN=0: the UICC is off
		{"AT+CIMI", "ERROR\r\n"},
		{"AT+CFUN=41", "OK\r\n"},
		{"AT+CPIN?", "+CPIN: READY\r\nOK\r\n"},
		{"AT+CPIN=?", "ERROR\r\n"},
		{`AT+CPIN="1234"`, "ERROR\r\n"},
		{"AT+CIMI", id.IMSI + "\r\nOK\r\n"},
		{"AT+CIMI?", "ERROR\r\n"},
		{"AT%XICCID", "%XICCID: " + id.ICCID + "F\r\nOK\r\n"}, // 19 digits, padded
		{"AT%XICCID=?", "ERROR\r\n"},
		{"AT+CFUN=40", "OK\r\n"},
		{"AT%XICCID", "ERROR\r\n"},
		{"AT+CFUN=4", "OK\r\n"},
		{"AT+CIMI", id.IMSI + "\r\nOK\r\n"},
	})
	nosim := newTestModem(t, "nrf9151", netOpts(Network{Outcome: OutcomeNoSIM}))
	runSteps(t, nosim, []step{{"AT+CFUN=1", "OK\r\n"}, {"AT+CPIN?", "ERROR\r\n"}, {"AT+CIMI", "ERROR\r\n"},
		{"AT+CESQ", "+CESQ: 99,99,255,255,255,255\r\nOK\r\n"}, {"AT+COPS?", "+COPS: 0\r\nOK\r\n"}, {"AT%XMONITOR", "%XMONITOR: 90\r\nOK\r\n"}})
}

func TestNetworkStatusCommands(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	plmn := tm.Identity().HomePLMN()
	require.Equal(t, "00101", plmn)
	runSteps(t, tm, []step{
		{"AT+COPS?", "+COPS: 0\r\nOK\r\n"},
		{"AT+COPS=?", "+COPS: \r\nOK\r\n"}, // not searching: nothing found
		{"AT%XMONITOR", "%XMONITOR: 0\r\nOK\r\n"},
		{"AT+CESQ", "+CESQ: 99,99,255,255,255,255\r\nOK\r\n"},
		{"AT+CCLK?", "ERROR\r\n"}, // no network time yet
		{"AT+CMEE=1", "OK\r\n"},
		{"AT+CEREG=1", "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
	})
	tm.waitURCs(t, 2)
	runSteps(t, tm, []step{
		{"AT+COPS?", `+COPS: 0,2,"00101",7` + "\r\nOK\r\n"},
		{"AT+COPS=3,0", "OK\r\n"},
		{"AT+COPS?", `+COPS: 0,0,"modemsim",7` + "\r\nOK\r\n"},
		{"AT+COPS=3,1", "OK\r\n"},
		{"AT+COPS?", `+COPS: 0,1,"msim",7` + "\r\nOK\r\n"},
		{"AT+COPS=3,3", "+CME ERROR: 50\r\n"},
		{"AT+COPS=?", `+COPS: (2,"modemsim","msim","00101",7)` + "\r\nOK\r\n"},
		{"AT+COPS=2", "+CME ERROR: 50\r\n"}, // deregistration is not in the nRF91 set
		{`AT+COPS=1,0,"00101"`, "+CME ERROR: 50\r\n"},
		{`AT+COPS=1,2,"00101",8`, "+CME ERROR: 50\r\n"},
		{`AT+COPS=1,2,"00101",7`, "OK\r\n"}, // the serving network: still registered
		{"AT+COPS?", `+COPS: 1,1,"msim",7` + "\r\nOK\r\n"},
		{`AT%XMONITOR`, `%XMONITOR: 1,"modemsim","msim","00101","67C0",7,20,"01AA1300",281,6400,53,42,"","00001010","01011111","01001001"` + "\r\nOK\r\n"},
		{"AT%XMONITOR?", "ERROR\r\n"},
		{"AT+CESQ", "+CESQ: 99,99,255,255,21,53\r\nOK\r\n"},
		{"AT+CESQ=?", "+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)\r\nOK\r\n"},
		{"AT+CCLK?", `+CCLK: "26/12/01,09:30:05+00"` + "\r\nOK\r\n"},
		{`AT+CCLK="27/01/02,03:04:05+08"`, "OK\r\n"},
		{"AT+CCLK?", `+CCLK: "27/01/02,03:04:05+08"` + "\r\nOK\r\n"},
		{`AT+CCLK="27/01/02,03:04:05-04"`, "OK\r\n"},
		{"AT+CCLK?", `+CCLK: "27/01/02,03:04:05-04"` + "\r\nOK\r\n"},
		{`AT+CCLK="22/08/13,18:03:41+99"`, "OK\r\n"}, // as sdk-nrf date_time sets it
		{"AT+CCLK?", `+CCLK: "22/08/13,18:03:41+99"` + "\r\nOK\r\n"},
		{`AT+CCLK="22/08/13,18:03:41+57"`, "+CME ERROR: 50\r\n"},
		{`AT+CCLK="27/01/02,03:04:05"`, "+CME ERROR: 50\r\n"},
		{`AT+CCLK="27/13/02,03:04:05+08"`, "+CME ERROR: 50\r\n"},
		{"AT%XVBAT", "%XVBAT: 3700\r\nOK\r\n"},
		{"AT%XVBAT?", "ERROR\r\n"},
		{"AT%XTIME=1", "OK\r\n"},
		{"AT%XTIME=2", "ERROR\r\n"},
		{"AT%XTIME?", "ERROR\r\n"},
	})
	assert.Empty(t, tm.takeURCs())
	// Manual selection of a network that is not there: the modem leaves its
	// registration and keeps searching.
	runSteps(t, tm, []step{{`AT+COPS=1,2,"24201"`, "OK\r\n"}})
	assert.Equal(t, []string{"+CEREG: 2"}, tm.takeURCs())
	assert.Never(t, func() bool { return tm.urcCount() > 0 }, 20*time.Millisecond, 2*time.Millisecond)
	runSteps(t, tm, []step{{"AT+COPS=0", "OK\r\n"}})
	// Registered again: the network's time replaces the one the host set.
	assert.Equal(t, []string{"+CEREG: 1", xtimeURC}, tm.waitURCs(t, 2))
	runSteps(t, tm, []step{{"AT+CCLK?", `+CCLK: "26/12/01,09:30:05+00"` + "\r\nOK\r\n"}})
}

func TestSystemMode(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{"AT%XSYSTEMMODE?", "%XSYSTEMMODE: 1,0,0,0\r\nOK\r\n"},
		{"AT%XSYSTEMMODE=?", "%XSYSTEMMODE: (0,1),(0,1),(0,1),(0-4)\r\nOK\r\n"},
		{"AT%XSYSTEMMODE=1,1,0", "ERROR\r\n"},
		{"AT%XSYSTEMMODE=1,1,0,5", "+CME ERROR: 50\r\n"},
		{"AT%XSYSTEMMODE=2,1,0,0", "+CME ERROR: 50\r\n"},
		{"AT%XSYSTEMMODE=0,1,1,0", "OK\r\n"},
		{"AT%XSYSTEMMODE?", "%XSYSTEMMODE: 0,1,1,0\r\nOK\r\n"},
		{"AT+CEREG=2", "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
		{"AT%XSYSTEMMODE=1,0,0,0", "+CME ERROR: 518\r\n"},
	})
	// NB-IoT only: AcT 9 in +CEREG.
	assert.Equal(t, []string{"+CEREG: 2", `+CEREG: 1,"67C0","01AA1300",9`}, tm.waitURCs(t, 2))
	gnss := newTestModem(t, "nrf9151", netOpts(Network{}))
	runSteps(t, gnss, []step{{"AT%XSYSTEMMODE=0,0,1,0", "OK\r\n"}, {"AT+CEREG=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	assert.Never(t, func() bool { return gnss.urcCount() > 0 }, 20*time.Millisecond, 2*time.Millisecond, "GNSS only: LTE never searches")
}

func TestPDNCommands(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{"AT+CGDCONT?", `+CGDCONT: 0,"IP","","",0,0` + "\r\nOK\r\n"},
		{"AT+CGACT?", "+CGACT: 0,0\r\nOK\r\n"},
		{"AT+CGEREP?", "+CGEREP: 0,0\r\nOK\r\n"},
		{"AT+CGEREP=?", "+CGEREP: (0,1),(0)\r\nOK\r\n"},
		{"AT+CGEREP=2", "ERROR\r\n"},
		{"AT+CGEREP=1", "OK\r\n"},
		{"AT+CGEREP?", "+CGEREP: 1,0\r\nOK\r\n"},
		{`AT+CGDCONT=1,"IPV4V6","iot.example"`, "OK\r\n"},
		{`AT+CGDCONT=2,"Non-IP"`, "OK\r\n"},
		{`AT+CGDCONT=3,"X25","a"`, "+CME ERROR: 50\r\n"},
		{`AT+CGDCONT=12,"IP","a"`, "+CME ERROR: 50\r\n"},
		{`AT+CGDCONT=1,"IP",5`, "+CME ERROR: 50\r\n"},
		{"AT+CGDCONT=2", "OK\r\n"},
		{"AT+CGDCONT=0", "+CME ERROR: 50\r\n"},
		{"AT+CGDCONT=?", `+CGDCONT: (0-11),("IP","IPV6","IPV4V6","Non-IP")` + "\r\nOK\r\n"},
		{"AT+CGACT=1,1", "+CME ERROR: 0\r\n"}, // not registered
		{"AT+CFUN=1", "OK\r\n"},
	})
	assert.Equal(t, []string{"+CGEV: ME PDN ACT 0"}, tm.waitURCs(t, 1))
	runSteps(t, tm, []step{
		{"AT+CGDCONT?", `+CGDCONT: 0,"IP","modemsim.iot","10.0.1.1",0,0` + "\r\n" + `+CGDCONT: 1,"IPV4V6","iot.example","",0,0` + "\r\nOK\r\n"},
		{"AT+CGACT?", "+CGACT: 0,1\r\n+CGACT: 1,0\r\nOK\r\n"},
		{"AT+CGACT=0,0", "+CME ERROR: 50\r\n"}, // the initial PDN is not the host's to change
		{"AT+CGACT=1,5", "+CME ERROR: 50\r\n"}, // undefined
		{"AT+CGACT=1,1", "OK\r\n"},
		{"AT+CGACT?", "+CGACT: 0,1\r\n+CGACT: 1,1\r\nOK\r\n"},
		{`AT+CGDCONT=0,"IP","x"`, "+CME ERROR: 518\r\n"},
		{"AT+CGACT=0,1", "OK\r\n"},
		{"AT+CGACT=1", "ERROR\r\n"},
		{"AT+CGEREP=", "OK\r\n"}, // unsubscribes
		{"AT+CGACT=1,1", "OK\r\n"},
	})
	assert.Equal(t, []string{"+CGEV: ME PDN ACT 1", "+CGEV: ME PDN DEACT 1"}, tm.takeURCs())
}

func TestCNECForms(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	runSteps(t, tm, []step{
		{"AT+CNEC?", "+CNEC: 0\r\nOK\r\n"},
		{"AT+CNEC=24", "OK\r\n"},
		{"AT+CNEC?", "+CNEC: 24\r\nOK\r\n"},
		{"AT+CNEC=4", "ERROR\r\n"},
		{"AT+CNEC=32", "ERROR\r\n"},
		{"AT+CNEC=?", "+CNEC: (0,8,16,24)\r\nOK\r\n"},
	})
}

func TestCERTEXPIRY(t *testing.T) {
	cert := testCert(t, "expiry") // serial 7, valid ±1 h around now
	tm := newTestModem(t, "nrf9151", netOpts(Network{}))
	block := parseFirstCert(t, cert)
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{`AT%CMNG=0,42,0,"` + cert + `"`, "OK\r\n"},
		{`AT%CMNG=0,42,4,"id"`, "OK\r\n"},
		{"AT%CERTEXPIRY=42,0", "%CERTEXPIRY: 07," + block.NotBefore.UTC().Format("20060102150405Z") + "," +
			block.NotAfter.UTC().Format("20060102150405Z") + "\r\nOK\r\n"},
		{"AT%CERTEXPIRY=42,1", "+CME ERROR: 513\r\n"},
		{"AT%CERTEXPIRY=42,4", "+CME ERROR: 50\r\n"},
		{"AT%CERTEXPIRY=0,0", "+CME ERROR: 50\r\n"},
		{"AT%CERTEXPIRY=2147483648,0", "+CME ERROR: 50\r\n"},
		{"AT%CERTEXPIRY=42", "ERROR\r\n"},
		{"AT%CERTEXPIRY?", "ERROR\r\n"},
	})
	no := false
	lax := newTestModem(t, "nrf9151", Options{ValidatePEM: &no})
	runSteps(t, lax, []step{{"AT+CMEE=1", "OK\r\n"}, {`AT%CMNG=0,5,0,"HONKHONK"`, "OK\r\n"}, {"AT%CERTEXPIRY=5,0", "+CME ERROR: 527\r\n"}})
}

func TestCERTEXPIRYSerialSignOctet(t *testing.T) {
	// The reference's example serial 00AEF87681FA968B61 keeps the DER sign octet.
	cert := testCertSerial(t, "AEF87681FA968B61")
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{{`AT%CMNG=0,1,1,"` + cert + `"`, "OK\r\n"}})
	assert.Regexp(t, `^%CERTEXPIRY: 00AEF87681FA968B61,\d{14}Z,\d{14}Z\r\nOK\r\n$`, tm.at(t, "AT%CERTEXPIRY=1,1"))
}

func TestCLACListsTheCommandTable(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	resp := tm.at(t, "AT+CLAC")
	lines := strings.Split(strings.TrimSuffix(resp, "\r\nOK\r\n"), "\r\n")
	assert.Equal(t, SimulatedCommands(), lines)
	assert.Len(t, lines, len(commandTable())-1) // all but the bare AT
	for _, want := range []string{"AT+CFUN", "AT%CMNG", "AT+CLAC", "AT%XMONITOR", "AT+CGDCONT"} {
		assert.Contains(t, lines, want)
	}
	assert.Equal(t, "ERROR\r\n", tm.at(t, "AT+CLAC=?"))
}

// recordingHandler keeps log records for assertions.
type recordingHandler struct {
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *recordingHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r)
	return nil
}
func (h *recordingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *recordingHandler) WithGroup(string) slog.Handler      { return h }

func TestUnsimulatedCommandsAreLoggedOnce(t *testing.T) {
	h := &recordingHandler{}
	tm := newTestModem(t, "nrf9151", Options{Logger: slog.New(h)})
	for _, c := range []string{"AT+CGATT?", "AT+CGATT=1", "AT%XBANDLOCK=0", "AT+CGATT?", "AT+CFUN?"} {
		tm.at(t, c)
	}
	assert.Equal(t, "ERROR\r\n", tm.at(t, "AT+CGATT?"), "an unsimulated command keeps answering ERROR")
	h.mu.Lock()
	defer h.mu.Unlock()
	var cmds []string
	for _, r := range h.records {
		assert.Equal(t, slog.LevelWarn, r.Level)
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "command" {
				cmds = append(cmds, a.Value.String())
			}
			return true
		})
	}
	assert.Equal(t, []string{"AT+CGATT", "AT%XBANDLOCK"}, cmds)
}

func TestNetworkSettingsValidation(t *testing.T) {
	tests := []struct {
		name string
		n    Network
		err  string
	}{
		{"unknown outcome", Network{Outcome: "flaky"}, "outcome"},
		{"bad PLMN", Network{PLMN: "1234"}, "PLMN"},
		{"lower-case TAC", Network{TAC: "67c0"}, "TAC"},
		{"timer", Network{ActiveTime: "0101"}, "PSM timers"},
		{"RSRP", Network{RSRPdBm: -20}, "RSRP"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.n.withDefaults("00101")
			assert.ErrorContains(t, err, tc.err)
		})
	}
	n, err := Network{Outcome: OutcomeRoaming}.withDefaults("00101")
	require.NoError(t, err)
	assert.Equal(t, "00102", n.PLMN, "roaming: a network that is not home")
	assert.Equal(t, 300*time.Millisecond, n.Delay.Duration)
}

func TestSignalIndexes(t *testing.T) {
	assert.Equal(t, 53, rsrpIndex(-87))
	assert.Equal(t, 0, rsrpIndex(-150))
	assert.Equal(t, 97, rsrpIndex(-40))
	assert.Equal(t, 42, snrIndex(18))
	assert.Equal(t, 31, rsrqIndex(-4)) // +CESQ: 99,99,255,255,31,62 in the reference ↔ -4 dB
	assert.Equal(t, "62211090035000", semiOctets(simTime))
}

func TestCERTEXPIRYNordicRoot(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	model, err := LookupModel("nrf9151")
	require.NoError(t, err)
	pub, err := tm.identityKey.PublicKeyPEM()
	require.NoError(t, err)
	require.NoError(t, SeedNordicCredentials(rand.Reader, tm.store, model, pub))
	// The stand-in Nordic root is valid 2021–2051 (seed.go).
	assert.Equal(t, "%CERTEXPIRY: 01,20210101000000Z,20510101000000Z\r\nOK\r\n", tm.at(t, "AT%CERTEXPIRY=4294967292,10"))
}
