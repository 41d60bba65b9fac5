package board

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/modemsim/modemsim/hosttool"
)

// fleetBoards is how many boards TestFleet serves. The default suite runs the
// acceptance size under the race detector too; -fleet.boards changes it.
var fleetBoards = flag.Int("fleet.boards", 1000, "boards TestFleet serves in one process")

// processStats is what one process holds.
type processStats struct {
	goroutines int
	fds        int
	rssKiB     int
}

func measure(t testing.TB) processStats {
	t.Helper()
	runtime.GC()
	debug.FreeOSMemory()
	fds, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return processStats{goroutines: runtime.NumGoroutine(), fds: len(fds), rssKiB: rssKiB(t)}
}

func rssKiB(t testing.TB) int {
	data, err := os.ReadFile("/proc/self/status")
	require.NoError(t, err)
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.Fields(v)[0])
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

// fleetConfigs is n at_client boards as a fleet file would give them: no
// link, no transcript kept in memory.
func fleetConfigs(dir string, n int) []Config {
	cfgs := make([]Config, n)
	for i := range cfgs {
		name := fmt.Sprintf("fleet-%04d", i+1)
		cfgs[i] = Config{Name: name, Dir: filepath.Join(dir, name), Port: PortConfig{TranscriptTail: -1}}
	}
	return cfgs
}

// runFleet opens and serves a fleet until the test ends.
func runFleet(t testing.TB, cfgs []Config) (*Fleet, time.Duration) {
	t.Helper()
	start := time.Now()
	f, err := NewCatalog().OpenFleet(context.Background(), cfgs, nil)
	require.NoError(t, err)
	took := time.Since(start)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, f.Close())
	})
	return f, took
}

// TestFleet serves a thousand at_client boards in one process; each answers
// AT and AT%CMNG=1 over its own pty. Then they idle, and what an idle board
// costs is checked against the fleet goals of issue 7.
func TestFleet(t *testing.T) {
	n := *fleetBoards
	before := measure(t)
	f, took := runFleet(t, fleetConfigs(t.TempDir(), n))
	t.Logf("%d boards up in %v", n, took.Round(time.Millisecond))

	var g errgroup.Group
	g.SetLimit(8)
	for _, b := range f.Boards {
		g.Go(func() error {
			s, err := hosttool.OpenSerial(b.PortPath())
			if err != nil {
				return err
			}
			defer s.Close()
			ctx := context.Background()
			if lines, err := s.Exchange(ctx, "AT", 5*time.Second); err != nil || !slices.Equal(lines, []string{"OK"}) {
				return fmt.Errorf("%s: AT: %q %v", b.Name(), lines, err)
			}
			lines, err := s.Exchange(ctx, "AT%CMNG=1", 5*time.Second)
			if err != nil || len(lines) != 4 || lines[3] != "OK" || !strings.HasPrefix(lines[0], "%CMNG: 4294967292,") {
				return fmt.Errorf("%s: AT%%CMNG=1: %q %v", b.Name(), lines, err)
			}
			return nil
		})
	}
	require.NoError(t, g.Wait())

	idle := measure(t)
	per := func(a, b int) float64 { return float64(a-b) / float64(n) }
	goroutines, fds, rss := per(idle.goroutines, before.goroutines), per(idle.fds, before.fds), per(idle.rssKiB, before.rssKiB)
	t.Logf("idle board: %.2f goroutines, %.2f fds, %.1f KiB RSS (race detector: %v)", goroutines, fds, rss, raceEnabled)
	// One goroutine reads each port; nothing else is parked per board.
	assert.LessOrEqual(t, goroutines, 1.01)
	// The pty (master and our slave end), the board directory's lock and the
	// credential store's.
	assert.LessOrEqual(t, fds, 4.01)
	if !raceEnabled { // the race detector multiplies memory
		assert.LessOrEqual(t, rss, 64.0, "KiB of RSS per idle board")
	}
	// The start time is a figure for BenchmarkFleet, not a test: it depends on
	// the disk and on whatever else the machine runs.
}

// BenchmarkFleet is the AT round trip on one board while the others idle,
// for a fleet of one and a fleet of -fleet.boards, beside each other in one
// run; it also reports what the fleet costs (BENCHMARKS.md):
//
//	go test -run '^$' -bench BenchmarkFleet -benchtime 2000x ./board
func BenchmarkFleet(b *testing.B) {
	for _, n := range []int{1, *fleetBoards} {
		b.Run(fmt.Sprintf("boards=%d", n), func(b *testing.B) {
			// A restart of a fleet finds its state: time it on a state
			// made by a first start.
			cfgs := fleetConfigs(b.TempDir(), n)
			first, err := NewCatalog().OpenFleet(context.Background(), cfgs, nil)
			require.NoError(b, err)
			fresh := first.took
			require.NoError(b, first.Close())
			before := measure(b)
			f, took := runFleet(b, cfgs)
			s, err := hosttool.OpenSerial(f.Boards[0].PortPath())
			require.NoError(b, err)
			defer s.Close()
			ctx := context.Background()
			_, err = s.Exchange(ctx, "AT", 5*time.Second)
			require.NoError(b, err)
			idle := measure(b)
			b.ResetTimer()
			for b.Loop() {
				if _, err := s.Exchange(ctx, "AT", time.Second); err != nil {
					b.Fatal(err)
				}
			}
			// Reported after the loop: ResetTimer drops reported metrics.
			b.ReportMetric(float64(fresh.Milliseconds()), "start-ms")
			b.ReportMetric(float64(took.Milliseconds()), "restart-ms")
			b.ReportMetric(float64(idle.rssKiB-before.rssKiB)/float64(n), "KiB/board")
			b.ReportMetric(float64(idle.fds-before.fds)/float64(n), "fds/board")
			b.ReportMetric(float64(idle.goroutines-before.goroutines)/float64(n), "goroutines/board")
		})
	}
}

// TestFleetBoardsShareOneWatcher: a fleet opens no inotify instance per
// board (the kernel allows 128 per user, so per-port instances stopped a
// process at 126 boards).
func TestFleetBoardsShareOneWatcher(t *testing.T) {
	countInotify := func() int {
		n := 0
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if l, _ := os.Readlink("/proc/self/fd/" + fd.Name()); l == "anon_inode:inotify" {
				n++
			}
		}
		return n
	}
	before := countInotify()
	runFleet(t, fleetConfigs(t.TempDir(), 200))
	assert.Equal(t, before+1, countInotify())
}
