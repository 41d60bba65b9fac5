package atclient

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/modemsim/modemsim/atparser"
)

type oneLineModem struct{}

func (oneLineModem) Handle(_ context.Context, cmd atparser.Command) atparser.Response {
	if cmd.Name == "+CGMI" {
		return atparser.OK("Nordic Semiconductor ASA")
	}
	return atparser.CMEError(513)
}

func TestPersonaFraming(t *testing.T) {
	h, opts := Persona(oneLineModem{}, atparser.TermCR)
	assert.Len(t, opts, 2)
	tests := []struct{ line, want string }{
		// at_client writes the modem's answer as it is: no echo, no blank line.
		{"AT+CGMI", "Nordic Semiconductor ASA\r\nOK\r\n"},
		{"AT%CMNG=3,1,0", "+CME ERROR: 513\r\n"},
		{"at AT+CGSN", "ERROR\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			got := h.HandleLine(context.Background(), atparser.Frame{Line: []byte(tc.line)})
			assert.Equal(t, tc.want, string(got))
		})
	}
}

func TestBanner(t *testing.T) {
	assert.Equal(t, "The AT host sample started\r\nReady\r\n", string(BannerBytes()))
}
