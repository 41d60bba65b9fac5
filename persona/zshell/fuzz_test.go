package zshell

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// FuzzDiscipline types random keys (escape sequences included) and checks
// the editor's invariants: the cursor stays inside the line, the line never
// outgrows CONFIG_SHELL_CMD_BUFF_SIZE, and Scan always makes progress.
func FuzzDiscipline(f *testing.F) {
	for _, seed := range []string{"help\r", "ab\x1b[D\x1b[Dc\x1b[3~\r", "\x1b[A\x1b[B\t\t", "cred buf clear\r\n",
		"\x1b[1~\x1b[4~\x1b[2~x\x1bb\x1bf\x17\x15\x0b\x0c", "h\tc\t\x03", "\"unterminated\r"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, keys []byte) {
		s, _ := newCredShell(t, Config{CmdBuffSize: 64})
		p := keys
		for len(p) > 0 {
			n, _, fr, ok := s.Scan(p)
			if n <= 0 || n > len(p) {
				t.Fatalf("Scan took %d of %d bytes", n, len(p))
			}
			p = p[n:]
			if ok {
				s.Handle(t.Context(), fr)
			}
			s.mu.Lock()
			pos, l := s.ed.pos, len(s.ed.buf)
			s.mu.Unlock()
			if pos < 0 || pos > l || l >= 64 {
				t.Fatalf("cursor %d in a line of %d", pos, l)
			}
		}
		_ = s.AppendURC(nil, "log line")
	})
}

// FuzzBase64 checks Zephyr's decoder against its own contract: it never
// panics, and what Go's decoder accepts as canonical it decodes the same way.
func FuzzBase64(f *testing.F) {
	f.Add([]byte("QUJD"))
	f.Add([]byte("QU=JD"))
	f.Add([]byte("QUJD\r\nRA==  "))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := zephyrBase64Decode(in)
		if err == 0 && out == nil {
			t.Fatal("nil output without error")
		}
		if bytes.ContainsAny(in, " \r\n") {
			return
		}
		if want, gerr := base64.StdEncoding.DecodeString(string(in)); gerr == nil {
			if err != 0 || !bytes.Equal(out, want) {
				t.Fatalf("Zephyr decode %q = %q, %d; Go: %q", in, out, err, want)
			}
		}
	})
}

// FuzzCredCommands runs random argument lists through the cred command set:
// no panic, and the buffer never holds more than the configured size.
func FuzzCredCommands(f *testing.F) {
	for _, seed := range []string{"buf QUJD", "add 1 CA DEFAULT bint QUJD", "add 4294967296 PK default strt x",
		"get 1 CA bin", "list any any", "del 1 psk_id", "add 1 CA DEFAULT bin \"QU JD\"", "buf clear"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, args string) {
		s, _ := newCredShell(t, Config{CredBufSize: 64})
		drive(t, s, "cred "+args+"\r")
		drive(t, s, "cred list\r")
	})
}

// BenchmarkTyping is a person typing a 40-character command and Enter.
func BenchmarkTyping(b *testing.B) {
	s, _ := newCredShell(b, Config{})
	line := "cred list 42 CA " + "\x1b[D\x1b[C" + "\r"
	b.ReportAllocs()
	for b.Loop() {
		drive(b, s, line)
	}
}
