package spwf04

import (
	"encoding/pem"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/firmware"
)

const okLine = "AT-S.OK\r\n"

func TestCommands(t *testing.T) {
	tests := []struct{ name, cmd, want string }{
		{"null command", "AT", okLine},
		{"case-insensitive", "at+s.gcfg=console_echo", "AT-S.Var:console_echo=1\r\n" + okLine},
		{"unknown command", "AT+S.NOPE", "AT-S.ERROR:1:Command not found\r\n"},
		{"not AT", "hello", "AT-S.ERROR:1:Command not found\r\n"},
		{"unknown variable", "AT+S.SCFG=no_such_var,1", "AT-S.ERROR:4:Variable not found\r\n"},
		{"GCFG unknown variable", "AT+S.GCFG=no_such_var", "AT-S.ERROR:4:Variable not found\r\n"},
		{"SCFG missing value", "AT+S.SCFG=console_echo", "AT-S.ERROR:2:Missing argument(s)\r\n"},
		{"SCFG not a number", "AT+S.SCFG=blink_led,x", "AT-S.ERROR:7:Invalid argument(s)\r\n"},
		{"too many fields", "AT+S.SCFG=blink_led,1,2", "AT-S.ERROR:6:Too many argument(s)\r\n"},
		{"hex mask normalized", "AT+S.SCFG=console_wind_off_high,1048576", okLine},
		{"TLSCERT list empty", "AT+S.TLSCERT=content,1", "AT-S.List\r\nAT-S.CA:0\r\nAT-S.Cert:0\r\nAT-S.Key:0\r\nAT-S.Id:0\r\n" + okLine},
		{"TLSCERT bad option", "AT+S.TLSCERT=content,3", "AT-S.ERROR:7:Invalid argument(s)\r\n"},
		{"TLSCERT bad item", "AT+S.TLSCERT=crl,10", "AT-S.ERROR:7:Invalid argument(s)\r\n"},
		{"TLSCERT zero", "AT+S.TLSCERT=ca,0", "AT-S.ERROR:33:Argument evaluated to zero\r\n"},
		{"TLSCERT too long", "AT+S.TLSCERT=ca,999999", "AT-S.ERROR:32:Argument exceeds allowed size\r\n"},
		{"TLSCERT NULL length", "AT+S.TLSCERT=ca,NULL", "AT-S.ERROR:2:Missing argument(s)\r\n"},
		{"FSD missing file", "AT+S.FSD=nope", "AT-S.ERROR:56:Unable to delete file\r\n"},
		{"FSR missing file", "AT+S.FSR=nope,x", "AT-S.ERROR:55:Unable to rename file\r\n"},
		{"MQTTSUB not connected", "AT+S.MQTTSUB=0,t,0", "AT-S.ERROR:78:Socket not connected\r\n"},
		{"FSP missing file", "AT+S.FSP=nope", "AT-S.ERROR:51:Unable to open file\r\n"},
		{"FSL empty", "AT+S.FSL", okLine},
		{"MQTTPUB bad QoS", "AT+S.MQTTPUB=0,t,7,,3", "AT-S.ERROR:7:Invalid argument(s)\r\n"},
		{"MQTTDISC wrong id", "AT+S.MQTTDISC=1", "AT-S.ERROR:76:Illegal Socket ID\r\n"},
		{"MQTTCONN before Wi-Fi", "AT+S.MQTTCONN=h.azure-devices.net,8883,,2,u,p,d,,,,,", "AT-S.ERROR:60:IP not ready to send\r\n"},
		{"MQTTCONN missing port", "AT+S.MQTTCONN=h.azure-devices.net", "AT-S.ERROR:2:Missing argument(s)\r\n"},
		{"MQTTCONN thirteen fields", "AT+S.MQTTCONN=h,1,,2,,,,,,,,,x", "AT-S.ERROR:6:Too many argument(s)\r\n"},
		{"TIME set", "AT+S.TIME=1522072800", okLine},
		{"TIME bad", "AT+S.TIME=yesterday", "AT-S.ERROR:7:Invalid argument(s)\r\n"},
		{"legacy alias", "AT&W", okLine},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, newTestModule(t, newMemFlash(), Config{}))
			h.exchange(t, tc.cmd, tc.want)
		})
	}
}

