package netstack_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// peer is a loopback TCP server that does something other than TLS.
func peer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func stackTo(t *testing.T, addr string) *netstack.Stack {
	t.Helper()
	st, err := credstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Put(credstore.Key{Tag: primary, Type: 0}, realRoot(t, pki.DigiCertGlobalRootG2)))
	return netstack.New(netstack.NewEmulatorResolver(netstack.Endpoint{MQTT: addr, WebSocket: addr}), st)
}

func TestNonTLSPeers(t *testing.T) {
	cfg := netstack.TLSConfig{SecTags: []uint32{primary}}
	t.Run("HTTP answer is not TLS", func(t *testing.T) {
		addr := peer(t, func(c net.Conn) {
			_, _ = c.Write([]byte("HTTP/1.1 400 Bad Request\r\n\r\n"))
			_, _ = io.Copy(io.Discard, c) // until the device hangs up: no reset races the answer
		})
		_, err := stackTo(t, addr).DialTLS(t.Context(), testHost, netstack.PortMQTT, cfg)
		assert.Equal(t, netstack.ClassTLSProtocol, netstack.Classify(err), "%v", err)
	})
	t.Run("closed before the handshake", func(t *testing.T) {
		addr := peer(t, func(c net.Conn) {
			// FIN without reading: the client's hello stays unread, but
			// half-closing (not closing) avoids a reset, so the device
			// sees the orderly close it would see from a dropping server.
			_ = c.(*net.TCPConn).CloseWrite()
			_, _ = io.Copy(io.Discard, c)
		})
		_, err := stackTo(t, addr).DialTLS(t.Context(), testHost, netstack.PortMQTT, cfg)
		assert.Equal(t, netstack.ClassPeerClosed, netstack.Classify(err), "%v", err)
	})
	t.Run("silent server times out", func(t *testing.T) {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		addr := peer(t, func(c net.Conn) { <-release })
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		defer cancel()
		_, err := stackTo(t, addr).DialTLS(ctx, testHost, netstack.PortMQTT, cfg)
		assert.Equal(t, netstack.ClassTimeout, netstack.Classify(err), "%v", err)
	})
}
