package kconfig

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fragments quoted in the forum threads load as written, and later
// fragments win (the board overlay after prj.conf, as the build merges them).
func TestForumFragmentsLoadAsWritten(t *testing.T) {
	c, err := Load(
		filepath.Join("testdata", "nrf7002dk-azure-prj.conf"),
		filepath.Join("testdata", "nrf7002dk_nrf5340_cpuapp.conf"),
		filepath.Join("testdata", "nrf7002dk-websocket-overlay.conf"),
	)
	require.NoError(t, err)
	id, set, err := c.String("CONFIG_AZURE_IOT_HUB_DEVICE_ID")
	require.NoError(t, err)
	assert.True(t, set)
	assert.Equal(t, "deviceid", id)
	tag, _, err := c.Int("CONFIG_MQTT_HELPER_SEC_TAG")
	require.NoError(t, err)
	assert.EqualValues(t, 10, tag)
	second, _, err := c.Int("CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG")
	require.NoError(t, err)
	assert.EqualValues(t, -1, second)
	port, _, err := c.Int("CONFIG_MQTT_HELPER_PORT")
	require.NoError(t, err)
	assert.EqualValues(t, 443, port, "from the WebSocket overlay")
	ws, _, err := c.Bool("CONFIG_MQTT_LIB_WEBSOCKET")
	require.NoError(t, err)
	assert.True(t, ws)
	down, set, err := c.Bool("CONFIG_L2_WIFI_CONNECTIVITY_AUTO_DOWN")
	require.NoError(t, err)
	assert.True(t, set)
	assert.False(t, down)
	dbg, _, _ := c.Bool("CONFIG_MQTT_HELPER_LOG_LEVEL_DBG")
	assert.False(t, dbg, "commented out in the overlay")
	v, ok := c.Lookup("CONFIG_MQTT_KEEPALIVE")
	require.True(t, ok)
	assert.Equal(t, "testdata/nrf7002dk-azure-prj.conf:37", v.Where())
	assert.Empty(t, c.Overrides, "the repeated CONFIG_NET_NATIVE=y changes nothing")
}

func TestParseLines(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		sym     string
		want    Value
		wantErr string
	}{
		{"bool", "CONFIG_LOG=y", "CONFIG_LOG", Value{Raw: "y", Kind: KindBool}, ""},
		{"module", "CONFIG_X=m", "CONFIG_X", Value{Raw: "m", Kind: KindBool}, ""},
		{"not set", "# CONFIG_LOG is not set", "CONFIG_LOG", Value{Raw: "n", Kind: KindBool}, ""},
		{"comment", "# Logging", "", Value{}, ""},
		{"commented assignment", "# CONFIG_MQTT_LOG_LEVEL_DBG=y", "", Value{}, ""},
		{"blank", "", "", Value{}, ""},
		{"negative int", "CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1", "CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG", Value{Raw: "-1", Kind: KindInt}, ""},
		{"hex", "CONFIG_BASE=0x2000", "CONFIG_BASE", Value{Raw: "0x2000", Kind: KindHex}, ""},
		{"string", `CONFIG_AZURE_IOT_HUB_HOSTNAME="my-hub.azure-devices.net"`, "CONFIG_AZURE_IOT_HUB_HOSTNAME", Value{Raw: "my-hub.azure-devices.net", Kind: KindString}, ""},
		{"escapes", `CONFIG_S="a\"b\\c"`, "CONFIG_S", Value{Raw: `a"b\c`, Kind: KindString}, ""},
		{"empty string", `CONFIG_S=""`, "CONFIG_S", Value{Raw: "", Kind: KindString}, ""},
		{"spaces around", "  CONFIG_LOG = y  ", "CONFIG_LOG", Value{Raw: "y", Kind: KindBool}, ""},
		{"no equals", "CONFIG_LOG", "", Value{}, "no '='"},
		{"not a symbol", "LOG=y", "", Value{}, `"LOG" is not a CONFIG_ symbol`},
		{"bad name", "CONFIG_A-B=y", "", Value{}, "is not a CONFIG_ symbol"},
		{"trailing comment", "CONFIG_LOG=y # on", "", Value{}, "malformed value"},
		{"unterminated", `CONFIG_S="abc`, "", Value{}, "unterminated string"},
		{"after the quote", `CONFIG_S="a" b`, "", Value{}, "text after the closing quote"},
		{"bad hex", "CONFIG_B=0xZZ", "", Value{}, "malformed hex"},
		{"bare word", "CONFIG_B=yes", "", Value{}, "malformed value"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sym, v, err := parseLine(tc.in[len(tc.in)-len(trimLeft(tc.in)):])
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.sym, sym)
			assert.Equal(t, tc.want, v)
		})
	}
}

