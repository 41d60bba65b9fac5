package azuresample

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/persona/athost"
)

// Link is the sample's network interface as Zephyr's connection manager
// brings it up (conn_mgr_all_if_up, conn_mgr_all_if_connect): LTE through
// the nRF91 modem, or Wi-Fi through the nRF7002. The sample's main() is the
// same on both; what differs is what the link does and logs.
type Link interface {
	// Connect starts bringing the link up and returns once the request is
	// made; L4 connectivity arrives later through ev. ErrFatalLink is
	// NET_EVENT_CONN_IF_FATAL_ERROR; any other error is the errno
	// conn_mgr_all_if_connect returns.
	Connect(ctx context.Context, p LinkParams, ev LinkEvents) error
}

// LinkParams is what the build and the settings tell the link.
type LinkParams struct {
	// WiFi is the static Wi-Fi credentials; WiFiStatic says the build has
	// CONFIG_WIFI_CREDENTIALS_STATIC (without it nothing is stored).
	WiFi       WiFiCredentials
	WiFiStatic bool
	// AssociationTime is how long Wi-Fi takes from the request to the lease.
	AssociationTime time.Duration
}

// LinkEvents is how a link reports to the sample.
type LinkEvents struct {
	// Up and Down are NET_EVENT_L4_CONNECTED / _DISCONNECTED.
	Up, Down func()
	// Log prints a driver's line (wifi_mgmt_ext, net_dhcpv4, wpa_supp).
	Log func(m Msg, args ...any)
}

// ErrFatalLink is the connectivity layer's fatal error (the modem cannot be
// activated): the sample reboots.
var ErrFatalLink = errors.New("azure_iot_hub: fatal error from the connectivity layer")

// LinkError is conn_mgr_all_if_connect failing with a Zephyr errno.
type LinkError struct{ Errno int }

func (e *LinkError) Error() string { return "conn_mgr_if_connect: " + strconv.Itoa(e.Errno) }

// LTELink is the nRF91's LTE link: lte_lc's commands to the modem, and
// registration from the modem's +CEREG URCs (the board forwards them to
// the firmware, firmware.URCSink).
type LTELink struct {
	Modem athost.CommandHandler

	mu  sync.Mutex
	ev  LinkEvents
	reg bool
}

// lteCommands are what lte_lc sends to bring LTE up: subscriptions, then
// the functional mode [S nrf lib/lte_link_control; nrf91.md §4].
var lteCommands = []string{"AT+CEREG=5", "AT+CSCON=1", "AT+CFUN=1"}

// Connect implements Link.
func (l *LTELink) Connect(ctx context.Context, _ LinkParams, ev LinkEvents) error {
	l.mu.Lock()
	l.ev, l.reg = ev, false
	l.mu.Unlock()
	for _, line := range lteCommands {
		cmd, err := atparser.Parse([]byte(line))
		if err != nil {
			panic(err) // a constant above
		}
		if r := l.Modem.Handle(ctx, cmd); r.Final != atparser.FinalOK {
			if line == "AT+CFUN=1" {
				// lte_net_if raises NET_EVENT_CONN_IF_FATAL_ERROR when the
				// modem cannot be activated [I].
				return ErrFatalLink
			}
			return &LinkError{Errno: errEIO}
		}
	}
	return nil
}

// ModemURC follows +CEREG: 1 registered home, 5 roaming (3GPP 27.007
// §10.1.22); lte_lc reports the link up on either [S nrf lte_lc]. Called
// on the board's URC goroutine, serialised by the firmware.
func (l *LTELink) ModemURC(line string) {
	rest, ok := strings.CutPrefix(line, "+CEREG: ")
	if !ok {
		return
	}
	stat, _, _ := strings.Cut(rest, ",")
	n, err := strconv.Atoi(strings.TrimSpace(stat))
	if err != nil {
		return
	}
	reg := n == 1 || n == 5
	l.mu.Lock()
	ev, was := l.ev, l.reg
	if ev.Up != nil {
		l.reg = reg
	}
	l.mu.Unlock()
	switch {
	case ev.Up == nil || reg == was:
	case reg:
		ev.Up()
	default:
		ev.Down()
	}
}

// Radio is the nRF7002's view of the air: the access point it can see.
type Radio interface {
	// Associate tries the network and says how it went (the board knows
	// the enum wifi_conn_status numbers; the sample only what they mean).
	Associate(ssid, passphrase string, security int) Association
	// Address is the IPv4 address the AP's DHCP server leases.
	Address() string
}

// WiFiCredentials are the static credentials the sample's Wi-Fi build
// carries (CONFIG_WIFI_CREDENTIALS_STATIC_*).
type WiFiCredentials struct {
	SSID, Password string
	Security       int // enum wifi_security_type
}

// WiFiLink is the nRF7002 DK's Wi-Fi: wifi_mgmt_ext connects with the
// stored credentials through the supplicant, DHCP leases an address, and
// the connection manager reports L4 connectivity.
type WiFiLink struct {
	Radio Radio
}

// wpaRetryFirst is how long the supplicant disables a network after the
// first failed attempt, doubling after each further one (its
// temporary-disable back-off, 10 s first [S wpa_supplicant
// wpas_auth_failed; I for the nRF70 build]).
const wpaRetryFirst = 10 * time.Second

// Association is the outcome of a connection attempt.
type Association int

// Outcomes.
const (
	Associated Association = iota
	AssociationFailed
	// AssociationWrongKey: the supplicant's reason is WRONG_KEY.
	AssociationWrongKey
	// AssociationNotFound: no AP with the SSID answers.
	AssociationNotFound
)

// Connect implements Link: the request is logged at once; association and
// the lease happen in the background, retried as the supplicant does.
func (l *WiFiLink) Connect(ctx context.Context, p LinkParams, ev LinkEvents) error {
	ev.Log(mWiFiRequested)
	if !p.WiFiStatic || p.WiFi.SSID == "" {
		// Nothing stored: wifi_mgmt_ext has no network to connect to [I].
		ev.Log(mWiFiNoCreds)
		return nil
	}
	go l.run(ctx, p, ev)
	return nil
}

func (l *WiFiLink) run(ctx context.Context, p LinkParams, ev LinkEvents) {
	wait := p.AssociationTime
	backoff := wpaRetryFirst
	creds := p.WiFi
	for failures := 0; ; {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		status := l.Radio.Associate(creds.SSID, creds.Password, creds.Security)
		if status == Associated {
			ev.Log(mDHCPReceived, l.Radio.Address())
			ev.Up()
			return
		}
		failures++
		switch status {
		case AssociationNotFound:
			ev.Log(mWPANotFound)
		case AssociationWrongKey:
			ev.Log(mWPATempDisabled, creds.SSID, failures, int(backoff/time.Second), "WRONG_KEY")
		default:
			ev.Log(mWPATempDisabled, creds.SSID, failures, int(backoff/time.Second), "CONN_FAILED")
		}
		wait = backoff
		backoff *= 2
	}
}
