package azuresample_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/kconfig"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/azuresample"
)

// fakeRadio is an access point with one network.
type fakeRadio struct{ ssid, pass string }

func (r fakeRadio) Associate(ssid, pass string, _ int) azuresample.Association {
	switch {
	case ssid != r.ssid:
		return azuresample.AssociationNotFound
	case pass != r.pass:
		return azuresample.AssociationWrongKey
	}
	return azuresample.Associated
}

func (fakeRadio) Address() string { return "10.0.0.7" }

// linkLog collects what a link logs and reports.
type linkLog struct {
	mu    sync.Mutex
	lines []string
	up    bool
}

func (l *linkLog) events() azuresample.LinkEvents {
	return azuresample.LinkEvents{
		Up:   func() { l.mu.Lock(); l.up = true; l.mu.Unlock() },
		Down: func() {},
		Log: func(m azuresample.Msg, args ...any) {
			l.mu.Lock()
			l.lines = append(l.lines, azuresample.StripTimestamp(azuresample.FormatLine(0, m, fmtArgs(m.Format, args...))))
			l.mu.Unlock()
		},
	}
}

func (l *linkLog) has(line string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, x := range l.lines {
		if x == line {
			return true
		}
	}
	return false
}

func TestWiFiLink(t *testing.T) {
	radio := fakeRadio{ssid: "ap", pass: "secret"}
	tests := []struct {
		name   string
		params azuresample.LinkParams
		want   string
		up     bool
	}{
		{"associates and leases", azuresample.LinkParams{WiFiStatic: true, WiFi: azuresample.WiFiCredentials{SSID: "ap", Password: "secret", Security: 1}},
			"<inf> net_dhcpv4: Received: 10.0.0.7", true},
		{"wrong key", azuresample.LinkParams{WiFiStatic: true, WiFi: azuresample.WiFiCredentials{SSID: "ap", Password: "nope", Security: 1}},
			`<inf> wpa_supp: wlan0: CTRL-EVENT-SSID-TEMP-DISABLED id=0 ssid="ap" auth_failures=1 duration=10 reason=WRONG_KEY`, false},
		{"no such network", azuresample.LinkParams{WiFiStatic: true, WiFi: azuresample.WiFiCredentials{SSID: "other", Password: "secret", Security: 1}},
			"<inf> wpa_supp: wlan0: CTRL-EVENT-NETWORK-NOT-FOUND", false},
		{"no stored credentials", azuresample.LinkParams{WiFiStatic: true},
			"<err> wifi_mgmt_ext: No stored credentials found", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.params.AssociationTime = time.Millisecond
			l := &linkLog{}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			require.NoError(t, (&azuresample.WiFiLink{Radio: radio}).Connect(ctx, tc.params, l.events()))
			assert.True(t, l.has("<inf> wifi_mgmt_ext: Connection requested"))
			require.Eventually(t, func() bool { return l.has(tc.want) }, 5*time.Second, time.Millisecond, "%q", l.lines)
			l.mu.Lock()
			defer l.mu.Unlock()
			assert.Equal(t, tc.up, l.up)
		})
	}
}

