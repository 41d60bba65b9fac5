package board

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/spwf04"
	"github.com/modemsim/modemsim/pki"
)

// KindSPWF04 is ST's SPWF04SA Wi-Fi module (X-NUCLEO-IDW04A1).
const KindSPWF04 = "spwf04"

// SPWF04Settings are the module hardware's settings and its surroundings:
// the access point it can join and where the hub emulator listens.
type SPWF04Settings struct {
	// MAC is nv_wifi_macaddr; generated once (ST's OUI 00:80:E1) and kept.
	MAC string `json:"mac,omitempty"`
	// The simulated access point: SSID and WPA2 passphrase ("" with
	// ap_open), BSSID and the DHCP lease it gives.
	APSSID    string `json:"ap_ssid,omitempty"`
	APKey     string `json:"ap_key,omitempty"`
	APOpen    bool   `json:"ap_open,omitempty"`
	APBSSID   string `json:"ap_bssid,omitempty"`
	APIP      string `json:"ap_ip,omitempty"`
	APGateway string `json:"ap_gateway,omitempty"`
	APNetmask string `json:"ap_netmask,omitempty"`
	APDNS     string `json:"ap_dns,omitempty"`
	// HubMQTT and HubWebSocket are the emulator's listeners standing in
	// for ports 8883 and 443 (default: `modemsim hub serve`'s).
	HubMQTT      string `json:"hub_mqtt,omitempty"`
	HubWebSocket string `json:"hub_websocket,omitempty"`
	// PKIDir is the hub's stand-in PKI, for the real-root mapping
	// (default <state>/hub/pki beside the board's directory; not created
	// if missing: then stored real roots stay as they are).
	PKIDir string `json:"pki_dir,omitempty"`
}

// Defaults of the simulated surroundings.
const (
	defaultAPSSID    = "modemsim"
	defaultAPKey     = "modemsim-wpa2"
	defaultAPBSSID   = "98:DE:D0:EA:4C:62" // the BSSID of [F3]'s log
	defaultAPIP      = "192.168.1.5"       // ip_ipaddr in spwf04.md §7
	defaultAPGateway = "192.168.1.1"
	defaultAPNetmask = "255.255.255.0"
	// Where `modemsim hub serve` listens by default (cmd/modemsim/hub.go).
	defaultHubMQTT      = "127.0.0.1:8883"
	defaultHubWebSocket = "127.0.0.1:8443"
	stMACPrefix         = "00:80:E1" // STMicroelectronics' OUI
)

// State of an SPWF04 board, under <dir>/spwf04.
const (
	spwf04Dir      = "spwf04"
	spwf04Identity = "hardware.json"
	spwf04Config   = "config.json" // what WCFG saved
	spwf04TLSDir   = "tls"         // one file per TLSCERT entry
	spwf04FSDir    = "fs"          // the user-flash volume
)

// SPWF04 is the module's hardware: its flash (configuration, TLS store,
// file system) and identity. Every write goes through atomicfile, so a
// kill -9 leaves either the old or the new content.
type SPWF04 struct {
	dir string
	s   SPWF04Settings
	env HardwareEnv

	mu      sync.Mutex // one flash operation at a time
	pkiMu   sync.Mutex
	pkiDone bool
	pki     *pki.PKI
}

var _ spwf04.Flash = (*SPWF04)(nil)

func spwf04Kind() *Kind {
	return &Kind{
		Name:           KindSPWF04,
		Description:    "ST SPWF04SA Wi-Fi module: AT+S. console, TLS store and flash file system, MQTT",
		DefaultPersona: spwf04.Name,
		Open:           openSPWF04,
		Inspect:        inspectSPWF04,
		Settings:       SPWF04Settings{},
	}
}

func spwf04Personas() []*Persona {
	return []*Persona{{
		Name:        spwf04.Name,
		Kind:        KindSPWF04,
		Description: "ST's SPWF04S firmware 1.1 (AT+S. commands, +WIND indications)",
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			var cfg spwf04.Config
			if err := k.Decode(&cfg); err != nil {
				return nil, fmt.Errorf("spwf04: %w", err)
			}
			h := hw.(*SPWF04)
			return spwf04.New(h.firmwareHardware(), cfg)
		},
	}}
}

