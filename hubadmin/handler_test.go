package hubadmin

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
)

const testHost = "admin-test.azure-devices.net"

var (
	sharedPKIDir  string
	sharedPKIOnce sync.Once
	sharedPKI     *pki.PKI
	sharedPKIErr  error
)

// TestMain keeps one stand-in PKI per test binary: the RSA-4096 roots take seconds.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hubadmin-pki-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedPKIDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func testPKI(tb testing.TB) *pki.PKI {
	tb.Helper()
	sharedPKIOnce.Do(func() { sharedPKI, sharedPKIErr = pki.LoadOrCreate(sharedPKIDir) })
	require.NoError(tb, sharedPKIErr)
	return sharedPKI
}

type fixture struct {
	e   *hub.Emulator
	srv *httptest.Server
	c   *Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	reasons := NewDPSReasons(0)
	e, err := hub.New(t.TempDir(), hub.WithPKI(testPKI(t)), hub.WithHostName(testHost),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr(""), hub.WithExtraHosts("127.0.0.1"),
		hub.WithDPSOptions(dps.WithReasonSink(reasons.Record)))
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	srv := httptest.NewServer(NewHandler(e, WithDPSReasons(reasons)))
	t.Cleanup(func() { srv.Close(); _ = e.Close() })
	return &fixture{e: e, srv: srv, c: NewClient(srv.URL, srv.Client())}
}

