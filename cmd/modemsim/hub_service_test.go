package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/serviceapi"
)

func TestHubConnectionStringAndAdminEnv(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, filepath.Join(dir, "state"), filepath.Join(dir, "pki"))
	ctx := t.Context()

	out, err := s.cli(t, ctx, "connection-string")
	require.NoError(t, err)
	for _, want := range []string{"SERVICE", "hub", "iothubowner", "registryReadWrite", "service", "dps", serviceapi.DPSOwnerPolicy,
		"HostName=" + hub.DefaultHostName + ";SharedAccessKeyName=iothubowner;SharedAccessKey=",
		"HostName=" + serviceapi.DefaultDPSServiceHostName + ";SharedAccessKeyName=" + serviceapi.DPSOwnerPolicy + ";"} {
		assert.Contains(t, out, want)
	}
	out, err = s.cli(t, ctx, "connection-string", "--policy", "registryReadWrite")
	require.NoError(t, err)
	p, err := serviceapi.ParseConnectionString(strings.TrimSpace(out))
	require.NoError(t, err, out)
	assert.Equal(t, "registryReadWrite", p.SharedAccessKeyName)
	_, err = s.cli(t, ctx, "connection-string", "--policy", "nope")
	assert.ErrorContains(t, err, "404")

	// MODEMSIM_ADMIN replaces --admin.
	t.Setenv(adminEnv, s.admin)
	var buf, errBuf bytes.Buffer
	require.NoError(t, run(ctx, []string{"hub", "connection-string", "--policy", "iothubowner"}, &buf, &errBuf), errBuf.String())
	assert.Contains(t, buf.String(), "SharedAccessKeyName=iothubowner")
}
