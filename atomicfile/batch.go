package atomicfile

import (
	"sync"
	"sync/atomic"
)

// Batch keeps one file durably in step with state its owner guards with a
// lock, sharing writes among concurrent changes (a group commit): a change
// made while a write is under way goes out with the next write, which
// encodes everything changed by then. A thousand devices registering at
// once then cost a few writes of the whole state instead of a thousand, and
// the owner's lock is not held while the file is synced.
//
// Either way a caller returns once a write that holds its change is on
// disk, as with Write.
type Batch struct {
	path   string
	lock   sync.Locker
	encode func() ([]byte, error)

	gen atomic.Uint64 // snapshots taken, each under lock

	mu      sync.Mutex
	cond    *sync.Cond
	written uint64 // newest generation written (or failed)
	err     error  // of that write
	writing bool   // a Save is encoding and writing

	wmu sync.Mutex // one file write at a time, newest generation wins
}

// NewBatch keeps path in step with what encode returns; encode is called
// with lock held.
func NewBatch(path string, lock sync.Locker, encode func() ([]byte, error)) *Batch {
	b := &Batch{path: path, lock: lock, encode: encode}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Save makes durable every change the caller made under the lock before
// calling it; the caller must not hold the lock.
func (b *Batch) Save() error {
	// A snapshot whose generation is above ticket was taken after this
	// point, so after the caller's change: it holds the change.
	ticket := b.gen.Load()
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.written <= ticket {
		if b.writing {
			b.cond.Wait()
			continue
		}
		b.writing = true
		b.mu.Unlock()
		b.lock.Lock()
		g := b.gen.Add(1)
		data, err := b.encode()
		b.lock.Unlock()
		b.write(g, data, err)
		b.mu.Lock()
		b.writing = false
		b.cond.Broadcast()
	}
	return b.err
}

// SaveLocked encodes and writes now; the caller holds the lock (changes
// that must be on disk before the lock is let go, or undone if the write
// fails).
func (b *Batch) SaveLocked() error {
	g := b.gen.Add(1)
	data, err := b.encode()
	return b.write(g, data, err)
}

// write writes generation g unless a newer one is already on disk (which
// holds everything g holds).
func (b *Batch) write(g uint64, data []byte, encErr error) error {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	stale := g <= b.written
	b.mu.Unlock()
	if stale {
		return nil
	}
	err := encErr
	if err == nil {
		err = Write(b.path, data)
	}
	b.mu.Lock()
	b.written, b.err = g, err
	b.cond.Broadcast()
	b.mu.Unlock()
	return err
}
