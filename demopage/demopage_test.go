package demopage

import (
	"bytes"
	"context"
	"html"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/scenarios"
)

func TestVisible(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"OK\r\n", "OK\n"},
		{"AT\r", `AT\x0d`},
		{"\x30\x82\x03\x77", `0\x82\x03w`},
		{"tab\tend", "tab\tend"},
		{"uart:~$ \x1b[m", `uart:~$ \x1b[m`},
		{"é", "é"},
	} {
		assert.Equal(t, tc.want, Visible(tc.in), "%q", tc.in)
	}
}

func FuzzVisible(f *testing.F) {
	for _, s := range []string{"OK\r\n", "\x00\xff", "\r", "é\r\n\x1b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v := Visible(s)
		for _, r := range v {
			if r < 0x20 && r != '\n' && r != '\t' {
				t.Fatalf("control byte %q left in %q", r, v)
			}
		}
	})
}

// result is a small hand-made run: the page must show and escape it.
func result() scenarios.Result {
	c, _ := scenarios.Lookup("M4")
	now := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	return scenarios.Result{Case: c, Start: now, End: now.Add(time.Second),
		Steps: []scenarios.StepResult{{Index: 0, Step: c.Steps[0], Start: now, End: now,
			Commands: []string{`AT%CMNG=0,42,0,"<script>alert(1)</script>"`}, Output: []string{"nrf91| +CME ERROR: 518"},
			Transcript: []scenarios.Chunk{{Board: "nrf91", FromHost: true, Data: "AT+CMEE=1\r\n"}, {Board: "nrf91", Data: "OK\r\n"}}}},
		Reasons:  []scenarios.Reason{{Time: now, Service: "hub", DeviceID: "dev1", Check: "sas-signature", Detail: "a < b", Values: map[string]string{"stringToSign": "x\ny"}}},
		Timeline: []scenarios.Event{{Time: now, Kind: "attempt", Text: "hub-mqtts from 127.0.0.1:1", Outcome: "refused"}},
		Chains:   []scenarios.Chain{{Title: "served", Certs: []scenarios.CertInfo{{Subject: "CN=x", Issuer: "CN=y", NotBefore: now, NotAfter: now, SHA256: "AB"}}}},
	}
}

func TestWriteEscapesAndHasEverySection(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, Write(&b, result()))
	page := b.String()
	assert.NotContains(t, page, "<script>")
	assert.Contains(t, page, "&lt;script&gt;")
	text := html.UnescapeString(page)
	for _, want := range []string{`id="steps"`, `id="transcript"`, `id="reasons"`, `id="chains"`, `id="timeline"`,
		"+CME ERROR: 518", "AT+CMEE=1\n</pre>", "sas-signature", "CN=x", "refused"} {
		assert.Contains(t, text, want)
	}
	for _, external := range []string{"<link", "src=", "http://", "https://"} {
		assert.NotContains(t, page, external, "the page must be self-contained")
	}
}

// TestChromiumRendersADemo replays H2 (a hub reason, a fix), writes its
// page and has headless Chromium render it: the DOM shows the steps, the
// transcript and the hub's reason.
func TestChromiumRendersADemo(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not installed (Debian package chromium; ci/test.sh installs it as root)")
	}
	c, err := scenarios.Lookup("H2")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := scenarios.Run(ctx, c, scenarios.Options{PKI: scenarios.NewPKIPool(filepath.Join(t.TempDir(), "pki"))})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "h2.html")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, Write(f, res))
	require.NoError(t, f.Close())

	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--dump-dom", "file://"+path)
	dom, err := cmd.Output()
	require.NoError(t, err, "chromium --dump-dom")
	text := string(dom)
	for _, s := range c.Steps {
		assert.Contains(t, text, s.Say)
	}
	// The transcript: the host's connect line and the board's refusal.
	assert.Contains(t, text, "AT#XMQTTCFG=\"dev1\"\\x0d")
	assert.Contains(t, text, "#XMQTTEVT: 0,5")
	assert.Contains(t, text, "sas-signature")
	assert.Contains(t, text, "every step ended in its asserted outcome")
	assert.True(t, strings.Contains(text, "hub-mqtts"), "the timeline shows the hub's attempts")
}
