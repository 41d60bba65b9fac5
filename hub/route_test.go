package hub

import (
	"bytes"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

// Issue 12: a client that dials the emulator by IP (no SNI) with a DPS user
// name reaches DPS, and the reason says so; a hub user name still reaches
// the hub.
func TestDPSByAddress(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithExtraHosts("127.0.0.1"), WithDPSOptions(dps.WithAssigningPolls(0)))
	key := vectorKey()
	_, err := h.e.DPS().CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "ipreg",
		Attestation: dps.AttestationSymmetricKey, PrimaryKey: key, SecondaryKey: key, Enabled: true})
	require.NoError(t, err)
	roots, err := h.e.PKI().RootPool(pki.RootNames()...)
	require.NoError(t, err)
	scope := h.e.DPS().IDScope()
	for _, ws := range []bool{false, true} {
		t.Run(map[bool]string{false: "mqtts", true: "wss"}[ws], func(t *testing.T) {
			msgs := make(chan paho.Message, 8)
			o := paho.NewClientOptions().SetClientID("ipreg").
				SetUsername(scope + "/registrations/ipreg/api-version=2019-03-31").
				SetPassword(sas.Sign(scope+"%2fregistrations%2fipreg", key, time.Now().Add(time.Hour), "registration")).
				SetTLSConfig(&tls.Config{RootCAs: roots}). // dialled by IP: no SNI
				SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(10 * time.Second).
				SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { msgs <- m })
			if ws {
				o.AddBroker("wss://" + h.e.WebSocketAddr() + WebSocketPath)
			} else {
				o.AddBroker("tls://" + h.e.MQTTAddr())
			}
			c := paho.NewClient(o)
			tok := c.Connect()
			require.True(t, tok.WaitTimeout(15*time.Second))
			require.NoError(t, tok.Error())
			defer c.Disconnect(0)
			require.True(t, c.Subscribe("$dps/registrations/res/#", 1, nil).WaitTimeout(10*time.Second))
			c.Publish("$dps/registrations/PUT/iotdps-register/?$rid=1", 1, false, `{"registrationId":"ipreg"}`)
			select {
			case m := <-msgs:
				assert.True(t, strings.HasPrefix(m.Topic(), "$dps/registrations/res/"), m.Topic())
			case <-time.After(15 * time.Second):
				t.Fatal("no DPS answer")
			}
			r := h.waitReason(CheckRoutedByUsername)
			assert.Equal(t, scope+"/registrations/ipreg/api-version=2019-03-31", r.Values["username"])
		})
	}
	t.Run("hub user name by address", func(t *testing.T) {
		hk := h.sasDevice("ipdev")
		d := h.mustConnect(dial{id: "ipdev", roots: roots, pass: sasToken(testHost, "ipdev", hk, time.Now().Add(time.Hour)),
			serverName: "-"})
		d.pub(t, "devices/ipdev/messages/events/", 1, []byte("x"))
	})
}

func connectBytes(t *testing.T, user string, will bool) []byte {
	t.Helper()
	cp := packets.NewControlPacket(packets.Connect).(*packets.ConnectPacket)
	cp.ProtocolName, cp.ProtocolVersion, cp.ClientIdentifier = "MQTT", 4, "c1"
	if user != "" {
		cp.UsernameFlag, cp.Username = true, user
		cp.PasswordFlag, cp.Password = true, []byte("pw")
	}
	if will {
		cp.WillFlag, cp.WillTopic, cp.WillMessage = true, "devices/c1/messages/events/", []byte("bye")
	}
	var b bytes.Buffer
	require.NoError(t, cp.Write(&b))
	return b.Bytes()
}

func TestPeekConnect(t *testing.T) {
	v5 := []byte{0x10, 0, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x80, 0, 60, 2, 0x11, 0, 0, 2, 'c', '1', 0, 3, 'u', '/', 'r'}
	v5[1] = byte(len(v5) - 2)
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"3.1.1 with user", connectBytes(t, "0ne/registrations/r1/api-version=2019-03-31", false), "0ne/registrations/r1/api-version=2019-03-31", false},
		{"with will", connectBytes(t, "hub.azure-devices.net/d/?api-version=2021-04-12", true), "hub.azure-devices.net/d/?api-version=2021-04-12", false},
		{"no user", connectBytes(t, "", false), "", false},
		{"MQTT 5 with properties", v5, "u/r", false},
		{"not a CONNECT", []byte{0x30, 0}, "", true},
		{"truncated", connectBytes(t, "user", false)[:8], "", true},
		{"empty", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rest := []byte("NEXT")
			raw, u, err := peekConnect(bytes.NewReader(append(append([]byte(nil), tt.in...), rest...)))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u)
			assert.Equal(t, tt.in, raw, "exactly the CONNECT is consumed")
		})
	}
}

func TestIsDPSUsername(t *testing.T) {
	for u, want := range map[string]bool{
		"0ne00000000/registrations/dev1/api-version=2019-03-31": true,
		"0ne00000000/registrations/dev1?api-version=2021-06-01": true,
		"hub.azure-devices.net/registrations/?api-version=2021": false,
		"hub.azure-devices.net/dev1/?api-version=2021-04-12":    false,
		"": false,
	} {
		assert.Equal(t, want, dps.IsUsername(u), u)
	}
	assert.True(t, needsUsernameRoute(""))
	assert.True(t, needsUsernameRoute("127.0.0.1"))
	assert.False(t, needsUsernameRoute(testHost))
}

func FuzzPeekConnect(f *testing.F) {
	f.Add([]byte{0x10, 0x0c, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x80, 0, 60, 0, 0, 0, 0})
	f.Add([]byte{0x10, 0xff, 0xff, 0xff, 0x7f})
	f.Add([]byte{0x10, 0x05, 0, 4, 'M', 'Q'})
	f.Fuzz(func(t *testing.T, b []byte) {
		raw, _, _ := peekConnect(bytes.NewReader(b))
		if !bytes.HasPrefix(b, raw) {
			t.Fatalf("returned bytes %x are not a prefix of the input", raw)
		}
	})
}
