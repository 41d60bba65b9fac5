// Package spwf04 is the firmware of ST's SPWF04SA Wi-Fi module (fw 1.1.x,
// the `AT+S.` dialect) as a persona: its UART console line discipline,
// configuration variables, TLS certificate store, flash file system, Wi-Fi
// association with a simulated access point, and the MQTT client, which
// reaches the hub through netstack with the module's own TLS rules.
//
// Facts come from spwf04.md (tags [C] seen, [I] inferred, [U] unknown);
// every [U] behaviour is a Config setting with the documented default.
//
//	host ──▶ Discipline (CR, echo) ──▶ Module.Handle ──▶ Flash (board)
//	                                        └──▶ netstack.Stack ──▶ hub
package spwf04

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/netstack"
)

// Name is the persona's name in the board catalog.
const Name = "spwf04"

// AccessPoint is the simulated Wi-Fi network the module can join.
type AccessPoint struct {
	SSID  string
	Key   string // WPA2 passphrase; empty: an open network
	BSSID string
	// IP, Gateway, Netmask are what DHCP gives the module.
	IP, Gateway, Netmask, DNS string
}

// NetworkFunc builds the module's network stack on its TLS store (as a
// netstack credential source) and its clock. The board decides where
// names resolve (the hub emulator) and how real roots map to stand-ins.
type NetworkFunc func(creds netstack.CredentialSource, clock func() time.Time) (*netstack.Stack, error)

// Hardware is what the board gives the firmware.
type Hardware struct {
	Flash   Flash
	MAC     string // nv_wifi_macaddr
	AP      AccessPoint
	Network NetworkFunc // nil: no network (MQTTCONN fails with 111)
	// RealKeyID maps a key id the hub serves (a stand-in root's) to the key
	// id of the real root of the same name, so the module's lookup by key
	// id finds a stored real root as it would against the real hub
	// (DESIGN.md "Real roots vs stand-ins"); nil maps nothing.
	RealKeyID func(served []byte) (real []byte, ok bool)
	Clock     func() time.Time
	Logger    *slog.Logger
}

// Config are the firmware's settings: what the notes leave unknown [U].
type Config struct {
	// FirmwareID is the `+WIND:1:Poweron:` parameter and STS fw_version
	// (format of [P] `170726-b7ac1ba-SPWF04S`, build of fw 1.1 [I]).
	FirmwareID string `json:"firmware_id,omitempty"`
	// Copyright is the `+WIND:13:` text; the exact text is [U].
	Copyright string `json:"copyright,omitempty"`
	// MaxLine bounds a command line; the module's buffer size is [U].
	MaxLine int `json:"max_line,omitempty"`
	// MaxPayload bounds a length-prefixed payload (TLSCERT, FSC, FSA,
	// MQTTPUB); longer requests get ERROR:32 [U].
	MaxPayload int `json:"max_payload,omitempty"`
	// PayloadTimeout ends a payload that stops short [U]; CutError is the
	// error then answered [U] (79 Write failed).
	PayloadTimeout firmware.Duration `json:"payload_timeout"`
	CutError       int               `json:"payload_cut_error,omitempty"`
	// PayloadDropLF swallows one LF right after the command's CR (a CRLF
	// host) before the payload; the default is strict: the payload starts
	// right after the CR [U spwf04.md §1a].
	PayloadDropLF bool `json:"payload_drop_lf,omitempty"`
	// BootTime is the module clock at power-on, before AT+S.TIME
	// (RFC 3339) [U]; validity checks use the module clock.
	BootTime string `json:"boot_time,omitempty"`
	// Certificate error numbers (`AT-S.Certificate Error:<n>`): 23 for no
	// trusted issuer is seen [C F2/FT]; the others are [U].
	CertUnknownCA   int `json:"cert_error_unknown_ca,omitempty"`
	CertExpired     int `json:"cert_error_expired,omitempty"`
	CertNotYetValid int `json:"cert_error_not_yet_valid,omitempty"`
	CertHostName    int `json:"cert_error_host_name,omitempty"`
	CertOther       int `json:"cert_error_other,omitempty"`
	// LoadingRepeatLeaf prints the leaf's `Loading` line twice, as the
	// forum transcript shows (`Loading:3:1` twice) [I].
	LoadingRepeatLeaf *bool `json:"loading_repeat_leaf,omitempty"`
	// MQTTOnLine prints `AT-S.On:<id>` before OK on a connect [I].
	MQTTOnLine *bool `json:"mqtt_on_line,omitempty"`
	// MQTTRefusedOK answers a refused CONNECT with On/OK and then
	// `+WIND:87` instead of ERROR:111 then `+WIND:87` (the transcript's
	// order) [U, spwf04.md case D].
	MQTTRefusedOK bool `json:"mqtt_refused_ok,omitempty"`
	// MQTTClosedReason is the `+WIND:87:MQTT Closed:<id>:<reason>`
	// reason; only 0 was ever seen [C FT], others [U].
	MQTTClosedReason int `json:"mqtt_closed_reason,omitempty"`
	// MQTTChunk is the largest payload of one `+WIND:86` line; a longer
	// message comes in several lines with <len> < <total> [C X2], size [U].
	MQTTChunk int `json:"mqtt_chunk,omitempty"`
	// MQTTTimeout bounds MQTTCONN/PUB/SUB [U].
	MQTTTimeout firmware.Duration `json:"mqtt_timeout"`
	// FSCapacity is the user-flash volume's size in bytes (ST's image
	// tool builds 64 KiB volumes [C X10]).
	FSCapacity int `json:"fs_capacity,omitempty"`
	// WrongKeyReason is the `+WIND:40` reason when the passphrase is
	// wrong (802.11 reason 15, 4-way handshake timeout) [U].
	WrongKeyReason int `json:"wrong_key_reason,omitempty"`
	// JoinRetry is how often a failed association is retried [U].
	JoinRetry firmware.Duration `json:"join_retry"`
}

