package dps_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

func TestX509Individual(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t)
	leaf := w.leaf(t, "dev-ind", nil) // self-signed, thumbprint enrollment
	_, err := e.svc.CreateIndividualEnrollment(dps.IndividualEnrollment{
		RegistrationID: "dev-ind", Attestation: dps.AttestationX509, CertificatePEM: string(leaf.CertPEM()), Enabled: true})
	require.NoError(t, err)

	d, err := e.connect(t, creds{regID: "dev-ind", chain: []*pki.Authority{leaf}})
	require.NoError(t, err)
	topic, body := d.register(t, "dev-ind", "1")
	require.Equal(t, "$dps/registrations/res/200/?$rid=1", topic)
	var op opStatus
	require.NoError(t, json.Unmarshal(body, &op))
	assert.Equal(t, "assigned", op.Status)
	rs := op.RegistrationState
	assert.Equal(t, "dev-ind", rs.RegistrationID)
	assert.Equal(t, hubHost, rs.AssignedHub)
	assert.Equal(t, "dev-ind", rs.DeviceID)
	assert.Equal(t, "assigned", rs.Status)
	assert.Equal(t, "initialAssignment", rs.Substatus)
	assert.NotEmpty(t, rs.ETag)
	require.NotNil(t, rs.X509)
	require.NotNil(t, rs.X509.CertificateInfo)
	assert.Equal(t, pki.ThumbprintSHA256(leaf.Cert), strings.ToUpper(rs.X509.CertificateInfo.SHA256Thumbprint))
	assert.Empty(t, rs.X509.EnrollmentGroupID)

	calls := e.assigner.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "dev-ind", calls[0].DeviceID)
	assert.Nil(t, calls[0].SymmetricKey)
	assert.False(t, calls[0].X509CAChain)
	assert.True(t, strings.EqualFold(pki.ThumbprintSHA256(leaf.Cert), calls[0].X509ThumbprintSHA256))
	assert.Empty(t, e.reasons.all())

	regs := e.svc.Registrations()
	require.Len(t, regs, 1)
	assert.Equal(t, "assigned", regs[0].Status)
	assert.Equal(t, hubHost, regs[0].AssignedHub)
}

func TestX509IndividualWrongCertificate(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t)
	enrolled := w.leaf(t, "dev-ind", nil)
	presented := w.leaf(t, "dev-ind", nil) // same CN, another key
	_, err := e.svc.CreateIndividualEnrollment(dps.IndividualEnrollment{
		RegistrationID: "dev-ind", Attestation: dps.AttestationX509, CertificatePEM: string(enrolled.CertPEM()), Enabled: true})
	require.NoError(t, err)
	_, err = e.connect(t, creds{regID: "dev-ind", chain: []*pki.Authority{presented}})
	requireNotAuthorized(t, err)
	require.Equal(t, []string{dps.CheckX509Thumbprint}, e.reasons.checks())
	assert.Contains(t, e.reasons.all()[0].Detail, pki.ThumbprintSHA256(presented.Cert))
}

