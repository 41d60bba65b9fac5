package spwf04

import (
	"context"
	"io"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atengine"
	"github.com/modemsim/modemsim/firmware"
)

// memFlash is an in-memory Flash for tests.
type memFlash struct {
	mu    sync.Mutex
	saved map[string]string
	tls   map[TLSItem][]byte
	files map[string][]byte
}

func newMemFlash() *memFlash {
	return &memFlash{tls: map[TLSItem][]byte{}, files: map[string][]byte{}}
}

func (f *memFlash) SavedConfig() (map[string]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.saved), nil
}

func (f *memFlash) SaveConfig(v map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.saved = maps.Clone(v)
	return nil
}

func (f *memFlash) TLS(it TLSItem) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.tls[it]
	if !ok {
		return nil, ErrNoFile
	}
	return slices.Clone(b), nil
}

func (f *memFlash) PutTLS(it TLSItem, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tls[it] = slices.Clone(data)
	return nil
}

func (f *memFlash) CleanTLS() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	clear(f.tls)
	return nil
}

func (f *memFlash) Files() ([]FileInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []FileInfo
	for _, n := range slices.Sorted(maps.Keys(f.files)) {
		out = append(out, FileInfo{Name: n, Size: len(f.files[n])})
	}
	return out, nil
}

func (f *memFlash) ReadFile(name string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.files[name]
	if !ok {
		return nil, ErrNoFile
	}
	return slices.Clone(b), nil
}

func (f *memFlash) WriteFile(name string, data []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files[name] = slices.Clone(data)
	return nil
}

func (f *memFlash) DeleteFile(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.files[name]; !ok {
		return ErrNoFile
	}
	delete(f.files, name)
	return nil
}

func (f *memFlash) RenameFile(from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.files[from]
	if !ok {
		return ErrNoFile
	}
	delete(f.files, from)
	f.files[to] = b
	return nil
}

// testAP is the access point of the tests.
var testAP = AccessPoint{SSID: "lab", Key: "secret-key", BSSID: "98:DE:D0:EA:4C:62",
	IP: "192.168.1.5", Gateway: "192.168.1.1", Netmask: "255.255.255.0", DNS: "192.168.1.1"}

const testMAC = "00:80:E1:01:02:03"

func newTestModule(t testing.TB, flash Flash, cfg Config) *Module {
	t.Helper()
	m, err := New(Hardware{Flash: flash, MAC: testMAC, AP: testAP}, cfg)
	require.NoError(t, err)
	return m
}

// harness runs a module on an engine over a pipe.
type harness struct {
	m    *Module
	host net.Conn
	eng  *atengine.Engine
}

// bannerText is what Boot prints with the default settings.
const bannerText = "+WIND:1:Poweron:171117-0328fe3-SPWF04S\r\n" +
	"+WIND:13:Copyright (c) 2012-2017 STMicroelectronics, Inc. All rights Reserved.:SPWF04SA\r\n" +
	"+WIND:3:Watchdog Running:20\r\n+WIND:0:Console active\r\n+WIND:32:WiFi Hardware Started\r\n"

// start boots m on a pipe and reads the banner up to +WIND:32.
func start(t *testing.T, m *Module) *harness {
	t.Helper()
	host, dev := net.Pipe()
	h := &harness{m: m, host: host, eng: atengine.New(dev, m.Dialect())}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.eng.Run(ctx) }()
	t.Cleanup(func() { cancel(); host.Close(); <-done; m.Close() })
	require.NoError(t, m.Boot(h.eng))
	h.readUntil(t, "+WIND:32:WiFi Hardware Started\r\n")
	return h
}

var _ firmware.Firmware = (*Module)(nil)

func (h *harness) send(t *testing.T, s string) {
	t.Helper()
	require.NoError(t, h.host.SetWriteDeadline(time.Now().Add(5*time.Second)))
	_, err := io.WriteString(h.host, s)
	require.NoError(t, err)
}

// expect reads exactly want.
func (h *harness) expect(t *testing.T, want string) {
	t.Helper()
	require.NoError(t, h.host.SetReadDeadline(time.Now().Add(5*time.Second)))
	got := make([]byte, len(want))
	_, err := io.ReadFull(h.host, got)
	require.NoError(t, err, "waiting for %q, got %q", want, got)
	require.Equal(t, want, string(got))
}

// readUntil reads until the text ends with suffix and returns it.
func (h *harness) readUntil(t *testing.T, suffix string) string {
	t.Helper()
	require.NoError(t, h.host.SetReadDeadline(time.Now().Add(5*time.Second)))
	var b strings.Builder
	buf := make([]byte, 1)
	for !strings.HasSuffix(b.String(), suffix) {
		_, err := h.host.Read(buf)
		require.NoError(t, err, "waiting for %q after %q", suffix, b.String())
		b.Write(buf)
	}
	return b.String()
}

// exchange sends cmd + CR and expects the echo and the answer.
func (h *harness) exchange(t *testing.T, cmd, answer string) {
	t.Helper()
	h.send(t, cmd+"\r")
	h.expect(t, cmd+"\r\n"+answer)
}
