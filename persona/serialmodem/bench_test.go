package serialmodem_test

import (
	"crypto/tls"
	"fmt"
	"slices"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/pki"
)

// BenchmarkMQTTConnect is issue 8's figure: the time from the host
// writing AT#XMQTTCON=1,… (SAS, sec tag holding the real DigiCert G2 PEM)
// to the board printing "#XMQTTEVT: 0,0" — framing, the persona, credentials
// read from the store, the real root mapped, TLS with the hub's RSA chain,
// CONNECT/CONNACK — beside a plain Go TLS + paho client with a prepared root
// pool connecting to the same in-process hub, interleaved in the same run.
// The board's port is a net.Pipe here (the pty adds ~20 µs, BENCHMARKS.md).
// Disconnects are not timed.
//
//	go test -run '^$' -bench MQTTConnect -benchtime 200x -count 3 ./persona/serialmodem/
func BenchmarkMQTTConnect(b *testing.B) {
	now := time.Now()
	e := startHub(b, now)
	r := newRig(b, e, now)
	r.expect("Ready\r\n")
	r.put(42, 0, realRoot(b, "DigiCert_Global_Root_G2.pem"))
	user, pass := sasDevice(b, e, "bench-sm", now)
	plainUser, plainPass := sasDevice(b, e, "bench-plain", now)
	r.register()
	r.exchange(`AT#XMQTTCFG="bench-sm"`, "\r\nOK\r\n")
	con := fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883,42`, user, pass, testHost)

	board := func() time.Duration {
		t0 := time.Now()
		r.exchange(con, "\r\n#XMQTTEVT: 0,0\r\n")
		d := time.Since(t0)
		r.exchange("AT#XMQTTCON=0", "\r\n#XMQTTEVT: 1,0\r\n")
		return d
	}
	roots, err := e.PKI().RootPool(pki.DigiCertGlobalRootG2)
	require.NoError(b, err)
	tc := &tls.Config{RootCAs: roots, ServerName: testHost, MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS12}
	po := paho.NewClientOptions().AddBroker("tls://" + e.MQTTAddr()).SetTLSConfig(tc).
		SetClientID("bench-plain").SetUsername(plainUser).SetPassword(plainPass).SetCleanSession(true).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(30 * time.Second)
	plain := func() time.Duration {
		c := paho.NewClient(po)
		t0 := time.Now()
		tok := c.Connect()
		if !tok.WaitTimeout(30*time.Second) || tok.Error() != nil {
			b.Fatal("connect:", tok.Error())
		}
		d := time.Since(t0)
		c.Disconnect(0)
		return d
	}
	var bs, ps []time.Duration
	for b.Loop() {
		bs = append(bs, board())
		ps = append(ps, plain())
	}
	mb, mp := median(bs), median(ps)
	b.ReportMetric(float64(mb.Microseconds()), "board-µs/connect")
	b.ReportMetric(float64(mp.Microseconds()), "plain-µs/connect")
	b.ReportMetric(float64(mb)/float64(mp), "ratio")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
