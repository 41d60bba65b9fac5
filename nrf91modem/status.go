package nrf91modem

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
)

// +COPS (nRF91x1 AT reference cops_set/cops_read [S]): modes 0 automatic,
// 1 manual (numeric format only), 3 set the read format; formats 0 long
// name, 1 short name, 2 numeric.
const (
	copsAuto      = 0
	copsManual    = 1
	copsSetFormat = 3
	copsNumeric   = 2
	copsMaxFormat = 2
	// Test form lists (<stat>,long,short,numeric,<AcT>); stat 2 = current,
	// 1 = available (27.007 §7.3 [S]).
	copsStatCurrent   = 2
	copsStatAvailable = 1
)

// %XSYSTEMMODE=<LTE_M>,<NB_IoT>,<GNSS>,<LTE_preference> [S lte_lc]; the
// preference is 0–4. The test answer is built from those ranges [I].
const (
	xsystemmodeTest = "%XSYSTEMMODE: (0,1),(0,1),(0,1),(0-4)"
	maxLTEPref      = 4
)

// +CESQ: <rxlev>,<ber>,<rscp>,<ecno>,<rsrq>,<rsrp>; the 2G/3G fields are
// "not known" (99,99,255,255) on LTE (27.007 §8.69 [S]).
const (
	cesqLegacy = "99,99,255,255"
	cesqTest   = "+CESQ: (0-63,99),(0-7,99),(0-96,255),(0-49,255),(0-34,255),(0-97,255)" // ranges [S 27.007], form [I]
)

// %XTIME=<0|1> subscribes the network time notification
// %XTIME: "<local_time_zone>","<universal_time>","<daylight_saving_time>",
// each in 24.008 semi-octets (universal time = yy mm dd hh mm ss tz, each
// octet's digits swapped, 24.008 §10.5.3.9 [S]); sdk-nrf's date_time tests
// feed `%XTIME: "0A","4290018091940A","01"` [T]. There is no read form [I].
// The simulated network's local zone is UTC.
const (
	xtimeZone = "00"
	xtimeDST  = "00"
)

// +CCLK: "yy/MM/dd,hh:mm:ss±zz", zz in quarter hours (27.007 §8.15 [S]),
// as sdk-nrf's date_time reads it ("+CCLK: \"%u/%u/%u,%u:%u:%u%d" [S]).
// Before the network sent its time (or the host set it) the modem has no
// clock to report and answers ERROR, which date_time handles as "no modem
// time" [I]. date_time sets the clock with zone +99 (unknown) [T sdk-nrf
// date_time tests]: accepted, the time taken as UTC, the zone kept [I].
const (
	cclkLayout      = "06/01/02,15:04:05"
	cclkUnknownZone = 99
	cclkMaxZone     = 56 // UTC+14
	cclkMinZone     = -48
)

// %CERTEXPIRY=<sec_tag>,<type> → %CERTEXPIRY: <serial>,<notBefore>,<notAfter>
// (certexpiry_set [S]): serial in hex, dates yyyymmddhhmmssZ; types 0, 1
// and 10; sec_tag 1–2147483647; 513 if absent, 527 if not a certificate.
const (
	certExpiryLayout = "20060102150405Z"
	minCertExpiryTag = 1
)

var certExpiryTypes = map[int64]bool{TypeRootCA: true, TypeClientCert: true, TypeNordicRootCA: true}

func handleCOPS(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		if !m.registeredLocked() {
			return atparser.OK(fmt.Sprintf("+COPS: %d", m.copsMode)) // [T probe: "+COPS: 0"]
		}
		return atparser.OK(fmt.Sprintf(`+COPS: %d,%d,"%s",%d`, m.copsMode, m.copsFormat, m.operatorLocked(m.copsFormat), m.actLocked()))
	case atparser.KindTest:
		if !m.lteActive || m.actLocked() == 0 || m.net.Outcome == OutcomeNoSIM || m.net.Outcome == OutcomeNoCoverage {
			return atparser.OK("+COPS: ") // no network found [I]
		}
		stat := copsStatAvailable
		if m.registeredLocked() {
			stat = copsStatCurrent
		}
		return atparser.OK(fmt.Sprintf(`+COPS: (%d,"%s","%s","%s",%d)`, stat, m.net.OperatorName, m.net.OperatorShort, m.net.PLMN, m.actLocked()))
	case atparser.KindSet:
	default:
		return atparser.Error()
	}
	mode, ok := cmd.IntParam(0)
	if !ok {
		return atparser.Error()
	}
	switch {
	case mode == copsAuto && cmd.ParamCount() == 1:
		m.selectNetworkLocked(copsAuto, "")
	case mode == copsManual && (cmd.ParamCount() == 3 || cmd.ParamCount() == 4):
		format, ok1 := cmd.IntParam(1)
		oper, ok2 := cmd.StringParam(2)
		if !ok1 || !ok2 || format != copsNumeric || !plmnRE.MatchString(oper) {
			return m.fail(CMEIncorrectParams)
		}
		if cmd.ParamCount() == 4 {
			if act, ok := cmd.IntParam(3); !ok || (act != actLTEM && act != actNBIoT) {
				return m.fail(CMEIncorrectParams)
			}
		}
		m.selectNetworkLocked(copsManual, oper)
	case mode == copsSetFormat && cmd.ParamCount() == 2:
		format, ok := cmd.IntParam(1)
		if !ok || format < 0 || format > copsMaxFormat {
			return m.fail(CMEIncorrectParams)
		}
		m.copsFormat = int(format)
	default:
		return m.fail(CMEIncorrectParams)
	}
	return atparser.OK()
}

