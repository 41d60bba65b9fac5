package mqttcerts

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	// The forum's files live with the cases that replay them (scenarios/files).
	b, err := os.ReadFile(filepath.Join("..", "scenarios", "files", name))
	require.NoError(t, err)
	return b
}

func byName(a []Array) map[string][]byte {
	m := map[string][]byte{}
	for _, x := range a {
		m[x.Name] = x.Bytes
	}
	return m
}

func TestForumHeaderSizeofAndIncludes(t *testing.T) {
	caLit := readFile(t, "ca-cert-fixed.pem")
	pem := strings.TrimSpace(string(readFile(t, "../../netstack/testdata/DigiCert_Global_Root_G2.pem"))) + "\n"
	tests := []struct {
		name   string
		files  map[string][]byte
		config map[string]int64
		want   map[string]string
	}{
		{"placeholders only", nil, map[string]int64{ConfigSecondaryTag: -1}, map[string]string{
			ArrayCA:         "-----BEGIN CERTIFICATE-----\n-----CERTIFICATE-----\n-----END CERTIFICATE-----\n\x00",
			ArrayPrivateKey: "-----BEGIN RSA PRIVATE KEY-----\n-----CERTIFICATE-----\n-----END RSA PRIVATE KEY-----\n\x00",
		}},
		{"ca-cert.pem included", map[string][]byte{"ca-cert.pem": caLit}, map[string]int64{ConfigSecondaryTag: -1},
			map[string]string{ArrayCA: pem + "\x00"}},
		{"secondary tag set: empty _2 arrays are one NUL", nil, map[string]int64{ConfigSecondaryTag: 11},
			map[string]string{ArrayCA2: "\x00", ArrayDeviceCert2: "\x00"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"mqtt-certs.h": readFile(t, "mqtt-certs.h")}
			for k, v := range tc.files {
				files[k] = v
			}
			arrays, err := Parse("mqtt-certs.h", Source{Files: files, Config: tc.config})
			require.NoError(t, err)
			got := byName(arrays)
			for k, v := range tc.want {
				assert.Equal(t, v, string(got[k]), k)
			}
			_, secondary := got[ArrayCA2]
			assert.Equal(t, tc.config[ConfigSecondaryTag] != -1, secondary)
		})
	}
}

func TestHeaderErrorsSayWhere(t *testing.T) {
	tests := []struct{ src, want string }{
		{"static const unsigned char a[] = {\n\"x\n};", "h.h:2: missing terminating"},
		{"#if 1\nstatic const unsigned char a[] = {\"x\"};", "unterminated #if"},
		{"static const unsigned char a[] = {\n#include \"none.pem\"\n};", "h.h:2: none.pem: No such file"},
		{"static const unsigned char a[2] = {\"abc\"};", "too long"},
		{"int x;", "expected a char array"},
	}
	for _, tc := range tests {
		_, err := Parse("h.h", Source{Files: map[string][]byte{"h.h": []byte(tc.src)}})
		require.ErrorIs(t, err, ErrSyntax, tc.src)
		assert.Contains(t, err.Error(), tc.want)
	}
}

func newStore(t testing.TB) *credstore.Store {
	t.Helper()
	s, err := credstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// W2: the forum user's ca-cert.pem with `BEGIN CA CERTIFICATE` labels is
// added as it is (tls_credential_add stores bytes, NUL included); the
// native TLS socket then refuses it with -22, the fixed labels parse; an
// empty sec tag is W1's -2 (FAILURE-CASES W1, W2).
func TestForumHeaderThroughTheNativeTLSStack(t *testing.T) {
	tests := []struct {
		name      string
		caFile    string
		tag       int64
		wantErrno int
	}{
		{"W2 made-up labels", "ca-cert-ca-labels.pem", 10, -22},
		{"W2 fixed", "ca-cert-fixed.pem", 10, 0},
		{"W1 provisioned to another tag", "ca-cert-fixed.pem", 11, -2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string][]byte{"mqtt-certs.h": readFile(t, "mqtt-certs.h"), "ca-cert.pem": readFile(t, tc.caFile)}
			arrays, err := Parse("mqtt-certs.h", Source{Files: files, Config: map[string]int64{ConfigSecondaryTag: -1}})
			require.NoError(t, err)
			store := newStore(t)
			var logs []string
			types := netstack.ZephyrSlotTypes()
			ret := Provision(store, types, arrays, tc.tag, -1, func(l, m, _, s string) { logs = append(logs, l+" "+m+": "+s) })
			require.Equal(t, 0, ret, "adding never parses: tls_credential_add stores bytes")
			assert.Empty(t, logs)
			stored, err := store.Use(credstore.Key{Tag: uint32(tc.tag), Type: types.CA})
			require.NoError(t, err)
			assert.Equal(t, byte(0), stored[len(stored)-1], "sizeof includes the NUL")
			// Only the CA is real here: the header's placeholder key and
			// certificate are in the tag too, so look at the CA alone.
			stack := netstack.New(nil, caOnly{store, types.CA}, netstack.WithSlotTypes(types), netstack.WithMbedTLSCredentials())
			_, err = stack.NewClientTLS("h", netstack.TLSConfig{SecTags: []uint32{10}})
			assert.Equal(t, tc.wantErrno, errmap.For(errmap.ZephyrNative, err).Errno, "%v", err)
		})
	}
}

