// Package mqttcerts reads the certificates an NCS sample compiles in with
// CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES: the mqtt-certs.h header
// (CONFIG_MQTT_HELPER_CERTIFICATES_FILE) whose arrays #include PEM files
// written as C string-literal lines, and adds them to the TLS credential
// store at boot the way mqtt_helper does (nrf91.md §9 [S sdk-nrf
// subsys/net/lib/mqtt_helper]).
//
// The arrays keep C's sizeof: `unsigned char a[] = { "…" "…" };` holds the
// concatenated literals plus the terminating NUL, which is what makes
// mbedTLS read the buffer as PEM at all.
package mqttcerts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Source is what the preprocessor can see: the header's directory (files
// for #include and __has_include) and the Kconfig values (CONFIG_* macros).
type Source struct {
	Files  map[string][]byte
	Config map[string]int64
}

// Array is one array the header defines.
type Array struct {
	Name  string
	Bytes []byte // sizeof(array) bytes: the literals and the NUL
	Line  int    // where it is defined
}

// ErrSyntax is a header the compiler would reject (or this reader cannot
// follow); the error says where.
var ErrSyntax = errors.New("mqtt-certs.h")

// maxIncludeDepth stops include loops (the C preprocessor's limit is 200).
const maxIncludeDepth = 16

// Parse preprocesses and reads the header named name.
func Parse(name string, src Source) ([]Array, error) {
	text, ok := src.Files[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s not found", ErrSyntax, name)
	}
	var toks []token
	if err := preprocess(name, string(text), src, 0, &toks); err != nil {
		return nil, err
	}
	return arrays(toks)
}

// token is a C token after preprocessing.
type token struct {
	kind byte // 's' string literal (decoded), 'i' identifier, 'n' number, 'p' punctuation
	text string
	file string
	line int
}

func (t token) where() string { return t.file + ":" + strconv.Itoa(t.line) }

// preprocess strips comments, follows #if/#ifdef/#ifndef/#elif/#else/#endif
// and #include "…", and appends the tokens of the active lines.
func preprocess(file, text string, src Source, depth int, out *[]token) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%w: %s: #include nested too deeply", ErrSyntax, file)
	}
	text, err := stripComments(file, text)
	if err != nil {
		return err
	}
	type cond struct{ active, taken, parentActive bool }
	var stack []cond
	active := func() bool { return len(stack) == 0 || stack[len(stack)-1].active }
	for i, line := range strings.Split(text, "\n") {
		ln := i + 1
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "#") {
			dir := strings.TrimSpace(trim[1:])
			word, rest, _ := strings.Cut(dir, " ")
			word = strings.TrimSpace(strings.SplitN(word, "\t", 2)[0])
			rest = strings.TrimSpace(strings.TrimPrefix(dir, word))
			switch word {
			case "if", "ifdef", "ifndef":
				parent := active()
				v := false
				if parent {
					switch word {
					case "if":
						n, err := evalCondition(rest, src)
						if err != nil {
							return fmt.Errorf("%w: %s:%d: #if %s: %v", ErrSyntax, file, ln, rest, err)
						}
						v = n != 0
					case "ifdef":
						_, v = src.Config[rest]
					case "ifndef":
						_, d := src.Config[rest]
						v = !d
					}
				}
				stack = append(stack, cond{active: parent && v, taken: v, parentActive: parent})
			case "elif":
				if len(stack) == 0 {
					return fmt.Errorf("%w: %s:%d: #elif without #if", ErrSyntax, file, ln)
				}
				c := &stack[len(stack)-1]
				v := false
				if c.parentActive && !c.taken {
					n, err := evalCondition(rest, src)
					if err != nil {
						return fmt.Errorf("%w: %s:%d: #elif %s: %v", ErrSyntax, file, ln, rest, err)
					}
					v = n != 0
				}
				c.active, c.taken = c.parentActive && v, c.taken || v
			case "else":
				if len(stack) == 0 {
					return fmt.Errorf("%w: %s:%d: #else without #if", ErrSyntax, file, ln)
				}
				c := &stack[len(stack)-1]
				c.active, c.taken = c.parentActive && !c.taken, true
			case "endif":
				if len(stack) == 0 {
					return fmt.Errorf("%w: %s:%d: #endif without #if", ErrSyntax, file, ln)
				}
				stack = stack[:len(stack)-1]
			case "include":
				if !active() {
					continue
				}
				inc, ok := quoted(rest)
				if !ok {
					return fmt.Errorf("%w: %s:%d: #include %s: only \"file\" includes are followed", ErrSyntax, file, ln, rest)
				}
				body, found := src.Files[inc]
				if !found {
					return fmt.Errorf("%w: %s:%d: %s: No such file or directory", ErrSyntax, file, ln, inc)
				}
				if err := preprocess(inc, string(body), src, depth+1, out); err != nil {
					return err
				}
			case "define", "undef", "pragma", "error", "warning", "":
				// Not needed for certificate headers; #error in an active
				// branch would stop the build.
				if word == "error" && active() {
					return fmt.Errorf("%w: %s:%d: #error %s", ErrSyntax, file, ln, rest)
				}
			default:
				if active() {
					return fmt.Errorf("%w: %s:%d: unknown directive #%s", ErrSyntax, file, ln, word)
				}
			}
			continue
		}
		if !active() {
			continue
		}
		toks, err := lex(file, ln, line)
		if err != nil {
			return err
		}
		*out = append(*out, toks...)
	}
	if len(stack) != 0 {
		return fmt.Errorf("%w: %s: unterminated #if", ErrSyntax, file)
	}
	return nil
}

