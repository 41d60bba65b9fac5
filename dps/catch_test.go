package dps_test

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
)

// Tests that catch wrong lines the mutation run of issue 14 left alive.

// A service reopened on its state keeps the registration records (and
// enrollments): a load that dropped them passed every other test.
func TestReopenedServiceKeepsRegistrations(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t)
	leaf := w.leaf(t, "dev-keep", nil)
	_, err := e.svc.CreateIndividualEnrollment(dps.IndividualEnrollment{
		RegistrationID: "dev-keep", Attestation: dps.AttestationX509, CertificatePEM: string(leaf.CertPEM()), Enabled: true})
	require.NoError(t, err)
	d, err := e.connect(t, creds{regID: "dev-keep", chain: []*pki.Authority{leaf}})
	require.NoError(t, err)
	topic, _ := d.register(t, "dev-keep", "1")
	require.Equal(t, "$dps/registrations/res/200/?$rid=1", topic)
	before := e.svc.Registrations()
	require.Len(t, before, 1)
	d.c.Disconnect(10)
	require.NoError(t, e.svc.Close())

	again, err := dps.New(e.dir, &fakeAssigner{})
	require.NoError(t, err, "Close released the state")
	t.Cleanup(func() { _ = again.Close() })
	after := again.Registrations()
	require.Len(t, after, 1)
	assert.Equal(t, before[0].RegistrationID, after[0].RegistrationID)
	assert.Equal(t, before[0].Status, after[0].Status)
	assert.Equal(t, before[0].AssignedHub, after[0].AssignedHub)
	assert.Equal(t, before[0].DeviceID, after[0].DeviceID)
	assert.Len(t, again.ListIndividualEnrollments(), 1)
}

// Two services on one state directory: the second is refused in one line.
func TestSecondServiceOnOneStateIsRefused(t *testing.T) {
	dir := t.TempDir()
	first, err := dps.New(dir, &fakeAssigner{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = first.Close() })
	_, err = dps.New(dir, &fakeAssigner{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "held by pid")
	assert.NotContains(t, err.Error(), "\n")
}

// An X.509 device whose client sets the password flag with a 0-byte
// password (allowed by MQTT 3.1.1) is attested by its certificate; mochi
// alone answered 0x82.
func TestX509ConnectWithEmptyPassword(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t)
	leaf := w.leaf(t, "dev-empty", nil)
	_, err := e.svc.CreateIndividualEnrollment(dps.IndividualEnrollment{
		RegistrationID: "dev-empty", Attestation: dps.AttestationX509, CertificatePEM: string(leaf.CertPEM()), Enabled: true})
	require.NoError(t, err)
	_, pool := serverFixtures(t)
	c, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: pool, ServerName: dpsHost, MinVersion: tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{leaf.Cert.Raw}, PrivateKey: leaf.Key, Leaf: leaf.Cert}}})
	require.NoError(t, err)
	defer c.Close()
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion = "MQTT", 4
	cp.ClientIdentifier, cp.Keepalive, cp.CleanSession = "dev-empty", 60, true
	cp.UsernameFlag, cp.Username = true, scope+"/registrations/dev-empty"+apiUser
	cp.PasswordFlag, cp.Password = true, []byte{}
	require.NoError(t, cp.Write(c))
	_ = c.SetReadDeadline(time.Now().Add(waitFor))
	p, err := packets.ReadPacket(c)
	require.NoError(t, err)
	ack, ok := p.(*packets.ConnackPacket)
	require.True(t, ok, "got %T", p)
	assert.Equal(t, byte(0), ack.ReturnCode)
	assert.Empty(t, e.reasons.all())
}
