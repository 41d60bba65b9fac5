package ptyport

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Environment of the helper process that owns a port until it is killed.
const (
	helperLinkEnv = "PTYPORT_TEST_OWNER_LINK"
	helperNodeEnv = "PTYPORT_TEST_OWNER_NODE"
)

// TestHelperPortOwner is not a test: run by startOwner in a child process, it opens a
// port with the link and/or device node named in its environment, prints the pty
// path, and serves until it is killed.
func TestHelperPortOwner(t *testing.T) {
	link, node := os.Getenv(helperLinkEnv), os.Getenv(helperNodeEnv)
	if link == "" && node == "" {
		t.Skip("helper process only")
	}
	var opts []Option
	if link != "" {
		opts = append(opts, WithLink(link))
	}
	if node != "" {
		opts = append(opts, WithDeviceNode(node))
	}
	p, err := Open(opts...)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	fmt.Println(p.Path())
	select {} // until SIGKILL
}

// owner is a child process that owns a port's names.
type owner struct {
	cmd *exec.Cmd
	pty string
}

// startOwner runs TestHelperPortOwner in a child; it is killed at test end.
func startOwner(t *testing.T, link, node string) *owner {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperPortOwner$")
	cmd.Env = append(os.Environ(), helperLinkEnv+"="+link, helperNodeEnv+"="+node)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	o := &owner{cmd: cmd}
	t.Cleanup(o.kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	require.NoError(t, err)
	o.pty = strings.TrimSpace(line)
	require.True(t, strings.HasPrefix(o.pty, "/dev/pts/"), "helper said %q", o.pty)
	return o
}

// kill ends the owner as kill -9 would: nothing of its cleanup runs.
func (o *owner) kill() {
	if o.cmd.ProcessState == nil {
		_ = o.cmd.Process.Kill()
		_ = o.cmd.Wait()
	}
}

func TestLinkInUseInThisProcess(t *testing.T) {
	link := filepath.Join(t.TempDir(), "ttyNRF91")
	first := openPort(t, WithLink(link))
	_, err := Open(WithLink(link))
	require.ErrorIs(t, err, ErrInUse)
	var inUse *InUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, fmt.Sprintf("ptyport: link %s is in use by pid %d (serving %s)", link, os.Getpid(), first.Path()), err.Error())
	got, err := os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, first.Path(), got, "the owner's link is left alone")

	removed, err := RemoveStale(link)
	require.ErrorIs(t, err, ErrInUse, "a live link is not stale")
	assert.False(t, removed)

	// Once the owner closes, the name is free again (close-then-reopen is
	// deterministic: the lock is dropped before Close returns).
	require.NoError(t, first.Close())
	_, err = os.Lstat(lockPathFor(link))
	assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the lock file")
	second := openPort(t, WithLink(link))
	got, err = os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, second.Path(), got)
}

func TestLinkOwnedByAnotherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	link := filepath.Join(t.TempDir(), "ttyNRF91")
	o := startOwner(t, link, "")

	// A second modemsim in the same directory must not take a live board's link.
	_, err := Open(WithLink(link))
	require.ErrorIs(t, err, ErrInUse)
	var inUse *InUseError
	require.ErrorAs(t, err, &inUse)
	assert.Equal(t, o.cmd.Process.Pid, inUse.PID)
	assert.Equal(t, o.pty, inUse.Serving)
	assert.Equal(t, fmt.Sprintf("ptyport: link %s is in use by pid %d (serving %s)", link, o.cmd.Process.Pid, o.pty), err.Error())
	got, err := os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, o.pty, got)

	// kill -9: the link stays behind, dangling; its lock is gone with the process.
	o.kill()
	_, err = os.Lstat(link)
	require.NoError(t, err, "a killed owner leaves its link")
	p := openPort(t, WithLink(link))
	got, err = os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, p.Path(), got, "a link whose owner is gone is replaced")
}

func TestRemoveStaleAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	link := filepath.Join(t.TempDir(), "ttyNRF91")
	o := startOwner(t, link, "")
	removed, err := RemoveStale(link)
	require.ErrorIs(t, err, ErrInUse)
	assert.Contains(t, err.Error(), fmt.Sprintf("pid %d", o.cmd.Process.Pid))
	assert.False(t, removed)

	o.kill()
	removed, err = RemoveStale(link)
	require.NoError(t, err)
	assert.True(t, removed)
	for _, path := range []string{link, lockPathFor(link)} {
		_, err = os.Lstat(path)
		assert.ErrorIs(t, err, os.ErrNotExist, path)
	}
	removed, err = RemoveStale(link)
	require.NoError(t, err)
	assert.False(t, removed, "nothing there any more")
}

