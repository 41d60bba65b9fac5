package serviceapi

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
)

// nodeDir holds the Node test driver and the pinned SDK versions
// (package.json, package-lock.json); node_modules is installed by `npm ci`.
const nodeDir = "testdata/node"

// nodeSDK makes sure node and the pinned service SDKs are there, or skips.
func nodeSDK(t *testing.T) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node not installed (Debian: apt-get install nodejs npm): the official Azure service SDK tests need it")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "azure-iothub")); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			t.Skip("npm not installed: cannot install azure-iothub / azure-iot-provisioning-service")
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
		cmd.Dir = nodeDir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("npm ci in %s failed (no registry access?): %v\n%s", nodeDir, err, out)
		}
	}
	return node
}

// runNode runs one step of service.js and decodes its JSON line.
func runNode(t *testing.T, node string, env []string, out any, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--require", "./redirect.js", "service.js"}, args...)...)
	cmd.Dir = nodeDir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "node %v: %s", args, stderr.String())
	require.NoError(t, json.Unmarshal(stdout.Bytes(), out), "node %v printed %q", args, stdout.String())
}

// TestNodeServiceSDK is issue 12's acceptance: the official Node service
// SDKs, unchanged, create a device, update its twin's desired properties
// (and tags), invoke a method on a connected device and create enrollment
// groups against the emulator, over HTTPS with the hub's and DPS's host
// names verified through NODE_EXTRA_CA_CERTS=roots.pem.
func TestNodeServiceSDK(t *testing.T) {
	t.Parallel()
	node := nodeSDK(t)
	v := newEnv(t)
	hubCS, err := v.api.ConnectionStrings("iothubowner")
	require.NoError(t, err)
	dpsCS, err := v.api.ConnectionStrings(DPSOwnerPolicy)
	require.NoError(t, err)
	redirect, err := json.Marshal(map[string]string{
		testHubHost + ":443":         v.e.WebSocketAddr(),
		v.api.DPSHostName() + ":443": v.e.WebSocketAddr(),
	})
	require.NoError(t, err)
	env := []string{
		"NODE_EXTRA_CA_CERTS=" + v.rootsPEM(),
		"MODEMSIM_REDIRECT=" + string(redirect),
		"HUB_CONNECTION_STRING=" + hubCS[0].Value,
		"DPS_CONNECTION_STRING=" + dpsCS[0].Value,
	}

	var reg struct {
		Created struct {
			DeviceID, Type, PrimaryKey string
		}
		X509 struct {
			Type, Thumb string
		}
		Got            string
		List           []string
		DisabledStatus string
		TwinEtag       string
		PatchedEtag    string
		Desired        map[string]any
		Tags           map[string]any
	}
	runNode(t, node, env, &reg, "registry", "node-dev1")
	assert.Equal(t, "node-dev1", reg.Created.DeviceID)
	assert.Equal(t, "sas", reg.Created.Type)
	d, err := v.e.Device("node-dev1")
	require.NoError(t, err)
	assert.Equal(t, d.PrimaryKey, reg.Created.PrimaryKey, "the hub generated the keys the SDK sees")
	assert.Equal(t, "selfSigned", reg.X509.Type)
	assert.ElementsMatch(t, []string{"node-dev1", "node-dev1-x509"}, reg.List)
	assert.Equal(t, "disabled", reg.DisabledStatus)
	assert.NotEqual(t, reg.TwinEtag, reg.PatchedEtag)
	assert.EqualValues(t, 30, reg.Desired["interval"])
	assert.Equal(t, "lab", reg.Tags["site"])
	twin, err := v.e.Twin("node-dev1")
	require.NoError(t, err)
	assert.Equal(t, "30", twin.Desired["interval"].(json.Number).String())
	_, err = v.e.Device("node-dev1-x509")
	assert.Error(t, err, "deleted by the SDK")

	v.methodDevice("node-dev1")
	var m struct {
		Status  int
		Payload struct {
			Echo map[string]any `json:"echo"`
		}
	}
	runNode(t, node, env, &m, "method", "node-dev1")
	assert.Equal(t, 200, m.Status)
	assert.EqualValues(t, 5, m.Payload.Echo["delay"])

	ca, err := pki.NewCA(nil, "Node Group CA", nil, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
	require.NoError(t, err)
	var g struct {
		Sym struct {
			ID, Type, PrimaryKey string
		}
		X509 struct {
			ID, Subject string
		}
		Individual struct {
			ID, DeviceID string
		}
		GotEtag string
	}
	runNode(t, node, env, &g, "dps", "node-group", string(ca.CertPEM()))
	assert.Equal(t, "node-group", g.Sym.ID)
	assert.Equal(t, "symmetricKey", g.Sym.Type)
	assert.NotEmpty(t, g.Sym.PrimaryKey)
	assert.Equal(t, "CN=Node Group CA", g.X509.Subject)
	assert.Equal(t, "node-group-device", g.Individual.DeviceID)
	assert.NotEmpty(t, g.GotEtag)
	groups := map[string]dps.GroupEnrollment{}
	for _, x := range v.e.DPS().ListGroupEnrollments() {
		groups[x.GroupID] = x
	}
	require.Contains(t, groups, "node-group")
	require.Contains(t, groups, "node-group-x509")
	assert.Equal(t, dps.AttestationX509, groups["node-group-x509"].Attestation)

	// A wrong key: the SDK reports UnauthorizedError, the emulator why.
	bad := FormatConnectionString(testHubHost, "iothubowner", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	var u struct{ Error, Message string }
	runNode(t, node, append(env, "HUB_CONNECTION_STRING="+bad), &u, "unauthorized")
	assert.Equal(t, "UnauthorizedError", u.Error)
	assert.Contains(t, u.Message, "signature matches neither key")
}
