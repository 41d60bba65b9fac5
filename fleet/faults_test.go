package fleet

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const faultBoards = "\nboards: [{name: a}]\n"

func TestParseFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		yaml string
		want *Faults
	}{
		{"none", "", nil},
		{"empty section keeps defaults", "faults: {}", &Faults{Line: 1, CMEError: DefaultCMEError, RegainAfter: DefaultRegainAfter}},
		{"every key", "faults:\n  seed: -7\n  latency: 20ms\n  drop_rate: 0.02\n  baud: 115200\n  cme_error_rate: 1\n  cme_error: 514\n  registration_loss_rate: 0.5\n  regain_after: 1.5s",
			&Faults{Seed: -7, HasSeed: true, Latency: 20 * time.Millisecond, DropRate: 0.02, Baud: 115200, CMEErrorRate: 1, CMEError: 514,
				RegistrationLossRate: 0.5, RegainAfter: 1500 * time.Millisecond, Line: 2}},
		{"baud 0 is unpaced", "faults: {baud: 0}", &Faults{Line: 1, CMEError: DefaultCMEError, RegainAfter: DefaultRegainAfter}},
		{"rate 0 as an integer", "faults: {drop_rate: 0}", &Faults{Line: 1, CMEError: DefaultCMEError, RegainAfter: DefaultRegainAfter}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse([]byte(tc.yaml+faultBoards), "")
			require.NoError(t, err)
			assert.Equal(t, tc.want, f.Faults)
			assert.Len(t, f.Boards, 1)
		})
	}
}

func TestParseFaultsErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown key", "faults: {latncy: 1s}", "line 1: faults.latncy: unknown key (want one of seed, latency, drop_rate, baud, cme_error_rate, cme_error, registration_loss_rate, regain_after)"},
		{"not a mapping", "faults: [1]", "line 1: faults: must be a mapping of keys to values"},
		{"duration without unit", "faults: {latency: 20}", `line 1: faults.latency: must be a string`},
		{"bad duration", "faults: {latency: \"20 ms\"}", `line 1: faults.latency: "20 ms" is not a duration (write it like 20ms or 1.5s)`},
		{"negative latency", "faults: {latency: -1s}", "line 1: faults.latency: -1s is out of range (0s to 10s)"},
		{"latency too long", "faults: {latency: 1m}", "line 1: faults.latency: 1m0s is out of range (0s to 10s)"},
		{"rate above 1", "faults: {drop_rate: 1.5}", `line 1: faults.drop_rate: must be a fraction from 0 to 1, e.g. 0.05 for 5%, not "1.5"`},
		{"rate as percent", "faults: {cme_error_rate: 5%}", `line 1: faults.cme_error_rate: must be a fraction from 0 to 1, e.g. 0.05 for 5%, not "5%"`},
		{"rate NaN", "faults: {registration_loss_rate: .nan}", `line 1: faults.registration_loss_rate: must be a fraction from 0 to 1, e.g. 0.05 for 5%, not ".nan"`},
		{"odd baud", "faults: {baud: 115201}", "line 1: faults.baud: 115201 is not a rate the nRF91 UART runs at"},
		{"baud as string", "faults: {baud: fast}", "line 1: faults.baud: must be an integer"},
		{"code out of range", "faults: {cme_error: 70000}", "line 1: faults.cme_error: 70000 is not a +CME ERROR code (0–65535)"},
		{"regain never", "faults: {regain_after: 0s}", "line 1: faults.regain_after: must be more than 0s"},
		{"seed not integer", "faults: {seed: x}", "line 1: faults.seed: must be an integer"},
		{"key twice", "faults:\n  baud: 9600\n  baud: 9600", "line 3: faults.baud: the key is given twice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml+faultBoards), "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var fe *Error
			assert.True(t, errors.As(err, &fe))
		})
	}
}

func TestFaultsAny(t *testing.T) {
	assert.False(t, (*Faults)(nil).Any())
	assert.False(t, (&Faults{CMEError: 528, RegainAfter: time.Second, Seed: 3}).Any())
	assert.True(t, (&Faults{Baud: 9600}).Any())
	assert.True(t, (&Faults{RegistrationLossRate: 0.1}).Any())
}

// FuzzFaults: the faults: section is outside input. Parse never panics, and
// what it accepts is in range.
func FuzzFaults(f *testing.F) {
	for _, seed := range []string{
		"faults: {}",
		"faults: {seed: 1, latency: 20ms, drop_rate: 0.1, baud: 9600, cme_error_rate: 0.5, cme_error: 528, registration_loss_rate: 1, regain_after: 1s}",
		"faults: {latency: 1e3h}",
		"faults: {drop_rate: -0}",
		"faults: {drop_rate: 0x1}",
		"faults: {baud: 1_200}",
		"faults: {regain_after: 9223372036854775807ns}",
		"faults: [{}]",
		"faults: null",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parse(append(data, faultBoards...), "", "", fuzzMaxBoards)
		if err != nil {
			return
		}
		ff := file.Faults
		if ff == nil {
			return
		}
		for _, r := range []float64{ff.DropRate, ff.CMEErrorRate, ff.RegistrationLossRate} {
			require.True(t, r >= 0 && r <= 1, "rate %v", r)
		}
		require.True(t, ff.Latency >= 0 && ff.Latency <= maxFaultLatency)
		require.True(t, ff.RegainAfter > 0 && ff.RegainAfter <= maxRegainAfter)
		require.True(t, ff.Baud == 0 || ff.Baud >= 1200)
		require.True(t, ff.CMEError >= 0 && ff.CMEError <= 65535)
	})
}

func TestLoadFaultsExample(t *testing.T) {
	f, err := Load("testdata/load-faults.yaml")
	require.NoError(t, err)
	require.Len(t, f.Boards, 200)
	assert.Equal(t, "line-0001", f.Boards[0].Name)
	assert.Equal(t, &Faults{Seed: 42, HasSeed: true, Latency: 20 * time.Millisecond, DropRate: 0.02, Baud: 115200,
		CMEErrorRate: 0.05, CMEError: DefaultCMEError, RegistrationLossRate: 0.1, RegainAfter: 500 * time.Millisecond, Line: 3}, f.Faults)
}
