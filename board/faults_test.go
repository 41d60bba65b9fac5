package board

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/uartpace"
)

func TestFaultsPaceTheOutput(t *testing.T) {
	var paced atomic.Int64
	b := runBoard(t, Config{Faults: Faults{Baud: 9600, OnPaced: func(n int) { paced.Add(int64(n)) }}})
	s := open(t, b)
	defer s.Close()
	// AT+CGMR answers "mfw_nrf91x1_2.0.2\r\nOK\r\n": 23 bytes, ~24 ms at 9600 baud.
	start := time.Now()
	lines := exchange(t, s, "AT+CGMR")
	took := time.Since(start)
	require.Equal(t, "OK", lines[len(lines)-1])
	n := 0
	for _, l := range lines {
		n += len(l) + 2
	}
	assert.GreaterOrEqual(t, took, time.Duration(n)*uartpace.ByteTime(9600), "the answer takes the line's time")
	assert.GreaterOrEqual(t, paced.Load(), int64(n))
}

func TestFaultsAnswerInPlaceOfTheFirmware(t *testing.T) {
	var calls atomic.Int32
	b := runBoard(t, Config{Faults: Faults{Answer: func(fr atparser.Frame) (atengine.Reply, bool) {
		if calls.Add(1) != 1 {
			return atengine.Reply{}, false
		}
		return atengine.Answer([]byte("+CME ERROR: 528\r\n")), true
	}}})
	s := open(t, b)
	defer s.Close()
	assert.Equal(t, []string{"+CME ERROR: 528"}, exchange(t, s, "AT+CFUN=4"), "the first command is answered by the fault")
	assert.Equal(t, []string{"OK"}, exchange(t, s, "AT+CFUN=4"), "the next one reaches the modem")
	require.NoError(t, b.Reboot())
	lines := exchange(t, s, "AT+CFUN?") // after the banner of the reboot
	assert.Equal(t, []string{"+CFUN: 0", "OK"}, lines[len(lines)-2:], "the fault stays across a reboot, the answer is the modem's")
	assert.Equal(t, int32(3), calls.Load())
}
