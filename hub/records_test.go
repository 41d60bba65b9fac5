package hub

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAttemptsAndReasonsSurviveRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := func() *Emulator {
		e, err := New(dir, WithPKI(testPKI(t)), WithHostName(testHost), WithMQTTAddr("127.0.0.1:0"),
			WithWebSocketAddr(""), WithMaxRecords(3))
		require.NoError(t, err)
		require.NoError(t, e.Start(t.Context()))
		return e
	}
	e := open()
	h := &harness{t: t, e: e}
	for _, id := range []string{"ghost1", "ghost2", "ghost3", "ghost4"} {
		_, _, err := h.connect(dial{id: id, pass: "SharedAccessSignature sr=x&sig=y&se=1"})
		require.Error(t, err)
	}
	require.Eventually(t, func() bool { return len(e.Attempts()) == 3 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, e.Close())

	e = open()
	t.Cleanup(func() { _ = e.Close() })
	as := e.Attempts()
	require.Len(t, as, 3, "bounded by WithMaxRecords")
	assert.Equal(t, "ghost4", as[2].ClientID)
	assert.Equal(t, CheckDeviceNotFound, as[2].Reason.Check)
	rs := e.Reasons()
	require.Len(t, rs, 3)
	assert.Equal(t, "ghost4", rs[2].DeviceID)
}
