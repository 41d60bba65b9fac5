package netstack_test

import (
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

const (
	testHost  = "netstack-hub.azure-devices.net"
	primary   = uint32(10)
	secondary = uint32(11)
)

// Dates of the scenarios: before the hub migration (Baltimore chain),
// after it while Baltimore was still valid, and after Baltimore expired.
var (
	beforeMigration = time.Date(2022, time.June, 1, 12, 0, 0, 0, time.UTC)
	afterMigration  = time.Date(2024, time.June, 1, 12, 0, 0, 0, time.UTC)
	afterBaltimore  = time.Date(2025, time.June, 1, 12, 0, 0, 0, time.UTC)
)

var sharedPKIDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "netstack-pki-")
	if err != nil {
		panic(err)
	}
	sharedPKIDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// pkiMu serialises PKI loading: the stand-in roots (RSA) are generated once
// for the test binary and shared by every date.
var pkiMu sync.Mutex

// pkiAt opens the shared stand-in PKI with a fixed clock (roots are reused;
// issuing CAs and server leaves are issued around the date).
func pkiAt(t testing.TB, now time.Time) *pki.PKI {
	t.Helper()
	pkiMu.Lock()
	defer pkiMu.Unlock()
	p, err := pki.LoadOrCreate(sharedPKIDir, pki.WithClock(fixed(now)))
	require.NoError(t, err)
	return p
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// startHub runs an emulator on loopback port 0 with the simulation date.
func startHub(t testing.TB, now time.Time, opts ...hub.Option) *hub.Emulator {
	t.Helper()
	base := []hub.Option{
		hub.WithPKI(pkiAt(t, now)), hub.WithClock(fixed(now)), hub.WithHostName(testHost),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"),
	}
	e, err := hub.New(t.TempDir(), append(base, opts...)...)
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// board is a simulated device: its credential store and its network stack.
type board struct {
	store    *credstore.Store
	stack    *netstack.Stack
	mu       sync.Mutex
	mappings []netstack.RootMapping
}

func newBoard(t testing.TB, e *hub.Emulator, now time.Time, extraNames ...string) *board {
	t.Helper()
	st, err := credstore.Open(t.TempDir(), credstore.WithSecretTypes(2))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	b := &board{store: st}
	ep := netstack.Endpoint{MQTT: e.MQTTAddr(), WebSocket: e.WebSocketAddr()}
	r := netstack.NewEmulatorResolver(ep, extraNames...)
	b.stack = netstack.New(r, st, netstack.WithClock(fixed(now)), netstack.WithTrustMapper(e.PKI()),
		netstack.WithRootMappingHook(func(m netstack.RootMapping) {
			b.mu.Lock()
			b.mappings = append(b.mappings, m)
			b.mu.Unlock()
		}))
	return b
}

func (b *board) put(t testing.TB, tag uint32, typ int, content []byte) {
	t.Helper()
	require.NoError(t, b.store.Put(credstore.Key{Tag: tag, Type: typ}, content))
}

func (b *board) mapped() []netstack.RootMapping {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]netstack.RootMapping(nil), b.mappings...)
}

// realRoot reads a real public root PEM as users paste it.
func realRoot(t testing.TB, name pki.RootName) []byte {
	t.Helper()
	files := map[pki.RootName]string{
		pki.BaltimoreCyberTrustRoot: "Baltimore_CyberTrust_Root.pem",
		pki.DigiCertGlobalRootG2:    "DigiCert_Global_Root_G2.pem",
		pki.MicrosoftRSARoot2017:    "Microsoft_RSA_Root_Certificate_Authority_2017.pem",
	}
	b, err := os.ReadFile(filepath.Join("testdata", files[name]))
	require.NoError(t, err)
	return b
}

// sasDevice registers a SAS device and returns its CONNECT credentials.
func sasDevice(t testing.TB, e *hub.Emulator, id string, now time.Time) (user, pass string) {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	_, err := e.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthSAS, PrimaryKey: base64.StdEncoding.EncodeToString(key)})
	require.NoError(t, err)
	return username(id), sas.Sign(url.QueryEscape(testHost+"/devices/"+id), key, now.Add(time.Hour), "")
}

func username(id string) string { return testHost + "/" + id + "/?api-version=2021-04-12" }

// messages collects incoming PUBLISHes.
type messages struct{ ch chan netstack.Message }

func newMessages() *messages { return &messages{ch: make(chan netstack.Message, 16)} }

func (m *messages) handler(msg netstack.Message) { m.ch <- msg }

func (m *messages) wait(t testing.TB) netstack.Message {
	t.Helper()
	select {
	case msg := <-m.ch:
		return msg
	case <-time.After(20 * time.Second):
		t.Fatal("no message arrived")
	}
	return netstack.Message{}
}

func credstoreKey(tag uint32, typ int) credstore.Key { return credstore.Key{Tag: tag, Type: typ} }
