package board

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/atclient"
	"github.com/modemsim/modemsim/ptyport"
	"github.com/modemsim/modemsim/transcript"
)

// NRF91Config describes one nRF91 board. Zero values pick the defaults.
type NRF91Config struct {
	// Dir holds the board's state: identity.json, identity-key.pem and
	// credstore/. Created if missing.
	Dir string `json:"-"`
	// Persona is the firmware flashed on the board; only at_client so far.
	Persona string `json:"persona,omitempty"`
	// Identity fields chosen by the user; empty ones are generated once and
	// persisted. Changing one here changes the persisted identity.
	Model      string `json:"model,omitempty"`
	IMEI       string `json:"imei,omitempty"`
	SVN        string `json:"svn,omitempty"`
	DeviceUUID string `json:"device_uuid,omitempty"`
	Firmware   string `json:"firmware,omitempty"`
	ModemUUID  string `json:"modem_uuid,omitempty"`
	// DeviceType overrides the attestation token's device type, which is
	// inferred for the nRF9160 SICA (modemkey.DeviceTypeForModel).
	DeviceType int `json:"device_type,omitempty"`
	// Terminator is the AT host line termination: "any" (default), "cr",
	// "lf", "crlf" or "nul".
	Terminator string `json:"terminator,omitempty"`
	// QuoteIdleReset discards a command stuck in an open quote after this
	// long without input; "0s" keeps the real firmware's hang.
	QuoteIdleReset *Duration `json:"quote_idle_reset,omitempty"`
	// Capacity of the modem credential store (entries, bytes); 0 = default.
	CapacityEntries int   `json:"capacity_entries,omitempty"`
	CapacityBytes   int64 `json:"capacity_bytes,omitempty"`
	// Modem firmware knobs (PEM validation, overwrite policy, CSR quirk).
	ValidatePEM     *bool `json:"validate_pem,omitempty"`
	RejectOverwrite bool  `json:"reject_overwrite,omitempty"`
	StandardCSR     bool  `json:"standard_csr,omitempty"`

	// Serial port exposure.
	Link       string       `json:"-"` // symlink to the pty
	DeviceNode string       `json:"-"` // e.g. /dev/ttyACM99 (root): see ptyport.WithDeviceNode
	Transcript io.Writer    `json:"-"` // every byte, timestamped
	Logger     *slog.Logger `json:"-"`
}

// Duration is a time.Duration that reads "1s" style strings from JSON.
type Duration struct{ time.Duration }

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string like \"1s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// NRF91 is a running nRF91 board.
type NRF91 struct {
	cfg    NRF91Config
	id     nrf91modem.Identity
	store  *credstore.Store
	modem  *nrf91modem.Modem
	port   *ptyport.Port
	engine *atengine.Engine
	rec    *transcript.Recorder
	log    *slog.Logger
}

const (
	identityFile    = "identity.json"
	identityKeyFile = "identity-key.pem"
	// identityPubFile is the identity public key, exported so verifiers can
	// check %KEYGEN and %ATTESTTOKEN signatures.
	identityPubFile = "identity-key.pub.pem"
	credstoreDir    = "credstore"
)

var terminators = map[string]atparser.Terminator{
	"": atparser.TermAny, "any": atparser.TermAny, "cr": atparser.TermCR, "lf": atparser.TermLF,
	"crlf": atparser.TermCRLF, "nul": atparser.TermNUL,
}

// OpenNRF91 loads (or creates) the board's state, flashes the persona and
// opens its serial port. Close releases everything.
func OpenNRF91(cfg NRF91Config) (_ *NRF91, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Persona == "" {
		cfg.Persona = atclient.Name
	}
	if cfg.Persona != atclient.Name {
		return nil, fmt.Errorf("nRF91 persona %q is not available (have: %s)", cfg.Persona, atclient.Name)
	}
	term, ok := terminators[cfg.Terminator]
	if !ok {
		return nil, fmt.Errorf("terminator %q: want any, cr, lf, crlf or nul", cfg.Terminator)
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("board state dir: %w", err)
	}
	id, err := loadIdentity(cfg)
	if err != nil {
		return nil, err
	}
	idKey, created, err := loadIdentityKey(filepath.Join(cfg.Dir, identityKeyFile))
	if err != nil {
		return nil, err
	}
	b := &NRF91{cfg: cfg, id: id, log: cfg.Logger}
	defer func() {
		if err != nil {
			b.Close()
		}
	}()
	storeOpts := []credstore.Option{credstore.WithSecretTypes(nrf91modem.SecretTypes()...), credstore.WithLogger(cfg.Logger)}
	if cfg.CapacityEntries > 0 || cfg.CapacityBytes > 0 {
		storeOpts = append(storeOpts, credstore.WithCapacity(cfg.CapacityEntries, cfg.CapacityBytes))
	}
	if b.store, err = credstore.Open(filepath.Join(cfg.Dir, credstoreDir), storeOpts...); err != nil {
		return nil, fmt.Errorf("open credential store: %w", err)
	}
	pub, err := idKey.PublicKeyPEM()
	if err != nil {
		return nil, err
	}
	if err := atomicfile.Write(filepath.Join(cfg.Dir, identityPubFile), pub); err != nil {
		return nil, fmt.Errorf("export identity public key: %w", err)
	}
	if created {
		model, _ := nrf91modem.LookupModel(id.Model)
		if err := nrf91modem.SeedNordicCredentials(rand.Reader, b.store, model, pub); err != nil {
			return nil, err
		}
	}
	b.rec = transcript.New(cfg.Transcript)
	b.modem, err = nrf91modem.New(nrf91modem.Config{
		Identity: id, IdentityKey: idKey, Store: b.store, Notify: b.notify,
		Options: nrf91modem.Options{ValidatePEM: cfg.ValidatePEM, RejectOverwrite: cfg.RejectOverwrite,
			StandardCSR: cfg.StandardCSR, DeviceType: cfg.DeviceType, Logger: cfg.Logger},
	})
	if err != nil {
		return nil, err
	}
	portOpts := []ptyport.Option{ptyport.WithLogger(cfg.Logger)}
	if cfg.Link != "" {
		portOpts = append(portOpts, ptyport.WithLink(cfg.Link))
	}
	if cfg.DeviceNode != "" {
		portOpts = append(portOpts, ptyport.WithDeviceNode(cfg.DeviceNode))
	}
	if b.port, err = ptyport.Open(portOpts...); err != nil {
		return nil, fmt.Errorf("open serial port: %w", err)
	}
	handler, engineOpts := atclient.Persona(b.modem, term)
	engineOpts = append(engineOpts, atengine.WithTranscript(b.rec), atengine.WithLogger(cfg.Logger),
		atengine.WithHangups(hangups(b.port)))
	if cfg.QuoteIdleReset != nil {
		engineOpts = append(engineOpts, atengine.WithQuoteIdleReset(cfg.QuoteIdleReset.Duration))
	}
	b.engine = atengine.New(b.port, handler, engineOpts...)
	// The sample prints its banner at boot, before any host could have the
	// port open: it reaches the transcript, not a client.
	b.rec.Notef("boot: nRF91 %s, persona %s, IMEI %s, port %s", id.Model, cfg.Persona, id.IMEI, b.port.Path())
	if err := b.engine.Write(atclient.BannerBytes()); err != nil {
		return nil, err
	}
	return b, nil
}

