package board

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/persona/zshell"
)

// KindNRF7002DK is the nRF7002 DK: an nRF5340 application core with the
// nRF7002 Wi-Fi companion. There is no modem: TLS credentials live in
// Zephyr's TLS credential store on protected storage, and the network is a
// Wi-Fi access point.
const KindNRF7002DK = "nrf7002dk"

// NRF7002DKSettings are the board's settings: its identity and the access
// point it can see. Empty values take defaults; the MAC is generated once.
type NRF7002DKSettings struct {
	// MAC is the Wi-Fi station address, "F4:CE:36:xx:xx:xx".
	MAC string `json:"mac,omitempty"`
	// The simulated access point.
	WiFiSSID       string `json:"wifi_ssid,omitempty"`
	WiFiPassphrase string `json:"wifi_passphrase,omitempty"`
	// WiFiSecurity is "OPEN", "WPA2-PSK", "WPA2-PSK-SHA256" or "WPA3-SAE"
	// (or the enum wifi_security_type number).
	WiFiSecurity string `json:"wifi_security,omitempty"`
	WiFiChannel  int    `json:"wifi_channel,omitempty"`
	WiFiRSSI     int    `json:"wifi_rssi,omitempty"`
	// WiFiAddress is the IPv4 address the AP's DHCP server leases
	// (default 192.168.1.2, modemsim's choice).
	WiFiAddress string `json:"wifi_address,omitempty"`
	// Capacity of the protected storage (entries, bytes); 0 = default.
	CapacityEntries int   `json:"capacity_entries,omitempty"`
	CapacityBytes   int64 `json:"capacity_bytes,omitempty"`
}

// Defaults of the simulated access point (modemsim's own choice).
const (
	defaultSSID       = "modemsim-ap"
	defaultPassphrase = "modemsim-pass"
	defaultChannel    = 6
	defaultRSSI       = -45
	defaultLease      = "192.168.1.2"
	// nordicOUI is Nordic Semiconductor's IEEE OUI, which the nRF7002 DK's
	// factory MAC addresses carry [I].
	nordicOUI = "F4:CE:36"
	// nrf7002dkIdentityFile differs from the nRF91's identity.json, so a
	// state directory is never taken for the other kind.
	nrf7002dkIdentityFile = "nrf7002dk.json"
)

// nrf7002dkIdentity is what the board keeps about itself.
type nrf7002dkIdentity struct {
	MAC   string `json:"mac"`
	BSSID string `json:"ap_bssid"` // the simulated AP's, so a scan shows the same one each time
}

// NRF7002DK is the nRF7002 DK hardware.
type NRF7002DK struct {
	id      nrf7002dkIdentity
	store   *credstore.Store
	ap      zshell.AccessPoint
	lease   string
	changes []string
	dir     string
	env     HardwareEnv
}

// Types the nRF7002 DK's store holds, in Zephyr's numbering.
var nrf7002dkSlotTypes = netstack.ZephyrSlotTypes()

