package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/transcript"
)

// The test binary doubles as the modemsim command: with this variable set
// it runs main() on the rest of its arguments, so tests can SIGKILL a real
// simulator process.
const runMainEnv = "MODEMSIM_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Args = append([]string{"modemsim"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type child struct {
	cmd  *exec.Cmd
	port string

	mu  sync.Mutex
	out []string // what the simulator printed after its first line
}

// printed is everything the simulator printed after its first line so far.
func (c *child) printed() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.out, "\n")
}

var portLine = regexp.MustCompile(`on (/dev/pts/\d+)`)

func startSimulator(t *testing.T, state string, extra ...string) *child {
	t.Helper()
	args := append([]string{"--state", state, "--link", filepath.Join(state, "tty")}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	require.True(t, lines.Scan(), "simulator printed nothing")
	m := portLine.FindStringSubmatch(lines.Text())
	require.NotNil(t, m, "first line %q names no port", lines.Text())
	c := &child{cmd: cmd, port: m[1]}
	go func() {
		for lines.Scan() {
			c.mu.Lock()
			c.out = append(c.out, lines.Text())
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *child) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, c.cmd.Process.Signal(sig))
	_ = c.cmd.Wait()
}

// generation makes a recognisable certificate-sized body for one write: a
// slot holding anything but a complete generation is torn.
func generation(tag, gen int) string {
	head := fmt.Sprintf("slot %d generation %d ", tag, gen)
	return head + strings.Repeat(fmt.Sprintf("%d", gen%10), 1500-len(head))
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--help"}, "commands:"},
		{[]string{"help"}, "commands:"},
		{[]string{"run", "--help"}, "-transcript"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			require.NoError(t, run(context.Background(), tc.args, &out, &errOut))
			assert.Contains(t, out.String()+errOut.String(), tc.want)
		})
	}
	var out strings.Builder
	assert.Error(t, run(context.Background(), []string{"frobnicate"}, &out, &out))
}

