package scenarios

import (
	"fmt"
	"strings"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/persona/atclient"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/persona/serialmodem"
)

// The worlds' fixed facts, shared with the features that replay the same
// threads (features/*.feature).
const (
	// SampleHub is the hub of the azure_iot_hub sample cases (M1, M2, D1–D5).
	SampleHub = "modemsim-hub.azure-devices.net"
	// SerialModemHub is the hub of the Serial Modem cases (M3, D3, H2).
	SerialModemHub = "myhub.azure-devices.net"
	// FabioHub is the SPWF04 thread's hub (S1–S4).
	FabioHub = "fabio-hub.azure-devices.net"
	// DeviceUUID is the DPS thread's device ID (the nRF91's device UUID).
	DeviceUUID = "50363154-3931-44f0-8022-121b6401627d"
	// SASKey is dev1's primary key in the SAS cases (H2's tokens are signed with it).
	SASKey = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	// MigrationWindowDate lies between the hubs' move to DigiCert Global
	// Root G2 and DPS's (15 Feb 2024): M2.
	MigrationWindowDate = "2024-01-10"
	// AfterMigrationDate is after both moved.
	AfterMigrationDate = "2024-06-01"
	// LabSSID and LabKey are the SPWF04 course's access point.
	LabSSID, LabKey = "lab", "lab-wpa2-key"
	// FabioDate is two days after the thread's SAS token expired (se=1521901101).
	FabioDate = "2018-03-26"
	// H2 tokens: signed over "%2f" but sent with "%2F" (refused), and
	// signed over the text sent (accepted), both with SASKey, se=1900000000.
	H2TokenMismatched = "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=LZNJ7dZSH8R77oICFFya0IZ5aqc%2B3yTvHIp7SbrH%2BhM%3D&se=1900000000"
	H2TokenMatching   = "SharedAccessSignature sr=myhub.azure-devices.net%2Fdevices%2Fdev1&sig=2%2FbbVukbBxhdR4aRdJgLLhQzyetTcv8yWMS4N9W7HVY%3D&se=1900000000"
)

// The nRF7002 DK cases' hub, device and date (after the migration).
const (
	DKHub    = SampleHub
	DKDevice = "nrf7002dk-01"
	DKDate   = "2024-06-01"
)

const (
	myRoot    = "My Root CA"
	otherRoot = "Other Root CA"
	g2        = "DigiCert Global Root G2"
	baltimore = "Baltimore CyberTrust Root"
)

// --- boards ---

func atClientBoard(model string) BoardSpec {
	return BoardSpec{Name: "nrf91", Kind: board.KindNRF91, Persona: atclient.Name, Hardware: map[string]any{"model": model}}
}

// sampleBoard is the DPS thread's nRF9160 DK: device_fullchain.pem as
// CLIENT_CERT, its key as CLIENT_KEY and a real root as ROOT_CA_CERT in each
// tag, provisioned with at_client before the sample is flashed.
func sampleBoard(cn string, roots map[uint32]string) BoardSpec {
	b := atClientBoard("nrf9160")
	b.Network = true
	for _, tag := range []uint32{10, 11, 56} {
		root, ok := roots[tag]
		if !ok {
			continue
		}
		b.Credentials = append(b.Credentials, Credential{Tag: tag, Type: 0, Content: "root:" + root},
			Credential{Tag: tag, Type: 1, Content: "chain:" + cn}, Credential{Tag: tag, Type: 2, Content: "key:" + cn})
	}
	return b
}

func serialModemBoard(name string) BoardSpec {
	return BoardSpec{Name: name, Kind: board.KindNRF91, Persona: serialmodem.Name, Hardware: map[string]any{"model": "nrf9151"},
		Network: true, Terminator: "\r"}
}

func spwf04Board() BoardSpec {
	return BoardSpec{Name: "spwf04", Kind: board.KindSPWF04, Terminator: "\r",
		Hardware: map[string]any{"ap_ssid": LabSSID, "ap_key": LabKey, "pki_dir": "{PKI_DIR}",
			"hub_mqtt": "{HUB_MQTT}", "hub_websocket": "{HUB_WS}"},
		Firmware: map[string]any{"join_retry": "1h"}}
}

func nrf7002dkBoard() BoardSpec {
	return BoardSpec{Name: "nrf7002dk", Kind: board.KindNRF7002DK, Terminator: "\r", Firmware: map[string]any{"cred_buf_size": 4096}}
}

// --- the azure_iot_hub sample's builds ---

const prjM1 = `CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DEVICE_ID="` + DeviceUUID + `"
CONFIG_AZURE_IOT_HUB_HOSTNAME="` + SampleHub + `"
CONFIG_MQTT_HELPER_SEC_TAG=10`

// prjDPS is the DPS thread's build with its registration ID and sec tag.
func prjDPS(regID, tag string) string {
	return `CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DPS=y
CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
CONFIG_AZURE_IOT_HUB_DPS_REG_ID="` + regID + `"
CONFIG_MQTT_HELPER_SEC_TAG=` + tag + `
CONFIG_SETTINGS=y`
}

const prjM2 = `CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DPS=y
CONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE="{ID_SCOPE}"
CONFIG_AZURE_IOT_HUB_DPS_REG_ID="testdevice"
CONFIG_MQTT_HELPER_SEC_TAG=10
CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=11
CONFIG_SETTINGS=y`

// --- outcomes the features assert ---

var (
	dpsRejected = []string{
		"<err> azure_iot_hub_dps: Connection was rejected with return code 5",
		"<wrn> azure_iot_hub_dps: Is the device certificate valid?",
		"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_FAILED",
		"<err> azure_iot_hub_sample: Failed to run DPS, error: -14, terminating connection attempt",
	}
	assigned = []string{
		"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED",
		`<inf> azure_iot_hub_sample: Device ID "` + DeviceUUID + `" assigned to IoT hub with hostname "` + SampleHub + `"`,
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED",
	}
	spwf04Loading = []string{"AT-S.Loading:1:2", "AT-S.Loading:2:1", "AT-S.Loading:3:1", "AT-S.Loading:3:1"}
	// spwf04NoCA: the module finds no CA by the server's key identifier.
	spwf04NoCA = []string{"AT-S.Skip CA", "AT-S.Certificate Error:23", "AT-S.ERROR:111:Request failed"}
	// baltimoreKeyID is what the module prints loading the Baltimore root.
	baltimoreKeyID = "AT-S.SubjectKeyId:E5:9D:59:30:82:47:58:CC:AC:FA:08:54:36:86:7B:3A:B5:04:4D:F0"
)

// dpsWorld is the DPS thread's world: the hub, the user's root, the device
// certificate (CN = device UUID), the CAs at DPS and the group.
func dpsWorld(dpsCAs []DPSCA, group string, board BoardSpec) World {
	return World{CAs: []string{myRoot, otherRoot}, Certs: []DeviceCert{{DeviceUUID, myRoot}},
		Hub:    &Hub{HostName: SampleHub, DPSCAs: dpsCAs, Groups: []Group{{"nrf91-fleet", group}}},
		Boards: []BoardSpec{board}}
}

var dpsBoard = sampleBoard(DeviceUUID, map[uint32]string{56: g2})

func flashSample(conf string) Action { return Flash{Persona: azuresample.Name, PrjConf: conf} }

