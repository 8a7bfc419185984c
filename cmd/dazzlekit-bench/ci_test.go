package main

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dazzlekit/dazzlekit/project"
)

func loadCI(t *testing.T, dir string) *project.Project {
	t.Helper()
	cfg, err := os.ReadFile(filepath.Join(dir, "dazzle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(os.DirFS(dir), "dazzle.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The generated project loads as dazzlekit reads dazzle projects (strictly, with no warning), and
// each combination resolves to the chunks the model says, so the need figures are about what builds.
func TestCIProject(t *testing.T) {
	for _, tc := range []struct {
		k                              int
		folders, chunks, used, combs   int
		editChunkCombs, editTestCombs  int
		coldRun, editRun, editTestNeed int
		coldTests, editTests           int
	}{
		{k: 0, folders: 23, chunks: 40, used: 39, combs: 41, editChunkCombs: 12, editTestCombs: 19, coldRun: 79, editRun: 2, editTestNeed: 6 + 16,
			// 5 combinations repeat another's chunks (python and python-3.13, ...): 55 and 24 tests fewer
			coldTests: 518 - 55, editTests: 255 - 24},
		{k: 2, folders: 8, chunks: 8, used: 8, combs: 2, editChunkCombs: 1, editTestCombs: 1, coldRun: 17, editRun: 2, editTestNeed: 1 + 1, coldTests: 31, editTests: 14},
	} {
		dir := t.TempDir()
		ci, err := newCIProject(dir, "localhost:5055", tc.k, "lang-c", "lang-node")
		if err != nil {
			t.Fatal(err)
		}
		p := loadCI(t, dir)
		if len(p.Warnings) != 0 {
			t.Errorf("k=%d: warnings %v", tc.k, p.Warnings)
		}
		folders := map[string]bool{}
		for _, c := range p.Chunks {
			folders[c.Folder] = true
		}
		if len(folders) != tc.folders || len(p.Chunks) != tc.chunks || ci.chunkCount() != tc.chunks || len(ci.usedChunks()) != tc.used || len(p.Config.Combinations) != tc.combs {
			t.Errorf("k=%d: %d folders, %d chunks (model %d, %d used), %d combinations; want %d, %d, %d, %d", tc.k, len(folders), len(p.Chunks),
				ci.chunkCount(), len(ci.usedChunks()), len(p.Config.Combinations), tc.folders, tc.chunks, tc.used, tc.combs)
		}
		for _, c := range p.Config.Combinations {
			chunks, err := p.Combination(c.Name)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ch := range chunks {
				got = append(got, ch.Name)
			}
			if want := ci.resolve(c.Name); !slices.Equal(got, want) {
				t.Errorf("k=%d: combination %s has %v, the model %v", tc.k, c.Name, got, want)
			}
		}
		if n := len(ci.combinationsWith("lang-c")); n != tc.editChunkCombs {
			t.Errorf("k=%d: lang-c in %d combinations, want %d", tc.k, n, tc.editChunkCombs)
		}
		if n := len(ci.combinationsWith("lang-node")); n != tc.editTestCombs {
			t.Errorf("k=%d: lang-node in %d combinations, want %d", tc.k, n, tc.editTestCombs)
		}
		if n := ci.need(scCold).Run; n != tc.coldRun {
			t.Errorf("k=%d: cold needs %d RUN steps, want %d", tc.k, n, tc.coldRun)
		}
		if n := ci.need(scEdit).Run; n != tc.editRun {
			t.Errorf("k=%d: edit needs %d RUN steps, want %d", tc.k, n, tc.editRun)
		}
		if n := ci.need(scCold); n.Tests != tc.coldTests {
			t.Errorf("k=%d: cold needs %d tests, want %d", tc.k, n.Tests, tc.coldTests)
		}
		if n := ci.need(scEdit); n.Tests != tc.editTests {
			t.Errorf("k=%d: edit needs %d tests, want %d", tc.k, n.Tests, tc.editTests)
		}
		if n := ci.need(scEditTest); n.Tests != tc.editTestNeed || n.Run != 0 {
			t.Errorf("k=%d: edit-test needs %d RUN steps and %d tests, want 0 and %d", tc.k, n.Run, n.Tests, tc.editTestNeed)
		}
	}
}

// The edits change what the scenarios say they change, and nothing else.
func TestCIProjectEdits(t *testing.T) {
	dir := t.TempDir()
	ci, err := newCIProject(dir, "localhost:5055", 0, "lang-c", "lang-node")
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() map[string]string {
		out := map[string]string{}
		_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				dt, _ := os.ReadFile(path)
				out[strings.TrimPrefix(path, dir+"/")] = string(dt)
			}
			return err
		})
		return out
	}
	for _, tc := range []struct {
		edit func() error
		want string
	}{
		{ci.editChunk, "chunks/lang-c/Dockerfile"},
		{ci.editTest, "tests/lang-node.yaml"},
	} {
		before := snapshot()
		if err := tc.edit(); err != nil {
			t.Fatal(err)
		}
		var changed []string
		for f, dt := range snapshot() {
			if before[f] != dt {
				changed = append(changed, f)
			}
		}
		if len(changed) != 1 || changed[0] != tc.want {
			t.Errorf("changed %v, want [%s]", changed, tc.want)
		}
	}
	p := loadCI(t, dir)
	if got := p.Tests["lang-node"][0].Command; !slices.Equal(got, []string{"lang-node", "t1"}) {
		t.Errorf("edited test command %v", got)
	}
}

