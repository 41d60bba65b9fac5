package fleet

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// parser reads one fleet file, collecting every problem it finds rather
// than stopping at the first.
type parser struct {
	file      string // for errors
	baseDir   string
	maxBoards int
	errs      []*Error
	read      map[string][]byte // credential files by path, read once
}

func parse(data []byte, baseDir, file string, maxBoards int) (*File, error) {
	p := &parser{file: file, baseDir: baseDir, maxBoards: maxBoards, read: map[string][]byte{}}
	f := p.parseDocument(data)
	if len(p.errs) > 0 {
		return nil, p.err()
	}
	return f, nil
}

func (p *parser) errorf(line int, field, format string, a ...any) {
	p.errs = append(p.errs, &Error{File: p.file, Line: line, Field: field, Err: fmt.Errorf(format, a...)})
}

// err joins the errors found, in line order.
func (p *parser) err() error {
	sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
	var errs []error
	for i, e := range p.errs {
		if i == maxReported {
			errs = append(errs, fmt.Errorf("and %d more errors", len(p.errs)-maxReported))
			break
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func (p *parser) parseDocument(data []byte) *File {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			p.errorf(0, "", "the file is empty")
		} else if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			p.errorf(line, "", "%s", m[2])
		} else {
			p.errorf(0, "", "%v", err)
		}
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p.errorf(extra.Line, "", "a fleet file is one YAML document")
		return nil
	}
	if noAliases(p, &doc) > 0 {
		return nil
	}
	top := &doc
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	fields := p.mapping(top, "", topKeys)
	if fields == nil {
		return nil
	}
	f := &File{}
	if n := fields["state"]; n != nil {
		if s, ok := p.str(n, "state"); ok && s != "" {
			f.State = p.resolve(s)
		}
	}
	if n := fields["faults"]; n != nil {
		f.Faults = p.faults(n)
	}
	var defaults *entry
	if n := fields["defaults"]; n != nil {
		defaults = p.entry(n, "defaults", defaultKeys)
	}
	n := fields["boards"]
	if n == nil {
		p.errorf(top.Line, "boards", "is required: the list of boards")
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, "boards", "must be a list of boards")
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n.Line, "boards", "the list is empty")
		return nil
	}
	var entries []*entry
	for i, b := range n.Content {
		if e := p.entry(b, fmt.Sprintf("boards[%d]", i), boardKeys); e != nil {
			entries = append(entries, e)
		}
	}
	if len(p.errs) > 0 {
		return nil
	}
	f.Boards = p.expand(entries, defaults)
	return f
}

// noAliases refuses anchors and aliases: the file has defaults and counts
// for sharing, and refusing them keeps a small file from expanding to a
// huge tree.
func noAliases(p *parser, n *yaml.Node) int {
	found := 0
	if n.Kind == yaml.AliasNode || n.Anchor != "" {
		p.errorf(n.Line, "", "YAML anchors and aliases are not supported: use defaults and count")
		return 1
	}
	for _, c := range n.Content {
		found += noAliases(p, c)
	}
	return found
}

// mapping returns the values of a mapping node by key, refusing keys not
// in allowed, duplicate keys and non-string keys.
func (p *parser) mapping(n *yaml.Node, field string, allowed []string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, field, "must be a mapping of keys to values")
		return nil
	}
	out := map[string]*yaml.Node{}
	ok := true
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			p.errorf(k.Line, field, "a key must be a plain string")
			ok = false
			continue
		}
		if _, dup := out[k.Value]; dup {
			p.errorf(k.Line, join(field, k.Value), "the key is given twice")
			ok = false
			continue
		}
		if allowed != nil && !slices.Contains(allowed, k.Value) {
			p.errorf(k.Line, join(field, k.Value), "unknown key (want one of %s)", strings.Join(allowed, ", "))
			ok = false
			continue
		}
		out[k.Value] = v
	}
	if !ok {
		return nil
	}
	return out
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

// str reads a string scalar; null is "".
func (p *parser) str(n *yaml.Node, field string) (string, bool) {
	if n.Kind == yaml.ScalarNode {
		switch n.ShortTag() {
		case "!!str":
			return n.Value, true
		case "!!null":
			return "", true
		}
	}
	p.errorf(n.Line, field, "must be a string")
	return "", false
}

// integer reads an integer scalar.
func (p *parser) integer(n *yaml.Node, field string) (int64, bool) {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" {
		var v int64
		if err := n.Decode(&v); err == nil {
			return v, true
		}
	}
	p.errorf(n.Line, field, "must be an integer")
	return 0, false
}

// templateField reads a string scalar that may hold placeholders.
func (p *parser) templateField(n *yaml.Node, field string) *tfield {
	s, ok := p.str(n, field)
	if !ok {
		return nil
	}
	t, err := compileTemplate(s)
	if err != nil {
		p.errorf(n.Line, field, "%v", err)
		return nil
	}
	return &tfield{t: t, line: n.Line, field: field}
}

