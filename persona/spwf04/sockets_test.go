package spwf04

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/netstack"
)

// echoServer echoes one connection on loopback and closes after it.
func echoServer(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 5)
		if _, err := io.ReadFull(c, buf); err == nil {
			_, _ = c.Write(buf)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

func loopbackNetwork(creds netstack.CredentialSource, clock func() time.Time) (*netstack.Stack, error) {
	return netstack.New(netstack.NewEmulatorResolver(netstack.Endpoint{}), creds, netstack.WithClock(clock)), nil
}

func TestSockets(t *testing.T) {
	port := strconv.Itoa(echoServer(t))
	m, err := New(Hardware{Flash: newMemFlash(), MAC: testMAC, AP: testAP, Network: loopbackNetwork}, Config{})
	require.NoError(t, err)
	h := start(t, m)
	h.exchange(t, "AT+S.SOCKON=127.0.0.1,"+port+",,t", "AT-S.ERROR:60:IP not ready to send\r\n")
	h.exchange(t, "AT+S.SSIDTXT=lab", okLine)
	h.exchange(t, "AT+S.SCFG=wifi_wpa_psk_text,secret-key", okLine)
	h.send(t, "AT+S.WIFI=1\r")
	h.readUntil(t, "+WIND:24:WiFi Up:0:192.168.1.5\r\n")

	h.exchange(t, "AT+S.SOCKON=127.0.0.1,"+port+",NULL,t", "AT-S.On:127.0.0.1:0\r\n"+okLine)
	h.send(t, "AT+S.SOCKW=0,5\rhello")
	h.expect(t, "AT+S.SOCKW=0,5\r\n"+okLine+"+WIND:55:Pending Data::0:5:5\r\n")
	h.readUntil(t, "+WIND:58:Socket Closed:0:0\r\n") // the server closes after its echo
	h.exchange(t, "AT+S.SOCKQ=0", "AT-S.Query:5\r\n"+okLine)
	h.exchange(t, "AT+S.SOCKC=0", "AT-S.ERROR:77:Pending data\r\n")
	h.exchange(t, "AT+S.SOCKR=0,2", "AT-S.Reading:2:5\r\nhe"+okLine)
	h.exchange(t, "AT+S.SOCKR=0", "AT-S.Reading:3:3\r\nllo"+okLine)
	h.send(t, "AT+S.SOCKW=0,1\rx")
	h.expect(t, "AT+S.SOCKW=0,1\r\nAT-S.ERROR:72:Closed socket\r\n")
	h.exchange(t, "AT+S.SOCKC=0", okLine)
	h.exchange(t, "AT+S.SOCKQ=0", "AT-S.ERROR:76:Illegal Socket ID\r\n")
	h.exchange(t, "AT+S.SOCKON=127.0.0.1,"+port+",,u", "AT-S.ERROR:74:Failed to open socket\r\n")
}
