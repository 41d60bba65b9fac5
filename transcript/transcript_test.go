package transcript

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 21, 5, 1, 2, 123456789, time.UTC)

func fixedClock() time.Time { return t0 }

func TestRecordFormat(t *testing.T) {
	const ts = "2026-11-21T05:01:02.123456Z"
	tests := []struct {
		name string
		dir  Direction
		data string
		want string
	}{
		{"command", FromHost, "AT%CMNG=1\r\n", ts + ` > AT%CMNG=1\r\n` + "\n"},
		{"response split after each LF", ToHost, "%CMNG: 1,0,\"AB\"\r\nOK\r\n",
			ts + ` < %CMNG: 1,0,"AB"\r\n` + "\n" + ts + ` < OK\r\n` + "\n"},
		{"no trailing LF", ToHost, "OK\r\nREADY", ts + ` < OK\r\n` + "\n" + ts + " < READY\n"},
		{"escapes", FromHost, "a\\b\tc\x00\x7f\xff\x1b[0m", ts + ` > a\\b\tc\x00\x7f\xff\x1b[0m` + "\n"},
		{"PEM in quotes keeps its lines", FromHost, "AT%CMNG=0,1,0,\"-----BEGIN\nMIIB\n-----END\"\r\n",
			ts + ` > AT%CMNG=0,1,0,"-----BEGIN\n` + "\n" + ts + ` > MIIB\n` + "\n" + ts + ` > -----END"\r\n` + "\n"},
		{"empty data records nothing", ToHost, "", ""},
		{"empty note", Note, "", ts + " # \n"},
		{"leading and trailing spaces", ToHost, " x ", ts + " <  x \n"},
		{"unknown direction becomes a note", Direction('?'), "hi", ts + ` # [direction '?'] hi` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			r := New(&buf, WithClock(fixedClock))
			r.Record(tt.dir, []byte(tt.data))
			assert.Equal(t, tt.want, buf.String())
			assert.Equal(t, tt.want, r.String(), "memory copy")
		})
	}
}

func TestLongChunkIsSplit(t *testing.T) {
	r := New(nil, WithClock(fixedClock))
	data := bytes.Repeat([]byte{0xaa}, 3*maxLineData+1)
	r.Record(ToHost, data)
	entries, err := Parse(strings.NewReader(r.String()))
	require.NoError(t, err)
	require.Len(t, entries, 4)
	assert.Equal(t, data, concat(entries, ToHost))
}

func TestNotef(t *testing.T) {
	r := New(nil, WithClock(fixedClock))
	r.Notef("client closed port %s", "/dev/pts/3")
	r.Notef("trust mapping: %q -> stand-in", "DigiCert Global Root G2")
	entries, err := Parse(strings.NewReader(r.String()))
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, Note, entries[0].Dir)
	assert.Equal(t, "client closed port /dev/pts/3", string(entries[0].Data))
	assert.Equal(t, `trust mapping: "DigiCert Global Root G2" -> stand-in`, string(entries[1].Data))
}

