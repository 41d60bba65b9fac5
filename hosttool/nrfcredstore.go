package hosttool

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Credential is one line of a %CMNG list as nrfcredstore parses it.
type Credential struct {
	Tag  uint64
	Type int
	SHA  string
}

// ATError is a failure the tool reports; Code is the +CME code (-1 for a
// plain ERROR).
type ATError struct {
	Command string
	Code    int
	Message string // what the tool prints for the code, if it knows it
}

func (e *ATError) Error() string {
	if e.Code < 0 {
		return fmt.Sprintf("%s: ERROR", e.Command)
	}
	return fmt.Sprintf("%s: +CME ERROR: %d (%s)", e.Command, e.Code, e.Message)
}

// ErrUnhandledCode is what nrfcredstore 1.1.1 hits for a +CME code outside
// its table: a KeyError, printed as "Unhandled Error: <n>" (nrf91.md §5.1 [S]).
var ErrUnhandledCode = errors.New("Unhandled Error")

// v1Codes are the +CME codes nrfcredstore 1.1.1 knows (nrf91.md §5.1 [S]).
var v1Codes = map[int]string{0: "AT command not supported by firmware version. Upgrade modem firmware?",
	513: "Not found", 514: "Not allowed", 515: "Memory full", 518: "Not allowed in active state",
	519: "Already exists", 523: "Key generation failed"}

// CredStoreV1 replays nrfcredstore 1.1.1 (at_client.py, credstore.py):
// every command flushes input, writes cmd+CRLF and reads lines with a 3 s
// timeout until OK, ERROR or +CME ERROR.
type CredStoreV1 struct {
	S       *Serial
	Timeout time.Duration // the CLI's --timeout, 3 s by default
}

func (c *CredStoreV1) timeout() time.Duration {
	if c.Timeout == 0 {
		return 3 * time.Second
	}
	return c.Timeout
}

// Command runs one AT command and returns the collected (non-final) lines.
func (c *CredStoreV1) Command(cmd string) ([]string, error) {
	if err := c.S.ResetInput(); err != nil {
		return nil, err
	}
	if err := c.S.Write([]byte(cmd + "\r\n")); err != nil {
		return nil, err
	}
	var lines []string
	for {
		raw, err := c.S.ReadLine(c.timeout())
		if err != nil {
			return lines, fmt.Errorf("%s: %w", cmd, err)
		}
		line := strings.TrimSpace(string(raw))
		switch {
		case line == "OK":
			return lines, nil
		case line == "ERROR":
			return lines, &ATError{Command: cmd, Code: -1}
		case strings.HasPrefix(line, "+CME ERROR"):
			code, _ := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "+CME ERROR:")))
			msg, ok := v1Codes[code]
			if !ok {
				return lines, fmt.Errorf("%w: %d", ErrUnhandledCode, code)
			}
			return lines, &ATError{Command: cmd, Code: code, Message: msg}
		}
		lines = append(lines, line)
	}
}

// Start is what every v1 CLI invocation sends first: AT (up to three tries),
// AT+CMEE=1, AT+CFUN=4.
func (c *CredStoreV1) Start() error {
	var err error
	for range 3 {
		if _, err = c.Command("AT"); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("Please flash at_client sample: %w", err)
	}
	if _, err := c.Command("AT+CMEE=1"); err != nil {
		return err
	}
	_, err = c.Command("AT+CFUN=4")
	return err
}

var cmngLine = regexp.MustCompile(`^%CMNG: (\d+),(\d+),"([0-9A-Fa-f]*)"$`)

// List sends AT%CMNG=1[,tag[,type]]; every non-blank line must parse.
func (c *CredStoreV1) List(filter ...int) ([]Credential, error) {
	lines, err := c.Command(listCommand(filter))
	if err != nil {
		return nil, err
	}
	var out []Credential
	for _, l := range lines {
		if l == "" {
			continue
		}
		m := cmngLine.FindStringSubmatch(l)
		if m == nil {
			return out, fmt.Errorf("unexpected list line %q", l)
		}
		tag, _ := strconv.ParseUint(m[1], 10, 64)
		typ, _ := strconv.Atoi(m[2])
		out = append(out, Credential{Tag: tag, Type: typ, SHA: m[3]})
	}
	return out, nil
}

// Write stores the file text, right-stripped as file.read().rstrip() does.
func (c *CredStoreV1) Write(tag uint64, typ int, fileText string) error {
	_, err := c.Command(writeCommand(tag, typ, strings.TrimRight(fileText, " \t\r\n\v\f")))
	return err
}

// Delete succeeds only if the board printed no line but the final result.
func (c *CredStoreV1) Delete(tag uint64, typ int) error {
	lines, err := c.Command(fmt.Sprintf("AT%%CMNG=3,%d,%d", tag, typ))
	if err != nil {
		return err
	}
	if len(lines) != 0 {
		return fmt.Errorf("delete failed: unexpected lines %q", lines)
	}
	return nil
}

