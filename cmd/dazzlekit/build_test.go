package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client"
	digest "github.com/opencontainers/go-digest"
)

func TestPickCombinations(t *testing.T) {
	cfg := "combiner:\n  combinations:\n    - name: minimal\n      chunks: [a]\n    - name: full\n      ref: [minimal]\n      chunks: [b]\n"
	fsys := fstest.MapFS{
		"dazzle.yaml":         {Data: []byte(cfg)},
		"base/Dockerfile":     {Data: []byte("FROM scratch\n")},
		"chunks/a/Dockerfile": {Data: []byte("FROM base\n")},
		"chunks/b/Dockerfile": {Data: []byte("FROM base\n")},
	}
	p, err := project.Load(fsys, "dazzle.yaml", []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		asked   []string
		want    string
		wantErr string
	}{
		{asked: nil, want: "minimal,full"},
		{asked: []string{"full"}, want: "full"},
		// The project's order, whatever the order asked in; repeats and blanks collapse.
		{asked: []string{"full,minimal", "full", " "}, want: "minimal,full"},
		{asked: []string{"full,nope,zz"}, wantErr: "dazzle.yaml has no combination nope, zz (it has: minimal, full)"},
	} {
		got, err := pickCombinations(p, "dazzle.yaml", tc.asked)
		if tc.wantErr != "" {
			if err == nil || err.Error() != tc.wantErr {
				t.Errorf("%q: error %v, want %q", tc.asked, err, tc.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got, ",") != tc.want {
			t.Errorf("%q: %v, %v; want %s", tc.asked, got, err, tc.want)
		}
	}
}

func TestDefaultRepository(t *testing.T) {
	for dir, want := range map[string]string{
		"/src/Workspace Images": "localhost:5000/workspace-images",
		"/src/ws_1.2":           "localhost:5000/ws_1.2",
		"/":                     "localhost:5000/dazzle",
		"/src/---":              "localhost:5000/dazzle",
	} {
		if got := defaultRepository(dir); got != want {
			t.Errorf("defaultRepository(%q) = %q, want %q", dir, got, want)
		}
	}
}

// The command's errors before any build: no daemon is needed to see them.
func TestBuildUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		env    string
		rc     int
		stderr string
	}{
		{args: []string{"--progress=plain", t.TempDir()}, rc: 1, stderr: "dazzlekit build: no BuildKit to build on: set BUILDKIT_HOST or pass --addr (e.g. unix:///run/buildkit/buildkitd.sock)\n"},
		{args: []string{"--addr", "unix:///nonexistent.sock", "/nonexistent"}, rc: 1, stderr: "dazzlekit build: open /nonexistent/dazzle.yaml: no such file or directory (run it in a dazzle project folder, or give the folder)\n"},
		{args: []string{"a", "b"}, rc: 2, stderr: "usage: dazzlekit build"},
	} {
		t.Setenv("BUILDKIT_HOST", tc.env)
		var out, errb bytes.Buffer
		if rc := build(tc.args, &out, &errb); rc != tc.rc || !strings.HasPrefix(errb.String(), tc.stderr) {
			t.Errorf("build %q: rc %d, stderr %q; want rc %d, stderr %q", tc.args, rc, errb.String(), tc.rc, tc.stderr)
		}
	}
}

func TestLogSetDedupe(t *testing.T) {
	at := time.Unix(100, 5)
	line := func(v string, stream int, ts time.Time, data string) *client.VertexLog {
		return &client.VertexLog{Vertex: digest.FromString(v), Stream: stream, Timestamp: ts, Data: []byte(data)}
	}
	l := &logSet{seen: map[logKey]bool{}}
	for i, tc := range []struct {
		in   []*client.VertexLog
		want int
	}{
		{in: []*client.VertexLog{line("a", 1, at, "=== RUN x\n"), line("a", 2, at, "=== RUN x\n")}, want: 2},
		// The same line of the same vertex, streamed again by another build holding it.
		{in: []*client.VertexLog{line("a", 1, at, "=== RUN x\n")}, want: 0},
		// Another vertex, another time or other bytes are other lines.
		{in: []*client.VertexLog{line("b", 1, at, "=== RUN x\n"), line("a", 1, at.Add(1), "=== RUN x\n"), line("a", 1, at, "=== RUN y\n")}, want: 3},
	} {
		s := &client.SolveStatus{Logs: tc.in}
		if got := l.dedupe(s); len(got.Logs) != tc.want {
			t.Errorf("batch %d: kept %d lines, want %d", i, len(got.Logs), tc.want)
		}
		if len(s.Logs) != len(tc.in) {
			t.Errorf("batch %d: the status passed in was changed", i)
		}
	}
}

func TestPushErrors(t *testing.T) {
	// As BuildKit v0.34.2 reported one in the CI-scale benchmark, 41 combinations pushing at once.
	race := "failed to solve: failed to push localhost:5055/bench/ci:node-25: errors:\nunknown: provided digest did not match uploaded content\nunknown: blob unknown to registry - sha256:200c\n"
	for _, tc := range []struct {
		err  string
		push bool
	}{
		{race, true},
		{"failed to solve: process \"/bin/sh -c false\" did not complete successfully: exit code: 1", false},
		{"dazzle.yaml:3: 1 of 6 tests failed", false},
	} {
		if got := isPushError(errors.New(tc.err)); got != tc.push {
			t.Errorf("isPushError(%q) = %v, want %v", tc.err, got, tc.push)
		}
	}
	if got, want := oneLine(race), "failed to solve: failed to push localhost:5055/bench/ci:node-25: errors: unknown: provided digest did not match uploaded content unknown: blob unknown to registry - sha256:200c"; got != want {
		t.Errorf("oneLine: %q, want %q", got, want)
	}
}

// A probe gives way to the push once its progress shows a chunk's own layers computed anew, and only
// then: sources, steps answered from the cache, failed ops and tests do not count.
func TestChangedLayers(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name   string
		v      client.Vertex
		change bool
	}{
		{"a chunk's diff that ran", client.Vertex{Name: "[chunk lang-c] own layers (diff against base)", Completed: &now}, true},
		{"a variant's diff that ran", client.Vertex{Name: "[chunk lang-go:1.24] own layers (diff against base)", Completed: &now}, true},
		{"a diff from the cache", client.Vertex{Name: "[chunk lang-c] own layers (diff against base)", Completed: &now, Cached: true}, false},
		{"a diff still running", client.Vertex{Name: "[chunk lang-c] own layers (diff against base)"}, false},
		{"a diff that failed", client.Vertex{Name: "[chunk lang-c] own layers (diff against base)", Completed: &now, Error: "boom"}, false},
		{"a step that ran", client.Vertex{Name: "[chunk lang-c 1/3] RUN make", Completed: &now}, false},
		{"the base's source", client.Vertex{Name: "[base 1/2] FROM localhost:5000/busybox", Completed: &now}, false},
		{"a test op", client.Vertex{Name: "[test full] 2 tests: a; b", Completed: &now}, false},
		{"the merge", client.Vertex{Name: "[combine full] base + 2 chunks", Completed: &now}, false},
	} {
		if got := changedLayers(&tc.v); got != tc.change {
			t.Errorf("%s: changedLayers = %v, want %v", tc.name, got, tc.change)
		}
	}
}
