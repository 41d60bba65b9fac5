package nrf91modem

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/persona/athost"
)

type testModem struct {
	*Modem
	store *credstore.Store
	mu    sync.Mutex
	urcs  []string
}

func newTestModem(t testing.TB, model string, opts Options) *testModem {
	t.Helper()
	id, err := NewIdentity(rand.Reader, model)
	require.NoError(t, err)
	store, err := credstore.Open(t.TempDir(), credstore.WithSecretTypes(SecretTypes()...))
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	idKey, err := modemkey.NewIdentity(rand.Reader)
	require.NoError(t, err)
	tm := &testModem{store: store}
	if opts.Network.Delay.Duration == 0 {
		opts.Network.Delay.Duration = time.Millisecond
	}
	tm.Modem, err = New(Config{Identity: id, IdentityKey: idKey, Store: store, Options: opts, Notify: func(u string) {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		tm.urcs = append(tm.urcs, u)
	}})
	require.NoError(t, err)
	t.Cleanup(tm.Modem.Close)
	return tm
}

// at sends one line and returns exactly what at_client would write back.
func (tm *testModem) at(t testing.TB, line string) string {
	t.Helper()
	cmd, err := atparser.Parse([]byte(line))
	if err != nil {
		return string(athost.Bare.AppendResponse(nil, atparser.Error()))
	}
	return string(athost.Bare.AppendResponse(nil, tm.Handle(context.Background(), cmd)))
}

func (tm *testModem) urcCount() int {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return len(tm.urcs)
}

func (tm *testModem) takeURCs() []string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	u := tm.urcs
	tm.urcs = nil
	return u
}

type step struct{ send, want string }

func runSteps(t *testing.T, tm *testModem, steps []step) {
	t.Helper()
	for i, s := range steps {
		assert.Equal(t, s.want, tm.at(t, s.send), "step %d: %q", i, s.send)
	}
}

func testCert(t *testing.T, cn string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestIdentityCommands(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	id := tm.Identity()
	require.True(t, LuhnValid(id.IMEI))
	runSteps(t, tm, []step{
		{"AT", "OK\r\n"},
		{"AT?", "ERROR\r\n"},
		{"AT+CGSN", id.IMEI + "\r\nOK\r\n"},
		{"at+cgsn", id.IMEI + "\r\nOK\r\n"},
		{"AT+CGSN=0", id.IMEI + "\r\nOK\r\n"},
		{"AT+CGSN=1", `+CGSN: "` + id.IMEI + "\"\r\nOK\r\n"},
		{"AT+CGSN=2", `+CGSN: "` + id.IMEI[:14] + id.SVN + "\"\r\nOK\r\n"},
		{"AT+CGSN=3", `+CGSN: "` + id.SVN + "\"\r\nOK\r\n"},
		{"AT+CGSN=4", "ERROR\r\n"},
		{"AT+CGSN=?", "+CGSN: (0-3)\r\nOK\r\n"},
		{"AT+CGMI", "Nordic Semiconductor ASA\r\nOK\r\n"},
		{"AT+CGMI?", "ERROR\r\n"},
		{"AT+CGMM", "nRF9151-LACA\r\nOK\r\n"},
		{"AT+CGMR", "mfw_nrf91x1_2.0.2\r\nOK\r\n"},
		{"AT%SHORTSWVER", "%SHORTSWVER: nrf91x1_2.0.2\r\nOK\r\n"},
		{"AT%HWVERSION", "%HWVERSION: nRF9151 LACA A0A\r\nOK\r\n"},
		{"AT%XMODEMUUID", "%XMODEMUUID: " + id.ModemUUID + "\r\nOK\r\n"},
		{"AT%XMODEMUUID?", "ERROR\r\n"},
		{"AT%DEVICEUUID", "%DEVICEUUID: " + id.DeviceUUID + "\r\nOK\r\n"},
		{"AT+NOSUCH", "ERROR\r\n"},
		{"at AT+CGSN", "ERROR\r\n"},
	})
	old := newTestModem(t, "nrf9160", Options{})
	runSteps(t, old, []step{
		{"AT+CGMM", "nRF9160-SICA\r\nOK\r\n"},
		{"AT%DEVICEUUID", "ERROR\r\n"}, // nRF91x1 only
	})
}

func TestCMEE(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{
		{"AT+CMEE?", "+CMEE: 0\r\nOK\r\n"},
		{"AT%CMNG=3,42,0", "ERROR\r\n"}, // +CMEE=0: plain ERROR
		{"AT+CMEE=1", "OK\r\n"},
		{"AT+CMEE?", "+CMEE: 1\r\nOK\r\n"},
		{"AT%CMNG=3,42,0", "+CME ERROR: 513\r\n"},
		{"AT+CMEE=2", "OK\r\n"},
		{"AT%CMNG=3,42,0", "+CME ERROR: 513\r\n"}, // 2 behaves like 1 on nRF9151
		{"AT+CMEE=3", "ERROR\r\n"},
		{"AT+CMEE=?", "+CMEE: (0,1)\r\nOK\r\n"},
	})
}