// X.509 group cases, the forum thread nrf91-dps-own-ca (D1, D2).
func TestX509Group(t *testing.T) {
	type setup struct {
		verify     bool // prove possession of the group's CA
		groupCA    func(w *world) *pki.Authority
		leafIssuer func(w *world) *pki.Authority
		cn         string
		presented  func(w *world) []*pki.Authority // after the leaf
		disabled   bool
	}
	rootCA := func(w *world) *pki.Authority { return w.root }
	interCA := func(w *world) *pki.Authority { return w.inter }
	none := func(w *world) []*pki.Authority { return nil }
	tests := []struct {
		name      string
		s         setup
		opts      []dps.Option
		wantCheck string // "" = assigned
		want401   bool
	}{
		{name: "D2 root verified, device+root chain (device_fullchain.pem)", s: setup{verify: true, groupCA: rootCA, leafIssuer: rootCA, cn: "dev1",
			presented: func(w *world) []*pki.Authority { return []*pki.Authority{w.root} }}},
		{name: "root verified, leaf only", s: setup{verify: true, groupCA: rootCA, leafIssuer: rootCA, cn: "dev1", presented: none}},
		{name: "root verified, leaf+intermediate", s: setup{verify: true, groupCA: rootCA, leafIssuer: interCA, cn: "dev1",
			presented: func(w *world) []*pki.Authority { return []*pki.Authority{w.inter} }}},
		{name: "intermediate verified, leaf only", s: setup{verify: true, groupCA: interCA, leafIssuer: interCA, cn: "dev1", presented: none}},
		{name: "D1 CA uploaded but never verified", s: setup{verify: false, groupCA: rootCA, leafIssuer: rootCA, cn: "dev1", presented: none},
			wantCheck: dps.CheckX509CANotVerified},
		{name: "D1 CA never verified, 401002 mode", s: setup{verify: false, groupCA: rootCA, leafIssuer: rootCA, cn: "dev1", presented: none},
			opts: []dps.Option{dps.WithX509Rejection(dps.RejectRegister401)}, wantCheck: dps.CheckX509CANotVerified, want401: true},
		{name: "D1 CN is not the registration ID", s: setup{verify: true, groupCA: rootCA, leafIssuer: rootCA, cn: "not-dev1", presented: none},
			wantCheck: dps.CheckX509CNMismatch},
		{name: "D1 group bound to another CA", s: setup{verify: true, groupCA: func(w *world) *pki.Authority { return w.otherRoot },
			leafIssuer: rootCA, cn: "dev1", presented: func(w *world) []*pki.Authority { return []*pki.Authority{w.root} }},
			wantCheck: dps.CheckX509NoEnrollment},
		{name: "incomplete chain: intermediate not presented", s: setup{verify: true, groupCA: rootCA, leafIssuer: interCA, cn: "dev1", presented: none},
			wantCheck: dps.CheckX509ChainIncomplete},
		{name: "incomplete chain: root without intermediate", s: setup{verify: true, groupCA: rootCA, leafIssuer: interCA, cn: "dev1",
			presented: func(w *world) []*pki.Authority { return []*pki.Authority{w.root} }}, wantCheck: dps.CheckX509ChainIncomplete},
		{name: "incomplete chain, 401002 mode", s: setup{verify: true, groupCA: rootCA, leafIssuer: interCA, cn: "dev1", presented: none},
			opts: []dps.Option{dps.WithX509Rejection(dps.RejectRegister401)}, wantCheck: dps.CheckX509ChainIncomplete, want401: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			w := newWorld(t)
			ca := tc.s.groupCA(w)
			if tc.s.verify {
				verifyCA(t, e.svc, "ownca", ca)
			} else {
				_, err := e.svc.UploadCA("ownca", ca.CertPEM(), false)
				require.NoError(t, err)
			}
			// The thread's root is also in the store when the group uses another CA.
			if ca != w.root {
				_, err := e.svc.UploadCA("root", w.root.CertPEM(), true)
				require.NoError(t, err)
			}
			_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "fleet", Attestation: dps.AttestationX509, CAName: "ownca", Enabled: true})
			require.NoError(t, err)
			leaf := w.leaf(t, tc.s.cn, tc.s.leafIssuer(w))
			chain := append([]*pki.Authority{leaf}, tc.s.presented(w)...)

			d, err := e.connect(t, creds{regID: "dev1", chain: chain})
			if tc.wantCheck != "" && !tc.want401 {
				requireNotAuthorized(t, err)
				assert.Contains(t, e.reasons.checks(), tc.wantCheck)
				assert.Empty(t, e.assigner.Calls())
				r := e.reasons.all()[0]
				assert.Equal(t, "dps", r.Service)
				assert.Equal(t, "dev1", r.RegistrationID)
				assert.NotEmpty(t, r.Detail)
				t.Logf("reason: %s: %s", r.Check, r.Detail)
				return
			}
			require.NoError(t, err)
			topic, body := d.register(t, "dev1", "1")
			if tc.want401 {
				require.Equal(t, "$dps/registrations/res/401/?$rid=1", topic)
				var eb errBody
				require.NoError(t, json.Unmarshal(body, &eb))
				assert.Equal(t, 401002, eb.ErrorCode)
				assert.Equal(t, "Invalid certificate.", eb.Message)
				assert.NotEmpty(t, eb.TrackingID)
				_, err := time.Parse(time.RFC3339Nano, eb.TimestampUTC)
				assert.NoError(t, err)
				assert.Contains(t, e.reasons.checks(), tc.wantCheck)
				assert.Empty(t, e.assigner.Calls())
				return
			}
			require.Equal(t, "$dps/registrations/res/200/?$rid=1", topic, string(body))
			var op opStatus
			require.NoError(t, json.Unmarshal(body, &op))
			assert.Equal(t, "assigned", op.Status)
			assert.Equal(t, "dev1", op.RegistrationState.DeviceID)
			assert.Equal(t, hubHost, op.RegistrationState.AssignedHub)
			require.NotNil(t, op.RegistrationState.X509)
			assert.Equal(t, "fleet", op.RegistrationState.X509.EnrollmentGroupID)
			require.NotNil(t, op.RegistrationState.X509.SigningCertificateInfo)
			assert.Contains(t, op.RegistrationState.X509.SigningCertificateInfo.SubjectName, ca.Cert.Subject.CommonName)
			calls := e.assigner.Calls()
			require.Len(t, calls, 1)
			assert.True(t, calls[0].X509CAChain)
			assert.Equal(t, "fleet", calls[0].EnrollmentGroupID)
			assert.True(t, strings.EqualFold(pki.ThumbprintSHA256(leaf.Cert), calls[0].X509ThumbprintSHA256))
			assert.Empty(t, e.reasons.all())
		})
	}
}

