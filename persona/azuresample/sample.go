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
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/mqttcerts"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/athost"
)

// Name is how configs and the command line call this persona.
const Name = "azure_iot_hub"

// Deps is what the board gives the sample.
type Deps struct {
	// Link is the network interface: LTE through the nRF91 modem
	// (*LTELink) or Wi-Fi through the nRF7002 (*WiFiLink).
	Link Link
	// Net is the device's network when its sockets are offloaded to the
	// nRF91 modem, whose TLS stack reads the modem's credential store.
	Net *netstack.Stack
	// Native, instead of Net, is Zephyr's own sockets with mbedTLS (the
	// nRF7002 DK): the firmware picks the credential store its TLS stack
	// reads (the board's protected storage or a volatile one).
	Native *NativeSockets
	// ATHost answers the console's AT commands with CONFIG_AT_HOST_LIBRARY
	// (the nRF91's modem); nil on a board without a modem.
	ATHost athost.CommandHandler
	// Shell makes the board's Zephyr shell for a CONFIG_SHELL build, with
	// the boot banner it prints before its prompt; nil where the board
	// has none. Log lines then appear above the `uart:~$ ` prompt.
	Shell func(banner string) (firmware.Firmware, error)
	// Board is the board's fragment of the sample (boards/<board>.conf).
	Board BoardConf
	// StateDir keeps the DPS assignment (the library's settings
	// partition); empty keeps it for this instance only.
	StateDir string
	// Clock is the board's clock; log timestamps are its time since Boot.
	Clock func() time.Time
	// Reboot is sys_reboot(), for the connectivity layer's fatal error.
	Reboot func()
	Logger *slog.Logger
}

// NativeSockets is a board's native TLS stack (Zephyr sockets_tls.c with
// mbedTLS).
type NativeSockets struct {
	// Store is the board's persistent TLS credential store (protected
	// storage, where the `cred` shell writes).
	Store *credstore.Store
	// Stack builds the device network over the credentials the firmware's
	// TLS credentials backend holds.
	Stack func(netstack.CredentialSource) *netstack.Stack
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
	// WebSocketPath and WebSocketSubprotocol are what the forum's patch
	// puts in the upgrade request (the patch's body is not in the post [I]:
	// default /$iothub/websocket and "mqtt"; "/mqtt" is what Zephyr's
	// mqtt_publisher sample, its model, uses; "none" offers no
	// subprotocol). A wrong one is FAILURE-CASES WS2.
	WebSocketPath        string `json:"websocket_path,omitempty"`
	WebSocketSubprotocol string `json:"websocket_subprotocol,omitempty"`
	// MbedTLSDefaultContentLen is the incoming record limit when
	// CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN is not set (default 16384,
	// mbedTLS's MBEDTLS_SSL_IN_CONTENT_LEN default [I]: NCS's own default
	// was not read; the thread's board connects on 8883 without setting it).
	MbedTLSDefaultContentLen int `json:"mbedtls_default_content_len,omitempty"`
	// CertificatesDir is where the build finds CONFIG_MQTT_HELPER_CERTIFICATES_FILE
	// and the PEM files it includes (default: the directory of the
	// fragment that names it [I]; the real build searches the include
	// path, which holds mqtt_helper's cert/ directory and the application's).
	CertificatesDir string `json:"certificates_dir,omitempty"`
	// MbedTLSLineNumbers replaces the source line numbers printed in
	// mbedTLS's debug lines, keyed by the message ("<= handshake",
	// "refusing renegotiation, sending alert", …): only the WS thread's
	// three are known [T]; the others depend on the mbedTLS release and are
	// placeholders [U] (native.go).
	MbedTLSLineNumbers map[string]int `json:"mbedtls_line_numbers,omitempty"`
	// WiFiAssociationTime is how long the Wi-Fi link takes from the
	// request to the address (default 4 s, the forum logs' 4–6 s [T]).
	WiFiAssociationTime *firmware.Duration `json:"wifi_association_time,omitempty"`
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
	if s.WebSocketPath == "" {
		s.WebSocketPath = netstack.WebSocketPath
	}
	if s.WebSocketSubprotocol == "" {
		s.WebSocketSubprotocol = netstack.WebSocketSubprotocol
	}
	if s.MbedTLSDefaultContentLen == 0 {
		s.MbedTLSDefaultContentLen = mbedTLSInContentLenDefault
	}
	return s
}

// Firmware is the sample running on a board.
type Firmware struct {
	cfg      Config
	set      Settings
	deps     Deps
	dialect  atengine.Dialect
	shell    firmware.Firmware // the console with CONFIG_SHELL
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

	// certs are the arrays of the compiled-in mqtt-certs.h
	// (CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES); certsAdded is
	// certificates_provision's static certs_added.
	certs      []mqttcerts.Array
	certsAdded bool
	// net is this boot's network stack and creds the store its TLS reads.
	net   *netstack.Stack
	creds mqttcerts.Store
}

