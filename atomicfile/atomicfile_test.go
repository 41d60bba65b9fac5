package atomicfile

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	tests := []struct{ name, content string }{
		{"creates", "first"},
		{"replaces", "second, longer than the first"},
		{"shrinks", "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, Write(path, []byte(tc.content)))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.content, string(got))
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temp file left behind")
		})
	}
	assert.Error(t, Write(filepath.Join(dir, "missing", "x"), []byte("x")))
}

func TestWriteTempAndIsTemp(t *testing.T) {
	dir := t.TempDir()
	tmp, err := WriteTemp(dir, "0", []byte("pending"))
	require.NoError(t, err)
	assert.True(t, IsTemp(filepath.Base(tmp)), tmp)
	for name, want := range map[string]bool{"0": false, "README.txt": false, ".0.tmp-123": true, ".lock": false, "x.tmp-1": false} {
		assert.Equal(t, want, IsTemp(name), name)
	}
}

func TestWriteTempIsPrivateWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	tmp, err := WriteTemp(dir, "identity-key.pem", []byte("secret"))
	require.NoError(t, err)
	st, err := os.Stat(tmp)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
}

func TestRemoveTemps(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, age time.Duration) {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(name), 0o600))
		mt := time.Now().Add(-age)
		require.NoError(t, os.Chtimes(p, mt, mt))
	}
	write("registry.json", time.Hour)
	write(".registry.json.tmp-1234", time.Hour)                           // a crash left it an hour ago
	write(".identity-key.pem.tmp-99", 10*time.Minute)                     // a kill during first boot
	write(".registry.json.tmp-5678", 0)                                   // a write in flight, maybe
	write("notes.tmp-1", time.Hour)                                       // not ours: no leading dot
	write(LockName, time.Hour)                                            // not a temp file
	require.NoError(t, os.Mkdir(filepath.Join(dir, ".sub.tmp-1"), 0o700)) // directories are never touched

	removed, err := RemoveTemps(dir, time.Minute)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{".registry.json.tmp-1234", ".identity-key.pem.tmp-99"}, removed)
	assert.FileExists(t, filepath.Join(dir, ".registry.json.tmp-5678"), "younger than minAge: kept")

	removed, err = RemoveTemps(dir, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{".registry.json.tmp-5678"}, removed)
	var names []string
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.ElementsMatch(t, []string{"registry.json", "notes.tmp-1", LockName, ".sub.tmp-1"}, names)

	// With minAge 0 the age is not looked at: a clock set back leaves
	// leftovers "from the future", and they go too.
	write(".registry.json.tmp-future", -time.Hour)
	removed, err = RemoveTemps(dir, 0)
	require.NoError(t, err)
	assert.Equal(t, []string{".registry.json.tmp-future"}, removed)

	_, err = RemoveTemps(filepath.Join(dir, "missing"), 0)
	assert.Error(t, err)
}

func TestLockIsExclusiveAndNamesTheHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Lock(dir)
	require.NoError(t, err)
	assert.Equal(t, dir, l.Dir())

	_, err = Lock(dir)
	require.ErrorIs(t, err, ErrLocked)
	assert.Equal(t, dir+": directory is in use by another process (held by pid "+strconv.Itoa(os.Getpid())+")", err.Error())
	assert.NotContains(t, err.Error(), "\n")

	st, err := os.Stat(filepath.Join(dir, LockName))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	require.NoError(t, l.Release())
	require.NoError(t, l.Release(), "idempotent")
	l2, err := Lock(dir)
	require.NoError(t, err, "released: the next claim succeeds at once")
	require.NoError(t, l2.Release())
}

// TestLockReleaseIsImmediateDespiteForks reopens in a loop while another
// goroutine forks and execs: a child shares the lock's open file
// description until its exec, so a release that only closed the fd would
// let a reopen fail now and then.
func TestLockReleaseIsImmediateDespiteForks(t *testing.T) {
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Skip("no true(1) to fork")
	}
	dir := t.TempDir()
	stop := make(chan struct{})
	forked := make(chan struct{})
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
	for i := range 300 {
		l, err := Lock(dir)
		require.NoError(t, err, "reopen %d", i)
		require.NoError(t, l.Release())
	}
}

func TestHeldBy(t *testing.T) {
	dir := t.TempDir()
	assert.Zero(t, HeldBy(dir), "no lock file")
	l, err := Lock(dir)
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), HeldBy(dir))
	_, err = Lock(dir)
	require.ErrorIs(t, err, ErrLocked, "HeldBy takes nothing")
	require.NoError(t, l.Release())
	assert.Zero(t, HeldBy(dir))
}

func TestWriteUnsynced(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "README.txt")
	for _, content := range []string{"first", "second, longer", "3"} {
		require.NoError(t, WriteUnsynced(path, []byte(content)))
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, content, string(got))
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, entries, 1, "no temp file left behind")
	}
	assert.Error(t, WriteUnsynced(filepath.Join(dir, "missing", "x"), []byte("x")))
}
