package mqttcerts

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// evalCondition evaluates a #if expression the way the C preprocessor does
// for what certificate headers use: integers, CONFIG_* names (0 when not
// set), defined(X), __has_include("file"), ! - ( ), the comparisons, && and
// ||.
func evalCondition(expr string, src Source) (int64, error) {
	toks, err := lex("#if", 0, expr)
	if err != nil {
		return 0, err
	}
	p := &condParser{toks: toks, src: src}
	v, err := p.or()
	if err != nil {
		return 0, err
	}
	if p.i != len(p.toks) {
		return 0, fmt.Errorf("unexpected %q", p.toks[p.i].text)
	}
	return v, nil
}

type condParser struct {
	toks []token
	i    int
	src  Source
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i].text
	}
	return ""
}

// op consumes a one- or two-character operator.
func (p *condParser) op(s string) bool {
	if p.i+len(s) > len(p.toks) {
		return false
	}
	for k := 0; k < len(s); k++ {
		t := p.toks[p.i+k]
		if t.kind != 'p' || t.text != s[k:k+1] {
			return false
		}
	}
	// "=" of "==" must not be the start of a lone "=", "<" of "<=" etc.
	if len(s) == 1 && p.i+1 < len(p.toks) && p.toks[p.i+1].kind == 'p' && p.toks[p.i+1].text == "=" &&
		strings.Contains("<>!=", s) {
		return false
	}
	p.i += len(s)
	return true
}

func (p *condParser) or() (int64, error) {
	v, err := p.and()
	for err == nil && p.op("||") {
		var r int64
		r, err = p.and()
		v = b2i(v != 0 || r != 0)
	}
	return v, err
}

func (p *condParser) and() (int64, error) {
	v, err := p.cmp()
	for err == nil && p.op("&&") {
		var r int64
		r, err = p.cmp()
		v = b2i(v != 0 && r != 0)
	}
	return v, err
}

func (p *condParser) cmp() (int64, error) {
	v, err := p.unary()
	for err == nil {
		var f func(a, b int64) bool
		switch {
		case p.op("=="):
			f = func(a, b int64) bool { return a == b }
		case p.op("!="):
			f = func(a, b int64) bool { return a != b }
		case p.op(">="):
			f = func(a, b int64) bool { return a >= b }
		case p.op("<="):
			f = func(a, b int64) bool { return a <= b }
		case p.op(">"):
			f = func(a, b int64) bool { return a > b }
		case p.op("<"):
			f = func(a, b int64) bool { return a < b }
		default:
			return v, nil
		}
		var r int64
		if r, err = p.unary(); err == nil {
			v = b2i(f(v, r))
		}
	}
	return v, err
}

func (p *condParser) unary() (int64, error) {
	switch {
	case p.op("!"):
		v, err := p.unary()
		return b2i(v == 0), err
	case p.op("-"):
		v, err := p.unary()
		return -v, err
	case p.op("("):
		v, err := p.or()
		if err == nil && !p.op(")") {
			err = errors.New("missing )")
		}
		return v, err
	}
	if p.i >= len(p.toks) {
		return 0, errors.New("expression ends early")
	}
	t := p.toks[p.i]
	p.i++
	switch t.kind {
	case 'n':
		v, err := strconv.ParseInt(strings.TrimRight(t.text, "uUlL"), 0, 64)
		if err != nil {
			return 0, fmt.Errorf("bad number %q", t.text)
		}
		return v, nil
	case 'i':
		switch t.text {
		case "defined":
			paren := p.op("(")
			if p.i >= len(p.toks) || p.toks[p.i].kind != 'i' {
				return 0, errors.New("defined needs a name")
			}
			_, ok := p.src.Config[p.toks[p.i].text]
			p.i++
			if paren && !p.op(")") {
				return 0, errors.New("missing ) after defined")
			}
			return b2i(ok), nil
		case "__has_include":
			if !p.op("(") || p.i >= len(p.toks) || p.toks[p.i].kind != 's' {
				return 0, errors.New(`__has_include needs ("file")`)
			}
			_, ok := p.src.Files[p.toks[p.i].text]
			p.i++
			if !p.op(")") {
				return 0, errors.New("missing ) after __has_include")
			}
			return b2i(ok), nil
		}
		return p.src.Config[t.text], nil // an undefined name is 0
	}
	return 0, fmt.Errorf("unexpected %q", t.text)
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
