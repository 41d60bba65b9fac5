package credstore

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nrf91SecretTypes are the nRF91 %CMNG private-key types (nrf91.md §2 [I]), used here
// as a realistic board configuration.
var nrf91SecretTypes = []int{2, 8, 9}

func openT(t testing.TB, dir string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(dir, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func amazonRootCA1(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "AmazonRootCA1.pem"))
	require.NoError(t, err)
	return b
}

// seed writes a slot file by hand, as a user would with cp.
func seed(t testing.TB, dir string, rel string, content []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, content, 0o644))
}

func TestGoldenDigests(t *testing.T) {
	lf := amazonRootCA1(t)
	// nrf91.md §2 [T]: the file is exactly 1188 bytes with LF line ends and a trailing LF.
	require.Len(t, lf, 1188)
	require.True(t, bytes.HasSuffix(lf, []byte("-----END CERTIFICATE-----\n")))
	require.NotContains(t, string(lf), "\r")
	if sys, err := os.ReadFile("/usr/share/ca-certificates/mozilla/Amazon_Root_CA_1.crt"); err == nil {
		require.Equal(t, sys, lf, "testdata copy differs from the Debian ca-certificates file")
	}
	crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))

	tests := []struct {
		name    string
		content []byte
		size    int
		want    string // nrf91.md §2
	}{
		{"LF with trailing LF [T]", lf, 1188, "2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"},
		{"LF without trailing LF", lf[:len(lf)-1], 1187, "AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"},
		{"CRLF with trailing CRLF", crlf, 1188 + bytes.Count(lf, []byte("\n")), "56AE01E6773BDAEC4BFB216D4005ADB06E4F680BD8BFB8BE4C683CE921681897"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k := Key{Tag: 16842753, Type: 0}
			s := openT(t, dir)
			require.NoError(t, s.Put(k, tc.content))
			e, err := s.Get(k)
			require.NoError(t, err)
			assert.Equal(t, tc.size, e.Size)
			assert.Equal(t, tc.want, e.DigestHex(), "digest computed on Put")
			require.NoError(t, s.Close())

			// Stored verbatim on disk, and the digest computed at Open agrees.
			onDisk, err := os.ReadFile(filepath.Join(dir, "16842753", "0"))
			require.NoError(t, err)
			assert.Equal(t, tc.content, onDisk)
			s2 := openT(t, dir)
			e2, err := s2.Get(k)
			require.NoError(t, err)
			assert.Equal(t, tc.want, e2.DigestHex(), "digest computed on Open")
		})
	}
}

func TestPutGetReadUse(t *testing.T) {
	pem := amazonRootCA1(t)
	binary := []byte{0, 1, 2, 0xff, '\r', '\n', '"', 0}
	tests := []struct {
		name       string
		key        Key
		content    []byte
		secret     []int
		wantSecret bool
	}{
		{"root CA readable", Key{42, 0}, pem, nrf91SecretTypes, false},
		{"private key secret", Key{42, 2}, []byte("-----BEGIN PRIVATE KEY-----\nMC4=\n-----END PRIVATE KEY-----\n"), nrf91SecretTypes, true},
		{"ownership key secret", Key{7, 9}, []byte("k"), nrf91SecretTypes, true},
		{"type 2 readable when the board says so", Key{42, 2}, []byte("key"), nil, false},
		{"arbitrary bytes verbatim", Key{0, 4}, binary, nrf91SecretTypes, false},
		{"largest tag", Key{4294967295, 11}, []byte("x"), nrf91SecretTypes, false},
		{"largest type", Key{1, MaxType}, []byte("y"), []int{MaxType}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openT(t, t.TempDir(), WithSecretTypes(tc.secret...))
			require.NoError(t, s.Put(tc.key, tc.content))

			e, err := s.Get(tc.key)
			require.NoError(t, err)
			assert.Equal(t, Entry{Key: tc.key, Digest: sha256.Sum256(tc.content), Size: len(tc.content), Secret: tc.wantSecret}, e)

			got, err := s.Read(tc.key)
			if tc.wantSecret {
				require.ErrorIs(t, err, ErrNoAccess)
				assert.Nil(t, got)
			} else {
				require.NoError(t, err)
				assert.Equal(t, tc.content, got)
			}

			used, err := s.Use(tc.key)
			require.NoError(t, err)
			assert.Equal(t, tc.content, used, "the device itself uses secrets too")

			onDisk, err := os.ReadFile(s.Path(tc.key))
			require.NoError(t, err)
			assert.Equal(t, tc.content, onDisk)
		})
	}
}

