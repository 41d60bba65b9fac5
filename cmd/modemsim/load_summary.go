package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Stages of a board's run, in order.
const (
	stageProvision = iota // port opened → key made, certificate and root written
	stageDPS              // sample flashed → DPS assigned
	stageHub              // assigned → hub connected
	stageTelemetry        // connected → first event sent
	stageTotal            // port opened → first event sent
	numStages
)

var stageNames = [numStages]string{"provision", "dps", "hub connect", "first telemetry", "total"}

// boardResult is what happened to one board.
type boardResult struct {
	name     string
	regID    string                   // its registration ID (and device ID)
	stages   [numStages]time.Duration // of the attempt that completed
	done     bool
	reason   string   // why it failed, when !done
	retried  []string // why each retry (an AT command's or a reset's) was needed
	attempts int      // runs of the sample (1 + resets)
}

// percentiles are a stage's latency distribution.
type percentiles struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

// percentilesOf uses the nearest-rank definition: the p-th percentile is
// the smallest value with at least p% of the values at or below it.
func percentilesOf(vals []time.Duration) percentiles {
	if len(vals) == 0 {
		return percentiles{}
	}
	v := slices.Clone(vals)
	slices.Sort(v)
	rank := func(p float64) time.Duration {
		i := int(math.Ceil(p/100*float64(len(v)))) - 1
		return v[min(max(i, 0), len(v)-1)]
	}
	return percentiles{N: len(v), P50: rank(50), P90: rank(90), P99: rank(99), Max: v[len(v)-1]}
}

// loadSummary is a run's outcome.
type loadSummary struct {
	boards, done, failed int
	firstTry             int            // boards done without a reset
	failures             map[string]int // final reasons of failed boards
	retries              map[string]int // reasons of retries, failed boards' included
	stages               [numStages]percentiles
	open, drive, wall    time.Duration
	faults               []string
	registrations        int // DPS registration records on the hub afterwards; -1 unknown
	telemetry            int // completed boards the hub received an event from; -1 unknown (--hub)
}

func summarize(results []boardResult) loadSummary {
	s := loadSummary{boards: len(results), failures: map[string]int{}, retries: map[string]int{}, registrations: -1, telemetry: -1}
	var per [numStages][]time.Duration
	for _, r := range results {
		for _, why := range r.retried {
			s.retries[why]++
		}
		if !r.done {
			s.failed++
			s.failures[r.reason]++
			continue
		}
		s.done++
		if r.attempts == 1 {
			s.firstTry++
		}
		for i, d := range r.stages {
			per[i] = append(per[i], d)
		}
	}
	for i := range per {
		s.stages[i] = percentilesOf(per[i])
	}
	return s
}

// jsonSummary is the summary for scripts (ci/load.sh); durations in
// seconds.
type jsonSummary struct {
	Boards        int                     `json:"boards"`
	Completed     int                     `json:"completed"`
	FirstTry      int                     `json:"completedAtFirstRun"`
	Failed        int                     `json:"failed"`
	WallSeconds   float64                 `json:"wallSeconds"`
	OpenSeconds   float64                 `json:"openSeconds"`
	DriveSeconds  float64                 `json:"driveSeconds"`
	Registrations int                     `json:"dpsRegistrations"`
	Telemetry     int                     `json:"hubReceivedEventsFrom"`
	Stages        map[string]jsonPercents `json:"stages"`
	Failures      map[string]int          `json:"failuresByReason"`
	Retries       map[string]int          `json:"retriesByReason"`
	Faults        []string                `json:"faults"`
}

type jsonPercents struct {
	Boards int     `json:"boards"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P99    float64 `json:"p99"`
	Max    float64 `json:"max"`
}

func (s loadSummary) writeJSON(w io.Writer) error {
	j := jsonSummary{Boards: s.boards, Completed: s.done, FirstTry: s.firstTry, Failed: s.failed,
		WallSeconds: s.wall.Seconds(), OpenSeconds: s.open.Seconds(), DriveSeconds: s.drive.Seconds(),
		Registrations: s.registrations, Telemetry: s.telemetry, Stages: map[string]jsonPercents{}, Failures: s.failures, Retries: s.retries, Faults: s.faults}
	for i, p := range s.stages {
		j.Stages[stageNames[i]] = jsonPercents{p.N, p.P50.Seconds(), p.P90.Seconds(), p.P99.Seconds(), p.Max.Seconds()}
	}
	if j.Faults == nil {
		j.Faults = []string{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

// print writes the summary as a person reads it.
func (s loadSummary) print(w io.Writer) {
	fmt.Fprintf(w, "boards: %d, completed %d (%d at the first run, %d after a reset), failed %d\n",
		s.boards, s.done, s.firstTry, s.done-s.firstTry, s.failed)
	fmt.Fprintf(w, "wall %s: boards opened in %s, driven in %s\n", round(s.wall), round(s.open), round(s.drive))
	if s.registrations >= 0 {
		fmt.Fprintf(w, "DPS registration records on the hub: %d\n", s.registrations)
	}
	if s.telemetry >= 0 {
		fmt.Fprintf(w, "the hub received the first event of %d of the %d boards completed\n", s.telemetry, s.done)
	}
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "stage\tboards\tp50\tp90\tp99\tmax\t")
	for i, p := range s.stages {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t\n", stageNames[i], p.N, round(p.P50), round(p.P90), round(p.P99), round(p.Max))
	}
	_ = tw.Flush()
	printCounts(w, "failures by reason", s.failures)
	printCounts(w, "retries by reason", s.retries)
	if len(s.faults) == 0 {
		fmt.Fprintln(w, "faults: none")
	} else {
		fmt.Fprintln(w, "faults:")
		for _, l := range s.faults {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
}

// printCounts lists reasons, most frequent first.
func printCounts(w io.Writer, title string, m map[string]int) {
	if len(m) == 0 {
		fmt.Fprintf(w, "%s: none\n", title)
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	fmt.Fprintf(w, "%s:\n", title)
	for _, k := range keys {
		fmt.Fprintf(w, "  %6d  %s\n", m[k], strings.ReplaceAll(k, "\n", " "))
	}
}

// round keeps three significant figures or so: 1.23s, 45.6ms, 789µs.
func round(d time.Duration) time.Duration {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond)
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
