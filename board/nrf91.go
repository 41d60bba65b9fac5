package board

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/atclient"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/persona/serialmodem"
	"github.com/modemsim/modemsim/persona/zshell"
)

// KindNRF91 is the nRF91 SiP (nRF9160/9151/9161 DK).
const KindNRF91 = "nrf91"

// NRF91Settings are the nRF91 hardware's settings: identity (what the
// modem reports) and the modem firmware's knobs. Zero values pick defaults;
// identity fields left empty are generated once and persisted.
type NRF91Settings struct {
	Model      string `json:"model,omitempty"`
	IMEI       string `json:"imei,omitempty"`
	SVN        string `json:"svn,omitempty"`
	DeviceUUID string `json:"device_uuid,omitempty"`
	Firmware   string `json:"firmware,omitempty"`
	ModemUUID  string `json:"modem_uuid,omitempty"`
	// The SIM (generated once like the IMEI when empty).
	ICCID string `json:"iccid,omitempty"`
	IMSI  string `json:"imsi,omitempty"`
	// Network is the simulated LTE network: registration delay, outcome
	// (home, roaming, denied, pdn_reject, no_coverage, no_sim), later loss.
	Network nrf91modem.Network `json:"network"`
	// DeviceType overrides the attestation token's device type, which is
	// inferred for the nRF9160 SICA (modemkey.DeviceTypeForModel).
	DeviceType int `json:"device_type,omitempty"`
	// Capacity of the modem credential store (entries, bytes); 0 = default.
	CapacityEntries int   `json:"capacity_entries,omitempty"`
	CapacityBytes   int64 `json:"capacity_bytes,omitempty"`
	// Modem firmware knobs (PEM validation, overwrite policy, CSR quirk).
	ValidatePEM     *bool `json:"validate_pem,omitempty"`
	RejectOverwrite bool  `json:"reject_overwrite,omitempty"`
	StandardCSR     bool  `json:"standard_csr,omitempty"`
}

// State files of an nRF91 board.
const (
	identityFile    = "identity.json"
	identityKeyFile = "identity-key.pem"
	// identityPubFile is the identity public key, exported so verifiers can
	// check %KEYGEN and %ATTESTTOKEN signatures.
	identityPubFile = "identity-key.pub.pem"
	credstoreDir    = "credstore"
)

// NRF91 is the nRF91 hardware: the modem with its identity, identity key
// and credential store. The modem firmware stays when the application
// firmware is flashed, so the modem belongs here.
type NRF91 struct {
	id      nrf91modem.Identity
	store   *credstore.Store
	modem   *nrf91modem.Modem
	stack   *netstack.Stack // nil without a network
	log     *slog.Logger
	dir     string           // the board's state: firmware keeps its settings partition here
	clock   func() time.Time // the simulation clock
	changes []string
}

func nrf91Kind() *Kind {
	return &Kind{
		Name:           KindNRF91,
		Description:    "Nordic nRF91 SiP: modem with %CMNG credential store, IMEI, identity key",
		DefaultPersona: atclient.Name,
		Open:           openNRF91,
		Inspect:        inspectNRF91,
		Settings:       NRF91Settings{},
	}
}

func nrf91Personas() []*Persona {
	return []*Persona{{
		Name:        atclient.Name,
		Kind:        KindNRF91,
		Description: "Nordic's at_client sample: the modem's AT commands, bare",
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			var cfg atclient.Config
			if err := k.Decode(&cfg); err != nil {
				return nil, fmt.Errorf("at_client: %w", err)
			}
			return atclient.New(hw.(*NRF91).modem, cfg)
		},
	}, {
		Name:        zshell.ATShellName,
		Kind:        KindNRF91,
		Description: "an NCS application with the Zephyr shell and the at shell: `at <AT command>`",
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			return flashZephyrShell(k, zshell.Hardware{Modem: hw.(*NRF91).modem})
		},
	}, serialModemPersona(), azureSamplePersona()}
}

