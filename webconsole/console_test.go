package webconsole

import (
	"crypto/tls"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

const testHost = "console-test.azure-devices.net"

var (
	pkiOnce sync.Once
	testP   *pki.PKI
	pkiErr  error
	pkiDir  string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "webconsole-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	e   *hub.Emulator
	srv *httptest.Server
}

func newEnv(t *testing.T) *env {
	t.Helper()
	pkiOnce.Do(func() { testP, pkiErr = pki.LoadOrCreate(pkiDir) })
	require.NoError(t, pkiErr)
	e, err := hub.New(t.TempDir(), hub.WithPKI(testP), hub.WithHostName(testHost),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr(""))
	require.NoError(t, err)
	require.NoError(t, e.Start(t.Context()))
	c, err := New(e, nil)
	require.NoError(t, err)
	srv := httptest.NewServer(hubadmin.NewHandler(e, hubadmin.WithUI(c)))
	t.Cleanup(func() { srv.Close(); _ = e.Close() })
	return &env{e: e, srv: srv}
}

func (v *env) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := v.srv.Client().Get(v.srv.URL + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// device connects id with a SAS token (or with pass when given).
func (v *env) device(t *testing.T, id, pass string) (paho.Client, error) {
	t.Helper()
	if pass == "" {
		d, err := v.e.Device(id)
		require.NoError(t, err)
		key, err := base64.StdEncoding.DecodeString(d.PrimaryKey)
		require.NoError(t, err)
		pass = sas.Sign(url.QueryEscape(testHost+"/devices/"+id), key, time.Now().Add(time.Hour), "")
	}
	roots, err := v.e.PKI().RootPool()
	require.NoError(t, err)
	o := paho.NewClientOptions().AddBroker("tls://" + v.e.MQTTAddr()).SetClientID(id).
		SetUsername(testHost + "/" + id + "/?api-version=2021-04-12").SetPassword(pass).
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: testHost}).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectTimeout(15 * time.Second)
	c := paho.NewClient(o)
	tok := c.Connect()
	require.True(t, tok.WaitTimeout(20*time.Second))
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Disconnect(0) })
	return c, nil
}

func TestPages(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	_, err := v.e.CreateDevice(hub.DeviceSpec{ID: "dev1", Auth: hub.AuthSAS})
	require.NoError(t, err)
	_, err = v.e.UpdateDesired("dev1", []byte(`{"interval":30}`))
	require.NoError(t, err)
	_, err = v.device(t, "<img src=x onerror=alert(1)>", "SharedAccessSignature sr=x&sig=y&se=1")
	require.Error(t, err)
	c, err := v.device(t, "dev1", "")
	require.NoError(t, err)
	_ = c
	// mochi may establish the session a moment after the CONNACK.
	require.Eventually(t, func() bool { return v.e.Connected("dev1") }, 10*time.Second, 10*time.Millisecond)

	code, body := v.get(t, "/ui/")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `<tr data-device="dev1" class="online">`)
	assert.Contains(t, body, "device-not-found")
	assert.NotContains(t, body, "<img src=x", "outside text is escaped")
	assert.Contains(t, body, "&lt;img src=x onerror=alert(1)&gt;")
	d, _ := v.e.Device("dev1")
	assert.NotContains(t, body, d.PrimaryKey, "keys are never shown")

	code, body = v.get(t, "/ui/devices/dev1")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "&#34;interval&#34;: 30")
	assert.Contains(t, body, "connected now")
	code, _ = v.get(t, "/ui/devices/nope")
	assert.Equal(t, http.StatusNotFound, code)

	for _, f := range []string{"devices", "attempts", "dps"} {
		code, body = v.get(t, "/ui/fragments/"+f)
		assert.Equal(t, http.StatusOK, code, f)
		assert.NotContains(t, body, "<html", f)
	}
	code, body = v.get(t, "/ui/assets/console.js")
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "EventSource")

	resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Get(v.srv.URL + "/")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode)
	assert.Equal(t, "/ui/", resp.Header.Get("Location"))
}