func TestSymmetricKey(t *testing.T) {
	groupKey := key(0, 32)
	indKey := key(100, 32)
	tests := []struct {
		name      string
		regID     string
		password  func() string
		opts      []dps.Option
		disable   dps.EnrollmentKind
		wantKey   []byte
		wantGroup string
		wantTopic string // final topic prefix
		wantCode  int
		wantCheck string
		connack5  bool
	}{
		{name: "group derived key", regID: "dev1", password: func() string { return sasPassword("dev1", sas.DeriveDeviceKey(groupKey, "dev1")) },
			wantKey: sas.DeriveDeviceKey(groupKey, "dev1"), wantGroup: "symgroup", wantTopic: "$dps/registrations/res/200/"},
		{name: "individual beats group", regID: "ind1", password: func() string { return sasPassword("ind1", indKey) },
			wantKey: indKey, wantTopic: "$dps/registrations/res/200/"},
		{name: "wrong key 401000", regID: "dev1", password: func() string { return sasPassword("dev1", key(7, 32)) },
			wantTopic: "$dps/registrations/res/401/", wantCode: 401000, wantCheck: dps.CheckSASSignature},
		{name: "group key itself 401000", regID: "dev1", password: func() string { return sasPassword("dev1", groupKey) },
			wantTopic: "$dps/registrations/res/401/", wantCode: 401000, wantCheck: dps.CheckSASSignature},
		{name: "wrong key, CONNACK 5 switch", regID: "dev1", password: func() string { return sasPassword("dev1", key(7, 32)) },
			opts: []dps.Option{dps.WithSASRejection(dps.RejectConnack)}, connack5: true, wantCheck: dps.CheckSASSignature},
		{name: "expired token", regID: "dev1", password: func() string {
			return sas.Sign(scope+"%2fregistrations%2fdev1", sas.DeriveDeviceKey(groupKey, "dev1"), time.Now().Add(-time.Hour), "registration")
		}, wantTopic: "$dps/registrations/res/401/", wantCode: 401000, wantCheck: dps.CheckSASExpired},
		{name: "token for another registration", regID: "dev1", password: func() string { return sasPassword("dev2", sas.DeriveDeviceKey(groupKey, "dev2")) },
			wantTopic: "$dps/registrations/res/401/", wantCode: 401000, wantCheck: dps.CheckSASResource},
		{name: "disabled group", regID: "dev1", password: func() string { return sasPassword("dev1", sas.DeriveDeviceKey(groupKey, "dev1")) },
			disable: dps.Group, wantTopic: "$dps/registrations/res/200/", wantCheck: dps.CheckEnrollmentDisabled},
		{name: "disabled individual", regID: "ind1", password: func() string { return sasPassword("ind1", indKey) },
			disable: dps.Individual, wantTopic: "$dps/registrations/res/200/", wantCheck: dps.CheckEnrollmentDisabled},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.opts...)
			_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "symgroup", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
			require.NoError(t, err)
			_, err = e.svc.CreateIndividualEnrollment(dps.IndividualEnrollment{RegistrationID: "ind1", Attestation: dps.AttestationSymmetricKey, PrimaryKey: indKey, Enabled: true})
			require.NoError(t, err)
			switch tc.disable {
			case dps.Group:
				require.NoError(t, e.svc.SetEnabled(dps.Group, "symgroup", false))
			case dps.Individual:
				require.NoError(t, e.svc.SetEnabled(dps.Individual, "ind1", false))
			}
			d, err := e.connect(t, creds{regID: tc.regID, password: tc.password()})
			if tc.connack5 {
				requireNotAuthorized(t, err)
				assert.Contains(t, e.reasons.checks(), tc.wantCheck)
				return
			}
			require.NoError(t, err)
			topic, body := d.register(t, tc.regID, "rid%7E9")
			require.True(t, strings.HasPrefix(topic, tc.wantTopic), topic)
			assert.True(t, strings.HasSuffix(topic, "/?$rid=rid%7E9"), "rid echoed byte for byte: %s", topic)
			if tc.wantCheck != "" {
				assert.Contains(t, e.reasons.checks(), tc.wantCheck)
				t.Logf("reasons: %+v", e.reasons.all())
			} else {
				assert.Empty(t, e.reasons.all())
			}
			if tc.wantCode != 0 {
				var eb errBody
				require.NoError(t, json.Unmarshal(body, &eb))
				assert.Equal(t, tc.wantCode, eb.ErrorCode)
				assert.Equal(t, "Unauthorized", eb.Message)
				assert.Empty(t, e.assigner.Calls())
				return
			}
			var op opStatus
			require.NoError(t, json.Unmarshal(body, &op))
			if tc.disable != 0 {
				assert.Equal(t, "disabled", op.Status)
				assert.Equal(t, "disabled", op.RegistrationState.Status)
				assert.Empty(t, op.RegistrationState.AssignedHub)
				assert.Empty(t, e.assigner.Calls())
				return
			}
			assert.Equal(t, "assigned", op.Status)
			assert.Equal(t, hubHost, op.RegistrationState.AssignedHub)
			require.NotNil(t, op.RegistrationState.SymmetricKey)
			assert.Equal(t, tc.wantGroup, op.RegistrationState.SymmetricKey.EnrollmentGroupID)
			calls := e.assigner.Calls()
			require.Len(t, calls, 1)
			assert.Equal(t, tc.wantKey, calls[0].SymmetricKey)
			assert.Equal(t, tc.regID, calls[0].DeviceID)
			assert.Empty(t, calls[0].X509ThumbprintSHA256)
		})
	}
}

