package features

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/scenarios"
)

// world is one scenario's state: a board on its own pty and state dir, the
// host's open port, and what the last tool run returned.
type world struct {
	t      *testing.T
	fx     *fixtures
	hub    hubWorld
	sm     smWorld
	spwf04 *spwf04World
	// fleet is D4's boards, fleetStops what stops them.
	fleet      []*keygenBoard
	fleetStops []func()
	// feature is the file of the running scenario.
	feature string
	dir     string
	model   string
	board   *board.Board
	cancel  context.CancelFunc
	done    chan error

	serial   *hosttool.Serial // the host's port for raw AT steps
	toolLog  [][]hosttool.Event
	files    map[string]string
	lastErr  error
	creds    []hosttool.Credential
	answer   []string // lines of the last raw exchange
	imei     string
	shell    bool
	lastSent string
}

func newWorld(t *testing.T, fx *fixtures) *world {
	return &world{t: t, fx: fx, files: map[string]string{}}
}

// linePause shortens nrfcredstore 2.x's 0.1 s sleep per line: the bytes on
// the wire are the same, the suite just waits less.
const linePause = 5 * time.Millisecond

func (w *world) register(sc *godog.ScenarioContext) {
	sc.Before(func(ctx context.Context, s *godog.Scenario) (context.Context, error) {
		w.feature = s.Uri
		dir, err := os.MkdirTemp("", "modemsim-feature-*")
		w.dir = dir
		return ctx, err
	})
	sc.After(func(ctx context.Context, _ *godog.Scenario, err error) (context.Context, error) {
		if err != nil && w.board != nil {
			tr := w.board.Transcript()
			ctx = godog.Attach(ctx, godog.Attachment{FileName: "transcript.txt", MediaType: "text/plain", Body: []byte(tr)})
			fmt.Fprintf(os.Stderr, "\n--- AT transcript of the failed scenario ---\n%s--- end of transcript ---\n", tr)
		}
		w.stopBoard()
		os.RemoveAll(w.dir)
		return ctx, nil
	})

	w.registerKeygen(sc)
	w.registerHub(sc)
	w.registerSerialModem(sc)
	w.registerZShell(sc)
	w.registerSPWF04(sc)
	w.registerAzureSample(sc)
	w.registerDemos(sc)
	sc.Step(`^an? (nRF9151|nRF9161|nRF9160) DK running the at_client sample$`, w.boardRunning)
	sc.Step(`^the simulator restarts with the same state directory$`, w.restart)

	sc.Step(`^nrfcredstore 2\.0\.9 connects$`, w.v2Connects)
	sc.Step(`^it chose AT mode, not shell mode$`, w.choseATMode)
	sc.Step(`^the board answered "([^"]*)" with exactly "([^"]*)" each time$`, w.answeredEachTime)
	sc.Step(`^the board answered "([^"]*)" with its IMEI and "OK"$`, w.answeredIMEI)
	sc.Step(`^the board answered "([^"]*)" with exactly "([^"]*)"$`, w.answeredExactly)
	sc.Step(`^the board answered "([^"]*)" with exactly:$`, w.answeredExactlyDoc)
	sc.Step(`^nrfcredstore (1\.1\.1|2\.0\.9) lists the credentials(?: of tag (\d+))?$`, w.toolList)
	sc.Step(`^nrfcredstore (1\.1\.1|2\.0\.9) (?:writes|wrote) "([^"]*)" to tag (\d+) as (ROOT_CA_CERT|CLIENT_CERT|CLIENT_KEY|PSK)$`, w.toolWrite)
	sc.Step(`^nrfcredstore (1\.1\.1|2\.0\.9) deletes tag (\d+) type (ROOT_CA_CERT|CLIENT_CERT|CLIENT_KEY|PSK)$`, w.toolDelete)
	sc.Step(`^nrfcredstore 2\.0\.9 deletes all credentials$`, w.toolDeleteAll)
	sc.Step(`^nrfcredstore 2\.0\.9 reads the IMEI$`, w.toolIMEI)
	sc.Step(`^it succeeds$`, w.succeeds)
	sc.Step(`^it fails with "([^"]*)"$`, w.failsWith)
	sc.Step(`^it lists nothing$`, w.listsNothing)
	sc.Step(`^it lists:$`, w.lists)
	sc.Step(`^every credential listed is one of Nordic's, at tags 4294967292 to 4294967294$`, w.onlyNordic)
	sc.Step(`^it prints the board's IMEI, 15 digits with a valid Luhn check digit$`, w.printsIMEI)
	sc.Step(`^the file "([^"]*)" was saved with CRLF line ends$`, w.fileCRLF)

	sc.Step(`^the host opened the port$`, w.hostOpens)
	sc.Step(`^the host sent "([^"]*)" and "([^"]*)"$`, w.hostSentTwo)
	sc.Step(`^the host sends "([^"]*)"$`, w.hostSends)
	sc.Step(`^the host writes "([^"]*)" with (LF|CRLF) line ends( and no final newline)? to tag (\d+) type (\d+)$`, w.hostWritesFile)
	sc.Step(`^the host writes a new EC private key to tag (\d+) type 2$`, w.hostWritesKey)
	sc.Step(`^the board answers "([^"]*)"$`, w.boardAnswers)
	sc.Step(`^the board answers exactly:$`, w.boardAnswersExactly)
	sc.Step(`^the board notifies "([^"]*)"(?: and then "([^"]*)")?$`, w.boardNotifies)
	sc.Step(`^the board answers a %CMNG line for tag (\d+) type (\d+) with the digest of the key, then "OK"$`, w.answersKeyDigest)
	sc.Step(`^the board answers the digest "([^"]*)" and the certificate with CRLF line ends, then "OK"$`, w.answersCRLFRead)
}

