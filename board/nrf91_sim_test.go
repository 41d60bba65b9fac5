package board

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/athost"
)

// writeOldIdentity writes identity.json as a board made before SIMs were
// simulated did: no iccid, no imsi.
func writeOldIdentity(t *testing.T, dir string) nrf91modem.Identity {
	t.Helper()
	id, err := nrf91modem.NewIdentity(rand.Reader, "nrf9151")
	require.NoError(t, err)
	id.ICCID, id.IMSI = "", ""
	data, err := json.Marshal(id)
	require.NoError(t, err)
	require.NotContains(t, string(data), "iccid")
	require.NoError(t, os.WriteFile(filepath.Join(dir, identityFile), data, 0o600))
	return id
}

func TestIdentityUpgradeFillsSIMWithoutAChange(t *testing.T) {
	dir := t.TempDir()
	old := writeOldIdentity(t, dir)

	id, changes, err := loadIdentity(dir, NRF91Settings{}, false)
	require.NoError(t, err, "filling in the SIM is not a change of identity")
	assert.Empty(t, changes)
	require.NoError(t, id.Validate())
	assert.Equal(t, old.IMEI, id.IMEI)
	assert.Len(t, id.IMSI, 15)
	assert.True(t, nrf91modem.LuhnValid(id.ICCID))

	var onDisk map[string]string
	data, err := os.ReadFile(filepath.Join(dir, identityFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &onDisk))
	assert.Equal(t, id.ICCID, onDisk["iccid"], "the filled-in SIM is persisted")
	assert.Equal(t, id.IMSI, onDisk["imsi"])

	again, changes, err := loadIdentity(dir, NRF91Settings{}, false)
	require.NoError(t, err)
	assert.Empty(t, changes)
	assert.Equal(t, id, again, "generated once")
}

func TestSIMSettings(t *testing.T) {
	dir := t.TempDir()
	id, _, err := loadIdentity(dir, NRF91Settings{}, false)
	require.NoError(t, err)

	tests := []struct {
		name    string
		s       NRF91Settings
		allow   bool
		wantErr error
		errText string
		change  string
	}{
		{name: "same values are no change", s: NRF91Settings{ICCID: id.ICCID, IMSI: id.IMSI}},
		{name: "a new ICCID is a change", s: NRF91Settings{ICCID: "8988211234567890122"}, wantErr: ErrIdentityChange},
		{name: "bad Luhn", s: NRF91Settings{ICCID: "8988211234567890127"}, allow: true, errText: "ICCID"},
		{name: "short IMSI", s: NRF91Settings{IMSI: "00101123"}, allow: true, errText: "IMSI"},
		{name: "allowed ICCID change", s: NRF91Settings{ICCID: "8988211234567890122"}, allow: true, change: `ICCID "` + id.ICCID + `" → "8988211234567890122"`},
		{name: "allowed IMSI change", s: NRF91Settings{IMSI: "310410123456789"}, allow: true, change: `IMSI "` + id.IMSI + `" → "310410123456789"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := t.TempDir()
			data, err := json.Marshal(id)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(d, identityFile), data, 0o600))
			got, changes, err := loadIdentity(d, tc.s, tc.allow)
			switch {
			case tc.wantErr != nil:
				assert.True(t, errors.Is(err, tc.wantErr), "err = %v", err)
			case tc.errText != "":
				assert.ErrorContains(t, err, tc.errText)
			case tc.change != "":
				require.NoError(t, err)
				assert.Equal(t, []string{tc.change}, changes)
				assert.NotEqual(t, id, got)
			default:
				require.NoError(t, err)
				assert.Empty(t, changes)
			}
		})
	}
	assert.Equal(t, "IMSI", describeNRF91(id).Fields[len(describeNRF91(id).Fields)-1].Name)
}

// The network setting reaches the modem: a board told its registration is
// denied reports +CEREG: 3 after AT+CFUN=1; a bad outcome is refused.
func TestNetworkSettingReachesTheModem(t *testing.T) {
	b, err := NewCatalog().Open(Config{Dir: t.TempDir(), Hardware: firmware.Knobs{
		"network": map[string]any{"outcome": "denied", "delay": "1ms", "reject_cause": 15}}})
	require.NoError(t, err)
	defer b.Close()
	n, ok := b.NRF91()
	require.True(t, ok)
	at := func(line string) string {
		cmd, err := atparser.Parse([]byte(line))
		require.NoError(t, err)
		return string(athost.Bare.AppendResponse(nil, n.Modem().Handle(context.Background(), cmd)))
	}
	require.Equal(t, "OK\r\n", at("AT+CEREG=3"))
	require.Equal(t, "OK\r\n", at("AT+CFUN=1"))
	assert.Eventually(t, func() bool { return at("AT+CEREG?") == "+CEREG: 3,3,\"67C0\",\"01AA1300\",7,0,15\r\nOK\r\n" },
		5*time.Second, time.Millisecond)

	_, err = NewCatalog().Open(Config{Dir: t.TempDir(), Hardware: firmware.Knobs{"network": map[string]any{"outcome": "flaky"}}})
	assert.ErrorContains(t, err, "outcome")
}
