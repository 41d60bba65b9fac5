package serviceapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
)

type hubErrBody struct {
	Message string `json:"Message"`
}

func TestServiceAuthorization(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	_, err := v.e.CreateDevice(hub.DeviceSpec{ID: "d1", Auth: hub.AuthSAS})
	require.NoError(t, err)
	hour := time.Now().Add(time.Hour)
	owner := v.hubPolicy("iothubowner")
	wrongKey := owner
	wrongKey.PrimaryKey = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tests := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		want   int
	}{
		{"owner reads", policyToken(testHubHost, owner, hour), "GET", "/devices?api-version=" + HubAPIVersion, nil, 200},
		{"registryRead reads", policyToken(testHubHost, v.hubPolicy("registryRead"), hour), "GET", "/devices/d1", nil, 200},
		{"registryRead cannot write", policyToken(testHubHost, v.hubPolicy("registryRead"), hour), "PUT", "/devices/d2", map[string]any{}, 401},
		{"registryReadWrite writes", policyToken(testHubHost, v.hubPolicy("registryReadWrite"), hour), "PUT", "/devices/d2", map[string]any{}, 200},
		{"service reads twins", policyToken(testHubHost, v.hubPolicy("service"), hour), "GET", "/twins/d1", nil, 200},
		{"service cannot read the registry", policyToken(testHubHost, v.hubPolicy("service"), hour), "GET", "/devices/d1", nil, 401},
		{"device policy is no service policy", policyToken(testHubHost, v.hubPolicy("device"), hour), "GET", "/twins/d1", nil, 401},
		{"wrong key", policyToken(testHubHost, wrongKey, hour), "GET", "/devices", nil, 401},
		{"expired", policyToken(testHubHost, owner, time.Now().Add(-time.Hour)), "GET", "/devices", nil, 401},
		{"other hub", policyToken("other.azure-devices.net", owner, hour), "GET", "/devices", nil, 401},
		{"no token", "", "GET", "/devices", nil, 401},
		{"device token", "SharedAccessSignature sr=x&sig=y&se=1", "GET", "/devices", nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw json.RawMessage
			got := v.call(t, testHubHost, tt.token, tt.method, tt.path, tt.body, &raw)
			assert.Equal(t, tt.want, got, "%s", raw)
			if tt.want == 401 {
				var eb hubErrBody
				require.NoError(t, json.Unmarshal(raw, &eb))
				assert.True(t, strings.HasPrefix(eb.Message, "ErrorCode:IotHubUnauthorizedAccess;"), eb.Message)
			}
		})
	}
	var found bool
	for _, r := range v.e.Reasons() {
		if r.Check == CheckServiceAuth && r.Values["skn"] == "registryRead" && r.Values["requiredRights"] == "RegistryWrite" {
			found = true
		}
	}
	assert.True(t, found, "a refused call is recorded with its reason")
}

