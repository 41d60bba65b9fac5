package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
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
	go func() {
		for lines.Scan() {
		}
	}()
	return &child{cmd: cmd, port: m[1]}
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
			err := run(context.Background(), tc.args, &out, &errOut)
			if err != nil {
				require.ErrorIs(t, err, flag.ErrHelp)
			}
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
