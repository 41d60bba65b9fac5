package netstack_test

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// A SAS device that stores the real DigiCert Global Root G2 PEM connects
// over MQTT/TLS and over WSS, publishes telemetry the hub receives and
// receives a cloud-to-device message.
func TestSASDeviceConnectsPublishesAndReceives(t *testing.T) {
	for _, tc := range []struct {
		name      string
		transport netstack.Transport
		path      string
	}{
		{"mqtt-tls", netstack.TransportMQTT, ""},
		{"websocket", netstack.TransportWebSocket, netstack.WebSocketPath + "?" + netstack.NoClientCertQuery},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := afterMigration
			e := startHub(t, now)
			require.Equal(t, pki.DigiCertGlobalRootG2, e.HubRoot())
			b := newBoard(t, e, now)
			b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
			id := "sas-" + tc.name
			user, pass := sasDevice(t, e, id, now)
			tele, stop := e.Telemetry(8)
			defer stop()

			msgs := newMessages()
			c, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
				Host: testHost, Transport: tc.transport, WebSocketPath: tc.path,
				ClientID: id, Username: user, Password: pass,
				TLS:       netstack.TLSConfig{SecTags: []uint32{primary}},
				OnMessage: msgs.handler,
			})
			require.NoError(t, err)
			defer c.Disconnect(0)

			maps := b.mapped()
			require.Len(t, maps, 1, "the real root must be mapped, visibly")
			assert.Equal(t, pki.DigiCertGlobalRootG2, maps[0].Name)
			assert.Equal(t, primary, maps[0].SecTag)
			assert.Equal(t, "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F", maps[0].RealSHA256)
			assert.Contains(t, maps[0].String(), "stand-in")

			require.NoError(t, c.Publish(t.Context(), "devices/"+id+"/messages/events/", 1, false, []byte(`{"t":21}`)))
			select {
			case m := <-tele:
				assert.Equal(t, id, m.DeviceID)
				assert.Equal(t, `{"t":21}`, string(m.Payload))
			case <-time.After(20 * time.Second):
				t.Fatal("telemetry did not reach the hub")
			}

			granted, err := c.Subscribe(t.Context(), "devices/"+id+"/messages/devicebound/#", 1)
			require.NoError(t, err)
			assert.Equal(t, byte(1), granted)
			_, err = e.SendC2D(id, []byte("hello device"), nil)
			require.NoError(t, err)
			m := msgs.wait(t)
			assert.Contains(t, m.Topic, "devices/"+id+"/messages/devicebound/")
			assert.Equal(t, "hello device", string(m.Payload))
		})
	}
}

// An X.509 device whose key was made by %KEYGEN (it never leaves the store:
// the stack signs with it) connects with its full chain (leaf + CA) in type
// 1, over MQTT/TLS and over WSS without `iothub-no-client-cert` (the
// certificate is presented in the first handshake, as after renegotiation).
func TestX509DeviceWithStoredKey(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	ca, err := pki.NewCA(rand.Reader, "netstack test CA", nil, now.Add(-time.Hour), now.Add(48*time.Hour))
	require.NoError(t, err)
	_, err = e.AddCA("test-ca", ca.CertPEM(), true)
	require.NoError(t, err)

	for _, tc := range []struct {
		name      string
		transport netstack.Transport
	}{{"mqtt-tls", netstack.TransportMQTT}, {"websocket", netstack.TransportWebSocket}} {
		t.Run(tc.name, func(t *testing.T) {
			id := "x509-" + tc.name
			_, err := e.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthCA})
			require.NoError(t, err)
			b := newBoard(t, e, now)
			key, err := modemkey.GenerateKey(rand.Reader)
			require.NoError(t, err)
			keyPEM, err := modemkey.MarshalPrivateKeyPEM(key)
			require.NoError(t, err)
			b.put(t, primary, 2, keyPEM) // as %KEYGEN stores it: secret, never readable
			leaf, err := pki.LeafForKey(key.Public(), id, ca, now.Add(-time.Hour), now.Add(24*time.Hour))
			require.NoError(t, err)
			b.put(t, primary, 1, pki.EncodeCertsPEM(leaf, ca.Cert))
			b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
			_, readErr := b.store.Read(credstoreKey(primary, 2))
			require.Error(t, readErr, "the key slot must not be readable")

			c, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
				Host: testHost, Transport: tc.transport, ClientID: id, Username: username(id),
				TLS: netstack.TLSConfig{SecTags: []uint32{primary}},
			})
			require.NoError(t, err)
			defer c.Disconnect(0)
			assert.True(t, c.TLS().HasClientCert)
			require.Eventually(t, func() bool { return e.Connected(id) }, 10*time.Second, 10*time.Millisecond)
		})
	}
}

