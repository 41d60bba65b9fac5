package features

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"
	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/scenarios"
)

// fixtures are expensive, read-only things scenarios share: the stand-in
// PKI costs three RSA-4096 keys. TestFeatures owns them.
type fixtures struct {
	once sync.Once
	dir  string
	p    *pki.PKI
	err  error
	// dateMu serialises loading the shared PKI at another simulation date.
	dateMu sync.Mutex
	// pool is demos.feature's view of the same directory.
	poolOnce sync.Once
	pool     *scenarios.PKIPool
}

func (f *fixtures) pki() (*pki.PKI, error) {
	f.once.Do(func() {
		if f.dir, f.err = os.MkdirTemp("", "modemsim-features-pki-*"); f.err == nil {
			f.p, f.err = pki.LoadOrCreate(f.dir)
		}
	})
	return f.p, f.err
}

// demoPKI is the stand-in PKI demos.feature's runs share: a directory of
// its own, as the scenarios package loads it under its own lock.
func (f *fixtures) demoPKI() *scenarios.PKIPool {
	f.poolOnce.Do(func() { f.pool = scenarios.NewPKIPool(filepath.Join(f.dir, "demos")) })
	return f.pool
}

func (f *fixtures) close() {
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
}

// hubWorld is a scenario's emulated hub and the device talking to it.
type hubWorld struct {
	emu       *hub.Emulator
	cancel    context.CancelFunc
	dpsReason []dps.Reason
	mu        sync.Mutex

	authorities map[string]*pki.Authority
	device      *pki.Authority // the device certificate and key
	deviceCA    *pki.Authority // the root that signed it (the chain it presents)
	client      paho.Client
	connErr     error
	connCode    byte
	assigned    struct{ hub, deviceID string }
	boards      map[string]*boardConn // D5: several boards, one certificate
}

// boardConn is one paho connection and how it ended.
type boardConn struct {
	c    paho.Client
	lost chan error
}

func (w *world) registerHub(sc *godog.ScenarioContext) {
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if err != nil && w.hub.emu != nil {
			var b strings.Builder
			for _, r := range w.hub.emu.Reasons() {
				fmt.Fprintf(&b, "%s %s %s %s %v\n", r.Time.Format(time.RFC3339), r.DeviceID, r.Check, r.Detail, r.Values)
			}
			for _, r := range w.dpsReasons() {
				fmt.Fprintf(&b, "%s dps %s %s %s %v\n", r.Time.Format(time.RFC3339), r.RegistrationID, r.Check, r.Detail, r.Values)
			}
			ctx = godog.Attach(ctx, godog.Attachment{FileName: "reasons.txt", MediaType: "text/plain", Body: []byte(b.String())})
			fmt.Fprintf(os.Stderr, "\n--- emulator reasons of the failed scenario ---\n%s--- end ---\n", b.String())
		}
		if w.hub.client != nil {
			w.hub.client.Disconnect(0)
		}
		for _, b := range w.hub.boards {
			b.c.Disconnect(0)
		}
		if w.hub.emu != nil {
			w.hub.cancel()
			w.hub.emu.Close()
		}
		return ctx, nil
	})
	sc.Step(`^an IoT hub "([^"]*)"(?: with its DPS)?$`, w.hubRunning)
	sc.Step(`^a SAS device "([^"]*)" with primary key "([^"]*)"$`, w.sasDevice)
	sc.Step(`^device "([^"]*)" connects over MQTT/TLS with the password:$`, w.connectWithPassword)
	sc.Step(`^the hub refuses the connection with CONNACK 5, "not Authorized"$`, w.refused5)
	sc.Step(`^DPS refuses the connection with CONNACK 5, "not Authorized"$`, w.refused5)
	sc.Step(`^the emulator's reason is "([^"]*)", naming the string it verified:$`, w.reasonNamesString)
	sc.Step(`^the device is connected$`, w.deviceConnected)
	sc.Step(`^the user's own root CA "([^"]*)"$`, w.ownRoot)
	sc.Step(`^a device certificate for "([^"]*)" signed by "([^"]*)"$`, w.deviceCert)
	sc.Step(`^"([^"]*)" is uploaded to DPS without proof of possession$`, func(ca string) error { return w.uploadCA(ca, false) })
	sc.Step(`^"([^"]*)" is uploaded to DPS and verified by proof of possession$`, func(ca string) error { return w.uploadCA(ca, true) })
	sc.Step(`^the enrollment group "([^"]*)" uses "([^"]*)"$`, w.group)
	sc.Step(`^the device registers as "([^"]*)" presenting its certificate and the root$`, w.registerWithDPS)
	sc.Step(`^the emulator's DPS reason is "([^"]*)"$`, w.dpsReasonIs)
	sc.Step(`^DPS assigns device ID "([^"]*)" to IoT hub "([^"]*)"$`, w.assignedTo)
	sc.Step(`^the device connects to that hub with its certificate$`, w.connectWithCert)
	sc.Step(`^the hub has "([^"]*)" uploaded and verified$`, w.hubCA)
	sc.Step(`^the hub has a device "([^"]*)" authenticated by its CA$`, w.caDevice)
	sc.Step(`^board "([^"]*)" connects to the hub with the (?:same )?certificate$`, w.boardConnects)
	sc.Step(`^board "([^"]*)" is connected$`, w.boardConnected)
	sc.Step(`^board "([^"]*)" loses its connection without an MQTT packet from the hub$`, w.boardLost)
	sc.Step(`^the emulator's reason is "([^"]*)" for device "([^"]*)"$`, w.hubReasonFor)
}

