package project

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// yfile walks the yaml.Node tree of one file by hand rather than decoding into structs:
// that is what gives every error a line, lets unknown fields be reported with the list of
// known ones, and keeps YAML scalars such as `user: 1000` or `GO_VERSION: 1.20` exactly as
// written.
type yfile struct {
	name string
	data []byte
}

func (f *yfile) errf(n *yaml.Node, format string, a ...any) *Error {
	e := &Error{File: f.name, Msg: fmt.Sprintf(format, a...), Data: f.data}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	return e
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): `)

func splitYAMLErr(err error) (line int, msg string) {
	msg = err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return line, strings.TrimPrefix(msg, "yaml: ")
}

func (f *yfile) syntaxErr(err error) *Error {
	line, msg := splitYAMLErr(err)
	if l := problemLine(f.data, msg); l > 0 {
		line = l
	}
	return &Error{File: f.name, Line: line, Msg: "invalid YAML: " + msg, Data: f.data}
}

// problemLine finds the line where a YAML syntax error occurs. yaml.v3 reports the line where
// the enclosing block starts (often line 1), which does not help anyone find the mistake. The
// parser stops at the first error, so every prefix of the file that reaches the mistake fails
// with the same message: the shortest such prefix ends on the offending line.
func problemLine(data []byte, msg string) int {
	lines := bytes.SplitAfter(data, []byte("\n"))
	failsAt := func(k int) bool {
		dec := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:k], nil)))
		for i := 0; i < 1000; i++ {
			var n yaml.Node
			err := dec.Decode(&n)
			if err == nil {
				continue
			}
			if errors.Is(err, io.EOF) {
				return false
			}
			_, m := splitYAMLErr(err)
			return m == msg
		}
		return false
	}
	k := sort.Search(len(lines)+1, failsAt)
	if k == 0 || k > len(lines) {
		return 0
	}
	return k
}

// root parses the file and returns its top-level value, or nil when the file holds nothing.
func (f *yfile) root() (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(f.data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, f.syntaxErr(err)
	}
	// dazzle silently read only the first document; content after a `---` is almost
	// certainly a mistake that would otherwise go unnoticed.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		if r := docRoot(&next); !isNull(r) {
			return nil, f.errf(r, "a second YAML document starts here (after `---`); %s must hold a single document, so remove the `---` separator", f.name)
		}
	} else if !errors.Is(err, io.EOF) {
		return nil, f.syntaxErr(err)
	}
	r := docRoot(&doc)
	if isNull(r) {
		return nil, nil
	}
	return r, nil
}

func docRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return deref(doc.Content[0])
	}
	return deref(doc)
}

// deref follows aliases; the bound stops alias chains that refer to themselves.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 64; i++ {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	n = deref(n)
	return n == nil || n.Kind == 0 || n.Kind == yaml.AliasNode || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

func kindName(n *yaml.Node) string {
	n = deref(n)
	switch {
	case n == nil:
		return "nothing"
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind == yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "an unsupported YAML value"
}

type field struct {
	key  string
	kn   *yaml.Node // key node, where "unknown field" errors point
	val  *yaml.Node
	line int
}

// fields checks that n is a mapping with only known, non-repeated keys and returns its entries
// (merge keys `<<: *anchor` resolved). A null value is an empty mapping.
func (f *yfile) fields(n *yaml.Node, what string, known []string) ([]field, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, f.errf(n, "%s must be a mapping (key: value), not %s", what, kindName(n))
	}
	var out []field
	seen := map[string]int{}
	// Keys written in a mapping override those it merges in, and earlier merges win over later
	// ones, so each mapping's own keys are taken before the mappings it merges.
	// Each mapping is merged once at most: merging it again adds no keys, and without this,
	// merge keys that refer to each other would make the work grow exponentially.
	visited := map[*yaml.Node]bool{}
	var collect func(m *yaml.Node, depth int) error
	collect = func(m *yaml.Node, depth int) error {
		if depth > 16 {
			return f.errf(m, "%s: YAML merge keys (<<) nest too deeply", what)
		}
		if visited[m] {
			return nil
		}
		visited[m] = true
		var merges []*yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			k, v := m.Content[i], m.Content[i+1]
			if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
				merges = append(merges, v)
				continue
			}
			if k.Kind != yaml.ScalarNode {
				return f.errf(k, "%s: keys must be plain names, not %s", what, kindName(k))
			}
			if !contains(known, k.Value) {
				return f.errf(k, "unknown field %q in %s (known: %s)", k.Value, what, strings.Join(known, ", "))
			}
			if prev, ok := seen[k.Value]; ok {
				if depth == 0 {
					return f.errf(k, "field %q is set twice in %s (also on line %d); keep one", k.Value, what, prev)
				}
				continue
			}
			seen[k.Value] = k.Line
			out = append(out, field{key: k.Value, kn: k, val: v, line: k.Line})
		}
		for _, v := range merges {
			mv := deref(v)
			var maps []*yaml.Node
			switch {
			case mv != nil && mv.Kind == yaml.MappingNode:
				maps = []*yaml.Node{mv}
			case mv != nil && mv.Kind == yaml.SequenceNode:
				for _, e := range mv.Content {
					maps = append(maps, deref(e))
				}
			default:
				maps = []*yaml.Node{nil}
			}
			for _, mm := range maps {
				if mm == nil || mm.Kind != yaml.MappingNode {
					return f.errf(v, "%s: a merge key (<<) takes a mapping or a list of mappings", what)
				}
				if err := collect(mm, depth+1); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := collect(n, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// str reads a scalar as written, so numbers and booleans become their text ("1000", "1.20").
func (f *yfile) str(n *yaml.Node, what string) (string, error) {
	n = deref(n)
	if isNull(n) {
		return "", nil
	}
	if n.Kind != yaml.ScalarNode {
		return "", f.errf(n, "%s must be a single value, not %s", what, kindName(n))
	}
	return n.Value, nil
}

func (f *yfile) boolean(n *yaml.Node, what string) (bool, error) {
	n = deref(n)
	if isNull(n) {
		return false, nil
	}
	var b bool
	if n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		return false, f.errf(n, "%s must be true or false, not %s", what, kindName(n))
	}
	return b, nil
}

// list reads a list of scalars and the line of each entry. example shows the expected form in
// the error for a value that is not a list.
func (f *yfile) list(n *yaml.Node, what, example string) ([]string, []int, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, nil, f.errf(n, "%s must be a list, e.g. %s; got %s", what, example, kindName(n))
	}
	vals := make([]string, 0, len(n.Content))
	lines := make([]int, 0, len(n.Content))
	for _, e := range n.Content {
		line := e.Line
		e = deref(e)
		if e == nil || e.Kind != yaml.ScalarNode {
			return nil, nil, f.errf(e, "%s: each entry must be a single value, not %s", what, kindName(e))
		}
		v := e.Value
		if e.Tag == "!!null" {
			v = ""
		}
		vals = append(vals, v)
		lines = append(lines, line)
	}
	return vals, lines, nil
}

// strMap reads a mapping of names to scalar values; nil when empty.
func (f *yfile) strMap(n *yaml.Node, what string) (map[string]string, error) {
	n = deref(n)
	if isNull(n) {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, f.errf(n, "%s must be a mapping of names to values, e.g. { VERSION: \"1.2\" }; got %s", what, kindName(n))
	}
	out := map[string]string{}
	lines := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		if k == nil || k.Kind != yaml.ScalarNode || k.Value == "" || k.Tag == "!!merge" {
			return nil, f.errf(n.Content[i], "%s: each key must be a plain name, not %s", what, kindName(k))
		}
		if prev, ok := lines[k.Value]; ok {
			return nil, f.errf(k, "%s: %q is set twice (also on line %d); keep one", what, k.Value, prev)
		}
		s, err := f.str(v, fmt.Sprintf("%s: %s", what, k.Value))
		if err != nil {
			return nil, err
		}
		out[k.Value] = s
		lines[k.Value] = k.Line
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
