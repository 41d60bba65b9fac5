package board

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/nrf91modem"
)

func runBoard(t *testing.T, cfg Config) *Board {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	b, err := NewCatalog().Open(cfg)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, b.Close())
	})
	return b
}

// identity is the nRF91 identity of b.
func identity(t testing.TB, b *Board) nrf91modem.Identity {
	t.Helper()
	n, ok := b.NRF91()
	require.True(t, ok, "not an nRF91")
	return n.Identity()
}

func open(t *testing.T, b *Board) *hosttool.Serial {
	t.Helper()
	s, err := hosttool.OpenSerial(b.PortPath())
	require.NoError(t, err)
	return s
}

func exchange(t *testing.T, s *hosttool.Serial, cmd string) []string {
	t.Helper()
	lines, err := s.Exchange(context.Background(), cmd, 3*time.Second)
	require.NoError(t, err, cmd)
	return lines
}

func TestReopenTenTimes(t *testing.T) {
	b := runBoard(t, Config{})
	imei := identity(t, b).IMEI
	for i := range 10 {
		s := open(t, b)
		switch i % 3 {
		case 0: // a normal exchange
			assert.Equal(t, []string{imei, "OK"}, exchange(t, s, "AT+CGSN"), "cycle %d", i)
		case 1: // leave without reading the answer: it must not reach the next client
			require.NoError(t, s.Write([]byte("AT+CGMI\r\n")))
			time.Sleep(20 * time.Millisecond)
		case 2: // leave halfway through a command: the next client starts clean
			require.NoError(t, s.Write([]byte("AT%CMNG=0,1,0,\"-----BEGIN")))
			time.Sleep(20 * time.Millisecond)
		}
		require.NoError(t, s.Close())
		// The next client sees exactly its own answer and nothing stale. A
		// tool takes far longer to start and reopen than the port takes to
		// notice a close (ptyport's doc explains the window); waiting for it
		// keeps the test clear of that window on a loaded machine.
		waitClosed(t, b)
		s = open(t, b)
		assert.Equal(t, []string{"OK"}, exchange(t, s, "AT"), "cycle %d", i)
		assert.Empty(t, s.ReadFor(30*time.Millisecond), "cycle %d: stale bytes", i)
		require.NoError(t, s.Close())
	}
}

func TestHostileInputLeavesBoardAnswering(t *testing.T) {
	tests := []struct {
		name  string
		input []byte
		pause time.Duration // what the host waits before its next command (it would time out)
	}{
		{"100 KB without terminator", bytes.Repeat([]byte("A"), 100*1024), 0},
		{"binary garbage", func() []byte {
			g := make([]byte, 8192)
			for i := range g {
				g[i] = byte(i*131 + 7)
			}
			return g
		}(), 0},
		{"unbalanced quote", []byte("AT%CMNG=0,42,0,\"-----BEGIN CERTIFICATE-----\r\nMIIB\r\n"), 1500 * time.Millisecond},
		{"BS and DEL", []byte("ATX\x08+CGMI\x7f\x7f\x7f\x7f"), 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := runBoard(t, Config{})
			s := open(t, b)
			defer s.Close()
			require.NoError(t, s.Write(tc.input))
			time.Sleep(tc.pause)
			require.NoError(t, s.Write([]byte("\r\n")))
			s.ReadFor(100 * time.Millisecond) // whatever the garbage earned
			assert.Equal(t, []string{identity(t, b).IMEI, "OK"}, exchange(t, s, "AT+CGSN"))
			assert.Equal(t, []string{"OK"}, exchange(t, s, "AT"))
		})
	}
}

func TestIdentityPersistsAndConfigWins(t *testing.T) {
	dir := t.TempDir()
	b, err := NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	first := identity(t, b)
	require.NoError(t, b.Close())

	b, err = NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, first, identity(t, b), "identity is generated once")
	require.NoError(t, b.Close())

	b, err = NewCatalog().Open(Config{Dir: dir, Hardware: firmware.Knobs{"imei": "352656100367872", "model": "nrf9160"}, AllowIdentityChange: true})
	require.NoError(t, err)
	id := identity(t, b)
	require.NoError(t, b.Close())
	assert.Equal(t, "352656100367872", id.IMEI)
	assert.Equal(t, "nrf9160", id.Model)
	assert.Equal(t, "mfw_nrf9160_1.3.5", id.Firmware)
	assert.Equal(t, first.DeviceUUID, id.DeviceUUID)
	var onDisk map[string]string
	data, err := os.ReadFile(filepath.Join(dir, identityFile))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &onDisk))
	assert.Equal(t, "352656100367872", onDisk["imei"])

	_, err = NewCatalog().Open(Config{Dir: t.TempDir(), Hardware: firmware.Knobs{"imei": "352656100367873"}})
	assert.ErrorContains(t, err, "Luhn")
	_, err = NewCatalog().Open(Config{Dir: t.TempDir(), Firmware: firmware.Knobs{"terminator": "semicolon"}})
	assert.ErrorContains(t, err, "terminator")
}

