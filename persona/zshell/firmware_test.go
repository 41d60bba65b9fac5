package zshell

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/firmware"
)

// console records what a firmware writes and notifies.
type console struct {
	mu    sync.Mutex
	out   strings.Builder
	lines []string
}

func (c *console) Write(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out.Write(p)
	return nil
}

func (c *console) Notify(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lines = append(c.lines, line)
}

func (c *console) notified() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// fakeModem answers AT+CGSN with an IMEI and everything else ERROR.
type fakeModem struct{}

func (fakeModem) Handle(_ context.Context, cmd atparser.Command) atparser.Response {
	if cmd.Name == "+CGSN" {
		return atparser.Response{Lines: []string{"352656100367872"}, Final: atparser.FinalOK}
	}
	return atparser.Error()
}

func TestATShell(t *testing.T) {
	no := false
	f, err := New(Options{Config: Config{Colors: &no}}, Hardware{Modem: fakeModem{}})
	require.NoError(t, err)
	con := &console{}
	require.NoError(t, f.Boot(con))
	assert.Equal(t, DefaultBanner+"\r\n"+prompt, con.out.String())
	tests := []struct{ line, want string }{
		// nrf_modem_at_cmd's answer keeps its CRLFs, which the shell's
		// CRLF translation turns into CR CR LF, then shell_print's newline.
		{"at AT+CGSN", "at AT+CGSN\r\n352656100367872\r\r\nOK\r\r\n\r\n" + prompt},
		{"at AT+NOPE", "at AT+NOPE\r\nERROR\r\r\n\r\n" + prompt},
		{"at events_enable", "at events_enable\r\nAT command event handler enabled\r\n" + prompt},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, drive(t, f.shell, tc.line+"\r"), tc.line)
	}
	f.ModemURC("+CEREG: 1")
	assert.Equal(t, []string{"AT event handler:\n+CEREG: 1\r\n"}, con.notified())
	assert.Contains(t, drive(t, f.shell, "at\r"), "Usage: at <subcommand>\r\n")
}

func TestWiFiConnectEvents(t *testing.T) {
	no := false
	d := firmwareDuration(time.Millisecond)
	ap := AccessPoint{SSID: "lab", Passphrase: "secret123", Security: WiFiSecurityPSK, Channel: 6, Band: "2.4GHz", RSSI: -40}
	f, err := New(Options{Config: Config{Colors: &no}, AssociationTime: d}, Hardware{WiFi: true, Networks: []AccessPoint{ap}})
	require.NoError(t, err)
	con := &console{}
	require.NoError(t, f.Boot(con))
	tests := []struct{ line, event string }{
		{"wifi connect -s lab -p wrong -k 1", "\x1b[1;33mConnection request failed (2)\x1b[m"},
		{"wifi connect -s nolab -p secret123 -k 1", "\x1b[1;33mConnection request failed (4)\x1b[m"},
		{"wifi connect --ssid=lab --passphrase secret123 -k 1", "Connected"},
	}
	for i, tc := range tests {
		assert.Contains(t, drive(t, f.shell, tc.line+"\r"), "Connection requested\r\n")
		require.Eventually(t, func() bool { return len(con.notified()) == i+1 }, 5*time.Second, time.Millisecond)
		assert.Equal(t, tc.event, con.notified()[i])
	}
	_, ok := f.WiFiConnected()
	assert.True(t, ok)
	assert.Contains(t, drive(t, f.shell, "wifi status\r"), "State: COMPLETED\r\n")
	assert.Contains(t, drive(t, f.shell, "wifi connect\r"), "connect: wrong parameter count\r\n")
	require.NoError(t, f.Close())
}

func TestLogLineFormat(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	f, err := New(Options{}, Hardware{Clock: clock})
	require.NoError(t, err)
	con := &console{}
	require.NoError(t, f.Boot(con))
	now = now.Add(7*time.Second + 508666*time.Microsecond)
	f.Log(LevelErr, "mqtt_helper", "mqtt_connect, error: -2")
	f.Log(LevelInf, "azure_iot_hub_sample", "Connected to network")
	assert.Equal(t, []string{
		"[00:00:07.508,666] \x1b[1;31m<err> mqtt_helper: mqtt_connect, error: -2\x1b[0m",
		"[00:00:07.508,666] \x1b[0m<inf> azure_iot_hub_sample: Connected to network\x1b[0m",
	}, con.notified())
}

func firmwareDuration(d time.Duration) *firmware.Duration { return &firmware.Duration{Duration: d} }