// The trust decisions of the migration cases (FAILURE-CASES M1, M3, D3,
// DESIGN.md "Time"): what the device's check says, by class.
func TestTrustAnchorsAgainstTheHub(t *testing.T) {
	selfMade, err := pki.NewCA(rand.Reader, string(pki.DigiCertGlobalRootG2), nil, afterMigration.Add(-time.Hour), afterMigration.Add(time.Hour*24*365))
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		now     time.Time
		hubOpts []hub.Option
		slots   map[int][]byte // type → content, in the primary tag
		tags    []uint32
		want    netstack.Class
		mapped  int
	}{
		{name: "Baltimore only, hub on G2 (M1)", now: afterMigration,
			slots: map[int][]byte{0: realRoot(t, pki.BaltimoreCyberTrustRoot)}, want: netstack.ClassUnknownAuthority, mapped: 1},
		{name: "Baltimore only, before the migration", now: beforeMigration,
			slots: map[int][]byte{0: realRoot(t, pki.BaltimoreCyberTrustRoot)}, want: netstack.ClassNone, mapped: 1},
		{name: "real G2 PEM, hub on G2", now: afterMigration,
			slots: map[int][]byte{0: realRoot(t, pki.DigiCertGlobalRootG2)}, want: netstack.ClassNone, mapped: 1},
		{name: "Baltimore and G2 in one slot", now: afterMigration,
			slots: map[int][]byte{0: append(realRoot(t, pki.BaltimoreCyberTrustRoot), realRoot(t, pki.DigiCertGlobalRootG2)...)}, want: netstack.ClassNone, mapped: 2},
		{name: "self-made root with the G2 name", now: afterMigration,
			slots: map[int][]byte{0: selfMade.CertPEM()}, want: netstack.ClassUnknownAuthority},
		{name: "Baltimore expired, hub still on Baltimore", now: afterBaltimore, hubOpts: []hub.Option{hub.WithRoot(pki.BaltimoreCyberTrustRoot)},
			slots: map[int][]byte{0: realRoot(t, pki.BaltimoreCyberTrustRoot)}, want: netstack.ClassCertExpired, mapped: 1},
		{name: "root written as a client certificate (M3)", now: afterMigration,
			slots: map[int][]byte{1: realRoot(t, pki.DigiCertGlobalRootG2)}, want: netstack.ClassNoTrustAnchor},
		{name: "made-up PEM labels (W2)", now: afterMigration,
			slots: map[int][]byte{0: []byte("-----BEGIN CA CERTIFICATE-----\nMIIB\n-----END CA CERTIFICATE-----\n")}, want: netstack.ClassBadCredential},
		{name: "nothing at the sec tag (W1)", now: afterMigration, want: netstack.ClassNoCredentials},
		{name: "secondary tag holds G2 (M2)", now: afterMigration, tags: []uint32{primary, secondary},
			slots: map[int][]byte{0: realRoot(t, pki.BaltimoreCyberTrustRoot)}, want: netstack.ClassNone, mapped: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startHub(t, tc.now, tc.hubOpts...)
			b := newBoard(t, e, tc.now)
			for typ, content := range tc.slots {
				b.put(t, primary, typ, content)
			}
			tags := tc.tags
			if tags == nil {
				tags = []uint32{primary}
			} else {
				b.put(t, secondary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
			}
			conn, err := b.stack.DialTLS(t.Context(), testHost, netstack.PortMQTT, netstack.TLSConfig{SecTags: tags})
			if tc.want == netstack.ClassNone {
				require.NoError(t, err)
				_ = conn.Close()
			} else {
				require.Error(t, err)
				var ne *netstack.Error
				require.ErrorAs(t, err, &ne)
				assert.Equal(t, tc.want, ne.Class, "%v", err)
				assert.Equal(t, tc.want, netstack.Classify(err))
				assert.Nil(t, conn)
				if tc.want == netstack.ClassUnknownAuthority || tc.want == netstack.ClassCertExpired {
					// The device aborted the handshake; the hub records it.
					require.Eventually(t, func() bool { return hasCheck(e, hub.CheckTLSHandshake) }, 10*time.Second, 10*time.Millisecond)
				}
			}
			assert.Len(t, b.mapped(), tc.mapped)
		})
	}
}