// caOnly shows only the CA type of a store.
type caOnly struct {
	s  *credstore.Store
	ca int
}

func (c caOnly) Use(k credstore.Key) ([]byte, error) {
	if k.Type != c.ca {
		return nil, credstore.ErrNotFound
	}
	return c.s.Use(k)
}

func TestProvisionKeepsExistingSlots(t *testing.T) {
	store := newStore(t)
	types := netstack.ZephyrSlotTypes()
	require.NoError(t, store.Put(credstore.Key{Tag: 10, Type: types.CA}, []byte("old\x00")))
	arrays := []Array{{Name: ArrayCA, Bytes: []byte("new\x00")}, {Name: ArrayPrivateKey, Bytes: []byte("k\x00")},
		{Name: ArrayDeviceCert, Bytes: []byte("c\x00")}}
	var logs []string
	assert.Equal(t, 0, Provision(store, types, arrays, 10, -1, func(l, _, _, s string) { logs = append(logs, l+" "+s) }))
	assert.Equal(t, []string{"dbg CA certificate already exists, sec tag: 10"}, logs)
	old, _ := store.Use(credstore.Key{Tag: 10, Type: types.CA})
	assert.Equal(t, "old\x00", string(old))
}

// Placeholders ("" in the header: sizeof 1) are skipped, as
// certificates_provision's `sizeof(x) > 1` does; the secondary tag gets
// the _2 arrays.
func TestProvisionSkipsPlaceholdersAndUsesTheSecondaryTag(t *testing.T) {
	store := newStore(t)
	types := netstack.ZephyrSlotTypes()
	arrays := []Array{{Name: ArrayCA, Bytes: []byte("ca\x00")}, {Name: ArrayPrivateKey, Bytes: []byte{0}},
		{Name: ArrayDeviceCert, Bytes: []byte{0}}, {Name: ArrayCA2, Bytes: []byte("ca2\x00")},
		{Name: ArrayPrivateKey2, Bytes: []byte{0}}, {Name: ArrayDeviceCert2, Bytes: []byte{0}}}
	require.Equal(t, 0, Provision(store, types, arrays, 10, 11, func(string, string, string, string) {}))
	for _, tc := range []struct {
		key  credstore.Key
		want string
	}{{credstore.Key{Tag: 10, Type: types.CA}, "ca\x00"}, {credstore.Key{Tag: 11, Type: types.CA}, "ca2\x00"}} {
		got, err := store.Use(tc.key)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(got))
	}
	_, err := store.Get(credstore.Key{Tag: 10, Type: types.Key})
	assert.ErrorIs(t, err, credstore.ErrNotFound)
	assert.Equal(t, []string{ArrayCA, ArrayPrivateKey, ArrayDeviceCert}, Arrays(-1))
	assert.Len(t, Arrays(11), 6)
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("static const unsigned char a[] = {\n#if __has_include(\"x.pem\")\n#include \"x.pem\"\n#else\n\"\\x41\\101\\n\"\n#endif\n};\n"))
	f.Add([]byte("/* c */ static const char b[4] = \"ab\"; // d\n#if CONFIG_X != -1 && !defined(Y)\n#endif\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		arrays, err := Parse("h.h", Source{Files: map[string][]byte{"h.h": src, "x.pem": []byte("\"pem\\n\"\n")},
			Config: map[string]int64{"CONFIG_X": 3}})
		if err != nil {
			return
		}
		for _, a := range arrays {
			if len(a.Bytes) == 0 {
				t.Fatalf("array %s with no bytes", a.Name)
			}
		}
	})
}

// CStringLines writes the forum's ca-cert.pem from the PEM it was made of.
func TestCStringLinesWritesTheForumFile(t *testing.T) {
	assert.Equal(t, string(readFile(t, "ca-cert-fixed.pem")), string(CStringLines(readFile(t, "DigiCert_Global_Root_G2.pem"))))
	crlf := bytes.ReplaceAll(readFile(t, "DigiCert_Global_Root_G2.pem"), []byte("\n"), []byte("\r\n"))
	assert.Equal(t, string(readFile(t, "ca-cert-fixed.pem")), string(CStringLines(crlf)), "CR line ends dropped")
}
