package fleet

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/nrf91modem"
)

// fuzzMaxBoards keeps each input fast: a count near MaxBoards takes most
// of a second to expand, which stalls the fuzzer, and the code paths are
// the same with a lower bound.
const fuzzMaxBoards = 500

// FuzzParse: a fleet file is outside input. Parse never panics, every
// error is a *Error, and a file it accepts holds what the package promises.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("testdata/fleet.yaml")
	require.NoError(f, err)
	f.Add(example)
	for _, seed := range []string{
		"boards: [{name: a}]",
		"boards:\n  - {name: \"f{{seq:3}}\", count: 5, link: \"tty{{index}}\", hardware: {imei: \"35265610{{seq:6}}\"}}",
		"defaults: {hardware: {model: nrf9160}, credentials: [{tag: 1, type: PSK, pem: x}]}\nboards: [{name: a, credentials: [{tag: 1, type: 3, pem: y}]}]",
		"boards: [{name: a, count: 0}]",
		"boards: [{name: \"a{{seq:1}}\", count: 11}]",
		"a: &x [*x]",
		"boards: [{name: a, hardware: {imei: 352656100367872}}]",
		"boards: [{name: a, transcript: \"{{name}}.log\", transcript_tail: 10}]",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := parse(data, dir, "", fuzzMaxBoards)
		if err != nil {
			var fe *Error
			assert.True(t, errors.As(err, &fe), "%v is not a *fleet.Error", err)
			return
		}
		require.NotEmpty(t, file.Boards)
		require.LessOrEqual(t, len(file.Boards), fuzzMaxBoards)
		names := map[string]bool{}
		for _, b := range file.Boards {
			require.Regexp(t, boardName, b.Name)
			require.False(t, names[b.Name], "name %q twice", b.Name)
			names[b.Name] = true
			if imei, ok := b.Hardware["imei"]; ok && imei != nil {
				s, isString := imei.(string)
				require.True(t, isString, "imei %v", imei)
				require.Len(t, s, 15)
				require.True(t, nrf91modem.LuhnValid(s), s)
			}
			for _, c := range b.Credentials {
				require.NotEmpty(t, c.Content)
				require.True(t, (c.File == "") != (c.PEM == ""), "file %q pem %q", c.File, c.PEM)
			}
		}
	})
}