// The expired-root explanation names the anchor and the device time.
func TestExpiredBaltimoreIsExplained(t *testing.T) {
	e := startHub(t, afterBaltimore, hub.WithRoot(pki.BaltimoreCyberTrustRoot))
	b := newBoard(t, e, afterBaltimore)
	b.put(t, primary, 0, realRoot(t, pki.BaltimoreCyberTrustRoot))
	_, err := b.stack.DialTLS(t.Context(), testHost, netstack.PortMQTT, netstack.TLSConfig{SecTags: []uint32{primary}})
	var ee *netstack.ExpiredAnchorError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, string(pki.BaltimoreCyberTrustRoot), ee.Anchor.Subject.CommonName)
	assert.Contains(t, err.Error(), "2025-05-12")
	assert.Contains(t, err.Error(), "2025-06-01")
}

func TestHostNameCheck(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now, "broker.example.com")
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	for _, tc := range []struct {
		name   string
		verify netstack.PeerVerify
		want   netstack.Class
	}{
		{"required", netstack.VerifyRequired, netstack.ClassHostNameMismatch},
		{"optional", netstack.VerifyOptional, netstack.ClassNone},
		{"none", netstack.VerifyNone, netstack.ClassNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := b.stack.DialTLS(t.Context(), "broker.example.com", netstack.PortMQTT,
				netstack.TLSConfig{SecTags: []uint32{primary}, PeerVerify: tc.verify})
			assert.Equal(t, tc.want, netstack.Classify(err), "%v", err)
			if err != nil {
				return
			}
			defer c.Close()
			if tc.verify == netstack.VerifyOptional {
				require.Error(t, c.Client.OptionalVerifyResult(), "optional verification must record the mismatch")
				assert.Equal(t, netstack.ClassHostNameMismatch, netstack.Classify(c.Client.OptionalVerifyResult()))
			}
		})
	}
}

// With VerifyOptional a wrong root does not stop the handshake but is
// recorded; VerifyRequired refuses it.
func TestPeerVerifyOptionalRecordsUnknownAuthority(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.BaltimoreCyberTrustRoot))
	c, err := b.stack.DialTLS(t.Context(), testHost, netstack.PortMQTT,
		netstack.TLSConfig{SecTags: []uint32{primary}, PeerVerify: netstack.VerifyOptional})
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, netstack.ClassUnknownAuthority, netstack.Classify(c.Client.OptionalVerifyResult()))
}

func TestResolutionAndConnectFailures(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	cfg := netstack.TLSConfig{SecTags: []uint32{primary}}

	_, err := b.stack.DialTLS(t.Context(), "nohub.example.org", netstack.PortMQTT, cfg)
	assert.Equal(t, netstack.ClassNameNotFound, netstack.Classify(err))
	code, ok := netstack.EAIOf(err)
	require.True(t, ok)
	assert.Equal(t, netstack.EAINoName, code)
	assert.Equal(t, -2, int(code))

	_, err = b.stack.DialTLS(t.Context(), testHost, 1883, cfg)
	assert.Equal(t, netstack.ClassConnRefused, netstack.Classify(err), "%v", err)

	addrs, err := b.stack.Lookup(t.Context(), "global.azure-devices-provisioning.net")
	require.NoError(t, err)
	require.NotEmpty(t, addrs)
	assert.Equal(t, "127.0.0.1", addrs[0].String())
	_, err = b.stack.Lookup(t.Context(), "nohub.example.org")
	assert.Equal(t, netstack.ClassNameNotFound, netstack.Classify(err))
}

func TestConnackRefusalCarriesTheCode(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	id := "bad-sas"
	user, _ := sasDevice(t, e, id, now)
	_, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
		Host: testHost, ClientID: id, Username: user,
		Password: "SharedAccessSignature sr=x&sig=y&se=1", TLS: netstack.TLSConfig{SecTags: []uint32{primary}},
	})
	require.Error(t, err)
	assert.Equal(t, netstack.ClassConnackNotAuthorized, netstack.Classify(err))
	rc, ok := netstack.ConnackOf(err)
	require.True(t, ok)
	assert.Equal(t, byte(5), rc)
	require.NotEmpty(t, e.Reasons(), "the hub records why")
}

func TestWebSocketUpgradeRefused(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	_, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
		Host: testHost, Transport: netstack.TransportWebSocket, WebSocketPath: "/mqtt?" + netstack.NoClientCertQuery,
		ClientID: "d", Username: username("d"), TLS: netstack.TLSConfig{SecTags: []uint32{primary}},
	})
	require.Error(t, err)
	assert.Equal(t, netstack.ClassWebSocketUpgrade, netstack.Classify(err))
	var ue *netstack.WebSocketUpgradeError
	require.True(t, errors.As(err, &ue))
	assert.Equal(t, 400, ue.Status)
}

