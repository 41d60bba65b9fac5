package features

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/hub"
	"github.com/modemsim/modemsim/hubadmin"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
	"github.com/modemsim/modemsim/scenarios"
)

// spwf04World is an SPWF04 scenario: a hub on the thread's date with its
// own stand-in PKI at that date, the module on a pty, the host's port.
type spwf04World struct {
	w      *world
	start  time.Time // the scenario's simulated date at its start
	began  time.Time // wall time at the start
	pkiDir string
	emu    *hub.Emulator
	stop   context.CancelFunc
	admin  *httptest.Server
	client *hubadmin.Client

	board  *board.Board
	cancel context.CancelFunc
	done   chan error
	port   *hosttool.Serial

	keys   map[string]string // device → primary key
	token  string
	answer []string // lines after the echo of the last command
	winds  []string // indications read while waiting for an answer

	telMu     sync.Mutex
	telemetry []hubadmin.TelemetryEvent
	telStop   context.CancelFunc
}

// ap is the lab's access point in every SPWF04 scenario.
const spwf04SSID, spwf04Key = scenarios.LabSSID, scenarios.LabKey

func (w *world) registerSPWF04(sc *godog.ScenarioContext) {
	s := &spwf04World{w: w, keys: map[string]string{}}
	w.spwf04 = s
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if err != nil && s.board != nil {
			fmt.Fprintf(os.Stderr, "\n--- SPWF04 transcript ---\n%s--- end ---\n", s.board.Transcript())
		}
		if err != nil && s.emu != nil {
			for _, r := range s.emu.Reasons() {
				fmt.Fprintf(os.Stderr, "hub reason: %s %s %s\n", r.DeviceID, r.Check, r.Detail)
			}
		}
		s.close()
		return ctx, nil
	})
	sc.Step(`^a SAS device "([^"]*)" in it$`, s.sasDevice)
	sc.Step(`^an X\.509 device "([^"]*)" in it$`, s.x509Device)
	sc.Step(`^an SPWF04SA module with its clock set to the same date$`, s.module)
	sc.Step(`^the module joined the lab's Wi-Fi$`, s.joinWiFi)
	sc.Step(`^the host sets the module's clock to (\d{4}-\d\d-\d\d)$`, s.setClock)
	sc.Step(`^a SAS token for "([^"]*)" that expires at (\d+)$`, s.sasToken)
	sc.Step(`^a SAS token for "([^"]*)" valid for a day$`, s.sasTokenDay)
	sc.Step(`^the host writes "([^"]*)"$`, s.sends)
	sc.Step(`^the host writes "([^"]*)" and the file "([^"]*)"$`, s.sendsFile)
	sc.Step(`^the host writes "([^"]*)" and the Baltimore root in DER$`, s.sendsBaltimoreDER)
	sc.Step(`^the host writes "([^"]*)" and the bytes "([0-9a-f ]+)"$`, s.sendsBytes)
	sc.Step(`^the host writes "([^"]*)" and the text '([^']*)'$`, s.sendsText)
	sc.Step(`^the file "([^"]*)" is (\d+) bytes long$`, s.fileLength)
	sc.Step(`^the module answers:$`, s.answers)
	sc.Step(`^the module answers "([^"]*)"$`, s.answersOne)
	sc.Step(`^the module indicates "([^"]*)"$`, s.indicates)
	sc.Step(`^the hub's admin API is watching the telemetry$`, s.watchTelemetry)
	sc.Step(`^the hub's admin API shows the telemetry '([^']*)' from "([^"]*)"$`, s.showsTelemetry)
	sc.Step(`^the admin API sends the cloud-to-device message "([^"]*)" to "([^"]*)"$`, s.sendC2D)
	sc.Step(`^the module indicates an MQTT message on "([^"]*)" carrying "([^"]*)"$`, s.indicatesMessage)
}

func (s *spwf04World) now() time.Time { return s.start.Add(time.Since(s.began)) }

func (s *spwf04World) hubOn(host, date string) error {
	var err error
	if s.start, err = time.Parse("2006-01-02", date); err != nil {
		return err
	}
	s.start, s.began = s.start.Add(12*time.Hour), time.Now()
	// A PKI of the thread's date: its server chains are valid then.
	s.pkiDir = filepath.Join(s.w.dir, "pki")
	p, err := pki.LoadOrCreate(s.pkiDir, pki.WithClock(s.now))
	if err != nil {
		return err
	}
	s.emu, err = hub.New(filepath.Join(s.w.dir, "hub"), hub.WithPKI(p), hub.WithHostName(host), hub.WithClock(s.now),
		hub.WithMQTTAddr("127.0.0.1:0"), hub.WithWebSocketAddr("127.0.0.1:0"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	return s.emu.Start(ctx)
}

func (s *spwf04World) sasDevice(id string) error {
	d, err := s.emu.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthSAS})
	if err != nil {
		return err
	}
	s.keys[id] = d.PrimaryKey
	return nil
}

func (s *spwf04World) x509Device(id string) error {
	_, err := s.emu.CreateDevice(hub.DeviceSpec{ID: id, Auth: hub.AuthSelfSigned,
		PrimaryThumbprint: strings.Repeat("ab", 32)})
	return err
}