// call does a raw request and returns status and body.
func (f *fixture) call(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, f.srv.URL+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestRawAPI(t *testing.T) {
	f := newFixture(t)
	ca, err := pki.NewCA(rand.Reader, "Test Root CA", nil, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	caJSON, _ := json.Marshal(CertificateRequest{PEM: string(ca.CertPEM())})

	steps := []struct {
		name, method, path, body string
		status                   int
		contains                 string
	}{
		{"create sas device", "PUT", "/devices/dev1", `{"authenticationType":"sas"}`, 201, `"primaryKey"`},
		{"create again", "PUT", "/devices/dev1", `{}`, 409, `"error"`},
		{"create bad auth", "PUT", "/devices/dev2", `{"authenticationType":"magic"}`, 400, "authentication type"},
		{"create bad json", "PUT", "/devices/dev2", `{"authenticationType":`, 400, "JSON body"},
		{"create unknown field", "PUT", "/devices/dev2", `{"auth":"sas"}`, 400, "unknown field"},
		{"create bad id", "PUT", "/devices/a+b", `{}`, 400, "device id"},
		{"thumbprint needs print", "PUT", "/devices/dev3", `{"authenticationType":"x509-thumbprint"}`, 400, "thumbprint"},
		{"thumbprint device", "PUT", "/devices/dev3", `{"authenticationType":"x509_thumbprint","primaryThumbprint":"AB:CD"}`, 201, `"selfSigned"`},
		{"get device", "GET", "/devices/dev1", "", 200, `"deviceId": "dev1"`},
		{"get missing", "GET", "/devices/nope", "", 404, "not found"},
		{"list devices", "GET", "/devices", "", 200, `"dev3"`},
		{"disable", "POST", "/devices/dev1/disable", "", 200, `"disabled": true`},
		{"enable", "POST", "/devices/dev1/enable", "", 200, `"deviceId": "dev1"`},
		{"twin", "GET", "/devices/dev1/twin", "", 200, `"desiredVersion": 1`},
		{"twin patch", "PATCH", "/devices/dev1/twin", `{"interval":30}`, 200, `"interval": 30`},
		{"twin patch bad", "PATCH", "/devices/dev1/twin", `[1]`, 400, "desired patch"},
		{"twin missing", "GET", "/devices/nope/twin", "", 404, "not found"},
		{"c2d queued offline", "POST", "/devices/dev1/c2d", `{"payload":"hi"}`, 202, `"messageId"`},
		{"c2d pending", "GET", "/devices/dev1/c2d", "", 200, `"payload": "aGk="`},
		{"c2d missing device", "POST", "/devices/nope/c2d", `{"payload":"hi"}`, 404, "not found"},
		{"method offline", "POST", "/devices/dev1/methods/reboot", `{"payload":{}}`, 404, "not online"},
		{"sas token", "GET", "/sas-token?device=dev1&ttl=3600", "", 200, `SharedAccessSignature sr=` + testHost + `%2Fdevices%2Fdev1`},
		{"sas token no device", "GET", "/sas-token", "", 400, "device is required"},
		{"sas token bad ttl", "GET", "/sas-token?device=dev1&ttl=-5m", "", 400, "ttl"},
		{"sas token ttl overflow (se would be 1934)", "GET", "/sas-token?device=dev1&ttl=200000000000", "", 400, "too long"},
		{"sas token ttl duration too long", "GET", "/sas-token?device=dev1&ttl=2562047h", "", 400, "too long"},
		{"sas token ttl at the bound", "GET", "/sas-token?device=dev1&ttl=87600h", "", 200, `"token"`},
		{"sas token x509 device", "GET", "/sas-token?device=dev3", "", 400, "not SAS"},
		{"sas token missing", "GET", "/sas-token?device=nope", "", 404, "not found"},
		{"upload CA", "PUT", "/certificates/root", string(caJSON), 201, `"verified": false`},
		{"upload CA again", "PUT", "/certificates/root", string(caJSON), 409, "exists"},
		{"upload CA garbage", "PUT", "/certificates/bad", `{"pem":"nope"}`, 400, "PEM"},
		{"get CA", "GET", "/certificates/root", "", 200, `"subject": "CN=Test Root CA"`},
		{"get CA missing", "GET", "/certificates/nope", "", 404, "not found"},
		{"code missing CA", "POST", "/certificates/nope/verification-code", "", 404, "not found"},
		{"list CAs", "GET", "/certificates", "", 200, `"root"`},
		{"dps CA upload", "PUT", "/dps/certificates/root", string(caJSON), 201, `"verified": false`},
		{"dps CA list", "GET", "/dps/certificates", "", 200, `"root"`},
		{"dps group x509", "PUT", "/dps/enrollment-groups/g1", `{"attestation":"x509","caName":"root"}`, 200, `"enabled": true`},
		{"dps group unknown CA", "PUT", "/dps/enrollment-groups/g2", `{"attestation":"x509","caName":"nope"}`, 404, "not found"},
		{"dps group symmetric generated key", "PUT", "/dps/enrollment-groups/g3", `{"attestation":"symmetricKey"}`, 200, `"primaryKey"`},
		{"dps group get", "GET", "/dps/enrollment-groups/g1", "", 200, `"caName": "root"`},
		{"dps groups", "GET", "/dps/enrollment-groups", "", 200, `"g3"`},
		{"dps enrollment sym", "PUT", "/dps/enrollments/Reg-1", `{"attestation":"symmetricKey","enabled":false}`, 200, `"enabled": false`},
		{"dps enrollment bad attestation", "PUT", "/dps/enrollments/r2", `{"attestation":"tpm"}`, 400, "attestation"},
		{"dps enrollment get case-insensitive", "GET", "/dps/enrollments/reg-1", "", 200, `"registrationId": "Reg-1"`},
		{"dps enrollment list", "GET", "/dps/enrollments", "", 200, `"Reg-1"`},
		{"dps enrollment delete", "DELETE", "/dps/enrollments/Reg-1", "", 204, ""},
		{"dps enrollment gone", "GET", "/dps/enrollments/Reg-1", "", 404, "not found"},
		{"dps group delete", "DELETE", "/dps/enrollment-groups/g3", "", 204, ""},
		{"dps registrations", "GET", "/dps/registrations", "", 200, "[]"},
		{"attempts", "GET", "/attempts", "", 200, "[]"},
		{"reasons", "GET", "/reasons", "", 200, "[]"},
		{"info", "GET", "/info", "", 200, `"hostName": "` + testHost + `"`},
		{"root digicert", "GET", "/roots/digicert-g2", "", 200, "BEGIN CERTIFICATE"},
		{"root unknown", "GET", "/roots/nope", "", 404, "unknown root"},
		{"unknown path", "GET", "/nope", "", 404, "no such resource"},
		{"delete device", "DELETE", "/devices/dev3", "", 204, ""},
		{"delete device again", "DELETE", "/devices/dev3", "", 404, "not found"},
		{"delete CA", "DELETE", "/certificates/root", "", 204, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			status, body := f.call(t, s.method, s.path, s.body)
			assert.Equal(t, s.status, status, body)
			assert.Contains(t, body, s.contains)
			if status >= 400 {
				var eb errorBody
				require.NoError(t, json.Unmarshal([]byte(body), &eb), body)
				assert.NotEmpty(t, eb.Error)
			}
		})
	}
}

func TestRoots(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		want []pki.RootName
	}{
		{"hub", []pki.RootName{f.e.HubRoot()}},
		{"dps", []pki.RootName{f.e.DPSRoot()}},
		{"all", pki.RootNames()},
		{"baltimore", []pki.RootName{pki.BaltimoreCyberTrustRoot}},
		{"microsoft-2017", []pki.RootName{pki.MicrosoftRSARoot2017}},
		{string(pki.DigiCertGlobalRootG2), []pki.RootName{pki.DigiCertGlobalRootG2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := f.c.Root(t.Context(), tt.name)
			require.NoError(t, err)
			certs, err := pki.ParseCertsPEM(b)
			require.NoError(t, err)
			require.Len(t, certs, len(tt.want))
			for i, c := range certs {
				assert.Equal(t, string(tt.want[i]), c.Subject.CommonName)
			}
		})
	}
}

