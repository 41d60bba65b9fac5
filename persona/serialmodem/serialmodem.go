// Package serialmodem is the firmware persona of Nordic's Serial Modem
// application (nrfconnect/ncs-serial-modem, formerly the Serial LTE Modem)
// on the nRF91: its AT host (CRLF-prefixed answers, a "Ready" banner, ATE0/1
// echo, input ignored until "AT"), every modem command passed through to the
// modem, and its own #X commands in front of the modem — MQTT (#XMQTT…),
// TLS sockets (#XSSOCKET, #XCONNECT, #XSEND, #XRECV, #XCLOSE), #XPING and
// #XGETADDRINFO — on the board's network stack. Strings and numbers are in
// facts.go with their sources.
//
// Like the firmware, every network command fails with ERROR unless the
// modem is registered (the PDN is up only then); the errno the firmware
// logs goes to the logger, never to the AT port.
package serialmodem

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/athost"
)

// Name is how configs and the command line call this persona.
const Name = "serial_modem"

// Config is the application's build configuration that changes what the
// port does.
type Config struct {
	// Terminator is CONFIG_SM_*_TERMINATION: "cr" (default), "lf", "crlf".
	Terminator string `json:"terminator,omitempty"`
	// DataModeIdle is how long data mode waits for more bytes before it
	// sends what it has (default 32 ms, a 115200-baud UART; see facts.go).
	DataModeIdle *firmware.Duration `json:"data_mode_idle,omitempty"`
	// PingRTT makes #XPING answer: the emulator has no ICMP, so a ping is
	// timed as a TCP connect to the resolved host's MQTT port [I]. Off, a
	// ping gets no reply (what a real IoT Hub does: it drops ICMP [I]).
	PingRTT *bool `json:"ping_rtt,omitempty"`
	// MaxUsername and MaxPassword are SM_MAX_USERNAME/SM_MAX_PASSWORD:
	// 0 is a build raised for IoT Hub (512); 32 is the stock build, which
	// refuses every IoT Hub login with ERROR (see facts.go).
	MaxUsername int `json:"max_username,omitempty"`
	MaxPassword int `json:"max_password,omitempty"`
}

var terminators = map[string]Terminator{"": TermCR, "cr": TermCR, "lf": TermLF, "crlf": TermCRLF}

// Deps are the hardware pieces the firmware runs on.
type Deps struct {
	// Modem answers every command that is not the application's own.
	Modem athost.CommandHandler
	// Registered reports whether the modem is registered on the network
	// (+CEREG stat 1 or 5); nil means never.
	Registered func() bool
	// Stack is the board's network; nil means none (every connect fails).
	Stack  *netstack.Stack
	Logger *slog.Logger
}

// Firmware is the Serial Modem application running over a modem.
type Firmware struct {
	deps    Deps
	log     *slog.Logger
	echo    atomic.Bool
	dialect atengine.Dialect
	idle    time.Duration
	pingRTT bool
	maxUser int
	maxPass int
	cmds    map[string]command

	mu   sync.Mutex
	con  firmware.Console
	mqtt mqttState
	// ctx ends background work (pings) when the firmware closes.
	ctx    context.Context
	cancel context.CancelFunc

	sockMu sync.Mutex
	socks  [maxSockets]*socket
}

// command is one of the application's own commands.
type command func(f *Firmware, ctx context.Context, cmd atparser.Command) reply

// reply is a custom command's answer: information bytes sent before the
// final result (rsp_send), an error (plain ERROR on the wire), and an
// optional raw payload to read after OK.
type reply struct {
	info []byte
	err  error
	then *atengine.Payload
}

func fail(err error) reply { return reply{err: err} }

func ok(lines ...string) reply {
	var b []byte
	for _, l := range lines {
		b = append(append(append(b, crlf...), l...), crlf...)
	}
	return reply{info: b}
}

// errno is a Zephyr errno a handler fails with; the firmware only logs it.
type errno int

func (e errno) Error() string { return "errno " + strconv.Itoa(int(e)) }

