package atparser

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kind is the form of an AT command (ITU-T V.250 / 3GPP TS 27.007 syntax).
type Kind int

const (
	KindExec Kind = iota // AT+X
	KindSet              // AT+X=…
	KindRead             // AT+X?
	KindTest             // AT+X=?
)

// String names the kind for logs and test output.
func (k Kind) String() string {
	switch k {
	case KindExec:
		return "exec"
	case KindSet:
		return "set"
	case KindRead:
		return "read"
	case KindTest:
		return "test"
	}
	return "Kind(?)"
}

// ParamKind is the type of one parameter.
type ParamKind int

const (
	ParamEmpty  ParamKind = iota // nothing between the commas
	ParamInt                     // optional sign + decimal digits, fits int64
	ParamString                  // "…": content verbatim, no escape processing
	ParamToken                   // unquoted non-integer text, trimmed
)

// String names the parameter kind for logs and test output.
func (k ParamKind) String() string {
	switch k {
	case ParamEmpty:
		return "empty"
	case ParamInt:
		return "int"
	case ParamString:
		return "string"
	case ParamToken:
		return "token"
	}
	return "ParamKind(?)"
}

// Param is one parsed parameter; Int is set for ParamInt, Str for
// ParamString and ParamToken.
type Param struct {
	Kind ParamKind
	Int  int64
	Str  string
}

// String renders the parameter roughly as it was written, for logs.
func (p Param) String() string {
	switch p.Kind {
	case ParamInt:
		return strconv.FormatInt(p.Int, 10)
	case ParamString:
		return `"` + p.Str + `"`
	case ParamToken:
		return p.Str
	}
	return ""
}

// Command is one parsed command line.
type Command struct {
	// Name is upper-cased with its prefix char: "" for bare "AT", "+CFUN",
	// "%CMNG", "#XMQTTCON", "+S.TLSCERT"; basic commands (ATE1, ATZ, AT&F)
	// are "E", "Z", "&F" with their digit as an Int parameter.
	Name   string
	Kind   Kind
	Params []Param
	Line   string // the line as parsed (leading whitespace removed)
}

// ParamCount is the number of parameters.
func (c Command) ParamCount() int { return len(c.Params) }

// Param returns parameter i, if present.
func (c Command) Param(i int) (Param, bool) {
	if i < 0 || i >= len(c.Params) {
		return Param{}, false
	}
	return c.Params[i], true
}

// IntParam returns parameter i if it is an integer.
func (c Command) IntParam(i int) (int64, bool) {
	p, ok := c.Param(i)
	if !ok || p.Kind != ParamInt {
		return 0, false
	}
	return p.Int, true
}

// StringParam returns parameter i if it is a quoted string.
func (c Command) StringParam(i int) (string, bool) {
	p, ok := c.Param(i)
	if !ok || p.Kind != ParamString {
		return "", false
	}
	return p.Str, true
}

// TokenParam returns parameter i if it is unquoted non-integer text.
func (c Command) TokenParam(i int) (string, bool) {
	p, ok := c.Param(i)
	if !ok || p.Kind != ParamToken {
		return "", false
	}
	return p.Str, true
}

// IsEmptyParam reports whether parameter i is present but empty (`AT+X=1,,3`).
func (c Command) IsEmptyParam(i int) bool {
	p, ok := c.Param(i)
	return ok && p.Kind == ParamEmpty
}

// Sentinel errors; Parse wraps them (ErrSyntax inside a *SyntaxError).
var (
	ErrNotAT  = errors.New("atparser: not an AT command")
	ErrSyntax = errors.New("atparser: syntax error")
)

// SyntaxError says where and why a line was rejected; errors.Is(err,
// ErrSyntax) holds for it.
type SyntaxError struct {
	Offset int    // byte offset in Command.Line terms (leading whitespace removed)
	Reason string // short, for logs
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%v at offset %d: %s", ErrSyntax, e.Offset, e.Reason)
}

// Unwrap makes errors.Is(err, ErrSyntax) work.
func (e *SyntaxError) Unwrap() error { return ErrSyntax }

func syntaxErr(off int, format string, args ...any) error {
	return &SyntaxError{Offset: off, Reason: fmt.Sprintf(format, args...)}
}