func TestCFUNAndNotifications(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{
		{"AT+CFUN?", "+CFUN: 0\r\nOK\r\n"},
		{"AT+CFUN=?", "+CFUN: (0,1,4,20,21,30,31,40,41,44)\r\nOK\r\n"},
		{"AT+CFUN=3", "ERROR\r\n"},
		{"AT+CEREG=2", "OK\r\n"},
		{"AT+CSCON=1", "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
		{"AT+CFUN?", "+CFUN: 1\r\nOK\r\n"},
	})
	require.Eventually(t, func() bool { return tm.urcCount() >= 3 }, time.Second, time.Millisecond)
	assert.Equal(t, []string{"+CEREG: 2", "+CSCON: 1", `+CEREG: 1,"67C0","01AA1300",7`}, tm.takeURCs())
	runSteps(t, tm, []step{
		{"AT+CEREG?", `+CEREG: 2,1,"67C0","01AA1300",7` + "\r\nOK\r\n"},
		{"AT+CSCON?", "+CSCON: 1,1\r\nOK\r\n"},
		{"AT+CFUN=4", "OK\r\n"},
		{"AT+CFUN?", "+CFUN: 4\r\nOK\r\n"},
		{"AT+CEREG?", "+CEREG: 2,0\r\nOK\r\n"},
	})
	assert.Equal(t, []string{"+CSCON: 0", "+CEREG: 0"}, tm.takeURCs())
	// Without a subscription nothing is notified.
	quiet := newTestModem(t, "nrf9151", Options{})
	runSteps(t, quiet, []step{{"AT+CFUN=1", "OK\r\n"}, {"AT+CFUN=0", "OK\r\n"}})
	time.Sleep(10 * time.Millisecond)
	assert.Empty(t, quiet.takeURCs())
}

func TestActivationTable(t *testing.T) {
	tests := []struct {
		modes  []string
		active bool
		read   string
	}{
		{[]string{"1"}, true, "1"},
		{[]string{"2"}, true, "2"},
		{[]string{"21"}, true, "1"},
		{[]string{"1", "4"}, false, "4"},
		{[]string{"1", "20"}, false, "4"},
		{[]string{"20"}, false, "0"},
		{[]string{"2", "20"}, false, "4"},
		{[]string{"1", "44"}, false, "4"},
		{[]string{"1", "0"}, false, "0"},
		{[]string{"1", "31"}, true, "1"},
		{[]string{"4", "41"}, false, "4"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.modes, ","), func(t *testing.T) {
			tm := newTestModem(t, "nrf9151", Options{})
			for _, m := range tc.modes {
				require.Equal(t, "OK\r\n", tm.at(t, "AT+CFUN="+m))
			}
			assert.Equal(t, tc.active, tm.Activated())
			assert.Equal(t, "+CFUN: "+tc.read+"\r\nOK\r\n", tm.at(t, "AT+CFUN?"))
		})
	}
}

