package project

import (
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dazzlekit/dazzlekit/merge"
)

const realisticConfig = `# a realistic project
combiner:
  combinations:
    - name: minimal
      chunks: [golang]
    - name: web
      ref: [minimal]
      chunks: [node, golang]
    - name: full
      ref: [web, minimal]
      chunks: ["lang-java:17", tool, "lang-java:11"]
  envvars:
    - name: PATH
      action: merge-unique
    - name: HOME
      action: use-last
    - name: JAVA_HOME
ignore: ["lang-java:11"]
`

// realistic returns a fresh copy of a project in the shape real dazzle projects have.
func realistic() fstest.MapFS {
	return fstest.MapFS{
		"dazzle.yaml":                    {Data: []byte(realisticConfig)},
		"base/Dockerfile":                {Data: []byte("FROM ubuntu:22.04\n")},
		"base/Dockerfile.ci":             {Data: []byte("ARG DISTRO\nFROM ${DISTRO}\n")},
		"base/chunk.yaml":                {Data: []byte("variants:\n  - name: ci\n    args: { DISTRO: \"ubuntu:24.04\" }\n    dockerfile: Dockerfile.ci\n")},
		"chunks/golang/Dockerfile":       {Data: []byte("ARG base\nFROM ${base}\nRUN go\n")},
		"chunks/node/Dockerfile":         {Data: []byte("ARG base\nFROM ${base}\nRUN node\n")},
		"chunks/tool/Dockerfile":         {Data: []byte("ARG base\nFROM ${base}\nRUN tool\n")},
		"chunks/tool/tool.sh":            {Data: []byte("#!/bin/sh\n")},
		"chunks/lang-java/Dockerfile":    {Data: []byte("ARG base\nFROM ${base}\nARG JAVA_VERSION\n")},
		"chunks/lang-java/Dockerfile.17": {Data: []byte("ARG base\nFROM ${base}\n# 17\n")},
		"chunks/lang-java/chunk.yaml": {Data: []byte(`variants:
  - name: "11"
    args:
      JAVA_VERSION: 11.0.16
  - name: "17"
    args: { JAVA_VERSION: 17.0.4, GRADLE: 7.5 }
    dockerfile: Dockerfile.17
`)},
		"chunks/_old/Dockerfile": {Data: []byte("broken")},
		"chunks/.git/config":     {Data: []byte("x")},
		"chunks/README.md":       {Data: []byte("notes")},
		"tests/_old.yaml":        {Data: []byte("not even: [valid")},
		"tests/README.md":        {Data: []byte("notes")},
		"tests/base.yaml":        {Data: []byte("- desc: base works\n  command: [true]\n")},
		"tests/lang-java.yml":    {Data: []byte("- desc: java\n  command: [java, -version]\n  assert: [status == 0]\n")},
		"tests/node.yaml": {Data: []byte(`- desc: "it should run node"
  command: ["node --version"]
  entrypoint: [bash, -i, -c]
  user: 1000
  env: ["MESSAGE=foo=bar"]
  network: false
  timeout: 30s
  assert:
    - status == 0
    - |
      stdout.indexOf("v18") != -1 ||
      stdout.indexOf("v20") != -1
- desc: skipped
  skip: true
`)},
	}
}

func load(t *testing.T, fsys fstest.MapFS) (*Project, error) {
	t.Helper()
	f, ok := fsys["dazzle.yaml"]
	var data []byte
	if ok {
		data = f.Data
	}
	return Load(fsys, "dazzle.yaml", data)
}

func mustLoad(t *testing.T, fsys fstest.MapFS) *Project {
	t.Helper()
	p, err := load(t, fsys)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return p
}

func names(cs []Chunk) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.Name)
	}
	return out
}

