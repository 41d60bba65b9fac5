package atparser

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scanAll feeds p at once and returns every frame.
func scanAll(t testing.TB, f *Framer, p []byte) []Frame {
	t.Helper()
	var out []Frame
	for len(p) > 0 {
		n, fr, ok := f.Scan(p)
		require.Positive(t, n, "Scan must make progress")
		require.LessOrEqual(t, n, len(p))
		p = p[n:]
		if ok {
			out = append(out, fr)
		}
	}
	return out
}

func lines(frames []Frame) []string {
	out := make([]string, 0, len(frames))
	for _, fr := range frames {
		out = append(out, string(fr.Line))
	}
	return out
}

func TestFramerTerminators(t *testing.T) {
	pem := "-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----"
	cmng := `AT%CMNG=0,42,0,"` + pem + `"`
	tests := []struct {
		name    string
		term    Terminator
		in      string
		want    []string
		pending bool
	}{
		{"any CR", TermAny, "AT\r", []string{"AT"}, false},
		{"any LF", TermAny, "AT\n", []string{"AT"}, false},
		{"any CRLF swallows LF", TermAny, "AT\r\nAT+CGSN\r\n", []string{"AT", "AT+CGSN"}, false},
		{"any LFCR", TermAny, "AT\n\rAT\r", []string{"AT", "AT"}, false},
		{"any bare CRLF probe dropped", TermAny, "\r\n\r\n", nil, false},
		{"any NUL ignored", TermAny, "A\x00T\r", []string{"AT"}, false},
		{"any PEM in quotes", TermAny, cmng + "\r\n", []string{cmng}, false},
		{"any NUL in quotes is content", TermAny, "AT+X=\"a\x00b\"\r", []string{"AT+X=\"a\x00b\""}, false},
		{"any no terminator", TermAny, "AT+CGSN", nil, true},

		{"CR", TermCR, "AT\r", []string{"AT"}, false},
		{"CR leaves LF for next command", TermCR, "AT\r\nAT+CGSN\r\n", []string{"AT", "\nAT+CGSN"}, true},
		{"CR: LF alone does not end", TermCR, "AT\n", nil, true},
		{"CR PEM in quotes", TermCR, cmng + "\r", []string{cmng}, false},
		{"CR NUL ignored", TermCR, "A\x00T\r", []string{"AT"}, false},

		{"LF", TermLF, "AT\n", []string{"AT"}, false},
		{"LF keeps CR", TermLF, "AT\r\n", []string{"AT\r"}, false},
		{"LF: CR alone does not end", TermLF, "AT\r", nil, true},
		{"LF PEM in quotes", TermLF, cmng + "\n", []string{cmng}, false},

		{"CRLF", TermCRLF, "AT\r\n", []string{"AT"}, false},
		{"CRLF: CR alone", TermCRLF, "AT\r", nil, true},
		{"CRLF: LF alone is content", TermCRLF, "AT\nX\r\n", []string{"AT\nX"}, false},
		{"CRLF: double CR keeps one", TermCRLF, "AT\r\r\n", []string{"AT\r"}, false},
		{"CRLF PEM in quotes", TermCRLF, cmng + "\r\n", []string{cmng}, false},
		{"CRLF: deleted CR does not count", TermCRLF, "AT\r\x08\nX\r\n", []string{"AT\nX"}, false},

		{"NUL", TermNUL, "AT\x00", []string{"AT"}, false},
		{"NUL: CR LF are content", TermNUL, "AT\r\n\x00", []string{"AT\r\n"}, false},
		{"NUL in quotes is content", TermNUL, "AT+X=\"\x00\"\x00", []string{"AT+X=\"\x00\""}, false},
		{"NUL whitespace-only dropped", TermNUL, "\r\n \x00AT\x00", []string{"AT"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFramer(WithTerminator(tc.term))
			got := scanAll(t, f, []byte(tc.in))
			assert.Equal(t, tc.want, nilIfEmpty(lines(got)))
			assert.Equal(t, tc.pending, f.Pending())
			for _, fr := range got {
				assert.False(t, fr.Truncated)
			}
		})
	}
}

