package serviceapi

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

const testHubHost = "svc-test.azure-devices.net"

var (
	pkiOnce sync.Once
	testP   *pki.PKI
	pkiErr  error
	pkiDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "serviceapi-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

func sharedPKI(t testing.TB) *pki.PKI {
	t.Helper()
	pkiOnce.Do(func() { testP, pkiErr = pki.LoadOrCreate(pkiDir) })
	require.NoError(t, pkiErr)
	return testP
}

type env struct {
	t     *testing.T
	e     *hub.Emulator
	api   *API
	roots *x509.CertPool
	dir   string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e, err := hub.New(dir, hub.WithPKI(sharedPKI(t)), hub.WithHostName(testHubHost),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"))
	require.NoError(t, err)
	api, err := New(e, filepath.Join(dir, "dps", "service-policies.json"))
	require.NoError(t, err)
	require.NoError(t, e.ServeHTTPS(api.Handler()))
	require.NoError(t, e.Start(t.Context()))
	t.Cleanup(func() { _ = e.Close() })
	roots, err := e.PKI().RootPool()
	require.NoError(t, err)
	return &env{t: t, e: e, api: api, roots: roots, dir: dir}
}

// rootsPEM writes roots.pem (every stand-in root) and returns its path.
func (v *env) rootsPEM() string {
	var b []byte
	for _, n := range pki.RootNames() {
		a, err := v.e.PKI().Root(n)
		require.NoError(v.t, err)
		b = append(b, a.CertPEM()...)
	}
	path := filepath.Join(v.dir, "roots.pem")
	require.NoError(v.t, os.WriteFile(path, b, 0o600))
	return path
}

// policyToken signs a service token from a policy, as the SDKs do from a
// connection string (sr = host name, skn = policy).
func policyToken(host string, p Policy, exp time.Time) string {
	key, _ := base64.StdEncoding.DecodeString(p.PrimaryKey)
	return sas.Sign(host, key, exp, p.Name)
}

func (v *env) hubPolicy(name string) Policy {
	p, ok := v.api.hubPolicy(name)
	require.True(v.t, ok, name)
	return p
}

func (v *env) dpsPolicy() Policy {
	p, ok := v.api.dpsPol.Policy(DPSOwnerPolicy)
	require.True(v.t, ok)
	return p
}

// call sends one HTTPS request to host (Host header and SNI) on the
// emulator's HTTPS port and decodes the JSON answer into out.
func (v *env) call(t *testing.T, host, token, method, path string, body any, out any, hdr ...string) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "https://"+v.e.WebSocketAddr()+path, rd)
	require.NoError(t, err)
	req.Host = host
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	cl := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: v.roots, ServerName: host, MinVersion: tls.VersionTLS12}}}
	resp, err := cl.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if out != nil && len(b) > 0 {
		require.NoError(t, json.Unmarshal(b, out), "%s", b)
	}
	return resp.StatusCode
}

// methodDevice connects deviceID over MQTT/TLS and answers every direct
// method with status 200 and `{"echo": <request payload>}`.
func (v *env) methodDevice(deviceID string) paho.Client {
	v.t.Helper()
	d, err := v.e.Device(deviceID)
	require.NoError(v.t, err)
	key, err := base64.StdEncoding.DecodeString(d.PrimaryKey)
	require.NoError(v.t, err)
	tok := sas.Sign(url.QueryEscape(testHubHost+"/devices/"+deviceID), key, time.Now().Add(time.Hour), "")
	o := paho.NewClientOptions().AddBroker("tls://" + v.e.MQTTAddr()).SetClientID(deviceID).
		SetUsername(testHubHost + "/" + deviceID + "/?api-version=2021-04-12").SetPassword(tok).
		SetTLSConfig(&tls.Config{RootCAs: v.roots, ServerName: testHubHost}).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectTimeout(15 * time.Second)
	c := paho.NewClient(o)
	ct := c.Connect()
	require.True(v.t, ct.WaitTimeout(20*time.Second))
	require.NoError(v.t, ct.Error())
	st := c.Subscribe("$iothub/methods/POST/#", 1, func(c paho.Client, m paho.Message) {
		var rid string
		if _, q, ok := cutQuery(m.Topic()); ok {
			vals, _ := url.ParseQuery(q)
			rid = vals.Get("$rid")
		}
		c.Publish(fmt.Sprintf("$iothub/methods/res/200/?$rid=%s", rid), 1, false,
			fmt.Sprintf(`{"echo":%s,"topic":%q}`, orNull(m.Payload()), m.Topic()))
	})
	require.True(v.t, st.WaitTimeout(10*time.Second))
	require.NoError(v.t, st.Error())
	v.t.Cleanup(func() { c.Disconnect(0) })
	return c
}

func cutQuery(topic string) (string, string, bool) {
	for i := 0; i < len(topic); i++ {
		if topic[i] == '?' {
			return topic[:i], topic[i+1:], true
		}
	}
	return topic, "", false
}

func orNull(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}