func openSPWF04(dir string, k firmware.Knobs, env HardwareEnv) (Hardware, error) {
	var s SPWF04Settings
	if err := k.Decode(&s); err != nil {
		return nil, fmt.Errorf("spwf04: %w", err)
	}
	root := filepath.Join(dir, spwf04Dir)
	for _, d := range []string{root, filepath.Join(root, spwf04TLSDir), filepath.Join(root, spwf04FSDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("spwf04 flash: %w", err)
		}
	}
	mac, err := loadMAC(root, s.MAC, env.AllowIdentityChange)
	if err != nil {
		return nil, err
	}
	s.MAC = mac
	fill := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	fill(&s.APSSID, defaultAPSSID)
	if !s.APOpen {
		fill(&s.APKey, defaultAPKey)
	} else if s.APKey != "" {
		return nil, errors.New("spwf04: ap_open with an ap_key")
	}
	fill(&s.APBSSID, defaultAPBSSID)
	fill(&s.APIP, defaultAPIP)
	fill(&s.APGateway, defaultAPGateway)
	fill(&s.APNetmask, defaultAPNetmask)
	fill(&s.APDNS, s.APGateway)
	fill(&s.HubMQTT, defaultHubMQTT)
	fill(&s.HubWebSocket, defaultHubWebSocket)
	fill(&s.PKIDir, filepath.Join(filepath.Dir(filepath.Clean(dir)), "hub", "pki"))
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if env.Clock == nil {
		env.Clock = time.Now
	}
	return &SPWF04{dir: root, s: s, env: env}, nil
}

// spwf04ID is what hardware.json keeps.
type spwf04ID struct {
	MAC string `json:"mac"`
}

// loadMAC reads the persisted MAC, generating it the first time.
func loadMAC(root, want string, allowChange bool) (string, error) {
	path := filepath.Join(root, spwf04Identity)
	var id spwf04ID
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &id); err != nil {
			return "", fmt.Errorf("spwf04: read %s: %w", path, err)
		}
		if want == "" || strings.EqualFold(want, id.MAC) {
			return id.MAC, nil
		}
		if !allowChange {
			return "", fmt.Errorf("spwf04: board has MAC %s, settings say %s (allow an identity change to replace it)", id.MAC, want)
		}
	case !errors.Is(err, fs.ErrNotExist):
		return "", fmt.Errorf("spwf04: read identity: %w", err)
	}
	id.MAC = strings.ToUpper(want)
	if id.MAC == "" {
		b := make([]byte, 3)
		if _, err := rand.Read(b); err != nil {
			return "", err
		}
		id.MAC = fmt.Sprintf("%s:%02X:%02X:%02X", stMACPrefix, b[0], b[1], b[2])
	}
	data, _ = json.MarshalIndent(id, "", "  ")
	if err := atomicfile.Write(path, append(data, '\n')); err != nil {
		return "", fmt.Errorf("spwf04: write identity: %w", err)
	}
	return id.MAC, nil
}

// firmwareHardware is what the firmware gets from the board.
func (h *SPWF04) firmwareHardware() spwf04.Hardware {
	return spwf04.Hardware{
		Flash: h, MAC: h.s.MAC, Clock: h.env.Clock, Logger: h.env.Logger,
		AP: spwf04.AccessPoint{SSID: h.s.APSSID, Key: h.s.APKey, BSSID: h.s.APBSSID,
			IP: h.s.APIP, Gateway: h.s.APGateway, Netmask: h.s.APNetmask, DNS: h.s.APDNS},
		Network: h.network, RealKeyID: h.realKeyID,
	}
}

// realKeyID maps a key id of a stand-in the hub serves to the real root's.
func (h *SPWF04) realKeyID(served []byte) ([]byte, bool) {
	p, err := h.hubPKI()
	if err != nil || p == nil {
		return nil, false
	}
	real, _, ok := p.RealKeyID(served)
	return real, ok
}