// Generate sends AT%KEYGEN and returns the CSR DER from the %KEYGEN line.
func (c *CredStoreV1) Generate(tag uint64, attributes string) ([]byte, error) {
	lines, err := c.Command(keygenCommand(tag, attributes))
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "%KEYGEN") {
			return csrFromKeygen(l)
		}
	}
	return nil, errors.New("no %KEYGEN line")
}

// CredStoreV2 replays nrfcredstore 2.0.9 (comms.py, command_interface.py,
// credstore.py): opening writes CRLF, waits 0.2 s and flushes input; the
// shell-mode probe sends `at AT+CGSN` then `AT+CGSN` (up to three times
// each, 1 s each); responses are read line by line with a 0.1 s sleep after
// each, until a line equal to OK or ERROR or starting +CME ERROR. Commands
// are written without flushing input in between.
type CredStoreV2 struct {
	S *Serial
	// LineTimeout is the serial timeout of one readline (--timeout, 3 s).
	LineTimeout time.Duration
	// Pause is the sleep after every read (0.1 s in the tool); tests may
	// shorten it. Negative means none.
	Pause time.Duration
}

func (c *CredStoreV2) lineTimeout() time.Duration {
	if c.LineTimeout == 0 {
		return 3 * time.Second
	}
	return c.LineTimeout
}

func (c *CredStoreV2) pause() {
	switch {
	case c.Pause == 0:
		time.Sleep(100 * time.Millisecond)
	case c.Pause > 0:
		time.Sleep(c.Pause)
	}
}

// expect reads until ok/err/+CME within timeout, collecting lines that
// contain store (expect_response).
func (c *CredStoreV2) expect(cmd string, store string, timeout time.Duration) (string, error) {
	var out strings.Builder
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		raw, err := c.S.ReadLine(min(c.lineTimeout(), time.Until(end)+time.Millisecond))
		if err != nil && !errors.Is(err, ErrTimeout) {
			return out.String(), err
		}
		line := stripANSI(strings.TrimSpace(string(raw)))
		if line != "" {
			switch {
			case line == "OK":
				return out.String(), nil
			case line == "ERROR":
				return out.String(), &ATError{Command: cmd, Code: -1}
			case strings.HasPrefix(line, "+CME ERROR"):
				code, convErr := strconv.Atoi(strings.ReplaceAll(line, "+CME ERROR: ", ""))
				if convErr != nil {
					return out.String(), fmt.Errorf("int(%q): %w", line, convErr)
				}
				return out.String(), &ATError{Command: cmd, Code: code}
			case strings.Contains(line, store):
				out.WriteString(line + "\r\n")
			}
		}
		c.pause()
	}
	return out.String(), fmt.Errorf("%s: %w", cmd, ErrTimeout)
}

var ansiEscape = regexp.MustCompile(`\x1B\[[0-?]*[ -/]*[@-~]`)

func stripANSI(s string) string { return ansiEscape.ReplaceAllString(s, "") }

// command writes cmd+CRLF and waits up to 15 s. Like the tool
// (command_interface.py at_command → comms.write_line) it does not flush
// input first: only opening the port does.
func (c *CredStoreV2) command(cmd, store string) (string, error) {
	if err := c.S.Write([]byte(cmd + "\r\n")); err != nil {
		return "", err
	}
	return c.expect(cmd, store, 15*time.Second)
}

var fifteenDigits = regexp.MustCompile(`[0-9]{15}`)

