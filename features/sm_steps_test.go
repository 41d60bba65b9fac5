package features

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/persona/serialmodem"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
	"github.com/modemsim/modemsim/scenarios"
)

// smWorld is what the Serial Modem scenarios add to a scenario: the
// simulation date, the hub's admin API, the bytes the board printed and not
// yet matched, and the CSR the modem made.
type smWorld struct {
	clock   func() time.Time
	admin   *httptest.Server
	stopTel context.CancelFunc
	telMu   sync.Mutex
	tel     []hubadmin.TelemetryEvent
	pending []byte
	csr     *x509.CertificateRequest
}

func (w *world) registerSerialModem(sc *godog.ScenarioContext) {
	sc.After(func(ctx context.Context, _ *godog.Scenario, _ error) (context.Context, error) {
		if w.sm.stopTel != nil {
			w.sm.stopTel()
		}
		if w.sm.admin != nil {
			w.sm.admin.Close()
		}
		return ctx, nil
	})
	// The SPWF04 scenarios run their module against a hub of their own
	// (spwf04_steps_test.go); the same words start either.
	sc.Step(`^an IoT hub "([^"]*)" on (\d{4}-\d{2}-\d{2})$`, func(host, date string) error {
		if w.inSPWF04Feature() {
			return w.spwf04.hubOn(host, date)
		}
		return w.hubOnDate(host, date)
	})
	sc.Step(`^an? (nRF9151|nRF9161|nRF9160) DK running the Serial Modem application$`, w.serialModemBoard)
	sc.Step(`^the host stores the real "([^"]*)" PEM in tag (\d+) as type (\d+)$`, w.storeRealRoot)
	sc.Step(`^the host stores a self-made root named "([^"]*)" in tag (\d+) as type (\d+)$`, w.storeSelfMadeRoot)
	sc.Step(`^the modem registers on the network$`, w.registers)
	sc.Step(`^the host types "(.*)"$`, w.types)
	sc.Step(`^the board prints:$`, w.prints)
	sc.Step(`^the host connects the board as SAS device "([^"]*)" with sec tag (\d+)$`, w.connectSAS)
	sc.Step(`^the host connects the board as "([^"]*)" with sec tag (\d+) and the password:$`, w.connectWithPasswordDoc)
	sc.Step(`^the hub's reason is "([^"]*)"$`, func(check string) error {
		if w.inSPWF04Feature() {
			return w.spwf04.hubReason(check)
		}
		return w.hubReasonIs(check)
	})
	sc.Step(`^the board's transcript says the real "([^"]*)" was replaced by its stand-in$`, w.transcriptMapped)
	sc.Step(`^the host watches the hub's telemetry through its admin API$`, w.watchTelemetry)
	sc.Step(`^the hub's admin API shows the telemetry "([^"]*)" from "([^"]*)"$`, w.telemetryFrom)
	sc.Step(`^the hub's admin API shows the telemetry "([^"]*)" from the CSR's subject$`, func(text string) error {
		return w.telemetryFrom(text, w.sm.csr.Subject.CommonName)
	})
	sc.Step(`^the hub sends "([^"]*)" to "([^"]*)" through its admin API$`, w.sendC2DAdmin)
	sc.Step(`^the board prints "([^"]*)" as an #XMQTTMSG for "([^"]*)", then "([^"]*)"$`, w.printsMessage)
	sc.Step(`^the host generates a key in tag (\d+) with AT%KEYGEN$`, w.keygen)
	sc.Step(`^"([^"]*)" signs the CSR and the host writes the certificate to tag (\d+) as type 1$`, w.signCSRWrite)
	sc.Step(`^the hub has a device for the CSR's subject authenticated by its CA$`, func() error { return w.caDevice(w.sm.csr.Subject.CommonName) })
	sc.Step(`^the host connects the board with its certificate as the CSR's subject with sec tag (\d+)$`, w.connectX509)
	sc.Step(`^the host publishes "([^"]*)" to the device's telemetry topic$`, func(text string) error {
		return w.types(fmt.Sprintf(`AT#XMQTTPUB="devices/%s/messages/events/","%s",1`, w.sm.csr.Subject.CommonName, text))
	})
}

// hubOnDate runs the hub with the simulation clock standing at date: the
// chain it serves follows the root migration.
func (w *world) hubOnDate(host, date string) error {
	day, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return err
	}
	now := day.Add(12 * time.Hour)
	w.sm.clock = func() time.Time { return now }
	if _, err := w.fx.pki(); err != nil {
		return err
	}
	w.fx.dateMu.Lock()
	p, err := pki.LoadOrCreate(w.fx.dir, pki.WithClock(w.sm.clock))
	w.fx.dateMu.Unlock()
	if err != nil {
		return err
	}
	return w.startHub(host, p, w.sm.clock)
}

func (w *world) startHub(host string, p *pki.PKI, clock func() time.Time) error {
	h := &w.hub
	h.authorities = map[string]*pki.Authority{}
	var err error
	h.emu, err = hub.New(filepath.Join(w.dir, "hub"), hub.WithPKI(p), hub.WithHostName(host), hub.WithClock(clock),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"),
		hub.WithDPSOptions(dps.WithAssigningPolls(0), dps.WithRetryAfter(time.Second)))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	return h.emu.Start(ctx)
}