func quoted(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1], true
	}
	return "", false
}

// stripComments replaces /* … */ and // … with spaces (newlines kept, so
// line numbers stay right), leaving string literals alone.
func stripComments(file, s string) (string, error) {
	b := []byte(s)
	inStr, esc := false, false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"' || c == '\n':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '/' && i+1 < len(b) && b[i+1] == '*':
			end := strings.Index(string(b[i+2:]), "*/")
			if end < 0 {
				return "", fmt.Errorf("%w: %s: unterminated comment", ErrSyntax, file)
			}
			for k := i; k < i+2+end+2; k++ {
				if b[k] != '\n' {
					b[k] = ' '
				}
			}
			i += 2 + end + 1
		case c == '/' && i+1 < len(b) && b[i+1] == '/':
			for i < len(b) && b[i] != '\n' {
				b[i] = ' '
				i++
			}
		}
	}
	return string(b), nil
}

// lex splits one source line into tokens, decoding string literals.
func lex(file string, ln int, line string) ([]token, error) {
	var toks []token
	for i := 0; i < len(line); {
		c := line[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '"':
			s, n, err := decodeLiteral(line[i:])
			if err != nil {
				return nil, fmt.Errorf("%w: %s:%d: %v", ErrSyntax, file, ln, err)
			}
			toks = append(toks, token{kind: 's', text: s, file: file, line: ln})
			i += n
		case c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z'):
			j := i
			for j < len(line) && (line[j] == '_' || (line[j]|0x20 >= 'a' && line[j]|0x20 <= 'z') || (line[j] >= '0' && line[j] <= '9')) {
				j++
			}
			toks = append(toks, token{kind: 'i', text: line[i:j], file: file, line: ln})
			i = j
		case c >= '0' && c <= '9':
			j := i
			for j < len(line) && ((line[j]|0x20 >= 'a' && line[j]|0x20 <= 'z') || (line[j] >= '0' && line[j] <= '9')) {
				j++
			}
			toks = append(toks, token{kind: 'n', text: line[i:j], file: file, line: ln})
			i = j
		default:
			toks = append(toks, token{kind: 'p', text: string(c), file: file, line: ln})
			i++
		}
	}
	return toks, nil
}

// decodeLiteral decodes the C string literal at the start of s: \n \r \t
// \\ \" \' \? \a \b \f \v \e, octal \ooo and hex \xhh…; it returns the bytes
// and how much of s it used.
func decodeLiteral(s string) (string, int, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			return b.String(), i + 1, nil
		case '\\':
			i++
			if i >= len(s) {
				return "", 0, errors.New("unterminated string literal")
			}
			switch e := s[i]; e {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'a':
				b.WriteByte(7)
			case 'b':
				b.WriteByte(8)
			case 'f':
				b.WriteByte(12)
			case 'v':
				b.WriteByte(11)
			case 'e':
				b.WriteByte(27)
			case '\\', '"', '\'', '?':
				b.WriteByte(e)
			case 'x':
				j, v := i+1, 0
				for j < len(s) && isHex(s[j]) {
					v = v*16 + hexVal(s[j])
					j++
				}
				if j == i+1 {
					return "", 0, errors.New(`\x used with no following hex digits`)
				}
				if v > 255 {
					return "", 0, errors.New("hex escape sequence out of range")
				}
				b.WriteByte(byte(v))
				i = j - 1
			default:
				if e >= '0' && e <= '7' {
					j, v := i, 0
					for j < len(s) && j < i+3 && s[j] >= '0' && s[j] <= '7' {
						v = v*8 + int(s[j]-'0')
						j++
					}
					if v > 255 {
						return "", 0, errors.New("octal escape sequence out of range")
					}
					b.WriteByte(byte(v))
					i = j - 1
					continue
				}
				return "", 0, fmt.Errorf("unknown escape sequence '\\%c'", e)
			}
		case '\n':
			return "", 0, errors.New("missing terminating \" character")
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("missing terminating \" character")
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c|0x20 >= 'a' && c|0x20 <= 'f')
}

