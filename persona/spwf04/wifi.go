package spwf04

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/modemsim/modemsim/atengine"
)

// AT+S.SSIDTXT=<ssid> sets the network name [C spwf04.md §7]; without a
// field it prints it as `AT-S.Var:wifi_ssid=<ssid>` [U].
func (m *Module) cmdSSIDTXT(_ context.Context, r request) atengine.Reply {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(r.args) == 0 {
		return ok(varLine("wifi_ssid", m.vars["wifi_ssid"]))
	}
	if r.arg(0) == "" {
		return fail(ErrMissingArgs)
	}
	if len(r.arg(0)) > 32 { // an 802.11 SSID is at most 32 octets
		return fail(ErrExceedsSize)
	}
	m.vars["wifi_ssid"] = r.arg(0)
	return ok()
}

// AT+S.WIFI=<0|1>: radio off (`+WIND:49:WPA Terminated:0`, `+WIND:38`) or
// on (`+WIND:32`, then the association) after OK [C spwf04.md §7].
func (m *Module) cmdWIFI(_ context.Context, r request) atengine.Reply {
	switch r.arg(0) {
	case "":
		return fail(ErrMissingArgs)
	case "0":
		m.dropConnections()
		m.mu.Lock()
		m.radio, m.up = false, false
		m.mu.Unlock()
		m.wind(WindWPATerminated, windText[WindWPATerminated], "0")
		m.wind(WindPoweredDown, windText[WindPoweredDown])
		return ok()
	case "1":
		m.mu.Lock()
		m.stopJoinLocked()
		m.radio, m.up = true, false
		m.mu.Unlock()
		m.wind(WindHardwareStarted, windText[WindHardwareStarted])
		m.startJoin()
		return ok()
	}
	return fail(ErrInvalidArgs)
}

func (m *Module) stopJoinLocked() {
	m.joinGen++
	if m.joinTmr != nil {
		m.joinTmr.Stop()
		m.joinTmr = nil
	}
}

// startJoin associates with the configured network if the module is a
// station with an SSID, in the order of [F3]/[M] [S spwf04.md §3].
func (m *Module) startJoin() {
	m.mu.Lock()
	if !m.radio || m.closed || m.vars["wifi_mode"] != "1" || m.vars["wifi_ssid"] == "" {
		m.mu.Unlock()
		return
	}
	gen := m.joinGen
	m.mu.Unlock()
	m.join(gen)
}

// join is one association attempt; a failed one is retried every JoinRetry.
func (m *Module) join(gen int) {
	m.mu.Lock()
	if gen != m.joinGen || m.closed {
		m.mu.Unlock()
		return
	}
	ssid, priv, psk := m.vars["wifi_ssid"], m.vars["wifi_priv_mode"], m.vars["wifi_wpa_psk_text"]
	m.mu.Unlock()
	ap := m.hw.AP

	m.wind(WindScanning, windText[WindScanning])
	m.wind(WindScanComplete, windText[WindScanComplete], "00")
	if ssid != ap.SSID {
		m.retryJoin(gen) // the network is not in range
		return
	}
	m.wind(WindJoin, windText[WindJoin], ap.BSSID)
	m.wind(WindAssociation, windText[WindAssociation], ssid)
	if ap.Key != "" {
		if priv != "2" || psk != ap.Key {
			// WPA2 4-way handshake fails: the AP deauthenticates [I spwf04.md §3].
			m.wind(WindDeauthentication, windText[WindDeauthentication], strconv.Itoa(m.cfg.WrongKeyReason))
			m.retryJoin(gen)
			return
		}
		m.wind(WindWPAHandshake, windText[WindWPAHandshake])
	}
	m.mu.Lock()
	if gen != m.joinGen {
		m.mu.Unlock()
		return
	}
	m.up = true
	m.mu.Unlock()
	// Two WiFi Up lines: first the IPv6 link-local one (`WiFi Up::…`), then
	// `WiFi Up:0:<ipv4>`; X-CUBE waits for both [C spwf04.md §3, rest of
	// the first line U].
	m.wind(WindUp, windText[WindUp], "", linkLocal(m.hw.MAC))
	m.wind(WindUp, windText[WindUp], "0", ap.IP)
}

func (m *Module) retryJoin(gen int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if gen != m.joinGen || m.closed {
		return
	}
	m.joinTmr = time.AfterFunc(m.cfg.JoinRetry.Duration, func() { m.join(gen) })
}

// linkLocal is the module's IPv6 link-local address from its MAC
// (modified EUI-64).
func linkLocal(mac string) string {
	var b []byte
	for _, h := range strings.Split(mac, ":") {
		v, err := strconv.ParseUint(h, 16, 8)
		if err != nil {
			return "fe80::1"
		}
		b = append(b, byte(v))
	}
	if len(b) != 6 {
		return "fe80::1"
	}
	b[0] ^= 0x02
	group := func(hi, lo byte) string { return strconv.FormatUint(uint64(hi)<<8|uint64(lo), 16) }
	return "fe80::" + group(b[0], b[1]) + ":" + group(b[2], 0xff) + ":" + group(0xfe, b[3]) + ":" + group(b[4], b[5])
}
