package main

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/solver/pb"
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

// The test floor runs as many containers as need counts for an edited test, each in an image that
// holds the test, and no two of them are one op BuildKit could share.
func TestCITestFloor(t *testing.T) {
	p, err := newCIProject(t.TempDir(), "localhost:5055", 0, "lang-c", "lang-node")
	if err != nil {
		t.Fatal(err)
	}
	images := p.testImages("lang-node")
	if want := p.need(scEditTest).Tests; len(images) != want {
		t.Errorf("%d images %v, need counts %d", len(images), images, want)
	}
	for i, img := range images {
		if !slices.ContainsFunc(p.resolve(img), func(ch string) bool { return folderOf(ch) == "lang-node" }) {
			t.Errorf("image %d, %s, holds no lang-node chunk: %v", i, img, p.resolve(img))
		}
	}
	// The six chunks alone come first, each named by the first combination holding it.
	if want := []string{"node-18", "node-20", "gitpod-dev", "node-23", "full", "node"}; !slices.Equal(images[:6], want) {
		t.Errorf("chunk images %v, want %v", images[:6], want)
	}
	df := p.testFloorDockerfile("localhost:5055/r", images, 1)
	runs := regexp.MustCompile(`(?m)^RUN --network=none \["lang-node", "floor-1-[0-9]+"\]$`).FindAllString(df, -1)
	if slices.Sort(runs); len(slices.Compact(runs)) != len(images) {
		t.Errorf("%d distinct RUN lines for %d images:\n%s", len(runs), len(images), df)
	}
	if !strings.Contains(df, "FROM localhost:5055/r:node-18 AS t0\n") || !strings.Contains(df, fmt.Sprintf("COPY --from=t%d /opt/lang-node/version /t%d\n", len(images)-1, len(images)-1)) {
		t.Errorf("Dockerfile:\n%s", df)
	}
}

// The CI-scale targets come from the same run's medians; editing one test is out of reach only
// when the floor measured beside it is itself over the target.
func TestCITargets(t *testing.T) {
	ci, err := newCIProject(t.TempDir(), "localhost:5055", 0, "lang-c", "lang-node")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		floor    float64
		build    float64
		want     string
		measured string
		// The edit of lang-c: dazzlekit build's time and the merge floor's (0: not measured),
		// each against lang-c's steps of 2.5 s in its own stream.
		edit, mergeFloor float64
		wantEdit         string
		measuredEdit     string
	}{
		{floor: 2.7, build: 6.0, want: "limit", measured: "6.0 s; tests alone (floor) 2.7 s",
			edit: 10, wantEdit: "missed", measuredEdit: "4.0x (10.0 s vs 2.5 s)\n"},
		{floor: 1.5, build: 6.0, want: "missed", measured: "6.0 s; tests alone (floor) 1.5 s",
			edit: 10, mergeFloor: 8, wantEdit: "limit", measuredEdit: "4.0x (10.0 s vs 2.5 s); merge (floor) 3.2x (8.0 s vs 2.5 s)\n"},
		{floor: 2.7, build: 1.9, want: "met", measured: "1.9 s; tests alone (floor) 2.7 s",
			edit: 10, mergeFloor: 7, wantEdit: "missed", measuredEdit: "4.0x (10.0 s vs 2.5 s); merge (floor) 2.8x (7.0 s vs 2.5 s)\n"},
		{floor: 2.7, build: 1.9, want: "met", measured: "1.9 s; tests alone (floor) 2.7 s",
			edit: 7.4, mergeFloor: 8, wantEdit: "met", measuredEdit: "3.0x (7.4 s vs 2.5 s); merge (floor) 3.2x (8.0 s vs 2.5 s)\n"},
	} {
		langC := Steps{ChunkRun: map[string]float64{"lang-c": 2.5}}
		runs := []Run{
			{Tool: toolDazzle, Scenario: scCold, Seconds: 400},
			{Tool: toolBuild, Scenario: scCold, Seconds: 38},
			{Tool: toolBuild, Scenario: scWarm, Seconds: 1.5},
			{Tool: toolDazzle, Scenario: scEdit, Seconds: 280},
			{Tool: toolBuild, Scenario: scEdit, Seconds: tc.edit, Steps: langC},
			{Tool: toolBuild, Scenario: scEditTest, Seconds: tc.build},
			{Tool: toolTestFloor, Scenario: scEditTest, Seconds: tc.floor},
		}
		if tc.mergeFloor > 0 {
			runs = append(runs, Run{Tool: toolMergeFloor, Scenario: scEdit, Seconds: tc.mergeFloor, Steps: langC})
		}
		for i := range runs {
			runs[i].N, runs[i].Project, runs[i].OK = ci.chunkCount(), "ci", true
		}
		r := &Results{CI: summarizeCI(ci, runs)}
		r.ciTargets()
		table := r.table()
		for _, line := range []string{
			"met    CI scale cold: dazzlekit build <= 0.1x dazzle",
			"0.095x (38.0 s vs 400.0 s)",
			"met    CI scale nothing changed: dazzlekit build <= 3 s",
			"met    CI scale edit lang-c: dazzlekit build <= 0.05x dazzle",
			fmt.Sprintf("%-6s %-58s %s", tc.wantEdit, "CI scale edit lang-c: dazzlekit build <= 3x its RUN steps", tc.measuredEdit),
			fmt.Sprintf("%-6s %-58s %s\n", tc.want, "CI scale edit one test: dazzlekit build <= 2 s", tc.measured),
		} {
			if !strings.Contains(table, line) {
				t.Errorf("floor %.1f s, merge floor %.1f s: table lacks %q:\n%s", tc.floor, tc.mergeFloor, line, table)
			}
		}
	}
}