func TestX509DisabledGroup(t *testing.T) {
	e := newEnv(t)
	w := newWorld(t)
	verifyCA(t, e.svc, "ownca", w.root)
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "fleet", Attestation: dps.AttestationX509, CAName: "ownca", Enabled: false})
	require.NoError(t, err)
	d, err := e.connect(t, creds{regID: "dev1", chain: []*pki.Authority{w.leaf(t, "dev1", w.root)}})
	require.NoError(t, err)
	topic, body := d.register(t, "dev1", "1")
	require.Equal(t, "$dps/registrations/res/200/?$rid=1", topic)
	var op opStatus
	require.NoError(t, json.Unmarshal(body, &op))
	assert.Equal(t, "disabled", op.Status)
	assert.Equal(t, []string{dps.CheckEnrollmentDisabled}, e.reasons.checks())
	assert.Empty(t, e.assigner.Calls())
}

func TestConnectRefusals(t *testing.T) {
	groupKey := key(0, 32)
	good := sasPassword("dev1", sas.DeriveDeviceKey(groupKey, "dev1"))
	tests := []struct {
		name      string
		cr        creds
		wantErr   string
		wantCheck string
	}{
		{name: "MQTT 3.1", cr: creds{regID: "dev1", password: good, version: 3}, wantErr: "unacceptable protocol version", wantCheck: dps.CheckProtocolVersion},
		{name: "client ID ≠ registration ID", cr: creds{regID: "dev1", clientID: "dev2", password: good}, wantErr: "not Authorized", wantCheck: dps.CheckClientID},
		{name: "wrong ID scope", cr: creds{regID: "dev1", username: "0ne99999999/registrations/dev1/api-version=2019-03-31", password: good},
			wantErr: "not Authorized", wantCheck: dps.CheckIDScope},
		{name: "hub user name", cr: creds{regID: "dev1", username: "myhub.azure-devices.net/dev1/?api-version=2021-04-12", password: good},
			wantErr: "not Authorized", wantCheck: dps.CheckUsername},
		{name: "no password, no certificate", cr: creds{regID: "dev1"}, wantErr: "not Authorized", wantCheck: dps.CheckX509NoCertificate},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
			require.NoError(t, err)
			_, err = e.connect(t, tc.cr)
			require.ErrorContains(t, err, tc.wantErr)
			if tc.wantCheck != "" {
				assert.Equal(t, []string{tc.wantCheck}, e.reasons.checks())
			}
		})
	}
}

