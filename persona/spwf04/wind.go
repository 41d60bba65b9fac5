package spwf04

import "strconv"

// Wind is an asynchronous indication number (`+WIND:<n>:<text>`).
type Wind int

// Indication numbers and texts: ST's WiFi_Indication_t and GHI's
// SPWF04SxIndication agree on the numbers; texts marked [C] are parsed
// literally by a driver or seen in a log, the others are GHI's enum names
// [S spwf04.md §3].
const (
	WindConsoleActive    Wind = 0  // [C]
	WindPoweron          Wind = 1  // [C,P] param: firmware id
	WindReset            Wind = 2  // [I] X-CUBE defines "+WIND:2:Reset"
	WindWatchdog         Wind = 3  // [C,P] param: 20
	WindCopyright        Wind = 13 // [P] param: SPWF04SA
	WindJoin             Wind = 19 // [I] param: BSSID
	WindScanning         Wind = 21 // [I]
	WindUp               Wind = 24 // [C] params: <n>:<ip>
	WindAssociation      Wind = 25 // [I] param: SSID
	WindHardwareStarted  Wind = 32 // [C]
	WindNetworkLost      Wind = 33 // [C]
	WindScanComplete     Wind = 35 // [I] param: 00
	WindPoweredDown      Wind = 38 // [C,P]
	WindDeauthentication Wind = 40 // [I] param: reason
	WindWPATerminated    Wind = 49 // [C,P] param: 0
	WindWPAHandshake     Wind = 51 // [I]
	WindPendingData      Wind = 55 // [C] params: <srvId>:<cliId>:<rcvd>:<cumulated>
	WindSocketClosed     Wind = 58 // [C] params: <id>:<reason>
	WindMQTTPublished    Wind = 86 // [C,X2]
	WindMQTTClosed       Wind = 87 // [C]
)

var windText = map[Wind]string{
	WindConsoleActive:    "Console active",
	WindPoweron:          "Poweron",
	WindReset:            "Reset",
	WindWatchdog:         "Watchdog Running",
	WindCopyright:        "Copyright", // replaced by the copyright setting [U]
	WindJoin:             "WiFi Join",
	WindScanning:         "WiFi Scanning",
	WindUp:               "WiFi Up",
	WindAssociation:      "WiFi Association Successful",
	WindHardwareStarted:  "WiFi Hardware Started",
	WindNetworkLost:      "WiFi Network Lost",
	WindScanComplete:     "WiFi Scan Complete",
	WindPoweredDown:      "WiFi Powered Down",
	WindDeauthentication: "WiFi Deauthentication",
	WindWPATerminated:    "WPA Terminated",
	WindWPAHandshake:     "WPA Handshake Complete",
	WindPendingData:      "Pending Data",
	WindSocketClosed:     "Socket Closed",
	WindMQTTPublished:    "MQTT Published",
	WindMQTTClosed:       "MQTT Closed",
}

// line is `+WIND:<n>:<text>[:<params>]`: a line with no params has no
// trailing colon (mbed waits for exactly `+WIND:0:Console active`)
// [S spwf04.md §3].
func (w Wind) line(text string, params ...string) string {
	s := "+WIND:" + strconv.Itoa(int(w)) + ":" + text
	for _, p := range params {
		s += ":" + p
	}
	return s
}

// windMasked tells whether the console_wind_off_* masks hide indication
// n: bit n of low, bit n-32 of medium, bit n-64 of high [I spwf04.md §1:
// mbed's masks 0x80000000 and 0x00100000 then hide 63 and 84].
func windMasked(n Wind, low, medium, high uint32) bool {
	switch {
	case n < 0:
		return false
	case n < 32:
		return low&(1<<uint(n)) != 0
	case n < 64:
		return medium&(1<<uint(n-32)) != 0
	case n < 96:
		return high&(1<<uint(n-64)) != 0
	}
	return false
}
