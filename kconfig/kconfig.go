// Package kconfig reads Kconfig configuration fragments — the prj.conf and
// overlay files users paste into forum posts — the way Zephyr's build merges
// them: `CONFIG_<NAME>=<value>` assignments, `# CONFIG_<NAME> is not set`,
// comments and blank lines; several fragments may be given and later ones win
// (as `-DOVERLAY_CONFIG` / `EXTRA_CONF_FILE` overlays do).
//
// It knows the literal forms of values (bool y/n/m, decimal and hex integers,
// quoted strings with \" and \\ escapes), not the Kconfig symbol tree: a
// persona asks for the options it understands with Bool, Int and String,
// which fail the way a build would on a value of the wrong form, and Unused
// lists the rest once as ignored.
package kconfig

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Prefix starts every symbol in a configuration fragment.
const Prefix = "CONFIG_"

// Kind is the literal form of an assigned value.
type Kind int

const (
	KindBool   Kind = iota // y, n or m
	KindInt                // decimal, possibly negative
	KindHex                // 0x…
	KindString             // "…"
)

func (k Kind) String() string {
	switch k {
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindHex:
		return "hex"
	case KindString:
		return "string"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Value is one assignment: its literal, its form and where it was made.
type Value struct {
	Raw  string // as written (a string without its quotes, escapes resolved)
	Kind Kind
	File string
	Line int
}

// Where names the file and line of the assignment.
func (v Value) Where() string { return fmt.Sprintf("%s:%d", v.File, v.Line) }

// Override records an assignment replaced by a later one.
type Override struct {
	Name     string
	Old, New Value
}

// Config is the merged result of one or more fragments.
type Config struct {
	values    map[string]Value
	order     []string // names in order of first assignment
	Overrides []Override
}

// SyntaxError is a line that is not an assignment, a comment or blank.
// Zephyr's kconfig.py warns "ignoring malformed line" and aborts the build
// on Kconfig warnings [I: kconfiglib's warning text; that the build aborts
// is how Zephyr's scripts/kconfig/kconfig.py treats warnings].
type SyntaxError struct {
	File string
	Line int
	Text string
	Why  string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d: ignoring malformed line '%s': %s", e.File, e.Line, e.Text, e.Why)
}

// maxLine bounds one line: a fragment is a small text file, and anything
// longer is not one.
const maxLine = 64 << 10

// Parse reads one fragment; name is used in errors and Where.
func Parse(name string, data []byte) (*Config, error) {
	c := &Config{values: map[string]Value{}}
	return c, c.add(name, data)
}

// Load reads and merges fragments in order; later ones win.
func Load(paths ...string) (*Config, error) {
	c := &Config{values: map[string]Value{}}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("kconfig: %w", err)
		}
		if err := c.add(p, data); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Merge applies other on top of c, as a later fragment.
func (c *Config) Merge(other *Config) {
	for _, n := range other.order {
		c.set(n, other.values[n])
	}
}

func (c *Config) add(name string, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	var errs []error
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimRight(sc.Text(), " \t\r")
		n, v, err := parseLine(strings.TrimLeft(text, " \t"))
		switch {
		case err != nil:
			errs = append(errs, &SyntaxError{File: name, Line: line, Text: text, Why: err.Error()})
		case n != "":
			v.File, v.Line = name, line
			c.set(n, v)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("kconfig: %s: %w", name, err))
	}
	return errors.Join(errs...)
}

func (c *Config) set(n string, v Value) {
	if old, ok := c.values[n]; ok {
		if old.Raw != v.Raw || old.Kind != v.Kind {
			c.Overrides = append(c.Overrides, Override{Name: n, Old: old, New: v})
		}
	} else {
		c.order = append(c.order, n)
	}
	c.values[n] = v
}

// parseLine returns the option (CONFIG_ and the symbol) and value of an
// assignment, "" for a blank line or a comment.
func parseLine(s string) (string, Value, error) {
	if s == "" {
		return "", Value{}, nil
	}
	if rest, ok := strings.CutPrefix(s, "#"); ok {
		// "# CONFIG_FOO is not set" assigns n; any other comment is a comment.
		rest = strings.TrimSpace(rest)
		if sym, ok := strings.CutSuffix(rest, " is not set"); ok && strings.HasPrefix(sym, Prefix) && validName(sym[len(Prefix):]) {
			return sym, Value{Raw: "n", Kind: KindBool}, nil
		}
		return "", Value{}, nil
	}
	lhs, rhs, ok := strings.Cut(s, "=")
	if !ok {
		return "", Value{}, errors.New("no '=' in an assignment")
	}
	opt := strings.TrimSpace(lhs)
	if sym, ok := strings.CutPrefix(opt, Prefix); !ok || !validName(sym) {
		return "", Value{}, fmt.Errorf("%q is not a CONFIG_ symbol", opt)
	}
	v, err := parseValue(strings.TrimSpace(rhs))
	if err != nil {
		return "", Value{}, err
	}
	return opt, v, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

func parseValue(s string) (Value, error) {
	switch {
	case s == "y" || s == "n" || s == "m":
		return Value{Raw: s, Kind: KindBool}, nil
	case strings.HasPrefix(s, `"`):
		str, err := unquote(s)
		return Value{Raw: str, Kind: KindString}, err
	case strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X"):
		if _, err := strconv.ParseUint(s[2:], 16, 64); err != nil || len(s) == 2 {
			return Value{}, fmt.Errorf("malformed hex value %q", s)
		}
		return Value{Raw: s, Kind: KindHex}, nil
	}
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return Value{}, fmt.Errorf("malformed value %q (want y, n, a number or a quoted string)", s)
	}
	return Value{Raw: s, Kind: KindInt}, nil
}

// unquote reads a Kconfig string literal: \" and \\ are the escapes, and
// the closing quote ends the line.
func unquote(s string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 == len(s) {
				return "", errors.New("string ends in a lone backslash")
			}
			i++
			b.WriteByte(s[i])
		case '"':
			if strings.TrimSpace(s[i+1:]) != "" {
				return "", fmt.Errorf("text after the closing quote: %q", s[i+1:])
			}
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("unterminated string")
}

// Lookup is the assignment of an option, named as in the file
// ("CONFIG_LOG").
func (c *Config) Lookup(name string) (Value, bool) {
	v, ok := c.values[name]
	return v, ok
}

// Names lists the assigned options ("CONFIG_LOG") in order of first
// assignment.
func (c *Config) Names() []string { return slices.Clone(c.order) }

// TypeError is a value of the wrong form for the option asked for.
type TypeError struct {
	Name  string
	Value Value
	Want  Kind
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("%s: %s is %s %q, not a %s value", e.Value.Where(), e.Name, e.Value.Kind, e.Value.Raw, e.Want)
}

// Bool is a bool option: set reports whether it was assigned at all.
func (c *Config) Bool(name string) (val, set bool, err error) {
	v, ok := c.Lookup(name)
	if !ok {
		return false, false, nil
	}
	if v.Kind != KindBool {
		return false, true, &TypeError{Name: name, Value: v, Want: KindBool}
	}
	return v.Raw != "n", true, nil
}

// Int is an int or hex option.
func (c *Config) Int(name string) (val int64, set bool, err error) {
	v, ok := c.Lookup(name)
	if !ok {
		return 0, false, nil
	}
	switch v.Kind {
	case KindInt:
		n, err := strconv.ParseInt(v.Raw, 10, 64)
		return n, true, err
	case KindHex:
		n, err := strconv.ParseUint(v.Raw[2:], 16, 64)
		return int64(n), true, err
	}
	return 0, true, &TypeError{Name: name, Value: v, Want: KindInt}
}

// String is a string option.
func (c *Config) String(name string) (val string, set bool, err error) {
	v, ok := c.Lookup(name)
	if !ok {
		return "", false, nil
	}
	if v.Kind != KindString {
		return "", true, &TypeError{Name: name, Value: v, Want: KindString}
	}
	return v.Raw, true, nil
}

// Unused lists the assigned options that known does not claim, for a
// persona to report once as ignored.
func (c *Config) Unused(known func(name string) bool) []string {
	var out []string
	for _, n := range c.order {
		if !known(n) {
			out = append(out, n)
		}
	}
	return out
}