func TestParse(t *testing.T) {
	at := time.Date(2026, 11, 21, 5, 1, 2, 123456000, time.UTC)
	tests := []struct {
		name    string
		text    string
		want    []Entry
		wantErr int // line of the syntax error, 0 for none
	}{
		{"two lines", "2026-11-21T05:01:02.123456Z > AT\\r\\n\n2026-11-21T05:01:02.123456Z < OK\\r\\n\n",
			[]Entry{{at, FromHost, []byte("AT\r\n")}, {at, ToHost, []byte("OK\r\n")}}, 0},
		{"no final LF, blank lines skipped", "\n2026-11-21T05:01:02.123456Z # hi\n\n2026-11-21T05:01:02.123456Z < \\x00",
			[]Entry{{at, Note, []byte("hi")}, {at, ToHost, []byte{0}}}, 0},
		{"empty data without space", "2026-11-21T05:01:02.123456Z #\n", []Entry{{at, Note, []byte{}}}, 0},
		{"upper-case hex", "2026-11-21T05:01:02.123456Z < \\xFF\n", []Entry{{at, ToHost, []byte{0xff}}}, 0},
		{"empty input", "", nil, 0},
		{"bad time", "2026-13-21T05:01:02.123456Z > AT\n", nil, 1},
		{"bad direction", "2026-11-21T05:01:02.123456Z x AT\n", nil, 1},
		{"no space after direction", "2026-11-21T05:01:02.123456Z >AT\n", nil, 1},
		{"unknown escape", "2026-11-21T05:01:02.123456Z > \\q\n", nil, 1},
		{"short hex escape", "2026-11-21T05:01:02.123456Z > \\x4\n", nil, 1},
		{"bad hex escape", "2026-11-21T05:01:02.123456Z > \\xg0\n", nil, 1},
		{"trailing backslash", "2026-11-21T05:01:02.123456Z > a\\\n", nil, 1},
		{"raw control byte", "2026-11-21T05:01:02.123456Z > a\rb\n", nil, 1},
		{"error on line 2", "2026-11-21T05:01:02.123456Z > a\ngarbage\n", nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.text))
			if tt.wantErr != 0 {
				var se *SyntaxError
				require.ErrorAs(t, err, &se)
				assert.ErrorIs(t, err, ErrSyntax)
				assert.Equal(t, tt.wantErr, se.Line)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMemoryLimit(t *testing.T) {
	tests := []struct {
		name  string
		limit int
		lines int
	}{
		{"under the limit", 1 << 20, 100},
		{"over the limit", 1000, 100},
		{"much over the limit", 200, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var file bytes.Buffer
			r := New(&file, WithClock(fixedClock), WithMemoryLimit(tt.limit))
			for i := range tt.lines {
				r.Record(ToHost, fmt.Appendf(nil, "line %d\r\n", i))
			}
			out := r.String()
			entries, err := Parse(strings.NewReader(out))
			require.NoError(t, err)
			last := entries[len(entries)-1]
			assert.Equal(t, fmt.Sprintf("line %d\r\n", tt.lines-1), string(last.Data), "newest line kept")
			if file.Len() <= tt.limit {
				assert.Equal(t, file.String(), out)
				return
			}
			assert.Equal(t, Note, entries[0].Dir)
			assert.Contains(t, string(entries[0].Data), "transcript truncated")
			tail := out[strings.IndexByte(out, '\n')+1:]
			assert.LessOrEqual(t, len(tail), tt.limit)
			assert.True(t, strings.HasSuffix(file.String(), tail), "tail is the end of the full transcript")
			assert.Contains(t, string(entries[0].Data), fmt.Sprint(file.Len()-len(tail)))
		})
	}
}

func TestMemoryDisabled(t *testing.T) {
	var file bytes.Buffer
	r := New(&file, WithClock(fixedClock), WithMemoryLimit(0))
	r.Record(FromHost, []byte("AT\r\n"))
	assert.NotEmpty(t, file.String())
	entries, err := Parse(strings.NewReader(r.String()))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Contains(t, string(entries[0].Data), "transcript truncated")
}

type failingWriter struct {
	n     int // successful writes before failing
	calls int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	w.calls++
	if w.calls > w.n {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriteErrorKeepsMemory(t *testing.T) {
	w := &failingWriter{n: 1}
	r := New(w, WithClock(fixedClock))
	r.Record(FromHost, []byte("AT\r\n"))
	require.NoError(t, r.Err())
	r.Record(ToHost, []byte("OK\r\n"))
	r.Record(FromHost, []byte("AT+CGSN\r\n"))
	require.Error(t, r.Err())
	assert.Contains(t, r.Err().Error(), "disk full")
	assert.Equal(t, 2, w.calls, "no more writes after the first error")
	entries, err := Parse(strings.NewReader(r.String()))
	require.NoError(t, err)
	assert.Len(t, entries, 3, "memory copy complete")
}

func TestConcurrentRecording(t *testing.T) {
	var file bytes.Buffer
	r := New(&file)
	var wg sync.WaitGroup
	sent := map[Direction][]byte{}
	for _, d := range []Direction{FromHost, ToHost, Note} {
		var all []byte
		for i := range 200 {
			all = fmt.Appendf(all, "%c%d\r\n", d, i)
		}
		sent[d] = all
		wg.Go(func() {
			for i := 0; i < len(all); i += 7 { // odd chunk size: lines split mid-way
				r.Record(d, all[i:min(i+7, len(all))])
			}
		})
	}
	wg.Wait()
	entries, err := Parse(&file)
	require.NoError(t, err)
	for d, want := range sent {
		assert.Equal(t, want, concat(entries, d), "direction %s", d)
	}
	for i := 1; i < len(entries); i++ {
		assert.False(t, entries[i].At.Before(entries[i-1].At), "time order")
	}
}

func TestWriterAdapter(t *testing.T) {
	r := New(nil, WithClock(fixedClock))
	n, err := fmt.Fprintf(r.Writer(FromHost), "AT+CFUN=%d\r\n", 4)
	require.NoError(t, err)
	assert.Equal(t, 11, n)
	entries, err := Parse(strings.NewReader(r.String()))
	require.NoError(t, err)
	assert.Equal(t, []Entry{{t0.Truncate(time.Microsecond), FromHost, []byte("AT+CFUN=4\r\n")}}, entries)
}

func concat(entries []Entry, d Direction) []byte {
	var out []byte
	for _, e := range entries {
		if e.Dir == d {
			out = append(out, e.Data...)
		}
	}
	return out
}

// FuzzRoundTrip: whatever bytes are recorded, in any chunking, Parse gives them back
// exactly, one line per LF, and re-rendering the entries gives the same text.
func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("AT%CMNG=1\r\n"), byte('>'), uint8(3))
	f.Add([]byte("%CMNG: 1,0,\"AB\"\r\nOK\r\n"), byte('<'), uint8(0))
	f.Add([]byte("\x00\xff\\x41\\\\\n\n\r"), byte('#'), uint8(1))
	f.Add(bytes.Repeat([]byte("\xaa"), 600), byte('<'), uint8(255))
	f.Fuzz(func(t *testing.T, data []byte, dir byte, chunk uint8) {
		d := Direction(dir)
		if !d.valid() {
			d = ToHost
		}
		var file bytes.Buffer
		r := New(&file, WithClock(fixedClock))
		step := int(chunk) + 1
		for i := 0; i < len(data); i += step {
			r.Record(d, data[i:min(i+step, len(data))])
		}
		entries, err := Parse(bytes.NewReader(file.Bytes()))
		require.NoError(t, err)
		require.Equal(t, string(data), string(concat(entries, d)))
		var again []byte
		for _, e := range entries {
			require.Equal(t, d, e.Dir)
			require.LessOrEqual(t, len(e.Data), maxLineData)
			if i := bytes.IndexByte(e.Data, '\n'); i >= 0 {
				require.Equal(t, len(e.Data)-1, i, "LF only at the end of a line")
			}
			again = AppendEntry(again, e)
		}
		require.Equal(t, file.String(), string(again))
		require.Equal(t, file.String(), r.String())
	})
}

// FuzzParse: Parse never panics on outside text, and what it accepts re-renders to
// text that parses to the same entries.
func FuzzParse(f *testing.F) {
	f.Add([]byte("2026-11-21T05:01:02.123456Z > AT\\r\\n\n"))
	f.Add([]byte("2026-11-21T05:01:02.123456Z # \\x00\\xFF\\t\\\\\n\n"))
	f.Add([]byte("garbage\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		entries, err := Parse(bytes.NewReader(text))
		if err != nil {
			return
		}
		var again []byte
		for _, e := range entries {
			again = AppendEntry(again, e)
		}
		back, err := Parse(bytes.NewReader(again))
		require.NoError(t, err)
		require.Len(t, back, len(entries))
		for i := range entries {
			assert.True(t, entries[i].At.Equal(back[i].At))
			assert.Equal(t, entries[i].Dir, back[i].Dir)
			assert.Equal(t, string(entries[i].Data), string(back[i].Data))
		}
	})
}
