//go:build unix

package credstore

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive flock on dir/.lock. flock locks belong to the open file
// description, so a second Open of the same directory fails even within one process,
// and the kernel drops the lock when the holder dies (kill -9 included).
func lockDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w (%s)", ErrLocked, holder(path))
		}
		return nil, fmt.Errorf("flock %s: %w", path, err)
	}
	// Record our pid so the next ErrLocked can name the holder; advisory only.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func holder(path string) string {
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

// unlockDir releases the lock and closes its descriptor. The explicit unlock
// matters: a fork elsewhere in the process (os/exec) holds a copy of the
// descriptor until it execs, and with it the flock; LOCK_UN releases the
// lock for every copy at once, so a reopen right after Close never finds the
// store "held by" this very process.
func unlockDir(f *os.File) error {
	_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
	return f.Close()
}

// heldBy is the pid recorded in the lock file when a process holds the
// lock, 0 when none does (or it cannot be told).
func heldBy(path string) int {
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
		return -1 // held, by a process that did not say
	}
	return pid
}