func (c *Catalog) addNRF7002DK() {
	c.AddKind(&Kind{
		Name:           KindNRF7002DK,
		Description:    "Nordic nRF7002 DK (nRF5340 + nRF7002): Zephyr TLS credential store, Wi-Fi access point",
		DefaultPersona: zshell.ZephyrShellName,
		Open:           openNRF7002DK,
		Inspect:        inspectNRF7002DK,
		Settings:       NRF7002DKSettings{},
	})
	c.AddPersona(&Persona{
		Name:        zshell.ZephyrShellName,
		Kind:        KindNRF7002DK,
		Description: "a Zephyr application with the shell: cred (TLS credentials), wifi, kernel",
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			n := hw.(*NRF7002DK)
			return flashZephyrShell(k, n.shellHardware())
		},
	})
	c.AddPersona(&Persona{
		Name:        azuresample.Name,
		Kind:        KindNRF7002DK,
		Description: "the NCS azure_iot_hub sample over Wi-Fi, built from prj.conf/overlay fragments (prj_conf, board_conf): mqtt-certs.h, WebSockets, mbedTLS",
		Network:     true,
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			var o azuresample.Options
			if err := k.Decode(&o); err != nil {
				return nil, fmt.Errorf("%s: %w", azuresample.Name, err)
			}
			n := hw.(*NRF7002DK)
			if n.env.Network == nil {
				return nil, fmt.Errorf("%s: the board has no network", azuresample.Name)
			}
			return azuresample.Flash(o, azuresample.Deps{
				Link:   &azuresample.WiFiLink{Radio: n},
				Native: &azuresample.NativeSockets{Store: n.store, Stack: n.stackOver},
				Shell: func(banner string) (firmware.Firmware, error) {
					// CONFIG_SHELL: the Zephyr shell with the TLS credentials
					// and Wi-Fi commands shares the console with the sample.
					return zshell.New(zshell.Options{Banner: banner}, n.shellHardware())
				},
				Board: azuresample.NRF7002DKConf, Clock: n.env.Clock, Logger: n.env.Logger,
				StateDir: filepath.Join(n.dir, "azure_iot_hub"),
			})
		},
	})
}

// stackOver is the board's native network over the credentials the
// firmware's TLS credentials backend holds, in Zephyr's type numbering
// and read as mbedTLS reads them, with the service's renegotiation modelled (mbedTLS may be built
// without it, FAILURE-CASES WS1).
func (n *NRF7002DK) stackOver(creds netstack.CredentialSource) *netstack.Stack {
	nw := *n.env.Network
	extra := []netstack.Option{netstack.WithSlotTypes(nrf7002dkSlotTypes), netstack.WithMbedTLSCredentials()}
	if nw.Renegotiates != nil {
		extra = append(extra, netstack.WithRenegotiationModel(nw.Renegotiates))
	}
	return newStack(nw, creds, n.env, extra...)
}

// Associate implements azuresample.Radio: the simulated AP is the only
// network in range.
func (n *NRF7002DK) Associate(ssid, passphrase string, security int) azuresample.Association {
	status, _ := zshell.Associate([]zshell.AccessPoint{n.ap}, ssid, passphrase, security)
	switch status {
	case 0:
		return azuresample.Associated
	case zshell.WiFiConnWrongPassword:
		return azuresample.AssociationWrongKey
	case zshell.WiFiConnAPNotFound:
		return azuresample.AssociationNotFound
	}
	return azuresample.AssociationFailed
}

// Address implements azuresample.Radio.
func (n *NRF7002DK) Address() string { return n.lease }

// flashZephyrShell builds a shell persona from its settings.
func flashZephyrShell(k firmware.Knobs, hw zshell.Hardware) (firmware.Firmware, error) {
	var opts zshell.Options
	if err := k.Decode(&opts); err != nil {
		return nil, fmt.Errorf("zephyr shell: %w", err)
	}
	return zshell.New(opts, hw)
}

