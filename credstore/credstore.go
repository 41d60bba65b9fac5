package credstore

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/modemsim/modemsim/atomicfile"
)

// Sentinel errors; the Store wraps them with the key and details, so test with errors.Is.
var (
	// ErrNotFound: no slot for the key (the nRF91 modem's 513, nrf91.md §2 [S]).
	ErrNotFound = errors.New("credstore: no such credential")
	// ErrFull: the Put would exceed the configured capacity (the modem's 515 "memory full", nrf91.md §2 [S]).
	ErrFull = errors.New("credstore: storage full")
	// ErrNoAccess: the slot's type is secret and cannot be read (the modem's 514, nrf91.md §2 [I]).
	ErrNoAccess = errors.New("credstore: credential is not readable")
	// ErrLocked: another Store (in this or another process) has the directory open.
	ErrLocked = errors.New("credstore: store is in use by another process")
	// ErrEmpty: a slot cannot hold zero bytes (%CMNG content is "mandatory for write, non-empty", nrf91.md §2 [S]).
	ErrEmpty = errors.New("credstore: empty content")
	// ErrInvalidKey: the type is outside 0..MaxType.
	ErrInvalidKey = errors.New("credstore: invalid key")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("credstore: store closed")
)

// MaxType is the largest credential type a slot can have. Types are small enums in
// every dialect; the bound keeps file names canonical and portable across int sizes.
const MaxType = 1<<31 - 1

// Default capacity. Neither the nRF91 modem nor Zephyr's protected storage documents a
// limit (nrf91.md §2 only names the 4096-byte AT line as a practical per-entry cap), so
// these are inferred [I]: generous enough for every forum scenario, small enough that
// "memory full" can be reached on purpose. Boards override them with WithCapacity.
const (
	DefaultMaxEntries       = 256
	DefaultMaxBytes   int64 = 1 << 20
)

// Key identifies a slot: (sec_tag, type) pairs are unique (nrf91.md §2 [S]).
type Key struct {
	Tag  uint32
	Type int
}

// String formats the key as its path relative to the store directory, "<tag>/<type>".
func (k Key) String() string { return formatTag(k.Tag) + "/" + formatType(k.Type) }

func (k Key) validate() error {
	if k.Type < 0 || k.Type > MaxType {
		return fmt.Errorf("%w: type %d outside 0..%d", ErrInvalidKey, k.Type, MaxType)
	}
	return nil
}

// Entry is a slot's metadata.
type Entry struct {
	Key
	Digest [32]byte // SHA-256 of exactly the stored bytes (nrf91.md §2: the modem's sha [T])
	Size   int
	Secret bool // content is usable by the device but never readable
}

// DigestHex returns the digest as 64 uppercase hex characters, as %CMNG prints it (nrf91.md §2 [T]).
func (e Entry) DigestHex() string { return strings.ToUpper(hex.EncodeToString(e.Digest[:])) }

// Filter selects entries for List; a nil field matches any value.
type Filter struct {
	Tag  *uint32
	Type *int
}

// AnyFilter matches every entry.
func AnyFilter() Filter { return Filter{} }

// TagFilter matches every type under one sec_tag.
func TagFilter(tag uint32) Filter { return Filter{Tag: &tag} }

// TypeFilter matches one type under every sec_tag.
func TypeFilter(typ int) Filter { return Filter{Type: &typ} }

// ExactFilter matches the one key.
func ExactFilter(k Key) Filter { return Filter{Tag: &k.Tag, Type: &k.Type} }

// Match reports whether k passes the filter.
func (f Filter) Match(k Key) bool {
	return (f.Tag == nil || *f.Tag == k.Tag) && (f.Type == nil || *f.Type == k.Type)
}

// Usage is the store's current occupancy and its limits (0 = unlimited).
type Usage struct {
	Entries    int
	Bytes      int64
	MaxEntries int
	MaxBytes   int64
}

type options struct {
	secret     map[int]bool
	maxEntries int
	maxBytes   int64
	log        *slog.Logger
}

// Option configures Open.
type Option func(*options)

