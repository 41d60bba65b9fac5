package wsnet

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pair is a client and a server Conn over a WebSocket on loopback.
func pair(t *testing.T) (client, server *Conn) {
	t.Helper()
	got := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		require.NoError(t, err)
		got <- ws
	}))
	t.Cleanup(srv.Close)
	ws, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	resp.Body.Close()
	c, s := New(ws), New(<-got)
	t.Cleanup(func() { c.Close(); s.Close() })
	return c, s
}

func TestBytesCrossMessageBoundaries(t *testing.T) {
	c, s := pair(t)
	for _, m := range []string{"\x10\x0c", "\x00\x04MQTT", "\x04\x02\x00<"} {
		n, err := c.Write([]byte(m))
		require.NoError(t, err)
		assert.Equal(t, len(m), n)
	}
	got := make([]byte, 12)
	require.NoError(t, s.SetReadDeadline(time.Now().Add(2*time.Second)))
	_, err := io.ReadFull(s, got)
	require.NoError(t, err)
	assert.Equal(t, "\x10\x0c\x00\x04MQTT\x04\x02\x00<", string(got))
}

func TestTextMessagesAreSkipped(t *testing.T) {
	c, s := pair(t)
	require.NoError(t, c.ws.WriteMessage(websocket.TextMessage, []byte("not MQTT")))
	_, err := c.Write([]byte("\xc0\x00")) // PINGREQ
	require.NoError(t, err)
	require.NoError(t, s.SetDeadline(time.Now().Add(2*time.Second)))
	got := make([]byte, 2)
	_, err = io.ReadFull(s, got)
	require.NoError(t, err)
	assert.Equal(t, "\xc0\x00", string(got))
	assert.NotNil(t, s.NetConn())
	assert.Equal(t, c.LocalAddr().String(), s.RemoteAddr().String())
}

func TestReadDeadline(t *testing.T) {
	_, s := pair(t)
	require.NoError(t, s.SetReadDeadline(time.Now().Add(20*time.Millisecond)))
	_, err := s.Read(make([]byte, 1))
	assert.Error(t, err)
}
