package netstack_test

import (
	"crypto/tls"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// BenchmarkMQTTConnect measures one MQTT connect (TCP, TLS handshake with
// the hub's RSA chain, CONNECT/CONNACK with SAS, DISCONNECT) through the
// device stack — credentials read from the store, the real root mapped,
// the device clock checked — against the baseline issue 8 asks for: a
// plain Go TLS + paho client with a prepared root pool, to the same
// in-process hub in the same run.
//
//	go test -run '^$' -bench MQTTConnect -benchtime 200x -count 5 ./netstack/
func BenchmarkMQTTConnect(b *testing.B) {
	now := time.Now()
	e := startHub(b, now)
	dev := newBoard(b, e, now)
	dev.put(b, primary, 0, realRoot(b, pki.DigiCertGlobalRootG2))

	user, pass := sasDevice(b, e, "bench-netstack", now)
	plainUser, plainPass := sasDevice(b, e, "bench-plain", now)

	b.Run("netstack", func(b *testing.B) {
		o := netstack.MQTTOptions{Host: testHost, ClientID: "bench-netstack", Username: user, Password: pass,
			CleanSession: true, TLS: netstack.TLSConfig{SecTags: []uint32{primary}}}
		b.ReportAllocs()
		for b.Loop() {
			c, err := dev.stack.MQTTConnect(b.Context(), o)
			if err != nil {
				b.Fatal(err)
			}
			c.Disconnect(0)
		}
	})

	b.Run("plain-paho", func(b *testing.B) {
		roots, err := e.PKI().RootPool(pki.DigiCertGlobalRootG2)
		require.NoError(b, err)
		tc := &tls.Config{RootCAs: roots, ServerName: testHost, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
		o := paho.NewClientOptions().AddBroker("tls://" + e.MQTTAddr()).SetTLSConfig(tc).
			SetClientID("bench-plain").SetUsername(plainUser).SetPassword(plainPass).SetCleanSession(true).
			SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).
			SetKeepAlive(netstack.DefaultKeepAlive).SetConnectTimeout(30 * time.Second)
		b.ReportAllocs()
		for b.Loop() {
			c := paho.NewClient(o)
			tok := c.Connect()
			if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
				b.Fatal("connect:", tok.Error())
			}
			c.Disconnect(0)
		}
	})
}