func TestLoadRealistic(t *testing.T) {
	p := mustLoad(t, realistic())

	if got, want := names(p.Chunks), []string{"golang", "lang-java:17", "node", "tool"}; !reflect.DeepEqual(got, want) {
		t.Errorf("chunks = %v, want %v", got, want)
	}
	if !reflect.DeepEqual(p.Ignored, []string{"lang-java:11"}) {
		t.Errorf("ignored = %v", p.Ignored)
	}
	wantBase := Chunk{Name: "base", Folder: "base", Variant: "ci", Dir: "base", Dockerfile: "base/Dockerfile.ci",
		DockerfileData: []byte("ARG DISTRO\nFROM ${DISTRO}\n"), Args: map[string]string{"DISTRO": "ubuntu:24.04"}}
	if !reflect.DeepEqual(p.Base, wantBase) {
		t.Errorf("base = %+v, want %+v", p.Base, wantBase)
	}
	java, err := p.Chunk("lang-java:17")
	if err != nil {
		t.Fatal(err)
	}
	wantJava := Chunk{Name: "lang-java:17", Folder: "lang-java", Variant: "17", Dir: "chunks/lang-java",
		Dockerfile: "chunks/lang-java/Dockerfile.17", DockerfileData: []byte("ARG base\nFROM ${base}\n# 17\n"),
		Args: map[string]string{"JAVA_VERSION": "17.0.4", "GRADLE": "7.5"}}
	if !reflect.DeepEqual(java, wantJava) {
		t.Errorf("lang-java:17 = %+v, want %+v", java, wantJava)
	}
	node, _ := p.Chunk("node")
	if node.Dockerfile != "chunks/node/Dockerfile" || node.Args != nil || node.Variant != "" || node.Dir != "chunks/node" {
		t.Errorf("node = %+v", node)
	}

	wantEnv := []EnvVar{{"PATH", "merge-unique", 13}, {"HOME", "use-last", 15}, {"JAVA_HOME", "use-first", 17}}
	if !reflect.DeepEqual(p.Config.EnvVars, wantEnv) {
		t.Errorf("envvars = %+v, want %+v", p.Config.EnvVars, wantEnv)
	}
	full := p.Config.Combinations[2]
	if full.Name != "full" || full.Line != 9 || !reflect.DeepEqual(full.Ref, []string{"web", "minimal"}) ||
		!reflect.DeepEqual(full.ChunkLines, []int{11, 11, 11}) {
		t.Errorf("full = %+v", full)
	}

	wantNode := []Test{
		{Desc: "it should run node", Command: []string{"node --version"}, Entrypoint: []string{"bash", "-i", "-c"},
			Env: []string{"MESSAGE=foo=bar"}, User: "1000", Network: false, Timeout: "30s",
			Assert: []string{"status == 0", "stdout.indexOf(\"v18\") != -1 ||\nstdout.indexOf(\"v20\") != -1\n"},
			File:   "tests/node.yaml", Line: 1, AssertLines: []int{9, 10}},
		{Desc: "skipped", Skip: true, Network: true, File: "tests/node.yaml", Line: 13}, // network by default, as dazzle
	}
	if !reflect.DeepEqual(p.Tests["node"], wantNode) {
		t.Errorf("node tests =\n%+v\nwant\n%+v", p.Tests["node"], wantNode)
	}
	if got := p.Tests["lang-java"]; len(got) != 1 || got[0].File != "tests/lang-java.yml" {
		t.Errorf("lang-java tests = %+v", got)
	}
	if got := p.Tests["base"]; len(got) != 1 || got[0].Command[0] != "true" {
		t.Errorf("base tests = %+v", got)
	}
	if _, ok := p.Tests["_old"]; ok {
		t.Error("tests of a disabled folder were loaded")
	}
	for _, f := range []string{"dazzle.yaml", "base/chunk.yaml", "base/Dockerfile.ci", "chunks/lang-java/chunk.yaml",
		"chunks/lang-java/Dockerfile", "chunks/lang-java/Dockerfile.17", "chunks/node/Dockerfile", "tests/node.yaml"} {
		if _, ok := p.Files[f]; !ok {
			t.Errorf("Files lacks %s", f)
		}
	}
	if _, ok := p.Files["chunks/_old/Dockerfile"]; ok {
		t.Error("read a file of a skipped folder")
	}
}

func TestCombinations(t *testing.T) {
	p := mustLoad(t, realistic())
	for _, tc := range []struct {
		name string
		want []string
		err  string
	}{
		{name: "minimal", want: []string{"golang"}},
		{name: "web", want: []string{"golang", "node"}},
		// transitive through web, deduplicated, sorted, lang-java:11 ignored
		{name: "full", want: []string{"golang", "lang-java:17", "node", "tool"}},
		{name: "nope", err: `unknown combination "nope"; combinations are: full, minimal, web`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Combination(tc.name)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("got %v, want %v", names(got), tc.want)
			}
		})
	}

	empty := realistic()
	empty["dazzle.yaml"] = &fstest.MapFile{Data: nil}
	p = mustLoad(t, empty)
	if _, err := p.Combination("x"); err == nil || err.Error() != `unknown combination "x": dazzle.yaml defines no combinations (combiner.combinations)` {
		t.Errorf("err = %v", err)
	}
	if len(p.Chunks) != 5 || len(p.Ignored) != 0 {
		t.Errorf("empty config: chunks %v ignored %v", names(p.Chunks), p.Ignored)
	}
}

