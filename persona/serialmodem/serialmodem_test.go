package serialmodem_test

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/persona/serialmodem"
	"github.com/modemsim/modemsim/pki"
)

// The AT host: banner, CRLF-prefixed answers, modem commands passed
// through, input ignored until "AT", grammar errors, echo.
func TestHostFraming(t *testing.T) {
	r := newRig(t, nil, time.Now())
	assert.Equal(t, "", r.expect("Ready\r\n"), "the banner is the first thing on the port")
	tests := []struct{ name, send, want string }{
		{"bare AT", "AT\r", "\r\nOK\r\n"},
		{"lower case", "at\r", "\r\nOK\r\n"},
		{"modem read", "AT+CFUN?\r", "\r\n+CFUN: 0\r\n\r\nOK\r\n"},
		{"modem test", "AT+CFUN=?\r", "\r\n+CFUN: (0,1,4,20,21,30,31,40,41,44)\r\n\r\nOK\r\n"},
		{"modem error", "AT+CGMI?\r", "\r\nERROR\r\n"},
		{"noise before AT is ignored", "\n\x00xyz AT+CGMI\r", "\r\nNordic Semiconductor ASA\r\n\r\nOK\r\n"},
		{"CRLF host: the LF is ignored", "AT\r\nAT\r\n", "\r\nOK\r\n\r\nOK\r\n"},
		{"basic command other than E", "ATZ\r", "\r\nERROR\r\n"},
		{"space after AT", "AT +CGMI\r", "\r\nERROR\r\n"},
		{"junk after ?", "AT+CFUN?x\r", "\r\nERROR\r\n"},
		{"backspace edits", "AT+CGMX\x08I\r", "\r\nNordic Semiconductor ASA\r\n\r\nOK\r\n"},
		{"mqtt config read", "AT#XMQTTCFG?\r", "\r\n#XMQTTCFG: \"sm_default_client_id\",60,1\r\n\r\nOK\r\n"},
		{"mqtt config test", "AT#XMQTTCFG=?\r", "\r\n#XMQTTCFG: <client_id>,<keep_alive>,<clean_session>\r\n\r\nOK\r\n"},
		{"mqtt con test", "AT#XMQTTCON=?\r", "\r\n#XMQTTCON: (0,1,2),<username>,<password>,<url>,<port>,<sec_tag>\r\n\r\nOK\r\n"},
		{"mqtt con read", "AT#XMQTTCON?\r", "\r\n#XMQTTCON: 0\r\n\r\nOK\r\n"},
		{"mqtt pub needs a session", "AT#XMQTTPUB=\"t\",\"m\"\r", "\r\nERROR\r\n"},
		{"mqtt pub test needs a session too", "AT#XMQTTPUB=?\r", "\r\nERROR\r\n"},
		{"disconnect without a session", "AT#XMQTTCON=0\r", "\r\nERROR\r\n"},
		{"mqtt config set", "AT#XMQTTCFG=\"dev1\",120,0\r", "\r\nOK\r\n"},
		{"mqtt config read back", "AT#XMQTTCFG?\r", "\r\n#XMQTTCFG: \"dev1\",120,0\r\n\r\nOK\r\n"},
		{"bad clean session", "AT#XMQTTCFG=\"dev1\",60,2\r", "\r\nERROR\r\n"},
		{"connect while offline", "AT#XMQTTCON=1,\"u\",\"p\",\"h.azure-devices.net\",8883,10\r", "\r\nERROR\r\n"},
		{"getaddrinfo offline", "AT#XGETADDRINFO=\"h.azure-devices.net\"\r", "\r\n#XGETADDRINFO: \"EAI_AGAIN\"\r\n\r\nERROR\r\n"},
		{"ping offline", "AT#XPING=\"h.azure-devices.net\",45,5000\r", "\"EAI_AGAIN\"\r\n\r\nERROR\r\n"},
		{"secure socket", "AT#XSSOCKET=1,1,0,10\r", "\r\n#XSSOCKET: 0,1,258\r\n\r\nOK\r\n"},
		{"socket opt get verify", "AT#XSSOCKETOPT=0,0,5\r", "\r\n#XSSOCKETOPT: 0,2\r\n\r\nOK\r\n"},
		{"socket opt set host", "AT#XSSOCKETOPT=0,1,2,\"h.azure-devices.net\"\r", "\r\nOK\r\n"},
		{"socket opt get host", "AT#XSSOCKETOPT=0,0,2\r", "\r\n#XSSOCKETOPT: 0,h.azure-devices.net\r\n\r\nOK\r\n"},
		{"connect offline", "AT#XCONNECT=0,\"h.azure-devices.net\",8883\r", "\r\nERROR\r\n"},
		{"dtls not simulated", "AT#XSSOCKET=1,2,0,10\r", "\r\nERROR\r\n"},
		{"plain socket", "AT#XSOCKET=1,1,0\r", "\r\n#XSOCKET: 1,1,6\r\n\r\nOK\r\n"},
		{"close one", "AT#XCLOSE=1\r", "\r\n#XCLOSE: 1,0\r\n\r\nOK\r\n"},
		{"close all", "AT#XCLOSE\r", "\r\n#XCLOSE: 0,0\r\n\r\nOK\r\n"},
		{"close unknown", "AT#XCLOSE=5\r", "\r\nERROR\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r.t = t
			r.send(tc.send)
			final := "\r\nOK\r\n"
			if strings.HasSuffix(tc.want, "\r\nERROR\r\n") {
				final = "\r\nERROR\r\n"
			}
			got := r.expect(final) + final
			for strings.Count(got, final) < strings.Count(tc.want, final) {
				got += r.expect(final) + final
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestEcho(t *testing.T) {
	r := newRig(t, nil, time.Now())
	r.expect("Ready\r\n")
	assert.Equal(t, "\r\nOK\r\n", r.exchange("ATE1", "\r\nOK\r\n"), "ATE1 itself is not echoed")
	assert.Equal(t, "xAT+CGMI\r\r\nNordic Semiconductor ASA\r\n\r\nOK\r\n", r.exchange("xAT+CGMI", "\r\nOK\r\n"),
		"every byte is echoed, ignored ones too")
	assert.Equal(t, "ATE0\r\r\nOK\r\n", r.exchange("ATE0", "\r\nOK\r\n"))
	assert.Equal(t, "\r\nOK\r\n", r.exchange("AT", "\r\nOK\r\n"))
	assert.False(t, r.fw.Echo())
}

// CFUN=1 registers; the modem's URCs are forwarded CRLF-prefixed.
func TestModemURCsForwarded(t *testing.T) {
	r := newRig(t, nil, time.Now())
	r.expect("Ready\r\n")
	r.exchange("AT+CEREG=1", "\r\nOK\r\n")
	r.exchange("AT+CFUN=1", "\r\nOK\r\n")
	r.expect("\r\n+CEREG: 2\r\n")
	r.expect("\r\n+CEREG: 1\r\n")
}

// A SAS device with the real DigiCert Global Root G2 in type 0 connects to
// a hub on the G2 chain, publishes telemetry (also in data mode),
// subscribes and receives a C2D message as #XMQTTMSG.
func TestMQTTSessionSAS(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	r := newRig(t, e, now)
	r.expect("Ready\r\n")
	r.put(42, 0, realRoot(t, "DigiCert_Global_Root_G2.pem"))
	user, pass := sasDevice(t, e, "dev1", now)
	tele, stop := e.Telemetry(8)
	defer stop()
	r.register()

	assert.Equal(t, "\r\nOK\r\n", r.exchange(`AT#XMQTTCFG="dev1"`, "\r\nOK\r\n"))
	got := r.exchange(fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883,42`, user, pass, testHost), "\r\n#XMQTTEVT: 0,0\r\n")
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 0,0\r\n", got)
	assert.Equal(t, fmt.Sprintf("\r\n#XMQTTCON: 1,\"dev1\",\"%s\",8883,42\r\n\r\nOK\r\n", testHost), r.exchange("AT#XMQTTCON?", "\r\nOK\r\n"))

	topic := "devices/dev1/messages/events/"
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 3,0\r\n", r.exchange(fmt.Sprintf(`AT#XMQTTPUB="%s","{'t':21}",1`, topic), "\r\n#XMQTTEVT: 3,0\r\n"))
	m := waitTelemetry(t, tele)
	assert.Equal(t, "dev1", m.DeviceID)
	assert.Equal(t, `{'t':21}`, string(m.Payload))

	assert.Equal(t, "\r\nOK\r\n", r.exchange(fmt.Sprintf(`AT#XMQTTPUB="%s"`, topic), "\r\nOK\r\n"))
	r.send("raw, with \"quotes\"\r\n and lines+++")
	assert.Equal(t, "\r\n#XDATAMODE: 0\r\n", r.expect("\r\n#XDATAMODE: 0\r\n")+"\r\n#XDATAMODE: 0\r\n")
	m = waitTelemetry(t, tele)
	assert.Equal(t, "raw, with \"quotes\"\r\n and lines", string(m.Payload))

	sub := "devices/dev1/messages/devicebound/#"
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 7,0\r\n", r.exchange(fmt.Sprintf(`AT#XMQTTSUB="%s",1`, sub), "\r\n#XMQTTEVT: 7,0\r\n"))
	_, err := e.SendC2D("dev1", []byte("hello device"), nil)
	require.NoError(t, err)
	r.expect("\r\n#XMQTTMSG: ")
	head := r.expect("\r\n")
	topicLine := r.expect("\r\n")
	payload := r.expect("\r\n")
	assert.Equal(t, fmt.Sprintf("%d,%d", len(topicLine), len("hello device")), head)
	assert.True(t, strings.HasPrefix(topicLine, "devices/dev1/messages/devicebound/"), topicLine)
	assert.Equal(t, "hello device", payload)
	r.expect("\r\n#XMQTTEVT: 2,0\r\n")

	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 8,0\r\n", r.exchange(fmt.Sprintf(`AT#XMQTTUNSUB="%s"`, sub), "\r\n#XMQTTEVT: 8,0\r\n"))
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 1,0\r\n", r.exchange("AT#XMQTTCON=0", "\r\n#XMQTTEVT: 1,0\r\n"))
	assert.Equal(t, "\r\n#XMQTTCON: 0\r\n\r\nOK\r\n", r.exchange("AT#XMQTTCON?", "\r\nOK\r\n"))
}

func waitTelemetry(t *testing.T, ch <-chan hub.Message) hub.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(20 * time.Second):
		t.Fatal("telemetry did not reach the hub")
	}
	return hub.Message{}
}

// Trust decides: the real G2 PEM connects on the G2 chain, the real
// Baltimore PEM does not (ERROR, the modem's -111 only logged), a
// self-made root does not, and before the migration Baltimore connects.
func TestTrustAnchors(t *testing.T) {
	selfMade := selfSignedPEM(t)
	for _, tc := range []struct {
		name   string
		now    time.Time
		root   []byte
		typ    int
		want   string
		wantEv string
	}{
		{"G2 after migration", afterMigration, realRoot(t, "DigiCert_Global_Root_G2.pem"), 0, "\r\nOK\r\n", "\r\n#XMQTTEVT: 0,0\r\n"},
		{"Baltimore after migration", afterMigration, realRoot(t, "Baltimore_CyberTrust_Root.pem"), 0, "\r\nERROR\r\n", ""},
		{"self-made root", afterMigration, selfMade, 0, "\r\nERROR\r\n", ""},
		{"G2 written as type 1", afterMigration, realRoot(t, "DigiCert_Global_Root_G2.pem"), 1, "\r\nERROR\r\n", ""},
		{"Baltimore before migration", beforeMigration, realRoot(t, "Baltimore_CyberTrust_Root.pem"), 0, "\r\nOK\r\n", "\r\n#XMQTTEVT: 0,0\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startHub(t, tc.now)
			r := newRig(t, e, tc.now)
			r.expect("Ready\r\n")
			r.put(7, tc.typ, tc.root)
			user, pass := sasDevice(t, e, "devt", tc.now)
			r.register()
			r.exchange(`AT#XMQTTCFG="devt"`, "\r\nOK\r\n")
			got := r.exchange(fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883,7`, user, pass, testHost), tc.want)
			assert.Equal(t, tc.want, got)
			if tc.wantEv != "" {
				r.expect(tc.wantEv)
			}
		})
	}
}

// A refused CONNACK arrives after OK: the return code, then the
// disconnect with -ECONNREFUSED.
func TestConnackRefused(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	r := newRig(t, e, now)
	r.expect("Ready\r\n")
	r.put(7, 0, realRoot(t, "DigiCert_Global_Root_G2.pem"))
	user, _ := sasDevice(t, e, "devr", now)
	r.register()
	r.exchange(`AT#XMQTTCFG="devr"`, "\r\nOK\r\n")
	got := r.exchange(fmt.Sprintf(`AT#XMQTTCON=1,"%s","SharedAccessSignature sr=x&sig=y&se=1","%s",8883,7`, user, testHost), "\r\n#XMQTTEVT: 1,-111\r\n")
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 0,5\r\n\r\n#XMQTTEVT: 1,-111\r\n", got)
}

// The stock build's 32-byte login buffers refuse an IoT Hub user name
// before anything reaches the network.
func TestStockLoginLimit(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	r := newRigWith(t, e, now, serialmodem.Config{MaxUsername: serialmodem.StockLoginLimit, MaxPassword: serialmodem.StockLoginLimit})
	r.expect("Ready\r\n")
	r.put(7, 0, realRoot(t, "DigiCert_Global_Root_G2.pem"))
	user, pass := sasDevice(t, e, "devs", now)
	r.register()
	assert.Equal(t, "\r\nERROR\r\n", r.exchange(fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883,7`, user, pass, testHost), "\r\nERROR\r\n"))
	assert.Empty(t, e.Attempts(), "the hub saw no connection")
}

func selfSignedPEM(t *testing.T) []byte {
	t.Helper()
	ca, err := pki.NewCA(rand.Reader, "DigiCert Global Root G2", nil, afterMigration.Add(-time.Hour), afterMigration.AddDate(5, 0, 0))
	require.NoError(t, err)
	return ca.CertPEM()
}

// A TLS socket with the stored root talks to the hub: connect, cipher,
// send, receive (the hub's TLS server answers an MQTT CONNECT with CONNACK).
func TestSecureSocket(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	r := newRig(t, e, now)
	r.expect("Ready\r\n")
	r.put(9, 0, realRoot(t, "DigiCert_Global_Root_G2.pem"))
	r.register()
	assert.Equal(t, "\r\n#XGETADDRINFO: \"127.0.0.1\"\r\n\r\nOK\r\n", r.exchange(fmt.Sprintf(`AT#XGETADDRINFO="%s"`, testHost), "\r\nOK\r\n"))
	assert.Equal(t, "\r\n#XGETADDRINFO: \"EAI_NONAME\"\r\n\r\nERROR\r\n", r.exchange(`AT#XGETADDRINFO="nowhere.example"`, "\r\nERROR\r\n"))
	assert.Equal(t, "\r\n#XSSOCKET: 0,1,258\r\n\r\nOK\r\n", r.exchange("AT#XSSOCKET=1,1,0,9", "\r\nOK\r\n"))
	assert.Equal(t, "\r\n#XCONNECT: 0,1\r\n\r\nOK\r\n", r.exchange(fmt.Sprintf(`AT#XCONNECT=0,"%s",8883`, testHost), "\r\nOK\r\n"))
	assert.Regexp(t, `^\r\n#XSSOCKETOPT: 0,0x[0-9a-f]+\r\n\r\nOK\r\n$`, r.exchange("AT#XSSOCKETOPT=0,0,4", "\r\nOK\r\n"))
	// MQTT CONNECT, protocol level 4, client id "x", no credentials: the
	// hub answers CONNACK (refused: 20 02 00 05).
	connect := "101300044D5154540402003C0007" + strings.Repeat("78", 7)
	assert.Equal(t, "\r\n#XSEND: 0,0,21\r\n\r\nOK\r\n", r.exchange("AT#XSEND=0,1,0,\""+connect+"\"", "\r\nOK\r\n"))
	got := r.exchange("AT#XRECV=0,1,0,10", "\r\nOK\r\n")
	assert.Equal(t, "\r\n#XRECV: 0,1,4\r\n20020005\r\nOK\r\n", got)
	assert.Equal(t, "\r\n#XCLOSE: 0,0\r\n\r\nOK\r\n", r.exchange("AT#XCLOSE=0", "\r\nOK\r\n"))

	// The real Baltimore root fails the handshake: ERROR.
	r.put(8, 0, realRoot(t, "Baltimore_CyberTrust_Root.pem"))
	r.exchange("AT#XSSOCKET=1,1,0,8", "\r\nOK\r\n")
	assert.Equal(t, "\r\nERROR\r\n", r.exchange(fmt.Sprintf(`AT#XCONNECT=0,"%s",8883`, testHost), "\r\nERROR\r\n"))
}

func TestPing(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	r := newRig(t, e, now)
	r.expect("Ready\r\n")
	r.register()
	assert.Equal(t, "\"EAI_NONAME\"\r\n\r\nERROR\r\n", r.exchange(`AT#XPING="nowhere.example",45,5000`, "\r\nERROR\r\n"))
	assert.Equal(t, "\r\nOK\r\n", r.exchange(fmt.Sprintf(`AT#XPING="%s",45,5000,2,10`, testHost), "\r\nOK\r\n"))
	r.expect("#XPING: 0.")
	r.expect(" seconds\r\n#XPING: 0.")
	r.expect(" seconds\r\n#XPING: average 0.")
	r.expect(" seconds\r\n")
}

// Without a sec tag the firmware speaks plain MQTT: CONNECT goes out (OK)
// and the hub, TLS-only, drops the connection.
func TestPlainMQTTToTheHub(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	r := newRig(t, e, now)
	r.expect("Ready\r\n")
	user, pass := sasDevice(t, e, "devp", now)
	r.register()
	got := r.exchange(fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883`, user, pass, testHost), "\r\n#XMQTTEVT: 1,")
	assert.Equal(t, "\r\nOK\r\n\r\n#XMQTTEVT: 1,", got)
	assert.Equal(t, "-128", r.expect("\r\n"))
	assert.Equal(t, "\r\n#XMQTTCON: 0\r\n\r\nOK\r\n", r.exchange("AT#XMQTTCON?", "\r\nOK\r\n"))
}

// Data mode holds SM_DATAMODE_BUF_SIZE (4096) bytes: exactly that much is
// one message; one byte more is an overflow, the rest is dropped until
// "+++", and the exit reports -1.
func TestDataModeBuffer(t *testing.T) {
	now := afterMigration
	e := startHub(t, now)
	idle := firmware.Duration{Duration: 5 * time.Second} // no idle send inside one write, even on a loaded machine
	r := newRigWith(t, e, now, serialmodem.Config{DataModeIdle: &idle})
	r.expect("Ready\r\n")
	r.put(42, 0, realRoot(t, "DigiCert_Global_Root_G2.pem"))
	user, pass := sasDevice(t, e, "devd", now)
	tele, stop := e.Telemetry(8)
	defer stop()
	r.register()
	r.exchange(`AT#XMQTTCFG="devd"`, "\r\nOK\r\n")
	r.exchange(fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883,42`, user, pass, testHost), "\r\n#XMQTTEVT: 0,0\r\n")
	topic := `AT#XMQTTPUB="devices/devd/messages/events/"`

	r.exchange(topic, "\r\nOK\r\n")
	r.send(strings.Repeat("a", 4096) + "+++")
	assert.Equal(t, "\r\n#XDATAMODE: 0\r\n", r.expect("\r\n#XDATAMODE: 0\r\n")+"\r\n#XDATAMODE: 0\r\n")
	assert.Len(t, waitTelemetry(t, tele).Payload, 4096)

	r.exchange(topic, "\r\nOK\r\n")
	r.send(strings.Repeat("b", 5000) + "+++")
	assert.Equal(t, "\r\n#XDATAMODE: -1\r\n", r.expect("\r\n#XDATAMODE: -1\r\n")+"\r\n#XDATAMODE: -1\r\n")
	assert.Equal(t, "\r\nOK\r\n", r.exchange("AT", "\r\nOK\r\n"), "back in command mode")
	select {
	case m := <-tele:
		t.Fatalf("an overflowing message was published: %d bytes", len(m.Payload))
	default:
	}
}