// smConnect is the Serial Modem's MQTT connect as the host types it:
// client ID, then #XMQTTCON with user name, password and sec tag.
func smConnect(phase Phase, board, id, password, tag string, want Outcome) []Step {
	return []Step{
		{Phase: phase, Board: board, Say: "the host sets the client ID", Do: Type{Line: `AT#XMQTTCFG="` + id + `"`}, Want: Outcome{Lines: []string{"OK"}}},
		{Phase: phase, Board: board, Say: "the host connects the board to the hub on 8883 with sec tag " + tag,
			Do: Type{Line: `AT#XMQTTCON=1,"{HUB}/` + id + `/?api-version=2021-04-12","` + password + `","{HUB}",8883,` + tag}, Want: want},
	}
}

func smHello(board string) Step {
	return Step{Phase: PhaseSetup, Board: board, Say: "the host wakes the Serial Modem's AT host", Do: Type{Line: "AT"}, Want: Outcome{Lines: []string{"OK"}}}
}

func steps(groups ...[]Step) []Step {
	var out []Step
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// spwf04Setup sets the module's clock as ST's driver does before TLS and
// joins the lab's Wi-Fi (spwf04.md §4, §7).
var spwf04Setup = []Step{
	{Phase: PhaseSetup, Say: "the host sets the module's clock", Do: Type{Line: "AT+S.TIME={NOW_UNIX}"}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
	{Phase: PhaseSetup, Say: "the host sets the SSID", Do: Type{Line: "AT+S.SSIDTXT=" + LabSSID}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
	{Phase: PhaseSetup, Say: "the host sets the WPA2 key", Do: Type{Line: "AT+S.SCFG=wifi_wpa_psk_text," + LabKey}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
	{Phase: PhaseSetup, Say: "the host sets WPA2", Do: Type{Line: "AT+S.SCFG=wifi_priv_mode,2"}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
	{Phase: PhaseSetup, Say: "the host sets station mode", Do: Type{Line: "AT+S.SCFG=wifi_mode,1"}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
	{Phase: PhaseSetup, Say: "the host turns Wi-Fi on and waits for an address", Do: Type{Line: "AT+S.WIFI=1"},
		Want: Outcome{Lines: []string{"AT-S.OK", "+WIND:24:WiFi Up:0:*"}}},
}

func fabioWorld(devices ...Device) World {
	return World{Date: FabioDate, Hub: &Hub{HostName: FabioHub, OwnPKI: true, Devices: devices}, Boards: []BoardSpec{spwf04Board()}}
}

var fabioSAS = Device{ID: "DeviceID", Auth: "sas"}

// spwf04Baltimore loads the Baltimore root in DER, as the thread ends.
func spwf04Baltimore(phase Phase) Step {
	return Step{Phase: phase, Say: "the host loads the Baltimore root in DER as the TLS CA", Do: Type{Line: "AT+S.TLSCERT=ca,891", Payload: "der:Baltimore_CyberTrust_Root.pem"},
		Want: Outcome{Lines: []string{baltimoreKeyID, "AT-S.OK"}}}
}

// spwf04WebSockets is MQTT over WebSockets on 443 with a SAS token, the
// thread's working connection.
func spwf04WebSockets(phase Phase, want []string) Step {
	return Step{Phase: phase, Say: "MQTTCONN over WebSockets on 443 with a SAS token valid for a day",
		Do:   Type{Line: "AT+S.MQTTCONN=" + FabioHub + ",443,/$iothub/websocket?iothub-no-client-cert=true,2," + FabioHub + "/DeviceID,{SAS:DeviceID:+24h},DeviceID,60,15,0,,"},
		Want: Outcome{Lines: want}}
}

func shellCred(phase Phase, op string, tag uint64, typ, file string) Step {
	say := "nrfcredstore's TLS shell interface provisions " + file
	want := Outcome{Lines: []string{"nrfcredstore: written"}}
	if op == "check" {
		say = "nrfcredstore's TLS shell interface checks the digest of " + file
		want = Outcome{Lines: []string{"nrfcredstore: digest * as expected"}}
	}
	return Step{Phase: phase, Say: say, Do: CredShell{Op: op, Tag: tag, Type: typ, File: "file:" + file}, Want: want}
}

func typed(phase Phase, say, line string, want ...string) Step {
	return Step{Phase: phase, Say: say, Do: Type{Line: line}, Want: Outcome{Lines: want}}
}

// cases are every case of FAILURE-CASES.md that the simulator can replay
// today; each reproduces the lines its feature asserts.
var cases = []Case{
	{
		ID: "H1", Title: "nrfcredstore list/write/delete on an nRF91 running at_client", Source: "",
		Failure: "deleting a credential that is not there is refused with +CME ERROR: 513, as on the modem",
		Fix:     "write the root first (nrfcredstore 1.1.1 or 2.0.9: the same bytes)",
		World:   World{Boards: []BoardSpec{atClientBoard("nrf9151")}},
		Steps: []Step{
			{Phase: PhaseSetup, Say: "nrfcredstore 2.0.9 probes for a shell and lists tag 42", Do: Tool{Version: "2.0.9", Op: "list", Tag: 42},
				Want: Outcome{Lines: []string{"ERROR", "OK", "nrfcredstore: no credentials"}}},
			{Phase: PhaseFailure, Say: "nrfcredstore 2.0.9 deletes tag 42's root CA", Do: Tool{Version: "2.0.9", Op: "delete", Tag: 42, Type: "ROOT_CA_CERT"},
				Want: Outcome{Lines: []string{"+CME ERROR: 513", "nrfcredstore: failed"}}},
			{Phase: PhaseFix, Say: "nrfcredstore 1.1.1 writes AmazonRootCA1.pem to tag 42", Do: Tool{Version: "1.1.1", Op: "write", Tag: 42, Type: "ROOT_CA_CERT", File: "file:AmazonRootCA1.pem"},
				Want: Outcome{Lines: []string{"OK", "nrfcredstore: done"}}},
			{Phase: PhaseSuccess, Say: "nrfcredstore 1.1.1 lists tag 42", Do: Tool{Version: "1.1.1", Op: "list", Tag: 42},
				Want: Outcome{Lines: []string{`%CMNG: 42,0,"AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"`, "OK",
					"nrfcredstore: 42 0 AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"}}},
			{Phase: PhaseSuccess, Say: "nrfcredstore 2.0.9 deletes it", Do: Tool{Version: "2.0.9", Op: "delete", Tag: 42, Type: "ROOT_CA_CERT"},
				Want: Outcome{Lines: []string{"OK", "nrfcredstore: done"}}},
		},
	},
	{
		ID: "H2", Title: `SAS token signed over "%2f" but sent with "%2F"`, Source: "",
		Failure: "CONNACK 5 and nothing more; the emulator names the string it verified",
		Fix:     "sign exactly the resource string the token carries",
		World: World{Date: AfterMigrationDate, Hub: &Hub{HostName: SerialModemHub, Devices: []Device{{ID: "dev1", Auth: "sas", PrimaryKey: SASKey}}},
			Boards: []BoardSpec{serialModemBoard("nrf91")}},
		Steps: steps([]Step{smHello(""),
			typed(PhaseSetup, "the host stores the real DigiCert Global Root G2 in tag 10", `AT%CMNG=0,10,0,"{root:DigiCert Global Root G2}"`, "OK"),
			{Phase: PhaseSetup, Say: "the modem registers on the network", Do: Register{}}},
			smConnect(PhaseFailure, "", "dev1", H2TokenMismatched, "10", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,5", "#XMQTTEVT: 1,-111"},
				HubReason: "sas-signature", HubReasonValues: map[string]string{"stringToSign": "myhub.azure-devices.net%2Fdevices%2Fdev1\n1900000000"}}),
			smConnect(PhaseFix, "", "dev1", H2TokenMatching, "10", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}})),
	},
	{
		ID: "H3", Title: "the same certificate with CRLF or LF line ends lists different digests", Source: "",
		Failure: "the modem hashes exactly the bytes written: a CRLF copy is another credential",
		Fix:     "nrfcredstore 2.0.9 normalises CRLF to LF before writing",
		World:   World{Boards: []BoardSpec{atClientBoard("nrf9160")}},
		Steps: []Step{
			typed(PhaseSetup, "the host turns on numeric errors", "AT+CMEE=1", "OK"),
			typed(PhaseSetup, "the host takes the modem offline", "AT+CFUN=4", "OK"),
			typed(PhaseFailure, "the host writes AmazonRootCA1.pem with LF line ends to tag 10", `AT%CMNG=0,10,0,"{file:AmazonRootCA1.pem}"`, "OK"),
			typed(PhaseFailure, "the same file with CRLF line ends to tag 11", `AT%CMNG=0,11,0,"{file-crlf:AmazonRootCA1.pem}"`, "OK"),
			typed(PhaseFailure, "the same without the final newline to tag 12", `AT%CMNG=0,12,0,"{file-trim:AmazonRootCA1.pem}"`, "OK"),
			typed(PhaseFailure, "the host lists the credentials", "AT%CMNG=1",
				`%CMNG: 10,0,"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"`,
				`%CMNG: 11,0,"56AE01E6773BDAEC4BFB216D4005ADB06E4F680BD8BFB8BE4C683CE921681897"`,
				`%CMNG: 12,0,"AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"`, "OK"),
			{Phase: PhaseFix, Say: "nrfcredstore 2.0.9 writes the CRLF file to tag 13", Do: Tool{Version: "2.0.9", Op: "write", Tag: 13, Type: "ROOT_CA_CERT", File: "file-crlf:AmazonRootCA1.pem"},
				Want: Outcome{Lines: []string{"OK", "nrfcredstore: done"}}},
			{Phase: PhaseSuccess, Say: "nrfcredstore 2.0.9 lists tag 13: the LF digest", Do: Tool{Version: "2.0.9", Op: "list", Tag: 13},
				Want: Outcome{Lines: []string{"nrfcredstore: 13 0 AD6FB002E6B34C0559FA8F93A3794FF12C4E3F119BD77290C52525123FB9EA74"}}},
		},
	},
	{
		ID: "M1", Title: "Baltimore only after the migration, then DigiCert Global Root G2 (azure_iot_hub sample)", Source: "nrf91-modem-key-mgmt-dps.txt",
		Failure: "the hub serves the DigiCert G2 chain; a device trusting only Baltimore fails TLS: mqtt_connect -111",
		Fix:     "write the real DigiCert Global Root G2 as the root CA of the sample's sec tag",
		World: World{CAs: []string{myRoot}, Certs: []DeviceCert{{DeviceUUID, myRoot}},
			Hub:    &Hub{HostName: SampleHub, CAs: []string{myRoot}, Devices: []Device{{ID: DeviceUUID, Auth: "ca"}}},
			Boards: []BoardSpec{sampleBoard(DeviceUUID, map[uint32]string{10: baltimore})}},
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the board is flashed with the azure_iot_hub sample", Do: flashSample(prjM1), Want: Outcome{Lines: []string{
				"*** Booting nRF Connect SDK v2.5.0 ***",
				"<inf> azure_iot_hub_sample: Azure IoT Hub sample started",
				"<inf> azure_iot_hub_sample: Connected to network",
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING",
				"<err> mqtt_helper: mqtt_connect, error: -111",
				"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -111",
			}, HubReason: "tls-handshake"}},
			{Phase: PhaseFix, Say: "the user flashes at_client to provision", Do: Flash{Persona: atclient.Name}},
			typed(PhaseFix, "the user writes the real DigiCert Global Root G2 to tag 10 as ROOT_CA_CERT", `AT%CMNG=0,10,0,"{root-trim:DigiCert Global Root G2}"`, "OK"),
			{Phase: PhaseSuccess, Say: "the user flashes the azure_iot_hub sample again", Do: flashSample(prjM1), Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED",
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY",
				"<inf> azure_iot_hub_sample: Event was successfully sent",
			}}},
		},
	},
	{
		ID: "M2", Title: "two sec tags during the migration window: DPS on Baltimore, the hub on G2", Source: "nrf91-modem-key-mgmt-dps.txt",
		Failure: "(none: the case shows what works) one root alone would fail one of the two services",
		Fix:     "Baltimore in CONFIG_MQTT_HELPER_SEC_TAG, DigiCert G2 in CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG",
		World: World{Date: MigrationWindowDate, CAs: []string{myRoot}, Certs: []DeviceCert{{"testdevice", myRoot}},
			Hub:    &Hub{HostName: SampleHub, DPSCAs: []DPSCA{{myRoot, true}}, Groups: []Group{{"nrf91-fleet", myRoot}}},
			Boards: []BoardSpec{sampleBoard("testdevice", map[uint32]string{10: baltimore, 11: g2})}},
		Steps: []Step{
			{Phase: PhaseSuccess, Say: "the board is flashed with the sample using tags 10 and 11", Do: flashSample(prjM2), Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED",
				`<inf> azure_iot_hub_sample: Device ID "testdevice" assigned to IoT hub with hostname "` + SampleHub + `"`,
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED",
				"<inf> azure_iot_hub_sample: Event was successfully sent",
			}}},
		},
	},
	{
		ID: "M3", Title: "the root CA written as a client certificate (type 1)", Source: "nrf91-modem-key-mgmt-dps.txt",
		Failure: "the modem finds no root to verify the hub: TLS fails, #XMQTTCON answers ERROR",
		Fix:     "delete the type-1 entry and write the root as type 0 (ROOT_CA_CERT), offline",
		World: World{Date: AfterMigrationDate, Hub: &Hub{HostName: SerialModemHub, Devices: []Device{{ID: "dev1", Auth: "sas", PrimaryKey: SASKey}}},
			Boards: []BoardSpec{serialModemBoard("nrf91")}},
		Steps: steps([]Step{smHello(""),
			typed(PhaseFailure, "the host stores DigiCert Global Root G2 in tag 10 as type 1", `AT%CMNG=0,10,1,"{root:DigiCert Global Root G2}"`, "OK"),
			{Phase: PhaseFailure, Say: "the modem registers on the network", Do: Register{}}},
			smConnect(PhaseFailure, "", "dev1", "{SAS:dev1}", "10", Outcome{Lines: []string{"ERROR"}, HubReason: "tls-handshake"}),
			[]Step{
				typed(PhaseFix, "the host takes the modem offline", "AT+CFUN=4", "OK"),
				typed(PhaseFix, "the host deletes the type-1 entry", "AT%CMNG=3,10,1", "OK"),
				typed(PhaseFix, "the host stores the root as type 0", `AT%CMNG=0,10,0,"{root:DigiCert Global Root G2}"`, "OK"),
				{Phase: PhaseFix, Say: "the modem registers on the network", Do: Register{}},
			},
			smConnect(PhaseSuccess, "", "dev1", "{SAS:dev1}", "10", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}})),
	},
	{
		ID: "M4", Title: "AT%CMNG writes while the modem is online", Source: "nrf91-modem-key-mgmt-dps.txt",
		Failure: "+CME ERROR: 518 (not allowed in active state)",
		Fix:     "AT+CFUN=4 first",
		World:   World{Boards: []BoardSpec{atClientBoard("nrf9151")}},
		Steps: []Step{
			typed(PhaseSetup, "the host turns on numeric errors", "AT+CMEE=1", "OK"),
			typed(PhaseSetup, "the host subscribes to registration URCs", "AT+CEREG=1", "OK"),
			typed(PhaseFailure, "the host brings the modem online", "AT+CFUN=1", "OK", "+CEREG: 2", "+CEREG: 1"),
			typed(PhaseFailure, "the host writes AmazonRootCA1.pem to tag 42", `AT%CMNG=0,42,0,"{file:AmazonRootCA1.pem}"`, "+CME ERROR: 518"),
			typed(PhaseFailure, "the host deletes tag 42", "AT%CMNG=3,42,0", "+CME ERROR: 518"),
			typed(PhaseFix, "the host takes the modem offline", "AT+CFUN=4", "OK", "+CEREG: 0"),
			typed(PhaseSuccess, "the same write", `AT%CMNG=0,42,0,"{file:AmazonRootCA1.pem}"`, "OK"),
			typed(PhaseSuccess, "the host lists tag 42", "AT%CMNG=1,42",
				`%CMNG: 42,0,"2C43952EE9E000FF2ACC4E2ED0897C0A72AD5FA72C3D934E81741CBD54F05BD1"`, "OK"),
		},
	},
	{
		ID: "D1", Title: "rejected by DPS: the CA was uploaded but never verified", Source: "nrf91-dps-own-ca.txt",
		Failure: "DPS answers CONNACK 5; the sample logs the thread's lines; the emulator says x509-ca-not-verified",
		Fix:     "verify the CA by proof of possession (verification code signed by the root's key)",
		World:   dpsWorld([]DPSCA{{myRoot, false}}, myRoot, dpsBoard),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the board is flashed with the sample using DPS", Do: flashSample(prjDPS(DeviceUUID, "56")), Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: Starting DPS",
				"<err> azure_iot_hub_dps: Connection was rejected with return code 5",
				"<wrn> azure_iot_hub_dps: Is the device certificate valid?",
				"<err> mqtt_helper: Library is in the wrong state (MQTT_STATE_DISCONNECTED), MQTT_STATE_CONNECTED required",
				"<err> azure_iot_hub_dps: Failed to disconnect gracefully, error: -95",
				"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_FAILED",
				"<err> azure_iot_hub_sample: Failed to run DPS, error: -14, terminating connection attempt",
				"<err> mqtt_helper: Cloud MQTT input error: -111",
			}, DPSReason: "x509-ca-not-verified"}},
			{Phase: PhaseFix, Say: "the user proves possession of My Root CA in the portal", Do: VerifyDPSCA{CA: myRoot}},
			{Phase: PhaseSuccess, Say: "the board restarts (the sample flashed again)", Do: flashSample(prjDPS(DeviceUUID, "56")), Want: Outcome{Lines: assigned}},
		},
	},
	{
		ID: "D1-cn", Title: "rejected by DPS: the registration ID is not the certificate's CN", Source: "nrf91-dps-own-ca.txt",
		Failure: "CONNACK 5 from DPS; the emulator says x509-cn-mismatch",
		Fix:     "CONFIG_AZURE_IOT_HUB_DPS_REG_ID = the device certificate's CN",
		World:   dpsWorld([]DPSCA{{myRoot, true}, {otherRoot, true}}, myRoot, dpsBoard),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the sample registers as nrf91-device-1", Do: flashSample(prjDPS("nrf91-device-1", "56")),
				Want: Outcome{Lines: dpsRejected, DPSReason: "x509-cn-mismatch"}},
			{Phase: PhaseSuccess, Say: "the sample rebuilt with the certificate's CN as registration ID", Do: flashSample(prjDPS(DeviceUUID, "56")), Want: Outcome{Lines: assigned}},
		},
	},
	{
		ID: "D1-group", Title: "rejected by DPS: the enrollment group is bound to another CA", Source: "nrf91-dps-own-ca.txt",
		Failure: "CONNACK 5 from DPS; the emulator says x509-no-enrollment",
		Fix:     "an enrollment group that uses the CA which signed the device certificate",
		World:   dpsWorld([]DPSCA{{myRoot, true}, {otherRoot, true}}, otherRoot, dpsBoard),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the sample registers", Do: flashSample(prjDPS(DeviceUUID, "56")),
				Want: Outcome{Lines: dpsRejected, DPSReason: "x509-no-enrollment"}},
			{Phase: PhaseFix, Say: "the user creates a group with My Root CA", Do: AddGroup{Group{"nrf91-fleet-my-root", myRoot}}},
			{Phase: PhaseSuccess, Say: "the board restarts (the sample flashed again)", Do: flashSample(prjDPS(DeviceUUID, "56")), Want: Outcome{Lines: assigned}},
		},
	},
	{
		ID: "D1-sectag", Title: "the credentials went to tag 56, the sample uses tag 10", Source: "nrf91-dps-own-ca.txt",
		Failure: "TLS fails before any MQTT: Failed to run DPS, error: -111",
		Fix:     "CONFIG_MQTT_HELPER_SEC_TAG=56, the tag the credentials were written to",
		World:   dpsWorld([]DPSCA{{myRoot, true}}, myRoot, dpsBoard),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the sample is built with sec tag 10", Do: flashSample(prjDPS(DeviceUUID, "10")), Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: Starting DPS",
				"<err> azure_iot_hub_sample: Failed to run DPS, error: -111, terminating connection attempt",
			}}},
			{Phase: PhaseSuccess, Say: "the sample rebuilt with sec tag 56", Do: flashSample(prjDPS(DeviceUUID, "56")), Want: Outcome{Lines: assigned}},
		},
	},
	{
		ID: "D2", Title: "DPS with an own CA, the same steps done right", Source: "nrf91-dps-own-ca.txt",
		Failure: "(none: the thread's steps done right)",
		Fix:     "CA verified, group with that CA, CN = registration ID, credentials in the sample's tag",
		World:   dpsWorld([]DPSCA{{myRoot, true}}, myRoot, dpsBoard),
		Steps: []Step{
			{Phase: PhaseSuccess, Say: "the board is flashed with the sample using DPS", Do: flashSample(prjDPS(DeviceUUID, "56")), Want: Outcome{Lines: []string{
				"<inf> azure_iot_hub_sample: Starting DPS",
				assigned[0], assigned[1], assigned[2],
				"<inf> azure_iot_hub_sample: Event was successfully sent",
			}}},
		},
	},
	{
		ID: "D3", Title: "no DigiCert root at all, whatever the device certificate", Source: "nrf91-dps-own-ca.txt",
		Failure: "the device cannot verify the server: TLS fails before any MQTT",
		Fix:     "DigiCert Global Root G2 as ROOT_CA_CERT in the same tag",
		World: World{CAs: []string{"Contoso Root"}, Hub: &Hub{HostName: SerialModemHub, CAs: []string{"Contoso Root"}},
			Boards: []BoardSpec{serialModemBoard("nrf91")}},
		Steps: steps([]Step{smHello(""),
			{Phase: PhaseSetup, Say: "AT%KEYGEN in tag 20; Contoso Root signs the CSR; the certificate written back", Do: KeyGen{Tag: 20, Signer: "Contoso Root"}},
			{Phase: PhaseSetup, Say: "the hub gets a device for the CSR's subject", Do: AddDevice{Device{ID: "{CSR_CN}", Auth: "ca"}}},
			{Phase: PhaseFailure, Say: "the modem registers on the network", Do: Register{}}},
			smConnect(PhaseFailure, "", "{CSR_CN}", "", "20", Outcome{Lines: []string{"ERROR"}, HubReason: "tls-handshake"}),
			[]Step{
				typed(PhaseFix, "the host takes the modem offline", "AT+CFUN=4", "OK"),
				typed(PhaseFix, "the host stores DigiCert Global Root G2 in tag 20", `AT%CMNG=0,20,0,"{root:DigiCert Global Root G2}"`, "OK"),
				{Phase: PhaseFix, Say: "the modem registers on the network", Do: Register{}},
			},
			smConnect(PhaseSuccess, "", "{CSR_CN}", "", "20", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}})),
	},
	{
		ID: "D4", Title: "mass production: ten boards, keys by AT%KEYGEN, all assigned by the group", Source: "nrf91-dps-own-ca.txt",
		Failure: "(none: the production line that works)",
		Fix:     "each board makes its key; its CSR is signed by the group CA",
		World: World{CAs: []string{myRoot}, Hub: &Hub{HostName: SampleHub, DPSCAs: []DPSCA{{myRoot, true}}, Groups: []Group{{"nrf91-fleet", myRoot}}},
			Boards: []BoardSpec{{Name: "d4", Kind: board.KindNRF91, Persona: atclient.Name, Hardware: map[string]any{"model": "nrf9160"}, Network: true, Count: 10}}},
		Steps: []Step{
			{Phase: PhaseSetup, Board: "d4", Say: "each board: AT%KEYGEN in tag 56, the CSR signed by My Root CA, the certificate and CA written back", Do: KeyGen{Tag: 56, Signer: myRoot, WithCA: true}},
			{Phase: PhaseSetup, Board: "d4", Say: "each board: the real DigiCert Global Root G2 as ROOT_CA_CERT", Do: Type{Line: `AT%CMNG=0,56,0,"{root-trim:DigiCert Global Root G2}"`}, Want: Outcome{Lines: []string{"OK"}}},
			{Phase: PhaseSuccess, Board: "d4", Say: "every board is flashed with the sample, its device UUID as registration ID", Do: flashSample(prjDPS("{DEVICE_ID}", "56"))},
			{Phase: PhaseSuccess, Board: "d4", Say: "every board is assigned and connected", Want: Outcome{Lines: []string{
				assigned[0],
				`<inf> azure_iot_hub_sample: Device ID "{DEVICE_ID}" assigned to IoT hub with hostname "` + SampleHub + `"`,
				assigned[2],
			}}},
		},
	},
	{
		ID: "D5", Title: "one certificate for every device: each connection drops the previous one", Source: "nrf91-dps-own-ca.txt",
		Failure: "both boards are the same device ID; the hub closes the older socket; the emulator names the takeover",
		Fix:     "a certificate per device (D4), CN = its device ID",
		World: World{CAs: []string{"Fleet CA"}, Certs: []DeviceCert{{"fleet-device", "Fleet CA"}, {"fleet-device-b", "Fleet CA"}},
			Hub:    &Hub{HostName: SampleHub, CAs: []string{"Fleet CA"}, Devices: []Device{{ID: "fleet-device", Auth: "ca"}, {ID: "fleet-device-b", Auth: "ca"}}},
			Boards: []BoardSpec{d5Board("A"), d5Board("B")}},
		Steps: steps([]Step{smHello("A"), smHello("B"),
			{Phase: PhaseSetup, Board: "A", Say: "board A's modem registers", Do: Register{}},
			{Phase: PhaseSetup, Board: "B", Say: "board B's modem registers", Do: Register{}}},
			smConnect(PhaseSetup, "A", "fleet-device", "", "20", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}}),
			smConnect(PhaseFailure, "B", "fleet-device", "", "20", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}}),
			[]Step{{Phase: PhaseFailure, Board: "A", Say: "board A loses its connection", Want: Outcome{Lines: []string{"#XMQTTEVT: 1,*"},
				HubReason: "duplicate-connection", HubReasonDevice: "fleet-device"}},
				{Phase: PhaseFix, Board: "B", Say: "board B disconnects", Do: Type{Line: "AT#XMQTTCON=0"}, Want: Outcome{Lines: []string{"OK"}}},
				{Phase: PhaseFix, Board: "B", Say: "board B goes offline for provisioning", Do: Type{Line: "AT+CFUN=4"}, Want: Outcome{Lines: []string{"OK"}}},
				{Phase: PhaseFix, Board: "B", Say: "board B gets a certificate of its own (CN fleet-device-b)", Do: Type{Line: `AT%CMNG=0,20,1,"{chain:fleet-device-b}"`}, Want: Outcome{Lines: []string{"OK"}}},
				{Phase: PhaseFix, Board: "B", Say: "and its key", Do: Type{Line: `AT%CMNG=0,20,2,"{key:fleet-device-b}"`}, Want: Outcome{Lines: []string{"OK"}}},
				{Phase: PhaseFix, Board: "B", Say: "board B's modem registers", Do: Register{}}},
			smConnect(PhaseSuccess, "B", "fleet-device-b", "", "20", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}}),
			smConnect(PhaseSuccess, "A", "fleet-device", "", "20", Outcome{Lines: []string{"OK", "#XMQTTEVT: 0,0"}}),
			[]Step{{Phase: PhaseSuccess, Board: "A", Say: "board A publishes: both stay connected",
				Do:   Type{Line: `AT#XMQTTPUB="devices/fleet-device/messages/events/","hello from A",1`},
				Want: Outcome{Lines: []string{"OK", "#XMQTTEVT: 3,0"}, Telemetry: &Telemetry{Device: "fleet-device", Payload: "hello from A"}}},
				{Phase: PhaseSuccess, Board: "B", Say: "board B publishes",
					Do:   Type{Line: `AT#XMQTTPUB="devices/fleet-device-b/messages/events/","hello from B",1`},
					Want: Outcome{Lines: []string{"OK", "#XMQTTEVT: 3,0"}, Telemetry: &Telemetry{Device: "fleet-device-b", Payload: "hello from B"}}}}),
	},
	{
		ID: "S1", Title: "SPWF04: the intermediate instead of the root", Source: "spwf04-mqttconn-azure.txt",
		Failure: "the module finds no CA by the server's key identifier: Certificate Error:23",
		Fix:     "the Baltimore root (the thread's date) in DER, and MQTT over WebSockets with a SAS token",
		World:   fabioWorld(fabioSAS),
		Steps: steps(spwf04Setup, []Step{
			typed(PhaseFailure, "the host empties the TLS store", "AT+S.TLSCERT=content,2", "AT-S.OK"),
			{Phase: PhaseFailure, Say: `the host loads "Microsoft IT TLS CA 1" (2037 bytes) as the CA`, Do: Type{Line: "AT+S.TLSCERT=ca,2037", Payload: "file:MicrosoftITTLSCA1.pem"}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
			{Phase: PhaseFailure, Say: "the host sets a key id by hand", Do: Type{Line: "AT+S.TLSCERT=auth,20", Payload: "hex:e5 9d 59 30 82 47 58 cc ac fa 08 54 36 86 7b 3a b5 04 4d f0"}, Want: Outcome{Lines: []string{"AT-S.OK"}}},
			typed(PhaseFailure, "the host lists the TLS store", "AT+S.TLSCERT=content,1", "AT-S.List", "AT-S.CA:1", "AT-S.Cert:0", "AT-S.Key:0", "AT-S.Id:1", "AT-S.OK"),
			{Phase: PhaseFailure, Say: "MQTTCONN on 8883 with a SAS token", Do: Type{Line: "AT+S.MQTTCONN=" + FabioHub + ",8883,,2," + FabioHub + "/DeviceID,{SAS:DeviceID:+24h},DeviceID,,,,,"},
				Want: Outcome{Lines: spwf04NoCA, HubReason: "tls-handshake"}},
			typed(PhaseFix, "the host empties the TLS store", "AT+S.TLSCERT=content,2", "AT-S.OK"),
			spwf04Baltimore(PhaseFix),
			spwf04WebSockets(PhaseSuccess, append(append([]string{"AT-S.Skip CA"}, spwf04Loading...), "AT-S.On:0", "AT-S.OK")),
		}),
	},
	{
		ID: "S2", Title: "SPWF04: root loaded, but the thread's SAS token had expired", Source: "spwf04-mqttconn-azure.txt",
		Failure: "TLS passes, the hub closes: +WIND:87:MQTT Closed; the emulator says sas-expired",
		Fix:     "a fresh SAS token",
		World:   fabioWorld(fabioSAS),
		Steps: steps(spwf04Setup, []Step{
			spwf04Baltimore(PhaseSetup),
			{Phase: PhaseFailure, Say: "MQTTCONN on 8883 with the thread's token (se=1521901101)",
				Do:   Type{Line: "AT+S.MQTTCONN=" + FabioHub + ",8883,,2," + FabioHub + "/DeviceID/api-version=2016-11-14,{SAS:DeviceID:@1521901101},DeviceID,,,,,"},
				Want: Outcome{Lines: append(append([]string{"AT-S.Skip CA"}, spwf04Loading...), "AT-S.ERROR:111:Request failed", "+WIND:87:MQTT Closed:0:0"), HubReason: "sas-expired"}},
			spwf04WebSockets(PhaseSuccess, append(append([]string{"AT-S.Skip CA"}, spwf04Loading...), "AT-S.On:0", "AT-S.OK")),
		}),
	},
	{
		ID: "S2-x509", Title: "SPWF04: root loaded, but the hub wants the device's X.509 certificate", Source: "spwf04-mqttconn-azure.txt",
		Failure: "no client certificate: +WIND:87:MQTT Closed; the emulator says x509-no-client-cert",
		Fix:     "a SAS device (the module's TLS store has no client certificate here)",
		World:   fabioWorld(fabioSAS, Device{ID: "CertDevice", Auth: "self-signed"}),
		Steps: steps(spwf04Setup, []Step{
			spwf04Baltimore(PhaseSetup),
			{Phase: PhaseFailure, Say: "MQTTCONN on 8883 as the X.509 device, no certificate",
				Do:   Type{Line: "AT+S.MQTTCONN=" + FabioHub + ",8883,,2," + FabioHub + "/CertDevice/?api-version=2021-04-12,,CertDevice,,,,,"},
				Want: Outcome{Lines: append(append([]string{"AT-S.Skip CA"}, spwf04Loading...), "AT-S.ERROR:111:Request failed", "+WIND:87:MQTT Closed:0:0"), HubReason: "x509-no-client-cert"}},
			spwf04WebSockets(PhaseSuccess, append(append([]string{"AT-S.Skip CA"}, spwf04Loading...), "AT-S.On:0", "AT-S.OK")),
		}),
	},
	{
		ID: "S3", Title: "SPWF04: MQTT over WebSockets on 443 with SAS: telemetry out, a message in", Source: "spwf04-mqttconn-azure.txt",
		Failure: "(none: the thread's working connection)",
		Fix:     "/$iothub/websocket?iothub-no-client-cert=true on 443 with a SAS token",
		World:   fabioWorld(fabioSAS),
		Steps: steps(spwf04Setup, []Step{
			spwf04Baltimore(PhaseSetup),
			spwf04WebSockets(PhaseSuccess, append(append([]string{"AT-S.Skip CA"}, spwf04Loading...), "AT-S.On:0", "AT-S.OK")),
			typed(PhaseSuccess, "the module subscribes to its cloud-to-device topic", "AT+S.MQTTSUB=0,devices/DeviceID/messages/devicebound/#,1", "AT-S.OK"),
			{Phase: PhaseSuccess, Say: "the module publishes telemetry", Do: Type{Line: "AT+S.MQTTPUB=0,devices/DeviceID/messages/events/,,,14", Payload: `text:{"temp":21.5}\n`},
				Want: Outcome{Lines: []string{"AT-S.OK"}, Telemetry: &Telemetry{Device: "DeviceID", Payload: "{\"temp\":21.5}\n"}}},
			{Phase: PhaseSuccess, Say: "the hub sends a cloud-to-device message", Do: SendC2D{Device: "DeviceID", Payload: "led on"},
				Want: Outcome{Lines: []string{"+WIND:86:MQTT Published:0:devices/DeviceID/messages/devicebound/*:led on"}}},
			typed(PhaseSuccess, "the module disconnects", "AT+S.MQTTDISC=0", "AT-S.OK"),
		}),
	},
	{
		ID: "S4", Title: "SPWF04: the root from the file system, with an empty TLS store", Source: "spwf04-mqttconn-azure.txt",
		Failure: "an empty TLS store and no CA file: Certificate Error:23",
		Fix:     "a <subject key id>.ca file in flash serves as the trust anchor",
		World:   fabioWorld(fabioSAS),
		Steps: steps(spwf04Setup, []Step{
			typed(PhaseFailure, "the host empties the TLS store", "AT+S.TLSCERT=content,2", "AT-S.OK"),
			spwf04WebSockets(PhaseFailure, spwf04NoCA),
			{Phase: PhaseFix, Say: "the host writes e59d…df0.ca (1261 bytes) to the file system", Do: Type{Line: "AT+S.FSC=e59d5930824758ccacfa085436867b3ab5044df0.ca,1261", Payload: "file:e59d5930824758ccacfa085436867b3ab5044df0.ca"},
				Want: Outcome{Lines: []string{"AT-S.OK"}}},
			typed(PhaseFix, "the host lists the files", "AT+S.FSL", "AT-S.File:1261:e59d5930824758ccacfa085436867b3ab5044df0.ca", "AT-S.OK"),
			spwf04WebSockets(PhaseSuccess, append(append([]string{}, "AT-S.Loading:1:1", "AT-S.Loading:2:1", "AT-S.Loading:3:1", "AT-S.Loading:3:1"), "AT-S.On:0", "AT-S.OK")),
			typed(PhaseSuccess, "the module disconnects", "AT+S.MQTTDISC=0", "AT-S.OK"),
		}),
	},
	{
		ID: "W1", Title: "nRF7002 DK: nothing usable at the sample's sec tag", Source: "nrf7002dk-azure-certificates.txt",
		Failure: "the certificates went to tag 11 through the shell; the sample uses 10: mqtt_connect, error: -2",
		Fix:     "CONFIG_MQTT_HELPER_SEC_TAG=11, the tag the credentials are in",
		World:   dkWorld(),
		Steps: []Step{
			dkCred(PhaseSetup, 11, "CA", "root:"+g2),
			dkCred(PhaseSetup, 11, "SERV", "leaf:"+DKDevice),
			dkCred(PhaseSetup, 11, "PK", "key:"+DKDevice),
			typed(PhaseFailure, "the user lists tag 10", "cred list 10", "0 credentials found."),
			{Phase: PhaseFailure, Say: "the sample is flashed with CONFIG_MQTT_HELPER_SEC_TAG=10 and the credentials from protected storage",
				Do: FlashSample{PrjConf: dkPrj(10, "CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE=y"), BoardConf: dkBoardConf},
				Want: Outcome{Lines: []string{
					"<inf> azure_iot_hub_sample: Connected to network",
					"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING",
					"<err> mqtt_helper: mqtt_connect, error: -2",
					"<err> azure_iot_hub: mqtt_helper_connect failed, error: -2",
					"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -2"}}},
			{Phase: PhaseFix, Say: "the sample is rebuilt with CONFIG_MQTT_HELPER_SEC_TAG=11",
				Do:   FlashSample{PrjConf: dkPrj(11, "CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE=y"), BoardConf: dkBoardConf},
				Want: dkConnected()},
		},
	},
	{
		ID: "W2", Title: "nRF7002 DK: made-up PEM labels in mqtt-certs.h", Source: "nrf7002dk-azure-certificates.txt",
		Failure: "BEGIN CA CERTIFICATE is no PEM to mbedTLS: mqtt_connect, error: -22",
		Fix:     "standard BEGIN CERTIFICATE labels in ca-cert.pem",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the sample is built with the forum's mqtt-certs.h and a ca-cert.pem labelled BEGIN CA CERTIFICATE",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, "CONFIG_NET_LOG=y"), BoardConf: dkBoardConf, Files: dkFiles("file:ca-cert-ca-labels.pem", DKDevice)},
				Want: Outcome{Lines: []string{
					"<err> net_sock_tls: Failed to parse CA certificate, err: -0x21e2",
					"<err> mqtt_helper: mqtt_connect, error: -22",
					"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -22"}}},
			{Phase: PhaseFix, Say: "the sample is rebuilt with the standard labels",
				Do:   FlashSample{PrjConf: dkPrj(10, dkHeaderConf, "CONFIG_NET_LOG=y"), BoardConf: dkBoardConf, Files: dkFiles("file:ca-cert-fixed.pem", DKDevice)},
				Want: dkConnected()},
		},
	},
	{
		ID: "W3", Title: "nRF7002 DK: the CA used as the device certificate", Source: "nrf7002dk-azure-certificates.txt",
		Failure: "TLS succeeds, the hub refuses the identity: return code 5, then -111",
		Fix:     "a device certificate signed by the verified CA with CN = device ID",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the sample is built with My Root CA's certificate and key as the device's",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, "CONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y", "CONFIG_MQTT_HELPER_LOG_LEVEL_DBG=y"), BoardConf: dkBoardConf,
					Files: dkFiles("cstr:root:"+g2, "")},
				Want: Outcome{Lines: []string{
					"<inf> azure_iot_hub_sample: Connection request sent to IoT Hub",
					"<err> azure_iot_hub: Connection was rejected with return code 5",
					"<wrn> azure_iot_hub: Is the device certificate valid?",
					"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTION_FAILED",
					"<dbg> mqtt_helper: mqtt_evt_handler: MQTT_EVT_DISCONNECT: result = -111",
					"<err> mqtt_helper: Cloud MQTT input error: -111"},
					HubReason: "x509-common-name", HubReasonDevice: DKDevice}},
			{Phase: PhaseFix, Say: "the sample is rebuilt with the device certificate (CN " + DKDevice + ") and its key",
				Do:   FlashSample{PrjConf: dkPrj(10, dkHeaderConf), BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice)},
				Want: dkConnected()},
		},
	},
	{
		ID: "W4", Title: "nRF7002 DK: Baltimore only after the migration", Source: "nrf7002dk-azure-certificates.txt",
		Failure: "the hub serves the DigiCert Global Root G2 chain; the device trusts only Baltimore: TLS handshake error -0x2700",
		Fix:     "DigiCert Global Root G2 as ca-cert.pem (and, as W3 shows, the device's own certificate)",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the sample is built with the Baltimore root as ca-cert.pem",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, "CONFIG_NET_LOG=y"), BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+baltimore, DKDevice)},
				Want: Outcome{Lines: []string{
					"<err> net_sock_tls: TLS handshake error: -0x2700",
					"<err> mqtt_helper: mqtt_connect, error: -113",
					"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113"}}},
			{Phase: PhaseFix, Say: "the sample is rebuilt with DigiCert Global Root G2",
				Do:   FlashSample{PrjConf: dkPrj(10, dkHeaderConf, "CONFIG_NET_LOG=y"), BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice)},
				Want: dkConnected()},
		},
	},
	{
		ID: "WS1", Title: "nRF7002 DK: MQTT over WebSockets without mbedTLS renegotiation", Source: "nrf7002dk-mqtt-websockets.txt",
		Failure: "X.509 on 443 without iothub-no-client-cert: the hub renegotiates, mbedTLS refuses, the server closes (-0x7280)",
		Fix:     "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the patched sample over WebSockets on 443, mbedTLS debug on, no renegotiation",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_NET_LOG=y", dkMbedTLSDebug(3), "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: dkWebSocketPatch()},
				Want: Outcome{Lines: []string{
					"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING",
					"<wrn> mbedtls: ssl_tls.c:3914: => handshake",
					"<wrn> mbedtls: ssl_msg.c:2358: => flush output",
					"<wrn> mbedtls: ssl_msg.c:2367: <= flush output",
					"<inf> mbedtls: *refusing renegotiation, sending alert",
					"<err> mbedtls: *mbedtls_ssl_fetch_input() returned -29312 (-0x7280)",
					"<err> mqtt_helper: mqtt_connect, error: -113",
					"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113"}}},
			{Phase: PhaseFix, Say: "the sample is rebuilt with CONFIG_MBEDTLS_SSL_RENEGOTIATION=y",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_NET_LOG=y", dkMbedTLSDebug(3), "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096", "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: dkWebSocketPatch()},
				Want: dkConnected()},
		},
	},
	{
		ID: "WS2", Title: "nRF7002 DK: a WebSocket request the hub does not serve", Source: "nrf7002dk-mqtt-websockets.txt",
		Failure: "the patch requests /mqtt (Zephyr's mqtt_publisher path): HTTP 400 on the upgrade, mqtt_connect -113",
		Fix:     "the hub's path /$iothub/websocket with the mqtt subprotocol",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the patched sample requests /mqtt",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: map[string]any{"websocket_patch": true, "websocket_path": "/mqtt"}},
				Want: Outcome{Lines: []string{
					"<err> mqtt_helper: mqtt_connect, error: -113",
					"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113"},
					HubReason: "websocket-upgrade"}},
			{Phase: PhaseFix, Say: "the patch requests /$iothub/websocket",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: map[string]any{"websocket_patch": true, "websocket_path": "/$iothub/websocket"}},
				Want: dkConnected()},
		},
	},
	{
		ID: "WS3", Title: "nRF7002 DK: working MQTT over WebSockets with X.509 on 443", Source: "nrf7002dk-mqtt-websockets.txt",
		Failure: "(none: the working configuration) the hub asks for the client certificate by renegotiation",
		Fix:     "mbedTLS answers the renegotiation with the device certificate",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseSuccess, Say: "the patched sample over WebSockets on 443 with CONFIG_MBEDTLS_SSL_RENEGOTIATION=y",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: dkWebSocketPatch()},
				Want: dkConnected()},
		},
	},
	{
		ID: "WS4", Title: "nRF7002 DK: an incoming TLS record limit below the hub's certificate message", Source: "nrf7002dk-mqtt-websockets.txt",
		Failure: "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=2048 cannot hold the hub's Certificate record: -0x7200",
		Fix:     "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096, as the thread sets it",
		World:   dkWorld(),
		Steps: []Step{
			{Phase: PhaseFailure, Say: "the patched sample with a 2048-byte record limit",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y", "CONFIG_NET_LOG=y", dkMbedTLSDebug(1), "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=2048"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: dkWebSocketPatch()},
				Want: Outcome{Lines: []string{
					"<err> mbedtls: *bad message length",
					"<err> mbedtls: *mbedtls_ssl_read_record() returned -29184 (-0x7200)",
					"<err> net_sock_tls: TLS handshake error: -0x7200",
					"<err> mqtt_helper: mqtt_connect, error: -113",
					"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -113"}}},
			{Phase: PhaseFix, Say: "the sample is rebuilt with CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096",
				Do: FlashSample{PrjConf: dkPrj(10, dkHeaderConf, dkWebSocketConf, "CONFIG_MBEDTLS_SSL_RENEGOTIATION=y", "CONFIG_NET_LOG=y", dkMbedTLSDebug(1), "CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096"),
					BoardConf: dkBoardConf, Files: dkFiles("cstr:root:"+g2, DKDevice), Settings: dkWebSocketPatch()},
				Want: dkConnected()},
		},
	},
}

