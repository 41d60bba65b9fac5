package spwf04

import (
	"fmt"
	"strconv"
	"strings"
)

// varKind is how a configuration variable's value is written.
type varKind int

const (
	varInt  varKind = iota // decimal
	varHex                 // 32-bit mask, written 0x%08X [I]
	varText                // any text without commas
)

// variable is one configuration variable with its factory value.
type variable struct {
	name string
	kind varKind
	def  string
}

// configVars are the variables SCFG/GCFG know, in the order GCFG lists
// them. Names are the ones drivers and users set [S spwf04.md §7: mbed,
// X-CUBE, the course hand-out]. Factory values are [U] unless noted: the
// manual's table was not available; each is the documented or most
// plausible default and can be changed with SCFG like on the module.
var configVars = []variable{
	{"console_enabled", varInt, "1"},
	{"console_speed", varInt, "115200"}, // 115200 8N1 [C spwf04.md §1]
	{"console_hwfc", varInt, "0"},
	{"console_echo", varInt, "1"}, // echo on by default [C spwf04.md §1]
	{"console_errs", varInt, "1"},
	{"console_verbose", varInt, "1"}, // ST sets 1 on UART [C], effect [U]
	{"console_wind_off_low", varHex, "0x00000000"},
	{"console_wind_off_medium", varHex, "0x00000000"},
	{"console_wind_off_high", varHex, "0x00000000"},
	{"sleep_enabled", varInt, "0"},
	{"standby_enabled", varInt, "0"},
	{"blink_led", varInt, "0"},
	{"wifi_mode", varInt, "1"},      // 0 idle, 1 STA, 2 IBSS, 3 miniAP [C]; default STA [U]
	{"wifi_priv_mode", varInt, "2"}, // 0 open, 1 WEP, 2 WPA/WPA2-PSK [C]; default [U]
	{"wifi_ssid", varText, ""},      // set by SSIDTXT; kept as text here [U]
	{"wifi_wpa_psk_text", varText, ""},
	{"wifi_eap_type", varInt, "0"},
	{"wifi_ht_mode", varInt, "0"},
	{"wifi_opr_rate_mask", varHex, "0x003FFFCF"},
	{"wifi_powersave", varInt, "0"},
	{"wifi_reg_country", varText, "00"},
	{"ip_use_dhcpc", varInt, "1"},
	{"ip_hostname", varText, "iwm"},
	{"ip_dns1", varText, "0.0.0.0"},
	{"ip_dns2", varText, "0.0.0.0"},
	{"nv_wifi_macaddr", varText, ""}, // the hardware's MAC (board setting)
}

func lookupVar(name string) (variable, bool) {
	for _, v := range configVars {
		if v.name == name {
			return v, true
		}
	}
	return variable{}, false
}

// factoryConfig is the configuration after FCFG.
func factoryConfig(mac string) map[string]string {
	m := make(map[string]string, len(configVars))
	for _, v := range configVars {
		m[v.name] = v.def
	}
	m["nv_wifi_macaddr"] = mac
	return m
}

// normalize checks a value for v and returns it as GCFG prints it.
func (v variable) normalize(value string) (string, error) {
	switch v.kind {
	case varInt:
		n, err := strconv.ParseInt(strings.TrimSpace(value), 0, 64)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a number", v.name, value)
		}
		return strconv.FormatInt(n, 10), nil
	case varHex:
		n, err := strconv.ParseUint(strings.TrimSpace(value), 0, 32)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a 32-bit value", v.name, value)
		}
		return fmt.Sprintf("0x%08X", n), nil
	}
	return value, nil
}

// varLine is one variable as GCFG and STS print it [C spwf04.md §7].
func varLine(name, value string) string { return "AT-S.Var:" + name + "=" + value }
