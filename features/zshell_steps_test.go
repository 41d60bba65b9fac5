package features

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/board"
	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
)

// zshellWorld is a scenario's nRF7002 DK shell session.
type zshellWorld struct {
	out string // what the board printed for the last line typed, ANSI stripped
}

var zshellTypes = map[string]int{"CA": 0, "SERV": 1, "PK": 2}

func (w *world) registerZShell(sc *godog.ScenarioContext) {
	z := &zshellWorld{}
	sc.Step(`^an nRF7002 DK running the Zephyr shell(?: with a (\d+)-byte credential buffer)?$`, func(size string) error {
		knobs := firmware.Knobs{}
		if size != "" {
			n, _ := strconv.Atoi(size)
			knobs["cred_buf_size"] = n
		}
		return w.startNRF7002DK(knobs)
	})
	sc.Step(`^the user types "([^"]*)"$`, func(line string) error { return z.types(w, line) })
	sc.Step(`^the shell prints "([^"]*)"$`, func(want string) error { return z.prints(want) })
	sc.Step(`^the shell prints:$`, func(doc *godog.DocString) error {
		for _, l := range strings.Split(doc.Content, "\n") {
			if err := z.prints(l); err != nil {
				return err
			}
		}
		return nil
	})
	sc.Step(`^the user provisions "([^"]*)" to sec tag (\d+) as (CA|SERV|PK) with nrfcredstore's TLS shell interface$`,
		func(file string, tag uint64, typ string) error {
			text, err := featureFile(file)
			if err != nil {
				return err
			}
			return (&hosttool.TLSCredShell{S: w.serial}).Write(tag, zshellTypes[typ], strings.TrimRight(text, "\n"))
		})
	sc.Step(`^nrfcredstore's TLS shell interface finds "([^"]*)" at sec tag (\d+) as (CA|SERV|PK) with the digest it expects$`,
		func(file string, tag uint64, typ string) error {
			text, err := featureFile(file)
			if err != nil {
				return err
			}
			got, err := (&hosttool.TLSCredShell{S: w.serial}).Digest(tag, zshellTypes[typ])
			if err != nil {
				return err
			}
			if want := hosttool.ExpectedTLSDigest(strings.TrimRight(text, "\n")); got != want {
				return fmt.Errorf("digest %s, nrfcredstore expects %s", got, want)
			}
			return nil
		})
}

func (w *world) startNRF7002DK(knobs firmware.Knobs) error {
	b, err := board.NewCatalog().Open(board.Config{Dir: filepath.Join(w.dir, "nrf7002dk"), Kind: board.KindNRF7002DK, Firmware: knobs})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w.board, w.cancel, w.done = b, cancel, make(chan error, 1)
	go func() { w.done <- b.Run(ctx) }()
	return w.hostOpens()
}

// featureFile reads a certificate from features/testdata or the netstack's
// copies of the public roots.
func featureFile(name string) (string, error) {
	for _, dir := range []string{"testdata", "../netstack/testdata"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return string(b), nil
		}
	}
	return "", fmt.Errorf("no test file %s", name)
}

// types sends a line and collects what the board prints until the prompt
// is back.
func (z *zshellWorld) types(w *world, line string) error {
	if err := w.serial.Write([]byte(line + "\r")); err != nil {
		return err
	}
	var got []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		got = append(got, w.serial.ReadFor(20*time.Millisecond)...)
		s := stripANSI(string(got))
		// What an earlier step left unread (a prompt after the last chunk
		// nrfcredstore sent) comes first: wait for the echo of this line,
		// then its answer and the prompt after it.
		if i := strings.Index(s, line+"\r\n"); i >= 0 && strings.HasSuffix(s[i:], "uart:~$ ") {
			z.out = s[i:]
			return nil
		}
	}
	return fmt.Errorf("no prompt after %q; got %q", line, got)
}

func (z *zshellWorld) prints(want string) error {
	if want == "" {
		return nil
	}
	if !strings.Contains(z.out, want+"\r\n") {
		return fmt.Errorf("the board printed %q, not the line %q", z.out, want)
	}
	return nil
}

var ansiSeq = regexp.MustCompile(`\x1b(\[[0-?]*[ -/]*[@-~]|[78])`)

func stripANSI(s string) string { return ansiSeq.ReplaceAllString(s, "") }