// The connection lost callback reports a classified error when the hub
// drops the device (here: disabled while connected).
func TestLostConnectionIsReported(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	id := "dropped"
	user, pass := sasDevice(t, e, id, now)
	lost := make(chan error, 1)
	c, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
		Host: testHost, ClientID: id, Username: user, Password: pass,
		TLS: netstack.TLSConfig{SecTags: []uint32{primary}}, OnLost: func(err error) { lost <- err },
	})
	require.NoError(t, err)
	_, err = e.SetDeviceEnabled(id, false)
	require.NoError(t, err)
	select {
	case err := <-lost:
		assert.Equal(t, netstack.ClassPeerClosed, netstack.Classify(err), "%v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("loss not reported")
	}
	<-c.Done()
	assert.Error(t, c.Err())
}

func hasCheck(e *hub.Emulator, c hub.Check) bool {
	for _, r := range e.Reasons() {
		if r.Check == c {
			return true
		}
	}
	return false
}

// DPS has its own name and chain (chosen by SNI); the device reaches it by
// the same resolver and checks its name.
func TestDPSEndpoint(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	for _, port := range []int{netstack.PortMQTT, netstack.PortWebSocket} {
		c, err := b.stack.DialTLS(t.Context(), hub.DefaultDPSHostName, port, netstack.TLSConfig{SecTags: []uint32{primary}})
		require.NoError(t, err, "port %d", port)
		leaf := c.ConnectionState().PeerCertificates[0]
		assert.NoError(t, leaf.VerifyHostname(hub.DefaultDPSHostName))
		_ = c.Close()
	}
}

// A client key that does not belong to the stored certificate: the
// device's handshake completes its side, the hub rejects the signature
// with an alert.
func TestMismatchedClientKeyIsAnAlert(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	ca, err := pki.NewCA(rand.Reader, "mismatch CA", nil, now.Add(-time.Hour), now.Add(48*time.Hour))
	require.NoError(t, err)
	b := newBoard(t, e, now)
	certKey, err := modemkey.GenerateKey(rand.Reader)
	require.NoError(t, err)
	otherKey, err := modemkey.GenerateKey(rand.Reader)
	require.NoError(t, err)
	leaf, err := pki.LeafForKey(certKey.Public(), "mismatch", ca, now.Add(-time.Hour), now.Add(24*time.Hour))
	require.NoError(t, err)
	keyPEM, err := modemkey.MarshalPrivateKeyPEM(otherKey)
	require.NoError(t, err)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	b.put(t, primary, 1, pki.EncodeCertsPEM(leaf))
	b.put(t, primary, 2, keyPEM)
	c, err := b.stack.DialTLS(t.Context(), testHost, netstack.PortMQTT, netstack.TLSConfig{SecTags: []uint32{primary}})
	if err == nil {
		// TLS 1.2: the client's Finished may be written before the server's
		// alert is read; the alert then arrives on the first read.
		_, err = c.Read(make([]byte, 1))
		_ = c.Close()
	}
	require.Error(t, err)
	assert.Equal(t, netstack.ClassTLSAlert, netstack.Classify(err), "%v", err)
	_, ok := netstack.AlertOf(err)
	assert.True(t, ok)
}

// A device without a client certificate that omits `iothub-no-client-cert`
// on 443 is dropped before the upgrade is answered, as the real hub's
// renegotiation drops it (FAILURE-CASES WS1; hub package doc).
// With the hub's strict renegotiation gate (the real hub renegotiates,
// which Go's TLS stack cannot answer), a device that sent no certificate
// and no iothub-no-client-cert query is dropped.
func TestWebSocketWithoutNoClientCertQueryIsDropped(t *testing.T) {
	now := afterMigration
	e := startHub(t, now, hub.WithRenegotiationGate(true))
	b := newBoard(t, e, now)
	b.put(t, primary, 0, realRoot(t, pki.DigiCertGlobalRootG2))
	id := "sas-no-query"
	user, pass := sasDevice(t, e, id, now)
	_, err := b.stack.MQTTConnect(t.Context(), netstack.MQTTOptions{
		Host: testHost, Transport: netstack.TransportWebSocket, ClientID: id, Username: user, Password: pass,
		TLS: netstack.TLSConfig{SecTags: []uint32{primary}},
	})
	require.Error(t, err)
	assert.Equal(t, netstack.ClassPeerClosed, netstack.Classify(err), "%v", err)
	require.Eventually(t, func() bool { return hasCheck(e, hub.CheckRenegotiation) }, 10*time.Second, 10*time.Millisecond)
}