func (w *world) boardClock() func() time.Time {
	if w.sm.clock != nil {
		return w.sm.clock
	}
	return time.Now
}

func (w *world) serialModemBoard(model string) error {
	e := w.hub.emu
	if e == nil {
		return errors.New("the scenario has no hub to connect to")
	}
	w.model = strings.ToLower(model)
	b, err := board.NewCatalog().Open(board.Config{
		Dir: filepath.Join(w.dir, "nrf91"), Persona: serialmodem.Name, Hardware: firmware.Knobs{"model": w.model},
		Clock:   w.boardClock(),
		Network: &board.Network{Endpoint: endpointOf(e), Trust: e.PKI(), Names: []string{e.HostName()}},
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.board, w.cancel, w.done = b, cancel, make(chan error, 1)
	go func() { w.done <- b.Run(ctx) }()
	if err := w.hostOpens(); err != nil {
		return err
	}
	return w.types("AT")
}

// types sends one command line, CR-terminated as the Serial Modem's
// default; the answer is judged by "the board prints".
func (w *world) types(cmd string) error {
	cmd = strings.ReplaceAll(cmd, `\"`, `"`)
	w.lastSent = cmd
	if err := w.serial.Write([]byte(cmd + "\r")); err != nil {
		return err
	}
	if cmd == "AT" {
		return w.expectBytes("\r\nOK\r\n")
	}
	return nil
}

// expectBytes waits until the board has printed len(want) more bytes and
// requires them to be exactly want.
func (w *world) expectBytes(want string) error {
	deadline := time.Now().Add(30 * time.Second)
	for len(w.sm.pending) < len(want) && time.Now().Before(deadline) {
		line, err := w.serial.ReadLine(time.Until(deadline))
		w.sm.pending = append(w.sm.pending, line...)
		if err != nil && !errors.Is(err, hosttool.ErrTimeout) {
			return err
		}
	}
	n := min(len(want), len(w.sm.pending))
	got := string(w.sm.pending[:n])
	w.sm.pending = w.sm.pending[n:]
	if got != want {
		return fmt.Errorf("after %.80q the board printed\n%q\nwant\n%q", w.lastSent, got, want)
	}
	return nil
}

func (w *world) prints(doc *godog.DocString) error { return w.expectBytes(docBytes(doc)) }

func (w *world) storeRealRoot(name, tag, typ string) error {
	b, err := scenarios.RealRootPEM(name)
	if err != nil {
		return err
	}
	return w.storePEM(string(b), tag, typ)
}

func (w *world) storeSelfMadeRoot(name, tag, typ string) error {
	now := w.boardClock()()
	ca, err := pki.NewCA(rand.Reader, name, nil, now.Add(-time.Hour), now.AddDate(5, 0, 0))
	if err != nil {
		return err
	}
	return w.storePEM(string(ca.CertPEM()), tag, typ)
}

func (w *world) storePEM(pem, tag, typ string) error {
	if err := w.types(fmt.Sprintf(`AT%%CMNG=0,%s,%s,"%s"`, tag, typ, pem)); err != nil {
		return err
	}
	return w.expectBytes("\r\nOK\r\n")
}

func (w *world) registers() error {
	if err := w.types("AT+CFUN=1"); err != nil {
		return err
	}
	if err := w.expectBytes("\r\nOK\r\n"); err != nil {
		return err
	}
	n := w.nrf91()
	deadline := time.Now().Add(20 * time.Second)
	for !n.Registered() {
		if time.Now().After(deadline) {
			return errors.New("the modem did not register")
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

func (w *world) connect(clientID, user, password, tag string) error {
	if err := w.types(fmt.Sprintf(`AT#XMQTTCFG="%s"`, clientID)); err != nil {
		return err
	}
	if err := w.expectBytes("\r\nOK\r\n"); err != nil {
		return err
	}
	return w.types(fmt.Sprintf(`AT#XMQTTCON=1,"%s","%s","%s",8883,%s`, user, password, w.hub.emu.HostName(), tag))
}

func (w *world) userName(id string) string {
	return w.hub.emu.HostName() + "/" + id + "/?api-version=2021-04-12"
}

// connectSAS signs a token with the device's primary key over the
// resource string as the SDKs escape it, valid for an hour of the
// simulation clock.
func (w *world) connectSAS(id, tag string) error {
	d, err := w.hub.emu.Device(id)
	if err != nil {
		return err
	}
	key, err := base64.StdEncoding.DecodeString(d.PrimaryKey)
	if err != nil {
		return err
	}
	token := sas.Sign(url.QueryEscape(w.hub.emu.HostName()+"/devices/"+id), key, w.boardClock()().Add(time.Hour), "")
	return w.connect(id, w.userName(id), token, tag)
}

func (w *world) connectWithPasswordDoc(id, tag string, doc *godog.DocString) error {
	return w.connect(id, w.userName(id), strings.TrimSpace(doc.Content), tag)
}

func (w *world) connectX509(tag string) error {
	id := w.sm.csr.Subject.CommonName
	return w.connect(id, w.userName(id), "", tag)
}

func (w *world) hubReasonIs(check string) error {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range w.hub.emu.Reasons() {
			if string(r.Check) == check {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("no %q among the hub's reasons %v", check, w.hub.emu.Reasons())
}

func (w *world) transcriptMapped(name string) error {
	want := fmt.Sprintf("real public root %q", name)
	if tr := w.board.Transcript(); !strings.Contains(tr, want) || !strings.Contains(tr, "stand-in") {
		return fmt.Errorf("the transcript does not show the mapping of %s:\n%s", name, tr)
	}
	return nil
}

func (w *world) adminClient() *hubadmin.Client {
	if w.sm.admin == nil {
		w.sm.admin = httptest.NewServer(hubadmin.NewHandler(w.hub.emu, hubadmin.WithClock(w.boardClock())))
	}
	return hubadmin.NewClient(w.sm.admin.URL, nil)
}

func (w *world) watchTelemetry() error {
	c := w.adminClient()
	ctx, cancel := context.WithCancel(context.Background())
	w.sm.stopTel = cancel
	go func() {
		_ = c.Telemetry(ctx, "", func(ev hubadmin.TelemetryEvent) error {
			w.sm.telMu.Lock()
			w.sm.tel = append(w.sm.tel, ev)
			w.sm.telMu.Unlock()
			return nil
		})
	}()
	return nil
}

func (w *world) telemetryFrom(text, device string) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.sm.telMu.Lock()
		for _, ev := range w.sm.tel {
			if ev.DeviceID == device && string(ev.Payload) == text {
				w.sm.telMu.Unlock()
				return nil
			}
		}
		w.sm.telMu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("the admin API showed no %q from %s: %v", text, device, w.sm.tel)
}

func (w *world) sendC2DAdmin(text, device string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := w.adminClient().SendC2D(ctx, device, hubadmin.C2DRequest{Payload: text})
	return err
}

// printsMessage checks "\r\n#XMQTTMSG: <topic_len>,<payload_len>\r\n<topic>\r\n<payload>\r\n"
// and the event after it; the topic carries the hub's message ID.
func (w *world) printsMessage(payload, device, event string) error {
	if err := w.expectBytes("\r\n#XMQTTMSG: "); err != nil {
		return err
	}
	var lines []string
	for len(lines) < 3 {
		i := strings.Index(string(w.sm.pending), "\r\n")
		if i < 0 {
			line, err := w.serial.ReadLine(10 * time.Second)
			w.sm.pending = append(w.sm.pending, line...)
			if err != nil {
				return fmt.Errorf("#XMQTTMSG incomplete: %q: %w", w.sm.pending, err)
			}
			continue
		}
		lines = append(lines, string(w.sm.pending[:i]))
		w.sm.pending = w.sm.pending[i+2:]
	}
	head, topic, got := lines[0], lines[1], lines[2]
	if want := fmt.Sprintf("%d,%d", len(topic), len(payload)); head != want {
		return fmt.Errorf("#XMQTTMSG: %s, want %s", head, want)
	}
	if !strings.HasPrefix(topic, "devices/"+device+"/messages/devicebound/") || got != payload {
		return fmt.Errorf("topic %q payload %q", topic, got)
	}
	return w.expectBytes("\r\n" + event + "\r\n")
}

var keygenLine = regexp.MustCompile(`^\r\n%KEYGEN: "([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)"\r\n\r\nOK\r\n`)

func (w *world) keygen(tag string) error {
	if err := w.types("AT%KEYGEN=" + tag + ",2,0"); err != nil {
		return err
	}
	deadline := time.Now().Add(30 * time.Second)
	var m []string
	for m == nil && time.Now().Before(deadline) {
		line, err := w.serial.ReadLine(time.Until(deadline))
		w.sm.pending = append(w.sm.pending, line...)
		if err != nil && !errors.Is(err, hosttool.ErrTimeout) {
			return err
		}
		m = keygenLine.FindStringSubmatch(string(w.sm.pending))
	}
	if m == nil {
		return fmt.Errorf("the board answered %q", w.sm.pending)
	}
	w.sm.pending = w.sm.pending[len(m[0]):]
	der, err := base64.RawURLEncoding.DecodeString(m[1])
	if err != nil {
		return err
	}
	w.sm.csr, err = modemkey.ParseCSR(der)
	return err
}

func (w *world) signCSRWrite(caName, tag string) error {
	ca, ok := w.hub.authorities[caName]
	if !ok {
		return fmt.Errorf("no CA %q", caName)
	}
	now := w.boardClock()()
	cert, err := pki.SignCSR(w.sm.csr, ca, now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		return err
	}
	return w.storePEM(string(pki.EncodeCertsPEM(cert)), tag, "1")
}

func endpointOf(e *hub.Emulator) netstack.Endpoint {
	return netstack.Endpoint{MQTT: e.MQTTAddr(), WebSocket: e.WebSocketAddr()}
}