func (c *Config) withDefaults() error {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	if c.FirmwareID == "" {
		c.FirmwareID = "171117-0328fe3-SPWF04S"
	}
	if c.Copyright == "" {
		c.Copyright = "Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved."
	}
	def(&c.MaxLine, 1024)
	def(&c.MaxPayload, 16384)
	def(&c.CutError, int(ErrWriteFailed))
	def(&c.CertUnknownCA, 23)
	def(&c.CertExpired, 10)
	def(&c.CertNotYetValid, 9)
	def(&c.CertHostName, 62)
	def(&c.CertOther, 7)
	def(&c.MQTTChunk, 512)
	def(&c.FSCapacity, 64*1024)
	def(&c.WrongKeyReason, 15)
	if c.PayloadTimeout.Duration == 0 {
		c.PayloadTimeout.Duration = 5 * time.Second
	}
	if c.MQTTTimeout.Duration == 0 {
		c.MQTTTimeout.Duration = 30 * time.Second
	}
	if c.JoinRetry.Duration == 0 {
		c.JoinRetry.Duration = 5 * time.Second
	}
	if c.BootTime == "" {
		c.BootTime = "2000-01-01T00:00:00Z"
	}
	if _, err := time.Parse(time.RFC3339, c.BootTime); err != nil {
		return fmt.Errorf("boot_time: %w", err)
	}
	if _, err := parseCode("payload_cut_error", c.CutError); err != nil {
		return err
	}
	t := true
	if c.LoadingRepeatLeaf == nil {
		c.LoadingRepeatLeaf = &t
	}
	if c.MQTTOnLine == nil {
		c.MQTTOnLine = &t
	}
	return nil
}

// Module is the firmware running on one module.
type Module struct {
	hw   Hardware
	cfg  Config
	log  *slog.Logger
	echo atomic.Bool
	disc *Discipline

	mu       sync.Mutex
	con      firmware.Console
	vars     map[string]string // the running configuration
	radio    bool
	up       bool // associated, with an address
	joinGen  int  // current association attempt; older timers do nothing
	joinTmr  *time.Timer
	clockSet time.Time // module time at clockAt (AT+S.TIME)
	clockAt  time.Time // simulation time when it was set
	mqtt     *mqttSession
	sockets  map[int]*socket
	closed   bool
}

// New flashes the firmware onto hw.
func New(hw Hardware, cfg Config) (*Module, error) {
	if hw.Flash == nil {
		return nil, errors.New("spwf04: no flash")
	}
	if err := cfg.withDefaults(); err != nil {
		return nil, fmt.Errorf("spwf04: %w", err)
	}
	if hw.Clock == nil {
		hw.Clock = time.Now
	}
	if hw.Logger == nil {
		hw.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Module{hw: hw, cfg: cfg, log: hw.Logger}
	m.disc = NewDiscipline(&m.echo, cfg.MaxLine)
	if err := m.loadConfig(); err != nil {
		return nil, err
	}
	return m, nil
}

// loadConfig makes the running configuration from the factory values and
// what WCFG saved, and resets the volatile state (power-on).
func (m *Module) loadConfig() error {
	vars := factoryConfig(m.hw.MAC)
	saved, err := m.hw.Flash.SavedConfig()
	if err != nil {
		return fmt.Errorf("spwf04: read saved configuration: %w", err)
	}
	for k, v := range saved {
		if _, ok := lookupVar(k); ok {
			vars[k] = v
		}
	}
	boot, _ := time.Parse(time.RFC3339, m.cfg.BootTime)
	m.mu.Lock()
	m.vars = vars
	m.clockSet, m.clockAt = boot, m.hw.Clock()
	m.radio, m.up = true, false
	m.mu.Unlock()
	m.echo.Store(vars["console_echo"] != "0")
	return nil
}

// Dialect implements firmware.Firmware.
func (m *Module) Dialect() atengine.Dialect {
	return atengine.Dialect{Discipline: m.disc, Handler: m}
}

// Boot implements firmware.Firmware: the power-on banner, then the
// association if the module is configured for a network.
func (m *Module) Boot(con firmware.Console) error {
	m.mu.Lock()
	m.con = con
	m.mu.Unlock()
	m.banner(false)
	return nil
}

// Close implements firmware.Firmware.
func (m *Module) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.dropConnections()
	return nil
}

