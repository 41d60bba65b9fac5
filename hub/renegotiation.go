package hub

import (
	"net/http"
	"net/url"

	mqtt "github.com/mochi-mqtt/server/v2"
)

// WebSocketRenegotiates reports whether the real hub, on its port-443
// WebSocket endpoint, asks the client for a certificate by TLS
// renegotiation after the upgrade request: always, unless the request
// carries `iothub-no-client-cert=true` (§1.1, §3.4 [src S-HUB header; obs
// azure-iot-sdk-c#694]). A client TLS stack that cannot renegotiate (mbedTLS
// without CONFIG_MBEDTLS_SSL_RENEGOTIATION, Go's crypto/tls) is disconnected
// there (forum case WS1); one that can (OpenSSL, Node, .NET) answers, with
// an empty certificate list for a SAS device, and connects. A simulated
// device's network stack, which knows its firmware's TLS configuration,
// uses this to reproduce WS1 on its side; the emulator's own strict gate
// (WithRenegotiationGate) applies it on the server side to every client.
func WebSocketRenegotiates(u *url.URL) bool {
	return u.Query().Get(NoClientCertQuery) != "true"
}

// requestTLSContext is the TLS context of a WebSocket upgrade request.
func requestTLSContext(r *http.Request) *TLSContext {
	if r.TLS == nil {
		return &TLSContext{WebSocketRequest: r.RequestURI}
	}
	return newTLSContext(*r.TLS, r.RequestURI)
}

// requestURIer is a connection that knows its WebSocket request (hub/wsconn).
type requestURIer interface{ RequestURI() string }

// clientTLSContext is the TLS context of an MQTT client's connection.
func clientTLSContext(cl *mqtt.Client) *TLSContext {
	ts, ok := cl.Net.Conn.(tlsStater)
	if !ok {
		return nil
	}
	uri := ""
	if ru, ok := cl.Net.Conn.(requestURIer); ok {
		uri = ru.RequestURI()
	}
	return newTLSContext(ts.ConnectionState(), uri)
}