// Responses go only to the requesting connection, and a device that did not
// subscribe gets nothing (its request times out) with a reason saying so.
func TestResponsesNotFannedOut(t *testing.T) {
	groupKey := key(0, 32)
	e := newEnv(t)
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
	require.NoError(t, err)
	a, err := e.connect(t, creds{regID: "a", password: sasPassword("a", sas.DeriveDeviceKey(groupKey, "a"))})
	require.NoError(t, err)
	b, err := e.connect(t, creds{regID: "b", password: sasPassword("b", sas.DeriveDeviceKey(groupKey, "b"))})
	require.NoError(t, err)
	topic, _ := a.register(t, "a", "1")
	require.Equal(t, "$dps/registrations/res/200/?$rid=1", topic)
	select {
	case m := <-b.msgs:
		t.Fatalf("device b received %s", m.Topic())
	case <-time.After(200 * time.Millisecond):
	}
	// Device b's operation status for a's operation is invisible.
	b.publish(t, "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.0000000000000000.x", nil)
	m := b.next(t)
	assert.Equal(t, "$dps/registrations/res/404/?$rid=2", m.Topic())

	// Unsubscribed device: no response.
	require.True(t, b.c.Unsubscribe(resTopic).WaitTimeout(waitFor))
	b.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid=3", []byte(`{"registrationId":"b"}`))
	select {
	case m := <-b.msgs:
		t.Fatalf("unsubscribed device received %s", m.Topic())
	case <-time.After(200 * time.Millisecond):
	}
	// The reason is emitted after the PUBACK (and a state save), so wait for it.
	require.Eventually(t, func() bool {
		return slices.Contains(e.reasons.checks(), dps.CheckUndeliverable)
	}, waitFor, 10*time.Millisecond)
}

