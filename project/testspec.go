package project

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"gopkg.in/yaml.v3"
)

// TestSpecSchema is the JSON Schema (draft 2020-12) of a tests/<folder>.yaml file, for editors.
//
//go:embed testspec.schema.json
var TestSpecSchema []byte

// Test is one entry of tests/<folder>.yaml (a YAML list of these). The yaml tags are the
// file's field names; testspec.schema.json is checked against them.
type Test struct {
	Desc       string   `yaml:"desc"`
	Command    []string `yaml:"command"`
	Entrypoint []string `yaml:"entrypoint"`
	Env        []string `yaml:"env"`
	User       string   `yaml:"user"` // number or name, as written ("1000")
	Skip       bool     `yaml:"skip"`
	Assert     []string `yaml:"assert"`
	Network    bool     `yaml:"network"` // our extension: false runs the test without network (default true, as dazzle)
	Timeout    string   `yaml:"timeout"` // our extension: Go duration; "" = the frontend's default

	File        string `yaml:"-"` // "tests/node.yaml"
	Line        int    `yaml:"-"` // line of the list item
	AssertLines []int  `yaml:"-"` // line of each assertion
}

// testFields are the keys a test may have, taken from Test's yaml tags so the parser, the
// struct and the schema cannot disagree.
var testFields = func() []string {
	var out []string
	t := reflect.TypeFor[Test]()
	for i := 0; i < t.NumField(); i++ {
		if tag := strings.Split(t.Field(i).Tag.Get("yaml"), ",")[0]; tag != "" && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}()

func (l *loader) loadTests(skipped []string) error {
	entries, err := fs.ReadDir(l.fsys, "tests")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	} else if err != nil {
		return &Error{File: "tests", Msg: fmt.Sprintf("cannot read the tests folder: %v", err)}
	}
	byFolder := map[string]string{}
	for _, e := range entries {
		name := e.Name()
		ext := path.Ext(name)
		if e.IsDir() || strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		folder := strings.TrimSuffix(name, ext)
		file := path.Join("tests", name)
		if prev, ok := byFolder[folder]; ok {
			return &Error{File: file, Msg: fmt.Sprintf("both %s and %s hold tests for %q; merge them into one file", prev, file, folder)}
		}
		byFolder[folder] = file
		if folder != "base" && !contains(l.folders, folder) {
			if contains(skipped, folder) {
				continue // the tests of a disabled chunk folder are disabled with it
			}
			// dazzle only reads the tests of chunk folders that exist, so projects carry such
			// files (gitpod's workspace-images has tests/lang-php.yaml) and must still build.
			data, err := l.read(file)
			if err != nil {
				return err
			}
			l.warn(diag.Warning{Rule: "TestsWithoutChunk", File: file, Line: 1, Data: data, Lang: "YAML", Msg: fmt.Sprintf(
				"there is no chunk folder chunks/%s/, so these tests never run (dazzle ignores them too); tests/<name>.yaml holds the tests of chunks/<name>/: rename the file after its chunk folder, or remove it",
				folder)})
			continue
		}
		data, err := l.read(file)
		if err != nil {
			return err
		}
		tests, err := parseTests(&yfile{name: file, data: data})
		if err != nil {
			return err
		}
		if ext == ".yml" && folder != "base" && len(tests) > 0 {
			l.warn(diag.Warning{Rule: "TestsNotRunByDazzle", File: file, Line: 1, Data: data, Lang: "YAML", Msg: fmt.Sprintf(
				"dazzle reads only tests/%s.yaml, so it never ran these tests; dazzlekit runs them: rename the file to tests/%s.yaml to say so", folder, folder)})
		}
		for _, t := range tests {
			if len(t.Assert) == 0 && !t.Skip && folder != "base" { // the base's tests never run

				l.warn(diag.Warning{Rule: "TestWithoutAssert", File: file, Line: t.Line, Data: data, Lang: "YAML", Msg: fmt.Sprintf(
					"%s has no assert:, so it passes whatever its command does (as in dazzle); add e.g. assert: [status == 0]",
					testName(t))})
			}
		}
		l.p.Tests[folder] = tests
	}
	return nil
}

func testName(t Test) string {
	if t.Desc == "" {
		return "this test"
	}
	return fmt.Sprintf("test %q", t.Desc)
}

