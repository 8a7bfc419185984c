package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

func TestVertexNames(t *testing.T) {
	for _, tc := range []struct {
		name  string
		test  bool
		run   bool
		chunk string
	}{
		{"[chunk lang-go:1.24 1/2] RUN dd if=/dev/urandom", false, true, "lang-go:1.24"},
		{"[full chunk lang-go:1.24 1/2] RUN dd if=/dev/urandom", false, true, "lang-go:1.24"},
		{"[node-22 chunk tool-chrome build 2/3] RUN x", false, true, "tool-chrome"},
		{"[base 1/1] RUN mkdir -p /opt/base", false, true, ""},
		{"[full base 1/1] RUN mkdir -p /opt/base", false, true, ""},
		{"[test full] lang-c should be installed", true, false, ""},
		{"[full test full] lang-c should be installed", true, false, ""},
		{"[python-3_13 test lang-python:3.13] lang-python should be installed", true, false, ""},
		{"[test report] report.json", false, false, ""},
		{"[full test report] report.json", false, false, ""},
		{"[full test full] 9 tests: lang-c should be installed; lang-go should be installed", true, false, ""},
		{"[full chunk lang-c] copy /chunks/lang-c /", false, false, ""},
		{"[2/3] RUN mkdir -p /opt/c00/bin", false, true, ""},
	} {
		if got := isTest(tc.name); got != tc.test {
			t.Errorf("isTest(%q) = %v", tc.name, got)
		}
		if got := isRun(tc.name); got != tc.run {
			t.Errorf("isRun(%q) = %v", tc.name, got)
		}
		if got := chunkOf(tc.name); got != tc.chunk {
			t.Errorf("chunkOf(%q) = %q, want %q", tc.name, got, tc.chunk)
		}
	}
}

// A vertex bake reports for several targets, each with its own prefix, counts once.
func TestParseRawJSONBake(t *testing.T) {
	t0 := time.Unix(1000, 0)
	t1, t2 := t0.Add(1500*time.Millisecond), t0.Add(2*time.Second)
	vtx := func(dgst, name string, started, completed *time.Time, cached bool) *client.Vertex {
		v := &client.Vertex{Name: name, Started: started, Completed: completed, Cached: cached}
		_ = json.Unmarshal([]byte(`"sha256:`+dgst+`"`), &v.Digest)
		return v
	}
	statuses := []client.SolveStatus{
		{Vertexes: []*client.Vertex{vtx("a", "[full chunk lang-c 1/2] RUN x", &t0, nil, false)}},
		{Vertexes: []*client.Vertex{vtx("a", "[c chunk lang-c 1/2] RUN x", &t0, &t1, false)}},
		{Vertexes: []*client.Vertex{vtx("a", "[full chunk lang-c 1/2] RUN x", &t0, &t1, false)}},
		{Vertexes: []*client.Vertex{vtx("b", "[c chunk lang-c 2/2] RUN y", &t1, &t2, false)}},
		{Vertexes: []*client.Vertex{vtx("c", "[c chunk tool-docker 1/2] RUN z", &t0, &t0, true)}},
		{Vertexes: []*client.Vertex{vtx("d", "[c test c] lang-c should be installed", &t1, &t2, false)}},
		{Vertexes: []*client.Vertex{vtx("e", "[full test full] lang-c should be installed", &t1, &t2, true)}},
		// A batch of two tests, each announced in its log.
		{Vertexes: []*client.Vertex{vtx("f", "[full test full] 2 tests: lang-c should be installed; lang-go should be installed", &t1, nil, false)}},
		{Logs: []*client.VertexLog{{Vertex: vtx("f", "", nil, nil, false).Digest, Data: []byte("=== RUN   [test full] lang-c should be installed (tests/lang-c.yaml:1)\n--- PASS  [test full] lang-c should be installed (0.01s, exit status 0)\n=== RUN   [test full] lang-go should be installed (tests/lang-go.yaml:1)\n")}}},
		{Vertexes: []*client.Vertex{vtx("f", "[full test full] 2 tests: lang-c should be installed; lang-go should be installed", &t1, &t2, false)}},
	}
	var in strings.Builder
	in.WriteString("#0 building with \"remote\" instance\n")
	for _, st := range statuses {
		dt, _ := json.Marshal(st)
		in.Write(append(dt, '\n'))
	}
	s := parseRawJSON(strings.NewReader(in.String()))
	if s.RunRan != 2 || s.TestsRan != 3 || s.TestOpsRan != 2 || s.ExecCached != 2 {
		t.Errorf("RUN %d ran, tests %d ran in %d ops, %d exec cached; want 2, 3 in 2, 2", s.RunRan, s.TestsRan, s.TestOpsRan, s.ExecCached)
	}
	if got := s.folderRunSeconds("lang-c"); got != 2 {
		t.Errorf("lang-c RUN %.2fs, want 2", got)
	}
}

// dazzle's vertices belong to the chunk its log line before the solve names.
func TestParseDazzleChunks(t *testing.T) {
	log := `          building base image                          ref="localhost:5055/bench/x:base--abc"
#1 [1/2] FROM localhost:5055/dazzlekit/busybox:latest
#1 DONE 0.1s
#2 [2/2] RUN mkdir -p /opt/base
#2 DONE 1.2s
          building test image                          chunk="lang-go:1.24" ref="localhost:5055/bench/x:lang-go.1.24--t"
#1 [1/3] FROM localhost:5055/bench/x:base--abc
#1 DONE 0.0s
#2 [2/3] RUN mkdir -p /opt/lang-go/bin
#2 DONE 1.5s
#3 [3/3] RUN dd if=/dev/urandom of=/opt/lang-go/blob2
#3 DONE 1.25s
          running tests                                chunk="lang-go:1.24"
          testing "lang-go should be installed"        command="[lang-go]" step=0
          building full image                          chunk="lang-go:1.24" ref="localhost:5055/bench/x:lang-go.1.24--f"
#2 [2/3] RUN mkdir -p /opt/lang-go/bin
#2 CACHED
          building full image                          chunk="lang-c" ref="localhost:5055/bench/x:lang-c--f"
#2 [2/3] RUN mkdir -p /opt/lang-c/bin
#2 DONE 1.0s
`
	s := parseDazzle(strings.NewReader(log))
	if s.RunRan != 4 || s.TestsRan != 1 || s.ExecCached != 1 {
		t.Errorf("RUN %d ran, tests %d ran, %d exec cached; want 4, 1, 1", s.RunRan, s.TestsRan, s.ExecCached)
	}
	for folder, want := range map[string]float64{"lang-go": 2.75, "lang-c": 1, "base": 0} {
		if got := s.folderRunSeconds(folder); got != want {
			t.Errorf("%s RUN %.2fs, want %.2f", folder, got, want)
		}
	}
}
