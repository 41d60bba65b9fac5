package azuresample_test

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/kconfig"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/pki"
)

func TestFromKconfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		conf    string
		check   func(t *testing.T, c azuresample.Config)
		errPart string
	}{
		{name: "sample prj.conf", conf: azuresample.SampleProjectConf, check: func(t *testing.T, c azuresample.Config) {
			assert.Equal(t, "my-device", c.DeviceID)
			assert.Equal(t, int64(10), c.SecTag)
			assert.Equal(t, []uint32{10}, c.SecTags())
			assert.Equal(t, 1767*time.Second, c.KeepAlive)
			assert.Equal(t, 8883, c.Port)
			assert.Equal(t, azuresample.LevelInf, c.Levels[azuresample.ModHub])
			assert.Equal(t, []string{"CONFIG_CJSON_LIB"}, c.Ignored)
		}},
		{name: "two tags, debug, websockets", conf: "CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=10\nCONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=11\nCONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y\nCONFIG_MQTT_LIB_WEBSOCKET=y\nCONFIG_MQTT_HELPER_PORT=443\n",
			check: func(t *testing.T, c azuresample.Config) {
				assert.Equal(t, []uint32{10, 11}, c.SecTags())
				assert.Equal(t, azuresample.LevelDbg, c.Levels[azuresample.ModHub])
				assert.Equal(t, azuresample.LevelDbg, c.Levels[azuresample.ModDPS])
				assert.Equal(t, azuresample.LevelInf, c.Levels[azuresample.ModHelper])
				assert.True(t, c.WebSocket)
				assert.Equal(t, 443, c.Port)
			}},
		{name: "dps", conf: "CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=56\nCONFIG_SETTINGS=y\nCONFIG_AZURE_IOT_HUB_DPS=y\nCONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE=\"0ne00A\"\nCONFIG_AZURE_IOT_HUB_DPS_REG_ID=\"r1\"\n",
			check: func(t *testing.T, c azuresample.Config) {
				assert.True(t, c.DPS)
				assert.Equal(t, "0ne00A", c.IDScope)
				assert.Equal(t, "r1", c.RegID)
				assert.Equal(t, "global.azure-devices-provisioning.net", c.DPSHostName)
				assert.Equal(t, 90*time.Second, c.DPSTimeout)
			}},
		{name: "log off", conf: "CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=1\n# CONFIG_LOG is not set\n", check: func(t *testing.T, c azuresample.Config) {
			assert.Equal(t, azuresample.LevelOff, c.Levels[azuresample.ModSample])
		}},
		{name: "unset sec tag", conf: "CONFIG_AZURE_IOT_HUB=y\n", errPart: `static assertion failed: "Security tag must be configured"`},
		{name: "dps without settings", conf: "CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=1\nCONFIG_AZURE_IOT_HUB_DPS=y\n", errPart: "AZURE_IOT_HUB_DPS (defined at prj.conf:3) was assigned the value 'y' but got the value 'n'"},
		{name: "scope without dps", conf: "CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=1\nCONFIG_AZURE_IOT_HUB_DPS_ID_SCOPE=\"x\"\n", errPart: "Check these unsatisfied dependencies: AZURE_IOT_HUB_DPS"},
		{name: "no library", conf: "CONFIG_MQTT_HELPER_SEC_TAG=1\n", errPart: "CONFIG_AZURE_IOT_HUB is not y"},
		{name: "wrong type", conf: "CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=\"10\"\n", errPart: "not a int value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kconfig.Parse("prj.conf", []byte(tc.conf))
			require.NoError(t, err)
			cfg, err := azuresample.FromKconfig(c)
			if tc.errPart != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.errPart)
				return
			}
			require.NoError(t, err)
			tc.check(t, cfg)
		})
	}
}