func (m *Modem) operatorLocked(format int) string {
	switch format {
	case 0:
		return m.net.OperatorName
	case 1:
		return m.net.OperatorShort
	}
	return m.net.PLMN
}

// selectNetworkLocked applies a +COPS selection; an active modem leaves a
// network that no longer matches and searches again [I].
func (m *Modem) selectNetworkLocked(mode int, plmn string) {
	changed := m.copsMode != mode || m.copsPLMN != plmn
	m.copsMode, m.copsPLMN = mode, plmn
	if !changed || !m.lteActive || m.net.Outcome == OutcomeNoSIM || m.actLocked() == 0 {
		return
	}
	if m.registeredLocked() && (mode == copsAuto || plmn == m.net.PLMN) {
		return
	}
	m.stopNetTimerLocked()
	m.dropRegistrationLocked()
	m.startSearchLocked()
}

// dropRegistrationLocked ends the RRC connection and the PDN contexts, with
// the detach a +CGEV subscriber sees [I].
func (m *Modem) dropRegistrationLocked() {
	m.setConnectedLocked(false)
	if m.anyPDNActiveLocked() {
		m.notifyCGEVLocked("ME DETACH")
	}
	for _, c := range m.contexts {
		c.active, c.netAPN, c.addr = false, "", ""
	}
	m.rejectCause = 0
}

// handleXMONITOR: %XMONITOR: <reg_status>[,<full_name>,<short_name>,<plmn>,
// <tac>,<AcT>,<band>,<cell_id>,<phys_cell_id>,<EARFCN>,<rsrp>,<snr>,
// <NW-provided_eDRX_value>,<Active-Time>,<Periodic-TAU-ext>,<Periodic-TAU>],
// the optional part only when registered (xmonitor_set [S]; field forms as
// in Nordic's vectors [T sdk-nrf lte_lc tests]).
func handleXMONITOR(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmd.Kind != atparser.KindExec {
		return atparser.Error()
	}
	if !m.registeredLocked() {
		return atparser.OK(fmt.Sprintf("%%XMONITOR: %d", m.regStat))
	}
	n := m.net
	return atparser.OK(fmt.Sprintf(`%%XMONITOR: %d,"%s","%s","%s","%s",%d,%d,"%s",%d,%d,%d,%d,"","%s","%s","%s"`,
		m.regStat, n.OperatorName, n.OperatorShort, n.PLMN, n.TAC, m.actLocked(), n.Band, n.CellID,
		n.PhysCellID, n.EARFCN, rsrpIndex(n.RSRPdBm), snrIndex(n.SNRdB),
		n.ActiveTime, n.PeriodicTAU, networkDefaults.periodicTAULegacy))
}

func handleCESQ(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindExec:
	case atparser.KindTest:
		return atparser.OK(cesqTest)
	default:
		return atparser.Error()
	}
	if !m.registeredLocked() && m.regStat != regDenied {
		return atparser.OK(networkDefaults.cesqNotCamped)
	}
	return atparser.OK(fmt.Sprintf("+CESQ: %s,%d,%d", cesqLegacy, rsrqIndex(m.net.RSRQdB), rsrpIndex(m.net.RSRPdBm)))
}

func handleXSYSTEMMODE(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		s := m.sysMode
		return atparser.OK(fmt.Sprintf("%%XSYSTEMMODE: %d,%d,%d,%d", s[0], s[1], s[2], s[3]))
	case atparser.KindTest:
		return atparser.OK(xsystemmodeTest)
	case atparser.KindSet:
	default:
		return atparser.Error()
	}
	if cmd.ParamCount() != len(m.sysMode) {
		return atparser.Error()
	}
	var s [4]int
	for i := range s {
		v, ok := cmd.IntParam(i)
		hi := int64(1)
		if i == 3 {
			hi = maxLTEPref
		}
		if !ok || v < 0 || v > hi {
			return m.fail(CMEIncorrectParams)
		}
		s[i] = int(v)
	}
	if m.lteActive {
		return m.fail(CMENotAllowedActive) // changed only while not activated [I]
	}
	m.sysMode = s
	return atparser.OK()
}

func handleXVBAT(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindExec {
		return atparser.Error()
	}
	return atparser.OK(fmt.Sprintf("%%XVBAT: %d", m.opts.BatteryMillivolts))
}

func handleXTIME(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cmd.Kind != atparser.KindSet {
		return atparser.Error()
	}
	n, ok := subscription(cmd, 1)
	if !ok {
		return atparser.Error()
	}
	m.xtime = n
	return atparser.OK()
}

