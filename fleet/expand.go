package fleet

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/modemsim/modemsim/nrf91modem"
)

// ---------------------------------------------------------------- expansion

func (p *parser) expand(entries []*entry, def *entry) []Spec {
	if def == nil {
		def = &entry{}
	}
	var out []Spec
	byName, byLink, byNode, byTranscript := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	taken := func(seen map[string]int, key string, line int, field, what string) bool {
		if key == "" {
			return false
		}
		if first, dup := seen[key]; dup {
			p.errorf(line, field, "%s %q is already used by the board at line %d", what, key, first)
			return true
		}
		seen[key] = line
		return false
	}
	for _, e := range entries {
		if len(out)+e.count > p.maxBoards {
			p.errorf(e.line, e.field, "the file expands to more than %d boards", p.maxBoards)
			return nil
		}
		if e.name == nil {
			p.errorf(e.line, e.field, "name is required")
			continue
		}
		for seq := 1; seq <= e.count; seq++ {
			s, err := p.board(e, def, vars{seq: seq, index: len(out)})
			if err != nil {
				if e.count > 1 {
					err.Err = fmt.Errorf("board %d of %d: %w", seq, e.count, err.Err)
				}
				p.errs = append(p.errs, err)
				break
			}
			dup := taken(byName, s.Name, e.name.line, join(e.field, "name"), "name")
			if f := pick(e.link, def.link); f != nil {
				dup = taken(byLink, filepath.Clean(s.Link), f.line, f.field, "link") || dup
			}
			if f := pick(e.devNode, def.devNode); f != nil {
				dup = taken(byNode, filepath.Clean(s.DeviceNode), f.line, f.field, "device node") || dup
			}
			if t := pickTranscript(e, def); t != nil && t.path != nil {
				dup = taken(byTranscript, filepath.Clean(s.Transcript), t.path.line, t.path.field, "transcript file") || dup
			}
			if dup {
				break // one report per entry, not one per board
			}
			out = append(out, s)
		}
	}
	return out
}

func pick[T any](own, def *T) *T {
	if own != nil {
		return own
	}
	return def
}

func pickTranscript(e, def *entry) *transcriptField { return pick(e.transcript, def.transcript) }

// board renders one board of entry e.
func (p *parser) board(e, def *entry, vs vars) (Spec, *Error) {
	fail := func(line int, field string, err error) (Spec, *Error) {
		return Spec{}, &Error{File: p.file, Line: line, Field: field, Err: err}
	}
	s := Spec{Line: e.line}
	name, err := e.name.t.render(vs)
	if err != nil {
		return fail(e.name.line, e.name.field, err)
	}
	if !boardName.MatchString(name) {
		return fail(e.name.line, e.name.field, fmt.Errorf("%q is not a board name: 1–64 letters, digits, '.', '_' or '-', starting with a letter or digit (it names the board's state directory)", name))
	}
	s.Name = name
	vs.name, vs.hasName = name, true

	if k := pick(e.kind, def.kind); k != nil {
		s.Kind = *k
	}
	if ps := pick(e.persona, def.persona); ps != nil {
		s.Persona = *ps
	}
	for _, f := range []struct {
		field *tfield
		dst   *string
	}{{pick(e.link, def.link), &s.Link}, {pick(e.devNode, def.devNode), &s.DeviceNode}} {
		if f.field == nil {
			continue
		}
		if *f.dst, err = f.field.t.render(vs); err != nil {
			return fail(f.field.line, f.field.field, err)
		}
	}
	if t := pickTranscript(e, def); t != nil {
		s.Transcript = t.mode
		if t.path != nil {
			path, err := t.path.t.render(vs)
			if err != nil {
				return fail(t.path.line, t.path.field, err)
			}
			s.Transcript = p.resolve(path)
		}
	}
	if t := pick(e.tail, def.tail); t != nil {
		s.TranscriptTail = *t
	}

	for _, k := range []struct {
		v   *value
		dst *map[string]any
	}{{merged(def.hardware, e.hardware), &s.Hardware}, {merged(def.firmware, e.firmware), &s.Firmware}} {
		if k.v == nil {
			continue
		}
		r, err := k.v.render(vs)
		if err != nil {
			err.File = p.file
			return Spec{}, err
		}
		*k.dst = r.(map[string]any)
	}
	if err := p.imei(e, def, &s); err != nil {
		return Spec{}, err
	}

	creds, cerr := p.boardCredentials(e, def, vs)
	if cerr != nil {
		return Spec{}, cerr
	}
	s.Credentials = creds
	return s, nil
}