// --- the nRF7002 DK's azure_iot_hub sample (W1–W4, WS1–WS4) ---

// dkWorld is the two nRF7002 DK threads' world: the user's own root CA
// verified on the hub, a device authenticated by it, and the DK with the
// Zephyr shell on the hub's network (the lab's access point).
func dkWorld() World {
	dk := nrf7002dkBoard()
	dk.Network = true
	return World{Date: DKDate, CAs: []string{myRoot}, Certs: []DeviceCert{{DKDevice, myRoot}},
		Hub: &Hub{HostName: DKHub, CAs: []string{myRoot}, Devices: []Device{{ID: DKDevice, Auth: "ca"}}}, Boards: []BoardSpec{dk}}
}

// dkBoardConf is the application's boards/nrf7002dk_nrf5340_cpuapp.conf:
// the sample's own sets the Wi-Fi credentials empty, so the user's carries them.
const dkBoardConf = `CONFIG_WIFI=y
CONFIG_WIFI_NRF700X=y
CONFIG_WIFI_MGMT_EXT=y
CONFIG_WIFI_CREDENTIALS=y
CONFIG_WIFI_CREDENTIALS_STATIC=y
CONFIG_WIFI_CREDENTIALS_STATIC_SSID="modemsim-ap"
CONFIG_WIFI_CREDENTIALS_STATIC_PASSWORD="modemsim-pass"
CONFIG_NET_SOCKETS_SOCKOPT_TLS=y
CONFIG_MBEDTLS=y`

