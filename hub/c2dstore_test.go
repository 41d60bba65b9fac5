package hub

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// movableClock is a test clock that only moves when told.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *movableClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movableClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestC2DSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func() *Emulator {
		e, err := New(dir, WithPKI(testPKI(t)), WithHostName(testHost), WithMQTTAddr("127.0.0.1:0"), WithWebSocketAddr(""))
		require.NoError(t, err)
		return e
	}
	e := open()
	key := (&harness{t: t, e: e}).sasDevice("dev1")
	id1, err := e.SendC2D("dev1", []byte("first"), map[string]string{"k": "v"})
	require.NoError(t, err)
	_, err = e.SendC2D("dev1", []byte("second"), nil)
	require.NoError(t, err)
	require.NoError(t, e.Close())

	e = open()
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	pending := e.PendingC2D("dev1")
	require.Len(t, pending, 2)
	assert.Equal(t, id1, pending[0].ID)
	assert.Equal(t, "v", pending[0].Properties["k"])
	assert.WithinDuration(t, pending[0].Enqueued.Add(DefaultC2DTTL), pending[0].Expiry, time.Second)
	id3, err := e.SendC2D("dev1", []byte("third"), nil)
	require.NoError(t, err)
	assert.NotEqual(t, id1, id3, "ids stay unique across restarts")

	h := &harness{t: t, e: e}
	d := h.mustConnect(dial{id: "dev1", pass: sasToken(testHost, "dev1", key, time.Now().Add(time.Hour))})
	d.sub(t, "devices/dev1/messages/devicebound/#", 1)
	for _, want := range []string{"first", "second", "third"} {
		assert.Equal(t, want, string(d.waitMsg(t, "devices/dev1/messages/devicebound/").Payload()))
	}
	require.Eventually(t, func() bool { return len(e.PendingC2D("dev1")) == 0 }, 10*time.Second, 10*time.Millisecond)
}

func TestC2DExpires(t *testing.T) {
	t.Parallel()
	clk := &movableClock{t: time.Now()}
	h := newHarness(t, WithClock(clk.now), WithC2DTTL(time.Minute))
	h.sasDevice("dev1")
	_, err := h.e.SendC2D("dev1", []byte("late"), nil)
	require.NoError(t, err)
	require.Len(t, h.e.PendingC2D("dev1"), 1)
	clk.add(time.Minute)
	assert.Empty(t, h.e.PendingC2D("dev1"))
	r := h.waitReason(CheckC2DExpired)
	assert.Equal(t, "dev1", r.DeviceID)
}