func TestPutRejects(t *testing.T) {
	tests := []struct {
		name    string
		key     Key
		content []byte
		wantErr error
	}{
		{"empty", Key{1, 0}, []byte{}, ErrEmpty},
		{"nil", Key{1, 0}, nil, ErrEmpty},
		{"negative type", Key{1, -1}, []byte("x"), ErrInvalidKey},
		{"type too large", Key{1, MaxType + 1}, []byte("x"), ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir)
			require.ErrorIs(t, s.Put(tc.key, tc.content), tc.wantErr)
			assert.Empty(t, s.List(AnyFilter()))
			assert.Equal(t, 0, s.Usage().Entries)
			_, err := os.Stat(filepath.Join(dir, "1"))
			assert.ErrorIs(t, err, os.ErrNotExist, "nothing written")
		})
	}
}

func TestNotFound(t *testing.T) {
	s := openT(t, t.TempDir(), WithSecretTypes(2))
	require.NoError(t, s.Put(Key{1, 0}, []byte("present")))
	missing := []Key{{1, 1}, {2, 0}, {1, 2}} // {1,2}: a missing secret is "not found", not "no access"
	ops := []struct {
		name string
		do   func(Key) error
	}{
		{"Get", func(k Key) error { _, err := s.Get(k); return err }},
		{"Read", func(k Key) error { _, err := s.Read(k); return err }},
		{"Use", func(k Key) error { _, err := s.Use(k); return err }},
		{"Delete", s.Delete},
	}
	for _, op := range ops {
		for _, k := range missing {
			t.Run(op.name+" "+k.String(), func(t *testing.T) {
				err := op.do(k)
				require.ErrorIs(t, err, ErrNotFound)
				assert.Contains(t, err.Error(), k.String(), "error names the key")
			})
		}
	}
}

func TestReplace(t *testing.T) {
	tests := []struct {
		name     string
		old, new []byte
	}{
		{"grow", []byte("short"), []byte("a much longer replacement")},
		{"shrink", []byte("a much longer original"), []byte("s")},
		{"same bytes", []byte("same"), []byte("same")},
		{"LF to CRLF", []byte("a\nb\n"), []byte("a\r\nb\r\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			k := Key{5, 1}
			s := openT(t, dir)
			require.NoError(t, s.Put(Key{5, 0}, []byte("other")))
			require.NoError(t, s.Put(k, tc.old))
			require.NoError(t, s.Put(k, tc.new))

			e, err := s.Get(k)
			require.NoError(t, err)
			assert.Equal(t, sha256.Sum256(tc.new), e.Digest)
			assert.Equal(t, len(tc.new), e.Size)
			assert.Equal(t, Usage{Entries: 2, Bytes: int64(5 + len(tc.new)), MaxEntries: DefaultMaxEntries, MaxBytes: DefaultMaxBytes}, s.Usage())
			got, err := os.ReadFile(s.Path(k))
			require.NoError(t, err)
			assert.Equal(t, tc.new, got)
			names, err := os.ReadDir(filepath.Join(dir, "5"))
			require.NoError(t, err)
			assert.Len(t, names, 2, "no temp files left behind")
		})
	}
}