// The fragments quoted in the forum threads load as written, with the
// board fragment between prj.conf and overlays.
func TestForumFragmentsLoad(t *testing.T) {
	dir := t.TempDir()
	prj := filepath.Join(dir, "prj.conf")
	over := filepath.Join(dir, "overlay.conf")
	require.NoError(t, os.WriteFile(prj, []byte(`CONFIG_LOG=y
CONFIG_LOG_MODE_DEFERRED=y
CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DEVICE_ID="deviceid"
CONFIG_AZURE_IOT_HUB_HOSTNAME="hostname"
CONFIG_MQTT_HELPER_SEC_TAG=10
CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG=-1
CONFIG_MQTT_HELPER_STACK_SIZE=8192
CONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y
CONFIG_MQTT_KEEPALIVE=1767
CONFIG_SETTINGS=y
`), 0o600))
	require.NoError(t, os.WriteFile(over, []byte("CONFIG_AZURE_IOT_HUB_DEVICE_ID=\"testdevice\"\nCONFIG_AT_HOST_LIBRARY=n\n"), 0o600))
	c, err := azuresample.LoadFragments(azuresample.NRF9160DKConf, prj, over)
	require.NoError(t, err)
	cfg, err := azuresample.FromKconfig(c)
	require.NoError(t, err)
	assert.Equal(t, "testdevice", cfg.DeviceID, "later fragments win")
	assert.True(t, cfg.FOTA, "from the board fragment")
	assert.False(t, cfg.ATHost, "the overlay wins over the board fragment")
	assert.Equal(t, []string{"CONFIG_LOG_MODE_DEFERRED", "CONFIG_MQTT_HELPER_STACK_SIZE"}, cfg.Ignored)
}

func TestFormatLine(t *testing.T) {
	up := 7*time.Second + 394*time.Millisecond + 226*time.Microsecond
	m := azuresample.Msg{Mod: "azure_iot_hub", Level: azuresample.LevelDbg, Func: "request_id_create_and_get", Format: "%s"}
	assert.Equal(t, `[00:00:07.394,226] <dbg> azure_iot_hub: request_id_create_and_get: Request ID not specified, using "739"`,
		azuresample.FormatLine(up, m, `Request ID not specified, using "739"`))
	m = azuresample.Msg{Mod: "azure_iot_hub_sample", Level: azuresample.LevelInf}
	assert.Equal(t, "[01:00:27.000,000] <inf> azure_iot_hub_sample: x", azuresample.FormatLine(time.Hour+27*time.Second, m, "x"))
	assert.Equal(t, "<inf> azure_iot_hub_sample: x", azuresample.StripTimestamp("[01:00:27.000,000] <inf> azure_iot_hub_sample: x"))
}

// M1: Baltimore only after the hub migration → -111; DigiCert G2 → connected,
// events, twin (FAILURE-CASES M1).
func TestM1WrongRootAfterMigration(t *testing.T) {
	ev := startHub(t, afterBoth)
	ca := newCA(t, ev, "m1 CA")
	_, err := ev.e.AddCA("m1-ca", ca.CertPEM(), true)
	require.NoError(t, err)
	_, err = ev.e.CreateDevice(hub.DeviceSpec{ID: "testdevice", Auth: hub.AuthCA})
	require.NoError(t, err)
	leaf := newLeaf(t, ev, "testdevice", ca)

	d := newDevice(t, ev)
	d.provision(t, 10, leaf, ca, realRoot(t, baltimore))
	fw, con := d.boot(t, confHub("testdevice", 10), fast)
	assert.Equal(t, "*** Booting nRF Connect SDK v2.5.0 ***\r\n", string(con.raw))
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: Azure IoT Hub sample started",
		"<inf> azure_iot_hub_sample: Bringing network interface up and connecting to the network",
		"<inf> azure_iot_hub_sample: Device ID: testdevice",
		"<inf> azure_iot_hub_sample: Host name: "+testHost,
		"<inf> azure_iot_hub_sample: Network connectivity established and IP address assigned",
		"<inf> azure_iot_hub_sample: Connected to network",
		"<inf> azure_fota: Current firmware version: 0.0.0-dev",
		"<inf> azure_iot_hub_sample: Azure IoT Hub library initialized",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING",
		"<err> mqtt_helper: mqtt_connect, error: -111",
		"<err> azure_iot_hub: mqtt_helper_connect failed, error: -111",
		"<err> azure_iot_hub_sample: azure_iot_hub_connect failed: -111")
	require.NoError(t, fw.Close())

	// The fix: DigiCert Global Root G2 as the root CA.
	d.put(t, 10, 0, realRoot(t, digicert))
	_, con = d.boot(t, confHub("testdevice", 10), fast)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: Connection request sent to IoT Hub",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY",
		"<inf> azure_iot_hub_sample: Event was successfully sent",
		"<inf> azure_iot_hub_sample: Next event will be sent in 20 seconds")
	// The twin's answer and the event's PUBACK are independent replies: either
	// may come first.
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_TWIN_RECEIVED",
		"<inf> azure_iot_hub_sample: No 'telemetryInterval' object in the device twin")
	assert.Contains(t, strings.Join(con.text(), "\n"), "<wrn> azure_fota: No job ID found")
	assert.Contains(t, con.text(), `+CEREG: 1,"81A3","03238D0A",7,,,"11100000","11100000"`, "at_host forwards the modem's URCs")
}