// WithSecretTypes marks types whose content is never readable, e.g. 2, 8, 9 for the
// nRF91 modem (private keys "non-exportable", nrf91.md §2 [I]). Calls accumulate.
func WithSecretTypes(types ...int) Option {
	return func(o *options) {
		for _, t := range types {
			o.secret[t] = true
		}
	}
}

// WithCapacity limits the number of slots and the sum of their sizes; a Put whose result
// would exceed either fails with ErrFull. Replacing a slot counts its new size minus the
// old one. A value <= 0 means unlimited. Defaults: DefaultMaxEntries, DefaultMaxBytes [I].
func WithCapacity(maxEntries int, maxBytes int64) Option {
	return func(o *options) {
		o.maxEntries = max(maxEntries, 0)
		o.maxBytes = max(maxBytes, 0)
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

type slot struct {
	entry   Entry
	content []byte
}

// Store is one board's credential storage, backed by a directory.
type Store struct {
	dir  string
	opts options
	lock *atomicfile.DirLock

	mu     sync.RWMutex
	slots  map[Key]*slot
	keys   []Key // the keys of slots, sorted by Tag then Type, so List never sorts
	bytes  int64
	closed bool
}

// Open opens (creating if needed) the store in dir, locks it against other Opens,
// removes unfinished writes left by a crash and loads every slot. A store already over
// its capacity (seeded by hand) opens; further growth fails with ErrFull.
func Open(dir string, opts ...Option) (*Store, error) {
	o := options{
		secret:     map[int]bool{},
		maxEntries: DefaultMaxEntries,
		maxBytes:   DefaultMaxBytes,
		log:        slog.New(slog.DiscardHandler),
	}
	for _, opt := range opts {
		opt(&o)
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("credstore: open %s: %w", dir, err)
	}
	lock, err := atomicfile.Lock(dir)
	if err != nil {
		if errors.Is(err, atomicfile.ErrLocked) {
			return nil, fmt.Errorf("credstore: open %s: %w: %w", dir, ErrLocked, err)
		}
		return nil, fmt.Errorf("credstore: open %s: %w", dir, err)
	}
	s := &Store{dir: dir, opts: o, lock: lock, slots: map[Key]*slot{}}
	if err := s.writeReadme(); err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("credstore: open %s: %w", dir, err)
	}
	if err := s.load(); err != nil {
		_ = lock.Release()
		return nil, fmt.Errorf("credstore: open %s: %w", dir, err)
	}
	u := s.usageLocked()
	o.log.Info("credstore opened", "dir", dir, "entries", u.Entries, "bytes", u.Bytes,
		"max_entries", u.MaxEntries, "max_bytes", u.MaxBytes)
	if s.overCapacity(u.Entries, u.Bytes) {
		o.log.Warn("credstore is over capacity; Puts that keep it there fail", "dir", dir)
	}
	return s, nil
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the file that holds (or would hold) slot k, for diagnostics and seeding.
func (s *Store) Path(k Key) string {
	return filepath.Join(s.dir, formatTag(k.Tag), formatType(k.Type))
}

func (s *Store) isSecret(typ int) bool { return s.opts.secret[typ] }

func (s *Store) overCapacity(entries int, n int64) bool {
	return (s.opts.maxEntries > 0 && entries > s.opts.maxEntries) ||
		(s.opts.maxBytes > 0 && n > s.opts.maxBytes)
}

// Put creates or replaces slot k with a copy of content, durably.
func (s *Store) Put(k Key, content []byte) error {
	if err := k.validate(); err != nil {
		return fmt.Errorf("credstore: put %v: %w", k, err)
	}
	if len(content) == 0 {
		return fmt.Errorf("credstore: put %v: %w", k, ErrEmpty)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("credstore: put %v: %w", k, ErrClosed)
	}
	old, exists := s.slots[k]
	entries, total := len(s.slots), s.bytes+int64(len(content))
	if exists {
		total -= int64(old.entry.Size)
	} else {
		entries++
	}
	if s.overCapacity(entries, total) {
		return fmt.Errorf("credstore: put %v (%d bytes): would hold %d entries, %d bytes; capacity %d entries, %d bytes (0 = unlimited): %w",
			k, len(content), entries, total, s.opts.maxEntries, s.opts.maxBytes, ErrFull)
	}
	data := bytes.Clone(content)
	visible, err := s.writeSlot(k, data)
	if visible {
		// The new content is what the file now holds, durable or not; mirror it.
		s.setSlot(k, data)
		s.bytes = total
	}
	if err != nil {
		return fmt.Errorf("credstore: put %v: %w", k, err)
	}
	s.opts.log.Debug("credstore put", "key", k.String(), "size", len(data), "replaced", exists)
	return nil
}

func compareKeys(a, b Key) int {
	return cmp.Or(cmp.Compare(a.Tag, b.Tag), cmp.Compare(a.Type, b.Type))
}

// setSlot caches data (owned by the store) as slot k's content.
func (s *Store) setSlot(k Key, data []byte) {
	if _, ok := s.slots[k]; !ok {
		i, _ := slices.BinarySearchFunc(s.keys, k, compareKeys)
		s.keys = slices.Insert(s.keys, i, k)
	}
	s.slots[k] = &slot{
		entry:   Entry{Key: k, Digest: sha256.Sum256(data), Size: len(data), Secret: s.isSecret(k.Type)},
		content: data,
	}
}

func (s *Store) dropSlot(k Key) {
	delete(s.slots, k)
	if i, ok := slices.BinarySearchFunc(s.keys, k, compareKeys); ok {
		s.keys = slices.Delete(s.keys, i, i+1)
	}
}

func (s *Store) lookup(op string, k Key) (*slot, error) {
	if s.closed {
		return nil, fmt.Errorf("credstore: %s %v: %w", op, k, ErrClosed)
	}
	sl, ok := s.slots[k]
	if !ok {
		return nil, fmt.Errorf("credstore: %s %v: %w", op, k, ErrNotFound)
	}
	return sl, nil
}

// Get returns slot k's metadata.
func (s *Store) Get(k Key) (Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sl, err := s.lookup("get", k)
	if err != nil {
		return Entry{}, err
	}
	return sl.entry, nil
}

// Read returns a copy of slot k's content, or ErrNoAccess if its type is secret.
func (s *Store) Read(k Key) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sl, err := s.lookup("read", k)
	if err != nil {
		return nil, err
	}
	if sl.entry.Secret {
		return nil, fmt.Errorf("credstore: read %v: %w", k, ErrNoAccess)
	}
	return bytes.Clone(sl.content), nil
}

// Use returns a copy of slot k's content for the device's own use (TLS, signing),
// secret or not. Never hand its result to the host side.
func (s *Store) Use(k Key) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	sl, err := s.lookup("use", k)
	if err != nil {
		return nil, err
	}
	return bytes.Clone(sl.content), nil
}