// resolve makes a relative path relative to the fleet file's directory.
func (p *parser) resolve(path string) string {
	if path == "" || filepath.IsAbs(path) || p.baseDir == "" {
		return path
	}
	return filepath.Join(p.baseDir, path)
}

// ---------------------------------------------------------------- entries

// entry is a board entry (or the defaults) before expansion; nil fields
// were not given.
type entry struct {
	line, count         int
	field               string
	name, link, devNode *tfield
	kind, persona       *string
	transcript          *transcriptField
	tail                *int
	hardware, firmware  *value
	credentials         []*credEntry
}

type tfield struct {
	t     template
	line  int
	field string
}

// transcriptField is off, memory, or a path template.
type transcriptField struct {
	mode string // "", TranscriptMemory, or "file"
	path *tfield
}

type credEntry struct {
	line  int
	field string
	tag   uint32
	typ   int
	file  *tfield
	pem   *string
	body  []byte // the inline PEM, shared by every board of the entry
}

func (p *parser) entry(n *yaml.Node, field string, allowed []string) *entry {
	fields := p.mapping(n, field, allowed)
	if fields == nil {
		return nil
	}
	before := len(p.errs)
	e := &entry{line: n.Line, field: field, count: 1}
	for _, key := range allowed { // a fixed order, for errors in a fixed order
		v := fields[key]
		if v == nil {
			continue
		}
		kf := join(field, key)
		switch key {
		case "name":
			e.name = p.templateField(v, kf)
		case "link":
			e.link = p.templateField(v, kf)
		case "device_node":
			e.devNode = p.templateField(v, kf)
		case "kind":
			if s, ok := p.str(v, kf); ok {
				e.kind = &s
			}
		case "persona":
			if s, ok := p.str(v, kf); ok {
				e.persona = &s
			}
		case "count":
			if c, ok := p.integer(v, kf); ok {
				switch {
				case c < 1:
					p.errorf(v.Line, kf, "must be at least 1, not %d", c)
				case c > int64(p.maxBoards):
					p.errorf(v.Line, kf, "%d is more than the %d boards a fleet file may hold", c, p.maxBoards)
				default:
					e.count = int(c)
				}
			}
		case "transcript":
			e.transcript = p.transcript(v, kf)
		case "transcript_tail":
			if t, ok := p.integer(v, kf); ok {
				if t < 0 || t > 1<<30 {
					p.errorf(v.Line, kf, "must be a byte count from 0 (the default) to 1 GiB, not %d", t)
				} else {
					tail := int(t)
					e.tail = &tail
				}
			}
		case "hardware":
			e.hardware = p.knobs(v, kf)
		case "firmware":
			e.firmware = p.knobs(v, kf)
		case "credentials":
			e.credentials = p.credentials(v, kf)
		}
	}
	if len(p.errs) > before {
		return nil
	}
	return e
}

func (p *parser) transcript(n *yaml.Node, field string) *transcriptField {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!bool" {
		var on bool
		if err := n.Decode(&on); err == nil {
			if on {
				return &transcriptField{mode: TranscriptMemory}
			}
			return &transcriptField{}
		}
	}
	s, ok := p.str(n, field)
	if !ok {
		return nil
	}
	switch strings.ToLower(s) {
	case "", "off":
		return &transcriptField{}
	case "on", TranscriptMemory:
		return &transcriptField{mode: TranscriptMemory}
	}
	t := p.templateField(n, field)
	if t == nil {
		return nil
	}
	return &transcriptField{mode: "file", path: t}
}

func (p *parser) credentials(n *yaml.Node, field string) []*credEntry {
	if n.Kind != yaml.SequenceNode {
		p.errorf(n.Line, field, "must be a list of credentials")
		return nil
	}
	var out []*credEntry
	seen := map[[2]int64]int{}
	for i, c := range n.Content {
		cf := fmt.Sprintf("%s[%d]", field, i)
		ce := p.credential(c, cf)
		if ce == nil {
			continue
		}
		key := [2]int64{int64(ce.tag), int64(ce.typ)}
		if line, dup := seen[key]; dup {
			p.errorf(c.Line, cf, "tag %d type %s is already given at line %d", ce.tag, CredentialTypeName(ce.typ), line)
			continue
		}
		seen[key] = c.Line
		out = append(out, ce)
	}
	return out
}

