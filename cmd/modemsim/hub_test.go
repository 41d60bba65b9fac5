package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/pki"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// served is a `modemsim hub serve` running in-process.
type served struct {
	admin, mqtt, trust string
	stop               func() error
}

var serveLine = regexp.MustCompile(`^\s+(admin API|MQTT/TLS|trust \(CA file\))\s+(\S+)`)

// startServe runs serve on port-0 loopback addresses and reads the real
// addresses from what it prints.
func startServe(t *testing.T, state, pkiDir string) *served {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, []string{"hub", "serve", "--state", state, "--pki", pkiDir,
			"--mqtt-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}, pw, io.Discard)
		pw.CloseWithError(err)
		done <- err
	}()
	s := &served{}
	sc := bufio.NewScanner(pr)
	for s.admin == "" || s.mqtt == "" || s.trust == "" {
		require.True(t, sc.Scan(), "serve stopped before printing its addresses: %v", sc.Err())
		if m := serveLine.FindStringSubmatch(sc.Text()); m != nil {
			switch m[1] {
			case "admin API":
				s.admin = m[2]
			case "MQTT/TLS":
				s.mqtt = m[2]
			default:
				s.trust = m[2]
			}
		}
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var once sync.Once
	var stopErr error
	s.stop = func() error {
		once.Do(func() { cancel(); stopErr = <-done })
		return stopErr
	}
	t.Cleanup(func() { _ = s.stop() })
	return s
}

// cli runs one admin subcommand against s and returns its stdout.
func (s *served) cli(t *testing.T, ctx context.Context, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(ctx, append(append([]string{"hub"}, args...), "--admin", s.admin), &out, &errOut)
	return out.String(), err
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, data, 0o600))
	return p
}

func TestHubHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"hub", "--help"}, "device"},
		{[]string{"hub", "device", "--help"}, "sas-token"},
		{[]string{"hub", "dps", "help"}, "enrollment"},
		{[]string{"hub", "dps", "ca", "--help"}, "verification-code"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, run(t.Context(), tt.args, &out, io.Discard))
			assert.Contains(t, out.String(), tt.want)
		})
	}
	leaves := [][]string{
		{"hub", "serve", "--help"}, {"hub", "device", "create", "--help"}, {"hub", "monitor", "-h"},
		{"hub", "dps", "group", "create", "--help"}, {"hub", "c2d", "send", "--help"}, {"hub", "load", "--help"},
	}
	for _, args := range leaves {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			require.NoError(t, run(t.Context(), args, &out, &errOut))
			assert.Contains(t, out.String(), "usage: modemsim hub")
			assert.Contains(t, out.String(), "flags:")
			assert.Empty(t, errOut.String())
		})
	}
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), []string{"help"}, &out, io.Discard))
	assert.Contains(t, out.String(), "hub ")
	assert.ErrorContains(t, run(t.Context(), []string{"hub", "nope"}, io.Discard, io.Discard), `unknown subcommand "nope"`)
	assert.ErrorContains(t, run(t.Context(), []string{"hub", "device"}, io.Discard, io.Discard), "missing subcommand")
}

