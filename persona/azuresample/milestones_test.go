package azuresample

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMilestoneOf(t *testing.T) {
	line := func(m Msg, args ...any) string {
		return FormatLine(1234*time.Millisecond, m, sprintf(m, args...)) + "\r\n"
	}
	for _, tc := range []struct {
		name string
		line string
		want Milestone
		text string
	}{
		{"assigned", line(mDPSStatus, regAssigned), DPSDone, "DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED"},
		{"still assigning", line(mDPSStatus, regAssigning), NoMilestone, ""},
		{"kept assignment", line(mDPSAlready), DPSDone, "Already assigned to an IoT hub, skipping DPS"},
		{"connected", line(mEvt, "AZURE_IOT_HUB_EVT_CONNECTED"), HubConnected, "AZURE_IOT_HUB_EVT_CONNECTED"},
		{"connecting", line(mEvt, "AZURE_IOT_HUB_EVT_CONNECTING"), NoMilestone, ""},
		{"event sent", line(mEventSent), EventSent, "Event was successfully sent"},
		{"DPS failed", line(mDPSRunFailed, -14), RunFailed, "Failed to run DPS, error: -14, terminating connection attempt"},
		{"disconnected", line(mEvt, "AZURE_IOT_HUB_EVT_DISCONNECTED"), RunFailed, "AZURE_IOT_HUB_EVT_DISCONNECTED"},
		{"same text, other module", "<inf> azure_iot_hub: Event was successfully sent", NoMilestone, ""},
		{"a URC", "+CEREG: 1", NoMilestone, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, text := MilestoneOf(tc.line)
			assert.Equal(t, tc.want, m)
			assert.Equal(t, tc.text, text)
		})
	}
}

func sprintf(m Msg, args ...any) string {
	if len(args) == 0 {
		return m.Format
	}
	return fmt.Sprintf(m.Format, args...)
}
