package board

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atomicfile"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
)

func TestKindAndPersonaChoice(t *testing.T) {
	tests := []struct {
		name          string
		kind, persona string
		wantErr       string
	}{
		{"defaults", "", "", ""},
		{"named", "nrf91", "at_client", ""},
		{"unknown kind", "esp32", "", `unknown board kind "esp32" (valid: nrf91, nrf7002dk, spwf04)`},
		{"persona the kind cannot run", "nrf91", "zephyr_shell", `nrf91 cannot run persona "zephyr_shell" (valid: at_client, at_shell, azure_iot_hub, serial_modem)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := NewCatalog().Open(Config{Dir: t.TempDir(), Kind: tc.kind, Persona: tc.persona})
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			defer b.Close()
			assert.Equal(t, "nrf91", b.Kind())
			assert.Equal(t, "at_client", b.Persona())
		})
	}
}

func TestChangingAPersistedIdentityNeedsConsent(t *testing.T) {
	dir := t.TempDir()
	b, err := NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	first := identity(t, b)
	require.NoError(t, b.Close())

	_, err = NewCatalog().Open(Config{Dir: dir, Hardware: firmware.Knobs{"model": "nrf9160"}})
	require.ErrorIs(t, err, ErrIdentityChange)
	assert.ErrorContains(t, err, `model "nrf9151" → "nrf9160"`)
	data, err := os.ReadFile(filepath.Join(dir, identityFile))
	require.NoError(t, err)
	assert.Contains(t, string(data), `"nrf9151"`, "nothing was rewritten")

	// The same settings as persisted change nothing and need no consent.
	b, err = NewCatalog().Open(Config{Dir: dir, Hardware: firmware.Knobs{"model": "nrf9151", "imei": first.IMEI}})
	require.NoError(t, err)
	assert.Empty(t, b.Describe().Changes)
	require.NoError(t, b.Close())

	b, err = NewCatalog().Open(Config{Dir: dir, Hardware: firmware.Knobs{"model": "nrf9160"}, AllowIdentityChange: true})
	require.NoError(t, err)
	defer b.Close()
	assert.Equal(t, "nrf9160", identity(t, b).Model)
	assert.Contains(t, b.Describe().Changes, `model "nrf9151" → "nrf9160"`)
	assert.Equal(t, first.IMEI, identity(t, b).IMEI)
}

func TestUnknownSettingsAreRefused(t *testing.T) {
	_, err := NewCatalog().Open(Config{Dir: t.TempDir(), Hardware: firmware.Knobs{"imie": "1"}})
	assert.ErrorContains(t, err, `unknown field "imie"`)
	_, err = NewCatalog().Open(Config{Dir: t.TempDir(), Firmware: firmware.Knobs{"terminatr": "cr"}})
	assert.ErrorContains(t, err, `unknown field "terminatr"`)
}

func TestFlashKeepsTheHardwareState(t *testing.T) {
	dir := t.TempDir()
	cat := NewCatalog()
	cat.AddPersona(&Persona{Name: "quiet", Kind: KindNRF91, Flash: func(hw Hardware, k firmware.Knobs) (firmware.Firmware, error) {
		return nrf91Personas()[0].Flash(hw, firmware.Knobs{"terminator": "cr"})
	}})
	b := runCatalogBoard(t, cat, Config{Dir: dir})
	s := open(t, b)
	exchange(t, s, "AT+CFUN=4")
	assert.Equal(t, []string{"OK"}, exchange(t, s, `AT%CMNG=0,42,3,"00112233445566778899"`))
	exchange(t, s, "AT+CMEE=1")
	require.NoError(t, b.Flash("quiet", nil))
	assert.Equal(t, "quiet", b.Persona())
	expectBanner(t, s)
	// Volatile modem state is back at power-on; the store is not.
	assert.Equal(t, []string{"+CFUN: 0", "OK"}, exchange(t, s, "AT+CFUN?"))
	assert.Equal(t, []string{"+CMEE: 0", "OK"}, exchange(t, s, "AT+CMEE?"))
	assert.Len(t, exchange(t, s, "AT%CMNG=1,42"), 2)
	require.NoError(t, s.Close())

	m, err := readMarker(dir)
	require.NoError(t, err)
	assert.Equal(t, marker{"nrf91", "quiet"}, m, "the flashed persona is remembered")
	assert.ErrorContains(t, b.Flash("nope", nil), "valid: at_client, at_shell, azure_iot_hub, quiet, serial_modem")
}

func TestRebootRestoresPowerOn(t *testing.T) {
	b := runBoard(t, Config{})
	s := open(t, b)
	defer s.Close()
	exchange(t, s, "AT+CFUN=1")
	require.NoError(t, b.Reboot())
	expectBanner(t, s)
	assert.Equal(t, []string{"+CFUN: 0", "OK"}, exchange(t, s, "AT+CFUN?"))
}

func TestPreloadedCredentials(t *testing.T) {
	dir := t.TempDir()
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
	creds := []Credential{{Tag: 42, Type: 0, Content: pem}, {Tag: 42, Type: 2, Content: []byte("key")}}
	b, err := NewCatalog().Open(Config{Dir: dir, Credentials: creds})
	require.NoError(t, err)
	n, _ := b.NRF91()
	got, err := n.Store().Read(credstore.Key{Tag: 42, Type: 0})
	require.NoError(t, err)
	assert.Equal(t, pem, got)
	slotFile := filepath.Join(dir, credstoreDir, "42", "0")
	before, err := os.Stat(slotFile)
	require.NoError(t, err)
	require.NoError(t, b.Close())

	time.Sleep(10 * time.Millisecond)
	b, err = NewCatalog().Open(Config{Dir: dir, Credentials: creds})
	require.NoError(t, err)
	defer b.Close()
	after, err := os.Stat(slotFile)
	require.NoError(t, err)
	assert.Equal(t, before.ModTime(), after.ModTime(), "an unchanged credential is not rewritten")
}

func TestKindMismatchOnAStateDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, writeMarker(dir, marker{"esp32", "idf"}))
	_, err := NewCatalog().Open(Config{Dir: dir})
	assert.ErrorContains(t, err, "unknown board kind")
	_, err = NewCatalog().Open(Config{Dir: dir, Kind: "nrf91"})
	assert.ErrorContains(t, err, "holds an esp32 board")
}

// expectBanner reads the boot banner a reboot prints to the open port.
func expectBanner(t *testing.T, s *hosttool.Serial) {
	t.Helper()
	for _, want := range []string{"The AT host sample started", "Ready"} {
		line, err := s.ReadLine(2 * time.Second)
		require.NoError(t, err)
		assert.Equal(t, want, string(bytes.TrimRight(line, "\r\n")))
	}
}

func runCatalogBoard(t *testing.T, cat *Catalog, cfg Config) *Board {
	t.Helper()
	b, err := cat.Open(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Error(err)
		}
		require.NoError(t, b.Close())
	})
	return b
}

// A kill during a board's first boot can leave half-written identity files,
// one with a copy of the identity key; the next start removes them.
func TestLeftoversOfAKilledBootAreRemoved(t *testing.T) {
	dir := t.TempDir()
	b, err := NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	leftover, err := atomicfile.WriteTemp(dir, identityKeyFile, []byte("-----BEGIN EC PRIVATE KEY-----"))
	require.NoError(t, err)
	fi, err := os.Stat(leftover)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a temp file is private")

	b, err = NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	defer b.Close()
	assert.NoFileExists(t, leftover)
	_, err = NewCatalog().Open(Config{Dir: dir})
	assert.ErrorContains(t, err, "directory is in use by another process (held by pid")
}

// What a killed board left behind (its port record names a link to a pty
// that no longer exists) is removed by Cleanup; a running board's is not.
func TestCleanupRemovesWhatAKilledBoardLeft(t *testing.T) {
	state := t.TempDir()
	dead := filepath.Join(state, "dead")
	b, err := NewCatalog().Open(Config{Dir: dead})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	link := filepath.Join(t.TempDir(), "ttyDEAD")
	require.NoError(t, os.Symlink("/dev/pts/99999", link))
	require.NoError(t, os.WriteFile(filepath.Join(dead, portFile), []byte(`{"pid":1,"pty":"/dev/pts/99999","link":"`+link+`"}`), 0o644))

	liveLink := filepath.Join(t.TempDir(), "ttyLIVE")
	live := runBoard(t, Config{Dir: filepath.Join(state, "live"), Port: PortConfig{Link: liveLink}})

	cleaned, err := NewCatalog().Cleanup(state)
	require.NoError(t, err)
	require.Len(t, cleaned, 1)
	assert.Equal(t, Cleaned{Board: "dead", Removed: []string{link}}, cleaned[0])
	_, err = os.Lstat(link)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.NoFileExists(t, filepath.Join(dead, portFile))
	target, err := os.Readlink(liveLink)
	require.NoError(t, err, "the running board's link stays")
	assert.Equal(t, live.PortPath(), target)
}
