package mqttcerts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
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
// added at boot, and the connect fails with -22; with the labels fixed the
// same CA parses (FAILURE-CASES W2).
func TestW2MadeUpLabelsFailWithEINVAL(t *testing.T) {
	tests := []struct {
		caFile    string
		wantErrno int
		wantLog   string
	}{
		{"ca-cert-ca-labels.pem", -22, "Failed to parse CA certificate, err: -0x2180"},
		{"ca-cert-fixed.pem", 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.caFile, func(t *testing.T) {
			files := map[string][]byte{"mqtt-certs.h": readFile(t, "mqtt-certs.h"), "ca-cert.pem": readFile(t, tc.caFile)}
			arrays, err := Parse("mqtt-certs.h", Source{Files: files, Config: map[string]int64{ConfigSecondaryTag: -1}})
			require.NoError(t, err)
			store := newStore(t)
			var logs []string
			types := netstack.ZephyrSlotTypes()
			ret := Provision(store, types, arrays, 10, -1, func(l, m, s string) { logs = append(logs, l+" "+m+": "+s) })
			require.Equal(t, 0, ret, "adding never parses: tls_credential_add stores bytes")
			assert.Empty(t, logs)
			stored, err := store.Use(credstore.Key{Tag: 10, Type: types.CA})
			require.NoError(t, err)
			assert.Equal(t, byte(0), stored[len(stored)-1], "sizeof includes the NUL")
			errno, line := CheckSecTag(store, types, 10)
			assert.Equal(t, tc.wantErrno, errno)
			assert.Equal(t, tc.wantLog, line)
		})
	}
}

// W1: nothing at the configured sec tag → -ENOENT (-2).
func TestW1NothingAtTheSecTag(t *testing.T) {
	store := newStore(t)
	errno, _ := CheckSecTag(store, netstack.ZephyrSlotTypes(), 10)
	assert.Equal(t, -2, errno)
}

func TestProvisionKeepsExistingSlots(t *testing.T) {
	store := newStore(t)
	types := netstack.ZephyrSlotTypes()
	require.NoError(t, store.Put(credstore.Key{Tag: 10, Type: types.CA}, []byte("old\x00")))
	arrays := []Array{{Name: ArrayCA, Bytes: []byte("new\x00")}, {Name: ArrayPrivateKey, Bytes: []byte("k\x00")},
		{Name: ArrayDeviceCert, Bytes: []byte("c\x00")}}
	var logs []string
	assert.Equal(t, 0, Provision(store, types, arrays, 10, -1, func(l, m, s string) { logs = append(logs, l+" "+s) }))
	assert.Equal(t, []string{"wrn CA certificate already exists, sec tag: 10"}, logs)
	old, _ := store.Use(credstore.Key{Tag: 10, Type: types.CA})
	assert.Equal(t, "old\x00", string(old))
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