// Combinations of the same chunks build the same image, however they name them.
func TestSameImageAs(t *testing.T) {
	files := realistic()
	files["dazzle.yaml"] = &fstest.MapFile{Data: []byte(`combiner:
  combinations:
    - name: go
      chunks: [golang]
    - name: go-again
      ref: [go]
    - name: web
      chunks: [node, golang]
    - name: web-sorted
      chunks: [golang, node]
    - name: full
      ref: [web]
      chunks: [tool]
`)}
	p := mustLoad(t, files)
	for name, want := range map[string]string{
		"go": "go", "go-again": "go", "web": "web", "web-sorted": "web", "full": "full", "nope": "nope",
	} {
		if got := p.SameImageAs(name); got != want {
			t.Errorf("SameImageAs(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSelectAndChunk(t *testing.T) {
	p := mustLoad(t, realistic())
	for _, tc := range []struct {
		in   []string
		want []string
		err  string
	}{
		{in: []string{"tool", "node", " tool", ""}, want: []string{"node", "tool"}},
		{in: []string{"lang-java:17"}, want: []string{"lang-java:17"}},
		{in: []string{"lang-java"}, err: `chunk folder "lang-java" has variants, so name one of them: lang-java:11, lang-java:17`},
		{in: []string{"nod"}, err: `unknown chunk "nod"; chunks are: golang, lang-java:17, node, tool`},
		{in: []string{"lang-java:11"}, err: `chunk "lang-java:11" is ignored by the pattern "lang-java:11" in dazzle.yaml; remove it from ignore: to use it`},
		{in: []string{"node:1"}, err: `unknown chunk "node:1"; chunks are: golang, lang-java:17, node, tool`},
		{in: nil, err: `no chunks selected; name one or more of: golang, lang-java:17, node, tool`},
	} {
		t.Run(strings.Join(tc.in, ","), func(t *testing.T) {
			got, err := p.Select(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if !reflect.DeepEqual(names(got), tc.want) {
				t.Errorf("got %v, want %v", names(got), tc.want)
			}
			if len(tc.in) == 1 {
				c, err := p.Chunk(tc.in[0])
				if (err != nil) != (tc.err != "") || (err != nil && err.Error() != tc.err) || (err == nil && c.Name != tc.want[0]) {
					t.Errorf("Chunk(%q) = %v, %v", tc.in[0], c.Name, err)
				}
			}
		})
	}
}

func TestIgnore(t *testing.T) {
	for _, tc := range []struct {
		patterns string
		chunks   []string
	}{
		{`["lang-java:*"]`, []string{"golang", "node", "tool"}},
		{`["lang-java*", "!lang-java:17"]`, []string{"golang", "lang-java:17", "node", "tool"}},
		// a folder name alone matches only a chunk of that exact name, as with dazzle's gitignore matcher
		{`["lang-java"]`, []string{"golang", "lang-java:11", "lang-java:17", "node", "tool"}},
		{`["/node", "# a comment", "", "t??l"]`, []string{"golang", "lang-java:11", "lang-java:17"}},
		{`["*", "!golang"]`, []string{"golang"}},
		{`["lang-java:1[1]"]`, []string{"golang", "lang-java:17", "node", "tool"}},
	} {
		t.Run(tc.patterns, func(t *testing.T) {
			fsys := realistic()
			fsys["dazzle.yaml"] = &fstest.MapFile{Data: []byte("ignore: " + tc.patterns + "\n")}
			p := mustLoad(t, fsys)
			if got := names(p.Chunks); !reflect.DeepEqual(got, tc.chunks) {
				t.Errorf("chunks = %v, want %v", got, tc.chunks)
			}
		})
	}
}

// TestLoadErrors checks the exact message and position of each kind of mistake.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  map[string]string // path -> new content; "<delete>" removes the file
		want  string
		line  int
		hasDt bool
	}{
		{
			name: "unknown top-level field",
			edit: map[string]string{"dazzle.yaml": "combiner: {}\nchunkz: [a]\n"},
			want: `dazzle.yaml:2: unknown field "chunkz" in dazzle.yaml (known: combiner, ignore)`, line: 2, hasDt: true,
		},
		{
			name: "unknown combination field",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n      chunk: [node]\n"},
			want: `dazzle.yaml:4: unknown field "chunk" in combination #1 (known: name, ref, chunks)`, line: 4, hasDt: true,
		},
		{
			name: "unknown combiner field",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combination: []\n"},
			want: `dazzle.yaml:2: unknown field "combination" in combiner (known: combinations, envvars)`, line: 2, hasDt: true,
		},
		{
			name: "malformed yaml",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n   chunks: [\n"},
			want: `dazzle.yaml:4: invalid YAML: did not find expected key`, line: 4, hasDt: true,
		},
		{
			name: "tab indentation",
			edit: map[string]string{"dazzle.yaml": "combiner:\n\tcombinations: []\n"},
			want: `dazzle.yaml:2: invalid YAML: found character that cannot start any token`, line: 2, hasDt: true,
		},
		{
			name: "second document",
			edit: map[string]string{"dazzle.yaml": "ignore: []\n---\nignore: [x]\n"},
			want: "dazzle.yaml:3: a second YAML document starts here (after `---`); dazzle.yaml must hold a single document, so remove the `---` separator", line: 3, hasDt: true,
		},
		{
			name: "config is a list",
			edit: map[string]string{"dazzle.yaml": "- a\n"},
			want: `dazzle.yaml:1: dazzle.yaml must be a mapping with the keys combiner: and ignore:, not a list`, line: 1, hasDt: true,
		},
		{
			name: "duplicate key",
			edit: map[string]string{"dazzle.yaml": "ignore: []\nignore: [x]\n"},
			want: `dazzle.yaml:2: field "ignore" is set twice in dazzle.yaml (also on line 1); keep one`, line: 2, hasDt: true,
		},
		{
			name: "bad envvar action",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  envvars:\n    - name: PATH\n      action: merge_unique\n"},
			want: `dazzle.yaml:4: envvar "PATH" has unknown action "merge_unique"; use one of: use-first, use-last, merge, merge-unique`, line: 4, hasDt: true,
		},
		{
			name: "duplicate envvar",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  envvars:\n    - name: PATH\n    - {name: PATH, action: merge}\n"},
			want: `dazzle.yaml:4: envvar "PATH" is listed twice (also on line 3); keep one rule per variable`, line: 4, hasDt: true,
		},
		{
			name: "envvar without name",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  envvars:\n    - action: merge\n"},
			want: `dazzle.yaml:3: envvars entry #1 has no name; add name: <VARIABLE>`, line: 3, hasDt: true,
		},
		{
			name: "unknown chunk",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: full\n      chunks:\n        - node\n        - nod\n"},
			want: `dazzle.yaml:6: combination "full" refers to unknown chunk "nod"; chunks are: golang, lang-java:11, lang-java:17, node, tool`, line: 6, hasDt: true,
		},
		{
			name: "folder with variants in a combination",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: full\n      chunks: [lang-java]\n"},
			want: `dazzle.yaml:4: combination "full" refers to chunk folder "lang-java", which has variants; name one of: lang-java:11, lang-java:17`, line: 4, hasDt: true,
		},
		{
			name: "unknown ref",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: minimal\n    - name: full\n      ref:\n        - minmal\n"},
			want: `dazzle.yaml:6: combination "full" refers to unknown combination "minmal" in ref; combinations are: full, minimal`, line: 6, hasDt: true,
		},
		{
			name: "ref cycle",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n      ref: [b]\n    - name: b\n      ref: [c]\n    - name: c\n      ref: [a]\n"},
			want: `dazzle.yaml:4: ref cycle: a -> b -> c -> a; a combination cannot include itself, so remove one of these refs`, line: 4, hasDt: true,
		},
		{
			name: "self ref",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: ok\n    - name: a\n      ref: [ok, a]\n"},
			want: `dazzle.yaml:5: ref cycle: a -> a; a combination cannot include itself, so remove one of these refs`, line: 5, hasDt: true,
		},
		{
			name: "duplicate combination",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n    - name: a\n"},
			want: `dazzle.yaml:4: combination "a" is defined twice (also on line 3); combination names must be unique`, line: 4, hasDt: true,
		},
		{
			name: "combination without name",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - chunks: [node]\n"},
			want: `dazzle.yaml:3: combination #1 has no name; add name: <name>`, line: 3, hasDt: true,
		},
		{
			name: "chunks not a list",
			edit: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n      chunks: node\n"},
			want: `dazzle.yaml:4: chunks of combination "a" must be a list, e.g. chunks: [node, "lang-java:17"]; got "node"`, line: 4, hasDt: true,
		},
		{
			name: "invalid ignore pattern",
			edit: map[string]string{"dazzle.yaml": "ignore:\n  - ok\n  - \"[\"\n"},
			want: `dazzle.yaml:3: ignore pattern "[" is invalid (syntax error in pattern); patterns are gitignore-style, e.g. "lang-java:*"`, line: 3, hasDt: true,
		},
		{
			name: "missing base",
			edit: map[string]string{"base/Dockerfile": "<delete>", "base/Dockerfile.ci": "<delete>", "base/chunk.yaml": "<delete>"},
			want: `base/: no Dockerfile; there is no such folder; a dazzle project needs its base image's Dockerfile at base/Dockerfile`,
		},
		{
			name: "base with two variants",
			edit: map[string]string{"base/chunk.yaml": "variants:\n  - name: a\n  - name: b\n"},
			want: `base/chunk.yaml:1: base/chunk.yaml must define exactly one variant, but it defines 2; the base is a single image, so keep one variant (its args and dockerfile apply to the base)`, line: 1, hasDt: true,
		},
		{
			name: "base with no variants",
			edit: map[string]string{"base/chunk.yaml": ""},
			want: `base/chunk.yaml: base/chunk.yaml must define exactly one variant, but it defines 0; the base is a single image, so keep one variant (its args and dockerfile apply to the base)`, hasDt: true,
		},
		{
			name: "base variant dockerfile missing",
			edit: map[string]string{"base/Dockerfile.ci": "<delete>"},
			want: `base/chunk.yaml:4: dockerfile of variant "ci" is base/Dockerfile.ci, which does not exist; add it or fix the path (it is relative to base/)`, line: 4, hasDt: true,
		},
		{
			name: "chunk Dockerfile missing",
			edit: map[string]string{"chunks/node/Dockerfile": "<delete>", "chunks/node/package.json": "{}"},
			want: `chunks/node/: no Dockerfile; found "package.json"; every chunk folder needs one: add chunks/node/Dockerfile, or rename the folder to chunks/_node so it is skipped`,
		},
		{
			name: "chunk Dockerfile named in lower case",
			edit: map[string]string{"chunks/node/Dockerfile": "<delete>", "chunks/node/dockerfile": "FROM x"},
			want: `chunks/node/: no Dockerfile; found "dockerfile" (names are case-sensitive: rename it to Dockerfile); every chunk folder needs one: add chunks/node/Dockerfile, or rename the folder to chunks/_node so it is skipped`,
		},
		{
			name: "base Dockerfile named in lower case",
			edit: map[string]string{"base/chunk.yaml": "<delete>", "base/Dockerfile": "<delete>", "base/Dockerfile.ci": "<delete>", "base/DOCKERFILE": "FROM x"},
			want: `base/: no Dockerfile; found "DOCKERFILE" (names are case-sensitive: rename it to Dockerfile); a dazzle project needs its base image's Dockerfile at base/Dockerfile`,
		},
		{
			name: "empty chunk folder",
			edit: map[string]string{"chunks/empty": "<dir>"},
			want: `chunks/empty/: no Dockerfile; the folder is empty; every chunk folder needs one: add chunks/empty/Dockerfile, or rename the folder to chunks/_empty so it is skipped`,
		},
		{
			name: "chunk folder with many files and no Dockerfile",
			edit: map[string]string{"chunks/lots/a": "", "chunks/lots/b": "", "chunks/lots/c": "", "chunks/lots/d": "", "chunks/lots/e": "",
				"chunks/lots/f": "", "chunks/lots/g": "", "chunks/lots/h/x": "", "chunks/lots/i": "", "chunks/lots/j": ""},
			want: `chunks/lots/: no Dockerfile; found "a", "b", "c", "d", "e", "f", "g", "h/" and 2 more; every chunk folder needs one: add chunks/lots/Dockerfile, or rename the folder to chunks/_lots so it is skipped`,
		},
		{
			name: "variant default Dockerfile missing",
			edit: map[string]string{"chunks/lang-java/Dockerfile": "<delete>"},
			want: `chunks/lang-java/chunk.yaml:2: variant "11" builds chunks/lang-java/Dockerfile, which does not exist; add it, or point the variant at its Dockerfile with dockerfile: <file in chunks/lang-java/>`, line: 2, hasDt: true,
		},
		{
			name: "variant dockerfile outside the folder",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a\n    dockerfile: ../node/Dockerfile\n"},
			want: `chunks/lang-java/chunk.yaml:3: dockerfile "../node/Dockerfile" of variant "a" must be a relative path inside chunks/lang-java/, e.g. dockerfile: Dockerfile.alt`, line: 3, hasDt: true,
		},
		{
			name: "variant dockerfile absolute",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a\n    dockerfile: /Dockerfile\n"},
			want: `chunks/lang-java/chunk.yaml:3: dockerfile "/Dockerfile" of variant "a" must be a relative path inside chunks/lang-java/, e.g. dockerfile: Dockerfile.alt`, line: 3, hasDt: true,
		},
		{
			name: "variant dockerfile is a directory",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a\n    dockerfile: sub\n", "chunks/lang-java/sub/x": ""},
			want: `chunks/lang-java/sub: is a directory, but a file was expected here`,
		},
		{
			name: "duplicate variant",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: \"17\"\n  - name: 17\n"},
			want: `chunks/lang-java/chunk.yaml:3: variant "17" is defined twice (also on line 2); variant names must be unique`, line: 3, hasDt: true,
		},
		{
			name: "variant without name",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - args: {A: b}\n"},
			want: `chunks/lang-java/chunk.yaml:2: variant #1 has no name; add name: <variant>, which makes the chunk "lang-java:<variant>"`, line: 2, hasDt: true,
		},
		{
			name: "variant name with colon",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a:b\n"},
			want: `chunks/lang-java/chunk.yaml:2: variant name "a:b" cannot be used: it must not contain "/", "\", ":", ",", spaces or control characters`, line: 2, hasDt: true,
		},
		{
			name: "variant name with slash",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a/b\n"},
			want: `chunks/lang-java/chunk.yaml:2: variant name "a/b" cannot be used: it must not contain "/", "\", ":", ",", spaces or control characters`, line: 2, hasDt: true,
		},
		{
			name: "unknown variant field",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a\n    arg: {A: b}\n"},
			want: `chunks/lang-java/chunk.yaml:3: unknown field "arg" in variant #1 (known: name, args, dockerfile)`, line: 3, hasDt: true,
		},
		{
			name: "args not a mapping",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "variants:\n  - name: a\n    args: [A=b]\n"},
			want: `chunks/lang-java/chunk.yaml:3: args of variant "a" must be a mapping of names to values, e.g. { VERSION: "1.2" }; got a list`, line: 3, hasDt: true,
		},
		{
			name: "empty chunk.yaml",
			edit: map[string]string{"chunks/lang-java/chunk.yaml": "# nothing\n"},
			want: `chunks/lang-java/chunk.yaml: chunks/lang-java/chunk.yaml defines no variants; add variants: with at least one entry, or delete chunks/lang-java/chunk.yaml to build chunks/lang-java/Dockerfile as the chunk "lang-java"`, hasDt: true,
		},
		{
			name: "chunk.yaml and chunk.yml",
			edit: map[string]string{"chunks/lang-java/chunk.yml": "variants: []\n"},
			want: `chunks/lang-java/chunk.yml: both chunks/lang-java/chunk.yaml and chunks/lang-java/chunk.yml exist; keep only one of them`,
		},
		{
			name: "bad folder name",
			edit: map[string]string{"chunks/lang java/Dockerfile": "FROM x"},
			want: `chunks/lang java: chunk folder name "lang java" cannot be used: chunk names must not contain "/", "\", ":", ",", spaces or control characters; rename the folder`,
		},
		{
			name: "folder name with colon",
			edit: map[string]string{"chunks/a:b/Dockerfile": "FROM x"},
			want: `chunks/a:b: chunk folder name "a:b" cannot be used: chunk names must not contain "/", "\", ":", ",", spaces or control characters; rename the folder`,
		},
		{
			name: "tests yaml and yml",
			edit: map[string]string{"tests/node.yml": "[]\n"},
			want: `tests/node.yml: both tests/node.yaml and tests/node.yml hold tests for "node"; merge them into one file`,
		},
		{
			name: "unknown test field",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a]\n- desc: b\n  command: [b]\n  asserts: [status == 0]\n"},
			want: `tests/node.yaml:5: unknown field "asserts" in test #2 (known: desc, command, entrypoint, env, user, skip, assert, network, timeout)`, line: 5, hasDt: true,
		},
		{
			name: "tests not a list",
			edit: map[string]string{"tests/node.yaml": "desc: a\n"},
			want: "tests/node.yaml:1: tests/node.yaml must be a list of tests, e.g.\n- desc: \"it runs\"\n  command: [node, --version]\n  assert: [status == 0]\ngot a mapping", line: 1, hasDt: true,
		},
		{
			name: "test without command",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  assert: [status == 0]\n"},
			want: `tests/node.yaml:1: test "a" has no command; add command: [...] (the command to run in the image), or skip: true`, line: 1, hasDt: true,
		},
		{
			name: "command as a string",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: node --version\n"},
			want: `tests/node.yaml:2: command of test "a" must be a list, e.g. command: ["node --version"]; got "node --version"`, line: 2, hasDt: true,
		},
		{
			name: "empty assertion",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a]\n  assert:\n    - status == 0\n    - \"\"\n"},
			want: `tests/node.yaml:5: assertion #2 of test "a" is empty; write a JavaScript expression such as status == 0, or remove it`, line: 5, hasDt: true,
		},
		{
			name: "bad timeout",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a]\n  timeout: 30\n"},
			want: `tests/node.yaml:3: timeout "30" of test "a" is not a duration; write it like 30s, 5m or 1m30s`, line: 3, hasDt: true,
		},
		{
			name: "zero timeout",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a]\n  timeout: 0s\n"},
			want: `tests/node.yaml:3: timeout "0s" of test "a" must be more than zero`, line: 3, hasDt: true,
		},
		{
			name: "bad skip",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a]\n  skip: maybe\n"},
			want: `tests/node.yaml:3: skip of test "a" must be true or false, not "maybe"`, line: 3, hasDt: true,
		},
		{
			name: "bad env",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a]\n  env:\n    - A=1\n    - B\n"},
			want: `tests/node.yaml:5: env entry "B" of test "a" must have the form NAME=value`, line: 5, hasDt: true,
		},
		{
			name: "malformed test file",
			edit: map[string]string{"tests/node.yaml": "- desc: a\n  command: [a\n"},
			want: `tests/node.yaml:2: invalid YAML: did not find expected ',' or ']'`, line: 2, hasDt: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := realistic()
			for p, c := range tc.edit {
				if c == "<delete>" {
					delete(fsys, p)
				} else if c == "<dir>" {
					fsys[p] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
				} else {
					fsys[p] = &fstest.MapFile{Data: []byte(c)}
				}
			}
			p, err := load(t, fsys)
			if err == nil {
				t.Fatalf("no error; chunks %v", names(p.Chunks))
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("%T is not *Error: %v", err, err)
			}
			if err.Error() != tc.want {
				t.Errorf("got  %s\nwant %s", err, tc.want)
			}
			if pe.Line != tc.line {
				t.Errorf("line = %d, want %d", pe.Line, tc.line)
			}
			if (pe.Data != nil) != tc.hasDt {
				t.Errorf("data present = %v, want %v", pe.Data != nil, tc.hasDt)
			}
			if pe.Data != nil && string(pe.Data) != string(fsys[pe.File].Data) && pe.File != "dazzle.yaml" {
				t.Errorf("data is not the content of %s", pe.File)
			}
		})
	}
}