// TestHubCLI drives every admin subcommand against one in-process serve,
// then restarts serve on the same state to check that it persisted.
func TestHubCLI(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	state, pkiDir := filepath.Join(dir, "state"), filepath.Join(dir, "pki")
	s := startServe(t, state, pkiDir)

	trust, err := os.ReadFile(s.trust)
	require.NoError(t, err)
	trustCerts, err := pki.ParseCertsPEM(trust)
	require.NoError(t, err)
	assert.Len(t, trustCerts, len(pki.RootNames()), "the trust file holds every stand-in root")

	ca, err := pki.NewCA(rand.Reader, "CLI Test Root", nil, time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour))
	require.NoError(t, err)
	caFile := writeFile(t, dir, "ca.pem", ca.CertPEM())
	leaf, err := pki.NewLeaf(rand.Reader, "thumbdev", nil, time.Now().Add(-time.Hour), time.Now().Add(48*time.Hour))
	require.NoError(t, err)
	leafFile := writeFile(t, dir, "leaf.pem", leaf.CertPEM())

	steps := []struct {
		name    string
		args    []string
		want    []string // substrings of stdout
		wantErr string
	}{
		{"create sas", []string{"device", "create", "--device", "dev1"}, []string{"device dev1", "auth sas", "primary key"}, ""},
		{"create twice", []string{"device", "create", "--device", "dev1"}, nil, "409"},
		{"create needs id", []string{"device", "create"}, nil, "--device is required"},
		{"create thumbprint from cert", []string{"device", "create", "--device", "thumbdev", "--auth", "x509-thumbprint", "--cert", leafFile},
			[]string{"selfSigned", pki.ThumbprintSHA256(leaf.Cert)}, ""},
		{"create ca device", []string{"device", "create", "--device", "cadev", "--auth", "x509-ca", "--disabled"}, []string{"certificateAuthority", "disabled"}, ""},
		{"create bad auth", []string{"device", "create", "--device", "d", "--auth", "tpm"}, nil, "400"},
		{"list", []string{"device", "list"}, []string{"DEVICE", "cadev", "dev1", "thumbdev"}, ""},
		{"show", []string{"device", "show", "--device", "dev1"}, []string{"status enabled"}, ""},
		{"show missing", []string{"device", "show", "--device", "nope"}, nil, "404"},
		{"disable", []string{"device", "disable", "--device", "dev1"}, []string{"device dev1 disabled"}, ""},
		{"enable", []string{"device", "enable", "--device", "dev1"}, []string{"device dev1 enabled"}, ""},
		{"sas token", []string{"device", "sas-token", "--device", "dev1", "--ttl", "2h"}, []string{"SharedAccessSignature sr=" + hub.DefaultHostName + "%2Fdevices%2Fdev1&sig="}, ""},
		{"sas token for x509", []string{"device", "sas-token", "--device", "thumbdev"}, nil, "not SAS"},
		{"ca upload", []string{"ca", "upload", "--name", "root", "--cert", caFile}, []string{"CN=CLI Test Root", "verified false"}, ""},
		{"ca list", []string{"ca", "list"}, []string{"root", "false"}, ""},
		{"ca verify without code", []string{"ca", "verify", "--name", "root", "--cert", caFile}, nil, "400"},
		{"dps ca upload", []string{"dps", "ca", "upload", "--name", "root", "--cert", caFile, "--verified"}, []string{"verified true"}, ""},
		{"dps ca list", []string{"dps", "ca", "list"}, []string{"root", "true"}, ""},
		{"dps group x509", []string{"dps", "group", "create", "--group-id", "g1", "--ca-name", "root"}, []string{"group ID g1", "CA root"}, ""},
		{"dps group unknown CA", []string{"dps", "group", "create", "--group-id", "g2", "--ca-name", "nope"}, nil, "404"},
		{"dps group sym", []string{"dps", "group", "create", "--group-id", "g3", "--attestation", "symmetricKey"}, []string{"primary key"}, ""},
		{"dps group list", []string{"dps", "group", "list"}, []string{"g1", "g3"}, ""},
		{"dps group delete", []string{"dps", "group", "delete", "--group-id", "g3"}, []string{"group g3 deleted"}, ""},
		{"dps enrollment x509", []string{"dps", "enrollment", "create", "--registration-id", "thumbdev", "--cert", leafFile},
			[]string{"registration ID thumbdev", pki.ThumbprintSHA256(leaf.Cert)}, ""},
		{"dps enrollment sym", []string{"dps", "enrollment", "create", "--registration-id", "symdev", "--attestation", "symmetricKey", "--primary-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="},
			[]string{"primary key AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, ""},
		{"dps enrollment bad key", []string{"dps", "enrollment", "create", "--registration-id", "x", "--attestation", "symmetricKey", "--primary-key", "!!"}, nil, "not base64"},
		{"dps enrollment list", []string{"dps", "enrollment", "list"}, []string{"symdev", "thumbdev"}, ""},
		{"dps enrollment delete", []string{"dps", "enrollment", "delete", "--registration-id", "symdev"}, []string{"enrollment symdev deleted"}, ""},
		{"dps enrollment delete again", []string{"dps", "enrollment", "delete", "--registration-id", "symdev"}, nil, "404"},
		{"dps registrations", []string{"dps", "registrations"}, []string{"REGISTRATION ID"}, ""},
		{"twin update", []string{"twin", "update", "--device", "dev1", "--desired", `{"interval":30}`}, []string{`"interval": 30`, `"desiredVersion": 2`}, ""},
		{"twin update bad", []string{"twin", "update", "--device", "dev1", "--desired", `nope`}, nil, "400"},
		{"twin show", []string{"twin", "show", "--device", "dev1"}, []string{`"interval": 30`}, ""},
		{"c2d offline", []string{"c2d", "send", "--device", "dev1", "--data", "queued", "--props", "a=1;b=2"}, []string{"queued c2d-", "for dev1"}, ""},
		{"c2d bad props", []string{"c2d", "send", "--device", "dev1", "--props", "novalue"}, nil, "not key=value"},
		{"method offline", []string{"method", "invoke", "--device", "dev1", "--method", "reboot"}, nil, "404"},
		{"root", []string{"root", "--name", "baltimore"}, []string{"BEGIN CERTIFICATE"}, ""},
		{"info", []string{"info"}, []string{"hub host name " + hub.DefaultHostName, "DPS ID scope 0ne00000000", "MQTT/TLS 127.0.0.1:"}, ""},
		{"device delete", []string{"device", "delete", "--device", "cadev"}, []string{"device cadev deleted"}, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			out, err := s.cli(t, ctx, st.args...)
			if st.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), st.wantErr)
				return
			}
			require.NoError(t, err)
			for _, w := range st.want {
				assert.Contains(t, squeeze(out), w)
			}
		})
	}

	t.Run("ca proof of possession", func(t *testing.T) {
		for _, store := range [][]string{{"ca"}, {"dps", "ca"}} {
			out, err := s.cli(t, ctx, append(store, "verification-code", "--name", "root")...)
			require.NoError(t, err)
			code := strings.TrimSpace(out)
			require.NotEmpty(t, code)
			vc, err := pki.NewVerificationCert(rand.Reader, code, ca, time.Now())
			require.NoError(t, err)
			vcFile := writeFile(t, dir, "verify.pem", pki.EncodeCertsPEM(vc))
			out, err = s.cli(t, ctx, append(store, "verify", "--name", "root", "--cert", vcFile, "--json")...)
			require.NoError(t, err)
			var got struct{ Verified bool }
			require.NoError(t, json.Unmarshal([]byte(out), &got))
			assert.True(t, got.Verified, strings.Join(store, " "))
		}
	})

	t.Run("device session", func(t *testing.T) { deviceSession(t, s, trustCerts) })

	t.Run("persists across restart", func(t *testing.T) {
		require.NoError(t, s.stop())
		s2 := startServe(t, state, pkiDir)
		out, err := s2.cli(t, ctx, "device", "list", "--json")
		require.NoError(t, err)
		var ds []hub.Device
		require.NoError(t, json.Unmarshal([]byte(out), &ds))
		var ids []string
		for _, d := range ds {
			ids = append(ids, d.ID)
		}
		assert.Equal(t, []string{"dev1", "thumbdev"}, ids)
		out, err = s2.cli(t, ctx, "ca", "list")
		require.NoError(t, err)
		assert.Contains(t, out, "true", "the verified CA stays verified")
		out, err = s2.cli(t, ctx, "dps", "group", "list")
		require.NoError(t, err)
		assert.Contains(t, out, "g1")
	})
}