func readAmazonRoot(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "AmazonRootCA1.pem"))
	require.NoError(t, err)
	require.Len(t, b, 1188)
	return b
}

func TestCMNGDigestVectors(t *testing.T) {
	lf := readAmazonRoot(t)
	crlf := strings.ReplaceAll(string(lf), "\n", "\r\n")
	tests := []struct {
		name    string
		content string
		digest  string
	}{
		// nrf91.md §2 [T]: listed by a real modem on mfw 1.3.5.
		{"LF with trailing LF", string(lf), "2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"},
		{"LF without trailing LF", strings.TrimSuffix(string(lf), "\n"), "AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"},
		{"CRLF with trailing CRLF", crlf, "56AE01E6773BDAEC4BFB216D4005ADB06E4F680BD8BFB8BE4C683CE921681897"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tm := newTestModem(t, "nrf9160", Options{})
			runSteps(t, tm, []step{
				{"AT+CMEE=1", "OK\r\n"},
				{`AT%CMNG=0,16842753,0,"` + tc.content + `"`, "OK\r\n"},
				{"AT%CMNG=1", `%CMNG: 16842753,0,"` + tc.digest + "\"\r\nOK\r\n"},
				{"AT%CMNG=2,16842753,0", `%CMNG: 16842753,0,"` + tc.digest + `","` + tc.content + "\"\r\nOK\r\n"},
			})
		})
	}
}

func TestCMNGRules(t *testing.T) {
	cert := testCert(t, "dev1")
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{"AT%CMNG=1,42", "OK\r\n"}, // empty list → just OK
		{`AT%CMNG=0,42,0,"` + cert + `"`, "OK\r\n"},
		{`AT%CMNG=0,42,1,"` + cert + `"`, "OK\r\n"},
		{`AT%CMNG=0,42,2,"-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n"`, "OK\r\n"},
		{`AT%CMNG=0,42,3,"0123456789ABCDEF"`, "OK\r\n"},
		{`AT%CMNG=0,42,4,"my-identity"`, "OK\r\n"},
		{"AT%CMNG=2,42,2", "+CME ERROR: 514\r\n"}, // private keys never leave
		{"AT%CMNG=2,42,9", "+CME ERROR: 513\r\n"},
		{"AT%CMNG=2,43,0", "+CME ERROR: 513\r\n"},
		{"AT%CMNG=3,43,0", "+CME ERROR: 513\r\n"},
		{`AT%CMNG=0,42,0,"HONKHONK"`, "+CME ERROR: 527\r\n"},                              // mfw ≥ 2.0 validates types 0/1
		{`AT%CMNG=0,42,1,"-----BEGIN CERTIFICATE-----\\nMIIB\\n"`, "+CME ERROR: 527\r\n"}, // literal \n escapes
		{`AT%CMNG=0,42,0,""`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,42,12,"x"`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,42,10,"x"`, "+CME ERROR: 514\r\n"},
		{`AT%CMNG=0,4294967292,0,"` + cert + `"`, "+CME ERROR: 514\r\n"},
		{`AT%CMNG=0,4294967296,0,"x"`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,-1,0,"x"`, "+CME ERROR: 50\r\n"},
		{`AT%CMNG=0,2147483650,3,"00"`, "OK\r\n"}, // TLS-decryptable debug tag
		{"AT%CMNG=4", "+CME ERROR: 50\r\n"},
		{"AT%CMNG=0,42", "ERROR\r\n"},
		{"AT%CMNG=0,42,0,abc", "+CME ERROR: 50\r\n"},
		{"AT%CMNG?", "ERROR\r\n"},
		{"AT%CMNG=1,x", "ERROR\r\n"},
		{"AT%CMNG=3,2147483650,3", "OK\r\n"},
		{"AT%CMNG=3, 42, 4", "OK\r\n"}, // spaces after commas (modem_key_mgmt sends them)
		{"AT%CMNG=1,42,4", "OK\r\n"},
	})
	list := tm.at(t, "AT%CMNG=1,42")
	lines := strings.Split(strings.TrimSuffix(list, "\r\n"), "\r\n")
	require.Len(t, lines, 5)
	for i, l := range lines[:4] {
		assert.Regexp(t, `^%CMNG: 42,`+string(rune('0'+i))+`,"[0-9A-F]{64}"$`, l)
	}
	assert.Equal(t, "OK", lines[4])
	// The whole list includes Nordic's reserved entries on nRF91x1.
	all := tm.at(t, "AT%CMNG=1")
	assert.NotContains(t, all, "4294967292") // not seeded by a bare modem; the board seeds them
}

func TestCMNGOnlineAndPowerOff(t *testing.T) {
	cert := testCert(t, "dev1")
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{`AT%CMNG=0,42,0,"` + cert + `"`, "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
		// M4: writes and deletes are refused while activated; list and read work.
		{`AT%CMNG=0,42,0,"` + cert + `"`, "+CME ERROR: 518\r\n"},
		{"AT%CMNG=3,42,0", "+CME ERROR: 518\r\n"},
		{"AT%CMNG=2,42,0", `%CMNG: 42,0,"` + digestHex(cert) + `","` + cert + "\"\r\nOK\r\n"},
		{"AT+CFUN=4", "OK\r\n"},
		{`AT%CMNG=0,43,0,"` + cert + `"`, "OK\r\n"},
	})
	tm.SetPowerOffWarning(true)
	runSteps(t, tm, []step{{`AT%CMNG=0,44,0,"` + cert + `"`, "+CME ERROR: 528\r\n"}})
}