// --- the board ---

func (w *world) boardRunning(model string) error {
	w.model = strings.ToLower(model)
	return w.startBoard()
}

func (w *world) startBoard() error {
	b, err := board.NewCatalog().Open(board.Config{Dir: filepath.Join(w.dir, "nrf91"), Hardware: firmware.Knobs{"model": w.model}})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.board, w.cancel, w.done = b, cancel, make(chan error, 1)
	go func() { w.done <- b.Run(ctx) }()
	return nil
}

// inSPWF04Feature reports whether the scenario is one of the SPWF04 thread's.
func (w *world) inSPWF04Feature() bool { return strings.Contains(w.feature, "spwf04") }

// nrf91 is the scenario board's nRF91 hardware.
func (w *world) nrf91() *board.NRF91 {
	n, ok := w.board.NRF91()
	if !ok {
		panic("the scenario board is not an nRF91")
	}
	return n
}

func (w *world) stopBoard() {
	if w.serial != nil {
		w.serial.Close()
		w.serial = nil
	}
	if w.board == nil {
		return
	}
	w.cancel()
	<-w.done
	w.board.Close()
	w.board = nil
}

func (w *world) restart() error {
	w.stopBoard()
	return w.startBoard()
}

// --- nrfcredstore runs: each invocation opens, uses and closes the port ---

