package dps_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

const (
	dpsHost  = "global.azure-devices-provisioning.net"
	hubHost  = "myhub.azure-devices.net"
	scope    = dps.DefaultIDScope
	apiUser  = "/api-version=2019-03-31&ClientVersion=azsdk-c%2F1.5.0"
	resTopic = "$dps/registrations/res/#"
	waitFor  = 5 * time.Second
)

// The stand-in PKI (RSA roots) is expensive: make it once per test binary.
var (
	pkiOnce  sync.Once
	pkiErr   error
	srvCert  tls.Certificate
	rootPool *x509.CertPool
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dps-pki-")
	if err != nil {
		panic(err)
	}
	pkiDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var pkiDir string

func serverFixtures(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	pkiOnce.Do(func() {
		p, err := pki.LoadOrCreate(pkiDir)
		if err != nil {
			pkiErr = err
			return
		}
		srvCert, pkiErr = p.ServerCertificate(pki.DigiCertGlobalRootG2, []string{dpsHost, "127.0.0.1"})
		if pkiErr != nil {
			return
		}
		rootPool, pkiErr = p.RootPool(pki.DigiCertGlobalRootG2)
	})
	require.NoError(t, pkiErr)
	return srvCert, rootPool
}

type fakeAssigner struct {
	mu    sync.Mutex
	calls []dps.AssignedDevice
	err   error
}

func (f *fakeAssigner) AssignDevice(ctx context.Context, d dps.AssignedDevice) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, d)
	if f.err != nil {
		return "", f.err
	}
	return hubHost, nil
}

func (f *fakeAssigner) Calls() []dps.AssignedDevice {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]dps.AssignedDevice(nil), f.calls...)
}

type reasons struct {
	mu sync.Mutex
	rs []dps.Reason
}

func (r *reasons) add(x dps.Reason) { r.mu.Lock(); r.rs = append(r.rs, x); r.mu.Unlock() }
func (r *reasons) all() []dps.Reason {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]dps.Reason(nil), r.rs...)
}
func (r *reasons) checks() []string {
	var out []string
	for _, x := range r.all() {
		out = append(out, x.Check)
	}
	return out
}

// env is one DPS on a loopback TLS listener.
type env struct {
	svc      *dps.Service
	assigner *fakeAssigner
	reasons  *reasons
	addr     string
	dir      string
}

func newEnv(t *testing.T, opts ...dps.Option) *env {
	t.Helper()
	cert, _ := serverFixtures(t)
	e := &env{assigner: &fakeAssigner{}, reasons: &reasons{}, dir: t.TempDir()}
	svc, err := dps.New(e.dir, e.assigner, append([]dps.Option{dps.WithReasonSink(e.reasons.add)}, opts...)...)
	require.NoError(t, err)
	e.svc = svc
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert, // chain verdicts belong to DPS (§5.3)
		MinVersion:   tls.VersionTLS12,
	})
	require.NoError(t, err)
	e.addr = ln.Addr().String()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = svc.Server().EstablishConnection("dps-test", c) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		svc.Close()
	})
	return e
}

// device is a paho client speaking DPS.
type device struct {
	c    paho.Client
	msgs chan paho.Message
}

type creds struct {
	regID    string
	clientID string // "" = regID
	username string // "" = standard
	password string
	chain    []*pki.Authority // leaf first; leaf has the key
	certs    []*x509.Certificate
	version  uint
}

func (e *env) connect(t *testing.T, cr creds) (*device, error) {
	t.Helper()
	_, pool := serverFixtures(t)
	tc := &tls.Config{RootCAs: pool, ServerName: dpsHost, MinVersion: tls.VersionTLS12}
	if len(cr.chain) > 0 {
		c := tls.Certificate{PrivateKey: cr.chain[0].Key, Leaf: cr.chain[0].Cert}
		for _, a := range cr.chain {
			c.Certificate = append(c.Certificate, a.Cert.Raw)
		}
		for _, x := range cr.certs {
			c.Certificate = append(c.Certificate, x.Raw)
		}
		tc.Certificates = []tls.Certificate{c}
	}
	clientID := cr.clientID
	if clientID == "" {
		clientID = cr.regID
	}
	user := cr.username
	if user == "" {
		user = scope + "/registrations/" + cr.regID + apiUser
	}
	d := &device{msgs: make(chan paho.Message, 16)}
	o := paho.NewClientOptions().AddBroker("ssl://" + e.addr).SetClientID(clientID).
		SetUsername(user).SetTLSConfig(tc).SetAutoReconnect(false).SetConnectRetry(false).
		SetConnectTimeout(waitFor).SetProtocolVersion(4).SetCleanSession(true)
	if cr.version != 0 {
		o.SetProtocolVersion(cr.version)
	}
	if cr.password != "" {
		o.SetPassword(cr.password)
	}
	d.c = paho.NewClient(o)
	tok := d.c.Connect()
	if !tok.WaitTimeout(waitFor) {
		return nil, errors.New("connect timed out")
	}
	if err := tok.Error(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { d.c.Disconnect(10) })
	st := d.c.Subscribe(resTopic, 1, func(_ paho.Client, m paho.Message) { d.msgs <- m })
	require.True(t, st.WaitTimeout(waitFor))
	require.NoError(t, st.Error())
	return d, nil
}