// network builds the module's stack: Azure names resolve to the hub
// emulator's listeners, and stored real roots map to the stand-ins of the
// hub's PKI when it exists. This is the one place the module's network is
// made (HardwareEnv may carry it later).
func (h *SPWF04) network(creds netstack.CredentialSource, clock func() time.Time) (*netstack.Stack, error) {
	ep := netstack.Endpoint{MQTT: h.s.HubMQTT, WebSocket: h.s.HubWebSocket}
	opts := []netstack.Option{netstack.WithClock(clock), netstack.WithLogger(h.env.Logger)}
	p, err := h.hubPKI()
	if err != nil {
		return nil, err
	}
	if p == nil {
		return netstack.New(netstack.NewEmulatorResolver(ep), creds, opts...), nil
	}
	return netstack.NewEmulated(ep, p, creds, opts...), nil
}

// hubPKI opens the hub's PKI once it exists (never creating one: its
// RSA-4096 roots take seconds, and the hub makes them).
func (h *SPWF04) hubPKI() (*pki.PKI, error) {
	h.pkiMu.Lock()
	defer h.pkiMu.Unlock()
	if h.pkiDone {
		return h.pki, nil
	}
	if _, err := os.Stat(h.s.PKIDir); errors.Is(err, fs.ErrNotExist) {
		h.env.Logger.Warn("spwf04: no hub PKI, real roots are not mapped to stand-ins", "pki_dir", h.s.PKIDir)
		return nil, nil
	}
	p, err := pki.LoadOrCreate(h.s.PKIDir, pki.WithLogger(h.env.Logger), pki.WithClock(h.env.Clock))
	if err != nil {
		return nil, fmt.Errorf("spwf04: hub PKI: %w", err)
	}
	h.pki, h.pkiDone = p, true
	return p, nil
}

// Settings are the hardware's settings after defaults.
func (h *SPWF04) Settings() SPWF04Settings { return h.s }

// Describe implements Hardware.
func (h *SPWF04) Describe() Description {
	d := describeSPWF04(h.s)
	d.Slots = h.slots()
	d.HeldBy = os.Getpid()
	return d
}

func describeSPWF04(s SPWF04Settings) Description {
	fields := []Field{{"MAC", s.MAC}}
	if s.APSSID != "" {
		fields = append(fields, Field{"access point", s.APSSID}, Field{"passphrase", s.APKey})
	}
	return Description{Kind: KindSPWF04, Fields: fields}
}

// slots lists the TLS store as slots of tag 0, types in TLSItems order.
func (h *SPWF04) slots() []Slot {
	var out []Slot
	for i, it := range spwf04.TLSItems() {
		b, err := h.TLS(it)
		if err != nil {
			continue
		}
		sum := sha256.Sum256(b)
		out = append(out, Slot{Tag: 0, Type: i, Digest: strings.ToUpper(hex.EncodeToString(sum[:])), Size: len(b)})
	}
	return out
}

func inspectSPWF04(dir string) (Description, error) {
	root := filepath.Join(dir, spwf04Dir)
	data, err := os.ReadFile(filepath.Join(root, spwf04Identity))
	if err != nil {
		return Description{}, fmt.Errorf("spwf04 identity: %w", err)
	}
	var id spwf04ID
	if err := json.Unmarshal(data, &id); err != nil {
		return Description{}, fmt.Errorf("spwf04 identity %s: %w", dir, err)
	}
	h := &SPWF04{dir: root, s: SPWF04Settings{MAC: id.MAC}}
	d := describeSPWF04(h.s)
	d.Slots = h.slots()
	return d, nil
}

// Reset implements Hardware: the flash keeps everything; the firmware's
// volatile state is rebuilt when it boots.
func (h *SPWF04) Reset() {}

// Preload implements Hardware: credential types 0, 1, 2 (the modem
// numbering fleet files use) go to the TLS store's ca, cert and key; the
// tag is ignored, the module has one store.
func (h *SPWF04) Preload(creds []Credential) error {
	items := map[int]spwf04.TLSItem{0: spwf04.TLSCA, 1: spwf04.TLSCert, 2: spwf04.TLSKey}
	for _, c := range creds {
		it, ok := items[c.Type]
		if !ok {
			return fmt.Errorf("preload: the SPWF04 TLS store has no type %d (0 ca, 1 cert, 2 key)", c.Type)
		}
		if err := h.PutTLS(it, c.Content); err != nil {
			return fmt.Errorf("preload %s: %w", it, err)
		}
	}
	return nil
}