// M2: Baltimore in tag 10 (with the device credentials), DigiCert G2 in
// tag 11: DPS assigns and the hub connects both before and after DPS moved
// to G2 (FAILURE-CASES M2).
func TestM2TwoSecTagsAcrossTheDPSMigration(t *testing.T) {
	for _, now := range []time.Time{afterHubBeforeDPS, afterBoth} {
		t.Run(now.Format("2006-01-02"), func(t *testing.T) {
			ev := startHub(t, now)
			assert.Equal(t, map[time.Time]pki.RootName{afterHubBeforeDPS: pki.BaltimoreCyberTrustRoot, afterBoth: pki.DigiCertGlobalRootG2}[now], ev.e.DPSRoot())
			leaf, err := pki.NewLeaf(rand.Reader, "testdevice", nil, now.Add(-time.Hour), now.Add(365*24*time.Hour))
			require.NoError(t, err)
			_, err = ev.e.DPS().CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "testdevice",
				Attestation: dps.AttestationX509, CertificatePEM: string(leaf.CertPEM()), Enabled: true})
			require.NoError(t, err)
			d := newDevice(t, ev)
			key, err := leaf.KeyPEM()
			require.NoError(t, err)
			d.put(t, 10, 1, leaf.CertPEM())
			d.put(t, 10, 2, key)
			d.put(t, 10, 0, realRoot(t, baltimore))
			d.put(t, 11, 0, realRoot(t, digicert))
			_, con := d.boot(t, confDPS("testdevice", ev.e.DPS().IDScope(), 10, 11), fast)
			waitLines(t, con,
				"<inf> azure_iot_hub_sample: Connected to network",
				"<inf> azure_iot_hub_sample: Starting DPS",
				"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_NOT_STARTED",
				"<inf> azure_iot_hub_sample: The DPS process has started, timeout is set to 90 seconds",
				"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNING",
				"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED",
				`<inf> azure_iot_hub_sample: Device ID "testdevice" assigned to IoT hub with hostname "`+testHost+`"`,
				"<inf> azure_iot_hub_sample: Azure IoT Hub library initialized",
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED")
			assert.NotContains(t, con.text(), "<inf> azure_iot_hub_sample: Host name: ", "not printed with DPS")
		})
	}
}

