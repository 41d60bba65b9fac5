package azuresample_test

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/kconfig"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/pki"
)

const testHost = "ncs-sample.azure-devices.net"

// Dates: the hub moved to DigiCert G2 by Oct 2023, DPS by 15 Feb 2024
// (azure-iot-hub.md §3.3); Baltimore expired 12 May 2025.
var (
	afterHubBeforeDPS = time.Date(2024, time.January, 20, 12, 0, 0, 0, time.UTC)
	afterBoth         = time.Date(2024, time.June, 1, 12, 0, 0, 0, time.UTC)
)

var (
	pkiDir string
	pkiMu  sync.Mutex
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "azuresample-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

// reasons collects the emulator's refusals (hub and DPS).
type reasons struct {
	mu  sync.Mutex
	hub []hub.Reason
	dps []dps.Reason
}

func (r *reasons) dpsChecks() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, x := range r.dps {
		out = append(out, x.Check)
	}
	return out
}

type env struct {
	e       *hub.Emulator
	now     time.Time
	reasons *reasons
}

func startHub(t *testing.T, now time.Time) *env {
	t.Helper()
	pkiMu.Lock()
	p, err := pki.LoadOrCreate(pkiDir, pki.WithClock(fixed(now)))
	pkiMu.Unlock()
	require.NoError(t, err)
	r := &reasons{}
	e, err := hub.New(t.TempDir(), hub.WithPKI(p), hub.WithClock(fixed(now)), hub.WithHostName(testHost),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"),
		hub.WithReasonSink(func(x hub.Reason) { r.mu.Lock(); r.hub = append(r.hub, x); r.mu.Unlock() }),
		hub.WithDPSOptions(dps.WithAssigningPolls(1), dps.WithRetryAfter(time.Second),
			dps.WithReasonSink(func(x dps.Reason) { r.mu.Lock(); r.dps = append(r.dps, x); r.mu.Unlock() })))
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	return &env{e: e, now: now, reasons: r}
}

// fakeModem answers what lte_lc sends and registers a moment after +CFUN=1,
// with the URCs of the forum log.
type fakeModem struct {
	mu   sync.Mutex
	sink func(string)
	cmds []string
}

func (m *fakeModem) Handle(_ context.Context, cmd atparser.Command) atparser.Response {
	m.mu.Lock()
	m.cmds = append(m.cmds, cmd.Line)
	sink := m.sink
	m.mu.Unlock()
	if cmd.Line == "AT+CFUN=1" && sink != nil {
		go func() {
			// A real registration takes seconds; the sample prints its
			// device ID and host name meanwhile (the forum log's order).
			time.Sleep(200 * time.Millisecond)
			sink(`+CEREG: 2,"81A3","03238D0A",7`)
			sink(`+CSCON: 1`)
			sink(`+CEREG: 1,"81A3","03238D0A",7,,,"11100000","11100000"`)
		}()
	}
	return atparser.OK()
}

// fakeConsole records what the firmware prints.
type fakeConsole struct {
	mu    sync.Mutex
	raw   []byte
	lines []string
}

func (c *fakeConsole) Write(p []byte) error {
	c.mu.Lock()
	c.raw = append(c.raw, p...)
	c.mu.Unlock()
	return nil
}

func (c *fakeConsole) Notify(line string) {
	c.mu.Lock()
	c.lines = append(c.lines, line)
	c.mu.Unlock()
}

func (c *fakeConsole) text() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, len(c.lines))
	for i, l := range c.lines {
		out[i] = azuresample.StripTimestamp(l)
	}
	return out
}

// device is a board: its credential store, network stack and state dir.
type device struct {
	store *credstore.Store
	stack *netstack.Stack
	state string
}

func newDevice(t *testing.T, ev *env, opts ...netstack.Option) *device {
	t.Helper()
	st, err := credstore.Open(t.TempDir(), credstore.WithSecretTypes(2))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	ep := netstack.Endpoint{MQTT: ev.e.MQTTAddr(), WebSocket: ev.e.WebSocketAddr()}
	return &device{store: st, stack: netstack.NewEmulated(ep, ev.e.PKI(), st, append([]netstack.Option{netstack.WithClock(fixed(ev.now))}, opts...)...), state: filepath.Join(t.TempDir(), "azure_iot_hub")}
}

func (d *device) put(t *testing.T, tag uint32, typ int, content []byte) {
	t.Helper()
	require.NoError(t, d.store.Put(credstore.Key{Tag: tag, Type: typ}, content))
}

func realRoot(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "netstack", "testdata", name))
	require.NoError(t, err)
	return b
}

const (
	baltimore = "Baltimore_CyberTrust_Root.pem"
	digicert  = "DigiCert_Global_Root_G2.pem"
)

