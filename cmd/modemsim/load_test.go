package main

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/modemsim/modemsim/fleet"
	"github.com/modemsim/modemsim/hub"
)

// testRoot is the real DigiCert Global Root G2 as Debian ships it.
var testRoot = filepath.Join("..", "..", "pki", "testdata", "DigiCert_Global_Root_G2.pem")

// loadJSON runs `modemsim load` with args and decodes its JSON summary.
func loadJSON(t *testing.T, args ...string) (jsonSummary, error) {
	t.Helper()
	var out bytes.Buffer
	args = append([]string{"load", "--json", "--progress", "off", "--root", testRoot, "--dps-retry-after", "1s", "--state", t.TempDir(), "--pki", filepath.Join(t.TempDir(), "pki")}, args...)
	err := run(t.Context(), args, &out, io.Discard)
	var s jsonSummary
	require.NoError(t, json.Unmarshal(out.Bytes(), &s), out.String())
	return s, err
}

func TestLoadFleet(t *testing.T) {
	t.Parallel()
	s, err := loadJSON(t, "-n", "5")
	require.NoError(t, err)
	assert.Equal(t, 5, s.Boards)
	assert.Equal(t, 5, s.Completed)
	assert.Equal(t, 5, s.FirstTry)
	assert.Zero(t, s.Failed)
	assert.Equal(t, 5, s.Registrations, "the hub holds a DPS registration per board")
	assert.Equal(t, 5, s.Telemetry, "and has an event from each")
	assert.Empty(t, s.Failures)
	assert.Empty(t, s.Retries)
	assert.Empty(t, s.Faults)
	require.Len(t, s.Stages, numStages)
	for _, name := range stageNames {
		p := s.Stages[name]
		assert.Equal(t, 5, p.Boards, name)
		assert.True(t, p.P50 > 0 && p.P50 <= p.P90 && p.P90 <= p.P99 && p.P99 <= p.Max, "%s: %+v", name, p)
	}
	// DPS answers "assigning" once, with retry-after 1 s: the sample waits it.
	assert.GreaterOrEqual(t, s.Stages["dps"].P50, 1.0)
	assert.GreaterOrEqual(t, s.Stages["total"].Max, s.Stages["dps"].Max)
}