// Start opens the session as the CLI does: CRLF, 0.2 s, flush, the
// shell-mode probe, AT+CMEE=1 and AT+CFUN=4. It reports whether the probe
// chose shell mode (a plain AT board must not be taken for a shell).
func (c *CredStoreV2) Start(ctx context.Context) (shell bool, err error) {
	// _init_serial: reset_output_buffer, write CRLF, flush, sleep 0.2 s,
	// reset_input_buffer.
	if err := c.S.Write([]byte("\r\n")); err != nil {
		return false, err
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.S.ResetInput(); err != nil {
		return false, err
	}
	detected := false
	for _, probe := range []struct {
		cmd   string
		shell bool
	}{{"at AT+CGSN", true}, {"AT+CGSN", false}} {
		for range 3 {
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if err := c.S.Write([]byte(probe.cmd + "\r\n")); err != nil {
				return false, err
			}
			out, err := c.expect(probe.cmd, "", time.Second)
			if err == nil && fifteenDigits.MatchString(out) {
				shell, detected = probe.shell, true
				break
			}
		}
		if detected {
			break
		}
	}
	if !detected {
		return false, errors.New("Failed to detect device command mode")
	}
	_, _ = c.command("AT+CMEE=1", "") // failure only logged by the tool
	if _, err := c.command("AT+CFUN=4", ""); err != nil {
		return shell, fmt.Errorf("Failed to set modem to offline mode.: %w", err)
	}
	return shell, nil
}

// List sends AT%CMNG=1[,tag[,type]] and parses lines containing "%CMNG: ".
func (c *CredStoreV2) List(filter ...int) ([]Credential, error) {
	out, err := c.command(listCommand(filter), "%CMNG: ")
	if err != nil {
		return nil, err
	}
	var creds []Credential
	for _, l := range strings.Split(strings.TrimSpace(out), "\r\n") {
		if l == "" {
			continue
		}
		f := strings.Split(strings.ReplaceAll(strings.ReplaceAll(l, "%CMNG: ", ""), `"`, ""), ",")
		if len(f) < 3 {
			return creds, fmt.Errorf("IndexError on list line %q", l)
		}
		tag, err1 := strconv.ParseUint(f[0], 10, 64)
		typ, err2 := strconv.Atoi(f[1])
		if err := errors.Join(err1, err2); err != nil || typ < 0 || typ > 11 {
			return creds, fmt.Errorf("list line %q: %v", l, err)
		}
		creds = append(creds, Credential{Tag: tag, Type: typ, SHA: f[2]})
	}
	return creds, nil
}

// Write stores a file's text as the CLI reads it: universal newlines (CRLF
// and CR become LF), rstrip()ed.
func (c *CredStoreV2) Write(tag uint64, typ int, fileText string) error {
	text := strings.ReplaceAll(strings.ReplaceAll(fileText, "\r\n", "\n"), "\r", "\n")
	_, err := c.command(writeCommand(tag, typ, strings.TrimRight(text, " \t\r\n\v\f")), "")
	return err
}

// Delete sends AT%CMNG=3,tag,type.
func (c *CredStoreV2) Delete(tag uint64, typ int) error {
	_, err := c.command(fmt.Sprintf("AT%%CMNG=3,%d,%d", tag, typ), "")
	return err
}

// nordicTags are skipped by deleteall (cli.py [S]).
func nordicTag(tag uint64) bool { return tag >= 4294967292 && tag <= 4294967294 }

// DeleteAll lists everything and deletes each entry except Nordic's.
func (c *CredStoreV2) DeleteAll() ([]Credential, error) {
	creds, err := c.List()
	if err != nil {
		return nil, err
	}
	var deleted []Credential
	for _, cr := range creds {
		if nordicTag(cr.Tag) {
			continue
		}
		if err := c.Delete(cr.Tag, cr.Type); err != nil {
			return deleted, err
		}
		deleted = append(deleted, cr)
	}
	return deleted, nil
}

// IMEI sends AT+CGSN and takes the first 15 characters of everything the
// board printed before OK (command_interface.py get_imei: output[:15]), so
// any line ahead of the IMEI would corrupt it.
func (c *CredStoreV2) IMEI() (string, error) {
	out, err := c.command("AT+CGSN", "")
	if err != nil {
		return "", err
	}
	if len(out) < 15 {
		return "", fmt.Errorf("no IMEI in %q", out)
	}
	return out[:15], nil
}

// AttestationToken sends AT%ATTESTTOKEN and returns the text between the
// first pair of quotes.
func (c *CredStoreV2) AttestationToken() (string, error) {
	out, err := c.command("AT%ATTESTTOKEN", "")
	if err != nil {
		return "", err
	}
	parts := strings.SplitN(out, `"`, 3)
	if len(parts) < 3 {
		return "", fmt.Errorf("no token in %q", out)
	}
	return parts[1], nil
}

// Generate sends AT%KEYGEN=tag,2,0[,"attrs"] and returns the CSR DER.
func (c *CredStoreV2) Generate(tag uint64, attributes string) ([]byte, error) {
	out, err := c.command(keygenCommand(tag, attributes), "%KEYGEN")
	if err != nil {
		return nil, err
	}
	return csrFromKeygen(out)
}

func listCommand(filter []int) string {
	cmd := "AT%CMNG=1"
	for _, f := range filter {
		cmd += "," + strconv.Itoa(f)
	}
	return cmd
}

func writeCommand(tag uint64, typ int, content string) string {
	return fmt.Sprintf(`AT%%CMNG=0,%d,%d,"%s"`, tag, typ, content)
}

func keygenCommand(tag uint64, attributes string) string {
	cmd := fmt.Sprintf("AT%%KEYGEN=%d,2,0", tag)
	if attributes != "" {
		cmd += `,"` + attributes + `"`
	}
	return cmd
}

// csrFromKeygen takes the first "…" of a %KEYGEN line, splits it at '.' and
// base64url-decodes part 0 after padding (nrf91.md §5.2 [S]).
func csrFromKeygen(line string) ([]byte, error) {
	parts := strings.SplitN(line, `"`, 3)
	if len(parts) < 3 {
		return nil, fmt.Errorf("no quoted body in %q", line)
	}
	body := strings.SplitN(parts[1], ".", 2)[0]
	if pad := len(body) % 4; pad != 0 {
		body += strings.Repeat("=", 4-pad)
	}
	der, err := base64.URLEncoding.DecodeString(body)
	if err != nil {
		return nil, fmt.Errorf("decode CSR: %w", err)
	}
	return der, nil
}