// azureSamplePersona is the NCS azure_iot_hub sample, built from the user's
// prj.conf and overlays (setting prj_conf, later files win).
func azureSamplePersona() *Persona {
	return &Persona{
		Name:        azuresample.Name,
		Kind:        KindNRF91,
		Description: "the NCS azure_iot_hub sample, built from prj.conf/overlay fragments (prj_conf): boots, runs DPS, connects, sends telemetry",
		Network:     true,
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			var o azuresample.Options
			if err := k.Decode(&o); err != nil {
				return nil, fmt.Errorf("%s: %w", azuresample.Name, err)
			}
			n := hw.(*NRF91)
			if n.stack == nil {
				return nil, fmt.Errorf("%s: the board has no network", azuresample.Name)
			}
			return azuresample.Flash(o, azuresample.Deps{
				Link: &azuresample.LTELink{Modem: n.modem}, ATHost: n.modem, Net: n.stack,
				Board: azuresample.NRF9160DKConf, Clock: n.clock, Logger: n.log,
				// The sample's settings partition (the DPS assignment) is
				// flash on the board: it stays across flashes of this persona.
				StateDir: filepath.Join(n.dir, "azure_iot_hub"),
			})
		},
	}
}

func serialModemPersona() *Persona {
	return &Persona{
		Name:        serialmodem.Name,
		Kind:        KindNRF91,
		Description: "Nordic's Serial Modem application: modem AT plus #XMQTT…, #XSSOCKET…, #XPING over the board's network",
		Network:     true,
		Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
			var cfg serialmodem.Config
			if err := k.Decode(&cfg); err != nil {
				return nil, fmt.Errorf("%s: %w", serialmodem.Name, err)
			}
			n := hw.(*NRF91)
			return serialmodem.New(serialmodem.Deps{Modem: n.modem, Registered: n.Registered, Stack: n.stack, Logger: n.log}, cfg)
		},
	}
}

func openNRF91(dir string, k firmware.Knobs, env HardwareEnv) (_ Hardware, err error) {
	var s NRF91Settings
	if err := k.Decode(&s); err != nil {
		return nil, fmt.Errorf("nrf91: %w", err)
	}
	id, changes, err := loadIdentity(dir, s, env.AllowIdentityChange)
	if err != nil {
		return nil, err
	}
	idKey, created, err := loadIdentityKey(dir)
	if err != nil {
		return nil, err
	}
	hw := &NRF91{id: id, changes: changes, log: env.Logger, dir: dir, clock: env.Clock}
	if hw.log == nil {
		hw.log = slog.New(slog.DiscardHandler)
	}
	storeOpts := []credstore.Option{credstore.WithSecretTypes(nrf91modem.SecretTypes()...), credstore.WithLogger(env.Logger)}
	if s.CapacityEntries > 0 || s.CapacityBytes > 0 {
		storeOpts = append(storeOpts, credstore.WithCapacity(s.CapacityEntries, s.CapacityBytes))
	}
	if hw.store, err = credstore.Open(filepath.Join(dir, credstoreDir), storeOpts...); err != nil {
		return nil, fmt.Errorf("open credential store: %w", err)
	}
	defer func() {
		if err != nil {
			_ = hw.store.Close()
		}
	}()
	pub, err := idKey.PublicKeyPEM()
	if err != nil {
		return nil, err
	}
	pubPath := filepath.Join(dir, identityPubFile)
	if _, statErr := os.Stat(pubPath); created || errors.Is(statErr, os.ErrNotExist) {
		// Derived from the key and exported again when missing: no fsync.
		if err := atomicfile.WriteUnsynced(pubPath, pub); err != nil {
			return nil, fmt.Errorf("export identity public key: %w", err)
		}
	}
	if created {
		model, _ := nrf91modem.LookupModel(id.Model)
		if err := nrf91modem.SeedNordicCredentials(rand.Reader, hw.store, model, pub); err != nil {
			return nil, err
		}
	}
	hw.modem, err = nrf91modem.New(nrf91modem.Config{
		Identity: id, IdentityKey: idKey, Store: hw.store, Notify: env.Notify,
		Options: nrf91modem.Options{ValidatePEM: s.ValidatePEM, RejectOverwrite: s.RejectOverwrite,
			StandardCSR: s.StandardCSR, DeviceType: s.DeviceType, Network: s.Network, Clock: env.Clock, Logger: env.Logger},
	})
	if err != nil {
		return nil, err
	}
	if env.Network != nil {
		hw.stack = newStack(*env.Network, hw.store, env)
	}
	return hw, nil
}