func TestLongLineIsRefused(t *testing.T) {
	h := start(t, newTestModule(t, newMemFlash(), Config{MaxLine: 8}))
	h.send(t, "AT+S.GCFG=console_echo\r")
	h.expect(t, "AT+S.GCF\r\nAT-S.ERROR:32:Argument exceeds allowed size\r\n")
}

func TestEchoOffAndPersistence(t *testing.T) {
	flash := newMemFlash()
	h := start(t, newTestModule(t, flash, Config{}))
	h.exchange(t, "AT+S.SCFG=console_echo,0", okLine)
	h.send(t, "AT+S.GCFG=console_echo\r")
	h.expect(t, "AT-S.Var:console_echo=0\r\n"+okLine)
	h.send(t, "AT+S.WCFG\r")
	h.expect(t, okLine)
	assert.Equal(t, "0", flash.saved["console_echo"])

	// A new boot on the same flash keeps echo off; FCFG brings it back.
	h2 := start(t, newTestModule(t, flash, Config{}))
	h2.send(t, "AT+S.FCFG\r")
	h2.expect(t, okLine)
	h2.exchange(t, "AT+S.GCFG=console_echo", "AT-S.Var:console_echo=1\r\n"+okLine)
	assert.Nil(t, flash.saved)
}

func TestResetDropsUnsavedVariables(t *testing.T) {
	h := start(t, newTestModule(t, newMemFlash(), Config{}))
	h.exchange(t, "AT+S.SCFG=blink_led,1", okLine)
	h.exchange(t, "AT+S.RESET", okLine+"+WIND:2:Reset\r\n"+bannerText)
	h.exchange(t, "AT+S.GCFG=blink_led", "AT-S.Var:blink_led=0\r\n"+okLine)
}

func TestWindMasks(t *testing.T) {
	tests := []struct {
		n                 Wind
		low, medium, high uint32
		masked            bool
	}{
		{WindConsoleActive, 1, 0, 0, true},
		{WindConsoleActive, 2, 0, 0, false},
		{WindHardwareStarted, 0, 1, 0, true},
		{63, 0, 0x80000000, 0, true},
		{84, 0, 0, 0x00100000, true},
		{WindMQTTPublished, 0, 0, 0x00100000, false},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.masked, windMasked(tc.n, tc.low, tc.medium, tc.high), "WIND %d", tc.n)
	}
}

func TestMaskedWindIsNotPrinted(t *testing.T) {
	h := start(t, newTestModule(t, newMemFlash(), Config{}))
	// Hide 32 (medium bit 0): WIFI=1 then prints only the association.
	h.exchange(t, "AT+S.SCFG=console_wind_off_medium,0x1", okLine)
	h.exchange(t, "AT+S.GCFG=console_wind_off_medium", "AT-S.Var:console_wind_off_medium=0x00000001\r\n"+okLine)
	h.exchange(t, "AT+S.WIFI=1", okLine)
	h.exchange(t, "AT", okLine)
}

func TestAssociation(t *testing.T) {
	tests := []struct{ name, key, want string }{
		{"right key", "secret-key", "+WIND:21:WiFi Scanning\r\n+WIND:35:WiFi Scan Complete:00\r\n" +
			"+WIND:19:WiFi Join:98:DE:D0:EA:4C:62\r\n+WIND:25:WiFi Association Successful:lab\r\n" +
			"+WIND:51:WPA Handshake Complete\r\n+WIND:24:WiFi Up::fe80::280:e1ff:fe01:203\r\n+WIND:24:WiFi Up:0:192.168.1.5\r\n"},
		{"wrong key", "wrong", "+WIND:21:WiFi Scanning\r\n+WIND:35:WiFi Scan Complete:00\r\n" +
			"+WIND:19:WiFi Join:98:DE:D0:EA:4C:62\r\n+WIND:25:WiFi Association Successful:lab\r\n" +
			"+WIND:40:WiFi Deauthentication:15\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := start(t, newTestModule(t, newMemFlash(), Config{JoinRetry: durationOf(time.Hour)}))
			h.exchange(t, "AT+S.WIFI=0", okLine+"+WIND:49:WPA Terminated:0\r\n+WIND:38:WiFi Powered Down\r\n")
			h.exchange(t, "AT+S.SSIDTXT=lab", okLine)
			h.exchange(t, "AT+S.SCFG=wifi_wpa_psk_text,"+tc.key, okLine)
			h.exchange(t, "AT+S.WIFI=1", okLine+"+WIND:32:WiFi Hardware Started\r\n"+tc.want)
		})
	}
}

