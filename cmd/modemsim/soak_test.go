//go:build soak

package main

// The board side of the soak (issue 14), on demand only:
//
//	SOAK_DURATION=1h go test -tags soak -run '^TestBoardSoak$' -timeout 0 -v ./cmd/modemsim
//
// A real simulator process serves a fleet of boards; the test writes
// credentials to all of them over their ptys in bursts and SIGKILLs the
// process at a random moment, over and over for SOAK_DURATION (default 1h).
// After every restart each slot must hold one complete generation, never
// older than the last one seen, with the modem's digest; the state
// directories must hold no leftovers of interrupted writes. Every
// SOAK_SAMPLE (default 30s) it logs the simulator's fds, threads and RSS
// just before the kill, and the state's file count. SOAK_BOARD_REPORT=path
// also writes the samples as CSV.

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/hosttool"
)

func soakDuration(t *testing.T, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, name)
	return d
}

// procStatus reads a field of /proc/<pid>/status as an integer (kB for sizes).
func procStatus(pid int, field string) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return n
		}
	}
	return -1
}

func procFDs(pid int) int {
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return -1
	}
	return len(ents)
}

// stateFiles counts the files under dir and returns those that look like
// leftovers of an interrupted write (atomicfile's temporary names).
func stateFiles(t *testing.T, dir string) (n int, leftovers []string) {
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		n++
		if strings.Contains(d.Name(), ".tmp-") {
			leftovers = append(leftovers, p)
		}
		return nil
	}))
	return n, leftovers
}

// fleetPortLine is a row of the table `modemsim run -c` prints.
var fleetPortLine = regexp.MustCompile(`^(\S+)\s.*\s(/dev/pts/\d+)$`)

// startFleet runs the simulator with a fleet file and returns the port of each board.
func startFleet(t *testing.T, fleetFile string, boards int) (*exec.Cmd, map[string]string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-c", fleetFile)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	ports := map[string]string{}
	lines := bufio.NewScanner(out)
	for len(ports) < boards && lines.Scan() {
		if m := fleetPortLine.FindStringSubmatch(lines.Text()); m != nil {
			ports[m[1]] = m[2]
		}
	}
	require.Len(t, ports, boards, "the simulator named fewer ports than boards")
	go func() {
		for lines.Scan() {
		}
	}()
	return cmd, ports
}

func TestBoardSoak(t *testing.T) {
	duration := soakDuration(t, "SOAK_DURATION", time.Hour)
	sample := soakDuration(t, "SOAK_SAMPLE", 30*time.Second)
	const boards = 8
	tags := []int{101, 102, 103}
	dir := t.TempDir()
	fleetFile := filepath.Join(dir, "fleet.yaml")
	require.NoError(t, os.WriteFile(fleetFile, []byte(fmt.Sprintf(
		"state: %s\nboards:\n  - name: soak-{{seq:2}}\n    count: %d\n", filepath.Join(dir, "state"), boards)), 0o600))

	type row struct {
		at                     time.Duration
		cycles, kills          int
		fds, threads, rssKB    int
		stateFiles, maxWritten int
	}
	var rows []row
	seen := map[string]int{} // board/tag → newest generation seen in its slot
	rng := rand.New(rand.NewPCG(7, 11))
	gen := 0
	start := time.Now()
	nextSample := time.Duration(0)
	cycles, advanced := 0, 0 // advanced: restarts after which a slot held a newer generation
	for time.Since(start) < duration {
		cycles++
		cmd, ports := startFleet(t, fleetFile, boards)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		serials := map[string]*hosttool.Serial{}
		for name, port := range ports {
			s, err := hosttool.OpenSerial(port)
			require.NoError(t, err)
			serials[name] = s
			_, err = s.Exchange(ctx, "AT+CFUN=4", 5*time.Second)
			require.NoError(t, err, "%s", name)
			for _, tag := range tags {
				lines, err := s.Exchange(ctx, fmt.Sprintf("AT%%CMNG=2,%d,3", tag), 5*time.Second)
				require.NoError(t, err)
				key := fmt.Sprintf("%s/%d", name, tag)
				if _, ok := seen[key]; !ok && lines[len(lines)-1] != "OK" {
					continue // never written yet
				}
				require.Equal(t, "OK", lines[len(lines)-1], "cycle %d %s: %q", cycles, key, lines)
				body := regexp.MustCompile(`^%CMNG: \d+,3,"([0-9A-F]{64})","(.*)"$`).FindStringSubmatch(lines[0])
				require.NotNil(t, body, "cycle %d %s: %q", cycles, key, lines[0])
				var g int
				_, err = fmt.Sscanf(body[2], fmt.Sprintf("slot %d generation %%d", tag), &g)
				require.NoError(t, err)
				require.Equal(t, generation(tag, g), body[2], "torn slot %s", key)
				sum := sha256.Sum256([]byte(body[2]))
				require.Equal(t, strings.ToUpper(hex.EncodeToString(sum[:])), body[1], "digest of %s", key)
				require.GreaterOrEqual(t, g, seen[key], "slot %s went back in time", key)
				if g > seen[key] {
					advanced++
				}
				seen[key] = g
			}
		}
		cancel()
		files, leftovers := stateFiles(t, filepath.Join(dir, "state"))
		require.Empty(t, leftovers, "cycle %d: leftovers of interrupted writes survived a start", cycles)

		// Bursts to every board at once, then SIGKILL in the middle of them.
		for _, s := range serials {
			go func(s *hosttool.Serial, base int) {
				for i := 0; i < 100; i++ {
					tag := tags[i%len(tags)]
					if s.Write([]byte(fmt.Sprintf("AT%%CMNG=0,%d,3,\"%s\"\r\n", tag, generation(tag, base+i)))) != nil {
						return
					}
				}
			}(s, gen)
		}
		gen += 100
		time.Sleep(time.Duration(30+rng.IntN(200)) * time.Millisecond)
		if el := time.Since(start); el >= nextSample {
			rows = append(rows, row{at: el.Round(time.Second), cycles: cycles, kills: cycles - 1,
				fds: procFDs(cmd.Process.Pid), threads: procStatus(cmd.Process.Pid, "Threads"),
				rssKB: procStatus(cmd.Process.Pid, "VmRSS"), stateFiles: files, maxWritten: gen})
			r := rows[len(rows)-1]
			t.Logf("t=%s cycles=%d fds=%d threads=%d rss=%dKiB state files=%d", r.at, r.cycles, r.fds, r.threads, r.rssKB, r.stateFiles)
			nextSample += sample
		}
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		for _, s := range serials {
			s.Close()
		}
	}
	require.Positive(t, advanced, "no write ever landed before a kill: the soak tested nothing")
	t.Logf("%d cycles (%d SIGKILLs during writes), %d slots checked after every restart (%d times newer), 0 torn, 0 rolled back, 0 leftovers",
		cycles, cycles, len(seen), advanced)
	if p := os.Getenv("SOAK_BOARD_REPORT"); p != "" {
		var b strings.Builder
		b.WriteString("seconds,cycles,fds,threads,rss_kib,state_files\n")
		for _, r := range rows {
			fmt.Fprintf(&b, "%d,%d,%d,%d,%d,%d\n", int(r.at.Seconds()), r.cycles, r.fds, r.threads, r.rssKB, r.stateFiles)
		}
		require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o644))
	}
}