func TestRegistryAndTwinRoutes(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	tok := policyToken(testHubHost, v.hubPolicy("iothubowner"), time.Now().Add(time.Hour))
	var d deviceJSON
	require.Equal(t, 200, v.call(t, testHubHost, tok, "PUT", "/devices/dev1?api-version="+HubAPIVersion,
		map[string]any{"deviceId": "dev1", "authentication": map[string]any{"type": "sas", "symmetricKey": map[string]any{"primaryKey": "", "secondaryKey": ""}}}, &d))
	assert.Equal(t, "sas", d.Authentication.Type)
	require.NotNil(t, d.Authentication.SymmetricKey.PrimaryKey, "keys generated when empty")
	assert.Equal(t, "enabled", d.Status)
	assert.Equal(t, "Disconnected", d.ConnectionState)

	var eb hubErrBody
	assert.Equal(t, 409, v.call(t, testHubHost, tok, "PUT", "/devices/dev1", map[string]any{"deviceId": "dev1"}, &eb))
	assert.Contains(t, eb.Message, "ErrorCode:DeviceAlreadyExists;")
	assert.Equal(t, 400, v.call(t, testHubHost, tok, "PUT", "/devices/dev9", map[string]any{"deviceId": "other"}, &eb))
	assert.Equal(t, 400, v.call(t, testHubHost, tok, "PUT", "/devices/dev9", map[string]any{"authentication": map[string]any{"type": "none"}}, &eb))

	thumb := strings.Repeat("AB", 32)
	require.Equal(t, 200, v.call(t, testHubHost, tok, "PUT", "/devices/x1", map[string]any{
		"authentication": map[string]any{"type": "selfSigned", "x509Thumbprint": map[string]any{"primaryThumbprint": thumb}}}, &d))
	assert.Equal(t, thumb, *d.Authentication.X509Thumbprint.PrimaryThumbprint)
	require.Equal(t, 200, v.call(t, testHubHost, tok, "PUT", "/devices/x1", map[string]any{"status": "disabled",
		"authentication": map[string]any{"type": "selfSigned", "x509Thumbprint": map[string]any{"primaryThumbprint": thumb}}}, &d, "If-Match", `"*"`))
	assert.Equal(t, "disabled", d.Status)
	assert.Equal(t, 412, v.call(t, testHubHost, tok, "PUT", "/devices/x1", map[string]any{}, &eb, "If-Match", `"stale"`))
	assert.Contains(t, eb.Message, "ErrorCode:PreconditionFailed;")

	var list []deviceJSON
	require.Equal(t, 200, v.call(t, testHubHost, tok, "GET", "/devices/", nil, &list))
	assert.Len(t, list, 2)

	// Twin: tags and desired in one patch, etag checked.
	var tw twinJSON
	require.Equal(t, 200, v.call(t, testHubHost, tok, "GET", "/twins/dev1", nil, &tw))
	assert.Equal(t, "AAAAAAAAAAI=", tw.ETag, "desired 1 + reported 1")
	assert.Equal(t, 412, v.call(t, testHubHost, tok, "PATCH", "/twins/dev1", map[string]any{"tags": map[string]any{"a": 1}}, &eb, "If-Match", `"AAAAAAAAAAE="`))
	require.Equal(t, 200, v.call(t, testHubHost, tok, "PATCH", "/twins/dev1",
		map[string]any{"tags": map[string]any{"site": "lab"}, "properties": map[string]any{"desired": map[string]any{"interval": 30}}}, &tw, "If-Match", `"`+tw.ETag+`"`))
	assert.Equal(t, "lab", tw.Tags["site"])
	assert.EqualValues(t, 30, tw.Properties.Desired["interval"])
	assert.EqualValues(t, 2, tw.Properties.Desired["$version"])
	twin, err := v.e.Twin("dev1")
	require.NoError(t, err)
	assert.Equal(t, "lab", twin.Tags["site"])
	assert.Equal(t, 400, v.call(t, testHubHost, tok, "PATCH", "/twins/dev1", map[string]any{"properties": map[string]any{"reported": map[string]any{"x": 1}}}, &eb))

	// Direct method: offline, then online.
	assert.Equal(t, 404, v.call(t, testHubHost, tok, "POST", "/twins/dev1/methods", map[string]any{"methodName": "reboot", "responseTimeoutInSeconds": 5}, &eb))
	assert.Contains(t, eb.Message, "ErrorCode:DeviceNotOnline;")
	v.methodDevice("dev1")
	var mr struct {
		Status  int `json:"status"`
		Payload struct {
			Echo  map[string]any `json:"echo"`
			Topic string         `json:"topic"`
		} `json:"payload"`
	}
	require.Equal(t, 200, v.call(t, testHubHost, tok, "POST", "/twins/dev1/methods",
		map[string]any{"methodName": "reboot", "payload": map[string]any{"delay": 5}, "responseTimeoutInSeconds": 10}, &mr))
	assert.Equal(t, 200, mr.Status)
	assert.EqualValues(t, 5, mr.Payload.Echo["delay"])
	assert.True(t, strings.HasPrefix(mr.Payload.Topic, "$iothub/methods/POST/reboot/"), mr.Payload.Topic)

	assert.Equal(t, 204, v.call(t, testHubHost, tok, "DELETE", "/devices/x1", nil, nil, "If-Match", `"*"`))
	assert.Equal(t, 404, v.call(t, testHubHost, tok, "GET", "/devices/x1", nil, &eb))
	assert.Contains(t, eb.Message, "ErrorCode:DeviceNotFound;")
	assert.Equal(t, 404, v.call(t, testHubHost, tok, "GET", "/jobs", nil, &eb))
}