// dropConnections ends the association attempts, the MQTT client and the
// sockets (RESET, WIFI=0, Close).
func (m *Module) dropConnections() {
	m.mu.Lock()
	m.stopJoinLocked()
	s, socks := m.mqtt, m.sockets
	m.mqtt, m.sockets = nil, nil
	m.mu.Unlock()
	if s != nil {
		s.close()
	}
	for _, so := range socks {
		so.conn.Close()
	}
}

// banner is the boot sequence in [P]'s order [S spwf04.md §3]; a soft
// reset starts with +WIND:2:Reset [I].
func (m *Module) banner(soft bool) {
	if soft {
		m.wind(WindReset, windText[WindReset])
	}
	m.wind(WindPoweron, windText[WindPoweron], m.cfg.FirmwareID)
	m.wind(WindCopyright, m.cfg.Copyright, "SPWF04SA")
	m.wind(WindWatchdog, windText[WindWatchdog], "20")
	m.wind(WindConsoleActive, windText[WindConsoleActive])
	m.wind(WindHardwareStarted, windText[WindHardwareStarted])
	m.startJoin()
}

// wind raises an indication unless the console_wind_off_* masks hide it.
func (m *Module) wind(n Wind, text string, params ...string) {
	m.mu.Lock()
	con, closed := m.con, m.closed
	low, med, high := m.maskLocked("console_wind_off_low"), m.maskLocked("console_wind_off_medium"), m.maskLocked("console_wind_off_high")
	m.mu.Unlock()
	if con == nil || closed || windMasked(n, low, med, high) {
		return
	}
	con.Notify(n.line(text, params...))
}

func (m *Module) maskLocked(name string) uint32 {
	v, _ := strconv.ParseUint(m.vars[name], 0, 32)
	return uint32(v)
}

// Now is the module clock: AT+S.TIME, or BootTime since power-on.
func (m *Module) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.clockSet.Add(m.hw.Clock().Sub(m.clockAt))
}

// request is one parsed command line.
type request struct {
	name string   // upper case, without AT+S.
	args []string // nil without '='; "NULL" fields are ""
}

// legacyAliases are accepted but hidden [C spwf04.md §1, X5].
var legacyAliases = map[string]string{"AT&V": "GCFG", "AT&W": "WCFG", "AT&F": "FCFG"}

// parseRequest splits `AT+S.<NAME>[=<p1>,<p2>…]`: names are
// case-insensitive, fields positional, empty or NULL is the default, no
// quoting [C spwf04.md §1].
func parseRequest(line string) (request, bool) {
	up := strings.ToUpper(line)
	if up == "AT" {
		return request{name: ""}, true
	}
	if alias, ok := legacyAliases[up]; ok {
		return request{name: alias}, true
	}
	if !strings.HasPrefix(up, "AT+S.") {
		return request{}, false
	}
	rest := line[len("AT+S."):]
	name, argText, hasArgs := strings.Cut(rest, "=")
	r := request{name: strings.ToUpper(name)}
	if hasArgs {
		r.args = strings.Split(argText, ",")
		for i, a := range r.args {
			if strings.EqualFold(a, "NULL") {
				r.args[i] = ""
			}
		}
	}
	return r, r.name != ""
}

// arg is field i, "" when absent.
func (r request) arg(i int) string {
	if i < len(r.args) {
		return r.args[i]
	}
	return ""
}

// command is one entry of the command table.
type command struct {
	maxArgs int // more fields: ERROR:6
	run     func(m *Module, ctx context.Context, r request) atengine.Reply
}

// commands is the module's command table (fw 1.1 names [C spwf04.md]).
var commands map[string]command

