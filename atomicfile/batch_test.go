package atomicfile

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// counter is state guarded by a lock, persisted as JSON.
type counter struct {
	mu      sync.Mutex
	Values  map[int]bool
	encodes atomic.Int64
	fail    error
}

func (c *counter) encode() ([]byte, error) {
	c.encodes.Add(1)
	if c.fail != nil {
		return nil, c.fail
	}
	return json.Marshal(c.Values)
}

func readValues(t *testing.T, path string) map[int]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[int]bool
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func TestBatchEveryChangeIsOnDiskWhenSaveReturns(t *testing.T) {
	for _, tc := range []struct {
		name    string
		writers int
		locked  bool // half the writers use SaveLocked
	}{
		{"one writer", 1, false},
		{"many writers share writes", 64, false},
		{"mixed with SaveLocked", 64, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state.json")
			c := &counter{Values: map[int]bool{}}
			b := NewBatch(path, &c.mu, c.encode)
			var wg sync.WaitGroup
			for i := range tc.writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c.mu.Lock()
					c.Values[i] = true
					if tc.locked && i%2 == 0 {
						err := b.SaveLocked()
						c.mu.Unlock()
						assert.NoError(t, err)
					} else {
						c.mu.Unlock()
						assert.NoError(t, b.Save())
					}
					// Durable when Save returns: this change is in the file now.
					assert.True(t, readValues(t, path)[i], "value %d", i)
				}()
			}
			wg.Wait()
			assert.Len(t, readValues(t, path), tc.writers)
			assert.LessOrEqual(t, c.encodes.Load(), int64(tc.writers))
		})
	}
}

func TestBatchReportsAFailedWrite(t *testing.T) {
	c := &counter{Values: map[int]bool{}}
	boom := errors.New("encode failed")
	c.fail = boom
	b := NewBatch(filepath.Join(t.TempDir(), "state.json"), &c.mu, c.encode)
	assert.ErrorIs(t, b.Save(), boom)
	c.mu.Lock()
	assert.ErrorIs(t, b.SaveLocked(), boom)
	c.mu.Unlock()
	c.fail = nil
	assert.NoError(t, b.Save(), "the next write succeeds")

	dirGone := NewBatch(filepath.Join(t.TempDir(), "missing", "state.json"), &c.mu, c.encode)
	assert.Error(t, dirGone.Save())
}