func (s *spwf04World) module() error {
	b, err := board.NewCatalog().Open(board.Config{
		Dir: filepath.Join(s.w.dir, "spwf04"), Kind: board.KindSPWF04,
		Hardware: firmware.Knobs{"ap_ssid": spwf04SSID, "ap_key": spwf04Key, "pki_dir": s.pkiDir,
			"hub_mqtt": s.emu.MQTTAddr(), "hub_websocket": s.emu.WebSocketAddr()},
		Firmware: firmware.Knobs{"join_retry": "1h"},
		Clock:    s.now,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.board, s.cancel, s.done = b, cancel, make(chan error, 1)
	go func() { s.done <- b.Run(ctx) }()
	if s.port, err = hosttool.OpenSerial(b.PortPath()); err != nil {
		return err
	}
	// Set the module clock as ST's driver does before TLS (spwf04.md §4).
	if err := s.exchange([]byte(fmt.Sprintf("AT+S.TIME=%d\r", s.now().Unix()))); err != nil {
		return err
	}
	return s.answersOne("AT-S.OK")
}

func (s *spwf04World) setClock(date string) error {
	t, err := time.Parse("2006-01-02", date)
	if err != nil {
		return err
	}
	if err := s.exchange([]byte(fmt.Sprintf("AT+S.TIME=%d\r", t.Unix()))); err != nil {
		return err
	}
	return s.answersOne("AT-S.OK")
}

// joinWiFi is the course hand-out's recipe (spwf04.md §7), then the wait
// for the IPv4 `WiFi Up` line.
func (s *spwf04World) joinWiFi() error {
	for _, c := range []string{"AT+S.SSIDTXT=" + spwf04SSID, "AT+S.SCFG=wifi_wpa_psk_text," + spwf04Key,
		"AT+S.SCFG=wifi_priv_mode,2", "AT+S.SCFG=wifi_mode,1", "AT+S.WIFI=1"} {
		if err := s.exchange([]byte(c + "\r")); err != nil {
			return err
		}
		if err := s.answersOne("AT-S.OK"); err != nil {
			return err
		}
	}
	for {
		l, err := s.nextIndication()
		if err != nil {
			return err
		}
		if strings.HasPrefix(l, "+WIND:24:WiFi Up:0:") {
			return nil
		}
	}
}

func (s *spwf04World) sasToken(id, se string) error {
	n, err := strconv.ParseInt(se, 10, 64)
	if err != nil {
		return err
	}
	return s.signToken(id, time.Unix(n, 0))
}

func (s *spwf04World) sasTokenDay(id string) error { return s.signToken(id, s.now().Add(24*time.Hour)) }

func (s *spwf04World) signToken(id string, expiry time.Time) error {
	key, err := base64.StdEncoding.DecodeString(s.keys[id])
	if err != nil {
		return fmt.Errorf("device %q key: %w", id, err)
	}
	s.token = sas.Sign(url.QueryEscape(s.emu.HostName()+"/devices/"+id), key, expiry, "")
	return nil
}

// expand puts the scenario's SAS token in place of {SAS}.
func (s *spwf04World) expand(cmd string) string { return strings.ReplaceAll(cmd, "{SAS}", s.token) }

func (s *spwf04World) sends(cmd string) error { return s.exchange([]byte(s.expand(cmd) + "\r")) }

func (s *spwf04World) sendsFile(cmd, name string) error {
	b, err := scenarios.File(name)
	if err != nil {
		return err
	}
	return s.exchange(append([]byte(cmd+"\r"), b...))
}

func (s *spwf04World) sendsBaltimoreDER(cmd string) error {
	b, err := scenarios.RealRootPEM("Baltimore CyberTrust Root")
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		return errors.New("no PEM block in the Baltimore root")
	}
	return s.exchange(append([]byte(cmd+"\r"), blk.Bytes...))
}

func (s *spwf04World) sendsBytes(cmd, hexText string) error {
	b, err := hex.DecodeString(strings.ReplaceAll(hexText, " ", ""))
	if err != nil {
		return err
	}
	return s.exchange(append([]byte(cmd+"\r"), b...))
}

func (s *spwf04World) sendsText(cmd, text string) error {
	return s.exchange(append([]byte(cmd+"\r"), unescape(text)...))
}

func (s *spwf04World) fileLength(name string, n int) error {
	b, err := scenarios.File(name)
	if err != nil {
		return err
	}
	if len(b) != n {
		return fmt.Errorf("%s is %d bytes, want %d", name, len(b), n)
	}
	return nil
}

// exchange writes raw (a command, CR, maybe its payload), then reads the
// echo of the command and the answer up to its AT-S.OK or AT-S.ERROR.
// Indications before the echo are kept for the indication steps.
func (s *spwf04World) exchange(raw []byte) error {
	cmd, _, _ := bytes.Cut(raw, []byte("\r"))
	if err := s.port.Write(raw); err != nil {
		return err
	}
	s.answer = nil
	echoed := false
	for {
		l, err := s.port.ReadLine(30 * time.Second)
		if err != nil {
			return fmt.Errorf("answer to %q after %q: %w", cmd, s.answer, err)
		}
		line := strings.TrimSuffix(string(l), "\r\n")
		switch {
		case !echoed && line == string(cmd):
			echoed = true
		case !echoed && strings.HasPrefix(line, "+WIND:"):
			s.winds = append(s.winds, line)
		case !echoed:
			return fmt.Errorf("to %q the module sent %q before the echo", cmd, line)
		default:
			s.answer = append(s.answer, line)
			if line == "AT-S.OK" || strings.HasPrefix(line, "AT-S.ERROR:") {
				return nil
			}
		}
	}
}

func (s *spwf04World) answers(doc *godog.DocString) error {
	want := strings.Split(strings.TrimRight(doc.Content, "\n"), "\n")
	if strings.Join(s.answer, "\n") != strings.Join(want, "\n") {
		return fmt.Errorf("the module answered\n%s\nwant\n%s", strings.Join(s.answer, "\n"), strings.Join(want, "\n"))
	}
	return nil
}

func (s *spwf04World) answersOne(want string) error {
	if len(s.answer) != 1 || s.answer[0] != want {
		return fmt.Errorf("the module answered %q, want only %q", s.answer, want)
	}
	return nil
}

// nextIndication is the next +WIND line: one read before an echo, or the
// next line on the port.
func (s *spwf04World) nextIndication() (string, error) {
	if len(s.winds) > 0 {
		l := s.winds[0]
		s.winds = s.winds[1:]
		return l, nil
	}
	l, err := s.port.ReadLine(15 * time.Second)
	if err != nil {
		return "", fmt.Errorf("waiting for an indication: %w", err)
	}
	return strings.TrimSuffix(string(l), "\r\n"), nil
}

func (s *spwf04World) indicates(want string) error {
	got, err := s.nextIndication()
	if err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("the module indicated %q, want %q", got, want)
	}
	return nil
}