func durationOf(d time.Duration) firmware.Duration { return firmware.Duration{Duration: d} }

func itoa(n int) string { return strconv.Itoa(n) }

func TestPayloadCutShort(t *testing.T) {
	h := start(t, newTestModule(t, newMemFlash(), Config{PayloadTimeout: durationOf(50 * time.Millisecond)}))
	h.send(t, "AT+S.FSC=f.txt,10\rabc")
	h.expect(t, "AT+S.FSC=f.txt,10\r\nAT-S.ERROR:79:Write failed\r\n")
	h.exchange(t, "AT+S.FSL", okLine) // nothing was written
}

func TestFileSystem(t *testing.T) {
	h := start(t, newTestModule(t, newMemFlash(), Config{FSCapacity: 16}))
	h.send(t, "AT+S.FSC=a.txt,5\rhe\r\nx")
	h.expect(t, "AT+S.FSC=a.txt,5\r\n"+okLine)
	h.send(t, "AT+S.FSA=a.txt,2\r!!")
	h.expect(t, "AT+S.FSA=a.txt,2\r\n"+okLine)
	h.exchange(t, "AT+S.FSL", "AT-S.File:7:a.txt\r\n"+okLine)
	h.exchange(t, "AT+S.FSP=a.txt,1,3", "AT-S.Reading:3:7\r\ne\r\n"+okLine)
	h.exchange(t, "AT+S.FSR=a.txt,b.txt", okLine)
	h.send(t, "AT+S.FSC=c.txt,10\r0123456789")
	h.expect(t, "AT+S.FSC=c.txt,10\r\nAT-S.ERROR:101:Failed to write flash\r\n") // 7 + 10 > 16
	h.exchange(t, "AT+S.FSD=b.txt", okLine)
	h.exchange(t, "AT+S.FSL", okLine)
}

func TestTLSCertDERPrintsSubjectKeyID(t *testing.T) {
	pemBytes, err := os.ReadFile("../../netstack/testdata/Baltimore_CyberTrust_Root.pem")
	require.NoError(t, err)
	blk, _ := pem.Decode(pemBytes)
	require.NotNil(t, blk)
	require.Len(t, blk.Bytes, 891, "the forum's ca,891")

	flash := newMemFlash()
	h := start(t, newTestModule(t, flash, Config{}))
	h.exchange(t, "AT+S.TLSCERT=content,2", okLine)
	h.send(t, "AT+S.TLSCERT=ca,891\r"+string(blk.Bytes))
	h.expect(t, "AT+S.TLSCERT=ca,891\r\nAT-S.SubjectKeyId:E5:9D:59:30:82:47:58:CC:AC:FA:08:54:36:86:7B:3A:B5:04:4D:F0\r\n"+okLine)
	h.exchange(t, "AT+S.TLSCERT=content,1", "AT-S.List\r\nAT-S.CA:1\r\nAT-S.Cert:0\r\nAT-S.Key:0\r\nAT-S.Id:1\r\n"+okLine)

	// PEM: no key id line; odd DER: stored, no line (spwf04.md case B).
	h.send(t, "AT+S.TLSCERT=content,2\r")
	h.expect(t, "AT+S.TLSCERT=content,2\r\n"+okLine)
	h.send(t, "AT+S.TLSCERT=ca,"+itoa(len(pemBytes))+"\r"+string(pemBytes))
	h.expect(t, "AT+S.TLSCERT=ca,"+itoa(len(pemBytes))+"\r\n"+okLine)
	h.send(t, "AT+S.TLSCERT=ca,4\r\x30\x03\x02\x01")
	h.expect(t, "AT+S.TLSCERT=ca,4\r\n"+okLine)
	h.exchange(t, "AT+S.TLSCERT=content,1", "AT-S.List\r\nAT-S.CA:1\r\nAT-S.Cert:0\r\nAT-S.Key:0\r\nAT-S.Id:0\r\n"+okLine)
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		line string
		want request
		ok   bool
	}{
		{"AT", request{}, true},
		{"at+s.sockon=h,1,NULL,t", request{name: "SOCKON", args: []string{"h", "1", "", "t"}}, true},
		{"AT+S.MQTTCONN=h,443,,2,u,SharedAccessSignature sr=x&sig=y,d,,,,,",
			request{name: "MQTTCONN", args: []string{"h", "443", "", "2", "u", "SharedAccessSignature sr=x&sig=y", "d", "", "", "", "", ""}}, true},
		{"AT+S.", request{}, false},
		{"ATI", request{}, false},
	}
	for _, tc := range tests {
		got, ok := parseRequest(tc.line)
		assert.Equal(t, tc.ok, ok, tc.line)
		if ok {
			assert.Equal(t, tc.want, got, tc.line)
		}
	}
}

