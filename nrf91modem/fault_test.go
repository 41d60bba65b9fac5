package nrf91modem

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestLoseCoverageNow(t *testing.T) {
	tm := newTestModem(t, "nrf9151", netOpts(Network{RegainAfter: dur(2 * time.Millisecond)}))
	assert.False(t, tm.LoseCoverage(), "not registered: nothing to lose")
	runSteps(t, tm, []step{{"AT+CEREG=1", "OK\r\n"}, {"AT+CSCON=1", "OK\r\n"}, {"AT+CFUN=1", "OK\r\n"}})
	assert.Equal(t, []string{"+CEREG: 2", "+CSCON: 1", "+CEREG: 1"}, tm.waitURCs(t, 3))
	assert.True(t, tm.LoseCoverage())
	assert.Equal(t, []string{"+CSCON: 0", "+CEREG: 4", "+CSCON: 1", "+CEREG: 1"}, tm.waitURCs(t, 4), "lost, then back after regain_after")
	assert.True(t, tm.NetworkState().Registered)
}