// deviceSession connects dev1 with the CLI's SAS token over the trust file
// and checks monitor, C2D, methods, twin pushes, attempts and reasons.
func deviceSession(t *testing.T, s *served, trust []*x509.Certificate) {
	ctx := t.Context()
	tok, err := s.cli(t, ctx, "device", "sas-token", "--device", "dev1")
	require.NoError(t, err)
	pool := x509.NewCertPool()
	for _, c := range trust {
		pool.AddCert(c)
	}
	msgs := make(chan paho.Message, 16)
	connect := func(pass string) (paho.Client, error) {
		cl := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + s.mqtt).SetClientID("dev1").
			SetUsername(hub.DefaultHostName + "/dev1/?api-version=" + hubadmin.APIVersion).SetPassword(pass).
			SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(15 * time.Second).
			SetTLSConfig(&tls.Config{RootCAs: pool, ServerName: "localhost", MinVersion: tls.VersionTLS12}).
			SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { msgs <- m }))
		tk := cl.Connect()
		if !tk.WaitTimeout(20 * time.Second) {
			return nil, errors.New("connect timeout")
		}
		return cl, tk.Error()
	}
	cl, err := connect(strings.TrimSpace(tok))
	require.NoError(t, err)
	defer cl.Disconnect(0)

	// The C2D message queued while offline arrives once subscribed.
	sub := func(filter string, h paho.MessageHandler) {
		tk := cl.Subscribe(filter, 1, h)
		require.True(t, tk.WaitTimeout(10*time.Second))
		require.NoError(t, tk.Error())
	}
	sub("devices/dev1/messages/devicebound/#", nil)
	m := recvMsg(t, msgs)
	assert.Equal(t, "queued", string(m.Payload()))
	assert.Contains(t, m.Topic(), "a=1&b=2")

	_, err = s.cli(t, ctx, "c2d", "send", "--device", "dev1", "--data", "live")
	require.NoError(t, err)
	assert.Equal(t, "live", string(recvMsg(t, msgs).Payload()))

	sub("$iothub/methods/POST/#", func(c paho.Client, m paho.Message) {
		rid := m.Topic()[strings.Index(m.Topic(), "$rid=")+5:]
		c.Publish("$iothub/methods/res/201/?$rid="+rid, 1, false, `{"got":`+string(m.Payload())+`}`)
	})
	out, err := s.cli(t, ctx, "method", "invoke", "--device", "dev1", "--method", "blink", "--payload", `{"n":3}`, "--timeout", "10s")
	require.NoError(t, err)
	assert.Contains(t, squeeze(out), "status 201")
	assert.Contains(t, out, `{"got":{"n":3}}`)

	sub("$iothub/twin/PATCH/properties/desired/#", nil)
	_, err = s.cli(t, ctx, "twin", "update", "--device", "dev1", "--desired", `{"led":"on"}`)
	require.NoError(t, err)
	assert.Contains(t, string(recvMsg(t, msgs).Payload()), `"led":"on"`)

	// monitor prints telemetry until its context ends.
	mctx, stopMonitor := context.WithCancel(ctx)
	var mon syncBuffer
	monDone := make(chan error, 1)
	go func() {
		monDone <- run(mctx, []string{"hub", "monitor", "--admin", s.admin}, &mon, io.Discard)
	}()
	require.Eventually(t, func() bool {
		cl.Publish("devices/dev1/messages/events/unit=C", 1, false, `{"temperature":21.5}`).WaitTimeout(5 * time.Second)
		return strings.Contains(mon.String(), `dev1 {"temperature":21.5} properties={"unit":"C"}`)
	}, 15*time.Second, 200*time.Millisecond, "monitor printed %q", mon.String())
	stopMonitor()
	assert.NoError(t, <-monDone)

	// A wrong password is refused; attempts and reasons say why.
	_, err = connect(strings.TrimSpace(tok) + "x")
	require.Error(t, err)
	out, err = s.cli(t, ctx, "attempts", "--device", "dev1")
	require.NoError(t, err)
	assert.Contains(t, out, "accepted")
	assert.Contains(t, out, "refused")
	assert.Contains(t, out, "sas-", "the refusal names a SAS check")
	out, err = s.cli(t, ctx, "reasons", "--json")
	require.NoError(t, err)
	var rs []hubadmin.Reason
	require.NoError(t, json.Unmarshal([]byte(out), &rs))
	require.NotEmpty(t, rs)
	assert.Equal(t, "hub", rs[len(rs)-1].Service)
	assert.Equal(t, "dev1", rs[len(rs)-1].ID)
}

