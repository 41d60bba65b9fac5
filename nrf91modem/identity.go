package nrf91modem

import (
	"crypto/rand"
	"crypto/sha1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"regexp"

	"strings"

	"github.com/modemsim/modemsim/modemkey"
)

// Model is what a board's SoC answers to the identity commands.
type Model struct {
	Name        string // config name, e.g. "nrf9151"
	CGMM        string // AT+CGMM
	HWVersion   string // AT%HWVERSION (unquoted)
	Firmware    string // default AT+CGMR
	HasDevUUID  bool   // AT%DEVICEUUID exists on nRF91x1 only
	SeedsNordic bool   // lists Nordic's reserved credentials (nRF91x1, mfw ≥ 2) [S nrfcredstore deleteall skips them]
}

// models holds the SoCs a board can be (nrf91.md §4 [S]/[T]; nRF9151/9161
// strings follow the nRF91x1 pattern [I]).
var models = []Model{
	{Name: "nrf9160", CGMM: "nRF9160-SICA", HWVersion: "nRF9160 SICA B0A", Firmware: "mfw_nrf9160_1.3.5"},
	{Name: "nrf9161", CGMM: "nRF9161-LACA", HWVersion: "nRF9161 LACA A0A", Firmware: "mfw_nrf91x1_2.0.2", HasDevUUID: true, SeedsNordic: true},
	{Name: "nrf9151", CGMM: "nRF9151-LACA", HWVersion: "nRF9151 LACA A0A", Firmware: "mfw_nrf91x1_2.0.2", HasDevUUID: true, SeedsNordic: true},
}

// DefaultModel is the board a bare `modemsim` runs: an nRF9151 DK.
const DefaultModel = "nrf9151"

// LookupModel finds a model by its config name (case-insensitive).
func LookupModel(name string) (Model, error) {
	for _, m := range models {
		if strings.EqualFold(m.Name, name) {
			return m, nil
		}
	}
	names := make([]string, len(models))
	for i, m := range models {
		names[i] = m.Name
	}
	return Model{}, fmt.Errorf("unknown nRF91 model %q (known: %s)", name, strings.Join(names, ", "))
}

// Identity is what the hardware keeps: generated once per board, persisted by
// the board, and consistent everywhere it appears (CGSN, %DEVICEUUID, CSR CN,
// attestation token).
type Identity struct {
	Model      string `json:"model"`
	IMEI       string `json:"imei"`
	SVN        string `json:"svn"`         // software version number, 2 digits (+CGSN=3)
	DeviceUUID string `json:"device_uuid"` // lowercase 8-4-4-4-12
	Firmware   string `json:"firmware"`    // modem firmware, e.g. mfw_nrf91x1_2.0.2
	ModemUUID  string `json:"modem_uuid"`  // %XMODEMUUID: the firmware build's UUID
	// The SIM's identity (%XICCID, +CIMI). A board persisted before SIMs
	// were simulated has none; the board fills them in (FillSIM).
	ICCID string `json:"iccid,omitempty"`
	IMSI  string `json:"imsi,omitempty"`
}

// SIM numbering the simulator generates [I]: ICCIDs start with the
// telecom industry identifier 89 and country code 882 (international
// networks, ITU-T E.118/E.164 [S]); IMSIs are on ITU's test network
// MCC 001 / MNC 01 (E.212 [S]), so they never collide with a real operator.
const (
	iccidPrefix    = "89882"
	iccidBodyLen   = 18 // + Luhn check digit = 19 digits
	imsiTestPLMN   = "00101"
	imsiLen        = 15
	iccidMinDigits = 19
	iccidMaxDigits = 20
)

// threeDigitMNC are MCCs whose networks use 3-digit MNCs (North America
// and neighbours, ITU-T E.212 practice [I]: the IMSI alone does not say).
var threeDigitMNC = map[string]bool{"302": true, "310": true, "311": true, "312": true, "313": true,
	"314": true, "315": true, "316": true, "334": true, "338": true, "342": true, "344": true,
	"346": true, "348": true, "354": true, "356": true, "358": true, "360": true, "365": true,
	"376": true, "405": true, "708": true, "722": true, "732": true}

// HomePLMN is the MCC+MNC of the SIM's home network.
func (id Identity) HomePLMN() string {
	if len(id.IMSI) < 6 {
		return ""
	}
	if threeDigitMNC[id.IMSI[:3]] {
		return id.IMSI[:6]
	}
	return id.IMSI[:5]
}

// FillSIM generates the SIM identity fields that are empty and reports
// whether it changed anything.
func (id *Identity) FillSIM(r io.Reader) (bool, error) {
	if r == nil {
		r = rand.Reader
	}
	filled := false
	if id.ICCID == "" {
		body, err := randomDigits(r, iccidBodyLen-len(iccidPrefix))
		if err != nil {
			return false, fmt.Errorf("generate ICCID: %w", err)
		}
		body = iccidPrefix + body
		id.ICCID = body + string(rune('0'+luhnCheckDigit(body)))
		filled = true
	}
	if id.IMSI == "" {
		msin, err := randomDigits(r, imsiLen-len(imsiTestPLMN))
		if err != nil {
			return false, fmt.Errorf("generate IMSI: %w", err)
		}
		id.IMSI = imsiTestPLMN + msin
		filled = true
	}
	return filled, nil
}

