package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestProjectCommands(t *testing.T) {
	dir := t.TempDir()
	step := func(wantRC int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if rc := projectCmd(append([]string{"--context", dir}, args...), &out, &errb); rc != wantRC {
			t.Fatalf("project %v: rc %d, want %d\n%s%s", args, rc, wantRC, out.String(), errb.String())
		}
		return errb.String()
	}
	step(0, "init", "--frontend", "localhost:5000/dazzlekit/frontend:dev")
	step(0, "init", "node")
	// A user's comment, which dazzle's rewrite of dazzle.yaml would drop.
	cfg := filepath.Join(dir, "dazzle.yaml")
	dt, _ := os.ReadFile(cfg)
	if err := os.WriteFile(cfg, append(dt, "# keep me\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	step(0, "add-combination", "full", "node")
	step(0, "ignore", "node-old")

	got, _ := os.ReadFile(cfg)
	want := "# syntax=localhost:5000/dazzlekit/frontend:dev\ncombiner:\n  combinations:\n    - name: full\n      chunks:\n        - node\n# keep me\nignore:\n  - node-old\n"
	if string(got) != want {
		t.Errorf("dazzle.yaml:\n%s\nwant:\n%s", got, want)
	}
	if info, _ := os.Stat(cfg); info.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want the file's own 0600", info.Mode().Perm())
	}

	if msg := step(1, "init", "node"); !strings.Contains(msg, "chunks/node/Dockerfile exists already: nothing was written") {
		t.Errorf("chunk init over an existing chunk: %s", msg)
	}
	if msg := step(1, "init"); !strings.Contains(msg, "base/Dockerfile exists already: nothing was written") {
		t.Errorf("init over a project: %s", msg)
	}
	if msg := step(1, "add-combination", "full", "node"); !strings.Contains(msg, "dazzle.yaml:4: combination full exists already") {
		t.Errorf("duplicate combination: %s", msg)
	}
	if msg := step(1, "add-combination", "go", "golang"); !strings.Contains(msg, `dazzle.yaml was left as it was, since the change would not load: dazzle.yaml:9: combination "go" refers to unknown chunk "golang"`) {
		t.Errorf("unknown chunk: %s", msg)
	}
	if after, _ := os.ReadFile(cfg); string(after) != want {
		t.Errorf("a refused edit changed dazzle.yaml:\n%s", after)
	}
	step(2, "frobnicate")
}