func TestParseAuthAndRoot(t *testing.T) {
	auths := []struct {
		in   string
		want hub.AuthType
		err  bool
	}{
		{"", hub.AuthSAS, false}, {"sas", hub.AuthSAS, false}, {"shared_private_key", hub.AuthSAS, false},
		{"x509-thumbprint", hub.AuthSelfSigned, false}, {"selfSigned", hub.AuthSelfSigned, false},
		{"x509_ca", hub.AuthCA, false}, {"certificateAuthority", hub.AuthCA, false}, {"tpm", "", true},
	}
	for _, a := range auths {
		got, err := ParseAuth(a.in)
		if a.err {
			assert.ErrorIs(t, err, hub.ErrInvalid, a.in)
			continue
		}
		require.NoError(t, err, a.in)
		assert.Equal(t, a.want, got, a.in)
	}
	roots := []struct {
		in   string
		want pki.RootName
		err  bool
	}{
		{"auto", "", false}, {"", "", false}, {"baltimore", pki.BaltimoreCyberTrustRoot, false},
		{"DigiCert-G2", pki.DigiCertGlobalRootG2, false}, {"microsoft rsa root certificate authority 2017", pki.MicrosoftRSARoot2017, false},
		{"letsencrypt", "", true},
	}
	for _, r := range roots {
		got, err := ParseRoot(r.in)
		if r.err {
			assert.Error(t, err, r.in)
			continue
		}
		require.NoError(t, err, r.in)
		assert.Equal(t, r.want, got, r.in)
	}
}

func TestDPSReasonsRingAndMerge(t *testing.T) {
	d := NewDPSReasons(2)
	t0 := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		d.Record(dps.Reason{Time: t0.Add(time.Duration(2*i) * time.Second), Service: "dps", RegistrationID: fmt.Sprint("r", i), Check: dps.CheckIDScope})
	}
	got := d.Reasons()
	require.Len(t, got, 2)
	assert.Equal(t, "r1", got[0].RegistrationID)
	merged := mergeReasons([]hub.Reason{{Time: t0.Add(3 * time.Second), DeviceID: "h", Check: hub.CheckSASExpired}}, got)
	require.Len(t, merged, 3)
	assert.Equal(t, []string{"r1", "h", "r2"}, []string{merged[0].ID, merged[1].ID, merged[2].ID})
	assert.Equal(t, []string{"dps", "hub", "dps"}, []string{merged[0].Service, merged[1].Service, merged[2].Service})
}