func nilIfEmpty(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestFramerEditingAndWhitespace(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     []string
		inQuotes bool
	}{
		{"backspace", "ATX\x08\r", []string{"AT"}, false},
		{"DEL", "AT+\x7fE1\r", []string{"ATE1"}, false},
		{"backspace on empty", "\x08\x08\x7fAT\r", []string{"AT"}, false},
		{"backspace deletes all", "AT\x08\x08\r", nil, false},
		{"backspace inside quotes", "AT+X=\"ab\x08\"\r", []string{"AT+X=\"a\""}, false},
		// at_host quirk: deleting the opening quote leaves the flag set, so
		// the CR is content and the next quote closes the string.
		{"deleted quote keeps quote flag", "AT+X=\"\x081\r\"\r", []string{"AT+X=1\r\""}, false},
		{"deleted quote leaves line open", "AT+X=\"\x08\r", nil, true},
		{"whitespace-only dropped", " \t\r", nil, false},
		{"control-only dropped", "\x01\x02\x1f \r", nil, false},
		{"whitespace then command", " \r\t\rAT\r", []string{"AT"}, false},
		{"high bytes count as printable", "\xff\xfe\r", []string{"\xff\xfe"}, false},
		{"leading space kept", "  AT\r", []string{"  AT"}, false},
		{"unbalanced quote swallows terminators", "AT+X=\"abc\r\nAT\r\n", nil, true},
		{"unbalanced quote closed later", "AT+X=\"abc\r\nAT\r\n\"\r", []string{"AT+X=\"abc\r\nAT\r\n\""}, false},
		{"third quote reopens", "AT+X=\"a\"\"\r", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFramer()
			got := scanAll(t, f, []byte(tc.in))
			assert.Equal(t, tc.want, nilIfEmpty(lines(got)))
			assert.Equal(t, tc.inQuotes, f.InQuotes())
		})
	}
}

func TestFramerQuoteFlagResetOnSend(t *testing.T) {
	f := NewFramer(WithTerminator(TermNUL))
	// The NUL inside quotes is content; nothing is sent.
	got := scanAll(t, f, []byte("AT+X=\"\x00"))
	assert.Empty(t, got)
	assert.True(t, f.InQuotes())
	got = scanAll(t, f, []byte("\"\x00AT\x00"))
	assert.Equal(t, []string{"AT+X=\"\x00\"", "AT"}, lines(got))
	assert.False(t, f.InQuotes())
	assert.False(t, f.Pending())
}

func TestFramerCap(t *testing.T) {
	tests := []struct {
		name     string
		maxLen   int
		in       string
		want     []Frame
		inQuotes bool
	}{
		{"fits exactly", 8, "AT+ABCD\r", []Frame{{Line: []byte("AT+ABCD")}}, false},
		{"excess dropped", 8, "AT+ABCDEFGH\r", []Frame{{Line: []byte("AT+ABCD"), Truncated: true, Dropped: 4}}, false},
		{"terminator works when full", 4, "ATXYZ\rAT\r", []Frame{
			{Line: []byte("ATX"), Truncated: true, Dropped: 2}, {Line: []byte("AT")},
		}, false},
		{"dropped quote does not toggle", 8, "AT+ABCD\"\rAT\r", []Frame{
			{Line: []byte("AT+ABCD"), Truncated: true, Dropped: 1}, {Line: []byte("AT")},
		}, false},
		// The closing quote is dropped, so CR stays content: the command never
		// ends, as on the device (host times out).
		{"dropped closing quote hangs", 10, "AT+X=\"abcdef\"\r", nil, true},
		{"backspace makes room", 4, "ATXY\x08Z\r", []Frame{{Line: []byte("ATZ"), Truncated: true, Dropped: 1}}, false},
		{"max len 1 keeps nothing", 1, "AT\r", nil, false},
		{"max len 0 clamps to 1", 0, "AT\r", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := NewFramer(WithMaxLen(tc.maxLen))
			got := scanAll(t, f, []byte(tc.in))
			if tc.want == nil {
				assert.Empty(t, got)
			} else {
				assert.Equal(t, tc.want, got)
			}
			assert.Equal(t, tc.inQuotes, f.InQuotes())
		})
	}
}

