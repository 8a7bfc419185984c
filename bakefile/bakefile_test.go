package bakefile

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dazzlekit/dazzlekit/project"
)

func load(t *testing.T, config string) *project.Project {
	t.Helper()
	fsys := fstest.MapFS{
		"base/Dockerfile":          {Data: []byte("FROM scratch\n")},
		"chunks/go/Dockerfile":     {Data: []byte("ARG base\nFROM ${base}\n")},
		"chunks/python/chunk.yaml": {Data: []byte("variants:\n  - name: \"3.13\"\n    args: {V: \"3.13\"}\n")},
		"chunks/python/Dockerfile": {Data: []byte("ARG base\nFROM ${base}\n")},
	}
	p, err := project.Load(fsys, "dazzle.yaml", []byte(config))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

const combos = `combiner:
  combinations:
    - name: go
      chunks: [go]
    - name: python-3.13
      ref: [go]
      chunks: ["python:3.13"]
`

func TestGenerate(t *testing.T) {
	for _, tc := range []struct {
		name, config, frontend string
		wantSyntaxArg          bool
	}{
		{"syntax line in the file", "# syntax=r/dazzlekit\n" + combos, "r/dazzlekit", false},
		{"no syntax line: BUILDKIT_SYNTAX", combos, "r/dazzlekit", true},
		{"no syntax line, no frontend", combos, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Generate(load(t, tc.config), Options{Registry: "localhost:5000/ws", Frontend: tc.frontend})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(d.Group["default"].Targets, ","); got != "go,python-3_13" {
				t.Errorf("default group %q", got)
			}
			if d.Variable["REGISTRY"].Default != "localhost:5000/ws" {
				t.Errorf("REGISTRY default %q", d.Variable["REGISTRY"].Default)
			}
			py := d.Target["python-3_13"]
			if py.Target != "python-3.13" || py.Tags[0] != "${REGISTRY}:python-3.13" || py.Dockerfile != "dazzle.yaml" || py.Context != "." {
				t.Errorf("python target %+v", py)
			}
			if py.Description != "combination python-3.13: go, python:3.13" {
				t.Errorf("description %q", py.Description)
			}
			if got := py.Args["BUILDKIT_SYNTAX"] == tc.frontend && tc.frontend != ""; got != tc.wantSyntaxArg {
				t.Errorf("BUILDKIT_SYNTAX in args: %v, want %v (%v)", got, tc.wantSyntaxArg, py.Args)
			}
		})
	}
}

func TestGenerateErrors(t *testing.T) {
	clash := "combiner:\n  combinations:\n    - name: a.b\n      chunks: [go]\n    - name: a_b\n      chunks: [go]\n"
	if _, err := Generate(load(t, clash), Options{Registry: "r"}); err == nil || err.Error() != `dazzle.yaml:5: combinations "a.b" and "a_b" both become bake target "a_b": rename one` {
		t.Errorf("clash: %v", err)
	}
	if _, err := Generate(load(t, combos), Options{}); err == nil || !strings.Contains(err.Error(), "--registry") {
		t.Errorf("no registry: %v", err)
	}
}
