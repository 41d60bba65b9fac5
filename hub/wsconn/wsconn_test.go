package wsconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverCert is a self-signed ECDSA certificate for "localhost" that the
// client trusts explicitly.
func serverCert(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestListener(t *testing.T) {
	t.Parallel()
	cert, pool := serverCert(t)
	got := make(chan *Conn, 1)
	rejected := make(chan string, 8)
	l := New(Config{
		ID: "ws", Address: "127.0.0.1:0", Path: "/$iothub/websocket", Subprotocol: "mqtt",
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert},
		Gate: func(r *http.Request) error {
			if r.URL.Query().Get("drop") == "1" {
				return ErrDropped
			}
			return nil
		},
		Rejected: func(_ *http.Request, _ int, why string) { rejected <- why },
	})
	require.NoError(t, l.Init(slog.New(slog.DiscardHandler)))
	go l.Serve(func(_ string, c net.Conn) error {
		// Echo the first 4 bytes back, then report the conn.
		b := make([]byte, 4)
		if _, err := io.ReadFull(c, b); err == nil {
			_, _ = c.Write(b)
		}
		got <- c.(*Conn)
		return nil
	})
	t.Cleanup(func() { l.Close(func(string) {}) })
	url := "wss://" + l.Address()
	tc := &tls.Config{RootCAs: pool, ServerName: "localhost"}

	t.Run("echo over two binary messages, TLS state kept", func(t *testing.T) {
		d := websocket.Dialer{TLSClientConfig: tc, Subprotocols: []string{"Mqtt"}}
		ws, resp, err := d.Dial(url+"/$iothub/websocket?x=1", nil)
		require.NoError(t, err)
		defer ws.Close()
		assert.Equal(t, "Mqtt", resp.Header.Get("Sec-Websocket-Protocol"))
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2}))
		require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("ignored")))
		require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, []byte{3, 4}))
		mt, b, err := ws.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, websocket.BinaryMessage, mt)
		assert.Equal(t, []byte{1, 2, 3, 4}, b)
		c := <-got
		assert.Equal(t, "1", c.Query().Get("x"))
		assert.Equal(t, uint16(tls.VersionTLS13), c.ConnectionState().Version)
	})
	for _, tc2 := range []struct{ name, path string }{{"wrong path", "/mqtt"}, {"root", "/"}} {
		t.Run(tc2.name, func(t *testing.T) {
			d := websocket.Dialer{TLSClientConfig: tc, Subprotocols: []string{"mqtt"}}
			_, resp, err := d.Dial(url+tc2.path, nil)
			require.ErrorIs(t, err, websocket.ErrBadHandshake)
			assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
			assert.Contains(t, <-rejected, "wrong path")
		})
	}
	t.Run("gate drops without a response", func(t *testing.T) {
		d := websocket.Dialer{TLSClientConfig: tc, Subprotocols: []string{"mqtt"}}
		_, resp, err := d.Dial(url+"/$iothub/websocket?drop=1", nil)
		require.Error(t, err)
		assert.Nil(t, resp)
	})
}

// marked is what Admit wraps accepted connections in.
type marked struct{ net.Conn }

// Admit sees every TCP connection before TLS: nil closes it, a wrapper is
// what the TLS connection under the WebSocket (NetConn) runs on.
func TestAdmit(t *testing.T) {
	t.Parallel()
	cert, pool := serverCert(t)
	got := make(chan *Conn, 1)
	admitted := 0
	l := New(Config{
		ID: "ws", Address: "127.0.0.1:0", Path: "/p", Subprotocol: "mqtt",
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Admit: func(c net.Conn) net.Conn {
			admitted++ // the accept loop is one goroutine
			if admitted == 1 {
				_ = c.Close()
				return nil
			}
			return marked{c}
		},
	})
	require.NoError(t, l.Init(slog.New(slog.DiscardHandler)))
	go l.Serve(func(_ string, c net.Conn) error { got <- c.(*Conn); _, _ = c.Read(make([]byte, 1)); return nil })
	t.Cleanup(func() { l.Close(func(string) {}) })
	d := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}, Subprotocols: []string{"mqtt"}}

	_, _, err := d.Dial("wss://"+l.Address()+"/p", nil)
	require.Error(t, err, "the first connection was closed at accept")
	ws, _, err := d.Dial("wss://"+l.Address()+"/p", nil)
	require.NoError(t, err)
	defer ws.Close()
	c := <-got
	tc, ok := c.NetConn().(*tls.Conn)
	require.True(t, ok, "NetConn is the TLS connection, got %T", c.NetConn())
	assert.IsType(t, marked{}, tc.NetConn())
}