func TestDelete(t *testing.T) {
	tests := []struct {
		name       string
		put        []Key
		del        Key
		tagDirGone bool
	}{
		{"last slot of a tag drops the tag directory", []Key{{7, 0}, {8, 0}}, Key{7, 0}, true},
		{"tag directory kept while slots remain", []Key{{7, 0}, {7, 1}}, Key{7, 0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openT(t, dir)
			for _, k := range tc.put {
				require.NoError(t, s.Put(k, []byte(k.String())))
			}
			require.NoError(t, s.Delete(tc.del))
			_, err := s.Get(tc.del)
			require.ErrorIs(t, err, ErrNotFound)
			require.ErrorIs(t, s.Delete(tc.del), ErrNotFound, "second delete")
			_, err = os.Stat(s.Path(tc.del))
			assert.ErrorIs(t, err, os.ErrNotExist)
			_, err = os.Stat(filepath.Dir(s.Path(tc.del)))
			assert.Equal(t, tc.tagDirGone, errors.Is(err, os.ErrNotExist))
			assert.Equal(t, len(tc.put)-1, s.Usage().Entries)
			assert.Equal(t, int64(3*(len(tc.put)-1)), s.Usage().Bytes)

			require.NoError(t, s.Close())
			s2 := openT(t, dir)
			_, err = s2.Get(tc.del)
			require.ErrorIs(t, err, ErrNotFound, "delete persisted")
			assert.Len(t, s2.List(AnyFilter()), len(tc.put)-1)
		})
	}
}

func TestDeleteToleratesHandRemovedFile(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	k := Key{3, 0}
	require.NoError(t, s.Put(k, []byte("x")))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "3")))
	require.NoError(t, s.Delete(k))
	_, err := s.Get(k)
	require.ErrorIs(t, err, ErrNotFound)
}

func keysOf(es []Entry) []Key {
	var out []Key // nil for no entries, like the expectations
	for _, e := range es {
		out = append(out, e.Key)
	}
	return out
}

func TestList(t *testing.T) {
	s := openT(t, t.TempDir(), WithSecretTypes(2))
	// Inserted out of order; tags above 2^31 are modem-reserved but listable (nrf91.md §2 [S]).
	for _, k := range []Key{{4294967294, 0}, {42, 2}, {0, 0}, {42, 0}, {2147483648, 1}, {42, 10}, {1, 2}} {
		require.NoError(t, s.Put(k, []byte(k.String())))
	}
	tests := []struct {
		name   string
		filter Filter
		want   []Key
	}{
		{"all, sorted by tag then type", AnyFilter(), []Key{{0, 0}, {1, 2}, {42, 0}, {42, 2}, {42, 10}, {2147483648, 1}, {4294967294, 0}}},
		{"one tag", TagFilter(42), []Key{{42, 0}, {42, 2}, {42, 10}}},
		{"one type", TypeFilter(2), []Key{{1, 2}, {42, 2}}},
		{"exact", ExactFilter(Key{42, 2}), []Key{{42, 2}}},
		{"exact missing", ExactFilter(Key{42, 1}), nil},
		{"tag missing", TagFilter(43), nil},
		{"reserved tag", TagFilter(4294967294), []Key{{4294967294, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := s.List(tc.filter)
			if tc.want == nil {
				assert.Empty(t, got)
				return
			}
			assert.Equal(t, tc.want, keysOf(got))
			for _, e := range got {
				assert.Equal(t, sha256.Sum256([]byte(e.Key.String())), e.Digest)
				assert.Equal(t, e.Type == 2, e.Secret)
			}
		})
	}
}

func TestFilterMatch(t *testing.T) {
	tests := []struct {
		name   string
		filter Filter
		key    Key
		want   bool
	}{
		{"any", AnyFilter(), Key{9, 9}, true},
		{"tag hit", TagFilter(9), Key{9, 1}, true},
		{"tag miss", TagFilter(9), Key{8, 1}, false},
		{"type hit", TypeFilter(1), Key{8, 1}, true},
		{"type miss", TypeFilter(1), Key{8, 2}, false},
		{"exact hit", ExactFilter(Key{8, 1}), Key{8, 1}, true},
		{"exact miss tag", ExactFilter(Key{8, 1}), Key{9, 1}, false},
		{"exact miss type", ExactFilter(Key{8, 1}), Key{8, 0}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, tc.filter.Match(tc.key))
		})
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"key", Key{42, 0}.String(), "42/0"},
		{"key max", Key{4294967295, 11}.String(), "4294967295/11"},
		{"digest hex uppercase", Entry{Digest: [32]byte{0xab, 0x01}}.DigestHex(), "AB01" + strings.Repeat("0", 60)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, tc.got) })
	}
}

func TestPersistenceAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, WithSecretTypes(nrf91SecretTypes...))
	want := map[Key][]byte{
		{16842753, 0}: amazonRootCA1(t),
		{16842753, 1}: []byte("client cert\r\n"),
		{16842753, 2}: []byte("private key"),
		{9, 3}:        []byte("0123456789abcdef"),
		{9, 4}:        []byte("identity"),
	}
	for k, v := range want {
		require.NoError(t, s.Put(k, v))
	}
	before := s.List(AnyFilter())
	require.NoError(t, s.Close())

	s2 := openT(t, dir, WithSecretTypes(nrf91SecretTypes...))
	assert.Equal(t, before, s2.List(AnyFilter()))
	for k, v := range want {
		got, err := s2.Use(k)
		require.NoError(t, err)
		assert.Equal(t, v, got, k.String())
	}
	assert.Equal(t, len(want), s2.Usage().Entries)
}

func TestOpenHandSeeded(t *testing.T) {
	dir := t.TempDir()
	pem := amazonRootCA1(t)
	seed(t, dir, "42/0", pem) // cp root.pem state/credstore/42/0
	seed(t, dir, "42/2", []byte("key"))
	seed(t, dir, "0/11", []byte("b"))
	seed(t, dir, "4294967295/0", []byte("c"))
	external := filepath.Join(t.TempDir(), "linked.pem")
	require.NoError(t, os.WriteFile(external, []byte("via symlink"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "7"), 0o755))
	require.NoError(t, os.Symlink(external, filepath.Join(dir, "7", "1")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "7", "3"), 0o600)) // must not hang Open

	// Everything below must be ignored (or, for temp files, removed).
	ignored := []string{
		"042/0", "42/00", "42/01", "+1/0", "-1/0", "4294967296/0", "42/2147483648", "42/-1",
		"abc/0", "42/abc", "42/0.pem", "42/ 1", "README.md", "notes.txt", "42/5", // 42/5: empty file
	}
	for _, rel := range ignored {
		content := []byte("ignored " + rel)
		if rel == "42/5" {
			content = nil
		}
		seed(t, dir, rel, content)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "99"), []byte("file, not a directory"), 0o644))
	temps := []string{".0.tmp-123", "42/.0.tmp-456", "42/.2.tmp-"}
	for _, rel := range temps {
		seed(t, dir, rel, []byte("torn"))
	}

	s := openT(t, dir, WithSecretTypes(2))
	assert.Equal(t, []Key{{0, 11}, {7, 1}, {42, 0}, {42, 2}, {4294967295, 0}}, keysOf(s.List(AnyFilter())))
	e, err := s.Get(Key{42, 0})
	require.NoError(t, err)
	assert.Equal(t, "2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1", e.DigestHex())
	assert.Equal(t, 1188, e.Size)
	got, err := s.Use(Key{7, 1})
	require.NoError(t, err)
	assert.Equal(t, "via symlink", string(got))
	_, err = s.Read(Key{42, 2})
	require.ErrorIs(t, err, ErrNoAccess, "hand-seeded secret is still secret")
	assert.Equal(t, int64(len(pem)+3+1+1+len("via symlink")), s.Usage().Bytes)

	for _, rel := range temps {
		_, err := os.Stat(filepath.Join(dir, rel))
		assert.ErrorIs(t, err, os.ErrNotExist, "stray temp %s removed", rel)
	}
	for _, rel := range ignored {
		_, err := os.Stat(filepath.Join(dir, rel))
		assert.NoError(t, err, "foreign file %s left alone", rel)
	}
	readme, err := os.ReadFile(filepath.Join(dir, readmeName))
	require.NoError(t, err)
	assert.Equal(t, readmeText, string(readme))

	// A foreign file where tag 99's directory belongs makes that tag unwritable, nothing else.
	require.Error(t, s.Put(Key{99, 0}, []byte("x")))
	_, err = s.Get(Key{99, 0})
	require.ErrorIs(t, err, ErrNotFound)
	require.NoError(t, s.Put(Key{100, 0}, []byte("x")))
}