func TestDPSRoutes(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	host := v.api.DPSHostName()
	tok := policyToken(host, v.dpsPolicy(), time.Now().Add(time.Hour))
	var g groupJSON
	require.Equal(t, 200, v.call(t, host, tok, "PUT", "/enrollmentGroups/g1?api-version="+DPSAPIVersion,
		map[string]any{"enrollmentGroupId": "g1", "attestation": map[string]any{"type": "symmetricKey"}}, &g))
	require.NotNil(t, g.Attestation.SymmetricKey)
	assert.NotEmpty(t, g.Attestation.SymmetricKey.PrimaryKey, "keys generated")
	assert.Equal(t, "enabled", g.ProvisioningStatus)

	ca, err := pki.NewCA(nil, "Group CA", nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, 200, v.call(t, host, tok, "PUT", "/enrollmentGroups/g2", map[string]any{"enrollmentGroupId": "g2",
		"attestation": map[string]any{"type": "x509", "x509": map[string]any{"signingCertificates": map[string]any{"primary": map[string]any{"certificate": string(ca.CertPEM())}}}}}, &g))
	require.NotNil(t, g.Attestation.X509.SigningCertificates.Primary.Info)
	assert.Equal(t, "CN=Group CA", g.Attestation.X509.SigningCertificates.Primary.Info.SubjectName)
	var grp dps.GroupEnrollment
	for _, x := range v.e.DPS().ListGroupEnrollments() {
		if x.GroupID == "g2" {
			grp = x
		}
	}
	assert.Equal(t, signingCAName("g2"), grp.CAName)
	for _, c := range v.e.DPS().ListCAs() {
		if c.Name == grp.CAName {
			assert.True(t, c.Verified, "inline signing certificates need no proof of possession")
		}
	}
	assert.Equal(t, 412, v.call(t, host, tok, "PUT", "/enrollmentGroups/g2", map[string]any{"etag": `"old"`,
		"attestation": map[string]any{"type": "symmetricKey"}}, nil))

	var ind individualJSON
	require.Equal(t, 200, v.call(t, host, tok, "PUT", "/enrollments/reg1", map[string]any{"registrationId": "reg1", "deviceId": "dev-of-reg1",
		"attestation": map[string]any{"type": "symmetricKey"}, "provisioningStatus": "disabled"}, &ind))
	assert.Equal(t, "dev-of-reg1", ind.DeviceID)
	assert.Equal(t, "disabled", ind.ProvisioningStatus)
	assert.Equal(t, 400, v.call(t, host, tok, "PUT", "/enrollments/reg2", map[string]any{"attestation": map[string]any{"type": "tpm"}}, nil))

	var list []groupJSON
	require.Equal(t, 200, v.call(t, host, tok, "POST", "/enrollmentGroups/query", map[string]any{"query": "*"}, &list))
	assert.Len(t, list, 2)
	require.Equal(t, 200, v.call(t, host, tok, "GET", "/enrollmentgroups/g1", nil, &g))
	assert.Equal(t, 204, v.call(t, host, tok, "DELETE", "/enrollmentGroups/g1", nil, nil, "If-Match", g.ETag))
	var eb struct {
		ErrorCode int `json:"errorCode"`
	}
	assert.Equal(t, 404, v.call(t, host, tok, "GET", "/enrollmentGroups/g1", nil, &eb))
	assert.Equal(t, dpsNotFound, eb.ErrorCode)
	assert.Equal(t, 404, v.call(t, host, tok, "GET", "/registrations/nobody", nil, nil))

	// The hub's owner policy is no DPS policy.
	hubTok := policyToken(host, v.hubPolicy("iothubowner"), time.Now().Add(time.Hour))
	assert.Equal(t, 401, v.call(t, host, hubTok, "GET", "/enrollments/reg1", nil, &eb))
	assert.Equal(t, dpsUnauthorized, eb.ErrorCode)
}

