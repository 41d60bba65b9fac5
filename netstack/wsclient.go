package netstack

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
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
func upgradeWebSocket(ctx context.Context, tc net.Conn, hostHeader, pathQuery string, subprotocols []string) (net.Conn, error) {
	if subprotocols == nil {
		subprotocols = []string{WebSocketSubprotocol}
	}
	d := websocket.Dialer{
		// The TLS handshake already happened on the device's own terms;
		// gorilla does no TLS of its own when NetDialTLSContext is set.
		NetDialTLSContext: func(context.Context, string, string) (net.Conn, error) { return tc, nil },
		Subprotocols:      subprotocols,
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

// checkRenegotiation is what happens after the upgrade request when the
// service renegotiates (WithRenegotiationModel) and the device's TLS stack
// cannot: the device refuses the HelloRequest and the service closes the
// connection. A stack that can renegotiate answers with the certificate the
// emulator already received in the first handshake.
func (s *Stack) checkRenegotiation(hostHeader, pathQuery string, cfg TLSConfig) error {
	if s.renegotiates == nil || cfg.Renegotiation != tls.RenegotiateNever {
		return nil
	}
	u, err := url.Parse("wss://" + hostHeader + pathQuery)
	if err != nil {
		return fmt.Errorf("netstack: WebSocket request %q: %w", pathQuery, err)
	}
	if !s.renegotiates(u) {
		return nil
	}
	return &RenegotiationRefusedError{URL: u.String()}
}
