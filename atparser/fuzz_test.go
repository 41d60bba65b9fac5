package atparser

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func FuzzFramer(f *testing.F) {
	f.Add([]byte("AT\r\nAT+CGSN\r\n"), uint8(0), uint16(4096), uint64(1))
	f.Add([]byte("AT%CMNG=0,42,0,\"-----BEGIN\r\nX\r\n-----END\"\r\n"), uint8(2), uint16(40), uint64(7))
	f.Add([]byte("AT+X=\"\x08\r\"\r\x7f\x00ATE1\x00"), uint8(1), uint16(8), uint64(3))
	f.Add([]byte("R\x05AT\r\nabcdeAT\r"), uint8(4), uint16(100), uint64(9))
	f.Add([]byte("\xff\x00\r\n\"\"\"\r"), uint8(3), uint16(2), uint64(0))
	f.Fuzz(func(t *testing.T, data []byte, mode uint8, maxLen uint16, seed uint64) {
		term := allTerminators[int(mode)%len(allTerminators)]
		limit := int(maxLen % (DefaultMaxLen + 1))
		newF := func() *Framer { return NewFramer(WithTerminator(term), WithMaxLen(limit)) }

		whole := chunkedFrames(t, newF(), data, nil)
		if want := refFrames(term, limit, data); !framesEqual(whole, want) {
			t.Fatalf("differs from at_host reference:\n got %s\nwant %s", dump(whole), dump(want))
		}
		keep := max(limit, 1) - 1
		for _, fr := range whole {
			if len(fr.Line) > keep {
				t.Fatalf("line of %d bytes exceeds cap-1 = %d", len(fr.Line), keep)
			}
			if fr.Truncated != (fr.Dropped > 0) {
				t.Fatalf("Truncated=%v with Dropped=%d", fr.Truncated, fr.Dropped)
			}
			if !bytes.ContainsFunc(fr.Line, func(r rune) bool { return r > ' ' }) {
				t.Fatalf("whitespace-only line delivered: %q", fr.Line)
			}
		}

		// Chunking must not matter.
		b := chunkedFrames(t, newF(), data, rand.New(rand.NewPCG(seed, uint64(len(data)))))
		if !framesEqual(whole, b) {
			t.Fatalf("chunked feed differs:\n at once %s\n chunked %s", dump(whole), dump(b))
		}
	})
}

func dump(frames []Frame) string {
	var b strings.Builder
	for _, fr := range frames {
		fmt.Fprintf(&b, "{%q trunc=%v dropped=%d} ", fr.Line, fr.Truncated, fr.Dropped)
	}
	return b.String()
}

func framesEqual(a, b []Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i].Line, b[i].Line) || a[i].Truncated != b[i].Truncated ||
			a[i].Dropped != b[i].Dropped {
			return false
		}
	}
	return true
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"AT", "at+cgsn", "AT+CFUN?", "AT+CFUN=?", "AT%CMNG=1, 42", "ATE1", "AT&F",
		"AT%CMNG=0,42,0,\"-----BEGIN\r\nX\r\n-----END\"", "at AT+CGSN", "AT+X=1;+Y",
		"AT+S.TLSCERT=Ca,2037", "AT+X=9223372036854775808", "\nAT+X=\"a\",,b ,-1",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := Parse(line)
		if err != nil {
			if cmd.Name != "" || cmd.Params != nil {
				t.Fatalf("error %v with non-zero command %+v", err, cmd)
			}
			return
		}
		if cmd.Name != strings.ToUpper(cmd.Name) {
			t.Fatalf("name %q not upper-case", cmd.Name)
		}
		if !strings.HasSuffix(string(line), cmd.Line) {
			t.Fatalf("Line %q is not the input minus leading whitespace", cmd.Line)
		}
		if (cmd.Kind == KindSet) != (len(cmd.Params) > 0) {
			t.Fatalf("kind %v with %d params", cmd.Kind, len(cmd.Params))
		}
		for _, p := range cmd.Params {
			if p.Kind == ParamToken && strings.Trim(p.Str, whitespace) != p.Str {
				t.Fatalf("token %q not trimmed", p.Str)
			}
			if p.Kind != ParamString && strings.ContainsAny(p.Str, "\",;") {
				t.Fatalf("unquoted param %q holds a quote, comma or semicolon", p.Str)
			}
		}
	})
}