func TestPolicingClosesConnection(t *testing.T) {
	groupKey := key(0, 32)
	tests := []struct {
		name      string
		act       func(d *device)
		wantCheck string
	}{
		{name: "hub topic", act: func(d *device) { d.c.Publish("devices/a/messages/events/", 1, false, "x") }, wantCheck: dps.CheckTopic},
		{name: "QoS 2", act: func(d *device) { d.c.Publish("$dps/registrations/PUT/iotdps-register/?$rid=1", 2, false, "{}") }, wantCheck: dps.CheckQoS},
		{name: "subscribe elsewhere", act: func(d *device) { d.c.Subscribe("#", 1, nil) }, wantCheck: dps.CheckSubscribe},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
			require.NoError(t, err)
			d, err := e.connect(t, creds{regID: "a", password: sasPassword("a", sas.DeriveDeviceKey(groupKey, "a"))})
			require.NoError(t, err)
			tc.act(d)
			require.Eventually(t, func() bool { return !d.c.IsConnectionOpen() }, waitFor, 10*time.Millisecond)
			assert.Equal(t, []string{tc.wantCheck}, e.reasons.checks())
		})
	}
}

func TestBadRegisterBody(t *testing.T) {
	groupKey := key(0, 32)
	e := newEnv(t)
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
	require.NoError(t, err)
	d, err := e.connect(t, creds{regID: "a", password: sasPassword("a", sas.DeriveDeviceKey(groupKey, "a"))})
	require.NoError(t, err)
	for i, body := range []string{`not json`, `{}`, `{"registrationId":"b"}`} {
		d.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid=1", []byte(body))
		m := d.next(t)
		assert.Equal(t, "$dps/registrations/res/400/?$rid=1", m.Topic(), "body %d", i)
	}
	assert.Equal(t, []string{dps.CheckRequestBody, dps.CheckRequestBody, dps.CheckRequestBody}, e.reasons.checks())
}

// An empty register body, as Nordic's library sends it, registers the
// connection's registration ID.
func TestEmptyRegisterBody(t *testing.T) {
	groupKey := key(0, 32)
	e := newEnv(t)
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
	require.NoError(t, err)
	d, err := e.connect(t, creds{regID: "a", password: sasPassword("a", sas.DeriveDeviceKey(groupKey, "a"))})
	require.NoError(t, err)
	d.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid=1", nil)
	m := d.next(t)
	assert.True(t, strings.HasPrefix(m.Topic(), "$dps/registrations/res/20"), m.Topic())
	assert.Empty(t, e.reasons.checks())
}

func TestAssignFailure(t *testing.T) {
	groupKey := key(0, 32)
	e := newEnv(t)
	e.assigner.err = errors.New("hub registry full")
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
	require.NoError(t, err)
	d, err := e.connect(t, creds{regID: "a", password: sasPassword("a", sas.DeriveDeviceKey(groupKey, "a"))})
	require.NoError(t, err)
	topic, body := d.register(t, "a", "1")
	require.Equal(t, "$dps/registrations/res/200/?$rid=1", topic)
	var op opStatus
	require.NoError(t, json.Unmarshal(body, &op))
	assert.Equal(t, "failed", op.Status)
	assert.Equal(t, []string{dps.CheckAssign}, e.reasons.checks())
	assert.Contains(t, e.reasons.all()[0].Detail, "hub registry full")
}

