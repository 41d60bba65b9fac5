package hub

import (
	"crypto/tls"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/sas"
)

// DPS and hub share the listeners; the SNI picks the service. A symmetric
// key registration is assigned to this hub, and the device then connects.
func TestDPSBySNIThenHub(t *testing.T) {
	t.Parallel()
	h := newHarness(t, WithDPSOptions(dps.WithAssigningPolls(0), dps.WithRetryAfter(time.Second)))
	key := vectorKey()
	_, err := h.e.DPS().CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "reg1",
		Attestation: dps.AttestationSymmetricKey, PrimaryKey: key, SecondaryKey: key, Enabled: true})
	require.NoError(t, err)

	for _, ws := range []bool{false, true} {
		name := map[bool]string{false: "mqtts", true: "wss"}[ws]
		t.Run(name, func(t *testing.T) {
			roots, err := h.e.PKI().RootPool(h.e.DPSRoot())
			require.NoError(t, err)
			scope := h.e.DPS().IDScope()
			msgs := make(chan paho.Message, 8)
			o := paho.NewClientOptions().SetClientID("reg1").
				SetUsername(scope + "/registrations/reg1/api-version=2019-03-31").
				SetPassword(sas.Sign(scope+"%2fregistrations%2freg1", key, time.Now().Add(time.Hour), "registration")).
				SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: DefaultDPSHostName}).
				SetProtocolVersion(4).SetAutoReconnect(false).SetConnectTimeout(5 * time.Second).
				SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { msgs <- m })
			if ws {
				o.AddBroker("wss://" + h.e.WebSocketAddr() + WebSocketPath)
			} else {
				o.AddBroker("tls://" + h.e.MQTTAddr())
			}
			c := paho.NewClient(o)
			tok := c.Connect()
			require.True(t, tok.WaitTimeout(10*time.Second))
			require.NoError(t, tok.Error())
			defer c.Disconnect(0)
			require.True(t, c.Subscribe("$dps/registrations/res/#", 1, nil).WaitTimeout(10*time.Second))
			c.Publish("$dps/registrations/PUT/iotdps-register/?$rid=1", 1, false, `{"registrationId":"reg1"}`)
			var assigned struct {
				Status            string `json:"status"`
				OperationID       string `json:"operationId"`
				RegistrationState struct {
					AssignedHub string `json:"assignedHub"`
					DeviceID    string `json:"deviceId"`
				} `json:"registrationState"`
			}
			deadline := time.After(15 * time.Second)
			for assigned.Status != "assigned" {
				select {
				case m := <-msgs:
					require.True(t, strings.HasPrefix(m.Topic(), "$dps/registrations/res/"), m.Topic())
					require.NoError(t, json.Unmarshal(m.Payload(), &assigned), string(m.Payload()))
					if assigned.Status == "assigning" {
						time.Sleep(100 * time.Millisecond)
						c.Publish("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId="+url.QueryEscape(assigned.OperationID), 1, false, "")
					}
				case <-deadline:
					t.Fatal("not assigned")
				}
			}
			assert.Equal(t, testHost, assigned.RegistrationState.AssignedHub)
			assert.Equal(t, "reg1", assigned.RegistrationState.DeviceID)
			// The assigned device now connects to the hub with the same key.
			h.mustConnect(dial{id: "reg1", ws: ws, pass: sasToken(testHost, "reg1", key, time.Now().Add(time.Hour))}).c.Disconnect(0)
		})
	}
}
