// Package wsnet is MQTT's byte stream over a WebSocket as a net.Conn: every
// write one binary message, reads across message boundaries (MQTT over
// WebSockets sends its packets in binary messages [S azure-iot-hub.md §1.1,
// mochi-mqtt and paho sources]). Both sides use it: the hub emulator's
// listener (hub/wsconn) and the device's network stack (netstack).
package wsnet

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Conn adapts an established WebSocket connection.
type Conn struct {
	ws *websocket.Conn

	rmu sync.Mutex
	r   io.Reader // the binary message being read
	wmu sync.Mutex
}

// New wraps ws.
func New(ws *websocket.Conn) *Conn { return &Conn{ws: ws} }

// Read reads from the current binary message, moving to the next as needed;
// other message types are skipped.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			mt, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if mt != websocket.BinaryMessage {
				continue
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if errors.Is(err, io.EOF) {
			c.r = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// Write sends p as one binary message.
func (c *Conn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the underlying connection.
func (c *Conn) Close() error { return c.ws.Close() }

// NetConn is the (TLS) connection under the WebSocket.
func (c *Conn) NetConn() net.Conn { return c.ws.NetConn() }

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.ws.LocalAddr() }

// RemoteAddr returns the remote address.
func (c *Conn) RemoteAddr() net.Addr { return c.ws.RemoteAddr() }

// Deadlines go to the connection under the WebSocket, whose deadlines are
// safe to set while another goroutine writes; gorilla's own write deadline
// is a plain field its writer reads (the race detector objects).

// SetDeadline sets both deadlines (mochi and paho use it for keep-alive).
func (c *Conn) SetDeadline(t time.Time) error { return c.ws.NetConn().SetDeadline(t) }

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.ws.NetConn().SetReadDeadline(t) }

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.ws.NetConn().SetWriteDeadline(t) }