// TestCAProofOfPossession runs upload → code → verify for both stores through the Client.
func TestCAProofOfPossession(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	ca, err := pki.NewCA(rand.Reader, "PoP Root", nil, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	other, err := pki.NewCA(rand.Reader, "Other Root", nil, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	require.NoError(t, err)

	stores := []struct {
		name   string
		upload func() error
		code   func() (string, error)
		verify func(pem []byte) (bool, error)
	}{
		{"hub",
			func() error { _, err := f.c.UploadCA(ctx, "pop", ca.CertPEM(), false); return err },
			func() (string, error) { return f.c.CAVerificationCode(ctx, "pop") },
			func(p []byte) (bool, error) { c, err := f.c.VerifyCA(ctx, "pop", p); return c.Verified, err }},
		{"dps",
			func() error { _, err := f.c.UploadDPSCA(ctx, "pop", ca.CertPEM(), false); return err },
			func() (string, error) { return f.c.DPSCAVerificationCode(ctx, "pop") },
			func(p []byte) (bool, error) { c, err := f.c.VerifyDPSCA(ctx, "pop", p); return c.Verified, err }},
	}
	for _, s := range stores {
		t.Run(s.name, func(t *testing.T) {
			require.NoError(t, s.upload())
			assert.ErrorIs(t, s.upload(), hub.ErrExists)
			code, err := s.code()
			require.NoError(t, err)
			require.NotEmpty(t, code)

			wrong, err := pki.NewVerificationCert(rand.Reader, code, other, time.Now())
			require.NoError(t, err)
			_, err = s.verify(pki.EncodeCertsPEM(wrong))
			var ae *APIError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, http.StatusBadRequest, ae.Status)

			proof, err := pki.NewVerificationCert(rand.Reader, code, ca, time.Now())
			require.NoError(t, err)
			ok, err := s.verify(pki.EncodeCertsPEM(proof))
			require.NoError(t, err)
			assert.True(t, ok)
		})
	}
}

// TestDeviceSession connects a real MQTT client with the token from
// GET /sas-token and drives telemetry, C2D, twin, methods and attempts.
func TestDeviceSession(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	_, err := f.c.CreateDevice(ctx, "dev1", DeviceRequest{Auth: "sas"})
	require.NoError(t, err)
	tok, err := f.c.SASToken(ctx, "dev1", 10*time.Minute)
	require.NoError(t, err)
	assert.Equal(t, testHost+"/dev1/?api-version="+APIVersion, tok.Username)
	assert.WithinDuration(t, time.Now().Add(10*time.Minute), tok.Expiry, 5*time.Second)

	// Start the telemetry stream before the device publishes.
	streamCtx, stopStream := context.WithCancel(ctx)
	events := make(chan TelemetryEvent, 4)
	streamDone := make(chan error, 1)
	go func() {
		streamDone <- f.c.Telemetry(streamCtx, "dev1", func(ev TelemetryEvent) error { events <- ev; return nil })
	}()

	roots, err := f.e.PKI().RootPool(f.e.HubRoot())
	require.NoError(t, err)
	msgs := make(chan paho.Message, 8)
	o := paho.NewClientOptions().AddBroker("tls://" + f.e.MQTTAddr()).SetClientID(tok.ClientID).
		SetUsername(tok.Username).SetPassword(tok.Token).SetProtocolVersion(4).SetAutoReconnect(false).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}).
		SetDefaultPublishHandler(func(_ paho.Client, m paho.Message) { msgs <- m })
	cl := paho.NewClient(o)
	require.True(t, cl.Connect().WaitTimeout(20*time.Second))
	t.Cleanup(func() { cl.Disconnect(0) })

	// Telemetry reaches the stream. The stream may subscribe after the
	// first publish, so publish until one arrives.
	var ev TelemetryEvent
	for deadline := time.Now().Add(10 * time.Second); ev.DeviceID == ""; {
		require.True(t, time.Now().Before(deadline), "no telemetry on the stream")
		require.True(t, cl.Publish("devices/dev1/messages/events/color=red", 1, false, "hello").WaitTimeout(10*time.Second))
		select {
		case ev = <-events:
		case <-time.After(200 * time.Millisecond):
		}
	}
	assert.Equal(t, "hello", ev.Text)
	assert.Equal(t, "red", ev.Properties["color"])
	stopStream()
	assert.NoError(t, <-streamDone)

	// C2D.
	tk := cl.Subscribe("devices/dev1/messages/devicebound/#", 1, nil)
	require.True(t, tk.WaitTimeout(10*time.Second))
	require.NoError(t, tk.Error())
	_, err = f.c.SendC2D(ctx, "dev1", C2DRequest{Payload: "ping", Properties: map[string]string{"k": "v"}})
	require.NoError(t, err)
	m := recv(t, msgs)
	assert.Equal(t, "ping", string(m.Payload()))
	assert.Contains(t, m.Topic(), "k=v")

	// Direct method: the device answers in its handler.
	tk = cl.Subscribe("$iothub/methods/POST/#", 1, func(c paho.Client, m paho.Message) {
		rid := m.Topic()[strings.Index(m.Topic(), "$rid=")+5:]
		c.Publish("$iothub/methods/res/200/?$rid="+rid, 1, false, `{"echo":`+string(m.Payload())+`}`)
	})
	require.True(t, tk.WaitTimeout(10*time.Second))
	res, err := f.c.InvokeMethod(ctx, "dev1", "echo", MethodRequest{Payload: json.RawMessage(`{"n":1}`), TimeoutSeconds: 10})
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	assert.JSONEq(t, `{"echo":{"n":1}}`, string(res.Payload))

	// Desired patch is pushed.
	tk = cl.Subscribe("$iothub/twin/PATCH/properties/desired/#", 1, nil)
	require.True(t, tk.WaitTimeout(10*time.Second))
	tw, err := f.c.UpdateDesired(ctx, "dev1", json.RawMessage(`{"fw":"1.2"}`))
	require.NoError(t, err)
	assert.Equal(t, "1.2", tw.Desired["fw"])
	m = recv(t, msgs)
	assert.Contains(t, string(m.Payload()), `"fw":"1.2"`)

	// Attempts and reasons: one accepted connection, then a refused one.
	att, err := f.c.Attempts(ctx, "dev1")
	require.NoError(t, err)
	require.NotEmpty(t, att)
	assert.Equal(t, hub.OutcomeAccepted, att[0].Outcome)

	bad := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + f.e.MQTTAddr()).SetClientID("dev1").
		SetUsername(tok.Username).SetPassword(tok.Token + "x").SetProtocolVersion(4).SetAutoReconnect(false).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: testHost, MinVersion: tls.VersionTLS12}))
	btk := bad.Connect()
	require.True(t, btk.WaitTimeout(20*time.Second))
	require.Error(t, btk.Error())
	rs, err := f.c.Reasons(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, rs)
	last := rs[len(rs)-1]
	assert.Equal(t, "hub", last.Service)
	assert.Equal(t, "dev1", last.ID)
}