// Close implements Hardware.
func (h *SPWF04) Close() error { return nil }

// --- spwf04.Flash ---

// SavedConfig implements spwf04.Flash.
func (h *SPWF04) SavedConfig() (map[string]string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	data, err := os.ReadFile(filepath.Join(h.dir, spwf04Config))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var vars map[string]string
	if err := json.Unmarshal(data, &vars); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(h.dir, spwf04Config), err)
	}
	return vars, nil
}

// SaveConfig implements spwf04.Flash.
func (h *SPWF04) SaveConfig(vars map[string]string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	path := filepath.Join(h.dir, spwf04Config)
	if vars == nil {
		return removeDurably(path)
	}
	data, err := json.MarshalIndent(vars, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'))
}

func (h *SPWF04) tlsPath(it spwf04.TLSItem) (string, error) {
	if !slices.Contains(spwf04.TLSItems(), it) {
		return "", fmt.Errorf("spwf04: no TLS entry %q", it)
	}
	return filepath.Join(h.dir, spwf04TLSDir, string(it)), nil
}

// TLS implements spwf04.Flash.
func (h *SPWF04) TLS(it spwf04.TLSItem) ([]byte, error) {
	path, err := h.tlsPath(it)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return readFlashFile(path)
}

// PutTLS implements spwf04.Flash.
func (h *SPWF04) PutTLS(it spwf04.TLSItem, data []byte) error {
	path, err := h.tlsPath(it)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return atomicfile.Write(path, data)
}

// CleanTLS implements spwf04.Flash.
func (h *SPWF04) CleanTLS() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, it := range spwf04.TLSItems() {
		if err := removeDurably(filepath.Join(h.dir, spwf04TLSDir, string(it))); err != nil {
			return err
		}
	}
	return nil
}

// fsPath maps a module file name to a host file: escaped, so no name can
// leave the volume's directory.
func (h *SPWF04) fsPath(name string) (string, error) {
	if name == "" {
		return "", spwf04.ErrNoFile
	}
	return filepath.Join(h.dir, spwf04FSDir, url.PathEscape(name)), nil
}

// Files implements spwf04.Flash.
func (h *SPWF04) Files() ([]spwf04.FileInfo, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	entries, err := os.ReadDir(filepath.Join(h.dir, spwf04FSDir))
	if err != nil {
		return nil, err
	}
	var out []spwf04.FileInfo
	for _, e := range entries {
		if e.IsDir() || atomicfile.IsTemp(e.Name()) {
			continue
		}
		name, err := url.PathUnescape(e.Name())
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, spwf04.FileInfo{Name: name, Size: int(info.Size())})
	}
	slices.SortFunc(out, func(a, b spwf04.FileInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// ReadFile implements spwf04.Flash.
func (h *SPWF04) ReadFile(name string) ([]byte, error) {
	path, err := h.fsPath(name)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return readFlashFile(path)
}

// WriteFile implements spwf04.Flash.
func (h *SPWF04) WriteFile(name string, data []byte) error {
	path, err := h.fsPath(name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return atomicfile.Write(path, data)
}

// DeleteFile implements spwf04.Flash.
func (h *SPWF04) DeleteFile(name string) error {
	path, err := h.fsPath(name)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return spwf04.ErrNoFile
	}
	return removeDurably(path)
}

// RenameFile implements spwf04.Flash.
func (h *SPWF04) RenameFile(from, to string) error {
	src, err := h.fsPath(from)
	if err != nil {
		return err
	}
	dst, err := h.fsPath(to)
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := os.Stat(src); errors.Is(err, fs.ErrNotExist) {
		return spwf04.ErrNoFile
	}
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(dst))
}

func readFlashFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, spwf04.ErrNoFile
	}
	return b, err
}

// removeDurably removes path (absent is fine) and syncs its directory.
func removeDurably(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.SyncDir(filepath.Dir(path))
}