func (d *device) publish(t *testing.T, topic string, body []byte) {
	t.Helper()
	tok := d.c.Publish(topic, 1, false, body)
	require.True(t, tok.WaitTimeout(waitFor))
	require.NoError(t, tok.Error())
}

func (d *device) next(t *testing.T) paho.Message {
	t.Helper()
	select {
	case m := <-d.msgs:
		return m
	case <-time.After(waitFor):
		t.Fatal("no DPS response")
		return nil
	}
}

type opStatus struct {
	OperationID       string `json:"operationId"`
	Status            string `json:"status"`
	RegistrationState struct {
		RegistrationID string `json:"registrationId"`
		AssignedHub    string `json:"assignedHub"`
		DeviceID       string `json:"deviceId"`
		Status         string `json:"status"`
		Substatus      string `json:"substatus"`
		ETag           string `json:"etag"`
		Created        string `json:"createdDateTimeUtc"`
		X509           *struct {
			EnrollmentGroupID string `json:"enrollmentGroupId"`
			CertificateInfo   *struct {
				SubjectName      string `json:"subjectName"`
				SHA256Thumbprint string `json:"sha256Thumbprint"`
			} `json:"certificateInfo"`
			SigningCertificateInfo *struct {
				SubjectName string `json:"subjectName"`
			} `json:"signingCertificateInfo"`
		} `json:"x509"`
		SymmetricKey *struct {
			EnrollmentGroupID string `json:"enrollmentGroupId"`
		} `json:"symmetricKey"`
	} `json:"registrationState"`
}

type errBody struct {
	ErrorCode    int    `json:"errorCode"`
	TrackingID   string `json:"trackingId"`
	Message      string `json:"message"`
	TimestampUTC string `json:"timestampUtc"`
}

// register runs the whole flow as the SDKs do and returns the final topic and body.
func (d *device) register(t *testing.T, regID, rid string) (string, []byte) {
	t.Helper()
	d.publish(t, "$dps/registrations/PUT/iotdps-register/?$rid="+rid, []byte(`{"registrationId":"`+regID+`"}`))
	m := d.next(t)
	if !strings.HasPrefix(m.Topic(), "$dps/registrations/res/202/") {
		return m.Topic(), m.Payload()
	}
	require.Equal(t, "$dps/registrations/res/202/?$rid="+rid+"&retry-after=3", m.Topic())
	var op opStatus
	require.NoError(t, json.Unmarshal(m.Payload(), &op))
	require.Equal(t, "assigning", op.Status)
	require.True(t, strings.HasPrefix(op.OperationID, "4."), op.OperationID)
	for range 10 {
		d.publish(t, "$dps/registrations/GET/iotdps-get-operationstatus/?$rid="+rid+"&operationId="+op.OperationID, nil)
		m = d.next(t)
		if !strings.HasPrefix(m.Topic(), "$dps/registrations/res/202/") {
			return m.Topic(), m.Payload()
		}
	}
	t.Fatal("still assigning after 10 polls")
	return "", nil
}

// world holds certificates for one test.
type world struct {
	now         time.Time
	root, inter *pki.Authority
	otherRoot   *pki.Authority
}

func newWorld(t *testing.T) *world {
	t.Helper()
	now := time.Now()
	nb, na := now.Add(-time.Hour), now.Add(365*24*time.Hour)
	w := &world{now: now}
	var err error
	w.root, err = pki.NewCA(rand.Reader, "Own Root CA", nil, nb, na)
	require.NoError(t, err)
	w.inter, err = pki.NewCA(rand.Reader, "Own Intermediate CA", w.root, nb, na)
	require.NoError(t, err)
	w.otherRoot, err = pki.NewCA(rand.Reader, "Other Root CA", nil, nb, na)
	require.NoError(t, err)
	return w
}

func (w *world) leaf(t *testing.T, cn string, issuer *pki.Authority) *pki.Authority {
	t.Helper()
	l, err := pki.NewLeaf(rand.Reader, cn, issuer, w.now.Add(-time.Hour), w.now.Add(365*24*time.Hour))
	require.NoError(t, err)
	return l
}

// verifyCA uploads and proves possession of ca, as in the nRF91 own-CA thread.
func verifyCA(t *testing.T, svc *dps.Service, name string, ca *pki.Authority) {
	t.Helper()
	verifyCAAt(t, svc, name, ca, time.Now())
}

func verifyCAAt(t *testing.T, svc *dps.Service, name string, ca *pki.Authority, now time.Time) {
	t.Helper()
	_, err := svc.UploadCA(name, ca.CertPEM(), false)
	require.NoError(t, err)
	code, err := svc.VerificationCode(name)
	require.NoError(t, err)
	proof, err := pki.NewVerificationCert(rand.Reader, code, ca, now)
	require.NoError(t, err)
	got, err := svc.VerifyCA(name, pki.EncodeCertsPEM(proof))
	require.NoError(t, err)
	require.True(t, got.Verified)
}

func key(b byte, n int) []byte {
	k := make([]byte, n)
	for i := range k {
		k[i] = b + byte(i)
	}
	return k
}

func sasPassword(regID string, k []byte) string {
	return sas.Sign(scope+"%2fregistrations%2f"+regID, k, time.Now().Add(time.Hour), "registration")
}

func requireNotAuthorized(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	// CONNACK 5 as the nRF91 library saw it (D1); paho reports it as "not Authorized".
	require.ErrorContains(t, err, "not Authorized")
}
