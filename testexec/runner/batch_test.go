package runner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMainBatch(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "greet"), []byte("#!/bin/sh\necho \"hello $WHO\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	t.Setenv("WHO", "image")
	t.Setenv("KEEP", "kept")
	batch := Batch{Tests: []BatchTest{
		// The test's PATH finds the command, as in a container of its own; its env wins over the image's.
		{Name: "[test a] greets", Where: "tests/a.yaml:1", Spec: Spec{Argv: []string{"greet"}}, Env: []string{"PATH=" + bin + ":/usr/bin:/bin", "WHO=test"}},
		// The previous test's env is gone.
		{Name: "[test a] env", Where: "tests/a.yaml:5", Spec: Spec{Argv: sh(`echo "$WHO $KEEP"; exit 3`)}, Assert: []string{"status == 0"}},
		{Name: "[test a] hangs", Where: "tests/a.yaml:9", Spec: Spec{Argv: sh("sleep 10"), Timeout: 100 * time.Millisecond}},
		// The first to change the root; the one after it could have seen that.
		{Name: "[test a] writes", Where: "tests/a.yaml:13", Spec: Spec{Argv: sh("echo x > " + filepath.Join(root, "written"))}},
		{Name: "[test a] writes too", Where: "tests/a.yaml:17", Spec: Spec{Argv: sh("echo x > " + filepath.Join(root, "too"))}},
	}}
	judge := func(asserts []string, r Result) []string {
		if len(asserts) > 0 && r.Status != 0 {
			return asserts
		}
		return nil
	}
	out := t.TempDir()
	var log bytes.Buffer
	if code := mainBatch([]string{batch.Encode(), out}, judge, &log, root); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	dt, err := os.ReadFile(filepath.Join(out, BatchResultFile))
	if err != nil {
		t.Fatal(err)
	}
	res, err := DecodeBatchResult(dt)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Results) != 5 || res.Started == 0 {
		t.Fatalf("results: %+v", res)
	}
	if want := (Changed{Test: 3, Path: "/written"}); !res.RootChecked || res.Changed == nil || *res.Changed != want {
		t.Errorf("root checked %v, changed %+v, want %+v", res.RootChecked, res.Changed, want)
	}
	for i, want := range []struct {
		status   int
		stdout   string
		timedOut bool
	}{{0, "hello test\n", false}, {3, "image kept\n", false}, {137, "", true}} {
		r := res.Results[i]
		if r.Status != want.status || r.Stdout != want.stdout || r.TimedOut != want.timedOut || r.Started < res.Started {
			t.Errorf("result %d = %+v, want %+v", i, r, want)
		}
	}
	lines := log.String()
	for _, want := range []string{
		"=== RUN   [test a] greets (tests/a.yaml:1)\n--- PASS  [test a] greets (",
		"=== RUN   [test a] env (tests/a.yaml:5)\n--- FAIL  [test a] env (",
		"s, exit status 3)\n    failed: status == 0\n",
		"--- FAIL  [test a] hangs (",
		"s, exit status 137)\n    failed: timed out after 100ms\n",
		// A temporary directory is not overlayfs.
		notOverlayNote + "\n",
	} {
		if !strings.Contains(lines, want) {
			t.Errorf("log lacks %q:\n%s", want, lines)
		}
	}
	if os.Getenv("PATH") == bin+":/usr/bin:/bin" {
		t.Error("the runner's PATH stayed the last test's")
	}
}

func TestOverlayEnv(t *testing.T) {
	for _, tt := range []struct {
		base, over, want []string
	}{
		{[]string{"A=1", "B=2"}, nil, []string{"A=1", "B=2"}},
		{[]string{"A=1", "B=2"}, []string{"B=3", "C"}, []string{"A=1", "B=3", "C="}},
		{[]string{"A=1"}, []string{"A=2", "A=3", "=x"}, []string{"A=3"}},
	} {
		if got := overlayEnv(tt.base, tt.over); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("overlayEnv(%q, %q) = %q, want %q", tt.base, tt.over, got, tt.want)
		}
	}
}
