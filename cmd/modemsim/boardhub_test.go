package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
)

var ptyLine = regexp.MustCompile(` on (/dev/pts/\d+)`)

// `modemsim run --persona serial_modem --hub <admin>`: the board reads the
// running hub's addresses and roots from its admin API, connects with the
// real DigiCert G2 PEM in its sec tag, and its telemetry shows through the
// admin API (what `modemsim hub monitor` reads).
func TestRunSerialModemAgainstRunningHub(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, filepath.Join(dir, "hubstate"), filepath.Join(dir, "pki"))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	admin := hubadmin.NewClient(s.admin, nil)
	_, err := admin.CreateDevice(ctx, "dev1", hubadmin.DeviceRequest{Auth: "sas"})
	require.NoError(t, err)
	tok, err := admin.SASToken(ctx, "dev1", time.Hour)
	require.NoError(t, err)
	tele := make(chan hubadmin.TelemetryEvent, 4)
	go func() {
		_ = admin.Telemetry(ctx, "dev1", func(ev hubadmin.TelemetryEvent) error { tele <- ev; return nil })
	}()

	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"run", "--persona", "serial_modem", "--state", filepath.Join(dir, "boards"), "--link", "-", "--hub", s.admin}, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	sc := bufio.NewScanner(pr)
	var ptyPath, hubLine string
	for ptyPath == "" || hubLine == "" {
		require.True(t, sc.Scan(), "run stopped: %v", sc.Err())
		if m := ptyLine.FindStringSubmatch(sc.Text()); m != nil {
			ptyPath = m[1]
		}
		if strings.HasPrefix(sc.Text(), "hub ") {
			hubLine = sc.Text()
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	assert.Contains(t, hubLine, hub.DefaultHostName+" (running, admin API "+s.admin+")")
	assert.Contains(t, hubLine, "MQTT/TLS "+s.mqtt)

	port, err := hosttool.OpenSerial(ptyPath)
	require.NoError(t, err)
	defer port.Close()
	root, err := os.ReadFile(filepath.Join("..", "..", "pki", "testdata", "DigiCert_Global_Root_G2.pem"))
	require.NoError(t, err)
	read := func(want string) string {
		t.Helper()
		var got []byte
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(string(got), want) && time.Now().Before(deadline) {
			line, _ := port.ReadLine(time.Until(deadline))
			got = append(got, line...)
		}
		require.Contains(t, string(got), want)
		return string(got)
	}
	send := func(cmd, want string) string {
		t.Helper()
		require.NoError(t, port.Write([]byte(cmd+"\r")))
		return read(want)
	}
	send(fmt.Sprintf(`AT%%CMNG=0,42,0,"%s"`, root), "\r\nOK\r\n")
	send("AT+CFUN=1", "\r\nOK\r\n")
	require.Eventually(t, func() bool {
		return strings.Contains(send("AT+CEREG?", "\r\nOK\r\n"), "+CEREG: 0,1")
	}, 20*time.Second, 20*time.Millisecond)
	send(`AT#XMQTTCFG="dev1"`, "\r\nOK\r\n")
	host := hub.DefaultHostName
	got := send(fmt.Sprintf(`AT#XMQTTCON=1,"%s/dev1/?api-version=2021-04-12","%s","%s",8883,42`, host, tok.Token, host), "#XMQTTEVT: 0,")
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n", got)
	send(`AT#XMQTTPUB="devices/dev1/messages/events/","from the board"`, "\r\nOK\r\n")
	select {
	case ev := <-tele:
		assert.Equal(t, "from the board", string(ev.Payload))
	case <-time.After(20 * time.Second):
		t.Fatal("no telemetry through the admin API")
	}
	cancel()
	<-done
}