// New flashes the sample.
func New(cfg Config, set Settings, deps Deps) (*Firmware, error) {
	if deps.Link == nil || (deps.Net == nil) == (deps.Native == nil) {
		return nil, errors.New("azure_iot_hub: needs a link and either an offloaded or a native network stack")
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
	if cfg.ProvisionCertificates {
		if deps.Native == nil {
			// The option depends on the native TLS credentials API; on the
			// nRF91 the modem holds the credentials [S Kconfig: depends on
			// TLS_CREDENTIALS; nrf91.md §9].
			return nil, &BuildError{Reasons: []string{fmt.Sprintf(kconfigUnmet, "MQTT_HELPER_PROVISION_CERTIFICATES", cfg.CertificatesFileFrom, "y", "n", "TLS_CREDENTIALS")}}
		}
		certs, err := loadCertificates(cfg, set)
		if err != nil {
			return nil, err
		}
		f.certs = certs
	}
	if len(cfg.Ignored) > 0 {
		// Listed once, when flashed: the options the simulation has no model of.
		deps.Logger.Info("azure_iot_hub: options ignored (not simulated)", "options", strings.Join(cfg.Ignored, " "))
	}
	if cfg.Shell && deps.Shell != nil {
		// The shell owns the console: its prompt, echo and editing; the
		// engine prints the sample's log lines above the prompt.
		sh, err := deps.Shell(strings.TrimRight(string(f.Banner()), "\r\n"))
		if err != nil {
			return nil, fmt.Errorf("azure_iot_hub: shell: %w", err)
		}
		f.shell, f.dialect = sh, sh.Dialect()
	} else if cfg.ATHost && deps.ATHost != nil {
		// CONFIG_AT_HOST_LIBRARY: the console forwards AT commands to the
		// modem and its URCs to the console, which is why the forum logs
		// show +CEREG lines between the log lines [S nrf9160dk conf; T].
		f.dialect = atengine.Dialect{
			Discipline: athost.NewDiscipline(athost.Bare, athost.DefaultQuoteIdleReset,
				atparser.WithTerminator(atparser.TermAny), atparser.WithMaxLen(atparser.DefaultMaxLen)),
			Handler: athost.Handler{Commands: deps.ATHost, Framing: athost.Bare},
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
	f.powerOn()
	boot := func() error { return con.Write(f.Banner()) }
	if f.shell != nil {
		boot = func() error { return f.shell.Boot(con) }
	}
	if err := boot(); err != nil {
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
	if f.shell != nil {
		_ = f.shell.Close()
	}
	f.out.mu.Lock()
	f.out.con = nil
	f.out.mu.Unlock()
	return nil
}

// ModemURC implements firmware.URCSink: at_host forwards the modem's URCs
// to the console; the LTE link follows registration in them.
func (f *Firmware) ModemURC(line string) {
	if f.cfg.ATHost && f.deps.ATHost != nil {
		f.out.raw(line)
	}
	if l, ok := f.deps.Link.(interface{ ModemURC(string) }); ok {
		l.ModemURC(line)
	}
}

// linkParams is what the build and settings give the link.
func (f *Firmware) linkParams() LinkParams {
	p := LinkParams{WiFi: f.cfg.WiFi, WiFiStatic: f.cfg.WiFiStatic, AssociationTime: defaultWiFiAssociation}
	if f.set.WiFiAssociationTime != nil && f.set.WiFiAssociationTime.Duration > 0 {
		p.AssociationTime = f.set.WiFiAssociationTime.Duration
	}
	return p
}

// defaultWiFiAssociation: see Settings.WiFiAssociationTime.
const defaultWiFiAssociation = 4 * time.Second

// linkEvents is how the link reaches the sample's event handler.
func (f *Firmware) linkEvents() LinkEvents {
	return LinkEvents{Up: func() { f.linkChanged(true) }, Down: func() { f.linkChanged(false) }, Log: f.out.log}
}

// linkChanged is on_net_event_l4_connected / _disconnected.
func (f *Firmware) linkChanged(up bool) {
	f.mu.Lock()
	was := f.registered
	s := f.session
	if up == was {
		f.mu.Unlock()
		return
	}
	if up {
		// Logged before main can see the link up: the event handler's line
		// comes before main's "Connected to network", as on the device.
		f.out.log(mL4Up)
	}
	f.registered = up
	f.mu.Unlock()
	select {
	case f.regCh <- struct{}{}:
	default:
	}
	if up {
		return
	}
	f.out.log(mL4Down)
	if s != nil {
		s.disconnect() // on_net_event_l4_disconnected → azure_iot_hub_disconnect()
	}
}

// main is main() of the sample.
func (f *Firmware) main(ctx context.Context) {
	o := f.out
	o.log(mStarted)
	o.log(mBringingUp)
	if err := f.deps.Link.Connect(ctx, f.linkParams(), f.linkEvents()); err != nil {
		var le *LinkError
		switch {
		case errors.Is(err, ErrFatalLink):
			o.log(mFatalConn) // the sample reboots
			if f.deps.Reboot != nil {
				go f.deps.Reboot()
			}
		case errors.As(err, &le):
			o.log(mIfUpFailed, le.Errno)
		default:
			o.log(mIfUpFailed, errEIO)
		}
		return
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