// newStack is the board's device network toward the emulator: its names
// resolve to the emulator's listeners, real public roots map to the
// stand-ins (each mapping noted in the transcript), certificates are
// checked at the simulation clock.
func newStack(nw Network, store netstack.CredentialSource, env HardwareEnv, extra ...netstack.Option) *netstack.Stack {
	opts := append([]netstack.Option{netstack.WithClock(env.Clock), netstack.WithLogger(env.Logger)}, extra...)
	if env.Note != nil {
		opts = append(opts, netstack.WithRootMappingHook(func(m netstack.RootMapping) { env.Note(m.String()) }))
	}
	opts = append(opts, nw.StackOptions...)
	return netstack.New(netstack.NewEmulatorResolver(nw.Endpoint, nw.Names...), store,
		append([]netstack.Option{netstack.WithTrustMapper(nw.Trust)}, opts...)...)
}

// Stack is the board's network stack; nil when it has no network.
func (n *NRF91) Stack() *netstack.Stack { return n.stack }

// Registered reports whether the modem is registered on the network
// (+CEREG stat 1 home or 5 roaming, 3GPP 27.007 §10.1.22). It asks the
// modem as the firmware's link controller does, through +CEREG?.
func (n *NRF91) Registered() bool {
	r := n.modem.Handle(context.Background(), atparser.Command{Name: "+CEREG", Kind: atparser.KindRead})
	if r.Final != atparser.FinalOK || len(r.Lines) == 0 {
		return false
	}
	_, fields, _ := strings.Cut(r.Lines[0], ": ")
	parts := strings.Split(fields, ",")
	if len(parts) < 2 {
		return false
	}
	stat := strings.TrimSpace(parts[1])
	return stat == "1" || stat == "5"
}

// Identity is what the modem reports.
func (n *NRF91) Identity() nrf91modem.Identity { return n.id }

// Modem is the modem, for personas and fault knobs.
func (n *NRF91) Modem() *nrf91modem.Modem { return n.modem }

// Store is the modem's credential store.
func (n *NRF91) Store() *credstore.Store { return n.store }

// Describe implements Hardware.
func (n *NRF91) Describe() Description {
	d := describeNRF91(n.id)
	d.Slots = slotsOf(n.store.List(credstore.AnyFilter()))
	d.HeldBy = os.Getpid()
	d.Changes = n.changes
	return d
}

// Reset implements Hardware: the modem powers up in +CFUN=0, +CMEE=0.
func (n *NRF91) Reset() { n.modem.Reset() }

// Preload implements Hardware.
func (n *NRF91) Preload(creds []Credential) error {
	for _, c := range creds {
		k := credstore.Key{Tag: c.Tag, Type: c.Type}
		if e, err := n.store.Get(k); err == nil && e.Size == len(c.Content) {
			if old, err := n.store.Use(k); err == nil && bytes.Equal(old, c.Content) {
				continue
			}
		}
		if err := n.store.Put(k, c.Content); err != nil {
			return fmt.Errorf("preload %d/%d: %w", c.Tag, c.Type, err)
		}
	}
	return nil
}

// Close implements Hardware.
func (n *NRF91) Close() error {
	n.modem.Close()
	return n.store.Close()
}

func describeNRF91(id nrf91modem.Identity) Description {
	return Description{Kind: KindNRF91, Fields: []Field{
		{"IMEI", id.IMEI}, {"model", id.Model}, {"firmware", id.Firmware},
		{"device UUID", id.DeviceUUID}, {"modem UUID", id.ModemUUID},
		{"ICCID", id.ICCID}, {"IMSI", id.IMSI},
	}}
}

func slotsOf(entries []credstore.Entry) []Slot {
	slots := make([]Slot, 0, len(entries))
	for _, e := range entries {
		slots = append(slots, Slot{Tag: e.Tag, Type: e.Type, Digest: e.DigestHex(), Size: e.Size})
	}
	return slots
}

func inspectNRF91(dir string) (Description, error) {
	data, err := os.ReadFile(filepath.Join(dir, identityFile))
	if err != nil {
		return Description{}, fmt.Errorf("nrf91 identity: %w", err)
	}
	var id nrf91modem.Identity
	if err := json.Unmarshal(data, &id); err != nil {
		return Description{}, fmt.Errorf("nrf91 identity %s: %w", dir, err)
	}
	d := describeNRF91(id)
	inv, err := credstore.Inspect(filepath.Join(dir, credstoreDir), nrf91modem.SecretTypes()...)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return d, err
	}
	d.Slots, d.HeldBy = slotsOf(inv.Entries), inv.HeldBy
	return d, nil
}

