package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	tests := []struct{ name, content string }{
		{"creates", "first"},
		{"replaces", "second, longer than the first"},
		{"shrinks", "3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, Write(path, []byte(tc.content)))
			got, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.Equal(t, tc.content, string(got))
			st, err := os.Stat(path)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 1, "no temp file left behind")
		})
	}
	assert.Error(t, Write(filepath.Join(dir, "missing", "x"), []byte("x")))
}

func TestWriteTempAndIsTemp(t *testing.T) {
	dir := t.TempDir()
	tmp, err := WriteTemp(dir, "0", []byte("pending"))
	require.NoError(t, err)
	assert.True(t, IsTemp(filepath.Base(tmp)), tmp)
	for name, want := range map[string]bool{"0": false, "README.txt": false, ".0.tmp-123": true, ".lock": false, "x.tmp-1": false} {
		assert.Equal(t, want, IsTemp(name), name)
	}
}
