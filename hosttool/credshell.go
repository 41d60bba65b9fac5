package hosttool

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// nrfcredstore 2.x's TLS credentials shell interface (command_interface.py
// TLSCredShellInterface [S v2.0.9]): type names by index, 48-character
// base64 chunks, and the patterns it waits for.
var tlsCredTypes = []string{"CA", "SERV", "PK"}

// TLSCredChunk is TLS_CRED_CHUNK_SIZE.
const TLSCredChunk = 48

// TLSCredShell replays nrfcredstore's `--cmd-type tls_cred_shell` against
// a Zephyr shell.
type TLSCredShell struct {
	S       *Serial
	Timeout time.Duration // per expected line (the tool's serial timeout)
}

func (c *TLSCredShell) timeout() time.Duration {
	if c.Timeout == 0 {
		return 3 * time.Second
	}
	return c.Timeout
}

// expect is comms.expect_response: lines (ANSI stripped) until one contains
// ok or errPattern; lines containing store are collected.
func (c *TLSCredShell) expect(ok, errPattern, store string) (bool, string, error) {
	var out strings.Builder
	for {
		raw, err := c.S.ReadLine(c.timeout())
		line := stripANSI(strings.TrimSpace(string(raw)))
		if store != "" && strings.Contains(line, store) {
			out.WriteString(line + "\r\n")
		}
		switch {
		case line != "" && strings.Contains(line, ok):
			return true, out.String(), nil
		case errPattern != "" && line != "" && strings.Contains(line, errPattern):
			return false, out.String(), nil
		case err != nil:
			return false, out.String(), err
		}
	}
}

func (c *TLSCredShell) writeRaw(line string) error { return c.S.Write([]byte(line + "\r\n")) }

// Write is write_credential: cred buf clear, the chunks, cred add … bint.
func (c *TLSCredShell) Write(tag uint64, typ int, text string) error {
	encoded := base64.StdEncoding.EncodeToString([]byte(text))
	if err := c.writeRaw("cred buf clear"); err != nil {
		return err
	}
	for len(encoded) > 0 {
		n := min(TLSCredChunk, len(encoded))
		if err := c.writeRaw("cred buf " + encoded[:n]); err != nil {
			return err
		}
		if _, _, err := c.expect("Stored", "", ""); err != nil {
			return fmt.Errorf("cred buf: %w", err)
		}
		encoded = encoded[n:]
	}
	if err := c.writeRaw(fmt.Sprintf("cred add %d %s DEFAULT bint", tag, tlsCredTypes[typ])); err != nil {
		return err
	}
	ok, _, err := c.expect("Added TLS credential", "", "")
	if err != nil || !ok {
		return fmt.Errorf("cred add: not added: %w", err)
	}
	return nil
}

// Delete is delete_credential.
func (c *TLSCredShell) Delete(tag uint64, typ int) (bool, error) {
	if err := c.writeRaw(fmt.Sprintf("cred del %d %s", tag, tlsCredTypes[typ])); err != nil {
		return false, err
	}
	ok, _, err := c.expect("Deleted TLS credential", "There is no TLS credential", "")
	return ok, err
}

// Digest is check_credential_exists: the third field of the list line.
func (c *TLSCredShell) Digest(tag uint64, typ int) (string, error) {
	if err := c.writeRaw(fmt.Sprintf("cred list %d %s", tag, tlsCredTypes[typ])); err != nil {
		return "", err
	}
	ok, out, err := c.expect("1 credentials found.", "0 credentials found.", fmt.Sprintf("%d,%s", tag, tlsCredTypes[typ]))
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errors.New("credential not found")
	}
	f := strings.Split(out, ",")
	if len(f) < 4 {
		return "", fmt.Errorf("list line %q", out)
	}
	if strings.TrimSpace(f[3]) != "0" {
		return "", fmt.Errorf("digest status %s", strings.TrimSpace(f[3]))
	}
	return strings.TrimSpace(f[2]), nil
}

// ExpectedTLSDigest is calculate_expected_hash: base64 of SHA-256 of the
// text with its NUL.
func ExpectedTLSDigest(text string) string {
	sum := sha256.Sum256(append([]byte(text), 0))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// ShellAT is ATCommandInterface.at_command in shell mode: CR removed, LF
// written as a literal \n, the command single-quoted after `at `; it reads
// until OK/ERROR and returns the collected lines (all of them, as the tool's
// expect_response with store "" does).
func (c *CredStoreV2) ShellAT(cmd string) (string, error) {
	if err := c.S.ResetInput(); err != nil {
		return "", err
	}
	cmd = strings.ReplaceAll(strings.ReplaceAll(cmd, "\r", ""), "\n", `\n`)
	if err := c.S.Write([]byte("at '" + cmd + "'\r\n")); err != nil {
		return "", err
	}
	return c.expect(cmd, "", 15*time.Second)
}

// ShellIMEI is get_imei in shell mode: the last non-blank line before OK,
// its first 15 characters.
func (c *CredStoreV2) ShellIMEI() (string, error) {
	out, err := c.ShellAT("AT+CGSN")
	if err != nil {
		return "", err
	}
	var last string
	for _, l := range strings.Split(out, "\n") {
		if s := strings.TrimSpace(l); s != "" {
			last = s
		}
	}
	if len(last) < 15 {
		return "", fmt.Errorf("no IMEI in %q", out)
	}
	return last[:15], nil
}

// DetectShell is the CLI's start in 2.x (init and detect_shell_mode): CRLF,
// 0.2 s, flush, then `at AT+CGSN` and `AT+CGSN` up to three times each,
// until an answer holds 15 digits. It reports whether shell mode won.
func (c *CredStoreV2) DetectShell() (bool, error) {
	if err := c.S.Write([]byte("\r\n")); err != nil {
		return false, err
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.S.ResetInput(); err != nil {
		return false, err
	}
	for _, probe := range []struct {
		cmd   string
		shell bool
	}{{"at AT+CGSN", true}, {"AT+CGSN", false}} {
		for range 3 {
			if err := c.S.Write([]byte(probe.cmd + "\r\n")); err != nil {
				return false, err
			}
			out, err := c.expect(probe.cmd, "", 2*time.Second)
			if err == nil && fifteenDigits.MatchString(out) {
				return probe.shell, nil
			}
		}
	}
	return false, errors.New("Failed to detect shell mode. Device does not respond to AT commands.")
}