// loadIdentity reads identity.json, fills what is missing (generating it
// once), applies the settings and persists the result. Settings that would
// change a persisted identity are refused unless allowChange; the changes
// made are returned, so the command can say what changed.
func loadIdentity(dir string, s NRF91Settings, allowChange bool) (nrf91modem.Identity, []string, error) {
	path := filepath.Join(dir, identityFile)
	var id nrf91modem.Identity
	var upgraded bool
	data, err := os.ReadFile(path)
	existed := err == nil
	switch {
	case existed:
		if err := json.Unmarshal(data, &id); err != nil {
			return id, nil, fmt.Errorf("read %s: %w", path, err)
		}
		// A board persisted before SIMs were simulated gets one now; that
		// completes its identity rather than changing it.
		if upgraded, err = id.FillSIM(rand.Reader); err != nil {
			return id, nil, err
		}
	case errors.Is(err, os.ErrNotExist):
		model := s.Model
		if model == "" {
			model = nrf91modem.DefaultModel
		}
		if id, err = nrf91modem.NewIdentity(rand.Reader, model); err != nil {
			return id, nil, err
		}
	default:
		return id, nil, fmt.Errorf("read identity: %w", err)
	}
	before := id
	if s.Model != "" && s.Model != id.Model {
		m, err := nrf91modem.LookupModel(s.Model)
		if err != nil {
			return id, nil, err
		}
		id.Model = m.Name
		if s.Firmware == "" {
			id.Firmware = m.Firmware
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&id.IMEI, s.IMEI}, {&id.SVN, s.SVN}, {&id.DeviceUUID, s.DeviceUUID}, {&id.Firmware, s.Firmware},
		{&id.ModemUUID, s.ModemUUID}, {&id.ICCID, s.ICCID}, {&id.IMSI, s.IMSI}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if id.Firmware != before.Firmware && s.ModemUUID == "" {
		id.ModemUUID = nrf91modem.FirmwareUUID(id.Firmware)
	}
	if err := id.Validate(); err != nil {
		return id, nil, fmt.Errorf("board identity (%s): %w", path, err)
	}
	var changes []string
	if existed {
		changes = identityChanges(before, id)
		if len(changes) > 0 && !allowChange {
			return before, nil, fmt.Errorf("%w: %s holds %s; the settings would change %s",
				ErrIdentityChange, path, describeNRF91(before).Field("IMEI")+" ("+before.Model+")", joinChanges(changes))
		}
	}
	if !existed || upgraded || len(changes) > 0 {
		out, _ := json.MarshalIndent(id, "", "  ")
		if err := atomicfile.Write(path, append(out, '\n')); err != nil {
			return id, nil, fmt.Errorf("persist identity: %w", err)
		}
	}
	return id, changes, nil
}

// ErrIdentityChange: settings would change a board's persisted identity and
// the caller did not allow it.
var ErrIdentityChange = errors.New("refusing to change a persisted board identity (allow it explicitly: --change-identity)")

func identityChanges(a, b nrf91modem.Identity) []string {
	var out []string
	for _, f := range []struct{ name, from, to string }{
		{"model", a.Model, b.Model}, {"IMEI", a.IMEI, b.IMEI}, {"SVN", a.SVN, b.SVN},
		{"device UUID", a.DeviceUUID, b.DeviceUUID}, {"firmware", a.Firmware, b.Firmware},
		{"modem UUID", a.ModemUUID, b.ModemUUID}, {"ICCID", a.ICCID, b.ICCID}, {"IMSI", a.IMSI, b.IMSI},
	} {
		if f.from != f.to {
			out = append(out, f.name+" "+strconv.Quote(f.from)+" → "+strconv.Quote(f.to))
		}
	}
	return out
}

func joinChanges(c []string) string {
	s := ""
	for i, x := range c {
		if i > 0 {
			s += ", "
		}
		s += x
	}
	return s
}

func loadIdentityKey(dir string) (*modemkey.Identity, bool, error) {
	path := filepath.Join(dir, identityKeyFile)
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := modemkey.ParseIdentityPEM(data)
		if err != nil {
			return nil, false, fmt.Errorf("read %s: %w", path, err)
		}
		return k, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read identity key: %w", err)
	}
	k, err := modemkey.NewIdentity(rand.Reader)
	if err != nil {
		return nil, false, fmt.Errorf("generate identity key: %w", err)
	}
	pemKey, err := k.MarshalPEM()
	if err != nil {
		return nil, false, err
	}
	if err := atomicfile.Write(path, pemKey); err != nil {
		return nil, false, fmt.Errorf("persist identity key: %w", err)
	}
	return k, true, nil
}
