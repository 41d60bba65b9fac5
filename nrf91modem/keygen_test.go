package nrf91modem

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
)

var keygenLine = regexp.MustCompile(`^%KEYGEN: "([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"\r\nOK\r\n$`)

// keygen runs AT%KEYGEN and returns the decoded message.
func keygen(t *testing.T, tm *testModem, cmd string) *modemkey.KeygenMessage {
	t.Helper()
	resp := tm.at(t, cmd)
	m := keygenLine.FindStringSubmatch(resp)
	require.NotNil(t, m, "%s → %q", cmd, resp)
	msg, err := modemkey.ParseKeygenResponse(m[1])
	require.NoError(t, err)
	return msg
}

// ecdsaWithNULL is AlgorithmIdentifier{ecdsa-with-SHA256, NULL}.
var ecdsaWithNULL = []byte{0x30, 0x0c, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02, 0x05, 0x00}

var oidKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 15}

func TestKEYGENCSR(t *testing.T) {
	tests := []struct {
		name   string
		cmd    string
		wantCN func(id Identity) string
	}{
		{"default CN is the device UUID", "AT%KEYGEN=16842753,2,0", func(id Identity) string { return id.DeviceUUID }},
		{"attribute CN", `AT%KEYGEN=52,2,0,"CN=nrf-352656100367872"`, func(Identity) string { return "nrf-352656100367872" }},
		{"key usage given", `AT%KEYGEN=53,2,0,"CN=dev53","101010000"`, func(Identity) string { return "dev53" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestModem(t, "nrf9151", Options{})
			msg := keygen(t, tm, tc.cmd)
			n, err := strconv.ParseUint(strings.Split(strings.TrimPrefix(tc.cmd, "AT%KEYGEN="), ",")[0], 10, 32)
			require.NoError(t, err)
			tag := uint32(n)

			// The CSR carries the real modem's NULL quirk on ecdsa-with-SHA256
			// (nrf91.md §3 [T]); normalised, it is a standard CSR.
			assert.True(t, bytes.Contains(msg.Body, ecdsaWithNULL))
			norm, err := modemkey.NormalizeCSR(msg.Body)
			require.NoError(t, err)
			assert.False(t, bytes.Contains(norm, ecdsaWithNULL))
			require.NoError(t, err)
			csr, err := x509.ParseCertificateRequest(norm)
			require.NoError(t, err)
			require.NoError(t, csr.CheckSignature())
			assert.Equal(t, tc.wantCN(tm.Identity()), csr.Subject.CommonName)
			assert.Len(t, csr.Subject.Names, 1, "CN-only subject")
			var ku bool
			for _, ext := range csr.Extensions {
				if ext.Id.Equal(oidKeyUsage) {
					ku = true
				}
			}
			assert.True(t, ku, "keyUsage extension requested")

			// The public key is the one stored at (tag, 2), which never reads back.
			stored, err := tm.store.Use(credstore.Key{Tag: tag, Type: TypeClientKey})
			require.NoError(t, err)
			signer, err := modemkey.ParsePrivateKeyPEM(stored)
			require.NoError(t, err)
			assert.True(t, signer.Public().(*ecdsa.PublicKey).Equal(csr.PublicKey))
			require.Equal(t, "OK\r\n", tm.at(t, "AT+CMEE=1"))
			assert.Equal(t, "+CME ERROR: 514\r\n", tm.at(t, "AT%CMNG=2,"+strconv.FormatUint(uint64(tag), 10)+",2"))
			assert.Regexp(t, `^%CMNG: \d+,2,"[0-9A-F]{64}"\r\nOK\r\n$`, tm.at(t, "AT%CMNG=1,"+strconv.FormatUint(uint64(tag), 10)+",2"))

			// The COSE_Sign1 verifies with the board's exported identity key and
			// binds the CSR by its digest.
			idPub, err := modemkey.ParsePublicKeyPEM(mustPEM(t, tm.identityKey.PublicKeyPEM))
			require.NoError(t, err)
			payload, err := modemkey.VerifyCOSE(idPub, msg.COSE, nil)
			require.NoError(t, err)
			assert.NotEmpty(t, payload)
			assert.Equal(t, sha256.Sum256(msg.Body), msg.Digest)
			assert.Equal(t, 9, msg.MsgID)
			assert.Equal(t, tag, msg.SecTag)
			assert.Equal(t, tm.Identity().DeviceUUID, modemkey.FormatUUID(msg.DeviceUUID))
		})
	}
}