// Command-line syntax, after V.250 §5.2–5.4. extendedPrefixes are the
// characters that start an extended command name: "+" (3GPP), "%" (Nordic),
// "#" (Serial Modem), and "$", "^", "*" used by other vendors [I; generic
// syntax, no dialect knowledge]. "&" starts a basic command (AT&F, AT&W).
const (
	extendedPrefixes = "+%#$^*"
	basicAmpersand   = '&'
	whitespace       = " \t\r\n"
)

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isLetter(c byte) bool { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isNameByte(c byte) bool { return isLetter(c) || isDigit(c) || c == '.' || c == '_' }

func upperASCII(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// Parse parses one command line as the Framer delivers it (terminator
// removed). It does no dialect lookup: any well-formed name is accepted.
func Parse(line []byte) (Command, error) {
	s := strings.TrimLeft(string(line), whitespace)
	if len(s) < 2 || upperASCII(s[0]) != 'A' || upperASCII(s[1]) != 'T' {
		return Command{}, fmt.Errorf("%w: %q", ErrNotAT, clip(s, 16))
	}
	cmd := Command{Line: s}
	// Trailing whitespace outside quotes is tolerated; trimming it from the
	// whole line cannot change a well-formed quoted string, because such a
	// line ends with the closing quote.
	body := strings.TrimRight(s, whitespace)
	const off = 2 // len("AT")
	rest := body[off:]
	if rest == "" {
		return cmd, nil // bare "AT"
	}

	c := rest[0]
	switch {
	case strings.IndexByte(extendedPrefixes, c) >= 0:
		end := 1
		for end < len(rest) && isNameByte(rest[end]) {
			end++
		}
		if end == 1 {
			return Command{}, syntaxErr(off+1, "empty command name after %q", c)
		}
		cmd.Name = strings.ToUpper(rest[:end])
		tail := rest[end:]
		switch {
		case tail == "":
			cmd.Kind = KindExec
		case tail == "?":
			cmd.Kind = KindRead
		case tail == "=?":
			cmd.Kind = KindTest
		case strings.HasPrefix(tail, "=?"):
			return Command{}, syntaxErr(off+end+2, "unexpected %q after =?", clip(tail[2:], 8))
		case tail[0] == '=':
			cmd.Kind = KindSet
			params, err := parseParams(tail[1:], off+end+1)
			if err != nil {
				return Command{}, err
			}
			cmd.Params = params
		default:
			return Command{}, syntaxErr(off+end, "unexpected %q after command name", clip(tail, 8))
		}
		return cmd, nil

	case isLetter(c) || (c == basicAmpersand && len(rest) > 1 && isLetter(rest[1])):
		// Basic command: one letter (optionally after '&'), then nothing, a
		// number, or '?'. Concatenated basic commands (ATE0V1) are rejected:
		// the simulator handles one command per line.
		end := 1
		if c == basicAmpersand {
			end = 2
		}
		cmd.Name = strings.ToUpper(rest[:end])
		tail := rest[end:]
		switch {
		case tail == "":
			cmd.Kind = KindExec
		case tail == "?":
			cmd.Kind = KindRead
		case allDigits(tail):
			v, err := strconv.ParseInt(tail, 10, 64)
			if err != nil {
				return Command{}, syntaxErr(off+end, "number %q out of range", clip(tail, 24))
			}
			cmd.Kind = KindSet
			cmd.Params = []Param{{Kind: ParamInt, Int: v}}
		default:
			return Command{}, syntaxErr(off+end, "unexpected %q after basic command %s", clip(tail, 8), cmd.Name)
		}
		return cmd, nil
	}
	// Includes "at AT+CGSN": a space after AT is not a command.
	return Command{}, syntaxErr(off, "unexpected %q after AT", clip(rest, 8))
}

// parseParams splits the text after '=' on commas outside quotes. base is
// the offset of s in the line, for error positions.
func parseParams(s string, base int) ([]Param, error) {
	params := make([]Param, 0, 1+strings.Count(s, ","))
	i := 0
	for {
		for i < len(s) && isSpace(s[i]) {
			i++
		}
		if i < len(s) && s[i] == '"' {
			closing := strings.IndexByte(s[i+1:], '"')
			if closing < 0 {
				return nil, syntaxErr(base+i, "unterminated quoted string")
			}
			params = append(params, Param{Kind: ParamString, Str: s[i+1 : i+1+closing]})
			i += closing + 2
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if i < len(s) && s[i] != ',' {
				return nil, syntaxErr(base+i, "text after closing quote")
			}
		} else {
			start := i
			for i < len(s) && s[i] != ',' {
				switch c := s[i]; {
				case c == '"':
					return nil, syntaxErr(base+i, "quote inside unquoted parameter")
				case c == ';':
					return nil, syntaxErr(base+i, "command concatenation with ';' is not supported")
				case (c < ' ' && !isSpace(c)) || c == byteDEL:
					return nil, syntaxErr(base+i, "control byte 0x%02x outside quotes", c)
				}
				i++
			}
			p, err := classify(strings.TrimRight(s[start:i], whitespace))
			if err != nil {
				return nil, syntaxErr(base+start, "%v", err)
			}
			params = append(params, p)
		}
		if i >= len(s) {
			return params, nil
		}
		i++ // the comma; a trailing comma yields one more empty parameter
	}
}

// classify turns trimmed unquoted text into an empty, integer or token parameter.
func classify(tok string) (Param, error) {
	if tok == "" {
		return Param{Kind: ParamEmpty}, nil
	}
	digits := tok
	if tok[0] == '+' || tok[0] == '-' {
		digits = tok[1:]
	}
	if digits == "" || !allDigits(digits) {
		return Param{Kind: ParamToken, Str: tok}, nil
	}
	v, err := strconv.ParseInt(tok, 10, 64)
	if err != nil {
		return Param{}, fmt.Errorf("integer %q out of range", clip(tok, 24))
	}
	return Param{Kind: ParamInt, Int: v}, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// clip shortens s for an error message; lines can be 4 KB of PEM.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
