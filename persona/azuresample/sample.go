// Package azuresample is the firmware persona of the nRF Connect SDK
// azure_iot_hub sample on an nRF91 board: configured by the prj.conf and
// overlay fragments a user would build it with, it boots, brings LTE up
// through the modem, provisions with DPS when configured (keeping the
// assignment like the library's settings do), connects to the hub over
// MQTT/TLS with the modem's sec tags, sends its telemetry event every
// interval, requests the twin, follows `telemetryInterval`, answers the
// `led` direct method and logs cloud-to-device messages — printing the
// sample's and the libraries' log lines in Zephyr's format.
//
// It never retries: like the real sample, a failed DPS run or connection
// ends main() and the board stays idle until it is reset (main.c returns
// after logging; azure_iot_hub never reconnects by itself).
package azuresample

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/athost"
)

// Name is how configs and the command line call this persona.
const Name = "azure_iot_hub"

// Deps is what the board gives the sample.
type Deps struct {
	// Modem answers the AT commands the LTE link controller sends; its URCs
	// come back through ModemURC.
	Modem athost.CommandHandler
	// Net is the device's network (sockets offloaded to the modem).
	Net *netstack.Stack
	// StateDir keeps the DPS assignment (the library's settings
	// partition); empty keeps it for this instance only.
	StateDir string
	// Clock is the board's clock; log timestamps are its time since Boot.
	Clock func() time.Time
	// Reboot is sys_reboot(), for the connectivity layer's fatal error.
	Reboot func()
	Logger *slog.Logger
}

// Settings are the facts the configuration does not give, as knobs.
type Settings struct {
	// NCSVersion is printed in the boot banner (default v2.5.0, the
	// forum logs' release).
	NCSVersion string `json:"ncs_version,omitempty"`
	// ZephyrVersion, if set, adds the "*** Using Zephyr OS … ***" line of
	// NCS ≥ 2.6.
	ZephyrVersion string `json:"zephyr_version,omitempty"`
	// EventInterval is the starting telemetry interval (main.c
	// EVENT_INTERVAL, 20 s); the twin's telemetryInterval replaces it.
	EventInterval *firmware.Duration `json:"event_interval,omitempty"`
	// AzureSDKVersion is the azure-sdk-for-c version in the user names
	// (1.4.0-beta.2 in NCS 2.5 [T forum log]).
	AzureSDKVersion string `json:"azure_sdk_version,omitempty"`
	// FirmwareVersion is what azure_fota reports (CONFIG_MCUBOOT_IMGTOOL_SIGN_VERSION
	// default "0.0.0-dev" [T]).
	FirmwareVersion string `json:"firmware_version,omitempty"`
	// WebSocketPatch applies the forum thread's mqtt_helper patch that
	// makes CONFIG_MQTT_LIB_WEBSOCKET use MQTT over WebSockets; stock
	// mqtt_helper ignores the option and speaks MQTT/TLS to the port
	// (forum/nrf7002dk-mqtt-websockets.txt).
	WebSocketPatch bool `json:"websocket_patch,omitempty"`
	// PublishTimeout bounds a subscribe or publish the hub does not acknowledge (default 30 s) [I].
	PublishTimeout *firmware.Duration `json:"publish_timeout,omitempty"`
}

func (s Settings) withDefaults() Settings {
	if s.NCSVersion == "" {
		s.NCSVersion = "v2.5.0"
	}
	if s.AzureSDKVersion == "" {
		s.AzureSDKVersion = "1.4.0-beta.2"
	}
	if s.FirmwareVersion == "" {
		s.FirmwareVersion = firmwareVersionDefault
	}
	return s
}

// Firmware is the sample running on a board.
type Firmware struct {
	cfg      Config
	set      Settings
	deps     Deps
	dialect  atengine.Dialect
	out      *console
	interval time.Duration
	pubWait  time.Duration

	mu         sync.Mutex
	cancel     context.CancelFunc
	done       chan struct{}
	registered bool
	regCh      chan struct{} // signalled on registration changes
	session    *hubSession
	// memAssignment is the DPS assignment when there is no StateDir.
	memAssignment Assignment
}

