package zshell

import (
	"fmt"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/firmware"
)

// Persona names.
const (
	// ZephyrShellName is a Zephyr application with the shell, the TLS
	// credentials shell and the Wi-Fi shell on its UART (nRF7002 DK).
	ZephyrShellName = "zephyr_shell"
	// ATShellName is an NCS application with the `at` shell (nRF91).
	ATShellName = "at_shell"
)

// DefaultBanner is the kernel's boot banner as the forum user's board
// printed it [T forum/nrf7002dk-azure-certificates.txt].
const DefaultBanner = "*** Booting nRF Connect SDK v2.5.0 ***"

// DefaultZephyrVersion is the Zephyr NCS v2.5.0 is built on [I].
const DefaultZephyrVersion = "3.4.99"

// Options are a shell persona's settings (its Kconfig, as JSON/YAML knobs).
type Options struct {
	Config
	Banner          string             `json:"banner,omitempty"`
	ZephyrVersion   string             `json:"zephyr_version,omitempty"`
	AssociationTime *firmware.Duration `json:"association_time,omitempty"`
}

// Hardware is what the board gives the shell: each command set is linked
// in only when its hardware is there.
type Hardware struct {
	Store    CredStore     // `cred`
	Modem    Modem         // `at`
	Networks []AccessPoint // `wifi`
	WiFi     bool
	Clock    func() time.Time
}

// Firmware is a Zephyr application whose UART runs the shell.
type Firmware struct {
	shell  *Shell
	wifi   *wifiShell
	at     *atShell
	banner string
	clock  func() time.Time

	mu     sync.Mutex
	con    firmware.Console
	reboot func() error
	booted time.Time
}

// New builds the firmware with the command sets hw allows.
func New(opts Options, hw Hardware) (*Firmware, error) {
	if hw.Clock == nil {
		hw.Clock = time.Now
	}
	f := &Firmware{banner: opts.Banner, clock: hw.Clock, booted: hw.Clock()}
	if f.banner == "" {
		f.banner = DefaultBanner
	}
	version := opts.ZephyrVersion
	if version == "" {
		version = DefaultZephyrVersion
	}
	var cmds []*Command
	if hw.Store != nil {
		cred, err := CredCommands(opts.Config, hw.Store)
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, cred)
	}
	if hw.Modem != nil {
		f.at = &atShell{modem: hw.Modem}
		cmds = append(cmds, f.at.command())
	}
	if hw.WiFi {
		assoc := 500 * time.Millisecond
		if opts.AssociationTime != nil {
			assoc = opts.AssociationTime.Duration
		}
		f.wifi = &wifiShell{cfg: WiFiConfig{Networks: hw.Networks, AssociationTime: assoc, Notify: f.notify}}
		cmds = append(cmds, f.wifi.command())
	}
	// The kernel command set needs the shell (reboot runs after the answer).
	var s *Shell
	cmds = append(cmds, kernelCommands(&lazyShell{&s}, f.doReboot, f.uptime, version))
	var err error
	if s, err = NewShell(opts.Config, cmds...); err != nil {
		return nil, err
	}
	f.shell = s
	return f, nil
}

// lazyShell lets a command set made before the shell reach it.
type lazyShell struct{ s **Shell }

func (l *lazyShell) after(f func()) { (*l.s).after(f) }

// Dialect implements firmware.Firmware.
func (f *Firmware) Dialect() atengine.Dialect { return f.shell.Dialect() }

// Boot implements firmware.Firmware: the kernel banner, then the prompt.
func (f *Firmware) Boot(con firmware.Console) error {
	f.mu.Lock()
	f.con = con
	f.booted = f.clock()
	f.mu.Unlock()
	return con.Write(append([]byte(f.banner+"\r\n"), f.shell.Prompt()...))
}

// Close implements firmware.Firmware.
func (f *Firmware) Close() error {
	f.mu.Lock()
	f.con = nil
	f.mu.Unlock()
	if f.wifi != nil {
		f.wifi.close()
	}
	return nil
}

// SetReboot implements firmware.Rebooter: `kernel reboot cold` calls it.
func (f *Firmware) SetReboot(reboot func() error) {
	f.mu.Lock()
	f.reboot = reboot
	f.mu.Unlock()
}

func (f *Firmware) doReboot() error {
	f.mu.Lock()
	r := f.reboot
	f.mu.Unlock()
	if r == nil {
		return fmt.Errorf("zephyr shell: no board to reboot")
	}
	return r()
}

// ModemURC implements firmware.URCSink: printed only after
// `at events_enable`.
func (f *Firmware) ModemURC(line string) {
	if f.at == nil {
		return
	}
	if text, ok := f.at.eventLine(line); ok {
		f.notify(text)
	}
}

func (f *Firmware) notify(line string) {
	f.mu.Lock()
	con := f.con
	f.mu.Unlock()
	if con != nil {
		con.Notify(line)
	}
}

func (f *Firmware) uptime() time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clock().Sub(f.booted)
}

// Log levels as the log output prints them [S zephyr subsys/logging/log_output.c].
const (
	LevelErr = "err"
	LevelWrn = "wrn"
	LevelInf = "inf"
	LevelDbg = "dbg"
)

// logColors: errors red, warnings yellow; a level without a colour (info
// unless CONFIG_LOG_INFO_COLOR_GREEN, debug unless CONFIG_LOG_DBG_COLOR_BLUE)
// still gets LOG_COLOR_CODE_DEFAULT before and after [S
// subsys/logging/log_output.c colors[], color_print].
var logColors = map[string]string{LevelErr: "\x1b[1;31m", LevelWrn: "\x1b[1;33m"}

const logColorDefault = "\x1b[0m"

// Log prints a log line above the prompt, as the shell log backend does:
// "[hh:mm:ss.mmm,uuu] <lvl> module: text".
func (f *Firmware) Log(level, module, text string) {
	up := f.uptime()
	us := up.Microseconds()
	stamp := fmt.Sprintf("[%02d:%02d:%02d.%03d,%03d] ", us/3600e6, us/60e6%60, us/1e6%60, us/1000%1000, us%1000)
	body := fmt.Sprintf("<%s> %s: %s", level, module, text)
	if *f.shell.cfg.Colors {
		c, ok := logColors[level]
		if !ok {
			c = logColorDefault
		}
		body = c + body + logColorDefault
	}
	f.notify(stamp + body)
}

// WiFiConnected reports the network the station is associated with.
func (f *Firmware) WiFiConnected() (AccessPoint, bool) {
	if f.wifi == nil {
		return AccessPoint{}, false
	}
	return f.wifi.Connected()
}