func openNRF7002DK(dir string, k firmware.Knobs, env HardwareEnv) (Hardware, error) {
	var s NRF7002DKSettings
	if err := k.Decode(&s); err != nil {
		return nil, fmt.Errorf("nrf7002dk: %w", err)
	}
	ap, err := accessPoint(s)
	if err != nil {
		return nil, err
	}
	id, changes, err := loadNRF7002DKIdentity(dir, s, env.AllowIdentityChange)
	if err != nil {
		return nil, err
	}
	if ap.BSSID, err = parseMAC(id.BSSID); err != nil {
		return nil, fmt.Errorf("nrf7002dk: AP BSSID: %w", err)
	}
	opts := []credstore.Option{credstore.WithLogger(env.Logger)}
	if s.CapacityEntries > 0 || s.CapacityBytes > 0 {
		opts = append(opts, credstore.WithCapacity(s.CapacityEntries, s.CapacityBytes))
	}
	store, err := credstore.Open(filepath.Join(dir, credstoreDir), opts...)
	if err != nil {
		return nil, fmt.Errorf("open TLS credential store: %w", err)
	}
	lease := s.WiFiAddress
	if lease == "" {
		lease = defaultLease
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	return &NRF7002DK{id: id, store: store, ap: ap, lease: lease, changes: changes, dir: dir, env: env}, nil
}

func accessPoint(s NRF7002DKSettings) (zshell.AccessPoint, error) {
	ap := zshell.AccessPoint{SSID: s.WiFiSSID, Passphrase: s.WiFiPassphrase, Channel: s.WiFiChannel,
		Band: "2.4GHz", RSSI: s.WiFiRSSI, Security: zshell.WiFiSecurityPSK, MFP: zshell.WiFiMFPOptional}
	if ap.SSID == "" {
		ap.SSID = defaultSSID
	}
	if ap.Passphrase == "" {
		ap.Passphrase = defaultPassphrase
	}
	if ap.Channel == 0 {
		ap.Channel = defaultChannel
	}
	if ap.RSSI == 0 {
		ap.RSSI = defaultRSSI
	}
	if ap.Channel > 14 {
		ap.Band = "5GHz"
	}
	if s.WiFiSecurity != "" {
		sec, err := parseSecurity(s.WiFiSecurity)
		if err != nil {
			return ap, err
		}
		ap.Security = sec
	}
	if len(ap.SSID) > 32 {
		return ap, fmt.Errorf("nrf7002dk: wifi_ssid %q longer than 32 bytes", ap.SSID)
	}
	return ap, nil
}

func parseSecurity(v string) (int, error) {
	for i := 0; i < 16; i++ {
		if strings.EqualFold(zshell.WiFiSecurityText(i), v) {
			return i, nil
		}
	}
	if n, err := strconv.Atoi(v); err == nil && zshell.WiFiSecurityText(n) != "UNKNOWN" {
		return n, nil
	}
	return 0, fmt.Errorf("nrf7002dk: wifi_security %q: want OPEN, WPA2-PSK, WPA2-PSK-SHA256 or WPA3-SAE", v)
}

func randomMAC() (string, error) {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate MAC: %w", err)
	}
	return fmt.Sprintf("%s:%02X:%02X:%02X", nordicOUI, b[0], b[1], b[2]), nil
}

func parseMAC(s string) ([6]byte, error) {
	var m [6]byte
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return m, fmt.Errorf("MAC %q: want six hex pairs", s)
	}
	for i, p := range parts {
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil || len(p) != 2 {
			return m, fmt.Errorf("MAC %q: bad pair %q", s, p)
		}
		m[i] = byte(v)
	}
	return m, nil
}

// loadNRF7002DKIdentity reads the identity, generates what is missing once
// and applies the settings, refusing to change a persisted MAC unless
// allowed.
func loadNRF7002DKIdentity(dir string, s NRF7002DKSettings, allowChange bool) (nrf7002dkIdentity, []string, error) {
	path := filepath.Join(dir, nrf7002dkIdentityFile)
	var id nrf7002dkIdentity
	data, err := os.ReadFile(path)
	existed := err == nil
	switch {
	case existed:
		if err := json.Unmarshal(data, &id); err != nil {
			return id, nil, fmt.Errorf("read %s: %w", path, err)
		}
	case !errors.Is(err, os.ErrNotExist):
		return id, nil, fmt.Errorf("read identity: %w", err)
	}
	before := id
	if id.MAC == "" {
		if id.MAC, err = randomMAC(); err != nil {
			return id, nil, err
		}
	}
	if id.BSSID == "" {
		if id.BSSID, err = randomMAC(); err != nil {
			return id, nil, err
		}
	}
	if s.MAC != "" {
		m, err := parseMAC(s.MAC)
		if err != nil {
			return id, nil, fmt.Errorf("nrf7002dk: mac: %w", err)
		}
		id.MAC = fmt.Sprintf("%02X:%02X:%02X:%02X:%02X:%02X", m[0], m[1], m[2], m[3], m[4], m[5])
	}
	var changes []string
	if existed && before.MAC != id.MAC {
		changes = append(changes, "MAC "+strconv.Quote(before.MAC)+" → "+strconv.Quote(id.MAC))
		if !allowChange {
			return before, nil, fmt.Errorf("%w: %s holds MAC %s; the settings would change %s",
				ErrIdentityChange, path, before.MAC, joinChanges(changes))
		}
	}
	if id != before {
		out, _ := json.MarshalIndent(id, "", "  ")
		if err := atomicfile.Write(path, append(out, '\n')); err != nil {
			return id, nil, fmt.Errorf("persist identity: %w", err)
		}
	}
	return id, changes, nil
}