func TestOpenLogs(t *testing.T) {
	dir := t.TempDir()
	seed(t, dir, "1/0", []byte("kept"))
	seed(t, dir, "1/.0.tmp-1", []byte("torn"))
	seed(t, dir, "01/0", []byte("foreign"))
	seed(t, dir, "1/x", []byte("foreign"))
	seed(t, dir, "1/2", nil)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := openT(t, dir, WithLogger(log), WithCapacity(1, 0))
	require.NoError(t, s.Put(Key{1, 0}, []byte("new")))
	require.NoError(t, s.Delete(Key{1, 0}))

	tests := []struct{ level, msg, path string }{
		{"INFO", "credstore removed an unfinished write", filepath.Join(dir, "1", ".0.tmp-1")},
		{"WARN", "credstore ignores a file that is not a sec_tag directory", filepath.Join(dir, "01")},
		{"WARN", "credstore ignores a file that is not a type", filepath.Join(dir, "1", "x")},
		{"WARN", "credstore ignores an empty slot file", filepath.Join(dir, "1", "2")},
		{"INFO", "credstore opened", ""},
		{"DEBUG", "credstore put", ""},
		{"DEBUG", "credstore delete", ""},
	}
	out := buf.String()
	for _, tc := range tests {
		t.Run(tc.msg, func(t *testing.T) {
			assert.Contains(t, out, "level="+tc.level+` msg="`+tc.msg+`"`)
			assert.Contains(t, out, tc.path)
		})
	}
}

func TestReadme(t *testing.T) {
	t.Run("written on creation of a nested dir", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "state", "credstore")
		openT(t, dir)
		b, err := os.ReadFile(filepath.Join(dir, readmeName))
		require.NoError(t, err)
		assert.Contains(t, string(b), "<sec_tag>/<type>")
	})
	t.Run("existing one kept", func(t *testing.T) {
		dir := t.TempDir()
		seed(t, dir, readmeName, []byte("my notes"))
		openT(t, dir)
		b, err := os.ReadFile(filepath.Join(dir, readmeName))
		require.NoError(t, err)
		assert.Equal(t, "my notes", string(b))
	})
}

func TestPermissions(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir)
	require.NoError(t, s.Put(Key{1, 2}, []byte("secret")))
	tests := []struct {
		path string
		want os.FileMode
	}{
		{s.Path(Key{1, 2}), 0o600},
		{filepath.Join(dir, "1"), os.ModeDir | 0o700},
		{filepath.Join(dir, lockName), 0o600},
	}
	for _, tc := range tests {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			fi, err := os.Stat(tc.path)
			require.NoError(t, err)
			assert.Equal(t, tc.want, fi.Mode())
		})
	}
}

