package azuresample

import (
	"errors"
	"fmt"
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
)

var moduleLevelOption = map[string]string{
	ModSample: "AZURE_IOT_HUB_SAMPLE",
	ModHub:    "AZURE_IOT_HUB",
	ModDPS:    "AZURE_IOT_HUB",
	ModHelper: "MQTT_HELPER",
	ModFOTA:   "AZURE_FOTA",
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
	Log             bool          // CONFIG_LOG
	Levels          map[string]Level
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
		"LOG", "LOG_DEFAULT_LEVEL", "MQTT_LIB_TLS")
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
	if !cfg.Log {
		for mod := range cfg.Levels {
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

// BoardFragment is boards/nrf9160dk_nrf9160_ns.conf of the sample, the
// options of it that change what the simulation does; the build merges it
// after prj.conf and before overlays [S sdk-nrf samples/net/azure_iot_hub/boards/;
// Zephyr's application build merges board fragments after prj.conf].
const BoardFragment = `# samples/net/azure_iot_hub/boards/nrf9160dk_nrf9160_ns.conf (excerpt)
CONFIG_DK_LIBRARY=y
CONFIG_AT_HOST_LIBRARY=y
CONFIG_AZURE_FOTA=y
`

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
// then the board fragment (when board is true), then the rest as overlays.
func LoadFragments(board bool, paths ...string) (*kconfig.Config, error) {
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
	if board {
		bc, err := kconfig.Parse("boards/nrf9160dk_nrf9160_ns.conf", []byte(BoardFragment))
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
	// NoBoardFragment leaves out boards/nrf9160dk_nrf9160_ns.conf.
	NoBoardFragment bool `json:"no_board_fragment,omitempty"`
	Settings
}

// Flash builds the configuration from o's fragments and flashes the sample.
func Flash(o Options, deps Deps) (*Firmware, error) {
	c, err := LoadFragments(!o.NoBoardFragment, o.PrjConf...)
	if err != nil {
		return nil, fmt.Errorf("azure_iot_hub: %w", err)
	}
	cfg, err := FromKconfig(c)
	if err != nil {
		return nil, err
	}
	return New(cfg, o.Settings, deps)
}
