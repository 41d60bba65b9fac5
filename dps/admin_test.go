package dps_test

import (
	"crypto/rand"
	"crypto/tls"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
)

func TestVerifyCA(t *testing.T) {
	w := newWorld(t)
	tests := []struct {
		name    string
		code    bool // generate a verification code first
		proof   func(code string) []byte
		wantErr string
	}{
		{name: "proof of possession", code: true, proof: func(code string) []byte {
			c, err := pki.NewVerificationCert(rand.Reader, code, w.root, time.Now())
			require.NoError(t, err)
			return pki.EncodeCertsPEM(c)
		}},
		{name: "no code generated", code: false, proof: func(string) []byte {
			c, err := pki.NewVerificationCert(rand.Reader, "ABC", w.root, time.Now())
			require.NoError(t, err)
			return pki.EncodeCertsPEM(c)
		}, wantErr: "no verification code"},
		{name: "CN is not the code", code: true, proof: func(string) []byte {
			c, err := pki.NewVerificationCert(rand.Reader, "0123", w.root, time.Now())
			require.NoError(t, err)
			return pki.EncodeCertsPEM(c)
		}, wantErr: "≠ verification code"},
		{name: "signed by another key", code: true, proof: func(code string) []byte {
			c, err := pki.NewVerificationCert(rand.Reader, code, w.otherRoot, time.Now())
			require.NoError(t, err)
			return pki.EncodeCertsPEM(c)
		}, wantErr: "not signed by the CA key"},
		{name: "proof expired", code: true, proof: func(code string) []byte {
			c, err := pki.NewVerificationCert(rand.Reader, code, w.root, time.Now().Add(-5*365*24*time.Hour))
			require.NoError(t, err)
			return pki.EncodeCertsPEM(c)
		}, wantErr: "simulation time"},
		{name: "not PEM", code: true, proof: func(string) []byte { return []byte("hello") }, wantErr: "no PEM"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc, err := dps.New(t.TempDir(), &fakeAssigner{})
			require.NoError(t, err)
			t.Cleanup(func() { svc.Close() })
			_, err = svc.UploadCA("root", w.root.CertPEM(), false)
			require.NoError(t, err)
			var code string
			if tc.code {
				code, err = svc.VerificationCode("root")
				require.NoError(t, err)
				assert.Len(t, code, 48)
			}
			got, err := svc.VerifyCA("root", tc.proof(code))
			if tc.wantErr != "" {
				require.ErrorIs(t, err, dps.ErrVerification)
				assert.Contains(t, err.Error(), tc.wantErr)
				assert.False(t, svc.ListCAs()[0].Verified)
				return
			}
			require.NoError(t, err)
			assert.True(t, got.Verified)
			assert.True(t, svc.ListCAs()[0].Verified)
		})
	}
}