func (w *world) hubRunning(host string) error {
	p, err := w.fx.pki()
	if err != nil {
		return err
	}
	h := &w.hub
	h.authorities = map[string]*pki.Authority{}
	h.emu, err = hub.New(filepath.Join(w.dir, "hub"), hub.WithPKI(p), hub.WithHostName(host),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"),
		hub.WithDPSOptions(dps.WithAssigningPolls(0), dps.WithRetryAfter(time.Second),
			dps.WithReasonSink(func(r dps.Reason) { h.mu.Lock(); h.dpsReason = append(h.dpsReason, r); h.mu.Unlock() })))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	return h.emu.Start(ctx)
}

func (w *world) dpsReasons() []dps.Reason {
	w.hub.mu.Lock()
	defer w.hub.mu.Unlock()
	return append([]dps.Reason(nil), w.hub.dpsReason...)
}

func (w *world) sasDevice(id, key string) error {
	_, err := w.hub.emu.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthSAS, PrimaryKey: key})
	return err
}

// dial connects a paho client the way a device SDK does: TLS 1.2 trusting
// the stand-in root the service serves, SNI naming the service.
func (w *world) dial(serverName string, root pki.RootName, clientID, user, password string, cert *tls.Certificate, onMsg paho.MessageHandler) {
	h := &w.hub
	roots, err := h.emu.PKI().RootPool(root)
	if err != nil {
		h.connErr = err
		return
	}
	tc := &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	o := paho.NewClientOptions().AddBroker("tls://" + h.emu.MQTTAddr()).SetClientID(clientID).
		SetUsername(user).SetPassword(password).SetTLSConfig(tc).SetProtocolVersion(4).
		SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(10 * time.Second)
	if onMsg != nil {
		o.SetDefaultPublishHandler(onMsg)
	}
	c := paho.NewClient(o)
	tok := c.Connect()
	if !tok.WaitTimeout(15 * time.Second) {
		h.connErr = errors.New("connect timed out")
		return
	}
	h.connErr, h.connCode = tok.Error(), tok.(*paho.ConnectToken).ReturnCode()
	if h.connErr == nil {
		h.client = c
	}
}

func (w *world) connectWithPassword(id string, doc *godog.DocString) error {
	host := w.hub.emu.HostName()
	w.dial(host, w.hub.emu.HubRoot(), id, host+"/"+id+"/?api-version=2021-04-12", strings.TrimSpace(doc.Content), nil, nil)
	return nil
}

func (w *world) refused5() error {
	if w.hub.connErr == nil {
		return errors.New("the connection was accepted")
	}
	// paho reports CONNACK 5 as packets.ConnErrors[5] = "not Authorized" (§5.2).
	if w.hub.connCode != 5 || !strings.Contains(w.hub.connErr.Error(), "not Authorized") {
		return fmt.Errorf("want CONNACK 5, got code %d: %v", w.hub.connCode, w.hub.connErr)
	}
	return nil
}

