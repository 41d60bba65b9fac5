package zshell

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
)

// drive feeds input to the shell as the engine would and returns every byte
// the shell sent back.
func drive(t testing.TB, s *Shell, input string) string {
	t.Helper()
	var out []byte
	p := []byte(input)
	for len(p) > 0 {
		n, echo, fr, ok := s.Scan(p)
		out = append(out, echo...)
		p = p[n:]
		if ok {
			out = append(out, s.Handle(context.Background(), fr).Out...)
		}
	}
	return string(out)
}

func newCredShell(t testing.TB, cfg Config) (*Shell, *credstore.Store) {
	t.Helper()
	store, err := credstore.Open(filepath.Join(t.TempDir(), "cred"))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	no := false
	cfg.Colors = &no
	cred, err := CredCommands(cfg, store)
	require.NoError(t, err)
	s, err := NewShell(cfg, cred)
	require.NoError(t, err)
	return s, store
}

const prompt = "uart:~$ "

func TestEchoAndEditing(t *testing.T) {
	no := false
	s, err := NewShell(Config{Colors: &no})
	require.NoError(t, err)
	tests := []struct{ name, keys, want string }{
		{"typing echoes", "he", "he"},
		{"backspace (DEL)", "\x7f", "\x1b[1D\x1b[J"},
		{"left then insert redraws the tail", "lp\x1b[D\x1b[De", "lp\x1b[1D\x1b[1De" + "lp\x1b[2D"},
		{"home and end", "\x1b[H\x1b[F", "\x1b[2D\x1b[4C"},
		{"delete key at home", "\x1b[H\x1b[3~", "\x1b[4D\x1b[Jelp\x1b[3D"},
		{"enter runs it", "\rx", "\x1b[3C\r\nelp: command not found\r\n" + prompt + "x"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, drive(t, s, tc.keys), tc.name)
	}
}

func TestHistoryAndTab(t *testing.T) {
	no := false
	s, err := NewShell(Config{Colors: &no})
	require.NoError(t, err)
	drive(t, s, "retval\r")
	drive(t, s, "history\r")
	assert.Equal(t, "\x1b[Jhistory", drive(t, s, "\x1b[A"), "up shows the newest")
	assert.Equal(t, "\x1b[7D\x1b[Jretval", drive(t, s, "\x1b[A"), "up again: older")
	assert.Equal(t, "\x1b[6D\x1b[Jhistory", drive(t, s, "\x1b[B"), "down: newer")
	assert.Equal(t, "\x1b[7D\x1b[J", drive(t, s, "\x1b[B"), "down past the newest restores the typed line")
	assert.Equal(t, "etval ", drive(t, s, "r\t")[1:], "one candidate completes with a space")
	drive(t, s, "\x03")
	out := drive(t, s, "h\t")
	assert.Equal(t, "h\r\n  help\x1b[5C"+"history\x1b[2C\r\n"+prompt+"h", out, "two candidates are listed, then the prompt")
}

func TestHelpListsCommands(t *testing.T) {
	s, _ := newCredShell(t, Config{})
	out := drive(t, s, "help\r")
	assert.Contains(t, out, "Please press the <Tab> button to see all available commands.\r\n")
	assert.Contains(t, out, "\r\nAvailable commands:\r\n  clear    : Clear screen.\r\n  cred     : TLS Credentials Commands\r\n")
	assert.True(t, strings.HasSuffix(out, prompt))
	out = drive(t, s, "cred\r")
	assert.Contains(t, out, "cred - TLS Credentials Commands\r\nSubcommands:\r\n  buf   : Buffer in credential data so it can be added.\r\n")
}

// chunks splits s into n-character pieces, as nrfcredstore's TLS shell
// interface does with 48 (nrf91.md §8).
func chunks(s string, n int) []string {
	var out []string
	for len(s) > n {
		out, s = append(out, s[:n]), s[n:]
	}
	return append(out, s)
}