// imei completes a 14-digit IMEI with its Luhn check digit and refuses one
// that cannot be valid, with the line it came from.
func (p *parser) imei(e, def *entry, s *Spec) *Error {
	raw, ok := s.Hardware["imei"]
	if !ok || raw == nil {
		return nil
	}
	src := e.hardware
	if src == nil || src.m["imei"] == nil {
		src = def.hardware
	}
	line, field := src.m["imei"].line, src.m["imei"].field
	str, isString := raw.(string)
	if !isString {
		return &Error{File: p.file, Line: line, Field: field, Err: fmt.Errorf("quote the IMEI: %v is read as a number, and an IMEI may start with 0", raw)}
	}
	full, err := completeIMEI(str)
	if err != nil {
		return &Error{File: p.file, Line: line, Field: field, Err: err}
	}
	s.Hardware["imei"] = full
	return nil
}

// completeIMEI returns a 15-digit IMEI: 14 digits get their Luhn check
// digit appended, 15 digits must already end in it.
func completeIMEI(s string) (string, error) {
	if !allDigits(s) || len(s) != imeiBodyDigits && len(s) != imeiDigits {
		return "", fmt.Errorf("IMEI %q: want %d digits (the Luhn check digit is appended) or %d digits ending in it", s, imeiBodyDigits, imeiDigits)
	}
	body := s[:imeiBodyDigits]
	var check byte
	for d := byte('0'); d <= '9'; d++ {
		if nrf91modem.LuhnValid(body + string(d)) {
			check = d
			break
		}
	}
	if len(s) == imeiDigits && s[imeiBodyDigits] != check {
		return "", fmt.Errorf("IMEI %q: the Luhn check digit is %c, not %c (give the 14 digits before it and it is appended)", s, check, s[imeiBodyDigits])
	}
	return body + string(check), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// boardCredentials are the defaults' credentials, then the entry's; an
// entry's credential replaces a default with the same tag and type.
func (p *parser) boardCredentials(e, def *entry, vs vars) ([]Credential, *Error) {
	own := map[[2]int64]bool{}
	for _, c := range e.credentials {
		own[[2]int64{int64(c.tag), int64(c.typ)}] = true
	}
	list := slices.DeleteFunc(slices.Clone(def.credentials), func(c *credEntry) bool { return own[[2]int64{int64(c.tag), int64(c.typ)}] })
	list = append(list, e.credentials...)
	var out []Credential
	for _, c := range list {
		cred := Credential{Tag: c.tag, Type: c.typ}
		if c.pem != nil {
			cred.PEM, cred.Content = *c.pem, c.body
		} else {
			path, err := c.file.t.render(vs)
			if err != nil {
				return nil, &Error{File: p.file, Line: c.file.line, Field: c.file.field, Err: err}
			}
			cred.File = p.resolve(path)
			if cred.Content, err = p.readCredential(cred.File); err != nil {
				return nil, &Error{File: p.file, Line: c.file.line, Field: c.file.field, Err: err}
			}
		}
		out = append(out, cred)
	}
	return out, nil
}

func (p *parser) readCredential(path string) ([]byte, error) {
	if b, ok := p.read[path]; ok {
		return b, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxCredentialFile+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	case len(b) > maxCredentialFile:
		return nil, fmt.Errorf("%s is larger than %d bytes: not a credential", path, maxCredentialFile)
	case len(b) == 0:
		return nil, fmt.Errorf("%s is empty", path)
	}
	p.read[path] = b
	return b, nil
}

// String names a credential for messages: tag, type name and source.
func (c Credential) String() string {
	src := "inline"
	if c.File != "" {
		src = c.File
	}
	return strconv.FormatUint(uint64(c.Tag), 10) + "/" + CredentialTypeName(c.Type) + " (" + src + ")"
}
