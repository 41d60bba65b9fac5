// Package demopage writes one replayed forum case (a scenarios.Result) as a
// self-contained HTML page a person can read or share: no external assets,
// inline CSS, no JavaScript. html/template escapes everything the boards
// and the hub printed.
package demopage

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modemsim/modemsim/scenarios"
)

//go:embed page.html.tmpl
var pageText string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	"visible": Visible,
	"stamp":   func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
	"day":     func(t time.Time) string { return t.UTC().Format(time.DateOnly) },
	"inc":     func(i int) int { return i + 1 },
	"join":    strings.Join,
}).Parse(pageText))

// Write renders res.
func Write(w io.Writer, res scenarios.Result) error {
	if err := page.Execute(w, res); err != nil {
		return fmt.Errorf("demo page: %w", err)
	}
	return nil
}

// Visible shows bytes on a port as text: line ends as they are (CR before
// LF dropped), other control bytes and invalid UTF-8 as \xNN escapes, so
// a DER certificate typed to a module does not garble the page.
func Visible(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case s[i] == '\r' && i+1 < len(s) && s[i+1] == '\n':
		case s[i] == '\n' || s[i] == '\t':
			b.WriteByte(s[i])
		case r == utf8.RuneError && n == 1, r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