// The CI-scale merge floor does what an edit of lang-c demands at the least, as need counts it:
// lang-c alone and each of the 11 distinct combination images holding it, each one MergeOp of the
// base and its chunks' diffs (none for the chunk alone), its tests in one container without a
// network, the combination images pushed.
func TestCIMergeFloor(t *testing.T) {
	p, err := newCIProject(t.TempDir(), "localhost:5055", 0, "lang-c", "lang-node")
	if err != nil {
		t.Fatal(err)
	}
	imgs := p.mergeFloorImages("lang-c")
	if len(imgs) != 12 || imgs[0].name != "chunk:lang-c" || !imgs[0].alone || imgs[1].alone {
		t.Fatalf("images %+v: want lang-c alone, then the 11 combination images", imgs)
	}
	tests, merges, langC := 0, 0, 0
	for _, img := range imgs {
		_, st := p.mergeFloorDef(img, 1)
		var testOp *pb.ExecOp
		for _, op := range llbOps(t, st) {
			switch o := op.Op.(type) {
			case *pb.Op_Merge:
				merges++
				if len(o.Merge.Inputs) != len(img.chunks)+1 {
					t.Errorf("%s: a merge of %d inputs, want the base and %d chunks", img.name, len(o.Merge.Inputs), len(img.chunks))
				}
			case *pb.Op_Exec:
				args := strings.Join(o.Exec.Meta.Args, " ")
				if o.Exec.Network == pb.NetMode_NONE {
					if testOp != nil {
						t.Errorf("%s: a second test container", img.name)
					}
					testOp = o.Exec
				} else if strings.Contains(args, `echo "lang-c $VERSION rev floor-1-`) {
					langC++
				}
			}
		}
		if testOp == nil {
			t.Fatalf("%s: no test container without a network", img.name)
		}
		tests += strings.Count(testOp.Meta.Args[2], " && ") + 1
	}
	if want := p.need(scEdit).Tests; tests != want {
		t.Errorf("the floor runs %d tests, need counts %d", tests, want)
	}
	if merges != 11 || langC != 12 {
		t.Errorf("%d merges and lang-c's edited step in %d images; want 11 and 12", merges, langC)
	}
	if cmds, _ := p.floorTestCommands([]string{"lang-c"}); len(cmds) != 1 || cmds[0] != `case "$(lang-c)" in *"lang-c "*) ;; *) exit 1;; esac` {
		t.Errorf("lang-c's tests: %q", cmds)
	}
}

