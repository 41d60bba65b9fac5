package pki

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A kill mid-write left temp files holding CA keys; the next open removes
// them, but not a write in flight of another emulator sharing the directory.
func TestLoadOrCreateRemovesLeftovers(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, ".cakey-x.pem.tmp-1")
	fresh := filepath.Join(dir, ".cakey-y.pem.tmp-2")
	for _, p := range []string{old, fresh} {
		require.NoError(t, os.WriteFile(p, []byte("-----BEGIN PRIVATE KEY-----"), 0o600))
	}
	past := time.Now().Add(-2 * leftoverAge)
	require.NoError(t, os.Chtimes(old, past, past))
	_, err := LoadOrCreate(dir)
	require.NoError(t, err)
	assert.NoFileExists(t, old)
	assert.FileExists(t, fresh)
}