func (w *world) withTool(version string, f func(v1 *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error) error {
	s, err := hosttool.OpenSerial(w.board.PortPath())
	if err != nil {
		return err
	}
	defer func() {
		w.toolLog = append(w.toolLog, s.Log())
		s.Close()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if version == "1.1.1" {
		v1 := &hosttool.CredStoreV1{S: s}
		if err := v1.Start(); err != nil {
			return err
		}
		w.lastErr = f(v1, nil)
		return nil
	}
	v2 := &hosttool.CredStoreV2{S: s, Pause: linePause}
	if w.shell, err = v2.Start(ctx); err != nil {
		return err
	}
	w.lastErr = f(nil, v2)
	return nil
}

var credTypes = map[string]int{"ROOT_CA_CERT": 0, "CLIENT_CERT": 1, "CLIENT_KEY": 2, "PSK": 3}

func (w *world) v2Connects() error {
	return w.withTool("2.0.9", func(_ *hosttool.CredStoreV1, _ *hosttool.CredStoreV2) error { return nil })
}

func (w *world) choseATMode() error {
	if w.shell {
		return errors.New("nrfcredstore chose shell mode")
	}
	return nil
}

// answers returns what the tool read after each time it sent `sent` (with
// \r and \n written as escapes in the step text).
func (w *world) answers(sent string) [][]byte {
	var out [][]byte
	for _, log := range w.toolLog {
		out = append(out, hosttool.AnswersTo(log, []byte(unescape(sent)))...)
	}
	if w.serial != nil {
		out = append(out, w.serial.AnswersTo([]byte(unescape(sent)))...)
	}
	return out
}

func unescape(s string) string {
	return strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t").Replace(s)
}

func (w *world) answeredEachTime(sent, want string) error {
	got := w.answers(sent)
	if len(got) == 0 {
		return fmt.Errorf("%q was never sent", sent)
	}
	for i, a := range got {
		if string(a) != unescape(want) {
			return fmt.Errorf("answer %d to %q: got %q, want %q", i+1, sent, a, unescape(want))
		}
	}
	return nil
}

func (w *world) answeredExactly(sent, want string) error {
	got := w.answers(sent)
	if len(got) == 0 {
		return fmt.Errorf("%q was never sent", sent)
	}
	if last := string(got[len(got)-1]); last != unescape(want) {
		return fmt.Errorf("answer to %q: got %q, want %q", sent, last, unescape(want))
	}
	return nil
}

func (w *world) answeredExactlyDoc(sent string, doc *godog.DocString) error {
	return w.answeredExactly(sent, docBytes(doc))
}

// docBytes turns a doc string whose lines end in a written "\r\n" into the
// bytes it shows.
func docBytes(doc *godog.DocString) string {
	var b strings.Builder
	for _, l := range strings.Split(doc.Content, "\n") {
		b.WriteString(unescape(l))
	}
	return b.String()
}

func (w *world) answeredIMEI(sent string) error {
	got := w.answers(sent)
	if len(got) == 0 {
		return fmt.Errorf("%q was never sent", sent)
	}
	want := w.nrf91().Identity().IMEI + "\r\nOK\r\n"
	if string(got[len(got)-1]) != want {
		return fmt.Errorf("answer to %q: got %q, want %q", sent, got[len(got)-1], want)
	}
	return nil
}

func (w *world) fileText(name string) (string, error) {
	if t, ok := w.files[name]; ok {
		return t, nil
	}
	b, err := scenarios.File(name) // the cases' files, defined once
	return string(b), err
}

func (w *world) fileCRLF(name string) error {
	t, err := w.fileText(name)
	if err != nil {
		return err
	}
	w.files[name] = strings.ReplaceAll(t, "\n", "\r\n")
	return nil
}

func (w *world) toolList(version, tag string) error {
	return w.withTool(version, func(v1 *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		var filter []int
		if tag != "" {
			n, _ := strconv.Atoi(tag)
			filter = append(filter, n)
		}
		var err error
		if v1 != nil {
			w.creds, err = v1.List(filter...)
		} else {
			w.creds, err = v2.List(filter...)
		}
		return err
	})
}

func (w *world) toolWrite(version, file, tag, typ string) error {
	text, err := w.fileText(file)
	if err != nil {
		return err
	}
	n, _ := strconv.ParseUint(tag, 10, 64)
	if err := w.withTool(version, func(v1 *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		if v1 != nil {
			return v1.Write(n, credTypes[typ], text)
		}
		return v2.Write(n, credTypes[typ], text)
	}); err != nil {
		return err
	}
	return nil
}

func (w *world) toolDelete(version, tag, typ string) error {
	n, _ := strconv.ParseUint(tag, 10, 64)
	return w.withTool(version, func(v1 *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		if v1 != nil {
			return v1.Delete(n, credTypes[typ])
		}
		return v2.Delete(n, credTypes[typ])
	})
}

func (w *world) toolDeleteAll() error {
	return w.withTool("2.0.9", func(_ *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		_, err := v2.DeleteAll()
		return err
	})
}

func (w *world) toolIMEI() error {
	return w.withTool("2.0.9", func(_ *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		var err error
		w.imei, err = v2.IMEI()
		return err
	})
}

func (w *world) succeeds() error { return w.lastErr }

func (w *world) failsWith(want string) error {
	var ae *hosttool.ATError
	if !errors.As(w.lastErr, &ae) {
		return fmt.Errorf("want failure %q, got %v", want, w.lastErr)
	}
	got := "ERROR"
	if ae.Code >= 0 {
		got = fmt.Sprintf("+CME ERROR: %d", ae.Code)
	}
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

func (w *world) listsNothing() error {
	if w.lastErr != nil {
		return w.lastErr
	}
	if len(w.creds) != 0 {
		return fmt.Errorf("listed %v", w.creds)
	}
	return nil
}

func (w *world) lists(table *godog.Table) error {
	if w.lastErr != nil {
		return w.lastErr
	}
	var want []hosttool.Credential
	for _, row := range table.Rows[1:] {
		tag, _ := strconv.ParseUint(row.Cells[0].Value, 10, 64)
		typ, _ := strconv.Atoi(row.Cells[1].Value)
		want = append(want, hosttool.Credential{Tag: tag, Type: typ, SHA: row.Cells[2].Value})
	}
	if fmt.Sprint(want) != fmt.Sprint(w.creds) {
		return fmt.Errorf("listed %v, want %v", w.creds, want)
	}
	return nil
}

func (w *world) onlyNordic() error {
	if w.lastErr != nil {
		return w.lastErr
	}
	if len(w.creds) == 0 {
		return errors.New("an nRF91x1 lists Nordic's entries; the list is empty")
	}
	for _, c := range w.creds {
		if c.Tag < 4294967292 || c.Tag > 4294967294 {
			return fmt.Errorf("credential %v survived deleteall", c)
		}
	}
	return nil
}

func (w *world) printsIMEI() error {
	if w.lastErr != nil {
		return w.lastErr
	}
	if w.imei != w.nrf91().Identity().IMEI || !nrf91modem.LuhnValid(w.imei) || len(w.imei) != 15 {
		return fmt.Errorf("tool printed %q, board IMEI %q", w.imei, w.nrf91().Identity().IMEI)
	}
	return nil
}

// --- raw AT from the host's terminal ---

func (w *world) hostOpens() error {
	s, err := hosttool.OpenSerial(w.board.PortPath())
	w.serial = s
	return err
}

func (w *world) hostSentTwo(a, b string) error {
	for _, c := range []string{a, b} {
		if err := w.hostSends(c); err != nil {
			return err
		}
		if err := w.boardAnswers("OK"); err != nil {
			return err
		}
	}
	return nil
}

func (w *world) hostSends(cmd string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.lastSent = cmd
	var err error
	w.answer, err = w.serial.Exchange(ctx, cmd, 5*time.Second)
	return err
}

func (w *world) hostWritesFile(file, ending, noFinal, tag, typ string) error {
	text, err := w.fileText(file)
	if err != nil {
		return err
	}
	if ending == "CRLF" {
		text = strings.ReplaceAll(text, "\n", "\r\n")
	}
	if noFinal != "" {
		text = strings.TrimRight(text, "\r\n")
	}
	return w.hostSends(fmt.Sprintf(`AT%%CMNG=0,%s,%s,"%s"`, tag, typ, text))
}

func (w *world) hostWritesKey(tag string) error {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return err
	}
	w.files["key"] = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	return w.hostSends(fmt.Sprintf(`AT%%CMNG=0,%s,2,"%s"`, tag, w.files["key"]))
}

func (w *world) boardAnswers(want string) error {
	if len(w.answer) == 0 || w.answer[len(w.answer)-1] != want {
		return fmt.Errorf("to %.60q the board answered %q, want final %q", w.lastSent, w.answer, want)
	}
	if want != "OK" && len(w.answer) != 1 {
		return fmt.Errorf("to %.60q the board answered %q, want only %q", w.lastSent, w.answer, want)
	}
	return nil
}

func (w *world) boardAnswersExactly(doc *godog.DocString) error {
	got := w.serial.AnswersTo([]byte(w.lastSent + "\r\n"))
	if len(got) == 0 {
		return fmt.Errorf("%q was never sent", w.lastSent)
	}
	if want := docBytes(doc); string(got[len(got)-1]) != want {
		return fmt.Errorf("to %.60q the board answered\n%q\nwant\n%q", w.lastSent, got[len(got)-1], want)
	}
	return nil
}

func (w *world) boardNotifies(first, second string) error {
	for _, want := range []string{first, second} {
		if want == "" {
			continue
		}
		line, err := w.serial.ReadLine(3 * time.Second)
		if err != nil {
			return fmt.Errorf("waiting for %q: %w", want, err)
		}
		if got := strings.TrimRight(string(line), "\r\n"); got != want {
			return fmt.Errorf("board notified %q, want %q", got, want)
		}
	}
	return nil
}

var cmngKeyLine = regexp.MustCompile(`^%CMNG: (\d+),(\d+),"([0-9A-F]{64})"$`)

func (w *world) answersKeyDigest(tag, typ string) error {
	if len(w.answer) != 2 || w.answer[1] != "OK" {
		return fmt.Errorf("board answered %q", w.answer)
	}
	m := cmngKeyLine.FindStringSubmatch(w.answer[0])
	sum := sha256.Sum256([]byte(w.files["key"]))
	if m == nil || m[1] != tag || m[2] != typ || m[3] != strings.ToUpper(hex.EncodeToString(sum[:])) {
		return fmt.Errorf("board answered %q", w.answer[0])
	}
	return nil
}

func (w *world) answersCRLFRead(digest string) error {
	text, err := w.fileText("AmazonRootCA1.pem")
	if err != nil {
		return err
	}
	want := fmt.Sprintf(`%%CMNG: 11,0,"%s","%s"`+"\r\nOK\r\n", digest, strings.ReplaceAll(text, "\n", "\r\n"))
	got := w.serial.AnswersTo([]byte(w.lastSent + "\r\n"))
	if len(got) == 0 || string(got[len(got)-1]) != want {
		return fmt.Errorf("board answered %q", got)
	}
	return nil
}