// receiveNetworkTimeLocked: the network's EMM INFORMATION sets the modem
// clock and raises %XTIME for a subscriber.
func (m *Modem) receiveNetworkTimeLocked() {
	m.clockSet, m.clockOffset, m.clockZone = true, 0, 0
	if m.xtime == 1 {
		m.notify(fmt.Sprintf(`%%XTIME: "%s","%s","%s"`, xtimeZone, semiOctets(m.opts.Clock().UTC()), xtimeDST))
	}
}

// semiOctets renders yy mm dd hh mm ss as 24.008 semi-octets (digits of
// each octet swapped) followed by a UTC time zone octet.
func semiOctets(t time.Time) string {
	var b strings.Builder
	for _, v := range []int{t.Year() % 100, int(t.Month()), t.Day(), t.Hour(), t.Minute(), t.Second()} {
		fmt.Fprintf(&b, "%d%d", v%10, v/10)
	}
	return b.String() + xtimeZone
}

func handleCCLK(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch cmd.Kind {
	case atparser.KindRead:
		if !m.clockSet {
			return atparser.Error()
		}
		zone := time.FixedZone("", m.clockZone*15*60)
		if m.clockZone == cclkUnknownZone {
			zone = time.UTC
		}
		t := m.opts.Clock().Add(m.clockOffset).In(zone)
		sign, q := '+', m.clockZone
		if q < 0 {
			sign, q = '-', -q
		}
		return atparser.OK(fmt.Sprintf(`+CCLK: "%s%c%02d"`, t.Format(cclkLayout), sign, q))
	case atparser.KindSet:
		s, ok := cmd.StringParam(0)
		if !ok || cmd.ParamCount() != 1 || len(s) != len(cclkLayout)+3 {
			return m.fail(CMEIncorrectParams)
		}
		var q int
		if _, err := fmt.Sscanf(s[len(cclkLayout):], "%d", &q); err != nil || (s[len(cclkLayout)] != '+' && s[len(cclkLayout)] != '-') ||
			(q != cclkUnknownZone && (q < cclkMinZone || q > cclkMaxZone)) {
			return m.fail(CMEIncorrectParams)
		}
		zone := time.FixedZone("", q*15*60)
		if q == cclkUnknownZone {
			zone = time.UTC
		}
		t, err := time.ParseInLocation(cclkLayout, s[:len(cclkLayout)], zone)
		if err != nil {
			return m.fail(CMEIncorrectParams)
		}
		m.clockSet, m.clockOffset, m.clockZone = true, t.Sub(m.opts.Clock()), q
		return atparser.OK()
	}
	return atparser.Error()
}

// handleCLAC lists the commands this modem simulates, one per line, from
// the command table (27.007 §8.37 [S]; "AT" prefixed [I]).
func handleCLAC(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindExec {
		return atparser.Error()
	}
	return atparser.OK(commandNames(m.handlers)...)
}

// SimulatedCommands is the table of commands the modem answers, sorted, as
// AT+CLAC lists them; anything else answers ERROR and is logged once as
// unsimulated.
func SimulatedCommands() []string { return commandNames(commandTable()) }

func commandNames(table map[string]handler) []string {
	names := make([]string, 0, len(table))
	for name := range table {
		if name != "" {
			names = append(names, "AT"+name)
		}
	}
	sort.Strings(names)
	return names
}

func handleCERTEXPIRY(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindSet || cmd.ParamCount() != 2 {
		return atparser.Error()
	}
	tag, ok1 := cmd.IntParam(0)
	typ, ok2 := cmd.IntParam(1)
	if !ok1 || !ok2 {
		return atparser.Error()
	}
	// Nordic's identity root lives at a reserved tag, above the documented
	// range, which then applies to user certificates only [I].
	if !certExpiryTypes[typ] || tag > maxTag || tag < minCertExpiryTag || (typ != TypeNordicRootCA && tag > maxUserTag) {
		return m.fail(CMEIncorrectParams)
	}
	content, err := m.store.Read(credstore.Key{Tag: uint32(tag), Type: int(typ)})
	if err != nil {
		return m.storeFailure("certexpiry", credstore.Key{Tag: uint32(tag), Type: int(typ)}, err)
	}
	block, _ := pem.Decode(content)
	if block == nil || block.Type != "CERTIFICATE" {
		return m.fail(CMEInvalidContent)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return m.fail(CMEInvalidContent)
	}
	// The serial as its DER INTEGER bytes: 00AEF8… keeps the sign octet, as
	// the reference's example shows.
	serial := cert.SerialNumber.Bytes()
	if len(serial) == 0 || serial[0]&0x80 != 0 {
		serial = append([]byte{0}, serial...)
	}
	return atparser.OK(fmt.Sprintf("%%CERTEXPIRY: %s,%s,%s", strings.ToUpper(hex.EncodeToString(serial)),
		cert.NotBefore.UTC().Format(certExpiryLayout), cert.NotAfter.UTC().Format(certExpiryLayout)))
}