func (w *world) deviceConnected() error {
	if w.hub.connErr != nil {
		return fmt.Errorf("not connected: CONNACK %d: %w", w.hub.connCode, w.hub.connErr)
	}
	return nil
}

func (w *world) reasonNamesString(check string, doc *godog.DocString) error {
	rs := w.hub.emu.Reasons()
	if len(rs) == 0 {
		return errors.New("the emulator recorded no reason")
	}
	last := rs[len(rs)-1]
	if string(last.Check) != check {
		return fmt.Errorf("reason %q (%s), want %q", last.Check, last.Detail, check)
	}
	if want := unescape(strings.TrimSpace(doc.Content)); last.Values["stringToSign"] != want {
		return fmt.Errorf("verified %q, want %q", last.Values["stringToSign"], want)
	}
	return nil
}

func (w *world) ownRoot(name string) error {
	now := w.boardClock()() // the scenario's date, where it sets one
	ca, err := pki.NewCA(rand.Reader, name, nil, now.Add(-time.Hour), now.AddDate(5, 0, 0))
	w.hub.authorities[name] = ca
	return err
}

func (w *world) deviceCert(cn, issuer string) error {
	ca, ok := w.hub.authorities[issuer]
	if !ok {
		return fmt.Errorf("no CA %q", issuer)
	}
	now := w.boardClock()()
	var err error
	w.hub.device, err = pki.NewLeaf(rand.Reader, cn, ca, now.Add(-time.Hour), now.AddDate(1, 0, 0))
	w.hub.deviceCA = ca
	return err
}

// uploadCA does what the thread did in the portal: upload the root, and
// for proof of possession sign a certificate whose CN is the verification
// code with the root's key.
func (w *world) uploadCA(name string, verify bool) error {
	ca, ok := w.hub.authorities[name]
	if !ok {
		return fmt.Errorf("no CA %q", name)
	}
	svc := w.hub.emu.DPS()
	if _, err := svc.UploadCA(name, ca.CertPEM(), false); err != nil {
		return err
	}
	if !verify {
		return nil
	}
	code, err := svc.VerificationCode(name)
	if err != nil {
		return err
	}
	proof, err := pki.NewVerificationCert(rand.Reader, code, ca, w.boardClock()())
	if err != nil {
		return err
	}
	_, err = svc.VerifyCA(name, pki.EncodeCertsPEM(proof))
	return err
}

func (w *world) group(id, caName string) error {
	_, err := w.hub.emu.DPS().CreateGroupEnrollment(dps.GroupEnrollment{GroupID: id, Attestation: dps.AttestationX509, CAName: caName, Enabled: true})
	return err
}

// deviceTLSCert is device_fullchain.pem of the thread: the device
// certificate followed by the root.
func (w *world) deviceTLSCert() *tls.Certificate {
	return &tls.Certificate{Certificate: [][]byte{w.hub.device.Cert.Raw, w.hub.deviceCA.Cert.Raw},
		PrivateKey: w.hub.device.Key, Leaf: w.hub.device.Cert}
}

// register runs the DPS flow as the device SDKs do (§2.2).
func (w *world) registerWithDPS(regID string) error {
	h := &w.hub
	scope := h.emu.DPS().IDScope()
	msgs := make(chan paho.Message, 8)
	w.dial(hub.DefaultDPSHostName, h.emu.DPSRoot(), regID, scope+"/registrations/"+regID+"/api-version=2019-03-31", "",
		w.deviceTLSCert(), func(_ paho.Client, m paho.Message) { msgs <- m })
	if h.connErr != nil {
		return nil // the Then steps judge the refusal
	}
	defer func() { h.client.Disconnect(0); h.client = nil }()
	if tok := h.client.Subscribe("$dps/registrations/res/#", 1, nil); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		return fmt.Errorf("subscribe: %v", tok.Error())
	}
	h.client.Publish("$dps/registrations/PUT/iotdps-register/?$rid=1", 1, false, `{"registrationId":"`+regID+`"}`)
	deadline := time.After(15 * time.Second)
	for {
		select {
		case m := <-msgs:
			var st struct {
				Status            string `json:"status"`
				OperationID       string `json:"operationId"`
				RegistrationState struct {
					AssignedHub string `json:"assignedHub"`
					DeviceID    string `json:"deviceId"`
				} `json:"registrationState"`
			}
			if err := json.Unmarshal(m.Payload(), &st); err != nil {
				return fmt.Errorf("%s: %s", m.Topic(), m.Payload())
			}
			switch st.Status {
			case "assigning":
				h.client.Publish("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId="+url.QueryEscape(st.OperationID), 1, false, "")
			case "assigned":
				h.assigned.hub, h.assigned.deviceID = st.RegistrationState.AssignedHub, st.RegistrationState.DeviceID
				return nil
			default:
				return fmt.Errorf("registration %s: %s", m.Topic(), m.Payload())
			}
		case <-deadline:
			return errors.New("DPS did not answer")
		}
	}
}