func TestCMNGPolicies(t *testing.T) {
	cert := testCert(t, "dev1")
	no := false
	lax := newTestModem(t, "nrf9151", Options{ValidatePEM: &no})
	runSteps(t, lax, []step{{`AT%CMNG=0,42,0,"HONKHONK"`, "OK\r\n"}})
	old := newTestModem(t, "nrf9160", Options{}) // mfw 1.3.5 stores anything [T DevZone 48688]
	runSteps(t, old, []step{{`AT%CMNG=0,42,0,"HONKHONK"`, "OK\r\n"}})
	strict := newTestModem(t, "nrf9151", Options{RejectOverwrite: true})
	runSteps(t, strict, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{`AT%CMNG=0,42,0,"` + cert + `"`, "OK\r\n"},
		{`AT%CMNG=0,42,0,"` + cert + `"`, "+CME ERROR: 519\r\n"},
	})
	full, err := credstore.Open(t.TempDir(), credstore.WithCapacity(1, 1<<20))
	require.NoError(t, err)
	defer full.Close()
	tm := newTestModem(t, "nrf9151", Options{})
	tm.Modem.store = full
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{`AT%CMNG=0,1,0,"` + cert + `"`, "OK\r\n"},
		{`AT%CMNG=0,2,0,"` + cert + `"`, "+CME ERROR: 515\r\n"},
	})
}

func digestHex(s string) string {
	e := credstore.Entry{}
	e.Digest = sha256Sum([]byte(s))
	return e.DigestHex()
}

func TestResetIsPowerOn(t *testing.T) {
	tm := newTestModem(t, "nrf9151", Options{})
	runSteps(t, tm, []step{
		{"AT+CMEE=1", "OK\r\n"},
		{"AT+CEREG=2", "OK\r\n"},
		{"AT+CFUN=1", "OK\r\n"},
	})
	tm.Reset()
	tm.takeURCs()
	runSteps(t, tm, []step{
		{"AT+CFUN?", "+CFUN: 0\r\nOK\r\n"},
		{"AT+CMEE?", "+CMEE: 0\r\nOK\r\n"},
		{"AT+CEREG?", "+CEREG: 0,0\r\nOK\r\n"},
	})
	time.Sleep(400 * time.Millisecond) // past the registration delay: the stopped timer stays stopped
	assert.Empty(t, tm.takeURCs())
	assert.False(t, tm.Activated())
}
