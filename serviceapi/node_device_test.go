package serviceapi

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
)

// Issue 12 fix 1 with the real client: the Node device SDK's MqttWs
// transport (azure-iot-device-mqtt 1.16.4) omits ?iothub-no-client-cert=true
// and connects with the emulator's defaults; NODE_EXTRA_CA_CERTS=roots.pem
// next to Node's own root store — which bundles the real DigiCert Global
// Root G2 of the same name — verifies the chain (fix 2).
func TestNodeDeviceSDKOverWebSocket(t *testing.T) {
	t.Parallel()
	node := nodeSDK(t)
	v := newEnv(t)
	d, err := v.e.CreateDevice(hub.DeviceSpec{ID: "node-ws1", Auth: hub.AuthSAS})
	require.NoError(t, err)
	_, err = v.e.UpdateDesired("node-ws1", []byte(`{"interval":15}`))
	require.NoError(t, err)
	tele, stop := v.e.Telemetry(4)
	defer stop()
	redirect, err := json.Marshal(map[string]string{testHubHost + ":443": v.e.WebSocketAddr()})
	require.NoError(t, err)
	env := []string{"NODE_EXTRA_CA_CERTS=" + v.rootsPEM(), "MODEMSIM_REDIRECT=" + string(redirect)}
	cs := "HostName=" + testHubHost + ";DeviceId=node-ws1;SharedAccessKey=" + d.PrimaryKey

	var got struct{ Desired map[string]any }
	runNode(t, node, env, &got, "devicews", cs)
	assert.EqualValues(t, 15, got.Desired["interval"])
	select {
	case m := <-tele:
		assert.JSONEq(t, `{"over":"websocket"}`, string(m.Payload))
		assert.Equal(t, "node", m.Properties["sdk"])
	case <-time.After(10 * time.Second):
		t.Fatal("no telemetry from the Node device")
	}
	var accepted *hub.Attempt
	for _, a := range v.e.Attempts() {
		if a.DeviceID == "node-ws1" && a.Outcome == hub.OutcomeAccepted {
			accepted = &a
		}
	}
	require.NotNil(t, accepted)
	assert.Equal(t, hub.ListenerWS, accepted.Listener)
	require.NotNil(t, accepted.TLS)
	assert.Equal(t, hub.WebSocketPath, accepted.TLS.WebSocketRequest, "no ?iothub-no-client-cert=true")
}
