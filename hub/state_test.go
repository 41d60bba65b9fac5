package hub

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atomicfile"
)

// Two emulators on one state directory used to both start, and the one
// that wrote last erased the other's devices (issue 7).
func TestSecondEmulatorOnOneStateIsRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
	require.NoError(t, err)
	_, err = first.CreateDevice(DeviceSpec{ID: "devA", Auth: AuthSAS})
	require.NoError(t, err)

	second, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
	require.ErrorIs(t, err, atomicfile.ErrLocked)
	assert.Nil(t, second)
	msg := err.Error()
	assert.NotContains(t, msg, "\n", "one line")
	assert.Contains(t, msg, "held by pid "+strconv.Itoa(os.Getpid()))
	assert.Contains(t, msg, filepath.Join(dir, "hub"))

	require.NoError(t, first.Close())
	again, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
	require.NoError(t, err, "the lock is released on Close")
	t.Cleanup(func() { _ = again.Close() })
	_, err = again.Device("devA")
	require.NoError(t, err, "the first emulator's device is still there")
}

// Close-then-reopen is deterministic even while the process forks (a child
// shares the lock file until it execs).
func TestEmulatorCloseReopenLoop(t *testing.T) {
	t.Parallel()
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to fork")
	}
	dir := t.TempDir()
	stop, forked := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(forked)
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = exec.Command(truePath).Run()
		}
	}()
	defer func() { close(stop); <-forked }()
	for i := range 40 {
		e, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
		require.NoError(t, err, "reopen %d", i)
		_, err = e.CreateDevice(DeviceSpec{ID: "dev" + strconv.Itoa(i), Auth: AuthSAS})
		require.NoError(t, err)
		require.NoError(t, e.Close())
	}
	e, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	assert.Len(t, e.Devices(), 40, "no device lost across reopens")
}

// A kill between the temp write and the rename left .registry.json.tmp-*
// files (with every device key) that survived every later start.
func TestLeftoversRemovedOnOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	e, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
	require.NoError(t, err)
	require.NoError(t, e.Close())
	leftovers := []string{
		filepath.Join(dir, "hub", ".registry.json.tmp-123456"),
		filepath.Join(dir, "dps", ".dps.json.tmp-654321"),
	}
	for _, p := range leftovers {
		require.NoError(t, os.WriteFile(p, []byte(`{"devices":{"d":{"primaryKey":"c2VjcmV0"}}}`), 0o600))
	}
	e, err = New(dir, WithPKI(testPKI(t)), WithMQTTAddr(""), WithWebSocketAddr(""))
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	for _, p := range leftovers {
		assert.NoFileExists(t, p)
	}
	assert.FileExists(t, filepath.Join(dir, "hub", "registry.json"))
}

// Ending the context closes the emulator in another goroutine; a Close
// that returns while that one is still releasing the state would make the
// next open fail (the d4_keygen-style race of issue 7, in the hub).
func TestCloseWaitsForTheContextsClose(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for i := range 20 {
		e, err := New(dir, WithPKI(testPKI(t)), WithMQTTAddr("127.0.0.1:0"), WithWebSocketAddr(""))
		require.NoError(t, err, "reopen %d", i)
		ctx, cancel := context.WithCancel(t.Context())
		require.NoError(t, e.Start(ctx))
		cancel()
		<-e.done // the watcher has begun closing
		require.NoError(t, e.Close())
	}
}
