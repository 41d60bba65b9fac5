package modemkey

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// DeviceType is one entry of the AT%ATTESTTOKEN device-type table.
type DeviceType struct {
	ID   int
	Name string
}

// deviceTypes is nRF Cloud utils' device_type_dict (modem_credentials_parser
// [S]; nrf91.md §4). The real sample token carries 3 (§4 [T]). Entry 3
// repeats "nRF9160 SIAA" in upper case in the source; it is kept verbatim.
var deviceTypes = []DeviceType{
	{1, "nRF9160 SIAA"},
	{2, "nRF9160 SIBA"},
	{3, "NRF9160 SIAA"},
	{4, "nRF9161 LACA"},
	{5, "nRF9131 LACA"},
	{6, "nRF9151 LACA"},
}

// DeviceTypes returns a copy of the device-type table.
func DeviceTypes() []DeviceType { return append([]DeviceType(nil), deviceTypes...) }

// inferredDeviceTypes covers models the table lacks. The nRF9160 DK and
// Thingy:91 carry nRF9160 SICA (AT+CGMM "nRF9160-SICA", §4 [S]), which utils
// do not list; 3 is assumed because the only real nRF9160 token published
// carries it [I]. Boards should make the device type configurable.
var inferredDeviceTypes = map[string]int{
	"NRF9160 SICA": 3,
}

// DeviceTypeForModel maps a model string to its device type. It accepts the
// table's names and the forms the modem prints: AT+CGMM ("nRF9151-LACA") and
// AT%HWVERSION ("nRF9160 SICA B0A"; the revision is ignored). An exact table
// name wins; otherwise matching ignores case and '-'/'_'/' ' separators.
func DeviceTypeForModel(model string) (int, bool) {
	for _, d := range deviceTypes {
		if d.Name == model {
			return d.ID, true
		}
	}
	key := normalizeModel(model)
	if key == "" {
		return 0, false
	}
	for _, d := range deviceTypes {
		if normalizeModel(d.Name) == key {
			return d.ID, true
		}
	}
	id, ok := inferredDeviceTypes[key]
	return id, ok
}

// normalizeModel returns "NRF9160 SICA" for "nRF9160-SICA", "nrf9160_sica",
// "nRF9160 SICA B0A": the first two fields, upper case.
func normalizeModel(s string) string {
	f := strings.FieldsFunc(strings.ToUpper(s), func(r rune) bool {
		return r == ' ' || r == '-' || r == '_' || r == '\t'
	})
	if len(f) < 2 {
		return ""
	}
	return f[0] + " " + f[1]
}

// FormatUUID prints a UUID the way the modem does in %XMODEMUUID,
// %DEVICEUUID and the default CSR CN: lowercase 8-4-4-4-12 (§3, §4 [T]).
func FormatUUID(u [16]byte) string {
	h := hex.EncodeToString(u[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ParseUUID reads a UUID in 8-4-4-4-12 form or as 32 hex digits, any case.
func ParseUUID(s string) ([16]byte, error) {
	var u [16]byte
	h := s
	if len(s) == 36 {
		if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
			return u, fmt.Errorf("modemkey: UUID %q: misplaced '-'", s)
		}
		h = s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	}
	if len(h) != 32 {
		return u, fmt.Errorf("modemkey: UUID %q: want 32 hex digits", s)
	}
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("modemkey: UUID %q: %w", s, err)
	}
	return u, nil
}
