package scenarios

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testPool is the stand-in PKI every test of the package shares: three
// RSA-4096 keys once (seconds on a loaded machine), owned by TestMain.
var testPool *PKIPool

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "modemsim-scenarios-pki-*")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testPool = NewPKIPool(dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func sharedPool(testing.TB) *PKIPool { return testPool }

// representative are one case per board, persona and kind of outcome.
// features/demos.feature runs every case (the acceptance); this package's
// own test runs these, or every case with MODEMSIM_ALL_CASES=1, or one
// with MODEMSIM_CASE=<id>, so the suite pays for each case once.
var representative = map[string]bool{"H1": true, "H2": true, "M1": true, "D1": true, "D5": true, "S1": true, "W2": true}

// TestCasesReplay replays cases and requires each to end in its outcome.
func TestCasesReplay(t *testing.T) {
	pool := sharedPool(t)
	only, all := os.Getenv("MODEMSIM_CASE"), os.Getenv("MODEMSIM_ALL_CASES") == "1"
	for _, c := range Cases() {
		if (only != "" && c.ID != only) || (only == "" && !all && !representative[c.ID]) {
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			res, err := Run(ctx, c, Options{PKI: pool})
			if err != nil {
				for _, s := range res.Steps {
					t.Logf("step %d %s: %v", s.Index+1, s.Step.Say, s.Output)
				}
			}
			require.NoError(t, err)
			require.True(t, res.Passed())
		})
	}
}

func TestLineMatches(t *testing.T) {
	for _, tc := range []struct {
		want, got string
		ok        bool
	}{
		{"OK", "OK", true},
		{"OK", "OK ", false},
		{"+WIND:24:WiFi Up:0:*", "+WIND:24:WiFi Up:0:192.168.1.7", true},
		{"#XMQTTEVT: 1,*", "#XMQTTEVT: 0,0", false},
		{"nrfcredstore: digest * as expected", "nrfcredstore: digest AB= as expected", true},
		{"nrfcredstore: digest * as expected", "nrfcredstore: digest AB= differs", false},
		{"a*b*c", "abc", true},
		{"a*b*c", "acb", false},
	} {
		assert.Equal(t, tc.ok, lineMatches(tc.want, tc.got), "%q vs %q", tc.want, tc.got)
	}
}

func TestCleanLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"OK\r", "OK"},
		{"[00:00:01.000,000] <inf> azure_iot_hub_sample: Connected to network\r", "<inf> azure_iot_hub_sample: Connected to network"},
		{"\x1b[1;32muart:~$ \x1b[mcred list\r", "uart:~$ cred list"},
	} {
		assert.Equal(t, tc.want, cleanLine(tc.in))
	}
}

// TestCasesAreWellFormed: unique IDs, every step said and acting on a board
// of its world, every case with a failure or a success step.
func TestCasesAreWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Cases() {
		require.False(t, seen[c.ID], "duplicate %s", c.ID)
		seen[c.ID] = true
		require.NotEmpty(t, c.Title, c.ID)
		require.NotEmpty(t, c.Fix, c.ID)
		names := map[string]bool{"": true}
		for _, b := range c.World.Boards {
			names[b.Name] = true
		}
		var judged bool
		for i, s := range c.Steps {
			require.NotEmpty(t, s.Say, "%s step %d", c.ID, i+1)
			require.True(t, names[s.Board], "%s step %d: no board %q", c.ID, i+1, s.Board)
			require.Contains(t, []Phase{PhaseSetup, PhaseFailure, PhaseFix, PhaseSuccess}, s.Phase, "%s step %d", c.ID, i+1)
			if s.Phase == PhaseFailure || s.Phase == PhaseSuccess {
				judged = judged || len(s.Want.Lines) > 0 || s.Want.HubReason != "" || s.Want.DPSReason != ""
			}
		}
		require.True(t, judged, "%s asserts nothing", c.ID)
		got, err := Lookup(c.ID)
		require.NoError(t, err)
		require.Equal(t, c.ID, got.ID)
	}
	_, err := Lookup("nope")
	require.Error(t, err)
}

