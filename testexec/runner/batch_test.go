package runner

import (
	"bytes"
	"fmt"
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

// With Reuse, a test that passed in the same layers is answered from PassedDir; anything else runs.
func TestMainBatchReuse(t *testing.T) {
	layers := "/snapshots/2/fs:/snapshots/1/fs"
	defer func(l func(string) (string, bool), r func() (string, bool)) { rootLayers, runnerID = l, r }(rootLayers, runnerID)
	rootLayers = func(string) (string, bool) { return layers, true }
	runnerID = func() (string, bool) { return "build-id", true }
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, PassedDir), 0o755); err != nil {
		t.Fatal(err)
	}
	judge := func(asserts []string, r Result) []string {
		if len(asserts) > 0 && r.Status != 0 {
			return asserts
		}
		return nil
	}
	pass := BatchTest{Name: "[test a] passes", Spec: Spec{Argv: sh("echo ok")}, Assert: []string{"status == 0"}}
	fail := BatchTest{Name: "[test a] fails", Spec: Spec{Argv: sh("exit 3")}, Assert: []string{"status == 0"}}
	writes := BatchTest{Name: "[test a] writes", Spec: Spec{Argv: sh("echo x > " + filepath.Join(root, "w"))}, Assert: []string{"status == 0"}}
	after := BatchTest{Name: "[test a] after a write", Spec: Spec{Argv: sh("echo after")}, Assert: []string{"status == 0"}}
	otherEnv := pass
	otherEnv.Env = []string{"X=1"}
	// BuildKit's tracing variables differ in every container, and are no part of the test.
	t.Setenv("TRACEPARENT", "00-d739727f82ba45ac49e57a7cb252c870-38c25e31709ff3df-01")
	t.Setenv("OTEL_TRACES_EXPORTER", "otlp")
	lastRun := map[string]Result{}
	run := func(b Batch) (ran, reused []string) {
		t.Helper()
		out := t.TempDir()
		var log bytes.Buffer
		if code := mainBatch([]string{b.Encode(), out}, judge, &log, root); code != 0 {
			t.Fatalf("exit code %d", code)
		}
		os.Remove(filepath.Join(root, "w"))
		dt, err := os.ReadFile(filepath.Join(out, BatchResultFile))
		if err != nil {
			t.Fatal(err)
		}
		res, err := DecodeBatchResult(dt)
		if err != nil || len(res.Results) != len(b.Tests) {
			t.Fatalf("results %+v, %v", res, err)
		}
		for i, r := range res.Results {
			name := b.Tests[i].Name
			if r.Reused {
				reused = append(reused, name)
				if want := "--- PASS  " + name + " ("; !strings.Contains(log.String(), want) || strings.Contains(log.String(), "=== RUN   "+name) {
					t.Errorf("log of reused %s:\n%s", name, log.String())
				}
				if first, ok := lastRun[name]; !ok || r.Stdout != first.Stdout || r.Status != first.Status || r.Seconds != first.Seconds {
					t.Errorf("reused %s is %+v, want its last run's %+v", name, r, first)
				}
			} else {
				ran = append(ran, name)
				lastRun[name] = r
			}
		}
		return ran, reused
	}
	all := Batch{Tests: []BatchTest{pass, fail, writes, after}, Reuse: true}
	for i, tc := range []struct {
		name        string
		batch       Batch
		layers      string
		ran, reused []string
	}{
		{"first run: every test runs", all, layers, []string{pass.Name, fail.Name, writes.Name, after.Name}, nil},
		// Not kept: the failed test, and the one after a write to the root, which may have seen it. The
		// writing test itself ran in the image as it is, and is kept: reused, it writes nothing, and the
		// one after it runs in the image as it is, and passes for good.
		{"again: the passed ones are reused", all, layers, []string{fail.Name, after.Name}, []string{pass.Name, writes.Name}},
		{"and the one after the write now too", all, layers, []string{fail.Name}, []string{pass.Name, writes.Name, after.Name}},
		{"other layers", all, "/snapshots/3/fs:/snapshots/1/fs", []string{pass.Name, fail.Name, writes.Name, after.Name}, nil},
		{"other env", Batch{Tests: []BatchTest{otherEnv}, Reuse: true}, layers, []string{pass.Name}, nil},
		{"other network mode", Batch{Tests: []BatchTest{pass}, Network: true, Reuse: true}, layers, []string{pass.Name}, nil},
		{"no reuse (--no-cache)", Batch{Tests: []BatchTest{pass}}, layers, []string{pass.Name}, nil},
	} {
		layers = tc.layers
		t.Setenv("TRACEPARENT", fmt.Sprintf("00-d739727f82ba45ac49e57a7cb252c870-38c25e31709ff3%02d-01", i))
		ran, reused := run(tc.batch)
		if strings.Join(ran, ",") != strings.Join(tc.ran, ",") || strings.Join(reused, ",") != strings.Join(tc.reused, ",") {
			t.Errorf("%s: ran %q, reused %q; want %q, %q", tc.name, ran, reused, tc.ran, tc.reused)
		}
	}
}

// The layers are the lower directories of the overlayfs mount at the root, as mountinfo shows them.
func TestRootLayers(t *testing.T) {
	dt, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skip(err)
	}
	got, ok := rootLayers("/")
	overlay := strings.Contains(string(dt), " / / ") && strings.Contains(string(dt), " - overlay ")
	if ok != (overlay && got != "") {
		t.Errorf("rootLayers(/) = %q, %v", got, ok)
	}
	if _, ok := rootLayers(t.TempDir()); ok {
		t.Error("a folder that is no mount has layers")
	}
}