func trimLeft(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	return s
}

func TestErrorsNameFileAndLine(t *testing.T) {
	_, err := Parse("prj.conf", []byte("CONFIG_A=y\nCONFIG_B\nCONFIG_C=\"x\n"))
	var se *SyntaxError
	require.True(t, errors.As(err, &se))
	assert.Equal(t, 2, se.Line)
	assert.EqualError(t, err, "prj.conf:2: ignoring malformed line 'CONFIG_B': no '=' in an assignment\n"+
		"prj.conf:3: ignoring malformed line 'CONFIG_C=\"x': unterminated string")
}

func TestLaterFragmentsWinAndOverridesAreRecorded(t *testing.T) {
	a, err := Parse("prj.conf", []byte("CONFIG_MQTT_HELPER_SEC_TAG=10\nCONFIG_LOG=y\n"))
	require.NoError(t, err)
	b, err := Parse("overlay.conf", []byte("CONFIG_MQTT_HELPER_SEC_TAG=42\nCONFIG_LOG=y\n"))
	require.NoError(t, err)
	a.Merge(b)
	tag, _, err := a.Int("CONFIG_MQTT_HELPER_SEC_TAG")
	require.NoError(t, err)
	assert.EqualValues(t, 42, tag)
	require.Len(t, a.Overrides, 1)
	assert.Equal(t, "prj.conf:1", a.Overrides[0].Old.Where())
	assert.Equal(t, "overlay.conf:1", a.Overrides[0].New.Where())
	assert.Equal(t, []string{"CONFIG_MQTT_HELPER_SEC_TAG", "CONFIG_LOG"}, a.Names())
}

func TestTypedAccessors(t *testing.T) {
	c, err := Parse("prj.conf", []byte("CONFIG_TAG=\"10\"\nCONFIG_ON=y\nCONFIG_N=0x10\n"))
	require.NoError(t, err)
	_, _, err = c.Int("CONFIG_TAG")
	assert.EqualError(t, err, `prj.conf:1: CONFIG_TAG is string "10", not a int value`)
	_, _, err = c.String("CONFIG_ON")
	var te *TypeError
	assert.True(t, errors.As(err, &te))
	n, set, err := c.Int("CONFIG_N")
	require.NoError(t, err)
	assert.True(t, set)
	assert.EqualValues(t, 16, n)
	_, set, err = c.Bool("CONFIG_MISSING")
	assert.NoError(t, err)
	assert.False(t, set)
	assert.Equal(t, []string{"CONFIG_ON", "CONFIG_N"}, c.Unused(func(n string) bool { return n == "CONFIG_TAG" }))
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"CONFIG_LOG=y\n# CONFIG_X is not set\nCONFIG_S=\"a\\\"b\"\nCONFIG_H=0x1f\nCONFIG_I=-1\n",
		"CONFIG_", "=", "#", "CONFIG_S=\"\\", "CONFIG_A=0x", "\r\n\r\n", "CONFIG_A=y\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.conf", data)
		if err != nil {
			return
		}
		for _, n := range c.Names() {
			v, ok := c.Lookup(n)
			if !ok || !strings.HasPrefix(n, Prefix) || !validName(n[len(Prefix):]) {
				t.Fatalf("name %q listed but not valid or not found", n)
			}
			switch v.Kind {
			case KindBool:
				if _, _, err := c.Bool(n); err != nil {
					t.Fatal(err)
				}
			case KindInt, KindHex:
				if _, _, err := c.Int(n); err != nil {
					t.Fatal(err)
				}
			case KindString:
				if _, _, err := c.String(n); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