// hangups turns the port's close events into the engine's reset signal and
// notes every open and close in nothing but the log; the transcript gets
// them from the engine.
func hangups(p *ptyport.Port) <-chan struct{} {
	ch := make(chan struct{}, 1)
	go func() {
		defer close(ch)
		for ev := range p.Events() {
			if ev.Kind != ptyport.ClientClosed {
				continue
			}
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	return ch
}

func (b *NRF91) notify(urc string) {
	if b.engine != nil {
		b.engine.Notify(urc)
	}
}

// Run serves the port until ctx ends.
func (b *NRF91) Run(ctx context.Context) error {
	err := b.engine.Run(ctx)
	if errors.Is(err, context.Canceled) && ctx.Err() != nil {
		return nil
	}
	return err
}

// Close stops the modem and releases the port and the store.
func (b *NRF91) Close() error {
	var errs []error
	if b.modem != nil {
		b.modem.Close()
	}
	if b.port != nil {
		errs = append(errs, b.port.Close())
	}
	if b.store != nil {
		errs = append(errs, b.store.Close())
	}
	return errors.Join(errs...)
}

// PortPath is the pty a host tool opens.
func (b *NRF91) PortPath() string { return b.port.Path() }

// Identity is the board's identity.
func (b *NRF91) Identity() nrf91modem.Identity { return b.id }

// Persona is the firmware the board runs.
func (b *NRF91) Persona() string { return b.cfg.Persona }

// Transcript is the recent AT traffic, for reports.
func (b *NRF91) Transcript() string { return b.rec.String() }

// Modem gives tests and fault knobs access to the modem.
func (b *NRF91) Modem() *nrf91modem.Modem { return b.modem }

// Store is the board's credential store.
func (b *NRF91) Store() *credstore.Store { return b.store }

// loadIdentity reads identity.json, fills what is missing (generating it
// once), applies the config's choices and persists the result.
func loadIdentity(cfg NRF91Config) (nrf91modem.Identity, error) {
	path := filepath.Join(cfg.Dir, identityFile)
	var id nrf91modem.Identity
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &id); err != nil {
			return id, fmt.Errorf("read %s: %w", path, err)
		}
	case errors.Is(err, os.ErrNotExist):
		model := cfg.Model
		if model == "" {
			model = nrf91modem.DefaultModel
		}
		if id, err = nrf91modem.NewIdentity(rand.Reader, model); err != nil {
			return id, err
		}
	default:
		return id, fmt.Errorf("read identity: %w", err)
	}
	before := id
	if cfg.Model != "" && cfg.Model != id.Model {
		m, err := nrf91modem.LookupModel(cfg.Model)
		if err != nil {
			return id, err
		}
		id.Model = m.Name
		if cfg.Firmware == "" {
			id.Firmware = m.Firmware
		}
	}
	for _, f := range []struct {
		dst *string
		v   string
	}{{&id.IMEI, cfg.IMEI}, {&id.SVN, cfg.SVN}, {&id.DeviceUUID, cfg.DeviceUUID}, {&id.Firmware, cfg.Firmware}, {&id.ModemUUID, cfg.ModemUUID}} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if id.Firmware != before.Firmware && cfg.ModemUUID == "" {
		id.ModemUUID = nrf91modem.FirmwareUUID(id.Firmware)
	}
	if err := id.Validate(); err != nil {
		return id, fmt.Errorf("board identity (%s): %w", path, err)
	}
	if id != before || len(data) == 0 {
		out, _ := json.MarshalIndent(id, "", "  ")
		if err := atomicfile.Write(path, append(out, '\n')); err != nil {
			return id, fmt.Errorf("persist identity: %w", err)
		}
	}
	return id, nil
}

func loadIdentityKey(path string) (*modemkey.Identity, bool, error) {
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