func TestRemoveStale(t *testing.T) {
	dead := openPort(t)
	deadPath := dead.Path()
	require.NoError(t, dead.Close())

	tests := []struct {
		name        string
		prepare     func(t *testing.T, path string)
		wantRemoved bool
		wantErr     error
	}{
		{"nothing", func(*testing.T, string) {}, false, nil},
		{"link to a dead pty", func(t *testing.T, path string) { require.NoError(t, os.Symlink(deadPath, path)) }, true, nil},
		{"dangling link and its lock file", func(t *testing.T, path string) {
			require.NoError(t, os.Symlink("/nonexistent/x", path))
			require.NoError(t, os.WriteFile(lockPathFor(path), []byte("999999\n/dev/pts/99\n"), 0o644))
		}, true, nil},
		{"only a lock file", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(lockPathFor(path), []byte("999999\n/dev/pts/99\n"), 0o644))
		}, false, nil},
		{"empty mount point", func(t *testing.T, path string) { require.NoError(t, os.WriteFile(path, nil, 0o600)) }, true, nil},
		{"link to something else", func(t *testing.T, path string) {
			target := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(target, nil, 0o600))
			require.NoError(t, os.Symlink(target, path))
		}, false, ErrLinkExists},
		{"file with content", func(t *testing.T, path string) {
			require.NoError(t, os.WriteFile(path, []byte("not ours"), 0o600))
		}, false, ErrNodeExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ttyACM-sim")
			tt.prepare(t, path)
			removed, err := RemoveStale(path)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				_, statErr := os.Lstat(path)
				assert.NoError(t, statErr, "left alone")
			} else {
				require.NoError(t, err)
				_, statErr := os.Lstat(path)
				assert.ErrorIs(t, statErr, os.ErrNotExist)
			}
			assert.Equal(t, tt.wantRemoved, removed)
			_, err = os.Lstat(lockPathFor(path))
			assert.ErrorIs(t, err, os.ErrNotExist, "no lock file left")
		})
	}
}

func TestDeviceNodeInUse(t *testing.T) {
	requireRootMount(t)
	node := nodePath(t)
	first := openPort(t, WithDeviceNode(node))
	_, err := Open(WithDeviceNode(node))
	require.ErrorIs(t, err, ErrInUse)
	assert.Equal(t, fmt.Sprintf("ptyport: device node %s is in use by pid %d (serving %s)", node, os.Getpid(), first.Path()), err.Error())
	removed, err := RemoveStale(node)
	require.ErrorIs(t, err, ErrInUse)
	assert.False(t, removed)

	// The live node still works.
	assert.True(t, isMounted(t, node))
	c := openClient(t, node)
	require.Eventually(t, first.ClientOpen, 5*time.Second, time.Millisecond)
	_, err = first.Write([]byte("ok"))
	require.NoError(t, err)
	assert.Equal(t, "ok", string(readFull(t, c, 2)))
}

func TestDeviceNodeLeftByKill(t *testing.T) {
	requireRootMount(t)
	if testing.Short() {
		t.Skip("starts a child process")
	}
	node := nodePath(t)
	o := startOwner(t, "", node)
	assert.True(t, isMounted(t, node))
	o.kill()
	// What pyserial still lists after kill -9: a mounted node that fails with EIO.
	require.True(t, isMounted(t, node), "kill -9 leaves the bind mount")
	fd, err := unix.Open(node, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err == nil {
		_ = unix.Close(fd)
	}
	require.Error(t, err, "the dead node cannot be opened")

	removed, err := RemoveStale(node)
	require.NoError(t, err)
	assert.True(t, removed)
	assert.False(t, isMounted(t, node))
	_, err = os.Lstat(node)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = os.Lstat(lockPathFor(node))
	assert.True(t, errors.Is(err, os.ErrNotExist), "lock file removed")
}

func TestParseOwner(t *testing.T) {
	tests := []struct {
		in      string
		pid     int
		serving string
	}{
		{"1234\n/dev/pts/7\n", 1234, "/dev/pts/7"},
		{"1234\n", 1234, ""},
		{"", 0, ""},
		{"-5\n/dev/pts/1\n", 0, "/dev/pts/1"},
		{"abc\n/etc/passwd\n", 0, ""},
	}
	for _, tt := range tests {
		pid, serving := parseOwner([]byte(tt.in))
		assert.Equal(t, tt.pid, pid, "%q", tt.in)
		assert.Equal(t, tt.serving, serving, "%q", tt.in)
	}
}

func FuzzParseOwner(f *testing.F) {
	f.Add([]byte("1234\n/dev/pts/7\n"))
	f.Add([]byte("\n\n\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, serving := parseOwner(b)
		assert.GreaterOrEqual(t, pid, 0)
		if serving != "" {
			assert.True(t, strings.HasPrefix(serving, "/dev/"))
			assert.NotContains(t, serving, "\n")
		}
	})
}