// boot flashes the sample with conf on d and boots it.
func (d *device) boot(t *testing.T, conf string, set azuresample.Settings) (*azuresample.Firmware, *fakeConsole) {
	t.Helper()
	c, err := kconfig.Parse("prj.conf", []byte(conf))
	require.NoError(t, err)
	cfg, err := azuresample.FromKconfig(c)
	require.NoError(t, err)
	m := &fakeModem{}
	fw, err := azuresample.New(cfg, set, azuresample.Deps{Link: &azuresample.LTELink{Modem: m}, ATHost: m, Net: d.stack, StateDir: d.state})
	require.NoError(t, err)
	m.mu.Lock()
	m.sink = fw.ModemURC
	m.mu.Unlock()
	con := &fakeConsole{}
	require.NoError(t, fw.Boot(con))
	t.Cleanup(func() { _ = fw.Close() })
	return fw, con
}

// waitLines waits until want appears in order (a subsequence) in the
// console's lines, timestamps ignored.
func waitLines(t *testing.T, con *fakeConsole, want ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := con.text()
		i := 0
		for _, l := range got {
			if i < len(want) && l == want[i] {
				i++
			}
		}
		if i == len(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("missing line %q (after %d of %d)\nconsole:\n%s", want[i], i, len(want), strings.Join(got, "\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func newCA(t *testing.T, ev *env, cn string) *pki.Authority {
	t.Helper()
	ca, err := pki.NewCA(rand.Reader, cn, nil, ev.now.Add(-time.Hour), ev.now.Add(365*24*time.Hour))
	require.NoError(t, err)
	return ca
}

func newLeaf(t *testing.T, ev *env, cn string, ca *pki.Authority) *pki.Authority {
	t.Helper()
	l, err := pki.NewLeaf(rand.Reader, cn, ca, ev.now.Add(-time.Hour), ev.now.Add(365*24*time.Hour))
	require.NoError(t, err)
	return l
}

// provision writes the thread's credentials to tag: the device's full
// chain as CLIENT_CERT, its key, and root as ROOT_CA_CERT (modem types 1, 2, 0).
func (d *device) provision(t *testing.T, tag uint32, leaf, ca *pki.Authority, root []byte) {
	t.Helper()
	key, err := leaf.KeyPEM()
	require.NoError(t, err)
	d.put(t, tag, 1, pki.EncodeCertsPEM(leaf.Cert, ca.Cert))
	d.put(t, tag, 2, key)
	if root != nil {
		d.put(t, tag, 0, root)
	}
}

func confHub(devID string, tags ...int) string {
	s := fmt.Sprintf("CONFIG_AZURE_IOT_HUB=y\nCONFIG_AZURE_IOT_HUB_DEVICE_ID=%q\nCONFIG_AZURE_IOT_HUB_HOSTNAME=%q\nCONFIG_MQTT_HELPER_SEC_TAG=%d\n", devID, testHost, tags[0])
	if len(tags) > 1 {
		s += fmt.Sprintf("CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=%d\n", tags[1])
	}
	return s + "CONFIG_MQTT_KEEPALIVE=1767\nCONFIG_AZURE_FOTA=y\nCONFIG_DK_LIBRARY=n\nCONFIG_AT_HOST_LIBRARY=y\n"
}

func confDPS(devID, scope string, tags ...int) string {
	s := fmt.Sprintf("CONFIG_AZURE_IOT_HUB=y\nCONFIG_AZURE_IOT_HUB_DEVICE_ID=%q\nCONFIG_MQTT_HELPER_SEC_TAG=%d\n", devID, tags[0])
	if len(tags) > 1 {
		s += fmt.Sprintf("CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=%d\n", tags[1])
	}
	return s + fmt.Sprintf("CONFIG_SETTINGS=y\nCONFIG_AZURE_IOT_HUB_DPS=y\nCONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE=%q\n", scope)
}

var fast = azuresample.Settings{EventInterval: nil}

// updateExamples rewrites the example transcripts in examples/ from a run:
// go test ./persona/azuresample -run 'TestD1|TestD2' -update-examples
var updateExamples = flag.Bool("update-examples", false, "write examples/*.log from the D1 and D2 runs")

// transcript is what a terminal on the console showed, timestamps included.
func (c *fakeConsole) transcript() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := append([]byte(nil), c.raw...)
	for _, l := range c.lines {
		b = append(append(b, l...), '\r', '\n')
	}
	return b
}

func writeExample(t *testing.T, name string, con *fakeConsole) {
	t.Helper()
	if !*updateExamples {
		return
	}
	require.NoError(t, os.MkdirAll("examples", 0o755))
	require.NoError(t, os.WriteFile(filepath.Join("examples", name), con.transcript(), 0o644))
}
