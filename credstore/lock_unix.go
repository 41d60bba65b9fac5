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