// D1: each cause of the DPS refusal gives the forum's lines and the
// emulator's reason; a wrong sec tag fails before DPS sees anything.
func TestD1RejectedByDPS(t *testing.T) {
	d1 := []string{
		"<inf> azure_iot_hub_sample: Starting DPS",
		"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_NOT_STARTED",
		"<inf> azure_iot_hub_sample: The DPS process has started, timeout is set to 90 seconds",
		"<err> azure_iot_hub_dps: Connection was rejected with return code 5",
		"<wrn> azure_iot_hub_dps: Is the device certificate valid?",
		"<err> mqtt_helper: Library is in the wrong state (MQTT_STATE_DISCONNECTED), MQTT_STATE_CONNECTED required",
		"<err> azure_iot_hub_dps: Failed to disconnect gracefully, error: -95",
		"<err> azure_iot_hub_dps: There was a failure during DPS registration, process is stopped",
		"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_FAILED",
		"<err> azure_iot_hub_sample: Failed to run DPS, error: -14, terminating connection attempt",
		"<err> mqtt_helper: Cloud MQTT input error: -111",
	}
	const uuid = "3f1c9a2e-7b4d-4e21-9a55-0c8e1d2f3a4b"
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, ev *env, root *pki.Authority)
		regID    string // CONFIG_AZURE_IOT_HUB_DEVICE_ID
		appTag   int
		want     []string
		wantDPS  []string
		hubCheck bool
	}{
		{name: "CA uploaded but not verified", regID: uuid, appTag: 56, want: d1, wantDPS: []string{dps.CheckX509CANotVerified},
			setup: func(t *testing.T, ev *env, root *pki.Authority) {
				_, err := ev.e.DPS().UploadCA("root-ca", root.CertPEM(), false)
				require.NoError(t, err)
				_, err = ev.e.DPS().CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "grp", Attestation: dps.AttestationX509, CAName: "root-ca", Enabled: true})
				require.NoError(t, err)
			}},
		{name: "CN is not the registration ID", regID: "my-device", appTag: 56, want: d1, wantDPS: []string{dps.CheckX509CNMismatch},
			setup: func(t *testing.T, ev *env, root *pki.Authority) { verifiedGroup(t, ev, root) }},
		{name: "group bound to another CA", regID: uuid, appTag: 56, want: d1, wantDPS: []string{dps.CheckX509NoEnrollment},
			setup: func(t *testing.T, ev *env, _ *pki.Authority) { verifiedGroup(t, ev, newCA(t, ev, "another CA")) }},
		{name: "application sec tag is not 56", regID: uuid, appTag: 10, wantDPS: nil,
			want: []string{
				"<inf> azure_iot_hub_sample: Starting DPS",
				"<err> mqtt_helper: mqtt_connect, error: -111",
				"<err> azure_iot_hub_dps: mqtt_helper_connect failed, error: -111",
				"<err> azure_iot_hub_sample: DPS failed to start, error: -111",
				"<err> azure_iot_hub_sample: Failed to run DPS, error: -111, terminating connection attempt",
			},
			setup: func(t *testing.T, ev *env, root *pki.Authority) { verifiedGroup(t, ev, root) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := startHub(t, afterBoth)
			root := newCA(t, ev, "rootCA")
			tc.setup(t, ev, root)
			d := newDevice(t, ev)
			d.provision(t, 56, newLeaf(t, ev, uuid, root), root, realRoot(t, digicert))
			_, con := d.boot(t, confDPS(tc.regID, ev.e.DPS().IDScope(), tc.appTag), fast)
			waitLines(t, con, tc.want...)
			require.Eventually(t, func() bool { return len(ev.reasons.dpsChecks()) >= len(tc.wantDPS) }, 10*time.Second, 10*time.Millisecond)
			assert.Equal(t, tc.wantDPS, ev.reasons.dpsChecks())
			assert.NotContains(t, strings.Join(con.text(), "\n"), "Azure IoT Hub library initialized")
			if tc.wantDPS != nil && tc.wantDPS[0] == dps.CheckX509CANotVerified {
				writeExample(t, "d1-ca-not-verified.log", con)
			}
		})
	}
}

// verifiedGroup uploads ca to DPS, proves possession as the thread does
// (verification code, certificate signed by the CA key) and creates the
// enrollment group with it.
func verifiedGroup(t *testing.T, ev *env, ca *pki.Authority) {
	t.Helper()
	_, err := ev.e.DPS().UploadCA("root-ca", ca.CertPEM(), false)
	require.NoError(t, err)
	code, err := ev.e.DPS().VerificationCode("root-ca")
	require.NoError(t, err)
	vc, err := pki.NewVerificationCert(rand.Reader, code, ca, ev.now)
	require.NoError(t, err)
	_, err = ev.e.DPS().VerifyCA("root-ca", pki.EncodeCertsPEM(vc))
	require.NoError(t, err)
	_, err = ev.e.DPS().CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "grp", Attestation: dps.AttestationX509, CAName: "root-ca", Enabled: true})
	require.NoError(t, err)
}

