// Package atomicfile replaces files so that a crash at any moment leaves
// either the old or the new content, never a torn or empty file: write a
// temporary file in the same directory, fsync it, rename it over the
// target, fsync the directory. Every piece of modemsim state that must
// survive a kill -9 (credentials, identities, registries, PKI) goes
// through it.
package atomicfile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// tmpInfix marks unfinished writes: ".<base>.tmp-<random>". The leading dot
// keeps them out of casual listings; IsTemp recognises leftovers of a crash.
const tmpInfix = ".tmp-"

// ErrNotDurable: the new content is in place, but the directory could not
// be synced, so the rename may not survive a power loss.
var ErrNotDurable = errors.New("atomicfile: renamed but the directory was not synced")

// IsTemp reports whether a directory entry is an unfinished write.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tmpInfix)
}

// WriteTemp writes data to a new file (mode 0600) in dir named after base,
// synced to disk, and returns its path. The caller publishes it (rename,
// hard link) or removes it.
func WriteTemp(dir, base string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, "."+base+tmpInfix+"*") // CreateTemp uses mode 0600
	if err != nil {
		return "", fmt.Errorf("atomicfile: %w", err)
	}
	name := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("atomicfile: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("atomicfile: fsync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("atomicfile: close %s: %w", name, err)
	}
	return name, nil
}

// Write replaces path with data. If the rename happened but the directory
// sync failed, the error wraps ErrNotDurable: the new content is visible.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := WriteTemp(dir, filepath.Base(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: replace %s: %w", path, err)
	}
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("%w: %w", ErrNotDurable, err)
	}
	return nil
}

// WriteUnsynced replaces path with data atomically against a process crash
// (temporary file, rename) but syncs nothing, so a power loss may lose it.
// It is for files derived from durable state and written again when missing
// (a layout README, an exported public key): their fsyncs were a third of a
// fresh board's start.
func WriteUnsynced(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+tmpInfix+"*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("atomicfile: replace %s: %w", path, err)
	}
	return nil
}

// SyncDir makes renames, creations and removals in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("atomicfile: fsync %s: %w", dir, err)
	}
	return d.Close()
}
