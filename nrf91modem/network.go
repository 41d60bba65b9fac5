package nrf91modem

import (
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/modemsim/modemsim/firmware"
)

// Registration outcomes a board can give its network (Network.Outcome).
// How a real network behaves is the simulation's choice; each outcome ends
// in the +CEREG status the reference documents for it (nrf91.md §4,
// nRF91x1 AT reference cereg_read [S]).
const (
	OutcomeHome       = "home"        // registered, home network (stat 1)
	OutcomeRoaming    = "roaming"     // registered, roaming (stat 5)
	OutcomeDenied     = "denied"      // registration denied (stat 3) with Network.RejectCause
	OutcomePDNReject  = "pdn_reject"  // registered, but the default PDN (cid 0) is refused with Network.ESMCause
	OutcomeNoCoverage = "no_coverage" // searching, then unknown / out of E-UTRAN coverage (stat 4)
	OutcomeNoSIM      = "no_sim"      // UICC failure (stat 90): +CPIN? and +CIMI answer ERROR [T probe of an nRF9151 without SIM]
)

var outcomes = map[string]bool{OutcomeHome: true, OutcomeRoaming: true, OutcomeDenied: true,
	OutcomePDNReject: true, OutcomeNoCoverage: true, OutcomeNoSIM: true}

// Network is the simulated LTE network a board's modem registers on after
// AT+CFUN=1: how long it takes, how it ends, whether coverage is lost
// later, and what the serving cell reports. Zero values pick the defaults
// in networkDefaults. It is a board setting (JSON, durations as "1s").
type Network struct {
	Delay       firmware.Duration `json:"delay,omitempty"`        // AT+CFUN=1 → registration result
	Outcome     string            `json:"outcome,omitempty"`      // one of the Outcome constants; default home
	RejectCause int               `json:"reject_cause,omitempty"` // EMM cause of a denied registration
	ESMCause    int               `json:"esm_cause,omitempty"`    // ESM cause of a refused PDN
	LossAfter   firmware.Duration `json:"loss_after,omitempty"`   // registered → coverage lost; 0 never
	RegainAfter firmware.Duration `json:"regain_after,omitempty"` // lost → registered again; 0 never
	// RRCIdleAfter releases the RRC connection (+CSCON: 0) after this much
	// inactivity, as a network's inactivity timer does; RadioActivity sets
	// it up again. 0 keeps the connection up.
	RRCIdleAfter firmware.Duration `json:"rrc_idle_after,omitempty"`

	PLMN          string `json:"plmn,omitempty"` // serving MCC+MNC; default: the SIM's home PLMN (roaming: networkDefaults.roamingPLMN)
	OperatorName  string `json:"operator_name,omitempty"`
	OperatorShort string `json:"operator_short,omitempty"`
	TAC           string `json:"tac,omitempty"`     // 2-byte tracking area code, hex
	CellID        string `json:"cell_id,omitempty"` // 4-byte E-UTRAN cell ID, hex
	Band          int    `json:"band,omitempty"`
	EARFCN        int    `json:"earfcn,omitempty"`
	PhysCellID    int    `json:"phys_cell_id,omitempty"`
	RSRPdBm       int    `json:"rsrp_dbm,omitempty"`
	RSRQdB        int    `json:"rsrq_db,omitempty"`
	SNRdB         int    `json:"snr_db,omitempty"`
	APN           string `json:"apn,omitempty"`        // APN the network assigns to cid 0
	IPAddress     string `json:"ip_address,omitempty"` // address of cid 0
	// NoPSM: the network does not grant PSM; Active-Time reads as
	// deactivated ("11100000", 24.008 §10.5.7.3 [S]).
	NoPSM       bool   `json:"no_psm,omitempty"`
	ActiveTime  string `json:"active_time,omitempty"`  // GPRS Timer 2, 8 bits
	PeriodicTAU string `json:"periodic_tau,omitempty"` // GPRS Timer 3 (T3412 extended), 8 bits
}