func TestRunPrintsPortAndLink(t *testing.T) {
	state := t.TempDir()
	transcriptFile := filepath.Join(state, "at.log")
	c := startSimulator(t, state, "--transcript", transcriptFile)
	link, err := filepath.EvalSymlinks(filepath.Join(state, "tty"))
	require.NoError(t, err)
	assert.Equal(t, c.port, link)

	// The transcript file gets every byte, both ways, timestamped.
	s, err := hosttool.OpenSerial(link)
	require.NoError(t, err)
	lines, err := s.Exchange(context.Background(), "AT+CGMI", 3*time.Second)
	require.NoError(t, err)
	require.Equal(t, []string{"Nordic Semiconductor ASA", "OK"}, lines)
	require.NoError(t, s.Close())
	c.stop(t, syscall.SIGTERM)
	f, err := os.Open(transcriptFile)
	require.NoError(t, err)
	defer f.Close()
	entries, err := transcript.Parse(f)
	require.NoError(t, err)
	var in, out []byte
	for _, e := range entries {
		switch e.Dir {
		case transcript.FromHost:
			in = append(in, e.Data...)
		case transcript.ToHost:
			out = append(out, e.Data...)
		}
	}
	assert.Equal(t, "AT+CGMI\r\n", string(in))
	assert.Contains(t, string(out), "Nordic Semiconductor ASA\r\nOK\r\n")
	raw, err := os.ReadFile(transcriptFile)
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^\d{4}-\d\d-\d\dT[0-9:.]+Z > AT\+CGMI\\r\\n$`, string(raw))

	_, err = os.Lstat(filepath.Join(state, "tty"))
	assert.True(t, os.IsNotExist(err), "link removed on SIGTERM")
}

func TestCredentialsSurviveSIGKILL(t *testing.T) {
	state := t.TempDir()
	tags := []int{101, 102, 103, 104}
	written := map[int]int{} // tag → last generation acknowledged with OK
	rng := rand.New(rand.NewPCG(1, 2))
	gen := 0
	for round := range 4 {
		c := startSimulator(t, state)
		s, err := hosttool.OpenSerial(c.port)
		require.NoError(t, err)
		ctx := context.Background()
		_, err = s.Exchange(ctx, "AT+CFUN=4", 3*time.Second)
		require.NoError(t, err)

		// Every slot holds a complete generation: the last acknowledged one,
		// or the one in flight when the process died.
		for _, tag := range tags {
			lines, err := s.Exchange(ctx, fmt.Sprintf("AT%%CMNG=2,%d,3", tag), 3*time.Second)
			require.NoError(t, err)
			if _, ok := written[tag]; !ok && round == 0 {
				continue
			}
			require.Equal(t, "OK", lines[len(lines)-1], "round %d tag %d: %q", round, tag, lines)
			body := regexp.MustCompile(`^%CMNG: \d+,3,"([0-9A-F]{64})","(.*)"$`).FindStringSubmatch(lines[0])
			require.NotNil(t, body, "round %d tag %d: %q", round, tag, lines[0])
			var g int
			_, err = fmt.Sscanf(body[2], fmt.Sprintf("slot %d generation %%d", tag), &g)
			require.NoError(t, err)
			require.Equal(t, generation(tag, g), body[2], "torn slot %d", tag)
			sum := sha256.Sum256([]byte(body[2]))
			require.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), body[1])
			require.GreaterOrEqual(t, g, written[tag], "slot %d went back in time", tag)
			written[tag] = g
		}

		// Write in a burst without waiting for answers, then SIGKILL at a
		// random moment in the middle of it.
		go func() {
			for i := 0; i < 200; i++ {
				gen++
				tag := tags[i%len(tags)]
				if s.Write([]byte(fmt.Sprintf("AT%%CMNG=0,%d,3,\"%s\"\r\n", tag, generation(tag, gen)))) != nil {
					return
				}
			}
		}()
		time.Sleep(time.Duration(20+rng.IntN(150)) * time.Millisecond)
		c.stop(t, syscall.SIGKILL)
		s.Close()
	}
	require.NotEmpty(t, written)
}

// cli runs modemsim's command line as main does, but in process.
func cli(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errOut bytes.Buffer
	status = report(&errOut, run(t.Context(), args, &out, &errOut))
	return out.String(), errOut.String(), status
}

func TestHelpGoesToStdout(t *testing.T) {
	tests := []struct {
		args []string
		want []string // substrings of stdout
	}{
		{[]string{"--help"}, []string{"usage: modemsim", "commands:", "run", "hub", "version"}},
		{[]string{"-h"}, []string{"commands:"}},
		{[]string{"help"}, []string{"commands:"}},
		{[]string{"help", "help"}, []string{"commands:"}},
		{[]string{"help", "hub"}, []string{"usage: modemsim hub <command>", "device", "dps"}},
		{[]string{"hub", "--help"}, []string{"usage: modemsim hub <command>"}},
		{[]string{"help", "hub", "device"}, []string{"usage: modemsim hub device <command>", "sas-token"}},
		{[]string{"help", "hub", "device", "create"}, []string{"usage: modemsim hub device create [flags]", "-device", "-auth"}},
		{[]string{"hub", "device", "create", "--help"}, []string{"usage: modemsim hub device create [flags]", "-device"}},
		{[]string{"hub", "device", "create", "-h"}, []string{"usage: modemsim hub device create [flags]"}},
		{[]string{"hub", "help", "dps", "enrollment", "create"}, []string{"usage: modemsim hub dps enrollment create", "-registration-id"}},
		{[]string{"help", "hub", "serve"}, []string{"usage: modemsim hub serve [flags]", "-mqtt-addr"}},
		{[]string{"hub", "load", "-help"}, []string{"usage: modemsim hub load [flags]", "-devices"}},
		{[]string{"help", "version"}, []string{"usage: modemsim version [flags]"}},
		// A help flag after other flags still wins, as in the flag package.
		{[]string{"hub", "device", "show", "--admin", "127.0.0.1:1", "--help"}, []string{"usage: modemsim hub device show"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, status := cli(t, tc.args...)
			assert.Equal(t, exitOK, status)
			assert.Empty(t, errOut, "help is not an error")
			for _, w := range tc.want {
				assert.Contains(t, out, w)
			}
		})
	}
}

// TestRunHelp: `modemsim help run` is `modemsim run --help`.
func TestRunHelp(t *testing.T) {
	out1, err1, status1 := cli(t, "help", "run")
	out2, err2, status2 := cli(t, "run", "--help")
	assert.Equal(t, exitOK, status1)
	assert.Equal(t, exitOK, status2)
	assert.Contains(t, out1+err1, "usage: modemsim run")
	assert.Equal(t, out2+err2, out1+err1)
}

func TestUsageErrorsAreOneLineAndAHint(t *testing.T) {
	tests := []struct {
		args     []string
		wantLine string
		wantHint string
	}{
		{[]string{"hub", "device", "create"}, "modemsim hub device create: --device is required", "Run 'modemsim hub device create --help' for usage."},
		{[]string{"hub", "twin", "update", "--device", "d"}, "modemsim hub twin update: --desired is required", "Run 'modemsim hub twin update --help' for usage."},
		{[]string{"frobnicate"}, `modemsim: unknown command "frobnicate"`, "Run 'modemsim help' for usage."},
		{[]string{"help", "frobnicate"}, `modemsim help: unknown command "frobnicate"`, "Run 'modemsim help' for usage."},
		{[]string{"hub", "nope"}, `modemsim hub: unknown subcommand "nope"`, "Run 'modemsim hub --help' for usage."},
		{[]string{"hub", "dps", "nope"}, `modemsim hub dps: unknown subcommand "nope"`, "Run 'modemsim hub dps --help' for usage."},
		{[]string{"help", "hub", "nope"}, `modemsim hub: unknown subcommand "nope"`, "Run 'modemsim hub --help' for usage."},
		{[]string{"hub", "device"}, "modemsim hub device: missing subcommand", "Run 'modemsim hub device --help' for usage."},
		{[]string{"hub", "device", "list", "--frob"}, "modemsim hub device list: flag provided but not defined: -frob", "Run 'modemsim hub device list --help' for usage."},
		{[]string{"hub", "device", "list", "extra"}, "modemsim hub device list: unexpected arguments: extra", "Run 'modemsim hub device list --help' for usage."},
		{[]string{"hub", "device", "sas-token", "--device", "d", "--ttl", "soon"}, `modemsim hub device sas-token: invalid value "soon" for flag -ttl: parse error`, "Run 'modemsim hub device sas-token --help' for usage."},
		{[]string{"hub", "load", "--devices", "0"}, "modemsim hub load: --devices must be at least 1", "Run 'modemsim hub load --help' for usage."},
		{[]string{"hub", "serve", "--date", "yesterday"}, `modemsim hub serve: --date "yesterday": want 2006-01-02 or RFC 3339`, "Run 'modemsim hub serve --help' for usage."},
		{[]string{"hub", "--date", "yesterday"}, `modemsim hub serve: --date "yesterday": want 2006-01-02 or RFC 3339`, "Run 'modemsim hub serve --help' for usage."},
		{[]string{"hub", "method", "invoke", "--device", "d", "--method", "m", "--payload", "{"}, "modemsim hub method invoke: --payload is not JSON: {", "Run 'modemsim hub method invoke --help' for usage."},
		{[]string{"hub", "c2d", "send", "--device", "d", "--props", "novalue"}, `modemsim hub c2d send: --props: "novalue" is not key=value`, "Run 'modemsim hub c2d send --help' for usage."},
		{[]string{"hub", "dps", "group", "create", "--group-id", "g", "--attestation", "tpm"}, `modemsim hub dps group create: --attestation "tpm": want x509 or symmetricKey`, "Run 'modemsim hub dps group create --help' for usage."},
		{[]string{"version", "extra"}, "modemsim version: unexpected arguments: extra", "Run 'modemsim version --help' for usage."},
		{[]string{"--frob"}, "modemsim run: flag provided but not defined: -frob", "Run 'modemsim run --help' for usage."},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, status := cli(t, tc.args...)
			assert.Equal(t, exitUsage, status)
			assert.Empty(t, out, "no usage dump on stdout")
			assert.Equal(t, tc.wantLine+"\n"+tc.wantHint+"\n", errOut)
		})
	}
}

// TestFailuresNameTheCommandOnce: a failure that is not a usage error is
// one line naming the command once, and exits 1.
func TestFailuresNameTheCommandOnce(t *testing.T) {
	// Port 1 on loopback: nothing listens, the admin API is unreachable.
	out, errOut, status := cli(t, "hub", "device", "list", "--admin", "127.0.0.1:1")
	assert.Equal(t, exitFailure, status)
	assert.Empty(t, out)
	lines := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
	require.Len(t, lines, 1, errOut)
	assert.True(t, strings.HasPrefix(lines[0], "modemsim hub device list: "), lines[0])
	assert.Equal(t, 1, strings.Count(lines[0], "modemsim"), lines[0])
}

func TestReport(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		want   string
		status int
	}{
		{"success", nil, "", exitOK},
		{"usage", &usageError{cmd: "modemsim x", msg: "bad"}, "modemsim x: bad\nRun 'modemsim x --help' for usage.\n", exitUsage},
		{"named failure", inCommand("modemsim x", assert.AnError), "modemsim x: " + assert.AnError.Error() + "\n", exitFailure},
		{"named twice stays named once", inCommand("modemsim", inCommand("modemsim x", assert.AnError)), "modemsim x: " + assert.AnError.Error() + "\n", exitFailure},
		{"unnamed failure", assert.AnError, "modemsim: " + assert.AnError.Error() + "\n", exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var w bytes.Buffer
			assert.Equal(t, tc.status, report(&w, tc.err))
			assert.Equal(t, tc.want, w.String())
		})
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"-version"}, {"version"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, status := cli(t, args...)
			assert.Equal(t, exitOK, status)
			assert.Empty(t, errOut)
			assert.Regexp(t, `^modemsim \S+\n$`, out)
		})
	}
}

func TestBuildVersion(t *testing.T) {
	settings := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"no build info", nil, false, "devel"},
		{"module version", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}}, true, "v0.3.1"},
		{"module version wins over vcs", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.1"}, Settings: settings("vcs.revision", "0123456789abcdef")}, true, "v0.3.1"},
		{"checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "false")}, true, "0123456789ab"},
		{"dirty checkout", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "true")}, true, "0123456789ab-dirty"},
		{"no vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true, "devel"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, buildVersion(tc.info, tc.ok))
		})
	}
}

func TestRunRefusesUnknownKindAndPersona(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--kind", "esp32"}, `modemsim run: unknown board kind "esp32" (valid: nrf91, nrf7002dk, spwf04)`},
		{[]string{"--persona", "zephyr_shell"}, `modemsim run: nrf91 cannot run persona "zephyr_shell" (valid: at_client, at_shell, azure_iot_hub, serial_modem)`},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := report(&stderr, run(context.Background(), append([]string{"run", "--state", t.TempDir()}, tc.args...), &stdout, &stderr))
			assert.Equal(t, exitUsage, code)
			assert.Equal(t, tc.want+"\nRun 'modemsim run --help' for usage.\n", stderr.String())
		})
	}
}

func TestRunRefusesToChangeAnIdentitySilently(t *testing.T) {
	state := t.TempDir()
	c := startSimulator(t, state)
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, c.cmd.Wait())

	var stdout, stderr bytes.Buffer
	code := report(&stderr, run(context.Background(), []string{"run", "--state", state, "--link", "", "--model", "nrf9160"}, &stdout, &stderr))
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr.String(), `would change model "nrf9151" → "nrf9160"`)
	assert.Contains(t, stderr.String(), "--change-identity")
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), "one line: %s", stderr.String())

	c = startSimulator(t, state, "--model", "nrf9160", "--change-identity")
	assert.Eventually(t, func() bool {
		return strings.Contains(c.printed(), `identity changed: model "nrf9151" → "nrf9160"`)
	}, 5*time.Second, 10*time.Millisecond, c.printed())
}

// TestFleetFileAndBoards runs the example fleet file (3 boards with their own
// identities and a template of 100 more) and lists them with `boards`.
func TestFleetFileAndBoards(t *testing.T) {
	work := t.TempDir()
	copyTree(t, "../../fleet/testdata", work)
	cmd := exec.Command(os.Args[0], "run", "-c", "fleet.yaml")
	cmd.Dir = work
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(out)
	var printed []string
	for lines.Scan() {
		printed = append(printed, lines.Text())
		if strings.Contains(lines.Text(), "boards serving") {
			break
		}
	}
	require.NotEmpty(t, printed)
	assert.Equal(t, "103 boards serving (Ctrl-C to stop)", printed[len(printed)-1])
	assert.Len(t, printed, 105, "a header, one line a board, the summary")

	// alpha answers with the identity the file gave it.
	link := filepath.Join(work, "ttyALPHA")
	s, err := hosttool.OpenSerial(link)
	require.NoError(t, err)
	got, err := s.Exchange(context.Background(), "AT+CGSN", 3*time.Second)
	require.NoError(t, err)
	assert.Equal(t, []string{"352656100367872", "OK"}, got)
	require.NoError(t, s.Close())

	var stdout, stderr bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"boards", "--state", filepath.Join(work, "state")}, &stdout, &stderr))
	table := stdout.String()
	assert.Equal(t, 104, strings.Count(table, "\n"), table)
	assert.Regexp(t, `(?m)^alpha\s+nrf91\s+at_client\s+IMEI 352656100367872\s+5\s+running \(pid \d+\)$`, table)
	assert.Regexp(t, `(?m)^bravo\s+nrf91\s+at_client\s+IMEI 352656101234568\s+`, table)
	assert.Regexp(t, `(?m)^fleet-100\s+nrf91\s+at_client\s+IMEI \d{15}\s+4\s+running`, table)

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.NoError(t, cmd.Wait())
	stdout.Reset()
	require.NoError(t, run(context.Background(), []string{"boards", "--state", filepath.Join(work, "state"), "--slots"}, &stdout, &stderr))
	assert.Regexp(t, `(?m)^alpha\s+.*\s+stopped$`, stdout.String())
	assert.Regexp(t, `(?m)^  16842753,0\s+[0-9A-F]{64}`, stdout.String())
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	require.NoError(t, filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	}))
}
