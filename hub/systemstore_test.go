package hub

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/pki"
)

// standInsPEM is roots.pem: every stand-in root.
func standInsPEM(t *testing.T, p *pki.PKI) []byte {
	t.Helper()
	var out []byte
	for _, n := range pki.RootNames() {
		a, err := p.Root(n)
		require.NoError(t, err)
		out = append(out, a.CertPEM()...)
	}
	return out
}

// Issue 12 fix 2: a client that trusts the system store plus roots.pem
// verifies the hub's and DPS's chains (Go here, OpenSSL below).
func TestSystemStorePlusRootsPEM(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pool, err := x509.SystemCertPool()
	if err != nil {
		t.Skipf("no system pool: %v", err)
	}
	require.True(t, pool.AppendCertsFromPEM(standInsPEM(t, h.e.PKI())))
	for _, sni := range []string{testHost, DefaultDPSHostName} {
		t.Run(sni, func(t *testing.T) {
			c, err := tls.Dial("tcp", h.e.MQTTAddr(), &tls.Config{RootCAs: pool, ServerName: sni, MinVersion: tls.VersionTLS12})
			require.NoError(t, err)
			defer c.Close()
			chains := c.ConnectionState().VerifiedChains
			require.NotEmpty(t, chains)
			root := chains[0][len(chains[0])-1]
			_, isReal := pki.LookupRealRoot(root)
			assert.False(t, isReal, "the chain must end in the stand-in")
		})
	}
}

func TestOpenSSLSystemBundlePlusRootsPEM(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	bundle, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Skipf("no system bundle: %v", err)
	}
	h := newHarness(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, append(append(bundle, '\n'), standInsPEM(t, h.e.PKI())...), 0o600))
	for _, sni := range []string{testHost, DefaultDPSHostName} {
		t.Run(sni, func(t *testing.T) {
			cmd := exec.Command(openssl, "s_client", "-connect", h.e.MQTTAddr(), "-servername", sni,
				"-CAfile", ca, "-verify_return_error", "-verify_hostname", sni, "-brief")
			cmd.Stdin = strings.NewReader("")
			out, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", out)
			assert.Contains(t, string(out), "Verification: OK")
		})
	}
}
