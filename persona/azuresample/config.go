package azuresample

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modemsim/modemsim/kconfig"
)

// Log levels of Zephyr's logging (LOG_LEVEL_NONE … LOG_LEVEL_DBG)
// [S zephyr include/zephyr/logging/log_core.h].
type Level int

// Levels.
const (
	LevelOff Level = iota
	LevelErr
	LevelWrn
	LevelInf
	LevelDbg
)

// levelTags are the markers Zephyr prints for each level [S log_output.c].
var levelTags = map[Level]string{LevelErr: "err", LevelWrn: "wrn", LevelInf: "inf", LevelDbg: "dbg"}

// Log modules of the sample and the libraries it links, with the Kconfig
// prefix of each module's level (Kconfig.template.log_config: module =
// AZURE_IOT_HUB covers azure_iot_hub and azure_iot_hub_dps)
// [S sdk-nrf samples/net/azure_iot_hub/Kconfig, subsys/net/lib/azure_iot_hub/Kconfig,
// subsys/net/lib/mqtt_helper/Kconfig, LOG_MODULE_REGISTER lines in their sources].
const (
	ModSample = "azure_iot_hub_sample"
	ModHub    = "azure_iot_hub"
	ModDPS    = "azure_iot_hub_dps"
	ModHelper = "mqtt_helper"
	ModFOTA   = "azure_fota"
	// The nRF7002 DK's network and TLS stack [T forum/nrf7002dk-*.txt;
	// S LOG_MODULE_REGISTER in zephyr sockets_tls.c, dhcpv4.c,
	// modules/mbedtls, sdk-nrf wifi_mgmt_ext.c, the supplicant's glue].
	ModWiFi    = "wifi_mgmt_ext"
	ModDHCP    = "net_dhcpv4"
	ModWPA     = "wpa_supp"
	ModSockTLS = "net_sock_tls"
	ModMbedTLS = "mbedtls"
)

// netModules log only when CONFIG_NET_LOG is on: their level options sit
// inside `if NET_LOG` [S zephyr subsys/net/Kconfig]; the forum's W1/W2 logs
// (no NET_LOG) show none of their lines, the WS thread's (NET_LOG=y) does.
var netModules = map[string]bool{ModDHCP: true, ModSockTLS: true}

var moduleLevelOption = map[string]string{
	ModSample:  "AZURE_IOT_HUB_SAMPLE",
	ModHub:     "AZURE_IOT_HUB",
	ModDPS:     "AZURE_IOT_HUB",
	ModHelper:  "MQTT_HELPER",
	ModFOTA:    "AZURE_FOTA",
	ModWiFi:    "WIFI_MGMT_EXT",
	ModDHCP:    "NET_DHCPV4",
	ModWPA:     "WPA_SUPP",
	ModSockTLS: "NET_SOCKETS",
	ModMbedTLS: "MBEDTLS",
}