func TestConnectionStrings(t *testing.T) {
	t.Parallel()
	v := newEnv(t)
	all, err := v.api.ConnectionStrings("")
	require.NoError(t, err)
	byPolicy := map[string]ConnectionString{}
	for _, c := range all {
		byPolicy[c.Policy] = c
	}
	for _, name := range []string{"iothubowner", "registryReadWrite", "service", DPSOwnerPolicy} {
		c, ok := byPolicy[name]
		require.True(t, ok, name)
		p, err := ParseConnectionString(c.Value)
		require.NoError(t, err)
		assert.Equal(t, name, p.SharedAccessKeyName)
	}
	assert.Equal(t, "dps", byPolicy[DPSOwnerPolicy].Service)
	one, err := v.api.ConnectionStrings("registryReadWrite")
	require.NoError(t, err)
	require.Len(t, one, 1)
	assert.True(t, strings.HasPrefix(one[0].Value, "HostName="+testHubHost+";SharedAccessKeyName=registryReadWrite;SharedAccessKey="))
	_, err = v.api.ConnectionStrings("nope")
	assert.ErrorIs(t, err, hub.ErrNotFound)

	// The DPS policy keys persist.
	again, err := OpenPolicyStore(v.api.dpsPol.path)
	require.NoError(t, err)
	p, _ := again.Policy(DPSOwnerPolicy)
	assert.Equal(t, v.dpsPolicy().PrimaryKey, p.PrimaryKey)
}

func TestParseConnectionString(t *testing.T) {
	tests := []struct {
		in      string
		want    ConnectionStringParts
		wantErr bool
	}{
		{"HostName=h.azure-devices.net;SharedAccessKeyName=iothubowner;SharedAccessKey=abc=", ConnectionStringParts{"h.azure-devices.net", "iothubowner", "abc="}, false},
		{"SharedAccessKey=k==;HostName=h;SharedAccessKeyName=p;", ConnectionStringParts{"h", "p", "k=="}, false},
		{"HostName=h;SharedAccessKeyName=p", ConnectionStringParts{}, true},
		{"HostName=h;HostName=i;SharedAccessKeyName=p;SharedAccessKey=k", ConnectionStringParts{}, true},
		{"garbage", ConnectionStringParts{}, true},
		{"", ConnectionStringParts{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseConnectionString(tt.in)
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			assert.Equal(t, got, mustParse(t, FormatConnectionString(got.HostName, got.SharedAccessKeyName, got.SharedAccessKey)))
		})
	}
}

func mustParse(t *testing.T, s string) ConnectionStringParts {
	t.Helper()
	p, err := ParseConnectionString(s)
	require.NoError(t, err)
	return p
}

func TestDecodeMethodCallBounds(t *testing.T) {
	tests := []struct {
		body    string
		wantErr bool
		timeout int
	}{
		{`{"methodName":"m"}`, false, defaultMethodTimeout},
		{`{"methodName":"m","responseTimeoutInSeconds":300}`, false, 300},
		{`{"methodName":"m","responseTimeoutInSeconds":4}`, true, 0},
		{`{"methodName":"m","responseTimeoutInSeconds":301}`, true, 0},
		{`{"methodName":"m","connectTimeoutInSeconds":-1}`, true, 0},
		{`{"payload":1}`, true, 0},
		{`{"methodName":"m"} {}`, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			m, err := DecodeMethodCall([]byte(tt.body))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.timeout, m.ResponseTimeoutInSeconds)
		})
	}
}

func TestJSONOrString(t *testing.T) {
	assert.JSONEq(t, `{"a":1}`, string(jsonOrString([]byte(`{"a":1}`))))
	assert.Equal(t, `"plain text"`, string(jsonOrString([]byte("plain text"))))
	assert.Equal(t, "null", string(jsonOrString(nil)))
	var s string
	require.NoError(t, json.Unmarshal(jsonOrString([]byte("x\"y")), &s))
	assert.Equal(t, "x\"y", s)
	_ = http.StatusOK
}
