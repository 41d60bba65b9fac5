package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
)

// buildModemsim builds this command into a temporary directory.
func buildModemsim(t *testing.T) string {
	t.Helper()
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		if goBin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go tool to build the binary")
		}
	}
	bin := filepath.Join(t.TempDir(), "modemsim")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, goBin, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// process is a running `modemsim hub serve` binary.
type process struct {
	cmd                *exec.Cmd
	admin, mqtt, trust string
}

func startBinary(t *testing.T, bin, state string) *process {
	t.Helper()
	cmd := exec.Command(bin, "hub", "serve", "--state", state,
		"--mqtt-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = io.Discard
	require.NoError(t, cmd.Start())
	p := &process{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	deadline := time.After(2 * time.Minute) // first start generates RSA roots
	for p.admin == "" || p.mqtt == "" || p.trust == "" {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "serve exited before printing its addresses")
			if m := serveLine.FindStringSubmatch(l); m != nil {
				switch m[1] {
				case "admin API":
					p.admin = m[2]
				case "MQTT/TLS":
					p.mqtt = m[2]
				default:
					p.trust = m[2]
				}
			}
		case <-deadline:
			t.Fatal("serve did not print its addresses in time")
		}
	}
	go func() {
		for range lines { // keep the pipe drained
		}
	}()
	return p
}

// Issue 12 acceptance: pending C2D messages survive kill -9 of `modemsim
// hub serve`; after the restart they are listed and delivered.
func TestHubC2DSurvivesKill9(t *testing.T) {
	bin := buildModemsim(t)
	state := filepath.Join(t.TempDir(), "state")
	ctx := t.Context()

	p := startBinary(t, bin, state)
	cl := hubadmin.NewClient(p.admin, nil)
	_, err := cl.CreateDevice(ctx, "dev1", hubadmin.DeviceRequest{Auth: "sas"})
	require.NoError(t, err)
	var ids []string
	for _, body := range []string{"one", "two"} {
		id, err := cl.SendC2D(ctx, "dev1", hubadmin.C2DRequest{Payload: body, Properties: map[string]string{"n": body}})
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGKILL))
	_ = p.cmd.Wait()

	p = startBinary(t, bin, state)
	// `hub c2d list` with MODEMSIM_ADMIN instead of --admin.
	list := exec.CommandContext(ctx, bin, "hub", "c2d", "list")
	list.Env = append(os.Environ(), adminEnv+"="+p.admin)
	out, err := list.CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, id := range ids {
		assert.Contains(t, string(out), id)
	}
	assert.Contains(t, string(out), "n=one")

	cl = hubadmin.NewClient(p.admin, nil)
	tok, err := cl.SASToken(ctx, "dev1", time.Hour)
	require.NoError(t, err)
	trust, err := os.ReadFile(p.trust)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(trust))
	got := make(chan string, 4)
	o := paho.NewClientOptions().AddBroker("tls://" + p.mqtt).SetClientID("dev1").SetUsername(tok.Username).SetPassword(tok.Token).
		SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: hub.DefaultHostName}).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectTimeout(20 * time.Second)
	c := paho.NewClient(o)
	ct := c.Connect()
	require.True(t, ct.WaitTimeout(30*time.Second))
	require.NoError(t, ct.Error())
	defer c.Disconnect(0)
	st := c.Subscribe("devices/dev1/messages/devicebound/#", 1, func(_ paho.Client, m paho.Message) { got <- string(m.Payload()) })
	require.True(t, st.WaitTimeout(10*time.Second))
	require.NoError(t, st.Error())
	var bodies []string
	for range ids {
		select {
		case b := <-got:
			bodies = append(bodies, b)
		case <-time.After(20 * time.Second):
			t.Fatalf("only %v delivered after the restart", bodies)
		}
	}
	assert.Equal(t, []string{"one", "two"}, bodies)
	require.Eventually(t, func() bool {
		ms, err := cl.PendingC2D(ctx, "dev1")
		return err == nil && len(ms) == 0
	}, 10*time.Second, 20*time.Millisecond, "completed messages leave the queue")
}