func TestErrorString(t *testing.T) {
	for _, tc := range []struct {
		err  Error
		want string
	}{
		{Error{File: "dazzle.yaml", Line: 6, Column: 3, Msg: "bad"}, "dazzle.yaml:6: bad"},
		{Error{File: "dazzle.yaml", Msg: "bad"}, "dazzle.yaml: bad"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q, want %q", got, tc.want)
		}
	}
}

func TestLoadEdgeCases(t *testing.T) {
	t.Run("no chunks folder", func(t *testing.T) {
		p := mustLoad(t, fstest.MapFS{"base/Dockerfile": {Data: []byte("FROM x")}})
		if len(p.Chunks) != 0 || p.Base.Dockerfile != "base/Dockerfile" || p.Base.Args != nil {
			t.Errorf("%+v", p)
		}
	})
	t.Run("other config file name", func(t *testing.T) {
		p, err := Load(fstest.MapFS{"base/Dockerfile": {}}, "ci/dazzle.yml", []byte("ignore: x\n"))
		if err == nil || err.Error() != `ci/dazzle.yml:1: ignore must be a list, e.g. ignore: ["lang-java:11"]; got "x"` {
			t.Errorf("%v %v", p, err)
		}
	})
	t.Run("anchors and merge keys", func(t *testing.T) {
		fsys := realistic()
		fsys["dazzle.yaml"] = &fstest.MapFile{Data: []byte(`combiner:
  combinations:
    - &web
      name: web
      chunks: &webchunks [node, tool]
    - <<: *web
      name: web2
    - name: web3
      chunks: *webchunks
`)}
		p := mustLoad(t, fsys)
		for _, n := range []string{"web", "web2", "web3"} {
			cs, err := p.Combination(n)
			if err != nil || !reflect.DeepEqual(names(cs), []string{"node", "tool"}) {
				t.Errorf("%s: %v %v", n, names(cs), err)
			}
		}
	})
	t.Run("YAML scalars load as written", func(t *testing.T) {
		fsys := realistic()
		fsys["chunks/lang-java/chunk.yaml"] = &fstest.MapFile{Data: []byte("variants:\n  - name: 1.20\n    args: {V: 1.20, B: true, N: ~}\n")}
		fsys["tests/node.yaml"] = &fstest.MapFile{Data: []byte("- command: [a]\n  user: 0\n- command: [b]\n  user: gitpod\n  assert: [1 == 1]\n")}
		delete(fsys, "dazzle.yaml")
		p := mustLoad(t, fsys)
		c, err := p.Chunk("lang-java:1.20")
		if err != nil || !reflect.DeepEqual(c.Args, map[string]string{"V": "1.20", "B": "true", "N": ""}) {
			t.Errorf("%+v %v", c, err)
		}
		if u := []string{p.Tests["node"][0].User, p.Tests["node"][1].User}; !reflect.DeepEqual(u, []string{"0", "gitpod"}) {
			t.Errorf("users %v", u)
		}
	})
}

