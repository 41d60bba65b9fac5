//go:build unix

package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"golang.org/x/sys/unix"
)

// LockName is the lock file Lock creates in a directory.
const LockName = ".lock"

// ErrLocked: another Lock (in this process or another) holds the directory.
var ErrLocked = errors.New("directory is in use by another process")

// DirLock is an exclusive claim on a state directory; see Lock.
type DirLock struct {
	dir  string
	mu   sync.Mutex
	f    *os.File
	done bool
}

// Lock claims dir exclusively with an flock on dir/.lock and records the
// holder's pid there, so a second claim fails with ErrLocked naming it
// ("<dir>: directory is in use by another process (held by pid 42)").
// flock belongs to the open file description: a second Lock of the same
// directory fails within one process too, and the kernel drops the lock
// when the holder dies (kill -9 included). With the claim held, the
// owner may remove every leftover (RemoveTemps(dir, 0)).
func Lock(dir string) (*DirLock, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w (%s)", dir, ErrLocked, lockHolder(path))
		}
		return nil, fmt.Errorf("atomicfile: flock %s: %w", path, err)
	}
	// The pid is advisory: it only names the holder in the next ErrLocked.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &DirLock{dir: dir, f: f}, nil
}

// Dir is the locked directory.
func (l *DirLock) Dir() string { return l.dir }

// Release gives the directory up; the next Lock succeeds as soon as it
// returns. Idempotent. The explicit LOCK_UN matters: a fork elsewhere in
// the process shares the open file description until the child execs, so
// closing the fd alone could leave the lock held for a moment.
func (l *DirLock) Release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.done {
		return nil
	}
	l.done = true
	errUnlock := unix.Flock(int(l.f.Fd()), unix.LOCK_UN)
	if errUnlock != nil {
		errUnlock = fmt.Errorf("atomicfile: unlock %s: %w", l.dir, errUnlock)
	}
	return errors.Join(errUnlock, l.f.Close())
}

func lockHolder(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "holder unknown"
	}
	pid := string(bytes.TrimSpace(b))
	if _, err := strconv.Atoi(pid); err != nil {
		return "holder unknown"
	}
	return "held by pid " + pid
}

// HeldBy tells, without taking it, whether a Lock holds dir: the holder's
// pid, -1 when it is held by a process that did not say, 0 when free. It is
// for listings (which boards run now), not for mutual exclusion.
func HeldBy(dir string) int {
	path := filepath.Join(dir, LockName)
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB); err == nil {
		_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
		return 0
	}
	b, _ := os.ReadFile(path)
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b)))
	if err != nil || pid <= 0 {
		return -1
	}
	return pid
}
