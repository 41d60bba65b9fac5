package credstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/modemsim/modemsim/atomicfile"
)

const (
	lockName   = atomicfile.LockName
	readmeName = "README.txt"
	dirPerm    = 0o700 // credentials: owner only
)

const readmeText = `modemsim credential store (the non-volatile storage of one simulated board)

Layout:  <this directory>/<sec_tag>/<type>
  sec_tag  decimal 0..4294967295, no sign, no leading zeros
  type     decimal 0..2147483647, no sign, no leading zeros; what a type means
           (root CA, client certificate, private key, ...) is the board's business
Each slot file holds exactly the stored bytes: nothing is added or stripped, so
its SHA-256 (sha256sum <file>) is the digest the device lists.

Seeding by hand, with the simulator stopped:
  mkdir -p 42 && cp root.pem 42/0
Files are read when the simulator opens the store; edits made while it runs
are not seen and may be overwritten. Other names are ignored, as are empty files.

.lock      held (flock) by the simulator process using this store
.*.tmp-*   unfinished writes of a crashed process; removed on open
`

func formatTag(tag uint32) string { return strconv.FormatUint(uint64(tag), 10) }
func formatType(typ int) string   { return strconv.Itoa(typ) }

// parseCanonical accepts exactly what strconv.FormatUint produces for values <= limit,
// so every slot has one file name and a hand-made "042" cannot shadow "42".
func parseCanonical(s string, limit uint64) (uint64, bool) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > limit {
		return 0, false
	}
	return v, true
}

func parseTag(name string) (uint32, bool) {
	v, ok := parseCanonical(name, 1<<32-1)
	return uint32(v), ok
}

func parseType(name string) (int, bool) {
	v, ok := parseCanonical(name, MaxType)
	return int(v), ok
}

// parseSlotName parses the names of a sec_tag directory and a type file found on disk.
func parseSlotName(tagName, typeName string) (Key, bool) {
	tag, ok := parseTag(tagName)
	if !ok {
		return Key{}, false
	}
	typ, ok := parseType(typeName)
	if !ok {
		return Key{}, false
	}
	return Key{Tag: tag, Type: typ}, true
}

// isTempName recognises unfinished writes; their leading dot keeps them from
// ever parsing as a slot.
func isTempName(name string) bool { return atomicfile.IsTemp(name) }

// writeReadme explains the layout to whoever opens the directory; an existing README
// (perhaps annotated by the user) is kept.
func (s *Store) writeReadme() error {
	_, err := os.Lstat(filepath.Join(s.dir, readmeName))
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	// Documentation, written again when missing: no fsync (atomicfile.WriteUnsynced).
	return atomicfile.WriteUnsynced(filepath.Join(s.dir, readmeName), []byte(readmeText))
}

// MakeTagDirs creates the sec_tag directories of tags that have none, with
// one sync of the store's directory for all of them, so that first writes
// to several new tags (a new board's seeded entries) do not sync it once
// each. An empty sec_tag directory holds no slot.
func (s *Store) MakeTagDirs(tags ...uint32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("credstore: make tag directories: %w", ErrClosed)
	}
	made := false
	for _, tag := range tags {
		switch err := os.Mkdir(filepath.Join(s.dir, formatTag(tag)), dirPerm); {
		case err == nil:
			made = true
		case errors.Is(err, fs.ErrExist):
		default:
			return fmt.Errorf("credstore: make tag directory %d: %w", tag, err)
		}
	}
	if !made {
		return nil
	}
	if err := atomicfile.SyncDir(s.dir); err != nil {
		return fmt.Errorf("credstore: make tag directories: %w", err)
	}
	return nil
}

// writeSlot makes data the content of slot k. visible reports whether the slot file now
// holds data (it may, even with an error, if only the final directory fsync failed).
func (s *Store) writeSlot(k Key, data []byte) (visible bool, err error) {
	tagDir := filepath.Join(s.dir, formatTag(k.Tag))
	switch err := os.Mkdir(tagDir, dirPerm); {
	case err == nil:
		if err := atomicfile.SyncDir(s.dir); err != nil { // the new directory entry must survive too
			return false, err
		}
	case errors.Is(err, fs.ErrExist):
	default:
		return false, err
	}
	return atomicWrite(tagDir, formatType(k.Type), data)
}

// removeSlot deletes slot k's file durably and drops its sec_tag directory once empty.
func (s *Store) removeSlot(k Key) (removed bool, err error) {
	path := s.Path(k)
	tagDir := filepath.Dir(path)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := atomicfile.SyncDir(tagDir); err != nil {
		if errors.Is(err, fs.ErrNotExist) { // removed by hand meanwhile: nothing left to sync
			return true, nil
		}
		return true, err
	}
	// Fails harmlessly while other slots (or foreign files) remain.
	if os.Remove(tagDir) == nil {
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return true, err
		}
	}
	return true, nil
}

// atomicWrite replaces dir/name with data (package atomicfile). visible
// reports whether the new content is in place, even if the directory sync
// that makes it durable failed.
func atomicWrite(dir, name string, data []byte) (visible bool, err error) {
	err = atomicfile.Write(filepath.Join(dir, name), data)
	return err == nil || errors.Is(err, atomicfile.ErrNotDurable), err
}