func randomDigits(r io.Reader, n int) (string, error) {
	b := make([]byte, n)
	for i := range b {
		d, err := rand.Int(r, big.NewInt(10))
		if err != nil {
			return "", err
		}
		b[i] = byte('0' + d.Int64())
	}
	return string(b), nil
}

func validateICCID(s string) error {
	if len(s) < iccidMinDigits || len(s) > iccidMaxDigits || !LuhnValid(s) {
		return fmt.Errorf("ICCID %q is not 19–20 Luhn-valid digits", s)
	}
	return nil
}

func validateIMSI(s string) error {
	if len(s) != imsiLen || !allDigits(s) {
		return fmt.Errorf("IMSI %q is not 15 digits", s)
	}
	if s[:3] == "000" {
		return fmt.Errorf("IMSI %q has no valid MCC", s)
	}
	return nil
}

// nordicTAC is the type allocation code of the IMEIs in Nordic's examples
// (352656100367872, nrf91.md §4 [T]).
const nordicTAC = "35265610"

// NewIdentity generates a fresh identity for a board of the given model.
func NewIdentity(r io.Reader, model string) (Identity, error) {
	m, err := LookupModel(model)
	if err != nil {
		return Identity{}, err
	}
	if r == nil {
		r = rand.Reader
	}
	serial, err := rand.Int(r, big.NewInt(1_000_000))
	if err != nil {
		return Identity{}, fmt.Errorf("generate IMEI: %w", err)
	}
	body := fmt.Sprintf("%s%06d", nordicTAC, serial.Int64())
	var u [16]byte
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return Identity{}, fmt.Errorf("generate device UUID: %w", err)
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	id := Identity{
		Model:      m.Name,
		IMEI:       body + string(rune('0'+luhnCheckDigit(body))),
		SVN:        "13",
		DeviceUUID: modemkey.FormatUUID(u),
		Firmware:   m.Firmware,
	}
	id.ModemUUID = FirmwareUUID(id.Firmware)
	if _, err := id.FillSIM(r); err != nil {
		return Identity{}, err
	}
	return id, nil
}

// FirmwareUUID derives a stable UUID for a firmware version string. A real
// modem firmware build carries its own UUID; the value is unknown for our
// versions [U], so it is derived by name (SHA-1, version 5 style) and can be
// overridden in the board config.
func FirmwareUUID(version string) string {
	sum := sha1.Sum([]byte("modemsim modem firmware " + version))
	var u [16]byte
	copy(u[:], sum[:16])
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return modemkey.FormatUUID(u)
}

// Validate checks an identity loaded from disk or written by hand.
func (id Identity) Validate() error {
	if _, err := LookupModel(id.Model); err != nil {
		return err
	}
	var errs []error
	if !LuhnValid(id.IMEI) || len(id.IMEI) != 15 {
		errs = append(errs, fmt.Errorf("IMEI %q is not 15 Luhn-valid digits", id.IMEI))
	}
	if len(id.SVN) != 2 || !allDigits(id.SVN) {
		errs = append(errs, fmt.Errorf("SVN %q is not 2 digits", id.SVN))
	}
	if _, err := modemkey.ParseUUID(id.DeviceUUID); err != nil {
		errs = append(errs, fmt.Errorf("device UUID: %w", err))
	}
	if _, err := modemkey.ParseUUID(id.ModemUUID); err != nil {
		errs = append(errs, fmt.Errorf("modem UUID: %w", err))
	}
	if id.Firmware == "" {
		errs = append(errs, errors.New("firmware version is empty"))
	}
	if err := validateICCID(id.ICCID); err != nil {
		errs = append(errs, err)
	}
	if err := validateIMSI(id.IMSI); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// IMEISV is the 14 IMEI digits without the check digit plus the SVN (+CGSN=2).
func (id Identity) IMEISV() string { return id.IMEI[:14] + id.SVN }

// LuhnValid reports whether s is all digits with a correct Luhn check digit.
func LuhnValid(s string) bool {
	if len(s) < 2 || !allDigits(s) {
		return false
	}
	return luhnCheckDigit(s[:len(s)-1]) == int(s[len(s)-1]-'0')
}

func luhnCheckDigit(body string) int {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return len(s) > 0
}

// firmwareAtLeast reports whether a version string like mfw_nrf91x1_2.0.2
// is at least major.minor.
func firmwareAtLeast(fw string, major, minor int) bool {
	m := firmwareVersion.FindStringSubmatch(fw)
	if m == nil {
		return false
	}
	var a, b int
	fmt.Sscanf(m[1], "%d", &a)
	fmt.Sscanf(m[2], "%d", &b)
	return a > major || a == major && b >= minor
}

// firmwareVersion matches the x.y.z that nRF Cloud utils requires in +CGMR,
// bounded by '_' or '-' (nrf91.md §6 [S]).
var firmwareVersion = regexp.MustCompile(`[_-](\d+)\.(\d+)\.(\d+)(?:[_-]|$)`)

// shortSWVersion is the %SHORTSWVER form of a firmware version:
// mfw_nrf91x1_2.0.2 → nrf91x1_2.0.2 (nrf91.md §4 [T]).
func shortSWVersion(fw string) string { return strings.TrimPrefix(fw, "mfw_") }