// D2: the thread's steps done right end in assignment and connection; the
// next boot skips DPS with the stored assignment. Then the twin, a direct
// method and a C2D message.
func TestD2AssignedThenTwinMethodsC2D(t *testing.T) {
	const uuid = "3f1c9a2e-7b4d-4e21-9a55-0c8e1d2f3a4b"
	ev := startHub(t, afterBoth)
	root := newCA(t, ev, "rootCA")
	verifiedGroup(t, ev, root)
	d := newDevice(t, ev)
	d.provision(t, 56, newLeaf(t, ev, uuid, root), root, realRoot(t, digicert))
	conf := confDPS(uuid, ev.e.DPS().IDScope(), 56)
	fw, con := d.boot(t, conf, fast)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED",
		fmt.Sprintf(`<inf> azure_iot_hub_sample: Device ID "%s" assigned to IoT hub with hostname "%s"`, uuid, testHost),
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY")
	writeExample(t, "d2-assigned.log", con)
	b, err := os.ReadFile(filepath.Join(d.state, azuresample.AssignmentFile))
	require.NoError(t, err)
	var a azuresample.Assignment
	require.NoError(t, json.Unmarshal(b, &a))
	assert.Equal(t, azuresample.Assignment{HostName: testHost, DeviceID: uuid}, a)
	require.NoError(t, fw.Close())
	require.Eventually(t, func() bool { return !ev.e.Connected(uuid) }, 10*time.Second, 10*time.Millisecond)

	_, con = d.boot(t, conf, fast)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: Starting DPS",
		"<inf> azure_iot_hub_sample: Already assigned to an IoT hub, skipping DPS",
		fmt.Sprintf(`<inf> azure_iot_hub_sample: Device ID "%s" assigned to IoT hub with hostname "%s"`, uuid, testHost),
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY",
		"<inf> azure_iot_hub_sample: No 'telemetryInterval' object in the device twin")
	assert.NotContains(t, con.text(), "<inf> azure_iot_hub_sample: The DPS process has started, timeout is set to 90 seconds")

	// The twin's desired telemetryInterval: reported back and applied.
	_, err = ev.e.UpdateDesired(uuid, []byte(`{"telemetryInterval":1}`))
	require.NoError(t, err)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_TWIN_DESIRED_RECEIVED",
		"<inf> azure_iot_hub_sample: New telemetry interval has been applied: 1",
		"<inf> azure_iot_hub_sample: Next event will be sent in 1 seconds")
	require.Eventually(t, func() bool {
		tw, err := ev.e.Twin(uuid)
		return err == nil && strings.Contains(string(mustJSON(t, tw)), `"telemetryInterval":1`)
	}, 10*time.Second, 20*time.Millisecond)

	// The led method: answered 200 with what the sample sends.
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	res, err := ev.e.InvokeMethod(ctx, uuid, "led", []byte(`1`))
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_DIRECT_METHOD",
		"<inf> azure_iot_hub_sample: Method name: led",
		"<inf> azure_iot_hub_sample: Payload: 1",
		"<inf> azure_iot_hub_sample: No hardware interface to set LED state to 1")

	_, err = ev.e.SendC2D(uuid, []byte("hello device"), nil)
	require.NoError(t, err)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_DATA_RECEIVED",
		"<inf> azure_iot_hub_sample: Received payload: hello device")
	writeExample(t, "d2-reboot-assigned.log", con)
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return b
}

// A refused CONNECT to the hub prints the W3 sequence.
func TestHubRefusesIdentity(t *testing.T) {
	ev := startHub(t, afterBoth)
	ca := newCA(t, ev, "unverified CA") // never uploaded to the hub
	_, err := ev.e.CreateDevice(hub.DeviceSpec{ID: "testdevice", Auth: hub.AuthCA})
	require.NoError(t, err)
	d := newDevice(t, ev)
	d.provision(t, 10, newLeaf(t, ev, "testdevice", ca), ca, realRoot(t, digicert))
	_, con := d.boot(t, confHub("testdevice", 10), fast)
	waitLines(t, con,
		"<inf> azure_iot_hub_sample: Connection request sent to IoT Hub",
		"<err> azure_iot_hub: Connection was rejected with return code 5",
		"<wrn> azure_iot_hub: Is the device certificate valid?",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTION_FAILED",
		"<inf> azure_iot_hub_sample: Error code received from IoT Hub: 5",
		"<wrn> azure_iot_hub: DISCONNECT, result: -111",
		"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_DISCONNECTED",
		"<err> mqtt_helper: Cloud MQTT input error: -111")
}