// dkHeaderConf compiles the certificates in from mqtt-certs.h.
const dkHeaderConf = "CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\nCONFIG_MQTT_HELPER_CERTIFICATES_FILE=\"mqtt-certs.h\""

// dkWebSocketConf is the WebSocket thread's transport on 443.
const dkWebSocketConf = "CONFIG_MQTT_LIB_WEBSOCKET=y\nCONFIG_WEBSOCKET_CLIENT=y\nCONFIG_MQTT_HELPER_PORT=443"

func dkMbedTLSDebug(level int) string {
	return fmt.Sprintf("CONFIG_MBEDTLS_DEBUG=y\nCONFIG_MBEDTLS_DEBUG_C=y\nCONFIG_MBEDTLS_DEBUG_LEVEL=%d", level)
}

// dkWebSocketPatch is the thread's mqtt_helper patch that makes
// CONFIG_MQTT_LIB_WEBSOCKET take effect.
func dkWebSocketPatch() map[string]any { return map[string]any{"websocket_patch": true} }

// dkPrj is the sample's prj.conf for the DK's device on tag, plus extra lines.
func dkPrj(tag int, extra ...string) string {
	lines := append([]string{"CONFIG_AZURE_IOT_HUB=y",
		`CONFIG_AZURE_IOT_HUB_DEVICE_ID="` + DKDevice + `"`,
		`CONFIG_AZURE_IOT_HUB_HOSTNAME="` + DKHub + `"`,
		fmt.Sprintf("CONFIG_MQTT_HELPER_SEC_TAG=%d", tag),
		"CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1"}, extra...)
	return strings.Join(lines, "\n")
}