// Config is the sample's build configuration: what its Kconfig options make
// it do. Defaults are the Kconfig defaults of the options.
type Config struct {
	DeviceID        string // CONFIG_AZURE_IOT_HUB_DEVICE_ID
	HostName        string // CONFIG_AZURE_IOT_HUB_HOSTNAME
	SecTag          int64  // CONFIG_MQTT_HELPER_SEC_TAG (default -1)
	SecondarySecTag int64  // CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG (default -1: unused)
	Port            int    // CONFIG_MQTT_HELPER_PORT (default 8883 with TLS)
	StaticIP        string // CONFIG_MQTT_HELPER_STATIC_IP_ADDRESS
	KeepAlive       time.Duration
	AutoTwin        bool // CONFIG_AZURE_IOT_HUB_AUTO_DEVICE_TWIN_REQUEST (default y)
	WebSocket       bool // CONFIG_MQTT_LIB_WEBSOCKET
	DPS             bool // CONFIG_AZURE_IOT_HUB_DPS
	IDScope         string
	RegID           string        // CONFIG_AZURE_IOT_HUB_DPS_REG_ID
	DPSHostName     string        // CONFIG_AZURE_IOT_HUB_DPS_HOSTNAME
	DPSTimeout      time.Duration // CONFIG_AZURE_IOT_HUB_DPS_TIMEOUT_SEC (default 90)
	FOTA            bool          // CONFIG_AZURE_FOTA (the nRF9160 DK board fragment sets it)
	DKLibrary       bool          // CONFIG_DK_LIBRARY: the "led" method drives LED1
	ATHost          bool          // CONFIG_AT_HOST_LIBRARY: the console is an AT host
	Shell           bool          // CONFIG_SHELL: the console is the Zephyr shell (where the board has one)
	Log             bool          // CONFIG_LOG
	NetLog          bool          // CONFIG_NET_LOG: the network stack's modules log
	Levels          map[string]Level

	// The nRF7002 DK's Wi-Fi credentials (CONFIG_WIFI_CREDENTIALS_STATIC,
	// _STATIC_SSID, _STATIC_PASSWORD, the _STATIC_TYPE_* choice, default
	// PSK) [S sdk-nrf samples/net/azure_iot_hub/boards/nrf7002dk_nrf5340_cpuapp.conf;
	// wifi_credentials Kconfig].
	WiFiStatic bool
	WiFi       WiFiCredentials

	// ProvisionCertificates is CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES:
	// mqtt_helper adds the arrays of CertificatesFile
	// (CONFIG_MQTT_HELPER_CERTIFICATES_FILE, NCS ≤ 2.6, default
	// "mqtt-certs.h") before it connects [S helper.c certificates_provision].
	// CertificatesFileFrom is the fragment that set the name (the
	// header is looked for beside it unless a setting says otherwise).
	ProvisionCertificates bool
	CertificatesFile      string
	CertificatesFileFrom  string
	// CertificatesFolder is CONFIG_MQTT_HELPER_CERTIFICATES_FOLDER, which
	// replaced the header in NCS 2.7 [S sdk-nrf release notes; I the
	// release]: standard PEM files (ca-cert.pem, client-cert.pem,
	// private-key.pem, and -2 ones for the secondary tag) in a folder
	// relative to the project, NUL-terminated by the build. Empty: the
	// header layout.
	CertificatesFolder     string
	CertificatesFolderFrom string
	// ProtectedStorage is CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE:
	// the sockets use the board's persistent TLS credential store (where
	// the `cred` shell writes). Zephyr's default backend is volatile: the
	// store is RAM, empty at every boot [S zephyr subsys/net/lib/tls_credentials/Kconfig].
	ProtectedStorage bool

	// mbedTLS of a native TLS stack (nRF7002 DK).
	// MbedTLSRenegotiation: CONFIG_MBEDTLS_SSL_RENEGOTIATION (FAILURE-CASES WS1).
	MbedTLSRenegotiation bool
	// MbedTLSMaxContentLen: CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN, 0 if unset
	// (Settings.MbedTLSDefaultContentLen then; FAILURE-CASES WS4).
	MbedTLSMaxContentLen int
	// MbedTLSDebugLevel: CONFIG_MBEDTLS_DEBUG_LEVEL when CONFIG_MBEDTLS_DEBUG
	// (and _DEBUG_C) are set, else 0: mbedTLS's own debug lines up to it.
	MbedTLSDebugLevel int
	// Ignored lists the assigned options the simulation does not model.
	Ignored []string
}

// options this package reads; everything else is listed as ignored.
var known = map[string]bool{}

func claim(names ...string) {
	for _, n := range names {
		known[kconfig.Prefix+n] = true
	}
}

