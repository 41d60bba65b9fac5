package board

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/persona/zshell"
)

// readUntil reads until the output contains want (ANSI kept) or fails.
func readUntil(t *testing.T, s *hosttool.Serial, want string) string {
	t.Helper()
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got = append(got, s.ReadFor(50*time.Millisecond)...)
		if strings.Contains(string(got), want) {
			return string(got)
		}
	}
	t.Fatalf("no %q in %q", want, got)
	return ""
}

func TestNRF7002DKDefaultsToTheShell(t *testing.T) {
	b := runBoard(t, Config{Kind: KindNRF7002DK})
	assert.Equal(t, zshell.ZephyrShellName, b.Persona())
	d := b.Describe()
	assert.Regexp(t, `^F4:CE:36:[0-9A-F]{2}:[0-9A-F]{2}:[0-9A-F]{2}$`, d.Field("MAC"))
	s := open(t, b)
	defer s.Close()
	// A person in picocom: Enter shows the prompt, keys echo, DEL erases,
	// the left arrow moves and an insert redraws the tail.
	require.NoError(t, s.Write([]byte("\r")))
	readUntil(t, s, "uart:~$ \x1b[m")
	require.NoError(t, s.Write([]byte("hepl\x7f\x7flp")))
	readUntil(t, s, "hepl\x1b[1D\x1b[J\x1b[1D\x1b[Jlp")
	require.NoError(t, s.Write([]byte("\x1b[D\x1b[D\x1b[C")))
	readUntil(t, s, "\x1b[1D\x1b[1D\x1b[1C")
	require.NoError(t, s.Write([]byte("\r")))
	out := readUntil(t, s, "Available commands:")
	assert.Contains(t, out, "Please press the <Tab> button")
	require.NoError(t, s.Write([]byte("\t")))
	out = readUntil(t, s, "wifi")
	for _, c := range []string{"clear", "cred", "help", "history", "kernel", "retval"} {
		assert.Contains(t, out, c)
	}
}

func TestNRF7002DKCredShellWithNrfcredstoreChunks(t *testing.T) {
	pem, err := os.ReadFile("../features/testdata/AmazonRootCA1.pem")
	require.NoError(t, err)
	text := strings.TrimRight(string(pem), "\n")
	dir := t.TempDir()
	b := runBoard(t, Config{Dir: dir, Kind: KindNRF7002DK, Firmware: firmware.Knobs{"cred_buf_size": 4096}})
	s := open(t, b)
	tool := &hosttool.TLSCredShell{S: s}
	require.NoError(t, tool.Write(42, 0, text))
	digest, err := tool.Digest(42, 0)
	require.NoError(t, err)
	assert.Equal(t, hosttool.ExpectedTLSDigest(text), digest, "the digest nrfcredstore expects")
	ok, err := tool.Delete(43, 0)
	require.NoError(t, err)
	assert.False(t, ok)
	s.Close()

	// Persistent: the credential is in protected storage after a reboot.
	require.NoError(t, b.Reboot())
	n := b.Hardware().(*NRF7002DK)
	got, err := n.Store().Read(credstore.Key{Tag: 42, Type: zshell.CredCA})
	require.NoError(t, err)
	assert.Equal(t, text+"\x00", string(got))
}

func TestNRF7002DKDefaultBufferIsTooSmallForAPEM(t *testing.T) {
	pem, err := os.ReadFile("../features/testdata/AmazonRootCA1.pem")
	require.NoError(t, err)
	b := runBoard(t, Config{Kind: KindNRF7002DK})
	s := open(t, b)
	defer s.Close()
	tool := &hosttool.TLSCredShell{S: s, Timeout: 300 * time.Millisecond}
	err = tool.Write(42, 0, string(pem))
	require.Error(t, err)
	var read strings.Builder
	for _, e := range s.Log() {
		if !e.Wrote {
			read.Write(e.Data)
		}
	}
	assert.Contains(t, read.String(), "Increase CONFIG_TLS_CREDENTIALS_SHELL_CRED_BUF_SIZE.")
}