func (s *spwf04World) hubReason(check string) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var seen []string
		for _, r := range s.emu.Reasons() {
			if string(r.Check) == check {
				return nil
			}
			seen = append(seen, string(r.Check))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the hub recorded %q, not %q", seen, check)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *spwf04World) adminClient() *hubadmin.Client {
	if s.admin == nil {
		s.admin = httptest.NewServer(hubadmin.NewHandler(s.emu))
		s.client = hubadmin.NewClient(s.admin.URL, s.admin.Client())
	}
	return s.client
}

func (s *spwf04World) watchTelemetry() error {
	c := s.adminClient()
	ctx, cancel := context.WithCancel(context.Background())
	s.telStop = cancel
	ready := make(chan struct{})
	go func() {
		close(ready)
		_ = c.Telemetry(ctx, "", func(ev hubadmin.TelemetryEvent) error {
			s.telMu.Lock()
			s.telemetry = append(s.telemetry, ev)
			s.telMu.Unlock()
			return nil
		})
	}()
	<-ready
	// The stream is open once the hub answers a request made after it.
	_, err := c.PendingC2D(ctx, "nobody")
	_ = err
	return nil
}

func (s *spwf04World) showsTelemetry(payload, device string) error {
	payload = unescape(payload)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		s.telMu.Lock()
		for _, ev := range s.telemetry {
			if ev.DeviceID == device && string(ev.Payload) == payload {
				s.telMu.Unlock()
				return nil
			}
		}
		s.telMu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the admin API showed no telemetry %q from %q", payload, device)
}

func (s *spwf04World) sendC2D(payload, device string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := s.adminClient().SendC2D(ctx, device, hubadmin.C2DRequest{Payload: payload})
	return err
}

// indicatesMessage reads `+WIND:86:MQTT Published:0:<topic>:<qos>:<ret>:
// <dup>:<len>:<total>:<payload>` and checks topic prefix and payload.
func (s *spwf04World) indicatesMessage(topicPrefix, payload string) error {
	l, err := s.nextIndication()
	if err != nil {
		return err
	}
	rest, ok := strings.CutPrefix(l, "+WIND:86:MQTT Published:0:")
	if !ok {
		return fmt.Errorf("the module indicated %q, want +WIND:86", l)
	}
	f := strings.SplitN(rest, ":", 7)
	if len(f) != 7 || !strings.HasPrefix(f[0], topicPrefix) {
		return fmt.Errorf("+WIND:86 fields %q, want topic %q…", f, topicPrefix)
	}
	if f[4] != strconv.Itoa(len(payload)) || f[5] != f[4] || f[6] != payload {
		return fmt.Errorf("+WIND:86 carried len %s total %s %q, want %q", f[4], f[5], f[6], payload)
	}
	return nil
}

func (s *spwf04World) close() {
	if s.telStop != nil {
		s.telStop()
	}
	if s.port != nil {
		s.port.Close()
	}
	if s.board != nil {
		s.cancel()
		<-s.done
		s.board.Close()
	}
	if s.admin != nil {
		s.admin.Close()
	}
	if s.emu != nil {
		s.stop()
		s.emu.Close()
	}
}