func TestLoadWithFaults(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "fleet.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`faults:
  seed: 3
  latency: 5ms
  drop_rate: 0.2
  baud: 115200
  cme_error_rate: 0.2
  registration_loss_rate: 0.5
  regain_after: 200ms
boards:
  - name: "fault-{{seq}}"
    count: 5
    hardware: {model: nrf9160}
`), 0o644))
	// A cut DPS connection can leave the sample waiting for an answer
	// (its DPS timeout is 90 s): the host resets it after the stage timeout.
	s, err := loadJSON(t, "-c", path, "--retries", "6", "--stage-timeout", "8s")
	require.NoError(t, err, "the host's retries get every board through")
	assert.Equal(t, 5, s.Completed)
	assert.Equal(t, 5, s.Telemetry)
	require.Len(t, s.Faults, 5, "every fault is listed: %q", s.Faults)
	fired := map[string]int{}
	for _, l := range s.Faults {
		m := regexp.MustCompile(`: (\d+) [a-z]`).FindAllStringSubmatch(l, -1)
		require.NotEmpty(t, m, l)
		fired[strings.Fields(l)[0]], _ = strconv.Atoi(m[len(m)-1][1])
	}
	assert.Positive(t, fired["latency"], "every connection is delayed")
	assert.Positive(t, fired["UART"], "bytes were paced")
	cmeRetries, resets := 0, 0
	for why, n := range s.Retries {
		switch {
		case strings.Contains(why, "+CME ERROR: 528"):
			cmeRetries += n
		case strings.HasPrefix(why, "reset: "):
			resets += n
		}
	}
	// Seed 3 draws CME answers and lost registrations for these 5 boards
	// (TestFaultPlanIsDeterministic: the same seed draws the same); each
	// shows as the retry the host made for it.
	assert.Positive(t, fired["+CME"])
	assert.Equal(t, fired["+CME"], cmeRetries, "every +CME ERROR answered was retried: %v", s.Retries)
	assert.Positive(t, fired["registration"])
	assert.GreaterOrEqual(t, resets, fired["registration"], "every lost registration failed a DPS run that was reset: %v", s.Retries)
	assert.Less(t, s.FirstTry, s.Completed, "a lost registration fails the first run of its board")
}

func TestLoadAgainstARunningHub(t *testing.T) {
	t.Parallel()
	url, stop, err := loadHubStart(t.Context(), filepath.Join(t.TempDir(), "hub"), filepath.Join(t.TempDir(), "pki"), time.Second,
		func(hub.Message) {}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer stop()
	var out bytes.Buffer
	err = run(t.Context(), []string{"load", "--json", "--progress", "off", "--root", testRoot, "--state", t.TempDir(), "--hub", url, "-n", "2"}, &out, io.Discard)
	require.NoError(t, err)
	var s jsonSummary
	require.NoError(t, json.Unmarshal(out.Bytes(), &s), out.String())
	assert.Equal(t, 2, s.Completed)
	assert.Equal(t, 2, s.Registrations, "the running hub's DPS holds them")
	assert.Equal(t, -1, s.Telemetry, "a running hub's telemetry is not followed")

	err = run(t.Context(), []string{"load", "--hub", url, "--dps-retry-after", "2s"}, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "--dps-retry-after and --pki set the in-process hub")
}

func TestLoadUsage(t *testing.T) {
	dir := t.TempDir()
	spwf := filepath.Join(dir, "spwf.yaml")
	require.NoError(t, os.WriteFile(spwf, []byte("boards: [{name: a, kind: spwf04}]\n"), 0o644))
	badFaults := filepath.Join(dir, "faults.yaml")
	require.NoError(t, os.WriteFile(badFaults, []byte("faults: {baud: 12345}\nboards: [{name: a}]\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no boards", []string{"-n", "0"}, "modemsim load: -n must be at least 1"},
		{"both -n and -c", []string{"-n", "2", "-c", spwf}, "modemsim load: -n and -c both give the boards: use one"},
		{"bad progress", []string{"--progress", "loud"}, `--progress "loud"`},
		{"short retry-after", []string{"--dps-retry-after", "10ms"}, "--dps-retry-after must be at least 1s"},
		{"not the real root", []string{"--root", filepath.Join("..", "..", "pki", "testdata", "Baltimore_CyberTrust_Root.pem")}, "is not the real DigiCert Global Root G2"},
		{"other kind", []string{"-c", spwf, "--root", testRoot}, "board a: kind spwf04: a load run provisions nRF91 boards"},
		{"bad faults", []string{"-c", badFaults, "--root", testRoot}, "faults.baud: 12345 is not a rate the nRF91 UART runs at"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := run(t.Context(), append([]string{"load", "--state", t.TempDir(), "--pki", filepath.Join(t.TempDir(), "pki")}, tc.args...), io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPercentiles(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		name string
		vals []time.Duration
		want percentiles
	}{
		{"none", nil, percentiles{}},
		{"one", ms(7), percentiles{1, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond}},
		{"unsorted ten", ms(10, 1, 9, 2, 8, 3, 7, 4, 6, 5), percentiles{10, 5 * time.Millisecond, 9 * time.Millisecond, 10 * time.Millisecond, 10 * time.Millisecond}},
		{"hundred: nearest rank", ms(seq(1, 100)...), percentiles{100, 50 * time.Millisecond, 90 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}},
		{"an outlier shows in p99 and max only", ms(append(repeatInt(1, 199), 1000)...), percentiles{200, time.Millisecond, time.Millisecond, time.Millisecond, time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, percentilesOf(tc.vals))
		})
	}
}

func TestSummarize(t *testing.T) {
	ok := func(total time.Duration, attempts int, retried ...string) boardResult {
		r := boardResult{done: true, attempts: attempts, retried: retried}
		r.stages[stageTotal] = total
		return r
	}
	failed := func(reason string, retried ...string) boardResult {
		return boardResult{reason: reason, attempts: 3, retried: retried}
	}
	s := summarize([]boardResult{
		ok(time.Second, 1),
		ok(3*time.Second, 2, "reset: dps: Failed to run DPS, error: -111, terminating connection attempt"),
		failed("dps: no progress in 1m0s", "AT+CFUN=4: +CME ERROR: 528", "AT+CFUN=4: +CME ERROR: 528"),
		failed("dps: no progress in 1m0s"),
	})
	assert.Equal(t, 4, s.boards)
	assert.Equal(t, 2, s.done)
	assert.Equal(t, 1, s.firstTry)
	assert.Equal(t, 2, s.failed)
	assert.Equal(t, map[string]int{"dps: no progress in 1m0s": 2}, s.failures)
	assert.Equal(t, map[string]int{"AT+CFUN=4: +CME ERROR: 528": 2,
		"reset: dps: Failed to run DPS, error: -111, terminating connection attempt": 1}, s.retries)
	assert.Equal(t, 2, s.stages[stageTotal].N, "failed boards have no stage times")
	assert.Equal(t, 3*time.Second, s.stages[stageTotal].Max)

	var out bytes.Buffer
	s.print(&out)
	text := out.String()
	assert.Contains(t, text, "boards: 4, completed 2 (1 at the first run, 1 after a reset), failed 2")
	assert.Regexp(t, `failures by reason:\n\s+2  dps: no progress in 1m0s\n`, text)
	assert.Regexp(t, `retries by reason:\n\s+2  AT\+CFUN=4: \+CME ERROR: 528\n\s+1  reset: `, text, "most frequent first")
	assert.Contains(t, text, "faults: none")
}

func TestFaultPlanIsDeterministic(t *testing.T) {
	f := &fleet.Faults{CMEErrorRate: 0.3, DropRate: 0.3, RegistrationLossRate: 0.3, CMEError: 528}
	draws := func(seed int64) (picks []bool, cme []bool) {
		p := newFaultPlan(f, seed)
		for i := range 50 {
			picks = append(picks, p.losesRegistration(i))
			st := p.stream(i, faultCME)
			for range 10 {
				hit, _ := st.hit(f.CMEErrorRate, 1)
				cme = append(cme, hit)
			}
		}
		return picks, cme
	}
	p1, c1 := draws(42)
	p2, c2 := draws(42)
	p3, c3 := draws(43)
	assert.Equal(t, p1, p2)
	assert.Equal(t, c1, c2)
	assert.NotEqual(t, c1, c3, "another seed draws otherwise")
	assert.NotEqual(t, p1, p3)
	hits := 0
	for _, h := range c1 {
		if h {
			hits++
		}
	}
	assert.InDelta(t, 0.3*500, hits, 50, "about the rate")
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func repeatInt(v, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = v
	}
	return out
}
