package serialmodem

import (
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDisciplineScan(t *testing.T) {
	tests := []struct {
		name   string
		term   Terminator
		echo   bool
		in     string
		lines  []string
		echoed string
	}{
		{"CR", TermCR, false, "AT+CGMI\r", []string{"AT+CGMI"}, ""},
		{"CR leaves the LF, which is ignored", TermCR, false, "AT\r\nAT\r\n", []string{"AT", "AT"}, ""},
		{"LF", TermLF, false, "AT\rX\n", []string{"AT\rX"}, ""},
		{"CRLF trims the CR", TermCRLF, false, "AT+X\r\n", []string{"AT+X"}, ""},
		{"CRLF: a lone CR is content", TermCRLF, false, "AT\rY\r\n", []string{"AT\rY"}, ""},
		{"quotes keep CR", TermCR, false, "AT%CMNG=0,1,0,\"a\rb\"\r", []string{"AT%CMNG=0,1,0,\"a\rb\""}, ""},
		{"until AT nothing is kept", TermCR, false, "xyAaAT\r", []string{"AT"}, ""},
		{"AAT never starts", TermCR, false, "AAT\r", nil, ""},
		{"empty command dropped", TermCR, false, "\r\r", nil, ""},
		{"DEL edits", TermCR, false, "ATX\x7f\r", []string{"AT"}, ""},
		{"echo every byte", TermCR, true, "zAT\r", []string{"AT"}, "zAT\r"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var on atomic.Bool
			on.Store(tc.echo)
			d := newDiscipline(tc.term, &on)
			p := []byte(tc.in)
			var lines []string
			var echoed []byte
			for len(p) > 0 {
				n, e, fr, ok := d.Scan(p)
				p = p[n:]
				echoed = append(echoed, e...)
				if ok {
					lines = append(lines, string(fr.Line))
				}
			}
			assert.Equal(t, tc.lines, lines)
			assert.Equal(t, tc.echoed, string(echoed))
		})
	}
}

func TestDisciplineOverflow(t *testing.T) {
	var on atomic.Bool
	d := newDiscipline(TermCR, &on)
	in := []byte("AT+X=\"" + strings.Repeat("a", maxCommandLen) + "\"\rAT\r")
	_, _, fr, ok := d.Scan(in)
	assert.True(t, ok)
	assert.True(t, fr.Truncated, "past the 8 KiB buffer the command answers ERROR")
}

func TestGrammar(t *testing.T) {
	for cmd, want := range map[string]bool{
		"AT": true, "at": true, "ATE0": true, "ATE1": true, "ATE2": false, "ATZ": false,
		"AT+CFUN": true, "AT+CFUN?": true, "AT+CFUN=?": true, "AT+CFUN=": true, "AT+CFUN=1": true,
		"AT#XMQTTCON=1,\"a\"": true, "AT%CMNG=1": true, "AT+": false, "AT+C?x": false, "AT+C=?x": false,
		"AT +CGMI": false, "AT+CG-MI": false, "AT$X": false,
	} {
		assert.Equal(t, want, grammarOK(cmd), cmd)
	}
}