// Debug level adds the library's state lines; info level hides them.
func TestLogLevels(t *testing.T) {
	ev := startHub(t, afterBoth)
	d := newDevice(t, ev)
	_, con := d.boot(t, confHub("dbgdevice", 10)+"CONFIG_AZURE_IOT_HUB_LOG_LEVEL_DBG=y\n", fast)
	waitLines(t, con,
		"<dbg> azure_iot_hub: azure_iot_hub_init: Azure FOTA initialized",
		"<dbg> azure_iot_hub: iot_hub_state_set: State transition: STATE_UNINIT --> STATE_DISCONNECTED",
		"<dbg> azure_iot_hub: azure_iot_hub_connect: User name: "+testHost+"/dbgdevice/?api-version=2020-09-30&DeviceClientType=azsdk-c%2F1.4.0-beta.2",
		"<err> mqtt_helper: mqtt_connect, error: -111")
	for _, l := range con.text() {
		assert.False(t, strings.HasPrefix(l, "<dbg> mqtt_helper"), "mqtt_helper stays at info: %s", l)
	}
}

// D4: ten boards, each with a key made by the modem (%KEYGEN, the key never
// leaves it), the CSR signed by the group CA, the certificate and the root
// written back with %CMNG, then the sample on the real modem model: all
// assigned and connected.
func TestD4MassProductionWithKeygen(t *testing.T) {
	ev := startHub(t, afterBoth)
	groupCA := newCA(t, ev, "production CA")
	verifiedGroup(t, ev, groupCA)
	const boards = 10
	cons := make([]*fakeConsole, boards)
	for i := range boards {
		id := fmt.Sprintf("board-%02d", i)
		d := newDevice(t, ev)
		var fw *azuresample.Firmware
		var mu sync.Mutex
		ident, err := nrf91modem.NewIdentity(rand.Reader, "nRF9160")
		require.NoError(t, err)
		idKey, err := modemkey.NewIdentity(rand.Reader)
		require.NoError(t, err)
		modem, err := nrf91modem.New(nrf91modem.Config{Identity: ident, IdentityKey: idKey, Store: d.store,
			Options: nrf91modem.Options{StandardCSR: true, Network: nrf91modem.Network{Delay: firmware.Duration{Duration: 50 * time.Millisecond}}},
			Notify: func(urc string) {
				mu.Lock()
				f := fw
				mu.Unlock()
				if f != nil {
					f.ModemURC(urc)
				}
			}})
		require.NoError(t, err)
		at := func(line string) atparser.Response {
			cmd, err := atparser.Parse([]byte(line))
			require.NoError(t, err)
			return modem.Handle(t.Context(), cmd)
		}
		r := at(`AT%KEYGEN=56,2,0,"CN=` + id + `"`)
		require.Equal(t, atparser.FinalOK, r.Final, r)
		msg, err := modemkey.ParseKeygenResponse(strings.TrimSuffix(strings.TrimPrefix(r.Lines[0], `%KEYGEN: "`), `"`))
		require.NoError(t, err)
		csr, err := x509.ParseCertificateRequest(msg.Body)
		require.NoError(t, err)
		cert, err := pki.SignCSR(csr, groupCA, ev.now.Add(-time.Hour), ev.now.Add(365*24*time.Hour))
		require.NoError(t, err)
		require.Equal(t, atparser.FinalOK, at(`AT%CMNG=0,56,1,"`+string(pki.EncodeCertsPEM(cert))+`"`).Final)
		require.Equal(t, atparser.FinalOK, at(`AT%CMNG=0,56,0,"`+string(realRoot(t, digicert))+`"`).Final)

		c, err := kconfig.Parse("prj.conf", []byte(confDPS(id, ev.e.DPS().IDScope(), 56)))
		require.NoError(t, err)
		cfg, err := azuresample.FromKconfig(c)
		require.NoError(t, err)
		f, err := azuresample.New(cfg, fast, azuresample.Deps{Link: &azuresample.LTELink{Modem: modem}, ATHost: modem, Net: d.stack, StateDir: d.state})
		require.NoError(t, err)
		mu.Lock()
		fw = f
		mu.Unlock()
		cons[i] = &fakeConsole{}
		require.NoError(t, f.Boot(cons[i]))
		t.Cleanup(func() { _ = f.Close() })
	}
	for i, con := range cons {
		id := fmt.Sprintf("board-%02d", i)
		waitLines(t, con,
			"<inf> azure_iot_hub_sample: DPS registration status: AZURE_IOT_HUB_DPS_REG_STATUS_ASSIGNED",
			fmt.Sprintf(`<inf> azure_iot_hub_sample: Device ID "%s" assigned to IoT hub with hostname "%s"`, id, testHost),
			"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTED")
		assert.True(t, ev.e.Connected(id), id)
	}
	assert.Empty(t, ev.reasons.dpsChecks())
}