func TestTwoSimulatorsCannotShareAState(t *testing.T) {
	dir := t.TempDir()
	b, err := NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	defer b.Close()
	_, err = NewCatalog().Open(Config{Dir: dir})
	assert.Error(t, err)
}

func TestReservedNordicEntriesAreListed(t *testing.T) {
	b := runBoard(t, Config{})
	s := open(t, b)
	defer s.Close()
	lines := exchange(t, s, "AT%CMNG=1")
	require.Len(t, lines, 4)
	assert.Regexp(t, `^%CMNG: 4294967292,10,"[0-9A-F]{64}"$`, lines[0])
	assert.Regexp(t, `^%CMNG: 4294967294,6,"[0-9A-F]{64}"$`, lines[2])
	exchange(t, s, "AT+CMEE=1")
	assert.Equal(t, []string{"+CME ERROR: 514"}, exchange(t, s, "AT%CMNG=3,4294967292,10"))
}

// A %CMNG write longer than the at_host line cap (4096 bytes with its NUL)
// loses its closing quote, so no terminator ends it: the real board never
// answers and the host times out (nrf91.md §1.1). Nothing is stored, and
// after the idle reset the next command is answered.
func TestCMNGOverTheLineCap(t *testing.T) {
	b := runBoard(t, Config{})
	s := open(t, b)
	defer s.Close()
	exchange(t, s, "AT+CFUN=4")
	fits := `AT%CMNG=0,42,3,"` + strings.Repeat("A", 4095-len(`AT%CMNG=0,42,3,""`)) + `"`
	require.Len(t, fits, 4095)
	assert.Equal(t, []string{"OK"}, exchange(t, s, fits))

	tooLong := `AT%CMNG=0,43,3,"` + strings.Repeat("B", 5000) + `"`
	require.NoError(t, s.Write([]byte(tooLong+"\r\n")))
	assert.Empty(t, s.ReadFor(800*time.Millisecond), "the real host never answers a command cut at the cap")
	time.Sleep(400 * time.Millisecond) // past the one-second quote idle reset
	assert.Equal(t, []string{"OK"}, exchange(t, s, "AT"))
	assert.Equal(t, []string{"OK"}, exchange(t, s, "AT%CMNG=1,43"), "nothing was stored")
	assert.Len(t, exchange(t, s, "AT%CMNG=1,42"), 2)
}

// A client that writes a backlog and closes without reading leaves nothing
// for the next one: neither its partial command (which would turn the next
// client's AT into AT+CGAT, ERROR) nor answers to its commands, %KEYGEN's
// included, however soon the next client opens.
func TestTheNextClientGetsAnswersToItsOwnCommandsOnly(t *testing.T) {
	b := runBoard(t, Config{})
	for i := range 10 {
		s := open(t, b)
		backlog := strings.Repeat("AT+CGMI\r\n", 100) + "AT%KEYGEN=42,2,0\r\n" + strings.Repeat("AT+CGMR\r\n", 20) + "AT+CG"
		require.NoError(t, s.Write([]byte(backlog)))
		require.NoError(t, s.Close())
		// What the board wrote before the close sits in the pty until the port
		// notices the close (well under a millisecond on an idle machine; see
		// ptyport): a tool takes far longer than that to reopen.
		waitClosed(t, b)

		s = open(t, b)
		assertQuiet(t, s, 20*time.Millisecond, "cycle %d: the old client's answers reached the new one", i)
		assert.Equal(t, []string{"OK"}, exchange(t, s, "AT"), "cycle %d", i)
		assertQuiet(t, s, 100*time.Millisecond, "cycle %d: stale bytes after the answer", i)
		require.NoError(t, s.Close())
	}
}

// waitClosed waits until the board's port has noticed that its client closed.
func waitClosed(t *testing.T, b *Board) {
	t.Helper()
	require.Eventually(t, func() bool { return !b.port.ClientOpen() }, 5*time.Second, time.Millisecond)
}

// assertQuiet checks that nothing arrives for d, showing the start of what did.
func assertQuiet(t *testing.T, s *hosttool.Serial, d time.Duration, format string, args ...any) {
	t.Helper()
	got := s.ReadFor(d)
	if len(got) > 0 {
		t.Errorf(format+": %d bytes, starting %q", append(args, len(got), got[:min(len(got), 60)])...)
	}
}

// The identity public key is exported for verifiers, derived from the key
// and written without fsync: a board whose file is gone exports it again.
func TestIdentityPublicKeyIsExportedAgainWhenMissing(t *testing.T) {
	dir := t.TempDir()
	b, err := NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	path := filepath.Join(dir, identityPubFile)
	first, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(first), "-----BEGIN PUBLIC KEY-----")

	require.NoError(t, os.Remove(path))
	b, err = NewCatalog().Open(Config{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, b.Close())
	again, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, first, again, "the same key, exported again")
}