func init() {
	claim("AZURE_IOT_HUB", "AZURE_IOT_HUB_DEVICE_ID", "AZURE_IOT_HUB_HOSTNAME", "MQTT_HELPER_SEC_TAG",
		"MQTT_HELPER_SECONDARY_SEC_TAG", "MQTT_HELPER_PORT", "MQTT_HELPER_STATIC_IP_ADDRESS", "MQTT_KEEPALIVE",
		"AZURE_IOT_HUB_AUTO_DEVICE_TWIN_REQUEST", "MQTT_LIB_WEBSOCKET", "AZURE_IOT_HUB_DPS",
		"AZURE_IOT_HUB_DPS_ID_SCOPE", "AZURE_IOT_HUB_DPS_REG_ID", "AZURE_IOT_HUB_DPS_HOSTNAME",
		"AZURE_IOT_HUB_DPS_TIMEOUT_SEC", "SETTINGS", "AZURE_FOTA", "DK_LIBRARY", "AT_HOST_LIBRARY",
		"LOG", "LOG_DEFAULT_LEVEL", "MQTT_LIB_TLS",
		"NET_LOG", "SHELL", "WIFI_CREDENTIALS_STATIC", "WIFI_CREDENTIALS_STATIC_SSID", "WIFI_CREDENTIALS_STATIC_PASSWORD",
		"MQTT_HELPER_PROVISION_CERTIFICATES", "MQTT_HELPER_CERTIFICATES_FILE", "MQTT_HELPER_CERTIFICATES_FOLDER",
		"TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE", "TLS_CREDENTIALS_BACKEND_VOLATILE",
		"MBEDTLS_SSL_RENEGOTIATION", "MBEDTLS_SSL_MAX_CONTENT_LEN", "MBEDTLS_DEBUG", "MBEDTLS_DEBUG_C", "MBEDTLS_DEBUG_LEVEL")
	for _, t := range wifiTypeChoices {
		claim("WIFI_CREDENTIALS_STATIC_TYPE_" + t.name)
	}
	for _, m := range moduleLevelOption {
		for _, s := range levelChoices {
			claim(m + "_LOG_LEVEL_" + s.name)
		}
	}
}

// levelChoices are the symbols of Kconfig.template.log_config's choice
// [S zephyr subsys/logging/Kconfig.template.log_config].
var levelChoices = []struct {
	name  string
	level Level
}{{"OFF", LevelOff}, {"ERR", LevelErr}, {"WRN", LevelWrn}, {"INF", LevelInf}, {"DBG", LevelDbg}, {"DEFAULT", -1}}

// wifiTypeChoices are WIFI_CREDENTIALS_STATIC_TYPE_* with their enum
// wifi_security_type values in Zephyr 3.5 (NCS 2.5) [S zephyr wifi.h,
// wifi_credentials Kconfig].
var wifiTypeChoices = []struct {
	name     string
	security int
}{{"OPEN", 0}, {"PSK", 1}, {"PSK_SHA256", 2}, {"SAE", 3}}

// BuildError is a configuration the real build refuses, with the build's words.
type BuildError struct{ Reasons []string }

func (e *BuildError) Error() string {
	return "azure_iot_hub: the build fails: " + strings.Join(e.Reasons, "; ")
}

// Texts of the build's refusals.
const (
	// [S sdk-nrf subsys/net/lib/mqtt_helper/mqtt_helper.c: BUILD_ASSERT((CONFIG_MQTT_HELPER_SEC_TAG != -1), "Security tag must be configured")]
	buildAssertSecTag = `mqtt_helper.c: static assertion failed: "Security tag must be configured" (CONFIG_MQTT_HELPER_SEC_TAG is -1; AZURE_IOT_HUB selects MQTT_LIB_TLS)`
	// kconfiglib's warning for an assignment whose dependencies are unmet,
	// which Zephyr's kconfig.py turns into "Aborting due to Kconfig warnings"
	// [S zephyr scripts/kconfig/kconfig.py, kconfiglib.py _assigned_twice/unsatisfied].
	kconfigUnmet = "warning: %s (defined at %s) was assigned the value '%s' but got the value '%s'. Check these unsatisfied dependencies: %s (=n). error: Aborting due to Kconfig warnings"
)

