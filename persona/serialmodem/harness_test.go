package serialmodem_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/serialmodem"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

const testHost = "sm-hub.azure-devices.net"

var (
	beforeMigration = time.Date(2022, time.June, 1, 12, 0, 0, 0, time.UTC)
	afterMigration  = time.Date(2024, time.June, 1, 12, 0, 0, 0, time.UTC)
)

var (
	pkiOnce sync.Once
	pkiDir  string
	pkiMu   sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pkiDir != "" {
		_ = os.RemoveAll(pkiDir)
	}
	os.Exit(code)
}

// pkiAt shares one set of stand-in roots (RSA keys are slow) per test binary.
func pkiAt(t testing.TB, now time.Time) *pki.PKI {
	t.Helper()
	pkiOnce.Do(func() {
		var err error
		pkiDir, err = os.MkdirTemp("", "serialmodem-pki-")
		require.NoError(t, err)
	})
	pkiMu.Lock()
	defer pkiMu.Unlock()
	p, err := pki.LoadOrCreate(pkiDir, pki.WithClock(fixed(now)))
	require.NoError(t, err)
	return p
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func startHub(t testing.TB, now time.Time) *hub.Emulator {
	t.Helper()
	e, err := hub.New(t.TempDir(), hub.WithPKI(pkiAt(t, now)), hub.WithClock(fixed(now)), hub.WithHostName(testHost),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"))
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	return e
}

// rig is one board running serial_modem on a net.Pipe: the modem, its
// store, the stack toward the hub, and the host's end of the wire.
type rig struct {
	t     testing.TB
	modem *nrf91modem.Modem
	store *credstore.Store
	fw    *serialmodem.Firmware
	host  net.Conn

	mu  sync.Mutex
	out bytes.Buffer
	got chan struct{}
}

func newRig(t testing.TB, e *hub.Emulator, now time.Time) *rig {
	t.Helper()
	return newRigWith(t, e, now, serialmodem.Config{})
}

func newRigWith(t testing.TB, e *hub.Emulator, now time.Time, cfg serialmodem.Config) *rig {
	t.Helper()
	store, err := credstore.Open(t.TempDir(), credstore.WithSecretTypes(nrf91modem.SecretTypes()...))
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	id, err := nrf91modem.NewIdentity(rand.Reader, nrf91modem.DefaultModel)
	require.NoError(t, err)
	key, err := modemkey.NewIdentity(rand.Reader)
	require.NoError(t, err)
	r := &rig{t: t, store: store, got: make(chan struct{}, 1)}
	var fwRef *serialmodem.Firmware
	var fwMu sync.Mutex
	r.modem, err = nrf91modem.New(nrf91modem.Config{Identity: id, IdentityKey: key, Store: store,
		Notify: func(urc string) {
			fwMu.Lock()
			f := fwRef
			fwMu.Unlock()
			if f != nil {
				f.ModemURC(urc)
			}
		},
		Options: nrf91modem.Options{Network: nrf91modem.Network{Delay: firmware.Duration{Duration: 10 * time.Millisecond}}}})
	require.NoError(t, err)
	t.Cleanup(r.modem.Close)
	var stack *netstack.Stack
	if e != nil {
		stack = netstack.NewEmulated(netstack.Endpoint{MQTT: e.MQTTAddr(), WebSocket: e.WebSocketAddr()}, e.PKI(), store,
			netstack.WithClock(fixed(now)))
	}
	r.fw, err = serialmodem.New(serialmodem.Deps{Modem: r.modem, Registered: r.registered, Stack: stack}, cfg)
	require.NoError(t, err)
	fwMu.Lock()
	fwRef = r.fw
	fwMu.Unlock()
	t.Cleanup(func() { _ = r.fw.Close() })

	dev, host := net.Pipe()
	r.host = host
	eng := atengine.New(dev, r.fw.Dialect())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = eng.Run(ctx); close(done) }()
	go r.read()
	require.NoError(t, r.fw.Boot(eng))
	t.Cleanup(func() { cancel(); _ = host.Close(); _ = dev.Close(); <-done })
	return r
}

// registered asks the modem as the board does (+CEREG? stat 1 or 5).
func (r *rig) registered() bool {
	resp := r.modem.Handle(context.Background(), atparser.Command{Name: "+CEREG", Kind: atparser.KindRead})
	if len(resp.Lines) == 0 {
		return false
	}
	parts := strings.Split(resp.Lines[0], ",")
	return len(parts) > 1 && (parts[1] == "1" || parts[1] == "5")
}

func (r *rig) read() {
	buf := make([]byte, 4096)
	for {
		n, err := r.host.Read(buf)
		if n > 0 {
			r.mu.Lock()
			r.out.Write(buf[:n])
			r.mu.Unlock()
			select {
			case r.got <- struct{}{}:
			default:
			}
		}
		if err != nil {
			return
		}
	}
}

func (r *rig) send(s string) {
	r.t.Helper()
	_, err := r.host.Write([]byte(s))
	require.NoError(r.t, err)
}

// expect waits until the output holds want and consumes everything up to
// and including it; it returns what came before want.
func (r *rig) expect(want string) string {
	r.t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		r.mu.Lock()
		s := r.out.String()
		if i := strings.Index(s, want); i >= 0 {
			r.out.Next(i + len(want))
			r.mu.Unlock()
			return s[:i]
		}
		r.mu.Unlock()
		select {
		case <-r.got:
		case <-deadline:
			r.t.Fatalf("waited for %q; the board sent %q", want, s)
		}
	}
}

// exchange sends a command and returns the exact bytes up to its final result.
func (r *rig) exchange(cmd, final string) string {
	r.t.Helper()
	r.send(cmd + "\r")
	return r.expect(final) + final
}

// register powers the modem on and waits until it is registered.
func (r *rig) register() {
	r.t.Helper()
	require.Equal(r.t, "\r\nOK\r\n", r.exchange("AT+CFUN=1", "\r\nOK\r\n"))
	require.Eventually(r.t, r.registered, 20*time.Second, 5*time.Millisecond)
}

func (r *rig) put(tag uint32, typ int, content []byte) {
	r.t.Helper()
	require.NoError(r.t, r.store.Put(credstore.Key{Tag: tag, Type: typ}, content))
}

func realRoot(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "pki", "testdata", file))
	require.NoError(t, err)
	return b
}

// sasDevice registers a device and returns its CONNECT user name and password.
func sasDevice(t testing.TB, e *hub.Emulator, id string, now time.Time) (string, string) {
	t.Helper()
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	_, err := e.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthSAS, PrimaryKey: base64.StdEncoding.EncodeToString(key)})
	require.NoError(t, err)
	return testHost + "/" + id + "/?api-version=2021-04-12", sas.Sign(url.QueryEscape(testHost+"/devices/"+id), key, now.Add(time.Hour), "")
}