func init() {
	commands = map[string]command{
		"":          {0, func(*Module, context.Context, request) atengine.Reply { return ok() }}, // AT: the null command [C X5]
		"SCFG":      {2, (*Module).cmdSCFG},
		"GCFG":      {1, (*Module).cmdGCFG},
		"STS":       {1, (*Module).cmdSTS},
		"WCFG":      {0, (*Module).cmdWCFG},
		"FCFG":      {0, (*Module).cmdFCFG},
		"RESET":     {0, (*Module).cmdRESET},
		"SSIDTXT":   {1, (*Module).cmdSSIDTXT},
		"WIFI":      {1, (*Module).cmdWIFI},
		"TIME":      {1, (*Module).cmdTIME},
		"TLSCERT":   {2, (*Module).cmdTLSCERT},
		"FSC":       {2, (*Module).cmdFSC},
		"FSA":       {2, (*Module).cmdFSA},
		"FSL":       {1, (*Module).cmdFSL},
		"FSP":       {3, (*Module).cmdFSP},
		"FSD":       {1, (*Module).cmdFSD},
		"FSR":       {2, (*Module).cmdFSR},
		"MQTTCONN":  {12, (*Module).cmdMQTTCONN},
		"MQTTPUB":   {5, (*Module).cmdMQTTPUB},
		"MQTTSUB":   {3, (*Module).cmdMQTTSUB},
		"MQTTUNSUB": {2, (*Module).cmdMQTTUNSUB},
		"MQTTDISC":  {1, (*Module).cmdMQTTDISC},
		"SOCKON":    {4, (*Module).cmdSOCKON},
		"SOCKW":     {2, (*Module).cmdSOCKW},
		"SOCKQ":     {1, (*Module).cmdSOCKQ},
		"SOCKR":     {2, (*Module).cmdSOCKR},
		"SOCKC":     {1, (*Module).cmdSOCKC},
	}
}

// Handle implements atengine.Handler.
func (m *Module) Handle(ctx context.Context, fr atparser.Frame) atengine.Reply {
	line := string(fr.Line)
	if strings.TrimSpace(line) == "" && !fr.Truncated {
		return atengine.Reply{} // an empty line is no command [U]
	}
	if fr.Truncated {
		return fail(ErrExceedsSize)
	}
	r, valid := parseRequest(line)
	if !valid {
		return fail(ErrCommandNotFound)
	}
	c, known := commands[r.name]
	if !known {
		return fail(ErrCommandNotFound)
	}
	if len(r.args) > c.maxArgs {
		return fail(ErrTooManyArgs)
	}
	return c.run(m, ctx, r)
}

// ok answers lines then AT-S.OK; fail answers lines then the error.
func ok(lines ...string) atengine.Reply { return atengine.Answer(frame(lines, "AT-S.OK")) }

func fail(c Code, lines ...string) atengine.Reply { return atengine.Answer(frame(lines, c.Line())) }

// failErr answers a handler error: its Code when it has one, else 111.
func failErr(err error, lines ...string) atengine.Reply {
	var c Code
	if !errors.As(err, &c) {
		c = ErrRequestFailed
	}
	return fail(c, lines...)
}

func frame(lines []string, last string) []byte {
	var b []byte
	for _, l := range append(lines, last) {
		b = append(b, l...)
		b = append(b, "\r\n"...)
	}
	return b
}

// parseLen reads a length field: missing is ERROR:2, not a number 7, zero
// 33 ("Argument evaluated to zero"), over MaxPayload 32 [I].
func (m *Module) parseLen(s string) (int, error) {
	if s == "" {
		return 0, ErrMissingArgs
	}
	n, err := strconv.Atoi(s)
	switch {
	case err != nil || n < 0:
		return 0, ErrInvalidArgs
	case n == 0:
		return 0, ErrZero
	case n > m.cfg.MaxPayload:
		return 0, ErrExceedsSize
	}
	return n, nil
}

// payload reads n raw bytes right after the command's CR [C spwf04.md
// §1a] and hands them to done; a payload cut short answers CutError.
func (m *Module) payload(n int, done func(ctx context.Context, data []byte) atengine.Reply) atengine.Reply {
	return atengine.Reply{Then: m.readPayload(n, nil, m.cfg.PayloadDropLF, done)}
}

// readPayload reads n more bytes after have. With dropLF a leading LF is
// not payload: the byte it took is read again.
func (m *Module) readPayload(n int, have []byte, dropLF bool, done func(ctx context.Context, data []byte) atengine.Reply) *atengine.Payload {
	return &atengine.Payload{Len: n, Timeout: m.cfg.PayloadTimeout.Duration,
		Done: func(ctx context.Context, data []byte, cut bool) atengine.Reply {
			if dropLF && len(data) > 0 && data[0] == byteLF {
				return atengine.Reply{Then: m.readPayload(1, append(have, data[1:]...), false, done)}
			}
			data = append(have, data...)
			if cut {
				m.log.Info("payload cut short", "got", len(data))
				return fail(Code(m.cfg.CutError))
			}
			return done(ctx, data)
		}}
}