// FromKconfig reads the merged fragments.
func FromKconfig(c *kconfig.Config) (Config, error) {
	cfg := Config{SecTag: -1, SecondarySecTag: -1, Port: 8883, KeepAlive: 60 * time.Second, AutoTwin: true,
		DPSHostName: "global.azure-devices-provisioning.net", DPSTimeout: 90 * time.Second, Log: true,
		Levels: map[string]Level{}}
	var errs []error
	b := func(name string, dst *bool) {
		v, set, err := c.Bool(kconfig.Prefix + name)
		errs = append(errs, err)
		if set && err == nil {
			*dst = v
		}
	}
	s := func(name string, dst *string) {
		v, set, err := c.String(kconfig.Prefix + name)
		errs = append(errs, err)
		if set && err == nil {
			*dst = v
		}
	}
	i := func(name string, dst *int64) bool {
		v, set, err := c.Int(kconfig.Prefix + name)
		errs = append(errs, err)
		if set && err == nil {
			*dst = v
		}
		return set
	}
	hub := false
	b("AZURE_IOT_HUB", &hub)
	s("AZURE_IOT_HUB_DEVICE_ID", &cfg.DeviceID)
	s("AZURE_IOT_HUB_HOSTNAME", &cfg.HostName)
	i("MQTT_HELPER_SEC_TAG", &cfg.SecTag)
	i("MQTT_HELPER_SECONDARY_SEC_TAG", &cfg.SecondarySecTag)
	port := int64(cfg.Port)
	i("MQTT_HELPER_PORT", &port)
	cfg.Port = int(port)
	s("MQTT_HELPER_STATIC_IP_ADDRESS", &cfg.StaticIP)
	ka := int64(60) // Zephyr MQTT_KEEPALIVE default [S zephyr subsys/net/lib/mqtt/Kconfig]
	i("MQTT_KEEPALIVE", &ka)
	cfg.KeepAlive = time.Duration(ka) * time.Second
	b("AZURE_IOT_HUB_AUTO_DEVICE_TWIN_REQUEST", &cfg.AutoTwin)
	b("MQTT_LIB_WEBSOCKET", &cfg.WebSocket)
	b("AZURE_IOT_HUB_DPS", &cfg.DPS)
	settings := false
	b("SETTINGS", &settings)
	s("AZURE_IOT_HUB_DPS_ID_SCOPE", &cfg.IDScope)
	s("AZURE_IOT_HUB_DPS_REG_ID", &cfg.RegID)
	s("AZURE_IOT_HUB_DPS_HOSTNAME", &cfg.DPSHostName)
	dpsTimeout := int64(90)
	i("AZURE_IOT_HUB_DPS_TIMEOUT_SEC", &dpsTimeout)
	cfg.DPSTimeout = time.Duration(dpsTimeout) * time.Second
	b("AZURE_FOTA", &cfg.FOTA)
	b("DK_LIBRARY", &cfg.DKLibrary)
	b("AT_HOST_LIBRARY", &cfg.ATHost)
	b("LOG", &cfg.Log)
	b("NET_LOG", &cfg.NetLog)
	b("SHELL", &cfg.Shell)
	b("WIFI_CREDENTIALS_STATIC", &cfg.WiFiStatic)
	s("WIFI_CREDENTIALS_STATIC_SSID", &cfg.WiFi.SSID)
	s("WIFI_CREDENTIALS_STATIC_PASSWORD", &cfg.WiFi.Password)
	cfg.WiFi.Security = 1 // the choice's default, PSK
	for _, t := range wifiTypeChoices {
		var on bool
		b("WIFI_CREDENTIALS_STATIC_TYPE_"+t.name, &on)
		if on {
			cfg.WiFi.Security = t.security
		}
	}
	b("MQTT_HELPER_PROVISION_CERTIFICATES", &cfg.ProvisionCertificates)
	cfg.CertificatesFile = "mqtt-certs.h"
	s("MQTT_HELPER_CERTIFICATES_FILE", &cfg.CertificatesFile)
	if v, ok := c.Lookup(kconfig.Prefix + "MQTT_HELPER_CERTIFICATES_FILE"); ok {
		cfg.CertificatesFileFrom = v.File
	} else if v, ok := c.Lookup(kconfig.Prefix + "MQTT_HELPER_PROVISION_CERTIFICATES"); ok {
		cfg.CertificatesFileFrom = v.File
	}
	s("MQTT_HELPER_CERTIFICATES_FOLDER", &cfg.CertificatesFolder)
	if v, ok := c.Lookup(kconfig.Prefix + "MQTT_HELPER_CERTIFICATES_FOLDER"); ok {
		cfg.CertificatesFolderFrom = v.File
	}
	b("TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE", &cfg.ProtectedStorage)
	b("MBEDTLS_SSL_RENEGOTIATION", &cfg.MbedTLSRenegotiation)
	maxContent := int64(0)
	i("MBEDTLS_SSL_MAX_CONTENT_LEN", &maxContent)
	cfg.MbedTLSMaxContentLen = int(maxContent)
	var mbedDebug, mbedDebugC bool
	b("MBEDTLS_DEBUG", &mbedDebug)
	b("MBEDTLS_DEBUG_C", &mbedDebugC)
	debugLevel := int64(0)
	i("MBEDTLS_DEBUG_LEVEL", &debugLevel)
	if mbedDebug || mbedDebugC {
		cfg.MbedTLSDebugLevel = int(debugLevel)
	}
	def := int64(LevelInf) // CONFIG_LOG_DEFAULT_LEVEL default 3 [S zephyr subsys/logging/Kconfig.filtering]
	i("LOG_DEFAULT_LEVEL", &def)
	for mod, opt := range moduleLevelOption {
		cfg.Levels[mod] = Level(def)
		for _, ch := range levelChoices {
			var on bool
			b(opt+"_LOG_LEVEL_"+ch.name, &on)
			if on && ch.level >= 0 {
				cfg.Levels[mod] = ch.level
			}
		}
	}
	for mod := range cfg.Levels {
		if !cfg.Log || (netModules[mod] && !cfg.NetLog) {
			cfg.Levels[mod] = LevelOff
		}
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}

	var why []string
	if !hub {
		why = append(why, "CONFIG_AZURE_IOT_HUB is not y: main.c calls azure_iot_hub_init() and azure_iot_hub_connect() (undefined references)")
	}
	if cfg.SecTag == -1 {
		why = append(why, buildAssertSecTag)
	}
	if cfg.SecTag < -1 || cfg.SecondarySecTag < -1 || cfg.SecTag > 0x7fffffff || cfg.SecondarySecTag > 0x7fffffff {
		why = append(why, fmt.Sprintf("sec tags must be -1 or a non-negative sec_tag_t, got %d and %d", cfg.SecTag, cfg.SecondarySecTag))
	}
	if cfg.DPS && !settings {
		v, _ := c.Lookup(kconfig.Prefix + "AZURE_IOT_HUB_DPS")
		why = append(why, fmt.Sprintf(kconfigUnmet, "AZURE_IOT_HUB_DPS", v.Where(), "y", "n", "SETTINGS"))
		cfg.DPS = false
	}
	if !cfg.DPS {
		// Options inside `if AZURE_IOT_HUB_DPS` are invisible without it.
		for _, n := range []string{"AZURE_IOT_HUB_DPS_ID_SCOPE", "AZURE_IOT_HUB_DPS_REG_ID", "AZURE_IOT_HUB_DPS_HOSTNAME", "AZURE_IOT_HUB_DPS_TIMEOUT_SEC"} {
			if v, ok := c.Lookup(kconfig.Prefix + n); ok {
				why = append(why, fmt.Sprintf(kconfigUnmet, n, v.Where(), v.Raw, "", "AZURE_IOT_HUB_DPS"))
			}
		}
	}
	if len(why) > 0 {
		return Config{}, &BuildError{Reasons: why}
	}
	cfg.Ignored = c.Unused(func(n string) bool { return known[n] })
	return cfg, nil
}

