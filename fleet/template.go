package fleet

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Placeholders a templated string may hold (see the package doc).
const (
	phSeq   = "seq"   // 1-based position within the entry's count
	phIndex = "index" // 0-based position among all boards of the file
	phName  = "name"  // the board's rendered name (not in the name itself)
)

// maxWidth bounds {{seq:N}}: wider than any identifier a board holds (an
// IMEI is 15 digits), small enough that a typo cannot allocate much.
const maxWidth = 32

// template is a string with placeholders, compiled once and rendered once
// per board.
type template struct {
	parts []part
}

// part is a literal (ph == "") or a placeholder with an optional width.
type part struct {
	lit   string
	ph    string
	width int // 0: as many digits as needed
}

// vars are the values placeholders render to for one board.
type vars struct {
	seq, index int
	name       string
	hasName    bool // false while rendering the name itself
}

var errUnclosed = errors.New("unclosed {{")

// compileTemplate parses s. Every "{{" opens a placeholder; there is no
// escape, as no field a board takes needs a literal "{{".
func compileTemplate(s string) (template, error) {
	var t template
	for {
		i := strings.Index(s, "{{")
		if i < 0 {
			if s != "" {
				t.parts = append(t.parts, part{lit: s})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, part{lit: s[:i]})
		}
		j := strings.Index(s[i+2:], "}}")
		if j < 0 {
			return template{}, errUnclosed
		}
		p, err := parsePlaceholder(s[i+2 : i+2+j])
		if err != nil {
			return template{}, err
		}
		t.parts = append(t.parts, p)
		s = s[i+2+j+2:]
	}
}

func parsePlaceholder(body string) (part, error) {
	name, width, hasWidth := strings.Cut(strings.TrimSpace(body), ":")
	name = strings.TrimSpace(name)
	p := part{ph: name}
	switch name {
	case phSeq, phIndex:
	case phName:
		if hasWidth {
			return part{}, fmt.Errorf("{{%s}}: {{name}} takes no width", body)
		}
	default:
		return part{}, fmt.Errorf("unknown placeholder {{%s}} (want {{seq}}, {{seq:N}}, {{index}}, {{index:N}} or {{name}})", body)
	}
	if hasWidth {
		w, err := strconv.Atoi(strings.TrimSpace(width))
		if err != nil || w < 1 || w > maxWidth {
			return part{}, fmt.Errorf("{{%s}}: width must be a number from 1 to %d", body, maxWidth)
		}
		p.width = w
	}
	return p, nil
}

// templated reports whether the template holds a placeholder.
func (t template) templated() bool {
	for _, p := range t.parts {
		if p.ph != "" {
			return true
		}
	}
	return false
}

// usesName reports whether the template holds {{name}}.
func (t template) usesName() bool {
	for _, p := range t.parts {
		if p.ph == phName {
			return true
		}
	}
	return false
}

// render fills in the placeholders. A number wider than its {{…:N}} is an
// error rather than a silently longer field: the width is usually there
// to make an identifier of a fixed length (an IMEI body).
func (t template) render(v vars) (string, error) {
	if len(t.parts) == 1 && t.parts[0].ph == "" {
		return t.parts[0].lit, nil
	}
	var b strings.Builder
	for _, p := range t.parts {
		var n int
		switch p.ph {
		case "":
			b.WriteString(p.lit)
			continue
		case phName:
			if !v.hasName {
				return "", errors.New("{{name}} cannot be used in the name itself")
			}
			b.WriteString(v.name)
			continue
		case phSeq:
			n = v.seq
		case phIndex:
			n = v.index
		}
		digits := strconv.Itoa(n)
		if p.width > 0 {
			if len(digits) > p.width {
				return "", fmt.Errorf("{{%s:%d}}: %d has more than %d digits", p.ph, p.width, n, p.width)
			}
			b.WriteString(strings.Repeat("0", p.width-len(digits)))
		}
		b.WriteString(digits)
	}
	return b.String(), nil
}