// FuzzLoad checks that no input makes Load panic; `go test` runs the seeds.
func FuzzLoad(f *testing.F) {
	base := realistic()
	f.Add(realisticConfig, string(base["tests/node.yaml"].Data), string(base["chunks/lang-java/chunk.yaml"].Data))
	f.Add("combiner: {combinations: [{name: a, ref: [a]}]}", "- *x", "variants: [{<<: *a}]")
	f.Add("a: &a [*a]", "- &t {<<: *t}", "variants: &v [{name: x, args: *v}]")
	f.Add("combiner:\n  combinations:\n    - <<: [{name: a}, {chunks: [node]}]\n", "- {}\n- ~\n- []", "variants: [~, [], {}]")
	f.Add("\x00\xff", "{", "variants: {name: x}")
	// merge keys that fan out: without a guard, walking them takes 3^n steps
	bomb := "combiner:\n  combinations:\n    - &a0 {name: n0}\n"
	for i := 1; i < 40; i++ {
		bomb += fmt.Sprintf("    - &a%d {<<: [*a%d, *a%d, *a%d], name: n%d}\n", i, i-1, i-1, i-1, i)
	}
	f.Add(bomb, "", "")
	f.Fuzz(func(t *testing.T, cfg, tests, chunk string) {
		fsys := realistic()
		fsys["tests/node.yaml"] = &fstest.MapFile{Data: []byte(tests)}
		fsys["chunks/lang-java/chunk.yaml"] = &fstest.MapFile{Data: []byte(chunk)}
		p, err := Load(fsys, "dazzle.yaml", []byte(cfg))
		if err != nil {
			if strings.Contains(err.Error(), "internal error") {
				t.Fatal(err)
			}
			return
		}
		for _, c := range p.Config.Combinations {
			if _, err := p.Combination(c.Name); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// The loader accepts exactly the actions merge can apply, spelled as merge spells them.
func TestEnvActionsAreMerges(t *testing.T) {
	for _, a := range merge.Actions() {
		fsys := realistic()
		fsys["dazzle.yaml"] = &fstest.MapFile{Data: []byte("combiner:\n  envvars:\n    - name: PATH\n      action: " + string(a) + "\n")}
		p := mustLoad(t, fsys)
		if got := p.Config.EnvVars[0].Action; got != a {
			t.Errorf("action %q loaded as %q", a, got)
		}
	}
	fsys := realistic()
	fsys["dazzle.yaml"] = &fstest.MapFile{Data: []byte("combiner:\n  envvars:\n    - name: PATH\n")}
	if got := mustLoad(t, fsys).Config.EnvVars[0].Action; got != merge.UseFirst {
		t.Errorf("no action loaded as %q, want %q", got, merge.UseFirst)
	}
}

func TestWarnings(t *testing.T) {
	t.Run("realistic project", func(t *testing.T) {
		var got []string
		for _, w := range mustLoad(t, realistic()).Warnings {
			got = append(got, w.String())
		}
		want := []string{`TestsNotRunByDazzle: tests/lang-java.yml:1: dazzle reads only tests/lang-java.yaml, so it never ran these tests; dazzlekit runs them: rename the file to tests/lang-java.yaml to say so`}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("chunk folder that is a link", func(t *testing.T) {
		fsys := realistic()
		fsys["tests/lang-java.yaml"] = fsys["tests/lang-java.yml"]
		delete(fsys, "tests/lang-java.yml")
		fsys["chunks/lang-go"] = &fstest.MapFile{Data: []byte("golang"), Mode: fs.ModeSymlink | 0o777}
		p := mustLoad(t, fsys)
		if len(p.Warnings) != 1 || p.Warnings[0].String() != "ChunkFolderSymlink: chunks/lang-go: is a symbolic link, so it makes no chunk (dazzle skips it too); put the folder itself in chunks/, or rename the link to chunks/_lang-go to say it is not one" {
			t.Errorf("warnings %v", p.Warnings)
		}
	})
	t.Run("chunk.yaml without variants", func(t *testing.T) {
		fsys := realistic()
		fsys["tests/lang-java.yaml"] = fsys["tests/lang-java.yml"]
		delete(fsys, "tests/lang-java.yml")
		fsys["chunks/lang-java/chunk.yaml"] = &fstest.MapFile{Data: []byte("# none yet\nvariants: []\n")}
		fsys["dazzle.yaml"] = &fstest.MapFile{Data: []byte("combiner:\n  combinations:\n    - name: a\n      chunks: [node]\n")}
		p := mustLoad(t, fsys)
		if len(p.Warnings) != 1 || p.Warnings[0].String() != `ChunkWithoutVariants: chunks/lang-java/chunk.yaml:2: chunks/lang-java/chunk.yaml defines no variants, so chunks/lang-java/ makes no chunk (dazzle skips it too); add variants: with at least one entry, or delete chunks/lang-java/chunk.yaml to build chunks/lang-java/Dockerfile as the chunk "lang-java"` {
			t.Errorf("warnings %v", p.Warnings)
		}
		if got := names(p.Chunks); !reflect.DeepEqual(got, []string{"golang", "node", "tool"}) {
			t.Errorf("chunks %v", got)
		}
		// A null document decodes in dazzle to no variants as well (an empty file does not decode).
		fsys["chunks/lang-java/chunk.yaml"] = &fstest.MapFile{Data: []byte("~\n")}
		if p := mustLoad(t, fsys); len(p.Warnings) != 1 || p.Warnings[0].Rule != "ChunkWithoutVariants" {
			t.Errorf("chunk.yaml `~`: warnings %v", p.Warnings)
		}
	})
	fsys := realistic()
	fsys["tests/lang-java.yaml"] = fsys["tests/lang-java.yml"]
	delete(fsys, "tests/lang-java.yml")
	fsys["tests/lang-php.yaml"] = &fstest.MapFile{Data: []byte("not: [even, a, list\n")}
	fsys["tests/tool.yaml"] = &fstest.MapFile{Data: []byte("- desc: checked\n  command: [tool]\n  assert: [status == 0]\n" +
		"- desc: unchecked\n  command: [tool, --help]\n" +
		"- desc: skipped\n  command: [tool]\n  skip: true\n" +
		"- command: [tool, -v]\n  assert: []\n")}
	p := mustLoad(t, fsys)
	var got []string
	for _, w := range p.Warnings {
		got = append(got, w.String())
		if string(w.Data) != string(fsys[w.File].Data) || w.Lang != "YAML" {
			t.Errorf("%s: snippet data %q (%s), want the file's", w, w.Data, w.Lang)
		}
	}
	want := []string{
		"TestsWithoutChunk: tests/lang-php.yaml:1: there is no chunk folder chunks/lang-php/, so these tests never run (dazzle ignores them too); tests/<name>.yaml holds the tests of chunks/<name>/: rename the file after its chunk folder, or remove it",
		`TestWithoutAssert: tests/tool.yaml:4: test "unchecked" has no assert:, so it passes whatever its command does (as in dazzle); add e.g. assert: [status == 0]`,
		`TestWithoutAssert: tests/tool.yaml:9: this test has no assert:, so it passes whatever its command does (as in dazzle); add e.g. assert: [status == 0]`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if _, ok := p.Tests["lang-php"]; ok {
		t.Error("tests of a missing chunk folder were loaded")
	}
	if n := len(p.Tests["tool"]); n != 4 {
		t.Errorf("tool has %d tests, want 4", n)
	}
}