// The hub closes the connection (device disabled): the poll loop's lines,
// and the sample does not reconnect; its next event fails. Losing LTE
// disconnects gracefully.
func TestConnectionLost(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cause func(t *testing.T, ev *env, fw *azuresample.Firmware)
		want  []string
	}{
		{name: "device disabled",
			cause: func(t *testing.T, ev *env, _ *azuresample.Firmware) {
				_, err := ev.e.SetDeviceEnabled("lostdevice", false)
				require.NoError(t, err)
			},
			want: []string{
				"<wrn> azure_iot_hub: DISCONNECT, result: -128",
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_DISCONNECTED",
				"<err> mqtt_helper: Cloud MQTT input error: -128",
				"<wrn> azure_iot_hub: Azure IoT Hub is not connected",
				"<err> azure_iot_hub_sample: Failed to send event",
				"<inf> azure_iot_hub_sample: Next event will be sent in 1 seconds",
			}},
		{name: "lte lost",
			cause: func(t *testing.T, _ *env, fw *azuresample.Firmware) {
				fw.ModemURC(`+CEREG: 2,"81A3","03238D0A",7`)
			},
			want: []string{
				"<inf> azure_iot_hub_sample: Network connectivity lost, no IP address assigned",
				"<wrn> azure_iot_hub: DISCONNECT, result: 0",
				"<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_DISCONNECTED",
				"<wrn> azure_iot_hub: Azure IoT Hub is not connected",
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev := startHub(t, afterBoth)
			ca := newCA(t, ev, "lost CA")
			_, err := ev.e.AddCA("lost-ca", ca.CertPEM(), true)
			require.NoError(t, err)
			_, err = ev.e.CreateDevice(hub.DeviceSpec{ID: "lostdevice", Auth: hub.AuthCA})
			require.NoError(t, err)
			d := newDevice(t, ev)
			d.provision(t, 10, newLeaf(t, ev, "lostdevice", ca), ca, realRoot(t, digicert))
			fw, con := d.boot(t, confHub("lostdevice", 10), azuresample.Settings{EventInterval: &firmware.Duration{Duration: time.Second}})
			waitLines(t, con, "<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY", "<inf> azure_iot_hub_sample: Event was successfully sent")
			tc.cause(t, ev, fw)
			waitLines(t, con, tc.want...)
			assert.Equal(t, 1, strings.Count(strings.Join(con.text(), "\n"), "AZURE_IOT_HUB_EVT_CONNECTING"), "the sample never reconnects")
		})
	}
}