// dkFiles is the application's mqtt-certs.h (the forum's) and the three PEM
// files it includes: ca as given, the device certificate and key of cn, or
// My Root CA's own when cn is "" (W3's mistake).
func dkFiles(ca, cn string) map[string]string {
	cert, key := "cstr:leaf:"+cn, "cstr:key:"+cn
	if cn == "" {
		cert, key = "cstr:ca:"+myRoot, "cstr:ca-key:"+myRoot
	}
	return map[string]string{"mqtt-certs.h": "file:mqtt-certs.h", "ca-cert.pem": ca, "client-cert.pem": cert, "private-key.pem": key}
}

// dkCred provisions a content source to the DK through nrfcredstore's TLS shell interface.
func dkCred(phase Phase, tag uint64, typ, src string) Step {
	return Step{Phase: phase, Say: fmt.Sprintf("nrfcredstore's TLS shell interface provisions %s to tag %d as %s", src, tag, typ),
		Do: CredShell{Op: "write", Tag: tag, Type: typ, File: src}, Want: Outcome{Lines: []string{"nrfcredstore: written"}}}
}

// dkConnected is the sample connected and its first event acknowledged.
func dkConnected() Outcome {
	return Outcome{Lines: []string{
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED",
		"<inf> azure_iot_hub_sample: Event was successfully sent"},
		Absent: []string{"<err>*"}}
}

// d5Board is one of D5's boards: the same certificate, key and root in tag 20.
func d5Board(name string) BoardSpec {
	b := serialModemBoard(name)
	b.Credentials = []Credential{{Tag: 20, Type: 0, Content: "root:" + g2},
		{Tag: 20, Type: 1, Content: "chain:fleet-device"}, {Tag: 20, Type: 2, Content: "key:fleet-device"}}
	return b
}
