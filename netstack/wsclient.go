package netstack

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/gorilla/websocket"

	"github.com/modemsim/modemsim/wsnet"
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
	return wsnet.New(ws), nil
}