func TestFramerHugeLineBoundedMemory(t *testing.T) {
	f := NewFramer()
	chunk := bytes.Repeat([]byte("A"), 1000)
	for range 100 {
		n, _, ok := f.Scan(chunk)
		require.False(t, ok)
		require.Equal(t, len(chunk), n)
		require.LessOrEqual(t, cap(f.buf), DefaultMaxLen-1, "buffer must never grow past the cap")
	}
	assert.True(t, f.Pending())
	got := scanAll(t, f, []byte("\r\nAT+CGSN\r\n"))
	require.Len(t, got, 2)
	assert.Len(t, got[0].Line, DefaultMaxLen-1)
	assert.True(t, got[0].Truncated)
	assert.Equal(t, 100*1000-(DefaultMaxLen-1), got[0].Dropped)
	assert.Equal(t, "AT+CGSN", string(got[1].Line))
	assert.False(t, got[1].Truncated)
	assert.Zero(t, got[1].Dropped)
	assert.LessOrEqual(t, cap(f.buf), DefaultMaxLen-1)
}

func TestFramerHugeQuotedLineBoundedMemory(t *testing.T) {
	// Inside quotes CR/LF are content: the only way out is Reset.
	f := NewFramer()
	in := "AT%CMNG=0,1,0,\"" + strings.Repeat("MIIB\r\n", 20000)
	got := scanAll(t, f, []byte(in))
	assert.Empty(t, got)
	assert.True(t, f.InQuotes())
	assert.LessOrEqual(t, cap(f.buf), DefaultMaxLen-1)
	f.Reset()
	assert.False(t, f.Pending())
	assert.False(t, f.InQuotes())
	got = scanAll(t, f, []byte("AT\r"))
	assert.Equal(t, []string{"AT"}, lines(got))
}

func TestFramerScanStopsAfterFrame(t *testing.T) {
	f := NewFramer()
	in := []byte("AT\rAT+CGSN\r")
	n, fr, ok := f.Scan(in)
	require.True(t, ok)
	assert.Equal(t, 3, n)
	assert.Equal(t, "AT", string(fr.Line))
	n2, fr, ok := f.Scan(in[n:])
	require.True(t, ok)
	assert.Equal(t, len(in)-n, n2)
	assert.Equal(t, "AT+CGSN", string(fr.Line))

	// Whitespace-only lines are consumed without returning.
	n, _, ok = f.Scan([]byte("\r\n \r"))
	assert.False(t, ok)
	assert.Equal(t, 4, n)
}

func TestFramerLineIsCallersCopy(t *testing.T) {
	f := NewFramer()
	_, first, ok := f.Scan([]byte("AT+ONE\r"))
	require.True(t, ok)
	_, second, ok := f.Scan([]byte("AT+TWO\r"))
	require.True(t, ok)
	assert.Equal(t, "AT+ONE", string(first.Line))
	first.Line[0] = 'X'
	assert.Equal(t, "AT+TWO", string(second.Line))
}

func TestFramerResetAndPending(t *testing.T) {
	f := NewFramer()
	assert.False(t, f.Pending())
	scanAll(t, f, []byte("AT+CG"))
	assert.True(t, f.Pending())
	f.Reset()
	assert.False(t, f.Pending())
	assert.Equal(t, []string{"SN"}, lines(scanAll(t, f, []byte("SN\r"))))

	// A quote deleted by backspace leaves the machine mid-string.
	scanAll(t, f, []byte("\"\x08"))
	assert.True(t, f.Pending())
	assert.True(t, f.InQuotes())
	f.Reset()
	assert.False(t, f.Pending())

	// Dropped-only state is pending too (cap 1 keeps nothing).
	g := NewFramer(WithMaxLen(1))
	scanAll(t, g, []byte("AT"))
	assert.True(t, g.Pending())
}

// refFramer transcribes at_host.c uart_rx_handler literally (fixed array,
// byte at a time), with this package's two documented departures: TermAny,
// and the CR of a CRLF terminator removed from the line.
type refFramer struct {
	term    Terminator
	buf     []byte // fixed size, like at_buf
	n       int
	inQ     bool
	dropped int
}

func newRefFramer(term Terminator, maxLen int) *refFramer {
	return &refFramer{term: term, buf: make([]byte, max(maxLen, 1))}
}

