package azuresample

import (
	"fmt"
	"strings"
)

// Milestone is a point of the sample's run that a host following its
// console (a factory script, `modemsim load`) waits for.
type Milestone int

const (
	// NoMilestone: any other line.
	NoMilestone Milestone = iota
	// DPSDone: DPS assigned the device, or an earlier assignment was kept.
	DPSDone
	// HubConnected: the hub accepted the connection and the subscriptions.
	HubConnected
	// EventSent: a telemetry event was sent.
	EventSent
	// RunFailed: main() gave up, or the connection went away; the sample
	// never retries, so only a reset brings it back.
	RunFailed
)

// milestones are the log lines of each milestone, from the messages above
// (a format with verbs matches any arguments).
var milestones = []struct {
	m    Milestone
	msg  Msg
	text string // "" matches the format
}{
	{DPSDone, mDPSStatus, fmt.Sprintf(mDPSStatus.Format, regAssigned)},
	{DPSDone, mDPSAlready, ""},
	{HubConnected, mEvt, "AZURE_IOT_HUB_EVT_CONNECTED"},
	{EventSent, mEventSent, ""},
	{RunFailed, mDPSRunFailed, ""},
	{RunFailed, mConnectFailed, ""},
	{RunFailed, mEvt, "AZURE_IOT_HUB_EVT_CONNECTION_FAILED"},
	{RunFailed, mEvt, "AZURE_IOT_HUB_EVT_DISCONNECTED"},
	{RunFailed, mSendFailed, ""},
	{RunFailed, mIfUpFailed, ""},
	{RunFailed, mFatalConn, ""},
}

// MilestoneOf tells which milestone a console line is; the text is the
// line without its timestamp and level, for a failure's reason.
func MilestoneOf(line string) (Milestone, string) {
	line = StripTimestamp(strings.TrimRight(line, "\r\n"))
	for _, ms := range milestones {
		head := "<" + levelTags[ms.msg.Level] + "> " + ms.msg.Mod + ": "
		if ms.msg.Level == LevelDbg && ms.msg.Func != "" {
			head += ms.msg.Func + ": "
		}
		text, ok := strings.CutPrefix(line, head)
		if !ok {
			continue
		}
		switch {
		case ms.text != "":
			ok = text == ms.text
		case strings.Contains(ms.msg.Format, "%"):
			prefix, _, _ := strings.Cut(ms.msg.Format, "%")
			ok = strings.HasPrefix(text, prefix)
		default:
			ok = text == ms.msg.Format
		}
		if ok {
			return ms.m, text
		}
	}
	return NoMilestone, ""
}