func TestAdminValidation(t *testing.T) {
	w := newWorld(t)
	svc, err := dps.New(t.TempDir(), &fakeAssigner{})
	require.NoError(t, err)
	t.Cleanup(func() { svc.Close() })
	leaf := w.leaf(t, "dev1", w.root)

	_, err = svc.UploadCA("leaf", leaf.CertPEM(), true)
	assert.ErrorIs(t, err, dps.ErrInvalid, "a leaf is not a CA")
	_, err = svc.UploadCA("root", w.root.CertPEM(), true)
	require.NoError(t, err)
	_, err = svc.UploadCA("root", w.root.CertPEM(), true)
	assert.ErrorIs(t, err, dps.ErrExists)
	_, err = svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationX509, CAName: "nope"})
	assert.ErrorIs(t, err, dps.ErrNotFound)
	_, err = svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: key(0, 8)})
	assert.ErrorIs(t, err, dps.ErrInvalid, "8-byte key")
	_, err = svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: "tpm"})
	assert.ErrorIs(t, err, dps.ErrInvalid)
	_, err = svc.CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "other", Attestation: dps.AttestationX509, CertificatePEM: string(leaf.CertPEM())})
	assert.ErrorIs(t, err, dps.ErrInvalid, "CN ≠ registration ID")
	_, err = svc.CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "dev1", Attestation: dps.AttestationX509, ThumbprintsSHA256: []string{"zz"}})
	assert.ErrorIs(t, err, dps.ErrInvalid)
	got, err := svc.CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "dev1", Attestation: dps.AttestationX509,
		ThumbprintsSHA256: []string{colonLower(pki.ThumbprintSHA256(leaf.Cert))}})
	require.NoError(t, err)
	assert.Equal(t, []string{strings.ToUpper(pki.ThumbprintSHA256(leaf.Cert))}, got.ThumbprintsSHA256)
	assert.ErrorIs(t, svc.SetEnabled(dps.Group, "missing", true), dps.ErrNotFound)
	assert.ErrorIs(t, svc.DeleteIndividualEnrollment("missing"), dps.ErrNotFound)
	assert.ErrorIs(t, svc.DeleteGroupEnrollment("missing"), dps.ErrNotFound)
	assert.ErrorIs(t, svc.DeleteCA("missing"), dps.ErrNotFound)
	_, err = svc.VerificationCode("missing")
	assert.ErrorIs(t, err, dps.ErrNotFound)
	require.NoError(t, svc.DeleteIndividualEnrollment("DEV1"), "registration IDs are case-insensitive")
	assert.Empty(t, svc.ListIndividualEnrollments())
}

func TestPersistence(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	svc, err := dps.New(dir, &fakeAssigner{})
	require.NoError(t, err)
	verifyCA(t, svc, "root", w.root)
	_, err = svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "x", Attestation: dps.AttestationX509, CAName: "root", Enabled: true})
	require.NoError(t, err)
	_, err = svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "s", Attestation: dps.AttestationSymmetricKey, PrimaryKey: key(0, 32), SecondaryKey: key(1, 64)})
	require.NoError(t, err)
	_, err = svc.CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "Dev1", Attestation: dps.AttestationSymmetricKey, PrimaryKey: key(3, 16), Enabled: true})
	require.NoError(t, err)
	require.NoError(t, svc.Close())

	again, err := dps.New(dir, &fakeAssigner{})
	require.NoError(t, err)
	t.Cleanup(func() { again.Close() })
	assert.Equal(t, svc.ListCAs(), again.ListCAs())
	assert.Equal(t, svc.ListGroupEnrollments(), again.ListGroupEnrollments())
	assert.Equal(t, svc.ListIndividualEnrollments(), again.ListIndividualEnrollments())
	assert.True(t, again.ListCAs()[0].Verified)
	assert.Equal(t, key(1, 64), again.ListGroupEnrollments()[0].SecondaryKey)
}

// An MQTT 5 CONNECT gets a 3.1.1 CONNACK 1 (paho cannot speak 5, so raw bytes).
func TestMQTT5Refused(t *testing.T) {
	e := newEnv(t)
	_, pool := serverFixtures(t)
	conn, err := tls.Dial("tcp", e.addr, &tls.Config{RootCAs: pool, ServerName: dpsHost})
	require.NoError(t, err)
	defer conn.Close()
	// CONNECT, protocol "MQTT" level 5, clean start, keepalive 60, no properties, client id "a".
	connect := []byte{0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 'a'}
	_, err = conn.Write(connect)
	require.NoError(t, err)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(waitFor)))
	got, err := io.ReadAll(conn)
	require.NoError(t, err)
	assert.Equal(t, []byte{0x20, 0x02, 0x00, 0x01}, got, "3.1.1 CONNACK 'unacceptable protocol version', then close")
	assert.Equal(t, []string{dps.CheckProtocolVersion}, e.reasons.checks())
}

// colonLower writes a thumbprint as "ab:cd:…", a form admins paste.
func colonLower(h string) string {
	var parts []string
	for i := 0; i+1 < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.ToLower(strings.Join(parts, ":"))
}