func (p *parser) credential(n *yaml.Node, field string) *credEntry {
	fields := p.mapping(n, field, credentialKeys)
	if fields == nil {
		return nil
	}
	before := len(p.errs)
	c := &credEntry{line: n.Line, field: field}
	if v := fields["tag"]; v == nil {
		p.errorf(n.Line, join(field, "tag"), "is required")
	} else if tag, ok := p.integer(v, join(field, "tag")); ok {
		if tag < 0 || tag > 1<<32-1 {
			p.errorf(v.Line, join(field, "tag"), "%d is not a security tag (0–4294967295)", tag)
		}
		c.tag = uint32(tag)
	}
	if v := fields["type"]; v == nil {
		p.errorf(n.Line, join(field, "type"), "is required")
	} else if v.Kind != yaml.ScalarNode {
		p.errorf(v.Line, join(field, "type"), "must be a number or a name such as ROOT_CA_CERT")
	} else if typ, err := CredentialType(v.Value); err != nil {
		p.errorf(v.Line, join(field, "type"), "%v", err)
	} else {
		c.typ = typ
	}
	file, pemNode := fields["file"], fields["pem"]
	switch {
	case file != nil && pemNode != nil:
		p.errorf(n.Line, field, "give the content as file or as pem, not both")
	case file == nil && pemNode == nil:
		p.errorf(n.Line, field, "give the content as file (a path) or as pem (inline)")
	case file != nil:
		c.file = p.templateField(file, join(field, "file"))
	default:
		if s, ok := p.str(pemNode, join(field, "pem")); ok {
			if s == "" {
				p.errorf(pemNode.Line, join(field, "pem"), "is empty")
			}
			c.pem, c.body = &s, []byte(s)
		}
	}
	if len(p.errs) > before {
		return nil
	}
	return c
}

// ---------------------------------------------------------------- hardware and firmware knobs

// value is a YAML value of a hardware or firmware map, strings compiled as
// templates.
type value struct {
	line   int
	field  string
	str    *template
	scalar any // non-string scalars, decoded by YAML
	keys   []string
	m      map[string]*value
	seq    []*value
	isMap  bool
	isSeq  bool
}

func (p *parser) knobs(n *yaml.Node, field string) *value {
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, field, "must be a mapping of knobs to values")
		return nil
	}
	return p.value(n, field)
}

func (p *parser) value(n *yaml.Node, field string) *value {
	v := &value{line: n.Line, field: field}
	switch n.Kind {
	case yaml.MappingNode:
		fields := p.mapping(n, field, nil)
		if fields == nil {
			return nil
		}
		v.isMap, v.m = true, map[string]*value{}
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i].Value
			c := p.value(n.Content[i+1], join(field, k))
			if c == nil {
				return nil
			}
			v.keys = append(v.keys, k)
			v.m[k] = c
		}
	case yaml.SequenceNode:
		v.isSeq = true
		for i, c := range n.Content {
			cv := p.value(c, fmt.Sprintf("%s[%d]", field, i))
			if cv == nil {
				return nil
			}
			v.seq = append(v.seq, cv)
		}
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			// A date stays the text it was written as.
			t, err := compileTemplate(n.Value)
			if err != nil {
				p.errorf(n.Line, field, "%v", err)
				return nil
			}
			v.str = &t
		case "!!null":
		case "!!bool", "!!int", "!!float":
			if err := n.Decode(&v.scalar); err != nil {
				p.errorf(n.Line, field, "%v", err)
				return nil
			}
		default:
			p.errorf(n.Line, field, "unsupported YAML tag %s", n.Tag)
			return nil
		}
	default:
		p.errorf(n.Line, field, "unsupported YAML value")
		return nil
	}
	return v
}

// render renders every string of the value; an error names the string's
// line and field.
func (v *value) render(vs vars) (any, *Error) {
	switch {
	case v.isMap:
		m := make(map[string]any, len(v.m))
		for _, k := range v.keys {
			c, err := v.m[k].render(vs)
			if err != nil {
				return nil, err
			}
			m[k] = c
		}
		return m, nil
	case v.isSeq:
		s := make([]any, len(v.seq))
		for i, c := range v.seq {
			r, err := c.render(vs)
			if err != nil {
				return nil, err
			}
			s[i] = r
		}
		return s, nil
	case v.str != nil:
		r, err := v.str.render(vs)
		if err != nil {
			return nil, &Error{Line: v.line, Field: v.field, Err: err}
		}
		return r, nil
	}
	return v.scalar, nil
}

// merged is the knob map of defaults overlaid with an entry's, key by key.
func merged(def, own *value) *value {
	switch {
	case def == nil:
		return own
	case own == nil:
		return def
	}
	out := &value{line: own.line, field: own.field, isMap: true, m: map[string]*value{}}
	for _, src := range []*value{def, own} {
		for _, k := range src.keys {
			if _, ok := out.m[k]; !ok {
				out.keys = append(out.keys, k)
			}
			out.m[k] = src.m[k]
		}
	}
	return out
}
