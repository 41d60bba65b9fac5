package netstack_test

import (
	"crypto/tls"
	"slices"
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
//	go test -run '^$' -bench MQTTConnect -benchtime 300x -count 3 ./netstack/
func BenchmarkMQTTConnect(b *testing.B) {
	now := time.Now()
	e := startHub(b, now)
	dev := newBoard(b, e, now)
	dev.put(b, primary, 0, realRoot(b, pki.DigiCertGlobalRootG2))

	user, pass := sasDevice(b, e, "bench-netstack", now)
	plainUser, plainPass := sasDevice(b, e, "bench-plain", now)

	roots, err := e.PKI().RootPool(pki.DigiCertGlobalRootG2)
	require.NoError(b, err)
	viaStack := func(b *testing.B) {
		c, err := dev.stack.MQTTConnect(b.Context(), netstack.MQTTOptions{Host: testHost, ClientID: "bench-netstack",
			Username: user, Password: pass, CleanSession: true, TLS: netstack.TLSConfig{SecTags: []uint32{primary}}})
		if err != nil {
			b.Fatal(err)
		}
		c.Disconnect(0)
	}
	tc := &tls.Config{RootCAs: roots, ServerName: testHost, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
	po := paho.NewClientOptions().AddBroker("tls://" + e.MQTTAddr()).SetTLSConfig(tc).
		SetClientID("bench-plain").SetUsername(plainUser).SetPassword(plainPass).SetCleanSession(true).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).
		SetKeepAlive(netstack.DefaultKeepAlive).SetConnectTimeout(30 * time.Second)
	plain := func(b *testing.B) {
		c := paho.NewClient(po)
		tok := c.Connect()
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			b.Fatal("connect:", tok.Error())
		}
		c.Disconnect(0)
	}

	b.Run("netstack", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			viaStack(b)
		}
	})
	b.Run("plain-paho", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			plain(b)
		}
	})
	// Interleaved: both clients alternate, so load from other processes on
	// the machine hits them alike; medians and their ratio are reported.
	b.Run("interleaved", func(b *testing.B) {
		var ns, ps []time.Duration
		for b.Loop() {
			t0 := time.Now()
			viaStack(b)
			t1 := time.Now()
			plain(b)
			ns, ps = append(ns, t1.Sub(t0)), append(ps, time.Since(t1))
		}
		mn, mp := median(ns), median(ps)
		b.ReportMetric(float64(mn.Microseconds()), "netstack-µs/connect")
		b.ReportMetric(float64(mp.Microseconds()), "plain-µs/connect")
		b.ReportMetric(float64(mn)/float64(mp), "ratio")
	})
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
