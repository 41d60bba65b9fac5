package netstack_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/pki"
)

// noInternet is a resolver whose DNS server cannot be reached: these
// machines have no internet, and the test must not try.
func noInternet() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(context.Context, string, string) (net.Conn, error) {
		return nil, errors.New("no network in tests")
	}}
}

// The opt-in real-hub configuration: real DNS, the stored roots as they are
// (no mapping), Go's own verification against them with the hub's name.
func TestRealHubConfiguration(t *testing.T) {
	st, err := credstore.Open(t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Put(credstore.Key{Tag: primary, Type: 0}, realRoot(t, pki.DigiCertGlobalRootG2)))
	mapped := 0
	s := netstack.NewRealHub(noInternet(), st, netstack.WithRootMappingHook(func(netstack.RootMapping) { mapped++ }))

	const host = "contoso.azure-devices.net"
	c, err := s.NewClientTLS(host, netstack.TLSConfig{SecTags: []uint32{primary}, Renegotiation: tls.RenegotiateOnceAsClient})
	require.NoError(t, err)
	require.Len(t, c.Anchors, 1)
	assert.Equal(t, "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F", pki.ThumbprintSHA256(c.Anchors[0]),
		"the real root is used as it is")
	assert.Empty(t, c.Mappings)
	assert.Zero(t, mapped)
	assert.Equal(t, host, c.Config.ServerName)
	assert.False(t, c.Config.InsecureSkipVerify)
	assert.Nil(t, c.Config.VerifyConnection)
	assert.Equal(t, tls.RenegotiateOnceAsClient, c.Config.Renegotiation)
	assert.Equal(t, uint16(tls.VersionTLS12), c.Config.MaxVersion)

	// The name goes to DNS (here: unreachable), and fails as a resolver does.
	_, err = s.DialTLS(t.Context(), host, netstack.PortMQTT, netstack.TLSConfig{SecTags: []uint32{primary}})
	require.Error(t, err)
	code, ok := netstack.EAIOf(err)
	require.True(t, ok, "%v", err)
	assert.Contains(t, []netstack.EAI{netstack.EAIAgain, netstack.EAIFail}, code)
	assert.Equal(t, netstack.ClassNameTemporary, netstack.Classify(err))
}

// The emulated configuration maps the same stored root to the stand-in.
func TestEmulatedConfigurationMapsRealRoots(t *testing.T) {
	p := pkiAt(t, afterMigration)
	st, err := credstore.Open(t.TempDir())
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, st.Put(credstore.Key{Tag: primary, Type: 0}, realRoot(t, pki.DigiCertGlobalRootG2)))
	s := netstack.NewEmulated(netstack.Endpoint{MQTT: "127.0.0.1:1"}, p, st)
	c, err := s.NewClientTLS("contoso.azure-devices.net", netstack.TLSConfig{SecTags: []uint32{primary}})
	require.NoError(t, err)
	standIn, err := p.Root(pki.DigiCertGlobalRootG2)
	require.NoError(t, err)
	require.Len(t, c.Anchors, 1)
	assert.True(t, c.Anchors[0].Equal(standIn.Cert))
	require.Len(t, c.Mappings, 1)
	assert.Equal(t, pki.ThumbprintSHA256(standIn.Cert), c.Mappings[0].StandInSHA256)
}

// The real PEMs in testdata are the ones Debian ships (checked when the
// package is installed on the machine; skipped otherwise).
func TestTestdataRootsMatchDebian(t *testing.T) {
	for name, file := range map[pki.RootName]string{
		pki.DigiCertGlobalRootG2:    "DigiCert_Global_Root_G2.crt",
		pki.BaltimoreCyberTrustRoot: "Baltimore_CyberTrust_Root.crt",
	} {
		deb, err := os.ReadFile("/usr/share/ca-certificates/mozilla/" + file)
		if errors.Is(err, os.ErrNotExist) {
			t.Skip("Debian ca-certificates not installed")
		}
		require.NoError(t, err)
		want, err := pki.ParseCertsPEM(deb)
		require.NoError(t, err)
		got, err := pki.ParseCertsPEM(realRoot(t, name))
		require.NoError(t, err)
		assert.True(t, want[0].Equal(got[0]), "%s differs from Debian's", name)
		rn, ok := pki.LookupRealRoot(want[0])
		assert.True(t, ok)
		assert.Equal(t, name, rn)
	}
}