func hexVal(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c|0x20-'a') + 10
}

// arrays reads `[static] [const] [unsigned|signed] char NAME[N?] = { "…"… };`
// definitions (braces optional) from the tokens.
func arrays(toks []token) ([]Array, error) {
	var out []Array
	i := 0
	for i < len(toks) {
		j := i
		for j < len(toks) && toks[j].kind == 'i' && (toks[j].text == "static" || toks[j].text == "const" ||
			toks[j].text == "unsigned" || toks[j].text == "signed" || toks[j].text == "uint8_t") {
			j++
		}
		if j < len(toks) && toks[j].kind == 'i' && toks[j].text == "char" {
			j++
		} else if j == i || toks[j-1].text != "uint8_t" {
			return nil, fmt.Errorf("%w: %s: expected a char array definition, found %q", ErrSyntax, toks[i].where(), toks[i].text)
		}
		a, n, err := arrayDef(toks[j:])
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		i = j + n
	}
	return out, nil
}

func arrayDef(t []token) (Array, int, error) {
	fail := func(k int, what string) (Array, int, error) {
		if len(t) == 0 {
			return Array{}, 0, fmt.Errorf("%w: the header ends inside a definition: %s", ErrSyntax, what)
		}
		at := t[len(t)-1]
		if k < len(t) {
			at = t[k]
		}
		return Array{}, 0, fmt.Errorf("%w: %s: %s", ErrSyntax, at.where(), what)
	}
	if len(t) == 0 || t[0].kind != 'i' {
		return fail(0, "expected the array's name")
	}
	a := Array{Name: t[0].text, Line: t[0].line}
	k := 1
	if k >= len(t) || t[k].text != "[" {
		return fail(k, "expected [ after "+a.Name)
	}
	k++
	size := -1
	if k < len(t) && t[k].kind == 'n' {
		n, err := strconv.ParseInt(t[k].text, 0, 32)
		if err != nil || n <= 0 {
			return fail(k, "bad array size "+t[k].text)
		}
		size = int(n)
		k++
	}
	if k >= len(t) || t[k].text != "]" {
		return fail(k, "expected ]")
	}
	k++
	if k >= len(t) || t[k].text != "=" {
		return fail(k, "expected = (an array without an initializer holds no certificate)")
	}
	k++
	braced := k < len(t) && t[k].text == "{"
	if braced {
		k++
	}
	var body strings.Builder
	lits := 0
	for k < len(t) && t[k].kind == 's' {
		body.WriteString(t[k].text)
		lits++
		k++
	}
	if lits == 0 {
		return fail(k, "expected string literals in "+a.Name)
	}
	if braced {
		if k < len(t) && t[k].text == "," {
			k++
		}
		if k >= len(t) || t[k].text != "}" {
			return fail(k, "expected } after the literals of "+a.Name)
		}
		k++
	}
	if k >= len(t) || t[k].text != ";" {
		return fail(k, "expected ; after "+a.Name)
	}
	k++
	data := append([]byte(body.String()), 0) // the literal's NUL
	switch {
	case size < 0:
	case len(data)-1 > size:
		return fail(k-1, fmt.Sprintf("initializer-string for %s is too long (%d > %d)", a.Name, len(data)-1, size))
	default:
		data = append(data, make([]byte, size-len(data)+1)...)[:size]
	}
	a.Bytes = data
	return a, k, nil
}

// CStringLines writes a PEM file as the forum post's files are written for
// mqtt-certs.h to #include: one C string literal per line, each ending in
// \n (the inverse of what Parse reads; CR line ends are dropped).
func CStringLines(pem []byte) []byte {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(string(pem), "\n"), "\n") {
		fmt.Fprintf(&b, "\"%s\\n\"\n", strings.TrimRight(l, "\r"))
	}
	return []byte(b.String())
}