// SecTags is sec_tag_list as mqtt_helper builds it: the primary tag, then
// the secondary when it is > -1 [S mqtt_helper.c client_connect].
func (c Config) SecTags() []uint32 {
	tags := []uint32{uint32(c.SecTag)}
	if c.SecondarySecTag > -1 {
		tags = append(tags, uint32(c.SecondarySecTag))
	}
	return tags
}

// BoardConf is the sample's fragment for a board (boards/<board>.conf),
// which the build merges after prj.conf and before overlays [S sdk-nrf
// samples/net/azure_iot_hub/boards/; Zephyr's application build merges
// board fragments after prj.conf].
type BoardConf struct {
	Name string // the file, as the build names it
	Text string
}

// NRF9160DKConf is boards/nrf9160dk_nrf9160_ns.conf, the options of it that
// change what the simulation does.
var NRF9160DKConf = BoardConf{Name: "boards/nrf9160dk_nrf9160_ns.conf", Text: BoardFragment}

// BoardFragment is the text of NRF9160DKConf.
const BoardFragment = `# samples/net/azure_iot_hub/boards/nrf9160dk_nrf9160_ns.conf (excerpt)
CONFIG_DK_LIBRARY=y
CONFIG_AT_HOST_LIBRARY=y
CONFIG_AZURE_FOTA=y
`