// The model has the shape of workspace-images: the same chunks, and each combination the same
// chunks, when DAZZLEKIT_WORKSPACE_IMAGES names a checkout of it.
func TestCIProjectMatchesWorkspaceImages(t *testing.T) {
	wsi := os.Getenv("DAZZLEKIT_WORKSPACE_IMAGES")
	if wsi == "" {
		t.Skip("set DAZZLEKIT_WORKSPACE_IMAGES to a checkout of github.com/gitpod-io/workspace-images")
	}
	real := loadCI(t, wsi)
	dir := t.TempDir()
	if _, err := newCIProject(dir, "localhost:5055", 0, "lang-c", "lang-node"); err != nil {
		t.Fatal(err)
	}
	model := loadCI(t, dir)
	names := func(cs []project.Chunk) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	if got, want := names(model.Chunks), names(real.Chunks); !slices.Equal(got, want) {
		t.Errorf("chunks %v, workspace-images has %v", got, want)
	}
	if len(model.Config.Combinations) != len(real.Config.Combinations) {
		t.Errorf("%d combinations, workspace-images has %d", len(model.Config.Combinations), len(real.Config.Combinations))
	}
	for _, c := range real.Config.Combinations {
		want, _ := real.Combination(c.Name)
		got, err := model.Combination(c.Name)
		if err != nil || !slices.Equal(names(got), names(want)) {
			t.Errorf("combination %s: %v (%v), workspace-images has %v", c.Name, names(got), err, names(want))
		}
	}
}

// Each tool's figure is the median of its own runs, whatever another tool's count, and the table
// shows every run's time beside it, so a median of three never hides a run that went astray.
func TestCITableMedians(t *testing.T) {
	dir := t.TempDir()
	ci, err := newCIProject(dir, "localhost:5055", 2, "lang-c", "lang-node")
	if err != nil {
		t.Fatal(err)
	}
	var runs []Run
	add := func(tool string, secs ...float64) {
		for i, s := range secs {
			runs = append(runs, Run{N: ci.chunkCount(), Rep: i, Tool: tool, Scenario: scCold, Project: "ci", Seconds: s, OK: true})
		}
	}
	add(toolDazzle, 400)
	add(toolBake, 50, 60, 55)
	add(toolBuild, 44.5, 36, 40)
	res := summarizeCI(ci, runs)
	got := map[string]float64{}
	for _, s := range res.Summary {
		got[s.Tool] = s.Median
	}
	if want := map[string]float64{toolDazzle: 400, toolBake: 55, toolBuild: 40}; !maps.Equal(got, want) {
		t.Errorf("medians %v, want %v", got, want)
	}
	table := res.table()
	for _, line := range []string{"400.0s", "55.0s", "40.0s", "  400.0\n", "  50.0 60.0 55.0\n", "  44.5 36.0 40.0\n", "0.73x"} {
		if !strings.Contains(table, line) {
			t.Errorf("table lacks %q:\n%s", line, table)
		}
	}
}
