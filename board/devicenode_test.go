package board

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/ptyport"
)

// selectLikeNrfcredstore2 is nrfcredstore 2.x's port selection (comms.py
// select_device, nrf91.md §5.3): realpath the argument, then it must be the
// .device of an entry of pyserial's comports(); then the tool opens it with
// RTS/CTS, writes CRLF, flushes and probes with AT+CGSN.
const selectLikeNrfcredstore2 = `
import os, sys, serial
from serial.tools import list_ports
port = os.path.realpath(sys.argv[1])
found = [p for p in list_ports.comports() if p.device == port]
if not found:
    sys.exit("No device found with port " + port)
s = serial.Serial(found[0].device, 115200, timeout=3, rtscts=True)
s.write(b"\r\n"); s.flush(); s.reset_input_buffer()
s.write(b"AT+CGSN\r\n")
print(s.readline().decode().strip()); print(s.readline().decode().strip())
`

// TestDeviceNodeListedByPyserial exposes the board as /dev/ttyACM<n> and
// checks that pyserial lists it and nrfcredstore 2.x's selection accepts it,
// while the pty path and a symlink to it are refused.
func TestDeviceNodeListedByPyserial(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("device nodes need root (bind mount)")
	}
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import serial.tools.list_ports").Run(); err != nil {
		t.Skip("pyserial not installed (Debian: python3-serial); ci/test.sh installs it")
	}
	node := fmt.Sprintf("/dev/ttyACM%d", 90+os.Getpid()%9)
	link := filepath.Join(t.TempDir(), "ttyNRF91")
	probe, err := NewCatalog().Open(Config{Dir: t.TempDir(), Port: PortConfig{DeviceNode: node}})
	if errors.Is(err, ptyport.ErrMountNotPermitted) {
		t.Skipf("this machine does not allow the bind mount: %v", err)
	}
	require.NoError(t, err)
	require.NoError(t, probe.Close())
	b := runBoard(t, Config{Port: PortConfig{DeviceNode: node, Link: link}})

	out, err := exec.Command(python, "-c", selectLikeNrfcredstore2, node).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, identity(t, b).IMEI+"\nOK\n", string(out))

	for _, refused := range []string{b.PortPath(), link} {
		out, err := exec.Command(python, "-c", selectLikeNrfcredstore2, refused).CombinedOutput()
		assert.Error(t, err, refused)
		assert.True(t, strings.HasPrefix(string(out), "No device found with port /dev/pts/"), "%s", out)
	}
}