func TestKernelRebootCold(t *testing.T) {
	b := runBoard(t, Config{Kind: KindNRF7002DK})
	s := open(t, b)
	defer s.Close()
	require.NoError(t, s.Write([]byte("kernel reboot cold\r")))
	readUntil(t, s, zshell.DefaultBanner+"\r\n\x1b[1;32muart:~$ ")
}

func TestATShellOnTheNRF91(t *testing.T) {
	b := runBoard(t, Config{Persona: zshell.ATShellName})
	s := open(t, b)
	defer s.Close()
	v2 := &hosttool.CredStoreV2{S: s, LineTimeout: time.Second, Pause: -1}
	shell, err := v2.DetectShell()
	require.NoError(t, err)
	assert.True(t, shell, "nrfcredstore's probe picks shell mode")
	imei, err := v2.ShellIMEI()
	require.NoError(t, err)
	assert.Equal(t, identity(t, b).IMEI, imei)
	_, err = v2.ShellAT("AT+CFUN=4")
	require.NoError(t, err)
}

func TestNRF7002DKIdentityIsGeneratedOnce(t *testing.T) {
	dir := t.TempDir()
	cat := NewCatalog()
	open := func(cfg Config) (*Board, error) {
		cfg.Dir, cfg.Kind = dir, KindNRF7002DK
		return cat.Open(cfg)
	}
	b, err := open(Config{})
	require.NoError(t, err)
	mac := b.Describe().Field("MAC")
	require.NoError(t, b.Close())
	b, err = open(Config{})
	require.NoError(t, err)
	assert.Equal(t, mac, b.Describe().Field("MAC"))
	require.NoError(t, b.Close())
	_, err = open(Config{Hardware: firmware.Knobs{"mac": "F4:CE:36:00:00:01"}})
	require.ErrorIs(t, err, ErrIdentityChange)
	b, err = open(Config{Hardware: firmware.Knobs{"mac": "f4:ce:36:00:00:01", "wifi_security": "WPA3-SAE"}, AllowIdentityChange: true})
	require.NoError(t, err)
	assert.Equal(t, "F4:CE:36:00:00:01", b.Describe().Field("MAC"))
	assert.Equal(t, "modemsim-ap (WPA3-SAE)", b.Describe().Field("Wi-Fi AP"))
	require.NoError(t, b.Close())
	_, err = open(Config{Hardware: firmware.Knobs{"wifi_security": "WEP40"}})
	require.ErrorContains(t, err, "wifi_security")
	d, err := inspectNRF7002DK(dir)
	require.NoError(t, err)
	assert.Equal(t, "F4:CE:36:00:00:01", d.Field("MAC"))
}

// The azure_iot_hub sample on the nRF7002 DK: it needs the board's network,
// and its Wi-Fi radio answers with the simulated AP's rules.
func TestNRF7002DKAzureSample(t *testing.T) {
	cat := NewCatalog()
	p, err := cat.Persona(KindNRF7002DK, "azure_iot_hub")
	require.NoError(t, err)
	assert.True(t, p.Network)
	hw, err := openNRF7002DK(t.TempDir(), firmware.Knobs{}, HardwareEnv{})
	require.NoError(t, err)
	n := hw.(*NRF7002DK)
	t.Cleanup(func() { _ = n.Close() })
	_, err = p.Flash(n, firmware.Knobs{})
	assert.ErrorContains(t, err, "the board has no network")
	tests := []struct {
		name       string
		ssid, pass string
		security   int
		want       azuresample.Association
	}{
		{"the AP", "modemsim-ap", "modemsim-pass", 1, azuresample.Associated},
		{"wrong key", "modemsim-ap", "x", 1, azuresample.AssociationWrongKey},
		{"wrong security", "modemsim-ap", "modemsim-pass", 3, azuresample.AssociationFailed},
		{"no such AP", "other", "modemsim-pass", 1, azuresample.AssociationNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, n.Associate(tc.ssid, tc.pass, tc.security))
		})
	}
	assert.Equal(t, "192.168.1.2", n.Address())
}