// Store is the TLS credential store (protected storage).
func (n *NRF7002DK) Store() *credstore.Store { return n.store }

// AccessPoint is the simulated access point.
func (n *NRF7002DK) AccessPoint() zshell.AccessPoint { return n.ap }

// MAC is the station address.
func (n *NRF7002DK) MAC() string { return n.id.MAC }

// SlotTypes is the store's numbering (Zephyr's tls_credential_type).
// shellHardware is what the Zephyr shell sees of the board: its credential
// store, its Wi-Fi radio with the access point in range, and its clock.
func (n *NRF7002DK) shellHardware() zshell.Hardware {
	return zshell.Hardware{Store: n.store, WiFi: true, Networks: []zshell.AccessPoint{n.ap}, Clock: n.env.Clock}
}

func (n *NRF7002DK) SlotTypes() netstack.SlotTypes { return nrf7002dkSlotTypes }

func describeNRF7002DK(id nrf7002dkIdentity) Description {
	return Description{Kind: KindNRF7002DK, Fields: []Field{{"MAC", id.MAC}}}
}

// Describe implements Hardware.
func (n *NRF7002DK) Describe() Description {
	d := describeNRF7002DK(n.id)
	d.Fields = append(d.Fields, Field{"Wi-Fi AP", n.ap.SSID + " (" + zshell.WiFiSecurityText(n.ap.Security) + ")"})
	d.Slots = slotsOf(n.store.List(credstore.AnyFilter()))
	d.HeldBy = os.Getpid()
	d.Changes = n.changes
	return d
}

// Reset implements Hardware: nothing volatile lives outside the firmware.
func (n *NRF7002DK) Reset() {}

// Preload implements Hardware.
func (n *NRF7002DK) Preload(creds []Credential) error {
	for _, c := range creds {
		k := credstore.Key{Tag: c.Tag, Type: c.Type}
		if old, err := n.store.Read(k); err == nil && string(old) == string(c.Content) {
			continue
		}
		if err := n.store.Put(k, c.Content); err != nil {
			return fmt.Errorf("preload %d/%d: %w", c.Tag, c.Type, err)
		}
	}
	return nil
}

// Close implements Hardware.
func (n *NRF7002DK) Close() error { return n.store.Close() }

func inspectNRF7002DK(dir string) (Description, error) {
	data, err := os.ReadFile(filepath.Join(dir, nrf7002dkIdentityFile))
	if err != nil {
		return Description{}, fmt.Errorf("nrf7002dk identity: %w", err)
	}
	var id nrf7002dkIdentity
	if err := json.Unmarshal(data, &id); err != nil {
		return Description{}, fmt.Errorf("nrf7002dk identity %s: %w", dir, err)
	}
	d := describeNRF7002DK(id)
	inv, err := credstore.Inspect(filepath.Join(dir, credstoreDir))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return d, err
	}
	d.Slots, d.HeldBy = slotsOf(inv.Entries), inv.HeldBy
	return d, nil
}
