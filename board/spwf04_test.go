package board

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/persona/spwf04"
)

func openTestSPWF04(t *testing.T, dir string, k firmware.Knobs) *SPWF04 {
	t.Helper()
	hw, err := openSPWF04(dir, k, HardwareEnv{})
	require.NoError(t, err)
	t.Cleanup(func() { hw.Close() })
	return hw.(*SPWF04)
}

func TestSPWF04FlashPersists(t *testing.T) {
	dir := t.TempDir()
	h := openTestSPWF04(t, dir, nil)
	require.NoError(t, h.SaveConfig(map[string]string{"console_echo": "0"}))
	require.NoError(t, h.PutTLS(spwf04.TLSCA, []byte("ca bytes")))
	require.NoError(t, h.PutTLS(spwf04.TLSAuth, []byte{0xe5, 0x9d}))
	require.NoError(t, h.WriteFile("e59d.ca", []byte("anchor")))
	require.NoError(t, h.WriteFile("../escape", []byte("x")))
	require.NoError(t, h.RenameFile("e59d.ca", "renamed.ca"))

	again := openTestSPWF04(t, dir, nil)
	assert.Equal(t, h.Settings().MAC, again.Settings().MAC, "the MAC is generated once")
	assert.True(t, strings.HasPrefix(again.Settings().MAC, stMACPrefix))
	vars, err := again.SavedConfig()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"console_echo": "0"}, vars)
	ca, err := again.TLS(spwf04.TLSCA)
	require.NoError(t, err)
	assert.Equal(t, "ca bytes", string(ca))
	files, err := again.Files()
	require.NoError(t, err)
	assert.Equal(t, []spwf04.FileInfo{{Name: "../escape", Size: 1}, {Name: "renamed.ca", Size: 6}}, files)
	_, err = os.Stat(filepath.Join(dir, "escape"))
	assert.True(t, os.IsNotExist(err), "a file name cannot leave the volume")

	d, err := inspectSPWF04(dir)
	require.NoError(t, err)
	assert.Equal(t, KindSPWF04, d.Kind)
	assert.Len(t, d.Slots, 2) // ca and auth

	require.NoError(t, again.CleanTLS())
	_, err = again.TLS(spwf04.TLSCA)
	assert.ErrorIs(t, err, spwf04.ErrNoFile)
	require.NoError(t, again.SaveConfig(nil))
	vars, err = again.SavedConfig()
	require.NoError(t, err)
	assert.Nil(t, vars)
	assert.ErrorIs(t, again.DeleteFile("nope"), spwf04.ErrNoFile)
	assert.ErrorIs(t, again.RenameFile("nope", "x"), spwf04.ErrNoFile)
}

func TestSPWF04Settings(t *testing.T) {
	dir := t.TempDir()
	h := openTestSPWF04(t, dir, firmware.Knobs{"mac": "00:80:e1:aa:bb:cc", "ap_ssid": "lab"})
	s := h.Settings()
	assert.Equal(t, "00:80:E1:AA:BB:CC", s.MAC)
	assert.Equal(t, "lab", s.APSSID)
	assert.Equal(t, defaultAPKey, s.APKey)
	assert.Equal(t, filepath.Join(filepath.Dir(dir), "hub", "pki"), s.PKIDir)

	_, err := openSPWF04(dir, firmware.Knobs{"mac": "00:80:E1:00:00:01"}, HardwareEnv{})
	assert.ErrorContains(t, err, "allow an identity change")
	_, err = openSPWF04(t.TempDir(), firmware.Knobs{"ap_open": true, "ap_key": "k"}, HardwareEnv{})
	assert.Error(t, err)
	_, err = openSPWF04(t.TempDir(), firmware.Knobs{"no_such": 1}, HardwareEnv{})
	assert.Error(t, err)

	require.NoError(t, h.Preload([]Credential{{Type: 0, Content: []byte("root")}, {Type: 2, Content: []byte("key")}}))
	key, err := h.TLS(spwf04.TLSKey)
	require.NoError(t, err)
	assert.Equal(t, "key", string(key))
	assert.Error(t, h.Preload([]Credential{{Type: 3, Content: []byte("psk")}}))
}

func TestCatalogKnowsSPWF04(t *testing.T) {
	c := NewCatalog()
	p, err := c.Persona(KindSPWF04, "")
	require.NoError(t, err)
	assert.Equal(t, spwf04.Name, p.Name)
	names, err := c.HardwareSettings(KindSPWF04)
	require.NoError(t, err)
	assert.True(t, names["ap_ssid"] && names["hub_mqtt"] && names["pki_dir"])
}
