package nrf91modem

import (
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
)

// Range edges of %CMNG (issue 14): the first and last tags, the last
// writable one and the first reserved one, the last type and one past it.
func TestCMNGRangeEdges(t *testing.T) {
	cert := testCert(t, "edge")
	tests := []struct{ cmd, want string }{
		{`AT%CMNG=0,0,0,"` + cert + `"`, "OK\r\n"},
		{"AT%CMNG=1,0,0", `%CMNG: 0,0,"` + digestHex(cert) + "\"\r\nOK\r\n"},
		{"AT%CMNG=3,0,0", "OK\r\n"},
		{`AT%CMNG=0,2147483647,3,"00"`, "OK\r\n"}, // last user tag
		{`AT%CMNG=0,2147483667,3,"00"`, "OK\r\n"}, // last TLS-decryptable tag
		{`AT%CMNG=0,2147483668,3,"00"`, "+CME ERROR: 514\r\n"},
		{`AT%CMNG=0,4294967295,3,"00"`, "+CME ERROR: 514\r\n"},
		{`AT%CMNG=0,4294967296,3,"00"`, "+CME ERROR: 50\r\n"},
		{"AT%CMNG=1,4294967295", "OK\r\n"},
		{"AT%CMNG=1,4294967296", "+CME ERROR: 50\r\n"},
		{"AT%CMNG=3,4294967295,11", "+CME ERROR: 513\r\n"},
		{`AT%CMNG=0,42,11,"x"`, "+CME ERROR: 514\r\n"}, // type 11 exists but is Nordic's
		{`AT%CMNG=0,42,12,"x"`, "+CME ERROR: 50\r\n"},
		{"AT%CMNG=1,42,11", "OK\r\n"},
		{"AT%CMNG=1,42,12", "+CME ERROR: 50\r\n"},
		{"AT%CMNG=2,42,11", "+CME ERROR: 513\r\n"},
	}
	tm := newTestModem(t, "nrf9151", Options{})
	require.Equal(t, "OK\r\n", tm.at(t, "AT+CMEE=1"))
	for _, tc := range tests {
		assert.Equal(t, tc.want, tm.at(t, tc.cmd), tc.cmd)
	}
}

// The 5-parameter write carries a PKCS#8 password, for a type-2 key only,
// at most 32 characters (nrf91.md §2 [S]).
func TestCMNGWriteWithPassword(t *testing.T) {
	key := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
	tests := []struct{ cmd, want string }{
		{`AT%CMNG=0,42,2,"` + key + `","secret"`, "OK\r\n"},
		{`AT%CMNG=0,43,2,"` + key + `","` + strings.Repeat("p", 32) + `"`, "OK\r\n"},
		{`AT%CMNG=0,44,2,"` + key + `","` + strings.Repeat("p", 33) + `"`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,45,3,"00","secret"`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,46,2,"` + key + `",secret`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,47,2,"` + key + `","a","b"`, "ERROR\r\n"},
	}
	tm := newTestModem(t, "nrf9151", Options{})
	require.Equal(t, "OK\r\n", tm.at(t, "AT+CMEE=1"))
	for _, tc := range tests {
		assert.Equal(t, tc.want, tm.at(t, tc.cmd), tc.cmd[:20])
	}
	assert.Regexp(t, `^%CMNG: 42,2,"[0-9A-F]{64}"\r\nOK\r\n$`, tm.at(t, "AT%CMNG=1,42,2"))
	assert.Equal(t, "+CME ERROR: 514\r\n", tm.at(t, "AT%CMNG=2,42,2"))
}

func TestXPOFWARN(t *testing.T) {
	cert := testCert(t, "pof")
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{"AT%XPOFWARN=1,30", "OK\r\n"},
		{"AT%XPOFWARN=0", "OK\r\n"},
		{"AT%XPOFWARN=2", "ERROR\r\n"},
		{"AT%XPOFWARN=1,30,5", "ERROR\r\n"},
		{"AT%XPOFWARN?", "ERROR\r\n"},
		{"AT%XPOFWARN", "ERROR\r\n"},
		{`AT%CMNG=0,42,0,"` + cert + `"`, "OK\r\n"},
	})
	tm.SetPowerOffWarning(true)
	assert.Equal(t, []string{"%XPOFWARN: 1,30"}, tm.takeURCs())
	runSteps(t, tm, []step{
		{`AT%CMNG=0,43,0,"` + cert + `"`, "+CME ERROR: 528\r\n"},
		{"AT%CMNG=3,42,0", "+CME ERROR: 528\r\n"},
		{"AT%KEYGEN=44,2,0", "+CME ERROR: 528\r\n"},
		{"AT%CMNG=1,42", `%CMNG: 42,0,"` + digestHex(cert) + "\"\r\nOK\r\n"}, // reading still works
	})
	tm.SetPowerOffWarning(false)
	runSteps(t, tm, []step{{"AT%CMNG=3,42,0", "OK\r\n"}})
}

func TestSeedNordicCredentials(t *testing.T) {
	idKey, err := modemkey.NewIdentity(rand.Reader)
	require.NoError(t, err)
	pub, err := idKey.PublicKeyPEM()
	require.NoError(t, err)
	tests := []struct {
		model string
		want  []credstore.Key
	}{
		{"nrf9151", []credstore.Key{{Tag: 4294967292, Type: TypeNordicRootCA}, {Tag: 4294967293, Type: TypeNordicBasePubKey}, {Tag: 4294967294, Type: TypeIdentityPubKey}}},
		{"nrf9161", []credstore.Key{{Tag: 4294967292, Type: TypeNordicRootCA}, {Tag: 4294967293, Type: TypeNordicBasePubKey}, {Tag: 4294967294, Type: TypeIdentityPubKey}}},
		{"nrf9160", nil},
	}
	for _, tc := range tests {
		t.Run(tc.model, func(t *testing.T) {
			store, err := credstore.Open(t.TempDir(), credstore.WithSecretTypes(SecretTypes()...))
			require.NoError(t, err)
			defer store.Close()
			model, err := LookupModel(tc.model)
			require.NoError(t, err)
			require.NoError(t, SeedNordicCredentials(rand.Reader, store, model, pub))
			entries := store.List(credstore.AnyFilter())
			var keys []credstore.Key
			for _, e := range entries {
				keys = append(keys, credstore.Key{Tag: e.Tag, Type: e.Type})
			}
			assert.Equal(t, tc.want, keys)
			if tc.want == nil {
				return
			}
			got, err := store.Read(credstore.Key{Tag: 4294967294, Type: TypeIdentityPubKey})
			require.NoError(t, err)
			assert.Equal(t, pub, got, "type 6 is the board's identity public key")
			root, err := store.Read(credstore.Key{Tag: 4294967292, Type: TypeNordicRootCA})
			require.NoError(t, err)
			assert.True(t, isPEMCertificates(root))
			// Seeding again leaves the entries alone.
			require.NoError(t, SeedNordicCredentials(rand.Reader, store, model, pub))
			assert.Equal(t, entries, store.List(credstore.AnyFilter()))
		})
	}
}