func TestCapacity(t *testing.T) {
	type put struct {
		key  Key
		size int
	}
	tests := []struct {
		name       string
		maxEntries int
		maxBytes   int64
		before     []put
		put        put
		wantErr    error
		wantUsage  [2]int64 // entries, bytes after the put
	}{
		{"fits exactly", 2, 100, []put{{Key{1, 0}, 60}}, put{Key{1, 1}, 40}, nil, [2]int64{2, 100}},
		{"one byte over", 2, 100, []put{{Key{1, 0}, 60}}, put{Key{1, 1}, 41}, ErrFull, [2]int64{1, 60}},
		{"one entry over", 2, 1000, []put{{Key{1, 0}, 1}, {Key{1, 1}, 1}}, put{Key{2, 0}, 1}, ErrFull, [2]int64{2, 2}},
		{"replace at entry limit", 2, 1000, []put{{Key{1, 0}, 1}, {Key{1, 1}, 1}}, put{Key{1, 1}, 5}, nil, [2]int64{2, 6}},
		{"replace counts new minus old", 2, 100, []put{{Key{1, 0}, 50}, {Key{1, 1}, 50}}, put{Key{1, 1}, 50}, nil, [2]int64{2, 100}},
		{"replace growing past bytes", 2, 100, []put{{Key{1, 0}, 50}, {Key{1, 1}, 50}}, put{Key{1, 1}, 51}, ErrFull, [2]int64{2, 100}},
		{"replace shrinking", 2, 100, []put{{Key{1, 0}, 50}, {Key{1, 1}, 50}}, put{Key{1, 0}, 10}, nil, [2]int64{2, 60}},
		{"unlimited entries", 0, 100, []put{{Key{1, 0}, 1}, {Key{1, 1}, 1}, {Key{1, 2}, 1}}, put{Key{1, 3}, 1}, nil, [2]int64{4, 4}},
		{"unlimited bytes", 5, 0, nil, put{Key{1, 0}, 1 << 16}, nil, [2]int64{1, 1 << 16}},
		{"single entry larger than store", 5, 10, nil, put{Key{1, 0}, 11}, ErrFull, [2]int64{0, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openT(t, t.TempDir(), WithCapacity(tc.maxEntries, tc.maxBytes))
			for _, p := range tc.before {
				require.NoError(t, s.Put(p.key, bytes.Repeat([]byte("b"), p.size)))
			}
			err := s.Put(tc.put.key, bytes.Repeat([]byte("n"), tc.put.size))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			u := s.Usage()
			assert.Equal(t, tc.wantUsage, [2]int64{int64(u.Entries), u.Bytes})
			assert.Equal(t, tc.maxEntries, u.MaxEntries)
			assert.Equal(t, tc.maxBytes, u.MaxBytes)
			if tc.wantErr != nil {
				// The failed put changed nothing, on disk or in memory.
				if e, gerr := s.Get(tc.put.key); gerr == nil {
					assert.NotEqual(t, sha256.Sum256(bytes.Repeat([]byte("n"), tc.put.size)), e.Digest)
				}
			}
		})
	}
}

func TestCapacityDefaults(t *testing.T) {
	s := openT(t, t.TempDir())
	assert.Equal(t, Usage{MaxEntries: DefaultMaxEntries, MaxBytes: DefaultMaxBytes}, s.Usage())
	s2 := openT(t, t.TempDir(), WithCapacity(-1, -5))
	assert.Equal(t, Usage{}, s2.Usage(), "negative means unlimited")
}

func TestSeededOverCapacityOpens(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"1/0", "1/1", "2/0"} {
		seed(t, dir, rel, bytes.Repeat([]byte("s"), 100))
	}
	s := openT(t, dir, WithCapacity(2, 150))
	assert.Equal(t, Usage{Entries: 3, Bytes: 300, MaxEntries: 2, MaxBytes: 150}, s.Usage())

	steps := []struct {
		name    string
		do      func() error
		wantErr error
	}{
		{"new slot refused", func() error { return s.Put(Key{3, 0}, []byte("x")) }, ErrFull},
		{"shrinking replace still over capacity", func() error { return s.Put(Key{1, 0}, []byte("x")) }, ErrFull},
		{"delete always allowed", func() error { return s.Delete(Key{1, 1}) }, nil},
		{"replace leaving 160 of 150 bytes", func() error { return s.Put(Key{1, 0}, bytes.Repeat([]byte("x"), 60)) }, ErrFull},
		{"delete again", func() error { return s.Delete(Key{2, 0}) }, nil},
		{"fits now", func() error { return s.Put(Key{3, 0}, bytes.Repeat([]byte("x"), 50)) }, nil},
	}
	for _, st := range steps {
		err := st.do()
		if st.wantErr != nil {
			require.ErrorIs(t, err, st.wantErr, st.name)
		} else {
			require.NoError(t, err, st.name)
		}
	}
	assert.Equal(t, Usage{Entries: 2, Bytes: 150, MaxEntries: 2, MaxBytes: 150}, s.Usage())
}

func TestLockedInProcess(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	require.NoError(t, err)
	_, err = Open(dir)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), fmt.Sprintf("pid %d", os.Getpid()))
	require.NoError(t, a.Close())
	b := openT(t, dir)
	require.NoError(t, b.Put(Key{1, 0}, []byte("after unlock")))
}

