package netstack

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// WebSocket facts of the hub's port-443 endpoint (azure-iot-hub.md §1.1).
const (
	// WebSocketPath is the upgrade path the hub accepts [obs azure-docs#21306].
	WebSocketPath = "/$iothub/websocket"
	// WebSocketSubprotocol is offered on the upgrade [doc P-MQTT].
	WebSocketSubprotocol = "mqtt"
	// NoClientCertQuery asks the hub not to request a client certificate by
	// renegotiation [src S-HUB header].
	NoClientCertQuery = "iothub-no-client-cert=true"
)

// wsConn is MQTT bytes over binary WebSocket messages, client side. (The
// hub's hub/wsconn.Conn is the server side and cannot be built from a
// client *websocket.Conn, so the stack keeps its own small adapter.)
type wsConn struct {
	ws *websocket.Conn

	rmu sync.Mutex
	r   io.Reader
	wmu sync.Mutex
}

// upgradeWebSocket runs the HTTP upgrade over an established TLS
// connection (`GET <path>` with subprotocol mqtt) and returns the stream.
func upgradeWebSocket(ctx context.Context, tc net.Conn, hostHeader, pathQuery string) (net.Conn, error) {
	d := websocket.Dialer{
		// The TLS handshake already happened on the device's own terms;
		// gorilla does no TLS of its own when NetDialTLSContext is set.
		NetDialTLSContext: func(context.Context, string, string) (net.Conn, error) { return tc, nil },
		Subprotocols:      []string{WebSocketSubprotocol},
		HandshakeTimeout:  30 * time.Second,
	}
	ws, resp, err := d.DialContext(ctx, "wss://"+hostHeader+pathQuery, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		if errors.Is(err, websocket.ErrBadHandshake) && resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, &WebSocketUpgradeError{Status: resp.StatusCode}
		}
		return nil, err
	}
	return &wsConn{ws: ws}, nil
}

func (c *wsConn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		if c.r == nil {
			mt, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if mt != websocket.BinaryMessage {
				continue // MQTT travels in binary messages (§1.1 [src S-PAHO])
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

func (c *wsConn) Write(p []byte) (int, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (c *wsConn) Close() error                       { return c.ws.Close() }
func (c *wsConn) LocalAddr() net.Addr                { return c.ws.LocalAddr() }
func (c *wsConn) RemoteAddr() net.Addr               { return c.ws.RemoteAddr() }
func (c *wsConn) SetReadDeadline(t time.Time) error  { return c.ws.SetReadDeadline(t) }
func (c *wsConn) SetWriteDeadline(t time.Time) error { return c.ws.SetWriteDeadline(t) }
func (c *wsConn) SetDeadline(t time.Time) error {
	return errors.Join(c.ws.SetReadDeadline(t), c.ws.SetWriteDeadline(t))
}
