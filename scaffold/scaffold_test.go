package scaffold

import (
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

type config struct {
	Combiner struct {
		Combinations []struct {
			Name   string   `yaml:"name"`
			Ref    []string `yaml:"ref"`
			Chunks []string `yaml:"chunks"`
		} `yaml:"combinations"`
	} `yaml:"combiner"`
	Ignore []string `yaml:"ignore"`
}

// kept reports whether every line of before is still in after, in order: edits only add lines.
func kept(before, after string) bool {
	rest := strings.Split(after, "\n")
	for _, l := range strings.Split(before, "\n") {
		i := 0
		for i < len(rest) && rest[i] != l {
			i++
		}
		if i == len(rest) {
			return false
		}
		rest = rest[i+1:]
	}
	return true
}

const compact = `# the workspace images
combiner:
  combinations:
    - name: base
      chunks:
        - tool-docker # always
    - name: go
      ref:
      - base
      chunks:
        - lang-go:1.24

  envvars:
    - name: PATH
      action: merge-unique
ignore:
- lang-java:8
`

func TestAddCombination(t *testing.T) {
	for _, tc := range []struct {
		name, in    string
		keepAll     bool // every line of the input survives unchanged
		wantIndent  string
		wantChunks  []string
		wantCombNum int
	}{
		{"compact sequences, comments, blank line", compact, true, "    - name: new\n      chunks:\n        - lang-java:17\n", []string{"lang-java:17", "tool-nix:2"}, 3},
		{"flow chunk lists", "# syntax=r/f\ncombiner:\n  combinations:\n  - name: a\n    chunks: [x]\n", true, "  - name: new\n", []string{"lang-java:17", "tool-nix:2"}, 2},
		{"dazzle project init's empty list", "combiner:\n  combinations: []\n", false, "  combinations:\n    - name: new\n", []string{"lang-java:17", "tool-nix:2"}, 1},
		{"empty list with a comment", "combiner:\n  combinations: [] # none yet\n", false, "  combinations: # none yet\n    - name: new\n", []string{"lang-java:17", "tool-nix:2"}, 1},
		{"no combinations key", "combiner:\n  envvars:\n    - name: PATH\n      action: merge\n", true, "      action: merge\n  combinations:\n    - name: new\n", []string{"lang-java:17", "tool-nix:2"}, 1},
		{"no combiner, no trailing newline", "ignore: [x]", true, "ignore: [x]\ncombiner:\n  combinations:\n    - name: new\n", []string{"lang-java:17", "tool-nix:2"}, 1},
		{"empty file", "", true, "combiner:\n  combinations:\n    - name: new\n", []string{"lang-java:17", "tool-nix:2"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := AddCombination([]byte(tc.in), "new", []string{"lang-java:17", "tool-nix:2"})
			if err != nil {
				t.Fatal(err)
			}
			if tc.keepAll && !kept(tc.in, string(out)) {
				t.Errorf("lines of the input were changed or lost:\n%s", out)
			}
			if !strings.Contains(string(out), tc.wantIndent) {
				t.Errorf("output lacks %q:\n%s", tc.wantIndent, out)
			}
			var c config
			if err := yaml.Unmarshal(out, &c); err != nil {
				t.Fatalf("output does not parse: %v\n%s", err, out)
			}
			combs := c.Combiner.Combinations
			if len(combs) != tc.wantCombNum {
				t.Fatalf("%d combinations, want %d:\n%s", len(combs), tc.wantCombNum, out)
			}
			last := combs[len(combs)-1]
			if last.Name != "new" || strings.Join(last.Chunks, ",") != strings.Join(tc.wantChunks, ",") {
				t.Errorf("added %+v", last)
			}
		})
	}
}

func TestAddCombinationKeepsOthers(t *testing.T) {
	out, err := AddCombination([]byte(compact), "new", []string{"x"})
	if err != nil {
		t.Fatal(err)
	}
	var c config
	if err := yaml.Unmarshal(out, &c); err != nil {
		t.Fatal(err)
	}
	if g := c.Combiner.Combinations[1]; g.Name != "go" || strings.Join(g.Ref, ",") != "base" || strings.Join(g.Chunks, ",") != "lang-go:1.24" {
		t.Errorf("go changed: %+v", g)
	}
	if strings.Join(c.Ignore, ",") != "lang-java:8" {
		t.Errorf("ignore changed: %v", c.Ignore)
	}
}

func TestAddCombinationErrors(t *testing.T) {
	for in, want := range map[string]string{
		compact:           "dazzle.yaml:4: combination base exists already",
		"combiner: [1]\n": "dazzle.yaml:1: combiner is not a mapping: fix it by hand first",
		"combiner:\n  combinations: [{name: a}]\n":     "dazzle.yaml:2: combiner.combinations is a one-line [...] list: make it a block list (one `- ` entry a line) first",
		"combiner:\n  combinations: x\n":               "dazzle.yaml:2: combiner.combinations is not a list: fix it by hand first",
		"combiner:\n  combinations:\n  - name: a\n  b": "dazzle.yaml: yaml: line 4: could not find expected ':': fix it first",
	} {
		name := "base"
		if _, err := AddCombination([]byte(in), name, []string{"x"}); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %s", in, err, want)
		}
	}
}

func TestAddIgnore(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"existing list", compact, "ignore:\n- lang-java:8\n- lang-java:11\n- tool-*\n"},
		{"no list", "combiner:\n  combinations: []\n", "combiner:\n  combinations: []\nignore:\n  - lang-java:11\n  - tool-*\n"},
		{"empty flow list", "ignore: []\n", "ignore:\n  - lang-java:11\n  - tool-*\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := AddIgnore([]byte(tc.in), []string{"lang-java:11", "tool-*"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(string(out), tc.want) {
				t.Errorf("got:\n%s\nwant it to end with:\n%s", out, tc.want)
			}
		})
	}
}
