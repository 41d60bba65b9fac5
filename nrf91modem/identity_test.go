package nrf91modem

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLuhn(t *testing.T) {
	tests := []struct {
		imei string
		ok   bool
	}{
		{"352656100367872", true}, // Nordic's documented example (nrf91.md §4)
		{"352656100367873", false},
		{"490154203237518", true},
		{"35265610036787", false},
		{"35265610036787x", false},
		{"", false},
	}
	for _, tc := range tests {
		t.Run(tc.imei, func(t *testing.T) { assert.Equal(t, tc.ok, LuhnValid(tc.imei)) })
	}
}

func TestNewIdentity(t *testing.T) {
	for _, model := range []string{"nrf9160", "nrf9161", "nrf9151", "NRF9151"} {
		t.Run(model, func(t *testing.T) {
			id, err := NewIdentity(rand.Reader, model)
			require.NoError(t, err)
			require.NoError(t, id.Validate())
			assert.Regexp(t, `^35265610\d{7}$`, id.IMEI)
			assert.Len(t, id.IMEISV(), 16)
			assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, id.DeviceUUID)
			assert.Equal(t, FirmwareUUID(id.Firmware), id.ModemUUID)
		})
	}
	_, err := NewIdentity(rand.Reader, "nrf5340")
	assert.ErrorContains(t, err, "unknown nRF91 model")
}

func TestIdentityValidate(t *testing.T) {
	good, err := NewIdentity(rand.Reader, "nrf9151")
	require.NoError(t, err)
	tests := []struct {
		name   string
		mutate func(*Identity)
		errMsg string
	}{
		{"bad luhn", func(id *Identity) { id.IMEI = "352656100367873" }, "Luhn"},
		{"short svn", func(id *Identity) { id.SVN = "1" }, "SVN"},
		{"uuid", func(id *Identity) { id.DeviceUUID = "nope" }, "device UUID"},
		{"model", func(id *Identity) { id.Model = "x" }, "unknown nRF91 model"},
		{"firmware", func(id *Identity) { id.Firmware = "" }, "firmware"},
		{"no ICCID", func(id *Identity) { id.ICCID = "" }, "ICCID"},
		{"ICCID Luhn", func(id *Identity) { id.ICCID = "8988211234567890127" }, "ICCID"},
		{"ICCID too short", func(id *Identity) { id.ICCID = "898821123456789015" }, "ICCID"},
		{"ICCID too long", func(id *Identity) { id.ICCID = "898821123456789012345" }, "ICCID"},
		{"ICCID letters", func(id *Identity) { id.ICCID = "8988211234567890122F" }, "ICCID"},
		{"no IMSI", func(id *Identity) { id.IMSI = "" }, "IMSI"},
		{"IMSI short", func(id *Identity) { id.IMSI = "00101123" }, "IMSI"},
		{"IMSI MCC 000", func(id *Identity) { id.IMSI = "000011234567890" }, "MCC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := good
			tc.mutate(&id)
			assert.ErrorContains(t, id.Validate(), tc.errMsg)
		})
	}
}

func TestFirmwareVersion(t *testing.T) {
	tests := []struct {
		fw   string
		want bool
	}{
		{"mfw_nrf91x1_2.0.2", true},
		{"mfw_nrf9160_1.3.5", false},
		{"mfw_nrf91x1_2.1.0-ntn", true},
		{"mfw_nrf9160_10.0.0", true},
		{"garbage", false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, firmwareAtLeast(tc.fw, 2, 0), tc.fw)
	}
	assert.Equal(t, "nrf91x1_2.0.2", shortSWVersion("mfw_nrf91x1_2.0.2"))
}

func TestSIMIdentity(t *testing.T) {
	id, err := NewIdentity(rand.Reader, "nrf9151")
	require.NoError(t, err)
	assert.Regexp(t, `^89882\d{14}$`, id.ICCID)
	assert.True(t, LuhnValid(id.ICCID))
	assert.Regexp(t, `^00101\d{10}$`, id.IMSI)
	// Real values pass validation: a 20-digit ICCID, a 3-digit-MNC IMSI.
	id.ICCID, id.IMSI = "89460060210108095011", "310410123456789"
	require.NoError(t, id.Validate())

	tests := []struct{ imsi, plmn string }{
		{"001011234567890", "00101"},
		{"242016001128485", "24201"}, // [T nRF Cloud test vectors: 24201]
		{"310410123456789", "310410"},
		{"", ""},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.plmn, Identity{IMSI: tc.imsi}.HomePLMN(), tc.imsi)
	}

	old := Identity{ICCID: "", IMSI: "242016001128485"}
	filled, err := old.FillSIM(rand.Reader)
	require.NoError(t, err)
	assert.True(t, filled)
	assert.Equal(t, "242016001128485", old.IMSI, "only what is missing is generated")
	assert.NoError(t, validateICCID(old.ICCID))
	filled, err = old.FillSIM(rand.Reader)
	require.NoError(t, err)
	assert.False(t, filled)
}