func recv(t *testing.T, ch chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no message for the device")
		return nil
	}
}

func TestTelemetrySSE(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/telemetry", nil)
	require.NoError(t, err)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))

	_, err = f.c.CreateDevice(t.Context(), "sse", DeviceRequest{})
	require.NoError(t, err)
	tok, err := f.c.SASToken(t.Context(), "sse", 0)
	require.NoError(t, err)
	roots, err := f.e.PKI().RootPool(f.e.HubRoot())
	require.NoError(t, err)
	cl := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + f.e.MQTTAddr()).SetClientID("sse").
		SetUsername(tok.Username).SetPassword(tok.Token).SetProtocolVersion(4).SetAutoReconnect(false).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: testHost, MinVersion: tls.VersionTLS12}))
	require.True(t, cl.Connect().WaitTimeout(20*time.Second))
	defer cl.Disconnect(0)
	require.True(t, cl.Publish("devices/sse/messages/events/", 1, false, []byte{0xff, 0x00}).WaitTimeout(10*time.Second))

	sc := bufio.NewScanner(resp.Body)
	require.True(t, sc.Scan())
	assert.Equal(t, "event: telemetry", sc.Text())
	require.True(t, sc.Scan())
	data, ok := strings.CutPrefix(sc.Text(), "data: ")
	require.True(t, ok, sc.Text())
	var ev TelemetryEvent
	require.NoError(t, json.Unmarshal([]byte(data), &ev))
	assert.Equal(t, []byte{0xff, 0x00}, ev.Payload)
	assert.Empty(t, ev.Text, "binary payloads have no text")
}

func TestAPIErrorIs(t *testing.T) {
	tests := []struct {
		status int
		target error
		want   bool
	}{
		{404, hub.ErrNotFound, true}, {404, dps.ErrNotFound, true}, {409, hub.ErrExists, true},
		{400, hub.ErrInvalid, true}, {504, hub.ErrMethodTimeout, true}, {500, hub.ErrNotFound, false},
		{404, hub.ErrExists, false},
	}
	for _, tt := range tests {
		err := fmt.Errorf("wrapped: %w", &APIError{Status: tt.status, Message: "m"})
		assert.Equal(t, tt.want, errors.Is(err, tt.target), "%d %v", tt.status, tt.target)
	}
}

// TestReasonsIncludeDPS makes DPS refuse a registration and finds the
// reason in GET /reasons next to the hub's.
func TestReasonsIncludeDPS(t *testing.T) {
	f := newFixture(t)
	roots, err := f.e.PKI().RootPool(f.e.DPSRoot())
	require.NoError(t, err)
	cl := paho.NewClient(paho.NewClientOptions().AddBroker("tls://" + f.e.MQTTAddr()).SetClientID("reg1").
		SetUsername("0neWRONG/registrations/reg1/api-version=2019-03-31").SetPassword("SharedAccessSignature sr=x&sig=eA%3D%3D&se=1").
		SetProtocolVersion(4).SetAutoReconnect(false).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: hub.DefaultDPSHostName, MinVersion: tls.VersionTLS12}))
	tk := cl.Connect()
	require.True(t, tk.WaitTimeout(20*time.Second))
	defer cl.Disconnect(0)
	require.Eventually(t, func() bool {
		rs, err := f.c.Reasons(t.Context())
		require.NoError(t, err)
		for _, r := range rs {
			if r.Service == "dps" && r.ID == "reg1" && r.Check == dps.CheckIDScope {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond)
}
