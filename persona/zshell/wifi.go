package zshell

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// AccessPoint is a Wi-Fi network the board can see.
type AccessPoint struct {
	SSID       string
	Passphrase string
	Security   int // enum wifi_security_type (WiFiSecurity*)
	Channel    int
	Band       string // wifi_band_txt: "2.4GHz", "5GHz", "6GHz"
	RSSI       int
	BSSID      [6]byte
	MFP        int // enum wifi_mfp_options (WiFiMFPOptional)
}

// enum wifi_security_type and wifi_security_txt as of Zephyr 3.5 (NCS 2.5)
// [S zephyr include/zephyr/net/wifi.h]; later releases dropped EAP and
// renumbered, so `-k` numbers are release-specific.
const (
	WiFiSecurityNone      = 0
	WiFiSecurityPSK       = 1 // WPA2-PSK
	WiFiSecurityPSKSHA256 = 2
	WiFiSecuritySAE       = 3 // WPA3-SAE
)

var wifiSecurityText = map[int]string{0: "OPEN", 1: "WPA2-PSK", 2: "WPA2-PSK-SHA256", 3: "WPA3-SAE", 4: "WAPI", 5: "EAP", 6: "WEP", 7: "WPA-PSK"}

// WiFiSecurityText is wifi_security_txt.
func WiFiSecurityText(s int) string {
	if t, ok := wifiSecurityText[s]; ok {
		return t
	}
	return "UNKNOWN"
}

// wifi_mfp_txt: enum wifi_mfp_options DISABLE 0, OPTIONAL 1, REQUIRED 2
// [S include/zephyr/net/wifi.h].
var wifiMFPText = map[int]string{0: "Disable", 1: "Optional", 2: "Required"}

// WiFiMFPOptional is WIFI_MFP_OPTIONAL, what `wifi connect` asks by default.
const WiFiMFPOptional = 1

// enum wifi_conn_status [S zephyr include/zephyr/net/wifi_mgmt.h]; which one
// wpa_supplicant reports for each mismatch is inferred [I].
// The statuses a failed association reports.
const (
	WiFiConnFail          = 1
	WiFiConnWrongPassword = 2
	WiFiConnAPNotFound    = 4
)

// Wi-Fi shell strings [S subsys/net/l2/wifi/wifi_shell.c].
const (
	wifiScanHeader = "\n%-4s | %-32s %-5s | %-13s | %-4s | %-15s | %-17s | %-8s"
	wifiScanRow    = "%-4d | %-32s %-5d | %-4d (%-6s) | %-4d | %-15s | %-17s | %-8s"
	wifiLinkMode   = "WIFI 6 (802.11ax/HE)" // the nRF7002 is a Wi-Fi 6 radio
)

// WiFiConfig is how the Wi-Fi side behaves.
type WiFiConfig struct {
	// Networks the radio sees.
	Networks []AccessPoint
	// AssociationTime is how long a connect takes before its event.
	AssociationTime time.Duration
	// Notify prints an event line above the prompt (set at boot).
	Notify func(line string)
}

type wifiShell struct {
	cfg WiFiConfig

	mu        sync.Mutex
	connected *AccessPoint
	timers    []*time.Timer
	closed    bool
}

func (w *wifiShell) command() *Command {
	return &Command{Name: "wifi", Help: "Wi-Fi commands", Sub: []*Command{
		{Name: "connect", Help: "Connect to a Wi-Fi AP\n<-s --ssid \"<SSID>\">: SSID.\n[-p, --passphrase]: Passphrase (valid only for secure SSIDs)\n[-k, --key-mgmt]: Key Management type (valid only for secure SSIDs)\n[-h, --help]: Print out the help for the connect command.",
			Mandatory: 2, Optional: 15, Run: w.cmdConnect},
		{Name: "disconnect", Help: "Disconnect from the Wi-Fi AP.", Mandatory: 1, Run: w.cmdDisconnect},
		{Name: "scan", Help: "Scan for Wi-Fi APs", Mandatory: 1, Optional: 8, Run: w.cmdScan},
		{Name: "status", Help: "Status of the Wi-Fi interface.", Mandatory: 1, Run: w.cmdStatus},
	}}
}

// options is enough of getopt_long for `-s X`, `-sX`, `--ssid X`, `--ssid=X`.
func options(args []string, long map[string]byte) (map[byte]string, error) {
	out := map[byte]string{}
	for i := 1; i < len(args); i++ {
		a := args[i]
		var opt byte
		var val string
		hasVal := false
		switch {
		case strings.HasPrefix(a, "--"):
			name, v, eq := strings.Cut(a[2:], "=")
			o, ok := long[name]
			if !ok {
				return nil, fmt.Errorf("%s", a)
			}
			opt, val, hasVal = o, v, eq
		case strings.HasPrefix(a, "-") && len(a) >= 2:
			opt = a[1]
			if len(a) > 2 {
				val, hasVal = a[2:], true
			}
		default:
			continue // getopt permutes non-options to the end
		}
		if opt == 'h' {
			out['h'] = ""
			continue
		}
		if !hasVal {
			if i+1 >= len(args) {
				return nil, fmt.Errorf("%c", opt)
			}
			i++
			val = args[i]
		}
		out[opt] = val
	}
	return out, nil
}