// New flashes the Serial Modem application.
func New(d Deps, cfg Config) (*Firmware, error) {
	term, ok := terminators[cfg.Terminator]
	if !ok {
		return nil, fmt.Errorf("%s: terminator %q: want cr, lf or crlf", Name, cfg.Terminator)
	}
	if d.Modem == nil {
		return nil, errors.New(Name + ": needs a modem")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Firmware{deps: d, log: d.Logger.With("persona", Name), idle: dataModeIdle, pingRTT: true}
	if cfg.DataModeIdle != nil {
		f.idle = cfg.DataModeIdle.Duration
	}
	if cfg.MaxUsername < 0 || cfg.MaxPassword < 0 {
		return nil, fmt.Errorf("%s: max_username/max_password must be positive (the stock firmware's are %d)", Name, StockLoginLimit)
	}
	f.maxUser, f.maxPass = cmp.Or(cfg.MaxUsername, defaultMaxLogin), cmp.Or(cfg.MaxPassword, defaultMaxLogin)
	if cfg.PingRTT != nil {
		f.pingRTT = *cfg.PingRTT
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	f.mqtt = newMQTTState()
	f.cmds = commandTable()
	f.dialect = atengine.Dialect{Discipline: newDiscipline(term, &f.echo), Handler: atengine.HandlerFunc(f.handle)}
	return f, nil
}

func commandTable() map[string]command {
	return map[string]command{
		"#XMQTTCFG":     (*Firmware).mqttConfig,
		"#XMQTTCON":     (*Firmware).mqttConnect,
		"#XMQTTPUB":     (*Firmware).mqttPublish,
		"#XMQTTSUB":     (*Firmware).mqttSubscribe,
		"#XMQTTUNSUB":   (*Firmware).mqttUnsubscribe,
		"#XSOCKET":      (*Firmware).socketOpen,
		"#XSSOCKET":     (*Firmware).secureSocketOpen,
		"#XSSOCKETOPT":  (*Firmware).secureSocketOpt,
		"#XCONNECT":     (*Firmware).socketConnect,
		"#XSEND":        (*Firmware).socketSend,
		"#XRECV":        (*Firmware).socketRecv,
		"#XCLOSE":       (*Firmware).socketClose,
		"#XPING":        (*Firmware).ping,
		"#XGETADDRINFO": (*Firmware).getAddrInfo,
	}
}

// Dialect implements firmware.Firmware.
func (f *Firmware) Dialect() atengine.Dialect { return f.dialect }

// Boot implements firmware.Firmware: the application prints "Ready".
func (f *Firmware) Boot(con firmware.Console) error {
	f.mu.Lock()
	f.con = con
	f.mu.Unlock()
	return con.Write([]byte(bannerReady))
}

// ModemURC implements firmware.URCSink: every modem notification is
// forwarded ("\r\n%s", sm_at_host.c notification_handler [S]).
func (f *Firmware) ModemURC(line string) { f.notify(line) }

func (f *Firmware) notify(line string) {
	f.mu.Lock()
	con := f.con
	f.mu.Unlock()
	if con != nil {
		con.Notify(line)
	}
}

// Close implements firmware.Firmware: the MQTT session and sockets go
// down with the application.
func (f *Firmware) Close() error {
	f.cancel()
	f.mu.Lock()
	f.con = nil
	c := f.mqtt.client
	f.mqtt.client = nil
	f.mu.Unlock()
	if c != nil {
		c.Disconnect(0)
	}
	f.sockMu.Lock()
	for i, s := range f.socks {
		if s != nil && s.conn != nil {
			_ = s.conn.Close()
		}
		f.socks[i] = nil
	}
	f.sockMu.Unlock()
	return nil
}

// Echo reports whether ATE1 is in effect.
func (f *Firmware) Echo() bool { return f.echo.Load() }

// handle is cmd_send: grammar check, the application's own commands, else
// the modem.
func (f *Firmware) handle(ctx context.Context, fr atparser.Frame) atengine.Reply {
	if fr.Truncated {
		f.log.Warn("AT command buffer overflow, max size reached")
		return atengine.Answer([]byte(errorFinal))
	}
	line := string(fr.Line)
	if !grammarOK(line) {
		f.log.Debug("AT command syntax invalid", "cmd", line)
		return atengine.Answer([]byte(errorFinal))
	}
	cmd, err := atparser.Parse(fr.Line)
	if err != nil {
		return atengine.Answer([]byte(errorFinal))
	}
	if cmd.Name == "E" && cmd.Kind == atparser.KindSet {
		on, _ := cmd.IntParam(0)
		f.echo.Store(on == 1)
		return atengine.Answer([]byte(okFinal))
	}
	if h, ok := f.cmds[cmd.Name]; ok {
		r := h(f, ctx, cmd)
		out := r.info
		if r.err != nil {
			f.log.Info("command failed", "cmd", cmd.Name, "err", r.err)
			return atengine.Answer(append(out, errorFinal...))
		}
		return atengine.Reply{Out: append(out, okFinal...), Then: r.then}
	}
	return atengine.Answer(athost.Prefixed.AppendResponse(nil, f.deps.Modem.Handle(ctx, cmd)))
}

// online reports whether the network may be used: a stack and a
// registered modem.
func (f *Firmware) online() bool {
	return f.deps.Stack != nil && f.deps.Registered != nil && f.deps.Registered()
}

// --- parameter helpers: the firmware's at_parser counts the command name
// as parameter 0, so "param_count > 2" there is len(Params) > 1 here.

func intParam(cmd atparser.Command, i int, lo, hi int64) (int64, bool) {
	v, ok := cmd.IntParam(i)
	return v, ok && v >= lo && v <= hi
}

// stringParam is util_string_get: a quoted string that fits max-1 bytes.
func stringParam(cmd atparser.Command, i, max int) (string, bool) {
	s, ok := cmd.StringParam(i)
	return s, ok && len(s) < max
}

func quote(s string) string { return `"` + s + `"` }