func TestErrorTable(t *testing.T) {
	assert.Equal(t, "AT-S.ERROR:111:Request failed", ErrRequestFailed.Line())
	for c := range errFirstUnusedNumber {
		if c.Known() {
			assert.NotEmpty(t, c.Text())
			assert.False(t, strings.Contains(c.Text(), "\r"))
		}
	}
	for _, placeholder := range []Code{0, 14, 15, 34, 37, 38, 46} {
		assert.False(t, placeholder.Known(), "%d is not an error code", placeholder)
	}
}

func TestPayloadDropLF(t *testing.T) {
	flash := newMemFlash()
	h := start(t, newTestModule(t, flash, Config{PayloadDropLF: true}))
	h.send(t, "AT+S.FSC=a,3\r\nabc")
	h.expect(t, "AT+S.FSC=a,3\r\n"+okLine)
	h.send(t, "AT+S.FSC=b,3\rxyz")
	h.expect(t, "AT+S.FSC=b,3\r\n"+okLine)
	assert.Equal(t, "abc", string(flash.files["a"]))
	assert.Equal(t, "xyz", string(flash.files["b"]))
}

func TestTLSStoreSurvivesReset(t *testing.T) {
	h := start(t, newTestModule(t, newMemFlash(), Config{}))
	h.send(t, "AT+S.TLSCERT=key,3\rkey")
	h.expect(t, "AT+S.TLSCERT=key,3\r\n"+okLine)
	h.exchange(t, "AT+S.RESET", okLine+"+WIND:2:Reset\r\n"+bannerText)
	h.exchange(t, "AT+S.TLSCERT=content,1", "AT-S.List\r\nAT-S.CA:0\r\nAT-S.Cert:0\r\nAT-S.Key:1\r\nAT-S.Id:0\r\n"+okLine)
}

func TestPayloadReadBeforeTheError(t *testing.T) {
	tests := []struct{ cmd, payload, want string }{
		{"AT+S.MQTTPUB=0,t,,,3", "abc", "AT-S.ERROR:78:Socket not connected\r\n"},
		{"AT+S.MQTTPUB=1,t,,,3", "abc", "AT-S.ERROR:76:Illegal Socket ID\r\n"},
		{"AT+S.FSA=nope,3", "abc", "AT-S.ERROR:51:Unable to open file\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			h := start(t, newTestModule(t, newMemFlash(), Config{}))
			h.send(t, tc.cmd+"\r"+tc.payload)
			h.expect(t, tc.cmd+"\r\n"+tc.want)
			h.exchange(t, "AT", okLine) // the payload ran as no command
		})
	}
}
