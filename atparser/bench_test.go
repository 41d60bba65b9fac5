package atparser

import (
	"strings"
	"testing"
)

// cmngWriteLine is a ~2 KB AT%CMNG write of a PEM certificate, the largest
// thing a provisioning tool sends in one line.
func cmngWriteLine() []byte {
	var b strings.Builder
	b.WriteString("AT%CMNG=0,42,0,\"-----BEGIN CERTIFICATE-----\n")
	body := strings.Repeat("MIIDdzCCAl+gAwIBAgIEAgAAuTANBgkqhkiG9w0BAQUFADBaMQswCQYDVQQGEwJJ\n", 30)
	b.WriteString(body)
	b.WriteString("-----END CERTIFICATE-----\"\r\n")
	return []byte(b.String())
}

func BenchmarkFramerScan(b *testing.B) {
	line := cmngWriteLine()
	f := NewFramer()
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		p := line
		for len(p) > 0 {
			n, _, _ := f.Scan(p)
			p = p[n:]
		}
	}
}

func BenchmarkParse(b *testing.B) {
	for _, bc := range []struct{ name, line string }{
		{"CMNGWrite2KB", strings.TrimRight(string(cmngWriteLine()), "\r\n")},
		{"CFUNSet", "AT+CFUN=4"},
		{"CMNGList", "AT%CMNG=1, 42"},
	} {
		line := []byte(bc.line)
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(line)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(line); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