// NRF7002DKConf is boards/nrf7002dk_nrf5340_cpuapp.conf (NCS v2.5), the
// options of it the simulation reads: Wi-Fi with static credentials —
// empty, so a user sets them in this file or an overlay, as the forum
// user did — the supplicant's quiet log level, FOTA [S sdk-nrf, the file
// as the forum post quotes it].
var NRF7002DKConf = BoardConf{Name: "boards/nrf7002dk_nrf5340_cpuapp.conf", Text: `# samples/net/azure_iot_hub/boards/nrf7002dk_nrf5340_cpuapp.conf (excerpt)
CONFIG_DK_LIBRARY=y
CONFIG_WIFI_CREDENTIALS=y
CONFIG_WIFI_CREDENTIALS_STATIC=y
CONFIG_WPA_SUPP_LOG_LEVEL_ERR=y
CONFIG_WIFI_CREDENTIALS_STATIC_SSID=""
CONFIG_WIFI_CREDENTIALS_STATIC_PASSWORD=""
CONFIG_NET_SOCKETS_SOCKOPT_TLS=y
CONFIG_MBEDTLS=y
CONFIG_AZURE_FOTA=y
`}

// SampleProjectConf is the sample's own prj.conf, used when no fragment is
// given [S sdk-nrf samples/net/azure_iot_hub/prj.conf].
const SampleProjectConf = `CONFIG_LOG=y
CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DEVICE_ID="my-device"
CONFIG_AZURE_IOT_HUB_HOSTNAME=""
CONFIG_MQTT_HELPER_SEC_TAG=10
CONFIG_MQTT_KEEPALIVE=1767
CONFIG_CJSON_LIB=y
CONFIG_SETTINGS=y
`

// LoadFragments merges the files as the build does: the first is prj.conf,
// then the board's fragment (when board.Text is set), then the rest as
// overlays.
func LoadFragments(board BoardConf, paths ...string) (*kconfig.Config, error) {
	var c *kconfig.Config
	var err error
	if len(paths) == 0 {
		c, err = kconfig.Parse("prj.conf (sample)", []byte(SampleProjectConf))
	} else {
		c, err = kconfig.Load(paths[0])
	}
	if err != nil {
		return nil, err
	}
	if board.Text != "" {
		bc, err := kconfig.Parse(board.Name, []byte(board.Text))
		if err != nil {
			return nil, err
		}
		c.Merge(bc)
	}
	if len(paths) > 1 {
		over, err := kconfig.Load(paths[1:]...)
		if err != nil {
			return nil, err
		}
		c.Merge(over)
	}
	return c, nil
}

// Options are the persona's knobs as a board or fleet file gives them:
// the Kconfig fragments and the settings.
type Options struct {
	// PrjConf is prj.conf then overlays, later ones winning; none builds
	// the sample's own prj.conf.
	PrjConf []string `json:"prj_conf,omitempty"`
	// NoBoardFragment leaves out the sample's fragment for the board.
	NoBoardFragment bool `json:"no_board_fragment,omitempty"`
	// BoardConf replaces the sample's fragment for the board with the
	// user's own file (the forum user's nrf7002dk_nrf5340_cpuapp.conf).
	BoardConf string `json:"board_conf,omitempty"`
	Settings
}

// Flash builds the configuration from o's fragments and flashes the sample.
func Flash(o Options, deps Deps) (*Firmware, error) {
	board := deps.Board
	switch {
	case o.NoBoardFragment:
		board = BoardConf{}
	case o.BoardConf != "":
		b, err := os.ReadFile(o.BoardConf)
		if err != nil {
			return nil, fmt.Errorf("azure_iot_hub: board_conf: %w", err)
		}
		board = BoardConf{Name: o.BoardConf, Text: string(b)}
	}
	c, err := LoadFragments(board, o.PrjConf...)
	if err != nil {
		return nil, fmt.Errorf("azure_iot_hub: %w", err)
	}
	cfg, err := FromKconfig(c)
	if err != nil {
		return nil, err
	}
	return New(cfg, o.Settings, deps)
}