// Bake's targets are held against the null frontend's bake (nothing changed, edit one test) and
// against that bake beside the merge floor (edit one chunk): a target is out of reach only when
// that floor alone misses it. Cold has no floor.
func TestCIBakeTargets(t *testing.T) {
	ci, err := newCIProject(t.TempDir(), "localhost:5055", 0, "lang-c", "lang-node")
	if err != nil {
		t.Fatal(err)
	}
	langC := func(s float64) Steps { return Steps{ChunkRun: map[string]float64{"lang-c": s}} }
	for _, tc := range []struct {
		name      string
		nullFloor float64 // the null frontend's bake, nothing changed
		editFloor float64 // null + merge (floor); 0: not measured
		llbCold   float64 // LLB frontend (floor), cold; 0: not measured
		llbEdit   float64 // LLB frontend (floor), edit one chunk
		coldFails bool    // bake's cold run failed
		want      []string
	}{
		{name: "floors over the targets", nullFloor: 14, editFloor: 20, want: []string{
			"missed CI scale cold: bake <= 0.1x dazzle                         0.150x (60.0 s vs 400.0 s)\n",
			"limit  CI scale nothing changed: bake <= 3 s", "21.0 s; null frontend (floor) 14.0 s\n",
			"limit  CI scale edit lang-c: bake <= 0.05x dazzle", "0.100x (30.0 s vs 300.0 s); null + merge (floor) 0.067x (20.0 s)\n",
			"limit  CI scale edit lang-c: bake <= 3x its RUN steps", "6.0x (30.0 s vs 5.0 s); null + merge (floor) 8.0x (20.0 s vs 2.5 s)\n",
			"limit  CI scale edit one test: bake <= 2 s", "27.0 s; null frontend (floor) 14.0 s\n",
		}},
		{name: "floors under the targets", nullFloor: 2.5, editFloor: 7, want: []string{
			"missed CI scale nothing changed: bake <= 3 s", "21.0 s; null frontend (floor) 2.5 s\n",
			"missed CI scale edit lang-c: bake <= 0.05x dazzle", "null + merge (floor) 0.023x (7.0 s)\n",
			"missed CI scale edit lang-c: bake <= 3x its RUN steps", "null + merge (floor) 2.8x (7.0 s vs 2.5 s)\n",
			"limit  CI scale edit one test: bake <= 2 s", "27.0 s; null frontend (floor) 2.5 s\n",
		}},
		{name: "cold bake failed", nullFloor: 14, editFloor: 20, coldFails: true, want: []string{
			"n/a    CI scale cold: bake <= 0.1x dazzle                         not measured\n",
			"limit  CI scale edit lang-c: bake <= 0.05x dazzle", "0.100x (30.0 s vs 300.0 s); null + merge (floor) 0.067x (20.0 s)\n",
		}},
		{name: "LLB floor over cold, the higher edit floor", nullFloor: 14, editFloor: 20, llbCold: 50, llbEdit: 22, want: []string{
			"limit  CI scale cold: bake <= 0.1x dazzle", "0.150x (60.0 s vs 400.0 s); LLB frontend (floor) 0.125x (50.0 s)\n",
			"limit  CI scale edit lang-c: bake <= 0.05x dazzle", "0.100x (30.0 s vs 300.0 s); LLB frontend (floor) 0.073x (22.0 s)\n",
			"limit  CI scale edit lang-c: bake <= 3x its RUN steps", "6.0x (30.0 s vs 5.0 s); LLB frontend (floor) 8.8x (22.0 s vs 2.5 s)\n",
		}},
		{name: "LLB floor under cold, lower than null + merge", nullFloor: 14, editFloor: 20, llbCold: 30, llbEdit: 18, want: []string{
			"missed CI scale cold: bake <= 0.1x dazzle", "0.150x (60.0 s vs 400.0 s); LLB frontend (floor) 0.075x (30.0 s)\n",
			"limit  CI scale edit lang-c: bake <= 0.05x dazzle", "0.100x (30.0 s vs 300.0 s); null + merge (floor) 0.067x (20.0 s)\n",
		}},
		{name: "no floor beside bake", nullFloor: 14, want: []string{
			"missed CI scale cold: bake <= 0.1x dazzle                         0.150x (60.0 s vs 400.0 s)\n",
			"missed CI scale edit lang-c: bake <= 0.05x dazzle                 0.100x (30.0 s vs 300.0 s)\n",
		}},
	} {
		runs := []Run{
			{Tool: toolDazzle, Scenario: scCold, Seconds: 400},
			{Tool: toolDazzle, Scenario: scEdit, Seconds: 300},
			{Tool: toolBake, Scenario: scCold, Seconds: 60},
			{Tool: toolBake, Scenario: scWarm, Seconds: 21},
			{Tool: toolBake, Scenario: scEdit, Seconds: 30, Steps: langC(5)},
			{Tool: toolBake, Scenario: scEditTest, Seconds: 27},
			{Tool: toolGWFloor, Scenario: scWarm, Seconds: tc.nullFloor},
		}
		if tc.editFloor > 0 {
			runs = append(runs, Run{Tool: toolBakeFloor, Scenario: scEdit, Seconds: tc.editFloor, Steps: langC(2.5)})
		}
		if tc.llbCold > 0 {
			runs = append(runs, Run{Tool: toolLLBFloor, Scenario: scCold, Seconds: tc.llbCold},
				Run{Tool: toolLLBFloor, Scenario: scEdit, Seconds: tc.llbEdit, Steps: langC(2.5)})
		}
		for i := range runs {
			runs[i].N, runs[i].Project, runs[i].OK = ci.chunkCount(), "ci", true
		}
		runs[2].OK = !tc.coldFails
		r := &Results{CI: summarizeCI(ci, runs)}
		r.ciTargets()
		table := r.table()
		for _, line := range tc.want {
			if !strings.Contains(table, line) {
				t.Errorf("%s: table lacks %q:\n%s", tc.name, line, table)
			}
		}
	}
}