func parseTests(f *yfile) ([]Test, error) {
	root, err := f.root()
	if err != nil || root == nil {
		return nil, err
	}
	if root.Kind != yaml.SequenceNode {
		return nil, f.errf(root, "%s must be a list of tests, e.g.\n- desc: \"it runs\"\n  command: [node, --version]\n  assert: [status == 0]\ngot %s", f.name, kindName(root))
	}
	out := make([]Test, 0, len(root.Content))
	for i, item := range root.Content {
		t, err := parseTest(f, item, i)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func parseTest(f *yfile, item *yaml.Node, i int) (Test, error) {
	// Network on unless the test turns it off: dazzle runs every test with the network.
	t := Test{File: f.name, Line: item.Line, Network: true}
	what := fmt.Sprintf("test #%d", i+1)
	fields, err := f.fields(item, what, testFields)
	if err != nil {
		return t, err
	}
	if isNull(item) {
		return t, f.errf(item, "%s is empty; give it desc:, command: and assert:", what)
	}
	for _, fl := range fields {
		if fl.key == "desc" {
			if t.Desc, err = f.str(fl.val, what+" desc"); err != nil {
				return t, err
			}
			if t.Desc != "" {
				what = fmt.Sprintf("test %q", t.Desc)
			}
		}
	}
	var timeoutNode *yaml.Node
	var envLines []int
	for _, fl := range fields {
		switch fl.key {
		case "command":
			t.Command, _, err = f.list(fl.val, "command of "+what, `command: ["node --version"]`)
		case "entrypoint":
			t.Entrypoint, _, err = f.list(fl.val, "entrypoint of "+what, "entrypoint: [bash, -i, -c]")
		case "env":
			t.Env, envLines, err = f.list(fl.val, "env of "+what, `env: ["MESSAGE=foobar"]`)
		case "user":
			t.User, err = f.str(fl.val, "user of "+what)
		case "skip":
			t.Skip, err = f.boolean(fl.val, "skip of "+what)
		case "network":
			t.Network, err = f.boolean(fl.val, "network of "+what)
		case "timeout":
			t.Timeout, err = f.str(fl.val, "timeout of "+what)
			timeoutNode = fl.val
		case "assert":
			t.Assert, t.AssertLines, err = f.list(fl.val, "assert of "+what, "assert: [status == 0]")
		}
		if err != nil {
			return t, err
		}
	}
	// dazzle runs entrypoint + command, so an entrypoint alone is a complete command line.
	if len(t.Command) == 0 && len(t.Entrypoint) == 0 && !t.Skip {
		return t, f.errf(item, "%s has no command; add command: [...] (the command to run in the image), or skip: true", what)
	}
	for k, a := range t.Assert {
		if strings.TrimSpace(a) == "" {
			return t, f.errf(&yaml.Node{Line: lineAt(t.AssertLines, k, t.Line)}, "assertion #%d of %s is empty; write a JavaScript expression such as status == 0, or remove it", k+1, what)
		}
	}
	for k, e := range t.Env {
		if name, _, ok := strings.Cut(e, "="); !ok || strings.TrimSpace(name) == "" {
			return t, f.errf(&yaml.Node{Line: lineAt(envLines, k, t.Line)}, "env entry %q of %s must have the form NAME=value", e, what)
		}
	}
	if t.Timeout != "" {
		if _, err := ParseTestTimeout(t.Timeout); err != nil {
			return t, f.errf(timeoutNode, "timeout %q of %s %s", t.Timeout, what, err)
		}
	}
	return t, nil
}

// DefaultTestTimeout is how long one test command may run unless the build or the test says
// otherwise: dazzle's limit.
const DefaultTestTimeout = 5 * time.Minute

// ParseTestTimeout reads a test time limit, the test's `timeout:` or the build's default: a
// positive Go duration. The error completes a sentence about the value.
func ParseTestTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errors.New("is not a duration; write it like 30s, 5m or 1m30s")
	}
	if d <= 0 {
		return 0, errors.New("must be more than zero")
	}
	return d, nil
}

// TimeLimit is how long t's command may run: its own timeout, else def (the build's default).
func (t Test) TimeLimit(def time.Duration) time.Duration {
	if d, err := ParseTestTimeout(t.Timeout); err == nil {
		return d // validated when the project was loaded
	}
	return def
}