func recvMsg(t *testing.T, ch chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("the device got no message")
		return nil
	}
}

func TestParseProps(t *testing.T) {
	tests := []struct {
		in      string
		want    map[string]string
		wantErr bool
	}{
		{"", nil, false},
		{"a=1", map[string]string{"a": "1"}, false},
		{"a=1;b=x=y;", map[string]string{"a": "1", "b": "x=y"}, false},
		{"a=", map[string]string{"a": ""}, false},
		{"=1", nil, true},
		{"a", nil, true},
	}
	for _, tt := range tests {
		got, err := parseProps(tt.in)
		if tt.wantErr {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestSimClock(t *testing.T) {
	c, err := simClock("2024-06-01")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), c(), time.Minute)
	c, err = simClock("2023-01-02T03:04:05Z")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC), c(), time.Minute)
	_, err = simClock("June")
	assert.Error(t, err)
	c, err = simClock("")
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), c(), time.Second)
}

var blanks = regexp.MustCompile(`[ \t]+`)

// squeeze collapses table padding so tests do not depend on column widths.
func squeeze(s string) string { return blanks.ReplaceAllString(s, " ") }

func FuzzParseProps(f *testing.F) {
	for _, s := range []string{"a=1;b=2", "", "=", ";;", "a==b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := parseProps(s)
		if err != nil {
			return
		}
		for k := range m {
			if k == "" || strings.ContainsAny(k, ";=") {
				t.Fatalf("parseProps(%q) gave key %q", s, k)
			}
		}
	})
}

func TestHubLoad(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	err := run(t.Context(), []string{"hub", "load", "--pki", filepath.Join(dir, "pki"), "--devices", "3", "--messages", "5", "--json"}, &out, io.Discard)
	require.NoError(t, err)
	var got struct {
		Results []struct {
			Target            string
			Devices           int
			MessagesPerDevice int
			ConnectsPerSecond float64
			MessagesPerSecond float64
		}
		HubOverBaseline map[string]float64
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &got), out.String())
	require.Len(t, got.Results, 2)
	assert.Equal(t, "hub", got.Results[0].Target)
	assert.Equal(t, "baseline mochi", got.Results[1].Target)
	for _, r := range got.Results {
		assert.Equal(t, 3, r.Devices)
		assert.Equal(t, 5, r.MessagesPerDevice)
		assert.Positive(t, r.ConnectsPerSecond)
		assert.Positive(t, r.MessagesPerSecond)
	}
	assert.Positive(t, got.HubOverBaseline["connects"])
	assert.Positive(t, got.HubOverBaseline["messages"])

	err = run(t.Context(), []string{"hub", "load", "--devices", "0"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "modemsim hub load: --devices must be at least 1")
}