func TestClosed(t *testing.T) {
	s, err := Open(t.TempDir())
	require.NoError(t, err)
	k := Key{1, 0}
	require.NoError(t, s.Put(k, []byte("x")))
	require.NoError(t, s.Close())
	ops := []struct {
		name string
		do   func() error
	}{
		{"Put", func() error { return s.Put(k, []byte("y")) }},
		{"Get", func() error { _, err := s.Get(k); return err }},
		{"Read", func() error { _, err := s.Read(k); return err }},
		{"Use", func() error { _, err := s.Use(k); return err }},
		{"Delete", func() error { return s.Delete(k) }},
		{"Close", s.Close},
	}
	for _, op := range ops {
		t.Run(op.name, func(t *testing.T) { require.ErrorIs(t, op.do(), ErrClosed) })
	}
	assert.Nil(t, s.List(AnyFilter()))
}

func TestCopiesAreIndependent(t *testing.T) {
	s := openT(t, t.TempDir())
	k := Key{1, 0}
	in := []byte("original")
	require.NoError(t, s.Put(k, in))
	in[0] = 'X'
	got, err := s.Read(k)
	require.NoError(t, err)
	assert.Equal(t, "original", string(got), "Put keeps its own copy")
	got[0] = 'Y'
	used, err := s.Use(k)
	require.NoError(t, err)
	assert.Equal(t, "original", string(used), "Read hands out a copy")
}

func TestOpenErrors(t *testing.T) {
	t.Run("dir is a file", func(t *testing.T) {
		f := filepath.Join(t.TempDir(), "file")
		require.NoError(t, os.WriteFile(f, nil, 0o600))
		_, err := Open(f)
		require.Error(t, err)
	})
	t.Run("dangling slot symlink fails loudly", func(t *testing.T) {
		dir := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(dir, "1"), 0o700))
		require.NoError(t, os.Symlink(filepath.Join(dir, "nowhere.pem"), filepath.Join(dir, "1", "0")))
		_, err := Open(dir)
		require.ErrorIs(t, err, os.ErrNotExist)
		assert.Contains(t, err.Error(), filepath.Join(dir, "1", "0"))
		// The failed Open released its lock.
		require.NoError(t, os.Remove(filepath.Join(dir, "1", "0")))
		openT(t, dir)
	})
}

func TestConcurrentUse(t *testing.T) {
	s := openT(t, t.TempDir(), WithSecretTypes(2), WithCapacity(0, 0))
	const workers, rounds = 8, 20
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range rounds {
				k := Key{Tag: uint32(w), Type: i % 3}
				content := fmt.Appendf(nil, "worker %d round %d", w, i)
				if !assert.NoError(t, s.Put(k, content)) {
					return
				}
				e, err := s.Get(k)
				assert.NoError(t, err)
				assert.Equal(t, sha256.Sum256(content), e.Digest, "only this worker writes tag %d", w)
				got, err := s.Use(k)
				assert.NoError(t, err)
				assert.Equal(t, content, got)
				if _, err := s.Read(k); k.Type == 2 {
					assert.ErrorIs(t, err, ErrNoAccess)
				} else {
					assert.NoError(t, err)
				}
				_ = s.List(AnyFilter())
				_ = s.List(TagFilter(uint32((w + 1) % workers)))
				_ = s.Usage()
				if i%5 == 4 {
					assert.NoError(t, s.Delete(k))
				}
			}
		})
	}
	wg.Wait()
	// Cache and disk agree after the storm.
	entries := s.List(AnyFilter())
	var total int64
	for _, e := range entries {
		b, err := os.ReadFile(s.Path(e.Key))
		require.NoError(t, err)
		assert.Equal(t, sha256.Sum256(b), e.Digest)
		total += int64(e.Size)
	}
	assert.Equal(t, Usage{Entries: len(entries), Bytes: total}, s.Usage())
}