// Without the AT host the console reads nothing; with it, AT commands
// reach the modem.
func TestConsoleDialect(t *testing.T) {
	ev := startHub(t, afterBoth)
	d := newDevice(t, ev)
	fw, _ := d.boot(t, strings.ReplaceAll(confHub("quiet", 10), "CONFIG_AT_HOST_LIBRARY=y", "CONFIG_AT_HOST_LIBRARY=n"), fast)
	disc := fw.Dialect().Discipline
	n, echo, _, ok := disc.Scan([]byte("AT+CGSN\r\n"))
	assert.Equal(t, 9, n)
	assert.Nil(t, echo)
	assert.False(t, ok)
	assert.Equal(t, "x\r\n", string(disc.AppendURC(nil, "x")))

	fw2, _ := newDevice(t, ev).boot(t, confHub("athost", 10), fast)
	_, _, fr, ok := fw2.Dialect().Discipline.Scan([]byte("AT+CFUN?\r"))
	require.True(t, ok)
	assert.Equal(t, "AT+CFUN?", string(fr.Line))
}

func TestFlashFromKnobs(t *testing.T) {
	dir := t.TempDir()
	prj := filepath.Join(dir, "prj.conf")
	require.NoError(t, os.WriteFile(prj, []byte("CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=10\nCONFIG_NEWLIB_LIBC=y\n"), 0o600))
	var o azuresample.Options
	require.NoError(t, firmware.Knobs{"prj_conf": []any{prj}, "ncs_version": "v2.6.0", "event_interval": "5s"}.Decode(&o))
	ev := startHub(t, afterBoth)
	fw, err := azuresample.Flash(o, azuresample.Deps{Board: azuresample.NRF9160DKConf, Link: &azuresample.LTELink{Modem: &fakeModem{}}, Net: newDevice(t, ev).stack})
	require.NoError(t, err)
	assert.Equal(t, "*** Booting nRF Connect SDK v2.6.0 ***\r\n", string(fw.Banner()))
	assert.True(t, fw.Config().ATHost, "board fragment")
	assert.Equal(t, []string{"CONFIG_NEWLIB_LIBC"}, fw.Config().Ignored)
	require.Error(t, firmware.Knobs{"prj_confs": []any{prj}}.Decode(&o))
	_, err = azuresample.Flash(azuresample.Options{PrjConf: []string{filepath.Join(dir, "missing.conf")}}, azuresample.Deps{Board: azuresample.NRF9160DKConf, Link: &azuresample.LTELink{Modem: &fakeModem{}}, Net: newDevice(t, ev).stack})
	require.Error(t, err)
}

// CONFIG_MQTT_LIB_WEBSOCKET with port 443: with the forum thread's
// mqtt_helper patch the sample connects over WSS; stock mqtt_helper speaks
// MQTT/TLS to the WebSocket port and fails.
func TestWebSocket(t *testing.T) {
	ev := startHub(t, afterBoth)
	ca := newCA(t, ev, "ws CA")
	_, err := ev.e.AddCA("ws-ca", ca.CertPEM(), true)
	require.NoError(t, err)
	_, err = ev.e.CreateDevice(hub.DeviceSpec{ID: "wsdevice", Auth: hub.AuthCA})
	require.NoError(t, err)
	// A short connect timeout: the stock case waits for a CONNACK that never comes.
	d := newDevice(t, ev, netstack.WithConnectTimeout(2*time.Second))
	d.provision(t, 10, newLeaf(t, ev, "wsdevice", ca), ca, realRoot(t, digicert))
	conf := confHub("wsdevice", 10) + "CONFIG_MQTT_LIB_WEBSOCKET=y\nCONFIG_MQTT_HELPER_PORT=443\n"

	fw, con := d.boot(t, conf, azuresample.Settings{WebSocketPatch: true})
	waitLines(t, con, "<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_READY")
	require.NoError(t, fw.Close())

	_, con = d.boot(t, conf, fast)
	waitLines(t, con, "<inf> azure_iot_hub_sample: AZURE_IOT_HUB_EVT_CONNECTING")
	require.Eventually(t, func() bool {
		for _, l := range con.text() {
			if strings.HasPrefix(l, "<err> azure_iot_hub_sample: azure_iot_hub_connect failed: ") {
				return true
			}
		}
		return false
	}, 30*time.Second, 20*time.Millisecond, "stock mqtt_helper: %s", strings.Join(con.text(), "\n"))
}