func TestKEYGENRules(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{{"AT+CMEE=1", "OK\r\n"}})
	keygen(t, tm, "AT%KEYGEN=42,2,0")
	runSteps(t, tm, []step{
		{"AT%KEYGEN=42,2,0", "+CME ERROR: 519\r\n"}, // a key exists at the tag
		{"AT%CMNG=2,42,2", "+CME ERROR: 514\r\n"},
		{"AT%KEYGEN=42,3,0", "+CME ERROR: 50\r\n"},
		{"AT%KEYGEN=42,2,2", "+CME ERROR: 50\r\n"},
		{"AT%KEYGEN=4294967293,2,0", "+CME ERROR: 514\r\n"},
		{`AT%KEYGEN=43,2,0,"CN"`, "+CME ERROR: 50\r\n"},
		{"AT%KEYGEN=43", "ERROR\r\n"},
		{"AT%KEYGEN?", "ERROR\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
		{"AT%KEYGEN=44,2,0", "+CME ERROR: 518\r\n"},
		{"AT+CFUN=4", "OK\r\n"},
		{"AT%CMNG=1,43", "OK\r\n"}, // a refused request leaves no key behind
	})
	// Content 1: the public key message, with the same stored key.
	msg := keygen(t, tm, "AT%KEYGEN=45,2,1")
	assert.Equal(t, 8, msg.MsgID)
	pub, err := x509.ParsePKIXPublicKey(msg.Body)
	require.NoError(t, err)
	stored, err := tm.store.Use(credstore.Key{Tag: 45, Type: TypeClientKey})
	require.NoError(t, err)
	signer, err := modemkey.ParsePrivateKeyPEM(stored)
	require.NoError(t, err)
	assert.True(t, signer.Public().(*ecdsa.PublicKey).Equal(pub))
	// The endorsement key (type 8) is reused, not replaced, and always
	// answers with its public key message (payload id 8), never a CSR.
	a := keygen(t, tm, "AT%KEYGEN=46,8,1")
	b := keygen(t, tm, "AT%KEYGEN=46,8")
	c := keygen(t, tm, "AT%KEYGEN=46,8,0")
	for _, msg := range []*modemkey.KeygenMessage{a, b, c} {
		assert.Equal(t, modemkey.MsgPubKeyV2, msg.MsgID)
		assert.Equal(t, a.Body, msg.Body)
		_, err := x509.ParsePKIXPublicKey(msg.Body)
		require.NoError(t, err, "the body is a public key, not a CSR")
	}
	stored, err = tm.store.Use(credstore.Key{Tag: 46, Type: TypeEndorsementKey})
	require.NoError(t, err)
	signer, err = modemkey.ParsePrivateKeyPEM(stored)
	require.NoError(t, err)
	pub, err = x509.ParsePKIXPublicKey(a.Body)
	require.NoError(t, err)
	assert.True(t, signer.Public().(*ecdsa.PublicKey).Equal(pub))
}

// Range edges of %KEYGEN (issue 14): sec_tag 0 and 4294967295, the last
// TLS-decryptable tag and the first reserved one.
func TestKEYGENTagEdges(t *testing.T) {
	tests := []struct {
		cmd, want string // want "" = a %KEYGEN answer
	}{
		{"AT%KEYGEN=0,2,0", ""},
		{"AT%KEYGEN=2147483667,2,0", ""},
		{"AT%KEYGEN=2147483668,2,0", "+CME ERROR: 514\r\n"},
		{"AT%KEYGEN=4294967295,2,0", "+CME ERROR: 514\r\n"},
		{"AT%KEYGEN=4294967296,2,0", "+CME ERROR: 50\r\n"},
		{"AT%KEYGEN=-1,2,0", "+CME ERROR: 50\r\n"},
		{"AT%KEYGEN=42,11,0", "+CME ERROR: 50\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.cmd, func(t *testing.T) {
			tm := newTestModem(t, "nrf9151", Options{})
			require.Equal(t, "OK\r\n", tm.at(t, "AT+CMEE=1"))
			if tc.want == "" {
				keygen(t, tm, tc.cmd)
				return
			}
			assert.Equal(t, tc.want, tm.at(t, tc.cmd))
		})
	}
}

func TestKEYGENMemoryFull(t *testing.T) {
	full, err := credstore.Open(t.TempDir(), credstore.WithSecretTypes(SecretTypes()...), credstore.WithCapacity(1, 1<<20))
	require.NoError(t, err)
	defer full.Close()
	require.NoError(t, full.Put(credstore.Key{Tag: 1, Type: TypeRootCA}, []byte("occupied")))
	tm := newTestModem(t, "nrf9151", Options{})
	tm.Modem.store, tm.store = full, full
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{"AT%KEYGEN=42,2,0", "+CME ERROR: 515\r\n"},
		{"AT%CMNG=1,42", "OK\r\n"},
	})
}

func TestATTESTTOKEN(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	re := regexp.MustCompile(`^%ATTESTTOKEN: "([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"\r\nOK\r\n$`)
	m := re.FindStringSubmatch(tm.at(t, `AT%ATTESTTOKEN="00112233445566778899aabbccddeeff"`))
	require.NotNil(t, m)
	tok, err := modemkey.ParseAttestationToken(m[1])
	require.NoError(t, err)
	assert.Equal(t, tm.Identity().DeviceUUID, modemkey.FormatUUID(tok.DeviceUUID))
	assert.Equal(t, tm.Identity().ModemUUID, modemkey.FormatUUID(tok.FirmwareUUID))
	assert.Equal(t, 6, tok.DeviceType) // nRF9151 LACA
	assert.Equal(t, "00112233-4455-6677-8899-aabbccddeeff", modemkey.FormatUUID(tok.Nonce))
	idPub, err := modemkey.ParsePublicKeyPEM(mustPEM(t, tm.identityKey.PublicKeyPEM))
	require.NoError(t, err)
	_, err = modemkey.VerifyCOSE(idPub, tok.COSE, tok.Body)
	require.NoError(t, err)
	assert.Regexp(t, re, tm.at(t, "AT%ATTESTTOKEN"))
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{`AT%ATTESTTOKEN="0011"`, "+CME ERROR: 50\r\n"},
		{"AT%ATTESTTOKEN=?", "ERROR\r\n"},
	})
}

func mustPEM(t *testing.T, f func() ([]byte, error)) []byte {
	t.Helper()
	b, err := f()
	require.NoError(t, err)
	return b
}