func (w *world) dpsReasonIs(check string) error {
	for _, r := range w.dpsReasons() {
		if r.Check == check {
			return nil
		}
	}
	return fmt.Errorf("no %q among the DPS reasons %v", check, w.dpsReasons())
}

func (w *world) assignedTo(deviceID, host string) error {
	if w.hub.connErr != nil {
		return fmt.Errorf("DPS refused: CONNACK %d: %w", w.hub.connCode, w.hub.connErr)
	}
	if w.hub.assigned.deviceID != deviceID || w.hub.assigned.hub != host {
		return fmt.Errorf("assigned %q to %q", w.hub.assigned.deviceID, w.hub.assigned.hub)
	}
	return nil
}

func (w *world) connectWithCert() error {
	id, host := w.hub.assigned.deviceID, w.hub.assigned.hub
	w.dial(host, w.hub.emu.HubRoot(), id, host+"/"+id+"/?api-version=2021-04-12", "", w.deviceTLSCert(), nil)
	return w.deviceConnected()
}

func (w *world) hubCA(name string) error {
	ca, ok := w.hub.authorities[name]
	if !ok {
		return fmt.Errorf("no CA %q", name)
	}
	_, err := w.hub.emu.AddCA(name, ca.CertPEM(), true)
	return err
}

func (w *world) caDevice(id string) error {
	_, err := w.hub.emu.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthCA})
	return err
}

func (w *world) boardConnects(name string) error {
	h := &w.hub
	host, id := h.emu.HostName(), h.device.Cert.Subject.CommonName
	roots, err := h.emu.PKI().RootPool(h.emu.HubRoot())
	if err != nil {
		return err
	}
	b := &boardConn{lost: make(chan error, 1)}
	o := paho.NewClientOptions().AddBroker("tls://" + h.emu.MQTTAddr()).SetClientID(id).
		SetUsername(host + "/" + id + "/?api-version=2021-04-12").
		SetTLSConfig(&tls.Config{RootCAs: roots, ServerName: host, MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*w.deviceTLSCert()}}).
		SetProtocolVersion(4).SetAutoReconnect(false).SetConnectRetry(false).SetConnectTimeout(10 * time.Second).
		SetConnectionLostHandler(func(_ paho.Client, err error) { b.lost <- err })
	b.c = paho.NewClient(o)
	tok := b.c.Connect()
	if !tok.WaitTimeout(15*time.Second) || tok.Error() != nil {
		return fmt.Errorf("board %s: connect: %v", name, tok.Error())
	}
	if h.boards == nil {
		h.boards = map[string]*boardConn{}
	}
	h.boards[name] = b
	return nil
}

func (w *world) boardConnected(name string) error {
	b := w.hub.boards[name]
	if b == nil || !b.c.IsConnectionOpen() {
		return fmt.Errorf("board %s is not connected", name)
	}
	return nil
}

// boardLost: paho reports the socket closing as EOF; a server DISCONNECT
// packet (invalid in MQTT 3.1.1, which mochi would otherwise send) would
// surface differently.
func (w *world) boardLost(name string) error {
	b := w.hub.boards[name]
	if b == nil {
		return fmt.Errorf("no board %s", name)
	}
	select {
	case err := <-b.lost:
		if err == nil || !strings.Contains(err.Error(), "EOF") {
			return fmt.Errorf("board %s lost its connection with %v, want the socket closed (EOF)", name, err)
		}
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("board %s is still connected", name)
	}
}

func (w *world) hubReasonFor(check, deviceID string) error {
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range w.hub.emu.Reasons() {
			if string(r.Check) == check && r.DeviceID == deviceID {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no %q reason for %q among %v", check, deviceID, w.hub.emu.Reasons())
}