// New flashes the sample.
func New(cfg Config, set Settings, deps Deps) (*Firmware, error) {
	if deps.Modem == nil || deps.Net == nil {
		return nil, errors.New("azure_iot_hub: needs a modem and a network stack")
	}
	if deps.Clock == nil {
		deps.Clock = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	set = set.withDefaults()
	f := &Firmware{cfg: cfg, set: set, deps: deps, regCh: make(chan struct{}, 1),
		interval: defaultEventIntervalS * time.Second, pubWait: 30 * time.Second}
	if set.EventInterval != nil && set.EventInterval.Duration > 0 {
		f.interval = set.EventInterval.Duration
	}
	if set.PublishTimeout != nil && set.PublishTimeout.Duration > 0 {
		f.pubWait = set.PublishTimeout.Duration
	}
	f.out = &console{now: deps.Clock, levels: cfg.Levels}
	if len(cfg.Ignored) > 0 {
		// Listed once, when flashed: the options the simulation has no model of.
		deps.Logger.Info("azure_iot_hub: options ignored (not simulated)", "options", strings.Join(cfg.Ignored, " "))
	}
	if cfg.ATHost {
		// CONFIG_AT_HOST_LIBRARY: the console forwards AT commands to the
		// modem and its URCs to the console, which is why the forum logs
		// show +CEREG lines between the log lines [S nrf9160dk conf; T].
		f.dialect = atengine.Dialect{
			Discipline: athost.NewDiscipline(athost.Bare, athost.DefaultQuoteIdleReset,
				atparser.WithTerminator(atparser.TermAny), atparser.WithMaxLen(atparser.DefaultMaxLen)),
			Handler: athost.Handler{Commands: deps.Modem, Framing: athost.Bare},
		}
	} else {
		f.dialect = atengine.Dialect{Discipline: quietDiscipline{}, Handler: atengine.HandlerFunc(
			func(context.Context, atparser.Frame) atengine.Reply { return atengine.Reply{} })}
	}
	return f, nil
}

// Config is the build configuration the firmware runs.
func (f *Firmware) Config() Config { return f.cfg }

// Dialect implements firmware.Firmware.
func (f *Firmware) Dialect() atengine.Dialect { return f.dialect }

// Banner is the NCS boot banner [S zephyr kernel/banner.c with NCS's
// CONFIG_BOOT_BANNER_STRING "Booting nRF Connect SDK"; T forum logs].
func (f *Firmware) Banner() []byte {
	b := "*** Booting nRF Connect SDK " + f.set.NCSVersion + " ***\r\n"
	if f.set.ZephyrVersion != "" {
		b += "*** Using Zephyr OS " + f.set.ZephyrVersion + " ***\r\n"
	}
	return []byte(b)
}

// Boot implements firmware.Firmware: the banner, then main() in the background.
func (f *Firmware) Boot(con firmware.Console) error {
	f.mu.Lock()
	if f.cancel != nil {
		f.mu.Unlock()
		return errors.New("azure_iot_hub: already booted")
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel, f.done = cancel, make(chan struct{})
	f.mu.Unlock()
	f.out.mu.Lock()
	f.out.con, f.out.boot = con, f.deps.Clock()
	f.out.mu.Unlock()
	if err := con.Write(f.Banner()); err != nil {
		cancel()
		close(f.done)
		return fmt.Errorf("azure_iot_hub: banner: %w", err)
	}
	go func() {
		defer close(f.done)
		f.main(ctx)
		<-ctx.Done()
	}()
	return nil
}

// Close implements firmware.Firmware: stops main and its connection.
func (f *Firmware) Close() error {
	f.mu.Lock()
	cancel, done, s := f.cancel, f.done, f.session
	f.session = nil
	f.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	if s != nil {
		s.close()
	}
	<-done
	f.out.mu.Lock()
	f.out.con = nil
	f.out.mu.Unlock()
	return nil
}

// ModemURC implements firmware.URCSink.
func (f *Firmware) ModemURC(line string) {
	if f.cfg.ATHost {
		f.out.raw(line)
	}
	rest, ok := strings.CutPrefix(line, "+CEREG: ")
	if !ok {
		return
	}
	stat, _, _ := strings.Cut(rest, ",")
	n, err := strconv.Atoi(strings.TrimSpace(stat))
	if err != nil {
		return
	}
	// 1 registered home, 5 roaming (3GPP 27.007 §10.1.22); lte_lc reports
	// the link up on either [S nrf lte_lc].
	reg := n == 1 || n == 5
	f.mu.Lock()
	was := f.registered
	s := f.session
	if reg == was {
		f.mu.Unlock()
		return
	}
	if reg {
		// Logged before main can see the link up: the event handler's line
		// comes before main's "Connected to network", as on the device.
		f.out.log(mL4Up)
	}
	f.registered = reg
	f.mu.Unlock()
	select {
	case f.regCh <- struct{}{}:
	default:
	}
	if reg {
		return
	}
	f.out.log(mL4Down)
	if s != nil {
		s.disconnect() // on_net_event_l4_disconnected → azure_iot_hub_disconnect()
	}
}

// lteCommands are what lte_lc sends to bring LTE up: subscriptions, then
// the functional mode [S nrf lib/lte_link_control; nrf91.md §4].
var lteCommands = []string{"AT+CEREG=5", "AT+CSCON=1", "AT+CFUN=1"}

// main is main() of the sample.
func (f *Firmware) main(ctx context.Context) {
	o := f.out
	o.log(mStarted)
	o.log(mBringingUp)
	for _, line := range lteCommands {
		cmd, err := atparser.Parse([]byte(line))
		if err != nil {
			panic(err) // a constant above
		}
		if r := f.deps.Modem.Handle(ctx, cmd); r.Final != atparser.FinalOK {
			if line == "AT+CFUN=1" {
				// lte_net_if raises NET_EVENT_CONN_IF_FATAL_ERROR when the
				// modem cannot be activated [I]; the sample reboots.
				o.log(mFatalConn)
				if f.deps.Reboot != nil {
					go f.deps.Reboot()
				}
				return
			}
			o.log(mIfUpFailed, errEIO)
			return
		}
	}
	o.log(mDeviceID, f.cfg.DeviceID)
	if !f.cfg.DPS {
		o.log(mHostName, f.cfg.HostName)
	}
	if !f.waitRegistered(ctx) {
		return
	}
	o.log(mConnected)
	host, dev := f.cfg.HostName, f.cfg.DeviceID
	if f.cfg.DPS {
		var err int
		var trailer func()
		host, dev, err, trailer = f.dpsRun(ctx)
		if ctx.Err() != nil {
			return // closed during DPS
		}
		if err != 0 {
			o.log(mDPSRunFailed, err)
			if trailer != nil {
				trailer()
			}
			return
		}
	}
	if ctx.Err() != nil {
		return
	}
	if f.cfg.FOTA {
		o.log(mFOTAVersion, f.set.FirmwareVersion)
		o.log(mHubFOTAInit)
	}
	o.log(mHubState, "STATE_UNINIT", "STATE_DISCONNECTED")
	o.log(mLibInit)
	f.connect(ctx, host, dev)
}

func (f *Firmware) waitRegistered(ctx context.Context) bool {
	for {
		f.mu.Lock()
		reg := f.registered
		f.mu.Unlock()
		if reg {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-f.regCh:
		}
	}
}

// quietDiscipline is the console without the AT host: the sample reads
// nothing from it (no shell in prj.conf), so typed bytes are dropped.
type quietDiscipline struct{}

func (quietDiscipline) Scan(p []byte) (int, []byte, atparser.Frame, bool) {
	return len(p), nil, atparser.Frame{}, false
}
func (quietDiscipline) Reset() bool              { return false }
func (quietDiscipline) IdleReset() time.Duration { return 0 }
func (quietDiscipline) AppendURC(dst []byte, line string) []byte {
	return append(append(dst, line...), '\r', '\n')
}
