// Package scaffold starts and edits dazzle projects as `dazzle project init|add-combination|ignore`
// do, without losing what the user wrote: dazzle rewrites dazzle.yaml from its parsed config,
// dropping comments and layout; here new entries are inserted as text after the lines they follow,
// so every byte the user wrote stays where it was.
package scaffold

import (
	"bytes"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// InitFiles are the files `project init` creates (dazzle's, plus the `# syntax=` line that makes
// `docker buildx build -f dazzle.yaml` use dazzlekit when frontend is given).
func InitFiles(frontend string) map[string][]byte {
	cfg := "combiner:\n  combinations: []\n"
	if frontend != "" {
		cfg = "# syntax=" + frontend + "\n" + cfg
	}
	return map[string][]byte{
		"dazzle.yaml":     []byte(cfg),
		"base/Dockerfile": []byte("FROM ubuntu:latest\n"),
	}
}

// ChunkFiles are the files `project init <chunk>` creates, as dazzle writes them.
func ChunkFiles(chunk string) map[string][]byte {
	return map[string][]byte{
		"chunks/" + chunk + "/Dockerfile": []byte("ARG base\nFROM ${base}\n\n"),
		"tests/" + chunk + ".yaml": []byte("- desc: \"it should say hello\"\n  command: [\"echo\", \"hello\"]\n  assert:\n" +
			"  - status == 0\n  - stdout.indexOf(\"hello\") != -1\n  - stderr.length == 0\n"),
	}
}

// AddCombination returns data with a combination appended to combiner.combinations.
func AddCombination(data []byte, name string, chunks []string) ([]byte, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	item := "- name: " + scalar(name) + "\n  chunks:\n"
	for _, c := range chunks {
		item += "    - " + scalar(c) + "\n"
	}
	combiner := value(root, "combiner")
	if combiner == nil {
		return appendText(data, "combiner:\n  combinations:\n"+indent(item, 4)), nil
	}
	if combiner.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("dazzle.yaml:%d: combiner is not a mapping: fix it by hand first", combiner.Line)
	}
	combs := value(combiner, "combinations")
	if combs == nil {
		col := combiner.Content[0].Column - 1
		return insertAfter(data, lastLine(combiner), indent("combinations:\n"+indent(item, 2), col)), nil
	}
	for i := 0; combs.Kind == yaml.SequenceNode && i < len(combs.Content); i++ {
		if n := value(combs.Content[i], "name"); n != nil && n.Value == name {
			return nil, fmt.Errorf("dazzle.yaml:%d: combination %s exists already", n.Line, name)
		}
	}
	return appendItem(data, combs, combiner.Content[0].Column-1, "combiner.combinations", item)
}

// AddIgnore returns data with patterns appended to the ignore list.
func AddIgnore(data []byte, patterns []string) ([]byte, error) {
	root, err := parse(data)
	if err != nil {
		return nil, err
	}
	var items string
	for _, p := range patterns {
		items += "- " + scalar(p) + "\n"
	}
	ign := value(root, "ignore")
	if ign == nil {
		return appendText(data, "ignore:\n"+indent(items, 2)), nil
	}
	return appendItem(data, ign, root.Content[0].Column-1, "ignore", items)
}

func parse(data []byte) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("dazzle.yaml: %v: fix it first", err)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode}, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("dazzle.yaml:%d: the file is not a mapping: fix it first", root.Line)
	}
	return root, nil
}

// value is the value node of key in mapping m, nil when absent.
func value(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// appendItem adds item (a block sequence entry, unindented) to seq, a sequence whose key sits at
// column keyCol (0-based). An empty flow sequence (`combinations: []`, as `dazzle project init`
// writes) becomes a block sequence.
func appendItem(data []byte, seq *yaml.Node, keyCol int, what, item string) ([]byte, error) {
	if seq.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("dazzle.yaml:%d: %s is not a list: fix it by hand first", seq.Line, what)
	}
	if seq.Style&yaml.FlowStyle == 0 && len(seq.Content) > 0 {
		// The dash sits two columns before its item's content: "- name: x".
		return insertAfter(data, lastLine(seq), indent(item, seq.Content[0].Column-3)), nil
	}
	if len(seq.Content) > 0 {
		return nil, fmt.Errorf("dazzle.yaml:%d: %s is a one-line [...] list: make it a block list (one `- ` entry a line) first", seq.Line, what)
	}
	lines := strings.SplitAfter(string(data), "\n")
	l := lines[seq.Line-1]
	at := seq.Column - 1
	if !strings.HasPrefix(l[at:], "[]") {
		return nil, fmt.Errorf("dazzle.yaml:%d: %s is an empty list spread over lines: write it as a block list first", seq.Line, what)
	}
	rest := strings.TrimRight(l[at+2:], "\n")
	lines[seq.Line-1] = strings.TrimRight(l[:at], " ") + rest + "\n" + indent(item, keyCol+2)
	return []byte(strings.Join(lines, "")), nil
}

// lastLine is the last line (1-based) any node under n starts on.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		if l := lastLine(c); l > last {
			last = l
		}
	}
	if n.Kind == yaml.ScalarNode && (n.Style&(yaml.LiteralStyle|yaml.FoldedStyle)) != 0 {
		last += strings.Count(strings.TrimRight(n.Value, "\n"), "\n") + 1
	}
	return last
}

func insertAfter(data []byte, line int, text string) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	if line > len(lines) {
		line = len(lines)
	}
	if line > 0 && !strings.HasSuffix(lines[line-1], "\n") {
		lines[line-1] += "\n"
	}
	return []byte(strings.Join(lines[:line], "") + text + strings.Join(lines[line:], ""))
}

func appendText(data []byte, text string) []byte {
	if len(data) > 0 && !bytes.HasSuffix(data, []byte("\n")) {
		data = append(append([]byte{}, data...), '\n')
	}
	return append(append([]byte{}, data...), text...)
}

func indent(s string, n int) string {
	pad := strings.Repeat(" ", n)
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = pad + l
		}
	}
	return strings.Join(lines, "")
}

// scalar renders s as a YAML scalar, quoted only when it must be.
func scalar(s string) string {
	dt, err := yaml.Marshal(s)
	if err != nil {
		return fmt.Sprintf("%q", s)
	}
	return strings.TrimSuffix(string(dt), "\n")
}
