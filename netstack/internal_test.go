package netstack

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
)

// mapSource is a CredentialSource over a map (the store's own tests cover
// persistence; here only what the stack reads matters).
type mapSource map[credstore.Key][]byte

func (m mapSource) Use(k credstore.Key) ([]byte, error) {
	b, ok := m[k]
	if !ok {
		return nil, credstore.ErrNotFound
	}
	return b, nil
}

// signerSource hands out a key only as a signer (a secure element).
type signerSource struct {
	mapSource
	s crypto.Signer
}

func (s signerSource) Signer(k credstore.Key) (crypto.Signer, error) {
	if k.Type != ModemSlotTypes().Key || s.s == nil {
		return nil, credstore.ErrNotFound
	}
	return s.s, nil
}

func TestStoredKeyIsUsedOnlyThroughASigner(t *testing.T) {
	k, err := modemkey.GenerateKey(rand.Reader)
	require.NoError(t, err)
	pemKey, err := modemkey.MarshalPrivateKeyPEM(k)
	require.NoError(t, err)
	m, err := loadTag(mapSource{{Tag: 1, Type: 2}: pemKey}, ModemSlotTypes(), 1)
	require.NoError(t, err)
	require.NotNil(t, m.signer)
	_, isKey := m.signer.(*ecdsa.PrivateKey)
	assert.False(t, isKey, "the TLS library must not get the key itself")
	assert.NotContains(t, fmt.Sprintf("%v %+v", m.signer, m.signer), k.D.String())
	digest := sha256.Sum256([]byte("handshake"))
	sig, err := m.signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	require.NoError(t, err)
	assert.True(t, ecdsa.VerifyASN1(&k.PublicKey, digest[:], sig), "the signer signs with the stored key")

	// A SignerSource is asked for the key; the slot is not parsed.
	m, err = loadTag(signerSource{mapSource: mapSource{{Tag: 1, Type: 0}: []byte("x")}, s: k}, ModemSlotTypes(), 1)
	assert.ErrorIs(t, err, ErrBadCredential, "type 0 still parsed")
	m, err = loadTag(signerSource{mapSource: mapSource{}, s: k}, ModemSlotTypes(), 1)
	require.NoError(t, err)
	assert.Same(t, k, m.signer)
}

func TestLoadTagErrors(t *testing.T) {
	root, err := os.ReadFile("testdata/DigiCert_Global_Root_G2.pem")
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		slots mapSource
		want  error
		ncas  int
	}{
		{"empty tag", mapSource{}, ErrNoCredentials, 0},
		{"key only", mapSource{{Tag: 1, Type: 2}: []byte("not a key")}, ErrBadCredential, 0},
		{"made-up label", mapSource{{Tag: 1, Type: 0}: []byte("-----BEGIN CA CERTIFICATE-----\nAAAA\n-----END CA CERTIFICATE-----\n")}, ErrBadCredential, 0},
		{"two roots in one slot", mapSource{{Tag: 1, Type: 0}: append(append([]byte{}, root...), root...)}, nil, 2},
		{"CRLF PEM", mapSource{{Tag: 1, Type: 0}: crlf(root)}, nil, 1},
		{"other tag only", mapSource{{Tag: 2, Type: 0}: root}, ErrNoCredentials, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := loadTag(tc.slots, ModemSlotTypes(), 1)
			if tc.want != nil {
				assert.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			assert.Len(t, m.anchors, tc.ncas)
		})
	}
}

func crlf(b []byte) []byte {
	var out []byte
	for _, c := range b {
		if c == '\n' {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

func TestEmulatorResolverNames(t *testing.T) {
	ep := Endpoint{MQTT: "127.0.0.1:18883", WebSocket: "127.0.0.1:10443"}
	r := NewEmulatorResolver(ep, "broker.example.com", "*.lab.test")
	for _, tc := range []struct {
		host string
		port int
		want string
		eai  EAI
	}{
		{"myhub.azure-devices.net", 8883, ep.MQTT, 0},
		{"MyHub.Azure-Devices.NET.", 443, ep.WebSocket, 0},
		{"global.azure-devices-provisioning.net", 8883, ep.MQTT, 0},
		{"other.azure-devices-provisioning.net", 8883, "", EAINoName},
		{"azure-devices.net", 8883, "", EAINoName},
		{"broker.example.com", 443, ep.WebSocket, 0},
		{"a.b.lab.test", 8883, ep.MQTT, 0},
		{"lab.test", 8883, "", EAINoName},
		{"myhub.azure-devices.net", 1883, closedPort, 0},
		{"myhub.azure-devices.net", 0, "", EAIService},
		{"127.0.0.1", 5555, "127.0.0.1:5555", 0},
		{"::1", 8883, "[::1]:8883", 0},
	} {
		t.Run(fmt.Sprintf("%s:%d", tc.host, tc.port), func(t *testing.T) {
			got, err := r.Route(context.Background(), tc.host, tc.port)
			if tc.eai != 0 {
				code, ok := EAIOf(err)
				require.True(t, ok, "%v", err)
				assert.Equal(t, tc.eai, code)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	addrs, err := r.Lookup(context.Background(), "x.azure-devices.net")
	require.NoError(t, err)
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, addrs)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = r.Lookup(ctx, "x.azure-devices.net")
	assert.Equal(t, ClassCanceled, Classify(err))
}

func TestPeerVerifySockopt(t *testing.T) {
	for v, want := range map[int]PeerVerify{0: VerifyNone, 1: VerifyOptional, 2: VerifyRequired} {
		got, ok := PeerVerifyFromSockopt(v)
		require.True(t, ok)
		assert.Equal(t, want, got)
		assert.Equal(t, v, got.Sockopt())
	}
	_, ok := PeerVerifyFromSockopt(3)
	assert.False(t, ok)
	assert.Equal(t, VerifyRequired, PeerVerify(0), "the zero value verifies")
}

// FuzzParseCertificates: slot contents come from the host (AT%CMNG, cred
// shell, a file copied into the store) and must never crash the stack.
func FuzzParseCertificates(f *testing.F) {
	root, err := os.ReadFile("testdata/DigiCert_Global_Root_G2.pem")
	require.NoError(f, err)
	f.Add(root)
	f.Add(crlf(root))
	f.Add([]byte("-----BEGIN CA CERTIFICATE-----\nMIIB\n-----END CA CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		certs, err := parseCertificates(b)
		if err == nil {
			require.NotEmpty(t, certs)
			return
		}
		require.ErrorIs(t, err, ErrBadCredential)
	})
}

// FuzzEmulatorRoute: host names come from AT commands (#XMQTTCON url,
// #XCONNECT, #XGETADDRINFO).
func FuzzEmulatorRoute(f *testing.F) {
	r := NewEmulatorResolver(Endpoint{MQTT: "127.0.0.1:1", WebSocket: "127.0.0.1:2"})
	f.Add("myhub.azure-devices.net", 8883)
	f.Add("", 0)
	f.Add("*.azure-devices.net", 443)
	f.Fuzz(func(t *testing.T, host string, port int) {
		addr, err := r.Route(context.Background(), host, port)
		if err != nil {
			_, ok := EAIOf(err)
			require.True(t, ok)
			return
		}
		require.NotEmpty(t, addr)
	})
}
