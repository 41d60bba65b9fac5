package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hosttool"
)

// `modemsim --kind nrf7002dk` and nothing else: the shell on a pty behind
// the default link ttyNRF7002DK in the working directory.
func TestKindNRF7002DKNeedsNoOtherFlag(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "--kind", "nrf7002dk")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan())
	first := lines.Text()
	assert.Contains(t, first, "nrf7002dk (zephyr_shell) MAC F4:CE:36:")
	assert.Contains(t, first, "(link ttyNRF7002DK)")

	s, err := hosttool.OpenSerial(filepath.Join(dir, "ttyNRF7002DK"))
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Write([]byte("\r")))
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(string(got), "uart:~$ ") {
		got = append(got, s.ReadFor(50*time.Millisecond)...)
	}
	assert.Equal(t, "\r\n\x1b[1;32muart:~$ \x1b[m", string(got))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	_ = cmd.Wait()
	_, err = os.Stat(filepath.Join(dir, ".modemsim", "nrf7002dk", "nrf7002dk.json"))
	assert.NoError(t, err, "state in ./.modemsim")
}
