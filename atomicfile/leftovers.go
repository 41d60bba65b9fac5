package atomicfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RemoveTemps removes the leftovers of interrupted writes in dir (entries
// IsTemp recognises, not in subdirectories) whose last change is at least
// minAge old, and returns their names. A crash between WriteTemp and the
// rename leaves such a file, possibly with a copy of a key, so every owner
// of a directory written through this package calls it on open.
//
// minAge 0 removes every leftover: use it only while holding the directory
// exclusively (see Lock), or a concurrent writer loses its temp file. A
// directory shared by running processes passes an age no write takes.
func RemoveTemps(dir string, minAge time.Duration) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("atomicfile: leftovers in %s: %w", dir, err)
	}
	var removed []string
	var errs []error
	now := time.Now()
	for _, e := range entries {
		if !IsTemp(e.Name()) || !e.Type().IsRegular() {
			continue
		}
		if minAge > 0 {
			info, err := e.Info()
			if err != nil || now.Sub(info.ModTime()) < minAge {
				continue // gone already, or possibly a write in flight
			}
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("atomicfile: remove leftover: %w", err))
			continue
		}
		removed = append(removed, e.Name())
	}
	if len(removed) > 0 {
		if err := SyncDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	return removed, errors.Join(errs...)
}