// TestAWrongOutcomeFails: the runner judges; a case whose expected line,
// hub reason or DPS reason is not what happens does not pass.
func TestAWrongOutcomeFails(t *testing.T) {
	pool := sharedPool(t)
	for _, tc := range []struct {
		id     string
		step   int
		change func(*Outcome)
	}{
		{"M4", 3, func(o *Outcome) { o.Lines = []string{"OK"} }},                                   // the online write is refused, not OK
		{"H2", 4, func(o *Outcome) { o.HubReason = "sas-expired" }},                                // the reason is the signature
		{"H2", 4, func(o *Outcome) { o.HubReasonValues = map[string]string{"stringToSign": "x"} }}, // another string
		{"W2", 1, func(o *Outcome) { o.Absent = []string{"*AZURE_IOT_HUB_EVT_CONNECTED"} }},        // it printed that
	} {
		wait := 2 * time.Second // what a wrong line waits before the step fails
		if tc.id == "W2" {
			wait = 30 * time.Second // the first step must pass: Wi-Fi, then the sample's connect
		}
		t.Run(tc.id, func(t *testing.T) {
			t.Parallel()
			c, err := Lookup(tc.id)
			require.NoError(t, err)
			c.Steps = append([]Step(nil), c.Steps[:tc.step+1]...)
			tc.change(&c.Steps[tc.step].Want)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := Run(ctx, c, Options{PKI: pool, Wait: wait})
			require.Error(t, err)
			require.False(t, res.Passed())
			require.Len(t, res.Steps, tc.step+1)
			require.NotEmpty(t, res.Steps[tc.step].Err)
		})
	}
}

// TestResultRecordsWhatHappened: H2's run holds the transcript of both
// directions, the hub's reason, the served chain and the attempts.
func TestResultRecordsWhatHappened(t *testing.T) {
	c, err := Lookup("H2")
	require.NoError(t, err)
	var after []int
	res, err := Run(context.Background(), c, Options{PKI: sharedPool(t), AfterStep: func(sr StepResult) { after = append(after, sr.Index) }})
	require.NoError(t, err)
	require.Len(t, after, len(c.Steps))
	var host, device bool
	for _, s := range res.Steps {
		for _, ch := range s.Transcript {
			host = host || (ch.FromHost && strings.Contains(ch.Data, "AT#XMQTTCON="))
			device = device || (!ch.FromHost && strings.Contains(ch.Data, "#XMQTTEVT: 0,5"))
		}
	}
	assert.True(t, host && device, "transcript both ways")
	require.NotEmpty(t, res.Reasons)
	assert.Equal(t, "sas-signature", res.Reasons[0].Check)
	var outcomes []string
	for _, e := range res.Timeline {
		if e.Kind == "attempt" {
			outcomes = append(outcomes, e.Outcome)
		}
	}
	assert.Contains(t, outcomes, "refused")
	assert.Contains(t, outcomes, "accepted")
	var served bool
	for _, ch := range res.Chains {
		if strings.HasPrefix(ch.Title, "served by the hub") {
			served = true
			require.GreaterOrEqual(t, len(ch.Certs), 2)
			assert.Len(t, ch.Certs[0].SHA256, 64)
			assert.Contains(t, ch.Certs[len(ch.Certs)-1].Subject, "DigiCert Global Root G2")
		}
	}
	assert.True(t, served, "the hub's chain")
}

// FuzzFeed: whatever a board prints, the lines the runner judges are
// non-empty, trimmed, one line each, no longer than the input, and every
// complete line is taken.
func FuzzFeed(f *testing.F) {
	for _, s := range []string{"\r\nOK\r\n", "[00:00:01.000,000] <inf> x: y\r\n", "\x1b[1;32muart:~$ \x1b[m\r\n", "a\rb\nc", "\xff\x00\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		var b boardRun
		b.take(p)
		var n int
		for _, l := range b.lines {
			if l == "" || strings.Contains(l, "\n") || l != strings.TrimSpace(l) {
				t.Fatalf("line %q", l)
			}
			n += len(l)
		}
		if n > len(p) {
			t.Fatalf("%d bytes of lines from %d bytes", n, len(p))
		}
		if bytes.Contains(b.partial, []byte("\n")) {
			t.Fatalf("a complete line left unparsed: %q", b.partial)
		}
	})
}

// BenchmarkRunNoHub is one case with a board and no hub (W3): the cost of
// a demo's world, steps and records.
func BenchmarkRunNoHub(b *testing.B) {
	c, err := Lookup("W3")
	require.NoError(b, err)
	for b.Loop() {
		if _, err := Run(context.Background(), c, Options{PKI: testPool}); err != nil {
			b.Fatal(err)
		}
	}
}
