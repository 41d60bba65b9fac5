package atclient

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
)

type oneLineModem struct{}

func (oneLineModem) Handle(_ context.Context, cmd atparser.Command) atparser.Response {
	if cmd.Name == "+CGMI" {
		return atparser.OK("Nordic Semiconductor ASA")
	}
	return atparser.CMEError(513)
}

func TestPersonaFraming(t *testing.T) {
	fw, err := New(oneLineModem{}, Config{Terminator: "cr"})
	require.NoError(t, err)
	h := fw.Dialect().Handler
	tests := []struct{ line, want string }{
		// at_client writes the modem's answer as it is: no echo, no blank line.
		{"AT+CGMI", "Nordic Semiconductor ASA\r\nOK\r\n"},
		{"AT%CMNG=3,1,0", "+CME ERROR: 513\r\n"},
		{"at AT+CGSN", "ERROR\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			got := h.Handle(context.Background(), atparser.Frame{Line: []byte(tc.line)})
			assert.Equal(t, tc.want, string(got.Out))
			assert.Nil(t, got.Then)
		})
	}
}

func TestTerminatorChoice(t *testing.T) {
	tests := []struct {
		term    string
		in      string
		frames  int
		wantErr bool
	}{
		{"", "AT\rAT\n", 2, false},
		{"cr", "AT\rAT\n", 1, false},
		{"lf", "AT\rAT\n", 1, false},
		{"crlf", "AT\r\nAT\n", 1, false},
		{"nul", "AT\x00", 1, false},
		{"semicolon", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.term, func(t *testing.T) {
			fw, err := New(oneLineModem{}, Config{Terminator: tc.term})
			if tc.wantErr {
				require.ErrorContains(t, err, "want any, cr, lf, crlf or nul")
				return
			}
			require.NoError(t, err)
			d := fw.Dialect().Discipline
			frames := 0
			for p := []byte(tc.in); len(p) > 0; {
				n, echo, _, ok := d.Scan(p)
				assert.Nil(t, echo, "at_client never echoes")
				p = p[n:]
				if ok {
					frames++
				}
			}
			assert.Equal(t, tc.frames, frames)
		})
	}
}

func TestQuoteIdleResetSetting(t *testing.T) {
	fw, err := New(oneLineModem{}, Config{QuoteIdleReset: &firmware.Duration{Duration: 0}})
	require.NoError(t, err)
	d := fw.Dialect().Discipline
	d.Scan([]byte(`AT+X="open`))
	assert.Zero(t, d.IdleReset(), "0s keeps the firmware's hang")

	fw, err = New(oneLineModem{}, Config{})
	require.NoError(t, err)
	d = fw.Dialect().Discipline
	assert.Zero(t, d.IdleReset(), "nothing pending")
	d.Scan([]byte(`AT+X="open`))
	assert.Equal(t, time.Second, d.IdleReset())
	assert.True(t, d.Reset())
	assert.False(t, d.Reset())
}

type recConsole struct {
	out  []byte
	urcs []string
}

func (c *recConsole) Write(p []byte) error { c.out = append(c.out, p...); return nil }
func (c *recConsole) Notify(l string)      { c.urcs = append(c.urcs, l) }

func TestBootAndURCs(t *testing.T) {
	fw, err := New(oneLineModem{}, Config{})
	require.NoError(t, err)
	fw.ModemURC("+CEREG: 2") // before boot: nobody to tell
	con := &recConsole{}
	require.NoError(t, fw.Boot(con))
	fw.ModemURC("+CEREG: 1")
	require.NoError(t, fw.Close())
	fw.ModemURC("+CEREG: 0") // after close: gone
	assert.Equal(t, "The AT host sample started\r\nReady\r\n", string(con.out))
	assert.Equal(t, []string{"+CEREG: 1"}, con.urcs)
}