// The nRF7002 DK's options as the sample's Kconfig reads them.
func TestNRF7002DKKconfig(t *testing.T) {
	tests := []struct {
		name  string
		conf  string
		check func(t *testing.T, c azuresample.Config)
	}{
		{"Wi-Fi credentials and the PSK default", `CONFIG_WIFI_CREDENTIALS_STATIC=y
CONFIG_WIFI_CREDENTIALS_STATIC_SSID="ap"
CONFIG_WIFI_CREDENTIALS_STATIC_PASSWORD="pw"`, func(t *testing.T, c azuresample.Config) {
			assert.True(t, c.WiFiStatic)
			assert.Equal(t, azuresample.WiFiCredentials{SSID: "ap", Password: "pw", Security: 1}, c.WiFi)
		}},
		{"WPA3", `CONFIG_WIFI_CREDENTIALS_STATIC_TYPE_SAE=y`, func(t *testing.T, c azuresample.Config) {
			assert.Equal(t, 3, c.WiFi.Security)
		}},
		{"mqtt-certs.h defaults", `CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y`, func(t *testing.T, c azuresample.Config) {
			assert.True(t, c.ProvisionCertificates)
			assert.Equal(t, "mqtt-certs.h", c.CertificatesFile)
			assert.Equal(t, "prj.conf", c.CertificatesFileFrom)
			assert.False(t, c.ProtectedStorage, "Zephyr's default backend is volatile")
		}},
		{"mbedTLS knobs", `CONFIG_MBEDTLS_SSL_RENEGOTIATION=y
CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN=4096
CONFIG_MBEDTLS_DEBUG_LEVEL=3`, func(t *testing.T, c azuresample.Config) {
			assert.True(t, c.MbedTLSRenegotiation)
			assert.Equal(t, 4096, c.MbedTLSMaxContentLen)
			assert.Equal(t, 0, c.MbedTLSDebugLevel, "no debug lines without CONFIG_MBEDTLS_DEBUG")
		}},
		{"mbedTLS debug on", `CONFIG_MBEDTLS_DEBUG=y
CONFIG_MBEDTLS_DEBUG_LEVEL=3`, func(t *testing.T, c azuresample.Config) {
			assert.Equal(t, 3, c.MbedTLSDebugLevel)
		}},
		{"the network stack logs only with NET_LOG", ``, func(t *testing.T, c azuresample.Config) {
			assert.Equal(t, azuresample.LevelOff, c.Levels[azuresample.ModSockTLS])
			assert.Equal(t, azuresample.LevelInf, c.Levels[azuresample.ModWiFi])
		}},
		{"NET_LOG", `CONFIG_NET_LOG=y`, func(t *testing.T, c azuresample.Config) {
			assert.Equal(t, azuresample.LevelInf, c.Levels[azuresample.ModSockTLS])
			assert.Equal(t, azuresample.LevelInf, c.Levels[azuresample.ModDHCP])
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := kconfig.Parse("prj.conf", []byte("CONFIG_AZURE_IOT_HUB=y\nCONFIG_MQTT_HELPER_SEC_TAG=10\n"+tc.conf+"\n"))
			require.NoError(t, err)
			cfg, err := azuresample.FromKconfig(c)
			require.NoError(t, err)
			tc.check(t, cfg)
		})
	}
}

