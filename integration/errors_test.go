package integration

import (
	"strings"
	"testing"
)

const okBase = "ARG REGISTRY=localhost:5000\nFROM ${REGISTRY}/dazzlekit/busybox:latest\n"
const okChunk = "ARG base\nFROM ${base}\nRUN echo hi > /hi\n"

// Bad input fails with a message that names the file, the line where there is one, and what to do.
func TestBadProjectErrors(t *testing.T) {
	e := stack(t)
	for _, tc := range []struct {
		name  string
		files map[string]string
		attrs map[string]string
		want  []string
	}{
		{
			name:  "malformed yaml",
			files: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n      chunks: [x\n"},
			want:  []string{"dazzle.yaml"},
		},
		{
			name:  "unknown chunk",
			files: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: full\n      chunks: [nope]\n"},
			want:  []string{"dazzle.yaml:", `"nope"`, `"full"`},
		},
		{
			name:  "unknown ref",
			files: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: full\n      ref: [ghost]\n      chunks: [a]\n"},
			want:  []string{"dazzle.yaml:", `"ghost"`, `"full"`},
		},
		{
			name: "ref cycle",
			files: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: a\n      ref: [b]\n      chunks: [a]\n" +
				"    - name: b\n      ref: [a]\n      chunks: [a]\n"},
			want: []string{"dazzle.yaml:", "cycle", "a -> b -> a"},
		},
		{
			name:  "unknown envvars action",
			files: map[string]string{"dazzle.yaml": "combiner:\n  envvars:\n    - name: PATH\n      action: append\n"},
			want:  []string{"dazzle.yaml:4", `"append"`, "merge-unique"},
		},
		{
			name:  "unknown target",
			files: map[string]string{"dazzle.yaml": "combiner:\n  combinations:\n    - name: full\n      chunks: [a]\n"},
			attrs: map[string]string{"target": "fulll"},
			want:  []string{`"fulll"`, "full"},
		},
		{
			name:  "missing chunk Dockerfile",
			files: map[string]string{"dazzle.yaml": "", "chunks/b/chunk.yaml": "variants:\n  - name: x\n"},
			want:  []string{"chunks/b/Dockerfile"},
		},
		{
			// No chunk folder vanishes for the name of its Dockerfile.
			name:  "chunk Dockerfile in lower case",
			files: map[string]string{"dazzle.yaml": "", "chunks/b/dockerfile": okChunk},
			want:  []string{`chunks/b/: no Dockerfile; found "dockerfile" (names are case-sensitive: rename it to Dockerfile)`},
		},
		{
			name:  "missing base",
			files: map[string]string{"dazzle.yaml": "", "base/Dockerfile": "-"},
			want:  []string{"base/Dockerfile"},
		},
		{
			name:  "chunk Dockerfile error points at its line",
			files: map[string]string{"dazzle.yaml": "", "chunks/a/Dockerfile": "ARG base\nFROM ${base}\nRUNN echo\n"},
			want:  []string{"chunks/a/Dockerfile", "unknown instruction", "RUNN"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{"base/Dockerfile": okBase, "chunks/a/Dockerfile": okChunk}
			for k, v := range tc.files {
				files[k] = v
			}
			if files["base/Dockerfile"] == "-" {
				delete(files, "base/Dockerfile")
			}
			_, err := e.build(t, writeFiles(t, files), buildOpts{attrs: tc.attrs})
			if err == nil {
				t.Fatal("build succeeded, want an error")
			}
			msg := errText(err)
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not mention %q:\n%s", w, msg)
				}
			}
			for _, bad := range []string{"panic", "goroutine "} {
				if strings.Contains(msg, bad) {
					t.Errorf("error contains %q:\n%s", bad, msg)
				}
			}
		})
	}
}

// A RUN that fails in a chunk names the chunk and points at the Dockerfile line.
func TestFailingRunNamesChunk(t *testing.T) {
	e := stack(t)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": okChunk,
		"chunks/b/Dockerfile": "ARG base\nFROM ${base}\nRUN exit 3\n",
	})
	p, err := e.build(t, dir, buildOpts{})
	msg := errText(err)
	for _, w := range []string{"chunks/b/Dockerfile:3", ">>> RUN exit 3", "exit code: 3"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error does not mention %q:\n%s", w, msg)
		}
	}
	if failed := p.failed(); len(failed) != 1 || !strings.HasPrefix(failed[0], "[chunk b ") || !strings.HasSuffix(failed[0], "] RUN exit 3") {
		t.Errorf("failed vertices %q, want the chunk's step named after it", failed)
	}
}
