package spwf04

import (
	"bytes"
	"context"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/modemsim/modemsim/atparser"
)

// FuzzDiscipline feeds the line discipline arbitrary bytes in two writes:
// it must consume everything, never put a CR in a command, never keep more
// than its line buffer, and echo only what it was given (plus CR LF and
// erase sequences).
func FuzzDiscipline(f *testing.F) {
	for _, s := range []string{"AT\r", "AT+S.TLSCERT=ca,5\rabcde", "\nAT\r\n", "AB\x7fC\r", "\b\b\r", "x\r\r\r"} {
		f.Add([]byte(s), uint8(2), true)
	}
	f.Fuzz(func(t *testing.T, in []byte, split uint8, echoOn bool) {
		var echo atomic.Bool
		echo.Store(echoOn)
		const maxLen = 16
		d := NewDiscipline(&echo, maxLen)
		cut := min(int(split), len(in))
		var frames []atparser.Frame
		var echoed []byte
		for _, part := range [][]byte{in[:cut], in[cut:]} {
			for len(part) > 0 {
				n, e, fr, ok := d.Scan(part)
				if n <= 0 || n > len(part) {
					t.Fatalf("Scan took %d of %d bytes", n, len(part))
				}
				echoed = append(echoed, e...)
				if ok {
					frames = append(frames, fr)
				}
				part = part[n:]
			}
		}
		if !echoOn && len(echoed) > 0 {
			t.Fatalf("echo off, echoed %q", echoed)
		}
		if got, want := len(frames), bytes.Count(in, []byte{'\r'}); got != want {
			t.Fatalf("%d frames for %d CRs", got, want)
		}
		for _, fr := range frames {
			if bytes.IndexByte(fr.Line, '\r') >= 0 || len(fr.Line) > maxLen {
				t.Fatalf("bad frame %q", fr.Line)
			}
			if fr.Truncated != (fr.Dropped > 0) {
				t.Fatalf("truncated %v with %d dropped", fr.Truncated, fr.Dropped)
			}
		}
		d.Reset()
		if d.Reset() {
			t.Fatal("a second Reset dropped something")
		}
	})
}

// finalLine is the one terminator every answer ends with.
var finalLine = regexp.MustCompile(`(?:\r\n|^)(AT-S\.OK|AT-S\.ERROR:(\d+):([^\r\n]*))\r\n$`)

// FuzzHandle answers arbitrary command lines, then, for a length-prefixed
// command, an arbitrary payload, complete or cut short: every answer ends
// in exactly one AT-S.OK or AT-S.ERROR from the table (or is empty for an
// empty line), and the handler never panics.
func FuzzHandle(f *testing.F) {
	seeds := []string{"AT", "AT+S.TLSCERT=ca,5", "AT+S.TLSCERT=auth,20", "AT+S.TLSCERT=content,1", "AT+S.FSC=a.ca,4",
		"AT+S.FSA=a.ca,2", "AT+S.FSP=a.ca,1,1", "AT+S.SCFG=console_echo,0", "AT+S.GCFG", "AT+S.MQTTPUB=0,t,1,0,3",
		"AT+S.MQTTCONN=h,8883,,2,u,p,c,60,0,0,t,m", "AT+S.WIFI=1", "AT+S.RESET", "AT+S.TIME=0", "AT+S.FSR=a.ca,b", "AT+S.SOCKW=0,3", "AT+S.SOCKR=0", "AT+S.SOCKON=127.0.0.1,1,,t"}
	for _, s := range seeds {
		f.Add(s, []byte("abcde"), false, false)
		f.Add(s, []byte("ab"), true, false)
		f.Add(s, []byte("\nabcd"), false, true)
	}
	f.Fuzz(func(t *testing.T, line string, payload []byte, cut, dropLF bool) {
		flash := newMemFlash()
		m := newTestModule(t, flash, Config{JoinRetry: durationOf(1 << 40), PayloadDropLF: dropLF})
		defer m.Close()
		ctx := context.Background()
		// Two commands: the second sees what the first stored.
		for range 2 {
			rep := m.Handle(ctx, atparser.Frame{Line: []byte(line)})
			checkAnswer(t, line, rep.Out, rep.Then == nil)
			if rep.Then == nil {
				continue
			}
			if rep.Then.Len <= 0 || rep.Then.Done == nil {
				t.Fatalf("%q: bad payload request %+v", line, rep.Then)
			}
			data := payload
			if !cut && len(data) != rep.Then.Len {
				data = bytes.Repeat(append([]byte{0}, payload...), rep.Then.Len)[:rep.Then.Len]
			}
			if cut && len(data) >= rep.Then.Len {
				data = data[:rep.Then.Len-1]
			}
			done := rep.Then.Done(ctx, data, cut)
			if done.Then != nil {
				// A dropped LF: the payload's last byte is read again.
				if !dropLF || len(data) == 0 || data[0] != '\n' || done.Then.Len != 1 {
					t.Fatalf("%q: a payload answer asked for another payload", line)
				}
				done = done.Then.Done(ctx, []byte{'z'}, cut)
				if done.Then != nil {
					t.Fatalf("%q: a third payload", line)
				}
			}
			checkAnswer(t, line, done.Out, true)
			if cut && !bytes.HasSuffix(done.Out, []byte("AT-S.ERROR:79:Write failed\r\n")) {
				t.Fatalf("%q: cut payload answered %q", line, done.Out)
			}
		}
	})
}

func checkAnswer(t *testing.T, line string, out []byte, final bool) {
	t.Helper()
	if !final {
		if len(out) != 0 {
			t.Fatalf("%q: answer %q before its payload", line, out)
		}
		return
	}
	if len(out) == 0 {
		if len(bytes.TrimSpace([]byte(line))) != 0 {
			t.Fatalf("%q: no answer", line)
		}
		return
	}
	mm := finalLine.FindSubmatch(out)
	if mm == nil {
		t.Fatalf("%q: answer %q does not end in AT-S.OK or AT-S.ERROR", line, out)
	}
	if len(mm[2]) > 0 {
		var n int
		for _, c := range mm[2] {
			n = n*10 + int(c-'0')
		}
		if c := Code(n); !c.Known() || c.Text() != string(mm[3]) {
			t.Fatalf("%q: error %s:%s is not in the table", line, mm[2], mm[3])
		}
	}
	// FSP prints file bytes; every other answer has one terminator only.
	if !bytes.Contains(out, []byte("AT-S.Reading:")) {
		if n := bytes.Count(out, []byte("AT-S.OK\r\n")) + bytes.Count(out, []byte("AT-S.ERROR:")); n != 1 {
			t.Fatalf("%q: %d terminators in %q", line, n, out)
		}
	}
}
