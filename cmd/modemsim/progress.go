package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// progressMode is how `hub load` reports progress on stderr.
type progressMode int

const (
	progressOff   progressMode = iota
	progressBar                // redrawn in place on a terminal
	progressLines              // a line every few seconds (logs, CI)
)

// Redraw and line intervals of the progress report.
const (
	barEvery  = 100 * time.Millisecond
	lineEvery = 2 * time.Second
	barWidth  = 30
)

// parseProgress reads --progress: auto (bar on a terminal, lines
// otherwise), bar, lines or off.
func parseProgress(s string, w io.Writer) (progressMode, error) {
	switch s {
	case "auto":
		if isTerminal(w) {
			return progressBar, nil
		}
		return progressLines, nil
	case "bar":
		return progressBar, nil
	case "lines":
		return progressLines, nil
	case "off":
		return progressOff, nil
	}
	return progressOff, fmt.Errorf("--progress %q: want auto, bar, lines or off", s)
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress reports one phase (count of total) until finish.
type progress struct {
	w     io.Writer
	mode  progressMode
	label string
	total int64
	done  atomic.Int64
	every time.Duration
	start time.Time
	stop  chan struct{}
	wg    sync.WaitGroup
}

func startProgress(w io.Writer, mode progressMode, label string, total int, every time.Duration) *progress {
	p := &progress{w: w, mode: mode, label: label, total: int64(max(total, 1)), every: every, start: time.Now(), stop: make(chan struct{})}
	if mode == progressOff {
		return p
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-p.stop:
				return
			case <-t.C:
				p.report(false)
			}
		}
	}()
	return p
}

func (p *progress) add(n int) { p.done.Add(int64(n)) }

func (p *progress) report(final bool) {
	done := min(p.done.Load(), p.total)
	pct := 100 * done / p.total
	rate := float64(done) / max(time.Since(p.start).Seconds(), 1e-9)
	switch p.mode {
	case progressBar:
		filled := int(int64(barWidth) * done / p.total)
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(p.w, "\r%-22s [%s%s] %3d%% %d/%d %.0f/s%s", p.label, strings.Repeat("#", filled),
			strings.Repeat(".", barWidth-filled), pct, done, p.total, rate, end)
	case progressLines:
		fmt.Fprintf(p.w, "load: %s %d/%d (%d%%, %.0f/s)\n", p.label, done, p.total, pct, rate)
	}
}

// finish stops the reporter and prints the final state.
func (p *progress) finish() {
	if p.mode == progressOff {
		return
	}
	close(p.stop)
	p.wg.Wait()
	p.report(true)
}
