package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrCorrupt: a file in the state directory cannot be used (wrong content, or
// a root that no longer has the expected name). Roots are never silently
// replaced, because certificates users already hold chain to them.
var ErrCorrupt = errors.New("pki: corrupt state file")

// Files in the state directory hold a certificate and its PKCS #8 key.
const (
	dirPerm  = 0o700
	filePerm = 0o600
)

// writeTemp writes data to a new temporary file in dir, synced to disk.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.CreateTemp(dir, ".pki-*.tmp")
	if err != nil {
		return "", fmt.Errorf("pki: create temp file: %w", err)
	}
	name := f.Name()
	if err := f.Chmod(filePerm); err != nil {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("pki: chmod %s: %w", name, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("pki: write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(name)
		return "", fmt.Errorf("pki: sync %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(name)
		return "", fmt.Errorf("pki: close %s: %w", name, err)
	}
	return name, nil
}

// createExclusive publishes data at path only if nothing is there yet. The
// hard link is atomic and fails when path exists, so two processes (or two
// PKI values) generating at once agree on the first one written: the loser
// gets fs.ErrExist and loads the winner's file.
func createExclusive(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fs.ErrExist
		}
		return fmt.Errorf("pki: publish %s: %w", path, err)
	}
	return nil
}

// replaceFile atomically replaces path with data (rename over it).
func replaceFile(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pki: replace %s: %w", path, err)
	}
	return nil
}