// networkDefaults fill a zero Network. The serving cell is one seen in the
// wild (nrf91.md §4 [T DevZone 120513]); band/EARFCN/PCI/signal are from
// Nordic's %XMONITOR test vectors [T sdk-nrf]; the PLMN is ITU's test
// network 001-01 [S E.212]; names, APN and address are the simulator's [I].
var networkDefaults = struct {
	delay                       time.Duration
	rejectCause, esmCause       int
	roamingPLMN                 string
	operatorName, operatorShort string
	tac, cellID                 string
	band, earfcn, pci           int
	rsrp, rsrq, snr             int
	apn, ip                     string
	activeTime, periodicTAU     string
	periodicTAULegacy           string
	psmDeactivated              string
	cgdcontType                 string
	vbat                        int
	xsystemmode                 [4]int
	copsFormat                  int
	cesqNotCamped               string
}{
	delay:       300 * time.Millisecond,
	rejectCause: 11, // EMM #11 "PLMN not allowed" (24.301 §9.9.3.9 [S])
	esmCause:    27, // ESM #27 "missing or unknown APN" (24.301 §9.9.4.4 [S])
	roamingPLMN: "00102",
	// Names the network sends in EMM INFORMATION [I].
	operatorName: "modemsim", operatorShort: "msim",
	tac: "67C0", cellID: "01AA1300",
	band: 20, earfcn: 6400, pci: 281,
	rsrp: -87, rsrq: -9, snr: 18,
	apn: "modemsim.iot", ip: "10.0.1.1",
	// PSM timers granted (nrf91.md §4 [T DevZone 120513]).
	activeTime: "00001010", periodicTAU: "01011111",
	periodicTAULegacy: "01001001", // T3412 as in Nordic's %XMONITOR vectors [T]
	psmDeactivated:    "11100000",
	cgdcontType:       "IP", // cid 0 before attach: +CGDCONT: 0,"IP","","",0,0 [T pastebin wUPTNrp6]
	vbat:              3700, // mV; real boards read 4464–5046 [T], a battery 3.7 V [I]
	xsystemmode:       [4]int{1, 0, 0, 0},
	copsFormat:        2,                              // numeric <oper>, the only one manual selection takes [S cops_set]
	cesqNotCamped:     "+CESQ: 99,99,255,255,255,255", // [T probe of an nRF9151 without SIM]
}

var (
	hexTAC    = regexp.MustCompile(`^[0-9A-F]{4}$`)
	hexCellID = regexp.MustCompile(`^[0-9A-F]{8}$`)
	plmnRE    = regexp.MustCompile(`^[0-9]{5,6}$`)
	timerBits = regexp.MustCompile(`^[01]{8}$`)
)

// withDefaults validates n and fills what is zero. homePLMN is the SIM's.
func (n Network) withDefaults(homePLMN string) (Network, error) {
	d := networkDefaults
	if n.Outcome == "" {
		n.Outcome = OutcomeHome
	}
	if !outcomes[n.Outcome] {
		return n, fmt.Errorf("network outcome %q is not one of home, roaming, denied, pdn_reject, no_coverage, no_sim", n.Outcome)
	}
	if n.Delay.Duration == 0 {
		n.Delay.Duration = d.delay
	}
	setInt := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	setStr := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	setInt(&n.RejectCause, d.rejectCause)
	setInt(&n.ESMCause, d.esmCause)
	if n.PLMN == "" {
		n.PLMN = homePLMN
		if n.Outcome == OutcomeRoaming {
			n.PLMN = d.roamingPLMN
		}
	}
	setStr(&n.OperatorName, d.operatorName)
	setStr(&n.OperatorShort, d.operatorShort)
	setStr(&n.TAC, d.tac)
	setStr(&n.CellID, d.cellID)
	setInt(&n.Band, d.band)
	setInt(&n.EARFCN, d.earfcn)
	setInt(&n.PhysCellID, d.pci)
	setInt(&n.RSRPdBm, d.rsrp)
	setInt(&n.RSRQdB, d.rsrq)
	setInt(&n.SNRdB, d.snr)
	setStr(&n.APN, d.apn)
	setStr(&n.IPAddress, d.ip)
	setStr(&n.ActiveTime, d.activeTime)
	setStr(&n.PeriodicTAU, d.periodicTAU)
	if n.NoPSM {
		n.ActiveTime = d.psmDeactivated
	}
	var errs []error
	if !plmnRE.MatchString(n.PLMN) {
		errs = append(errs, fmt.Errorf("network PLMN %q is not 5 or 6 digits (MCC+MNC)", n.PLMN))
	}
	if !hexTAC.MatchString(n.TAC) || !hexCellID.MatchString(n.CellID) {
		errs = append(errs, fmt.Errorf("network TAC %q / cell ID %q are not 4 / 8 upper-case hex digits", n.TAC, n.CellID))
	}
	if !timerBits.MatchString(n.ActiveTime) || !timerBits.MatchString(n.PeriodicTAU) {
		errs = append(errs, fmt.Errorf("network PSM timers %q / %q are not 8 bits", n.ActiveTime, n.PeriodicTAU))
	}
	if n.RSRPdBm < -140 || n.RSRPdBm > -44 {
		errs = append(errs, fmt.Errorf("network RSRP %d dBm is outside -140…-44", n.RSRPdBm))
	}
	return n, errors.Join(errs...)
}

// Signal indexes as the modem reports them: RSRP index = dBm + 140,
// SNR index = dB + 24 (sdk-nrf lte_lc RSRP_IDX_TO_DBM / SNR_IDX_TO_DB
// [S]); RSRQ index = (dB + 19.5) × 2 (27.007 +CESQ [S]).
func rsrpIndex(dbm int) int { return clamp(dbm+140, 0, 97) }
func snrIndex(db int) int   { return clamp(db+24, 0, 49) }
func rsrqIndex(db int) int  { return clamp((2*db)+39, 0, 34) }

func clamp(v, lo, hi int) int { return max(lo, min(hi, v)) }