// nativeDeps is an nRF7002 DK without a hub: a protected store and a
// stack whose names lead nowhere (these tests fail before any TCP).
func nativeDeps(t *testing.T) (azuresample.Deps, *credstore.Store) {
	t.Helper()
	st, err := credstore.Open(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	r := netstack.NewEmulatorResolver(netstack.Endpoint{MQTT: "127.0.0.1:1", WebSocket: "127.0.0.1:1"})
	return azuresample.Deps{
		Link: &azuresample.WiFiLink{Radio: fakeRadio{ssid: "ap", pass: "pw"}},
		Native: &azuresample.NativeSockets{Store: st, Stack: func(src netstack.CredentialSource) *netstack.Stack {
			return netstack.New(r, src, netstack.WithSlotTypes(netstack.ZephyrSlotTypes()), netstack.WithMbedTLSCredentials())
		}},
		Board: azuresample.NRF7002DKConf,
	}, st
}

const nativeConf = `CONFIG_AZURE_IOT_HUB=y
CONFIG_AZURE_IOT_HUB_DEVICE_ID="dev"
CONFIG_AZURE_IOT_HUB_HOSTNAME="` + testHost + `"
CONFIG_MQTT_HELPER_SEC_TAG=10
`

// wifiOverlay sets the Wi-Fi credentials after the board fragment, whose
// empty ones would win over prj.conf's (the build merges it after prj.conf).
const wifiOverlay = `CONFIG_WIFI_CREDENTIALS_STATIC_SSID="ap"
CONFIG_WIFI_CREDENTIALS_STATIC_PASSWORD="pw"
`

const placeholderHeader = `static const unsigned char ca_certificate[] = { "" };
static const unsigned char private_key[] = { "" };
static const unsigned char device_certificate[] = { "" };
`

// W1 and W2 as the sample's native sockets report them, by backend and
// header: errno, and the net_sock_tls line with CONFIG_NET_LOG.
func TestNativeSocketsW1W2(t *testing.T) {
	labels, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "files", "ca-cert-ca-labels.pem"))
	require.NoError(t, err)
	forum, err := os.ReadFile(filepath.Join("..", "..", "scenarios", "files", "mqtt-certs.h"))
	require.NoError(t, err)
	tests := []struct {
		name   string
		extra  string
		files  map[string][]byte
		stored bool // protected storage holds a good CA at tag 10 from the shell
		want   []string
	}{
		{"W1 placeholder header, volatile backend", "CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\n",
			map[string][]byte{"mqtt-certs.h": []byte(placeholderHeader)}, true,
			[]string{"<err> mqtt_helper: mqtt_connect, error: -2"}},
		{"W2 made-up labels", "CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\nCONFIG_NET_LOG=y\n",
			map[string][]byte{"mqtt-certs.h": forum, "ca-cert.pem": labels}, false,
			[]string{"<err> net_sock_tls: Failed to parse CA certificate, err: -0x21e2", "<err> mqtt_helper: mqtt_connect, error: -22"}},
		{"NCS 2.7 folder layout: standard PEM files, NUL added", "CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\nCONFIG_MQTT_HELPER_CERTIFICATES_FOLDER=\"certs\"\nCONFIG_NET_LOG=y\n",
			map[string][]byte{"certs/ca-cert.pem": []byte("-----BEGIN CA CERTIFICATE-----\nAAAA\n-----END CA CERTIFICATE-----\n")}, false,
			[]string{"<err> net_sock_tls: Failed to parse CA certificate, err: -0x21e2", "<err> mqtt_helper: mqtt_connect, error: -22"}},
		{"NCS 2.7 folder layout, empty folder", "CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\nCONFIG_MQTT_HELPER_CERTIFICATES_FOLDER=\"certs\"\n",
			map[string][]byte{"certs/README": []byte("x")}, false,
			[]string{"<err> mqtt_helper: mqtt_connect, error: -2"}},
		{"protected storage: the shell's PEM without NUL is not PEM to mbedTLS", "CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE=y\n",
			nil, true, []string{"<err> mqtt_helper: mqtt_connect, error: -22"}},
		{"protected storage, the header's CA already there", "CONFIG_TLS_CREDENTIALS_BACKEND_PROTECTED_STORAGE=y\nCONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\nCONFIG_MQTT_HELPER_LOG_LEVEL_DBG=y\n",
			map[string][]byte{"mqtt-certs.h": forum, "ca-cert.pem": labels}, true,
			[]string{"<dbg> mqtt_helper: certificates_provision: CA certificate already exists, sec tag: 10"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, b := range tc.files {
				require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, n)), 0o755))
				require.NoError(t, os.WriteFile(filepath.Join(dir, n), b, 0o644))
			}
			prj := filepath.Join(dir, "prj.conf")
			require.NoError(t, os.WriteFile(prj, []byte(nativeConf+tc.extra), 0o644))
			deps, st := nativeDeps(t)
			if tc.stored {
				// What `cred add 10 CA DEFAULT bin` leaves: the PEM without NUL.
				require.NoError(t, st.Put(credstore.Key{Tag: 10, Type: 1}, realRoot(t, digicert)))
			}
			wifi := filepath.Join(dir, "wifi.conf")
			require.NoError(t, os.WriteFile(wifi, []byte(wifiOverlay), 0o644))
			ms := firmware.Duration{Duration: time.Millisecond}
			fw, err := azuresample.Flash(azuresample.Options{PrjConf: []string{prj, wifi},
				Settings: azuresample.Settings{WiFiAssociationTime: &ms}}, deps)
			require.NoError(t, err)
			con := &fakeConsole{}
			require.NoError(t, fw.Boot(con))
			t.Cleanup(func() { _ = fw.Close() })
			require.Eventually(t, func() bool {
				got := strings.Join(con.text(), "\n")
				for _, w := range tc.want {
					if !strings.Contains(got, w) {
						return false
					}
				}
				return true
			}, 10*time.Second, 5*time.Millisecond)
			t.Log(strings.Join(con.text(), "\n"))
		})
	}
}

// The build's refusals of mqtt-certs.h.
func TestCertificatesBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		header string
		want   string
	}{
		{"no header", "", "mqtt-certs.h: No such file or directory"},
		{"an array missing", `static const unsigned char ca_certificate[] = { "" };`, "'private_key' undeclared"},
		{"syntax", `static const unsigned char ca_certificate[] = { "`, "mqtt-certs.h"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.header != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "mqtt-certs.h"), []byte(tc.header+"\n"), 0o644))
			}
			prj := filepath.Join(dir, "prj.conf")
			require.NoError(t, os.WriteFile(prj, []byte(nativeConf+"CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES=y\n"), 0o644))
			deps, _ := nativeDeps(t)
			_, err := azuresample.Flash(azuresample.Options{PrjConf: []string{prj}}, deps)
			var be *azuresample.BuildError
			require.ErrorAs(t, err, &be)
			assert.Contains(t, be.Error(), tc.want)
		})
	}
}

func fmtArgs(format string, args ...any) string { return fmt.Sprintf(format, args...) }