func (m *refFramer) feed(c byte) (Frame, bool) {
	if c == 0x08 || c == 0x7F {
		if m.n > 0 {
			m.n--
		}
		return Frame{}, false
	}
	send := false
	if !m.inQ {
		switch c {
		case 0:
			if m.term != TermNUL {
				return Frame{}, false
			}
			send = true
		case '\r':
			send = m.term == TermCR || m.term == TermAny
		case '\n':
			send = m.term == TermLF || m.term == TermAny
			if m.term == TermCRLF && m.n > 0 && m.buf[m.n-1] == '\r' {
				m.n--
				send = true
			}
		}
	}
	if send {
		line := append([]byte(nil), m.buf[:m.n]...)
		fr := Frame{Line: line, Truncated: m.dropped > 0, Dropped: m.dropped}
		m.n, m.inQ, m.dropped = 0, false, 0
		for _, b := range line {
			if b > ' ' {
				return fr, true
			}
		}
		return Frame{}, false
	}
	if m.n+1 > len(m.buf)-1 {
		m.dropped++
		return Frame{}, false
	}
	m.buf[m.n] = c
	m.n++
	if c == '"' {
		m.inQ = !m.inQ
	}
	return Frame{}, false
}

func refFrames(term Terminator, maxLen int, p []byte) []Frame {
	m := newRefFramer(term, maxLen)
	var out []Frame
	for _, c := range p {
		if fr, ok := m.feed(c); ok {
			out = append(out, fr)
		}
	}
	return out
}

// chunkedFrames feeds p in random-sized pieces.
func chunkedFrames(t testing.TB, f *Framer, p []byte, rng *rand.Rand) []Frame {
	t.Helper()
	var out []Frame
	for len(p) > 0 {
		size := len(p)
		if rng != nil {
			size = 1 + rng.IntN(min(len(p), 64))
		}
		chunk := p[:size]
		p = p[size:]
		for len(chunk) > 0 {
			n, fr, ok := f.Scan(chunk)
			if n == 0 {
				t.Fatalf("Scan made no progress on %d bytes", len(chunk))
			}
			chunk = chunk[n:]
			if !ok {
				continue
			}
			out = append(out, fr)
		}
	}
	return out
}

var allTerminators = []Terminator{TermAny, TermNUL, TermCR, TermLF, TermCRLF}

func TestFramerMatchesReference(t *testing.T) {
	alphabet := []byte("AT+%\"=,\r\n\x00\x08\x7f x0")
	rng := rand.New(rand.NewPCG(1, 2))
	for _, term := range allTerminators {
		for _, maxLen := range []int{1, 2, 5, 16, DefaultMaxLen} {
			for range 200 {
				p := make([]byte, rng.IntN(200))
				for i := range p {
					p[i] = alphabet[rng.IntN(len(alphabet))]
				}
				want := refFrames(term, maxLen, p)
				got := chunkedFrames(t, NewFramer(WithTerminator(term), WithMaxLen(maxLen)), p, rng)
				require.Equal(t, want, got, "term=%v maxLen=%d input=%q", term, maxLen, p)
			}
		}
	}
}

func TestFramerBinaryGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := make([]byte, 1<<16)
	for i := range p {
		p[i] = byte(rng.UintN(256))
	}
	for _, term := range allTerminators {
		f := NewFramer(WithTerminator(term), WithMaxLen(64))
		got := scanAll(t, f, p)
		assert.Equal(t, refFrames(term, 64, p), got, "term=%v", term)
		for _, fr := range got {
			assert.LessOrEqual(t, len(fr.Line), 63)
		}
		assert.LessOrEqual(t, cap(f.buf), 63)
		// Recovery: a reset and a clean command always frame.
		f.Reset()
		end := map[Terminator]string{TermNUL: "\x00", TermLF: "\n", TermCRLF: "\r\n"}[term]
		if end == "" {
			end = "\r"
		}
		assert.Equal(t, []string{"AT"}, lines(scanAll(t, f, []byte("AT"+end))))
	}
}

func TestFramerLogsOverflowOncePerCommand(t *testing.T) {
	var logBuf bytes.Buffer
	l := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	f := NewFramer(WithMaxLen(4), WithLogger(l))
	got := scanAll(t, f, []byte("AT+CGSN\rAT\r"))
	require.Len(t, got, 2)
	assert.Equal(t, 1, strings.Count(logBuf.String(), "overflow"), logBuf.String())
	assert.Contains(t, logBuf.String(), "dropped=4")
}