// Delete removes slot k durably; ErrNotFound if absent.
func (s *Store) Delete(k Key) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	sl, err := s.lookup("delete", k)
	if err != nil {
		return err
	}
	removed, err := s.removeSlot(k)
	if removed {
		s.dropSlot(k)
		s.bytes -= int64(sl.entry.Size)
	}
	if err != nil {
		return fmt.Errorf("credstore: delete %v: %w", k, err)
	}
	s.opts.log.Debug("credstore delete", "key", k.String())
	return nil
}

// List returns the entries that pass f, sorted by Tag then Type. A closed store lists nothing.
func (s *Store) List(f Filter) []Entry {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil
	}
	keys := s.keys
	if f.Tag != nil { // keys are sorted by tag first: narrow to that tag's run
		lo, _ := slices.BinarySearchFunc(keys, Key{Tag: *f.Tag, Type: -1}, compareKeys)
		hi := lo
		for hi < len(keys) && keys[hi].Tag == *f.Tag {
			hi++
		}
		keys = keys[lo:hi]
	}
	var out []Entry
	if f.Type == nil {
		out = make([]Entry, 0, len(keys)) // every key in range matches
	}
	for _, k := range keys {
		if f.Match(k) {
			out = append(out, s.slots[k].entry)
		}
	}
	return out
}

// Usage returns the current occupancy and the configured limits.
func (s *Store) Usage() Usage {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.usageLocked()
}

func (s *Store) usageLocked() Usage {
	return Usage{Entries: len(s.slots), Bytes: s.bytes, MaxEntries: s.opts.maxEntries, MaxBytes: s.opts.maxBytes}
}