func TestCredProvisionLikeNrfcredstore(t *testing.T) {
	pem, err := os.ReadFile("testdata/root.pem")
	require.NoError(t, err)
	s, store := newCredShell(t, Config{CredBufSize: 4096})
	b64 := base64.StdEncoding.EncodeToString(pem)
	assert.Equal(t, "", stripVT100(drive(t, s, "cred buf clear\r"))[len("cred buf clear\r\n"):len("cred buf clear\r\n")], "empty buffer: silent")
	for _, c := range chunks(b64, 48) {
		out := drive(t, s, "cred buf "+c+"\r")
		assert.Contains(t, out, "Stored "+itoa(len(c))+" bytes.\r\n")
	}
	out := drive(t, s, "cred add 42 CA DEFAULT bint\r")
	assert.Contains(t, out, "Added TLS credential of type CA_CERT, sectag 42, and length "+itoa(len(pem)+1)+" bytes.\r\nCredential buffer cleared.\r\n")
	stored, err := store.Read(credstore.Key{Tag: 42, Type: CredCA})
	require.NoError(t, err)
	assert.Equal(t, append(append([]byte{}, pem...), 0), stored)

	sum := sha256.Sum256(append(append([]byte{}, pem...), 0))
	want := base64.StdEncoding.EncodeToString(sum[:])
	out = drive(t, s, "cred list 42 CA\r")
	assert.Equal(t, "cred list 42 CA\r\n42,CA,"+want+",0\r\n1 credentials found.\r\n"+prompt, out)

	out = drive(t, s, "cred add 42 CA DEFAULT bint QUJD\r")
	assert.Contains(t, out, "TLS credential with sectag 42 and type CA_CERT already exists.\r\nCredential buffer cleared.\r\n")
	out = drive(t, s, "cred del 42 CA\r")
	assert.Contains(t, out, "Deleted TLS credential with sectag 42 and type CA_CERT.\r\n")
	out = drive(t, s, "cred del 42 CA\r")
	assert.Contains(t, out, "There is no TLS credential with sectag 42 and type CA_CERT.\r\n")
}

func TestCredBufferOverflow(t *testing.T) {
	s, _ := newCredShell(t, Config{CredBufSize: 100})
	drive(t, s, "cred buf "+strings.Repeat("A", 60)+"\r")
	out := drive(t, s, "cred buf "+strings.Repeat("A", 40)+"\r")
	assert.Contains(t, out, "Not enough room in credential buffer for provided data. Increase CONFIG_TLS_CREDENTIALS_SHELL_CRED_BUF_SIZE.\r\nCredential buffer cleared.\r\n")
}

func TestCredErrors(t *testing.T) {
	s, _ := newCredShell(t, Config{})
	tests := []struct{ line, want string }{
		{"cred add x CA DEFAULT bint QUJD", "x is not a valid sectag.\r\n"},
		{"cred add 1 CAX DEFAULT bint QUJD", "CAX is not a valid credential type.\r\n"},
		{"cred add 1 CA FLASH bint QUJD", "FLASH is not a valid backend.\r\n"},
		{"cred add 1 CA DEFAULT b64 QUJD", "b64 is not a valid storage format.\r\n"},
		{"cred add 1 CA DEFAULT bint", "Please provide a credential to add.\r\n"},
		{"cred add 1 CA DEFAULT bin QU=JD", "Stored 5 bytes.\r\nCould not decode input from base64, error: -22\r\nCredential buffer cleared.\r\n"},
		{"cred add 1 PK default str secret", "Added TLS credential of type PRIVATE_KEY, sectag 1, and length 6 bytes.\r\n"},
		{"cred get 1 PK str", "secret\r\nCredential buffer cleared.\r\n"},
		{"cred get 1 PK strt", "The stored credential isn't NULL-terminated, but a NULL-terminated format was specified.\r\n"},
		{"cred list any PK", "1,PK,"},
		{"cred buf", "buf: wrong parameter count\r\n"},
		{"nope", "nope: command not found\r\n"},
	}
	for _, tc := range tests {
		assert.Contains(t, drive(t, s, tc.line+"\r"), tc.want, tc.line)
	}
}

func TestURCRedrawsTheLine(t *testing.T) {
	no := false
	s, err := NewShell(Config{Colors: &no})
	require.NoError(t, err)
	drive(t, s, "cre")
	got := string(s.AppendURC(nil, "[00:00:01.000,000] <inf> wifi: up"))
	assert.Equal(t, "\x1b[11D\x1b[J[00:00:01.000,000] <inf> wifi: up\r\n"+prompt+"cre", got)
}

func TestColoredPrompt(t *testing.T) {
	s, err := NewShell(Config{})
	require.NoError(t, err)
	assert.Equal(t, "\x1b[1;32m"+prompt+"\x1b[m", string(s.Prompt()))
	out := drive(t, s, "x\r")
	assert.Equal(t, "x\r\n\x1b[1;31mx: command not found\r\n\x1b[m\x1b[1;32m"+prompt+"\x1b[m", out)
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + fmtInt(n)) }

func fmtInt(n int) string { return sprintf("%d", n) }

func TestShellEchoAndColors(t *testing.T) {
	s, err := NewShell(Config{})
	require.NoError(t, err)
	assert.Contains(t, drive(t, s, "shell colors off\r"), prompt)
	assert.Equal(t, "x\r\nx: command not found\r\n"+prompt, drive(t, s, "x\r"), "no colour codes")
	drive(t, s, "shell echo off\r")
	assert.Equal(t, "", drive(t, s, "shell e\x7f"), "keys are not echoed")
	assert.Equal(t, "\r\nEcho status: off\r\n"+prompt, drive(t, s, "cho\r"), "DEL was ignored, the line ran")
	drive(t, s, "shell echo on\r")
	assert.Equal(t, "ab", drive(t, s, "ab"))
}
