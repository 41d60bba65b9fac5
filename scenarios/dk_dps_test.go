package scenarios

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The nRF7002 DK runs DPS over Wi-Fi as the WebSocket thread's board did
// ("Starting DPS"), then remembers the assignment across a reflash
// ("Already assigned to an IoT hub, skipping DPS").
func TestDKProvisionsWithDPSOverWiFi(t *testing.T) {
	dk := nrf7002dkBoard()
	dk.Network = true
	prj := prjDPS(DKDevice, "10") + "\nCONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1\n" + dkHeaderConf
	flash := FlashSample{PrjConf: prj, BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice)}
	c := Case{ID: "DK-DPS", Title: "the DK with DPS", Fix: "-",
		World: World{Date: DKDate, CAs: []string{myRoot}, Certs: []DeviceCert{{DKDevice, myRoot}},
			Hub: &Hub{HostName: DKHub, DPSCAs: []DPSCA{{myRoot, true}}, Groups: []Group{{"dk-fleet", myRoot}}}, Boards: []BoardSpec{dk}},
		Steps: []Step{
			{Phase: PhaseSuccess, Say: "the sample with DPS", Do: flash, Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: Connected to network",
				"<inf> azure_iot_hub_sample: Starting DPS",
				"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED",
				`<inf> azure_iot_hub_sample: Device ID "` + DKDevice + `" assigned to IoT hub with hostname "*"`,
				"<inf> azure_iot_hub_sample: Event was successfully sent"}, Absent: []string{"<err>*"}}},
			{Phase: PhaseSuccess, Say: "the same sample flashed again", Do: flash, Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: Already assigned to an IoT hub, skipping DPS",
				"<inf> azure_iot_hub_sample: Event was successfully sent"}}},
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := Run(ctx, c, Options{PKI: sharedPool(t)})
	if err != nil {
		for _, s := range res.Steps {
			t.Logf("step %d %s: %s\n%v", s.Index+1, s.Step.Say, s.Err, s.Output)
		}
	}
	require.NoError(t, err)
}