// Close releases the directory lock. Every later call fails with ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	s.closed = true
	s.slots, s.keys = nil, nil
	if err := s.lock.Release(); err != nil {
		return fmt.Errorf("credstore: close %s: %w", s.dir, err)
	}
	return nil
}

// load reads every slot file under s.dir; called once from Open with the lock held.
func (s *Store) load() error {
	return scan(s.dir, s.opts.log, s.removeStray, func(k Key, data []byte) {
		s.setSlot(k, data)
		s.bytes += int64(len(data))
	})
}

// scan visits every slot file under dir. Unfinished writes go to stray (nil
// leaves them); files that are not slots are logged and skipped.
func scan(dir string, log *slog.Logger, stray func(path string), visit func(Key, []byte)) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, de := range ents {
		name := de.Name()
		switch {
		case name == lockName || name == readmeName:
			continue
		case isTempName(name):
			if stray != nil {
				stray(filepath.Join(dir, name))
			}
			continue
		}
		tag, ok := parseTag(name)
		if !ok {
			log.Warn("credstore ignores a file that is not a sec_tag directory", "path", filepath.Join(dir, name))
			continue
		}
		tagDir := filepath.Join(dir, name)
		fi, err := os.Stat(tagDir) // follows symlinks: a linked directory is fine
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			log.Warn("credstore ignores a file where a sec_tag directory belongs", "path", tagDir)
			continue
		}
		if err := scanTag(tag, tagDir, log, stray, visit); err != nil {
			return err
		}
	}
	return nil
}

func scanTag(tag uint32, tagDir string, log *slog.Logger, stray func(string), visit func(Key, []byte)) error {
	ents, err := os.ReadDir(tagDir)
	if err != nil {
		return err
	}
	for _, de := range ents {
		name := de.Name()
		path := filepath.Join(tagDir, name)
		if isTempName(name) {
			if stray != nil {
				stray(path)
			}
			continue
		}
		typ, ok := parseType(name)
		if !ok {
			log.Warn("credstore ignores a file that is not a type", "path", path)
			continue
		}
		data, err := readRegular(path)
		if errors.Is(err, errNotRegular) {
			log.Warn("credstore ignores a slot that is not a regular file", "path", path)
			continue
		}
		if err != nil {
			return err
		}
		if len(data) == 0 {
			log.Warn("credstore ignores an empty slot file", "path", path)
			continue
		}
		visit(Key{Tag: tag, Type: typ}, data)
	}
	return nil
}

// Inventory is what Inspect finds in a store's directory.
type Inventory struct {
	Entries []Entry // sorted by tag, then type
	// HeldBy is the pid of the process that has the store open, 0 if none.
	HeldBy int
}

// Inspect lists the slots in dir without opening the store, so it works
// while a simulator serves the board; secretTypes mark the entries whose
// content is never readable. It changes nothing on disk.
func Inspect(dir string, secretTypes ...int) (Inventory, error) {
	var inv Inventory
	if _, err := os.Stat(dir); err != nil {
		return inv, fmt.Errorf("credstore: inspect %s: %w", dir, err)
	}
	secret := map[int]bool{}
	for _, t := range secretTypes {
		secret[t] = true
	}
	err := scan(dir, slog.New(slog.DiscardHandler), nil, func(k Key, data []byte) {
		inv.Entries = append(inv.Entries, Entry{Key: k, Digest: sha256.Sum256(data), Size: len(data), Secret: secret[k.Type]})
	})
	if err != nil {
		return inv, fmt.Errorf("credstore: inspect %s: %w", dir, err)
	}
	slices.SortFunc(inv.Entries, func(a, b Entry) int { return compareKeys(a.Key, b.Key) })
	inv.HeldBy = atomicfile.HeldBy(dir)
	return inv, nil
}

var errNotRegular = errors.New("not a regular file")

func readRegular(path string) ([]byte, error) {
	fi, err := os.Stat(path) // before opening: opening a FIFO blocks
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, errNotRegular
	}
	return os.ReadFile(path)
}

func (s *Store) removeStray(path string) {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.opts.log.Warn("credstore could not remove an unfinished write", "path", path, "err", err)
		return
	}
	s.opts.log.Info("credstore removed an unfinished write", "path", path)
}