func (w *wifiShell) cmdConnect(_ context.Context, o *Output, args []string) int {
	opts, err := options(args, map[string]byte{"ssid": 's', "passphrase": 'p', "key-mgmt": 'k',
		"ieee-80211w": 'w', "bssid": 'm', "band": 'b', "channel": 'c', "timeout": 't', "help": 'h'})
	if _, help := opts['h']; err != nil || help {
		if err != nil {
			o.Error("Invalid option %s\n", err)
		}
		return -ENOEXEC
	}
	security := 0
	if k, ok := opts['k']; ok {
		security, _ = strconv.Atoi(k)
	}
	psk, hasPSK := opts['p']
	if hasPSK && security == 0 {
		o.Warn("Passphrase provided without security configuration\n")
	}
	ssid, ok := opts['s']
	if !ok {
		o.Error("SSID not provided\n")
		return -ENOEXEC
	}
	if len(ssid) > 32 {
		o.Warn("SSID too long (max %d characters)\n", 32)
		return -ENOEXEC
	}
	o.Print("Connection requested\n")
	w.after(func() {
		status, ap := w.associate(ssid, psk, security)
		if status != 0 {
			w.cfg.Notify(fmt.Sprintf("\x1b[1;33mConnection request failed (%d)\x1b[m", status))
			return
		}
		w.mu.Lock()
		w.connected = &ap
		w.mu.Unlock()
		w.cfg.Notify("Connected")
	})
	return 0
}

// associate decides what the AP does with the request [I: which status
// wpa_supplicant reports for each mismatch].
func (w *wifiShell) associate(ssid, psk string, security int) (int, AccessPoint) {
	return Associate(w.cfg.Networks, ssid, psk, security)
}

// Associate is what the access points in range do with a connection
// request: 0 and the AP, or the enum wifi_conn_status of the failure
// [I: which status wpa_supplicant reports for each mismatch]. The shell's
// `wifi connect` and the firmware's stored credentials both go through it.
func Associate(networks []AccessPoint, ssid, psk string, security int) (int, AccessPoint) {
	for _, ap := range networks {
		if ap.SSID != ssid {
			continue
		}
		switch {
		case ap.Security != security:
			return WiFiConnFail, ap
		case ap.Security != WiFiSecurityNone && ap.Passphrase != psk:
			return WiFiConnWrongPassword, ap
		}
		return 0, ap
	}
	return WiFiConnAPNotFound, AccessPoint{}
}

func (w *wifiShell) cmdDisconnect(_ context.Context, o *Output, _ []string) int {
	w.mu.Lock()
	was := w.connected != nil
	w.connected = nil
	w.mu.Unlock()
	if !was {
		o.Info("Already disconnected\n")
		return 0
	}
	o.Print("Disconnect requested\n")
	w.after(func() { w.cfg.Notify("Disconnection request done (0)") })
	return 0
}

func (w *wifiShell) cmdScan(_ context.Context, o *Output, _ []string) int {
	o.Print("Scan requested\n")
	w.after(func() {
		for i, ap := range w.cfg.Networks {
			if i == 0 {
				w.cfg.Notify(fmt.Sprintf(wifiScanHeader, "Num", "SSID", "(len)", "Chan (Band)", "RSSI", "Security", "BSSID", "MFP"))
			}
			w.cfg.Notify(fmt.Sprintf(wifiScanRow, i+1, ap.SSID, len(ap.SSID), ap.Channel, ap.Band, ap.RSSI,
				WiFiSecurityText(ap.Security), macText(ap.BSSID), wifiMFPText[ap.MFP]))
		}
		w.cfg.Notify("Scan request done")
	})
	return 0
}

func (w *wifiShell) cmdStatus(_ context.Context, o *Output, _ []string) int {
	w.mu.Lock()
	ap := w.connected
	w.mu.Unlock()
	o.Print("Status: successful\n")
	o.Print("==================\n")
	if ap == nil {
		o.Print("State: %s\n", "DISCONNECTED")
		return 0
	}
	o.Print("State: %s\n", "COMPLETED")
	o.Print("Interface Mode: %s\n", "STATION")
	o.Print("Link Mode: %s\n", wifiLinkMode)
	o.Print("SSID: %.32s\n", ap.SSID)
	o.Print("BSSID: %s\n", macText(ap.BSSID))
	o.Print("Band: %s\n", ap.Band)
	o.Print("Channel: %d\n", ap.Channel)
	o.Print("Security: %s\n", WiFiSecurityText(ap.Security))
	o.Print("MFP: %s\n", wifiMFPText[ap.MFP])
	o.Print("RSSI: %d\n", ap.RSSI)
	o.Print("Beacon Interval: %d\n", 100)
	o.Print("DTIM: %d\n", 1)
	o.Print("TWT: %s\n", "Supported")
	return 0
}

// Connected reports the network the station is on (for a sample's own
// connectivity checks).
func (w *wifiShell) Connected() (AccessPoint, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.connected == nil {
		return AccessPoint{}, false
	}
	return *w.connected, true
}

// after runs f when the association (or scan) would finish: a timer, no
// goroutine while waiting.
func (w *wifiShell) after(f func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.cfg.Notify == nil {
		return
	}
	w.timers = append(w.timers, time.AfterFunc(w.cfg.AssociationTime, func() {
		w.mu.Lock()
		closed := w.closed
		w.mu.Unlock()
		if !closed {
			f()
		}
	}))
}

func (w *wifiShell) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for _, t := range w.timers {
		t.Stop()
	}
	w.timers = nil
}

// macText is net_sprint_ll_addr_buf: uppercase hex pairs joined by ':'.
func macText(m [6]byte) string {
	return fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5])
}
