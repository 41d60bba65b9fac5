package pki

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
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

// leftoverAge: a temp file this old is no write in flight (a write is one
// fsync'd file of a few kilobytes) but the remains of a crash.
const leftoverAge = time.Minute

// createExclusive publishes data at path only if nothing is there yet. The
// hard link is atomic and fails when path exists, so two processes (or two
// PKI values) generating at once agree on the first one written: the loser
// gets fs.ErrExist and loads the winner's file.
func createExclusive(path string, data []byte) error {
	tmp, err := atomicfile.WriteTemp(filepath.Dir(path), filepath.Base(path), data)
	if err != nil {
		return fmt.Errorf("pki: %w", err)
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

// replaceFile atomically replaces path with data.
func replaceFile(path string, data []byte) error {
	if err := atomicfile.Write(path, data); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	return nil
}
