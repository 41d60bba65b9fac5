package credstore

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The test binary doubles as the child process of the multi-process tests: with
// envHelper set, TestMain runs the helper instead of the tests.
const (
	envHelper = "CREDSTORE_TEST_HELPER" // "writer" or "holder"
	envDir    = "CREDSTORE_TEST_DIR"
	envGen    = "CREDSTORE_TEST_GEN"

	helperLifetime = 20 * time.Second // a helper whose parent vanished still exits
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(envHelper); mode != "" {
		os.Exit(runHelper(mode))
	}
	os.Exit(m.Run())
}

func runHelper(mode string) int {
	s, err := Open(os.Getenv(envDir))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper open:", err)
		return 2
	}
	deadline := time.Now().Add(helperLifetime)
	switch mode {
	case "holder":
		fmt.Println("locked")
		done := make(chan struct{})
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(done) }()
		select {
		case <-done:
		case <-time.After(time.Until(deadline)):
		}
		return 0
	case "writer":
		gen0, err := strconv.ParseUint(os.Getenv(envGen), 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper gen:", err)
			return 2
		}
		for gen := gen0; time.Now().Before(deadline); gen++ {
			for _, k := range crashKeys {
				if err := s.Put(k, crashContent(k, gen)); err != nil {
					fmt.Fprintln(os.Stderr, "helper put:", err)
					return 3
				}
			}
			if gen == gen0 {
				fmt.Println("ready") // every slot now holds a complete generation
			}
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "unknown helper mode", mode)
	return 2
}

// startHelper runs this test binary as a helper and waits for its first stdout line.
func startHelper(t *testing.T, mode, dir string, gen uint64, wantLine string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envHelper+"="+mode, envDir+"="+dir, envGen+"="+strconv.FormatUint(gen, 10))
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	_, err = cmd.StdinPipe() // kept open: the holder waits for EOF
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		require.Equal(t, wantLine, l, "helper stderr: %s", stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatalf("helper %s did not start; stderr: %s", mode, stderr.String())
	}
	return cmd
}

func killHelper(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	err := cmd.Wait()
	require.Error(t, err)
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	require.True(t, ok)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "helper ended on its own: %v", err)
}

// syncBuffer collects a child's stderr while the test may already read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var crashTags = []uint32{1, 2, 3, 4000000000}

var crashKeys = func() []Key {
	var ks []Key
	for _, tag := range crashTags {
		for typ := range 6 {
			ks = append(ks, Key{Tag: tag, Type: typ})
		}
	}
	return ks
}()

// crashContent is generation gen of slot k: a header naming both, padding of a length
// that varies per generation (so a torn write changes the size), and the SHA-256 of
// everything before it, so any torn, mixed or empty content fails its own check.
func crashContent(k Key, gen uint64) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "slot %d/%d gen %d\n", k.Tag, k.Type, gen)
	pad := int((gen*7919 + uint64(k.Tag)%1000*131 + uint64(k.Type)*17) % 6000)
	b.Write(bytes.Repeat([]byte{byte('a' + gen%26)}, pad))
	sum := sha256.Sum256(b.Bytes())
	fmt.Fprintf(&b, "\nsha256:%s\n", hex.EncodeToString(sum[:]))
	return b.Bytes()
}

// checkCrashContent returns the generation content holds for slot k.
func checkCrashContent(k Key, content []byte) (uint64, error) {
	i := bytes.LastIndex(content, []byte("\nsha256:"))
	if i < 0 || !bytes.HasSuffix(content, []byte("\n")) {
		return 0, fmt.Errorf("no trailer in %d bytes", len(content))
	}
	sum := sha256.Sum256(content[:i])
	if got := string(content[i+len("\nsha256:") : len(content)-1]); got != hex.EncodeToString(sum[:]) {
		return 0, fmt.Errorf("self-check failed: trailer %q", got)
	}
	var tag uint32
	var typ int
	var gen uint64
	if _, err := fmt.Sscanf(string(content), "slot %d/%d gen %d\n", &tag, &typ, &gen); err != nil {
		return 0, fmt.Errorf("header: %w", err)
	}
	if (Key{Tag: tag, Type: typ}) != k {
		return 0, fmt.Errorf("content of slot %v found in %v", Key{tag, typ}, k)
	}
	if !bytes.Equal(content, crashContent(k, gen)) {
		return 0, fmt.Errorf("generation %d differs from what was written", gen)
	}
	return gen, nil
}

func TestCrashContentSelfCheck(t *testing.T) {
	k := Key{3, 4}
	good := crashContent(k, 77)
	tests := []struct {
		name    string
		content []byte
		wantGen uint64
		wantErr bool
	}{
		{"complete", good, 77, false},
		{"empty", nil, 0, true},
		{"torn", good[:len(good)/2], 0, true},
		{"missing final LF", good[:len(good)-1], 0, true},
		{"other slot", crashContent(Key{3, 5}, 77), 0, true},
		{"bit flip", append([]byte{good[0] ^ 1}, good[1:]...), 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen, err := checkCrashContent(k, tc.content)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.wantGen, gen)
		})
	}
}

// TestCrashSafety SIGKILLs a process that keeps rewriting every slot and checks that
// each slot always holds one complete generation, never a torn or empty one.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	// Rounds run until the budget is spent: fsync latency varies a lot on shared disks.
	const minRounds, maxRounds, budget = 5, 20, 6 * time.Second
	start := time.Now()
	dir := t.TempDir()
	last := map[Key]uint64{}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	strays := 0
	round := 0
	for ; round < maxRounds && (round < minRounds || time.Since(start) < budget); round++ {
		gen0 := uint64(round) * 1_000_000
		cmd := startHelper(t, "writer", dir, gen0, "ready")
		time.Sleep(time.Duration(rng.IntN(80_000)) * time.Microsecond)
		killHelper(t, cmd)

		strays += countTemps(t, dir)

		s, err := Open(dir)
		require.NoError(t, err, "round %d", round)
		require.Equal(t, crashKeys, keysOf(s.List(AnyFilter())), "round %d: every slot present, nothing else", round)
		for _, k := range crashKeys {
			content, err := s.Read(k)
			require.NoError(t, err)
			gen, err := checkCrashContent(k, content)
			require.NoError(t, err, "round %d slot %v (%d bytes)", round, k, len(content))
			require.GreaterOrEqual(t, gen, gen0, "round %d slot %v: older than this round's first complete pass", round, k)
			require.GreaterOrEqual(t, gen, last[k], "round %d slot %v went backwards", round, k)
			last[k] = gen
			e, err := s.Get(k)
			require.NoError(t, err)
			require.Equal(t, sha256.Sum256(content), e.Digest)
		}
		require.NoError(t, s.Close())
		require.Zero(t, countTemps(t, dir), "round %d: Open removes unfinished writes", round)
	}
	t.Logf("%d kills; %d left an unfinished write behind; slot %v reached generation %d",
		round, strays, crashKeys[0], last[crashKeys[0]])
}

func countTemps(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	for _, tag := range crashTags {
		names, err := os.ReadDir(filepath.Join(dir, formatTag(tag)))
		require.NoError(t, err)
		for _, de := range names {
			if isTempName(de.Name()) {
				n++
			}
		}
	}
	return n
}

func TestLockedAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	dir := t.TempDir()
	cmd := startHelper(t, "holder", dir, 0, "locked")
	_, err := Open(dir)
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), fmt.Sprintf("held by pid %d", cmd.Process.Pid))

	killHelper(t, cmd) // the kernel drops a dead holder's lock
	s := openT(t, dir)
	require.NoError(t, s.Put(Key{1, 0}, []byte("mine now")))
}