// TestAgainstModel runs a random sequence of Puts and Deletes against a map and checks
// that listings (sorted, filtered), usage and a reopened store agree with it.
func TestAgainstModel(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, WithCapacity(0, 0))
	model := map[Key][]byte{}
	rng := rand.New(rand.NewPCG(1, 2))
	tags := []uint32{0, 5, 6, 1 << 31, 1<<32 - 1}
	for i := range 150 {
		k := Key{Tag: tags[rng.IntN(len(tags))], Type: rng.IntN(4)}
		if rng.IntN(3) == 0 {
			err := s.Delete(k)
			if _, ok := model[k]; ok {
				require.NoError(t, err)
				delete(model, k)
			} else {
				require.ErrorIs(t, err, ErrNotFound)
			}
		} else {
			v := fmt.Appendf(nil, "op %d", i)
			require.NoError(t, s.Put(k, v))
			model[k] = v
		}
		want := slices.SortedFunc(maps.Keys(model), compareKeys)
		require.Equal(t, want, keysOf(s.List(AnyFilter())), "op %d", i)
		tag := tags[rng.IntN(len(tags))]
		var wantTag []Key
		for _, k := range want {
			if k.Tag == tag {
				wantTag = append(wantTag, k)
			}
		}
		require.Equal(t, wantTag, keysOf(s.List(TagFilter(tag))), "op %d tag %d", i, tag)
	}
	var total int64
	for _, v := range model {
		total += int64(len(v))
	}
	assert.Equal(t, Usage{Entries: len(model), Bytes: total}, s.Usage())
	require.NoError(t, s.Close())
	s2 := openT(t, dir, WithCapacity(0, 0))
	for k, v := range model {
		got, err := s2.Read(k)
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
	assert.Equal(t, Usage{Entries: len(model), Bytes: total}, s2.Usage())
}

func TestInspectWhileOpenAndAfter(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, WithSecretTypes(2))
	require.NoError(t, err)
	require.NoError(t, s.Put(Key{Tag: 42, Type: 0}, []byte("root")))
	require.NoError(t, s.Put(Key{Tag: 7, Type: 2}, []byte("key")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "42", ".0.tmp-x"), []byte("half"), 0o600))

	inv, err := Inspect(dir, 2)
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), inv.HeldBy, "open stores name their holder")
	require.Len(t, inv.Entries, 2)
	assert.Equal(t, Key{Tag: 7, Type: 2}, inv.Entries[0].Key)
	assert.True(t, inv.Entries[0].Secret)
	assert.Equal(t, sha256.Sum256([]byte("root")), inv.Entries[1].Digest)
	assert.FileExists(t, filepath.Join(dir, "42", ".0.tmp-x"), "Inspect changes nothing")

	require.NoError(t, s.Close())
	inv, err = Inspect(dir, 2)
	require.NoError(t, err)
	assert.Zero(t, inv.HeldBy)
	_, err = Inspect(filepath.Join(dir, "missing"))
	assert.Error(t, err)
}

// A fork elsewhere in the process holds a copy of the lock descriptor until
// it execs; Close must release the lock for it too, so close-then-reopen is
// deterministic (features/d4_keygen.feature once failed here).
func TestCloseThenReopenWhileForking(t *testing.T) {
	dir := t.TempDir()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				_ = exec.Command("true").Run()
			}
		}
	}()
	defer func() { close(stop); wg.Wait() }()
	for range 200 {
		s, err := Open(dir)
		require.NoError(t, err)
		require.NoError(t, s.Close())
	}
}

// MakeTagDirs prepares new sec_tag directories with one sync; an empty one
// holds no slot, before or after a reopen, and a Put into it works.
func TestMakeTagDirs(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, s.Put(Key{7, 0}, []byte("seven")))
	require.NoError(t, s.MakeTagDirs(7, 4294967292, 4294967293))
	for _, tag := range []string{"4294967292", "4294967293"} {
		st, err := os.Stat(filepath.Join(dir, tag))
		require.NoError(t, err, tag)
		assert.True(t, st.IsDir())
	}
	assert.Equal(t, []Key{{7, 0}}, keysOf(s.List(AnyFilter())))
	require.NoError(t, s.Put(Key{4294967292, 10}, []byte("root")))
	require.NoError(t, s.Close())

	s, err = Open(dir)
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, []Key{{7, 0}, {4294967292, 10}}, keysOf(s.List(AnyFilter())), "the empty 4294967293 holds nothing")
	require.NoError(t, s.Close())
	assert.ErrorIs(t, s.MakeTagDirs(1), ErrClosed)
}