func TestAssigningPolls(t *testing.T) {
	groupKey := key(0, 32)
	for _, polls := range []int{0, 1, 3} {
		t.Run(fmt.Sprintf("%d polls", polls), func(t *testing.T) {
			e := newEnv(t, dps.WithAssigningPolls(polls), dps.WithRetryAfter(2*time.Second))
			_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "g", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
			require.NoError(t, err)
			d, err := e.connect(t, creds{regID: "a", password: sasPassword("a", sas.DeriveDeviceKey(groupKey, "a"))})
			require.NoError(t, err)
			d.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid=1", []byte(`{"registrationId":"a","payload":{"modelId":"m"}}`))
			m := d.next(t)
			require.Equal(t, "$dps/registrations/res/202/?$rid=1&retry-after=2", m.Topic())
			var op opStatus
			require.NoError(t, json.Unmarshal(m.Payload(), &op))
			poll := "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=" + op.OperationID
			for range polls {
				d.publish(t, poll, nil)
				m = d.next(t)
				require.Equal(t, "$dps/registrations/res/202/?$rid=1&retry-after=2", m.Topic())
				assert.Contains(t, string(m.Payload()), `"registrationState":{"registrationId":"a","status":"assigning"}`)
			}
			d.publish(t, poll, nil)
			m = d.next(t)
			require.Equal(t, "$dps/registrations/res/200/?$rid=1", m.Topic())
			// Polling again returns the same result; the hub is asked once.
			d.publish(t, poll, nil)
			m2 := d.next(t)
			assert.Equal(t, m.Payload(), m2.Payload())
			assert.Len(t, e.assigner.Calls(), 1)
			assert.JSONEq(t, `{"modelId":"m"}`, string(e.svc.Registrations()[0].Payload))
		})
	}
}

// The simulation clock decides certificate validity and SAS expiry.
func TestSimulationClock(t *testing.T) {
	groupKey := key(0, 32)
	later := time.Now().Add(2 * 365 * 24 * time.Hour)
	e := newEnv(t, dps.WithClock(func() time.Time { return later }))
	w := newWorld(t) // certificates valid for one year from now
	verifyCAAt(t, e.svc, "root", w.root, later)
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "x", Attestation: dps.AttestationX509, CAName: "root", Enabled: true})
	require.NoError(t, err)
	_, err = e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "s", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
	require.NoError(t, err)

	_, err = e.connect(t, creds{regID: "dev1", chain: []*pki.Authority{w.leaf(t, "dev1", w.root)}})
	requireNotAuthorized(t, err)
	require.Equal(t, []string{dps.CheckX509Validity}, e.reasons.checks())

	// A token valid for an hour of wall time has expired at the simulation date.
	d, err := e.connect(t, creds{regID: "dev2", password: sasPassword("dev2", sas.DeriveDeviceKey(groupKey, "dev2"))})
	require.NoError(t, err)
	topic, _ := d.register(t, "dev2", "1")
	assert.Equal(t, "$dps/registrations/res/401/?$rid=1", topic)
	assert.Equal(t, []string{dps.CheckX509Validity, dps.CheckSASExpired}, e.reasons.checks())
}

func TestRegistrationThrottled(t *testing.T) {
	groupKey := key(0, 32)
	e := newEnv(t, dps.WithRegistrationRateLimit(1, time.Hour))
	_, err := e.svc.CreateGroupEnrollment(dps.GroupEnrollment{GroupID: "symgroup", Attestation: dps.AttestationSymmetricKey, PrimaryKey: groupKey, Enabled: true})
	require.NoError(t, err)
	d, err := e.connect(t, creds{regID: "dev1", password: sasPassword("dev1", sas.DeriveDeviceKey(groupKey, "dev1"))})
	require.NoError(t, err)
	// The first request is within the quota and gets its 202; the next is
	// throttled: 429 with a retry-after, as DPS answers (§2.4 [doc P-ERR]).
	d.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid=1", []byte(`{"registrationId":"dev1"}`))
	assert.True(t, strings.HasPrefix(d.next(t).Topic(), "$dps/registrations/res/202/?$rid=1"))
	d.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid=2", []byte(`{"registrationId":"dev1"}`))
	m := d.next(t)
	assert.Equal(t, "$dps/registrations/res/429/?$rid=2&retry-after=3", m.Topic())
	var body errBody
	require.NoError(t, json.Unmarshal(m.Payload(), &body))
	assert.Equal(t, 429001, body.ErrorCode)
	assert.NotEmpty(t, body.TrackingID)
	assert.Contains(t, e.reasons.checks(), dps.CheckThrottled)
}
