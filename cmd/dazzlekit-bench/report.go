package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Results is everything one benchmark run measured; it is written as JSON.
type Results struct {
	Date                    string            `json:"date"`
	Machine                 map[string]string `json:"machine"`
	Sizes                   []int             `json:"sizes"`
	FrontendImage           string            `json:"frontendImage,omitempty"`
	FrontendCompressedBytes int64             `json:"frontendImageCompressedBytes,omitempty"`
	GoBench                 []GoBench         `json:"goBench,omitempty"`
	Summary                 []Summary         `json:"summary"`
	Targets                 []Target          `json:"targets"`
	CI                      *CIResults        `json:"ci,omitempty"`
	Runs                    []Run             `json:"runs"`
	TotalSeconds            float64           `json:"totalSeconds"`
	Table                   string            `json:"table"`
}

// Summary is one row of the table: the median of a tool's repetitions of a scenario.
type Summary struct {
	N        int       `json:"n"`
	Scenario string    `json:"scenario"`
	Tool     string    `json:"tool"`
	Reps     int       `json:"reps"`
	Failed   int       `json:"failed"`
	Median   float64   `json:"medianSeconds"`
	All      []float64 `json:"seconds"`
	Steps    Steps     `json:"steps"` // of the repetition whose time is the median
	VsKit    float64   `json:"ratioToDazzlekit,omitempty"`
	// The CI-scale edited chunk folder's RUN steps in the median repetition (ci.go).
	EditedRunSeconds float64 `json:"editedChunkRunSeconds,omitempty"`
	hasMedian        bool
}

// Target is one of the design targets and whether this run met it.
type Target struct {
	What     string `json:"what"`
	Measured string `json:"measured"`
	Met      bool   `json:"met"`
	Known    bool   `json:"known"` // false when the figures it needs are missing
	// A floor measured in the same run (what the work that has to run costs alone) is itself above
	// the target: no tool could meet it on this machine.
	OutOfReach bool `json:"outOfReach,omitempty"`
}

// GoBench is one line of `go test -bench -benchmem` output.
type GoBench struct {
	Name        string  `json:"name"`
	Iterations  int64   `json:"iterations"`
	NsPerOp     float64 `json:"nsPerOp"`
	BytesPerOp  int64   `json:"bytesPerOp"`
	AllocsPerOp int64   `json:"allocsPerOp"`
}

var toolOrder = []string{toolDazzle, toolMono, toolKit, toolKitNoTests, toolBuild, toolChunkFloor, toolMergeFloor, toolLLBFloor}

func (r *Results) find(n int, sc, tool string) *Summary {
	for i := range r.Summary {
		s := &r.Summary[i]
		if s.N == n && s.Scenario == sc && s.Tool == tool {
			return s
		}
	}
	return nil
}

// newSummary is the median of the runs of one project, size, scenario and tool.
func newSummary(runs []Run, project string, n int, sc, tool string) Summary {
	s := Summary{N: n, Scenario: sc, Tool: tool}
	var ok []Run
	for _, run := range runs {
		if run.Project != project || run.N != n || run.Scenario != sc || run.Tool != tool {
			continue
		}
		s.Reps++
		if !run.OK {
			s.Failed++
			continue
		}
		ok = append(ok, run)
		s.All = append(s.All, run.Seconds)
	}
	if len(ok) > 0 {
		s.Median = median(s.All)
		s.hasMedian = true
		best := ok[0]
		for _, run := range ok {
			if abs(run.Seconds-s.Median) < abs(best.Seconds-s.Median) {
				best = run
			}
		}
		s.Steps = best.Steps
	}
	return s
}

func (r *Results) summarize() {
	for _, n := range r.Sizes {
		for _, sc := range scenarios {
			for _, tool := range toolOrder {
				s := newSummary(r.Runs, "", n, sc, tool)
				if s.Reps == 0 {
					continue
				}
				r.Summary = append(r.Summary, s)
			}
			if kit := r.find(n, sc, toolKit); kit != nil && kit.hasMedian && kit.Median > 0 {
				for i := range r.Summary {
					s := &r.Summary[i]
					if s.N == n && s.Scenario == sc && s.hasMedian {
						s.VsKit = round(s.Median/kit.Median, 2)
					}
				}
			}
		}
	}
	r.targets()
}

// ratio is a/b for the medians of two tools, when both exist.
func (r *Results) ratio(n int, sc, a, b string) (float64, bool) {
	x, y := r.find(n, sc, a), r.find(n, sc, b)
	if x == nil || y == nil || !x.hasMedian || !y.hasMedian || y.Median == 0 {
		return 0, false
	}
	return x.Median / y.Median, true
}

func (r *Results) targets() {
	if len(r.Sizes) > 0 {
		r.sizeTargets()
	}
	t := Target{What: "LLB generation for 100 chunks < 1 s", Measured: "not measured"}
	for _, b := range r.GoBench {
		if strings.HasPrefix(b.Name, "BenchmarkGenerateLLB") {
			t.Known = true
			t.Measured = fmt.Sprintf("%.3f s", b.NsPerOp/1e9)
			t.Met = b.NsPerOp < 1e9
		}
	}
	r.Targets = append(r.Targets, t)
	// One frontend invocation, as bake starts one per target, for a target of all 100 chunks.
	for _, inv := range []struct{ name, what string }{
		{"BenchmarkInvocation/target=comb49/no-test", "one invocation, 100 chunks, no tests: <= 0.1 s, <= 40 MB"},
		{"BenchmarkInvocation/target=comb49/tests", "one invocation, 100 chunks, tested: <= 0.1 s, <= 40 MB"},
	} {
		t := Target{What: inv.what, Measured: "not measured"}
		for _, b := range r.GoBench {
			if strings.HasPrefix(b.Name, inv.name+"-") || b.Name == inv.name {
				t.Known = true
				t.Measured = fmt.Sprintf("%.3f s, %.1f MB", b.NsPerOp/1e9, float64(b.BytesPerOp)/1e6)
				t.Met = b.NsPerOp <= 1e8 && b.BytesPerOp <= 40e6
			}
		}
		r.Targets = append(r.Targets, t)
	}
	t = Target{What: "frontend image <= 15 MB compressed", Measured: "not measured"}
	if r.FrontendCompressedBytes > 0 {
		t.Known = true
		t.Measured = fmt.Sprintf("%.1f MB", float64(r.FrontendCompressedBytes)/1e6)
		t.Met = r.FrontendCompressedBytes <= 15e6
	}
	r.Targets = append(r.Targets, t)
}

// sizeTargets are the targets on the projects of N independent chunks.
func (r *Results) sizeTargets() {
	small := r.Sizes[0]
	add := func(what string, v float64, ok bool, limit float64) {
		t := Target{What: what, Known: ok}
		if ok {
			t.Measured = fmt.Sprintf("%.3fx", v)
			t.Met = v <= limit
		} else {
			t.Measured = "not measured"
		}
		r.Targets = append(r.Targets, t)
	}
	v, ok := r.ratio(small, scCold, toolKit, toolDazzle)
	add(fmt.Sprintf("N=%d cold build: dazzlekit <= 0.2x dazzle", small), v, ok, 0.2)
	v, ok = r.ratio(small, scEdit, toolKit, toolDazzle)
	add(fmt.Sprintf("N=%d edit-one rebuild: dazzlekit <= 0.25x dazzle", small), v, ok, 0.25)
	v, ok = r.ratio(small, scEdit, toolKit, toolMono)
	add(fmt.Sprintf("N=%d edit-one rebuild: dazzlekit <= 0.35x monolithic", small), v, ok, 0.35)
	if s := r.find(small, scEdit, toolKit); s != nil && s.hasMedian {
		want := "chunk " + chunkName(small/2) + " "
		var others []string
		for _, name := range s.Steps.RanExec {
			if isRun(name) && !strings.Contains(name, want) {
				others = append(others, name)
			}
		}
		t := Target{What: fmt.Sprintf("N=%d edit-one: only the edited chunk's RUN steps executed", small), Known: true, Met: len(others) == 0 && s.Steps.RunRan > 0}
		t.Measured = fmt.Sprintf("%d RUN steps ran, %d of other chunks; %d tests ran", s.Steps.RunRan, len(others), s.Steps.TestsRan)
		r.Targets = append(r.Targets, t)
	}
	for _, n := range r.Sizes[1:] {
		v, ok = r.ratio(n, scEdit, toolKit, toolDazzle)
		add(fmt.Sprintf("N=%d edit-one rebuild: dazzlekit <= 0.1x dazzle", n), v, ok, 0.1)
	}
	// One combination: an edit against the edited chunk's own RUN steps, from the same run's stream.
	for _, n := range r.Sizes {
		for _, tool := range []string{toolKit, toolKitNoTests, toolBuild} {
			s := r.find(n, scEdit, tool)
			own := 0.0
			if s != nil {
				own = s.Steps.ChunkRun[chunkName(n/2)]
			}
			t := Target{What: fmt.Sprintf("N=%d edit-one: %s <= 1.25x the chunk's steps", n, tool), Measured: "not measured"}
			if s != nil && s.hasMedian && own > 0 {
				t.Known, t.Met = true, s.Median/own <= 1.25
				t.Measured = fmt.Sprintf("%.2fx (%.2f s vs %.2f s)", s.Median/own, s.Median, own)
				// Out of reach when a floor of the same run is over the target itself: the chunk alone
				// (no diff, no merge), or the least a composition by MergeOp pays; and for the frontend
				// image's builds, that composition through a frontend image (dazzlekit build starts none).
				floors := []string{toolChunkFloor, toolMergeFloor}
				if tool == toolKit {
					floors = append(floors, toolLLBFloor)
				}
				for _, floor := range floors {
					f := r.find(n, scEdit, floor)
					if tool == toolKitNoTests || f == nil || !f.hasMedian || f.Steps.ChunkRun[chunkName(n/2)] <= 0 {
						continue
					}
					fown := f.Steps.ChunkRun[chunkName(n/2)]
					t.OutOfReach = t.OutOfReach || !t.Met && f.Median/fown > 1.25
					t.Measured += fmt.Sprintf("; %s %.2fx (%.2f s vs %.2f s)", floor, f.Median/fown, f.Median, fown)
				}
			}
			r.Targets = append(r.Targets, t)
		}
	}
}

func (r *Results) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "dazzlekit benchmark, %s, %s cores (%s), %s\n", r.Date, r.Machine["cores"], r.Machine["cpu"], r.Machine["memory"])
	for _, n := range r.Sizes {
		reps := 0
		for _, s := range r.Summary {
			if s.N == n && s.Reps > reps {
				reps = s.Reps
			}
		}
		fmt.Fprintf(&b, "\nN=%d chunks, median of %d run(s)\n", n, reps)
		fmt.Fprintf(&b, "%-16s %-22s %9s %8s %6s %11s %15s %9s\n", "scenario", "tool", "median", "RUN ran", "tests", "exec cached", "vertices ran/c", "x kit")
		for _, sc := range scenarios {
			for _, tool := range toolOrder {
				s := r.find(n, sc, tool)
				if s == nil {
					continue
				}
				if !s.hasMedian {
					fmt.Fprintf(&b, "%-16s %-22s %9s\n", sc, tool, fmt.Sprintf("failed %d/%d", s.Failed, s.Reps))
					continue
				}
				ratio := "-"
				if s.VsKit > 0 {
					ratio = fmt.Sprintf("%.2fx", s.VsKit)
				}
				med := fmt.Sprintf("%.1fs", s.Median)
				if s.Failed > 0 {
					med += fmt.Sprintf(" (%d failed)", s.Failed)
				}
				fmt.Fprintf(&b, "%-16s %-22s %9s %8d %6d %11d %15s %9s\n", sc, tool, med, s.Steps.RunRan, s.Steps.TestsRan,
					s.Steps.ExecCached, fmt.Sprintf("%d/%d", s.Steps.VertexRan, s.Steps.VertexCached), ratio)
			}
		}
	}
	if r.CI != nil {
		b.WriteString(r.CI.table())
	}
	if len(r.GoBench) > 0 {
		b.WriteString("\nwithout a daemon (go test -bench, 100 chunks, 50 combinations)\n")
		for _, g := range r.GoBench {
			fmt.Fprintf(&b, "  %-46s %12.2f ms/op %14d B/op %10d allocs/op\n", g.Name, g.NsPerOp/1e6, g.BytesPerOp, g.AllocsPerOp)
		}
	}
	if r.FrontendCompressedBytes > 0 {
		fmt.Fprintf(&b, "\nfrontend image: %.1f MB compressed (%s)\n", float64(r.FrontendCompressedBytes)/1e6, r.FrontendImage)
	}
	b.WriteString("\ntargets\n")
	for _, t := range r.Targets {
		mark := "missed"
		switch {
		case !t.Known:
			mark = "n/a"
		case t.OutOfReach:
			mark = "limit"
		case t.Met:
			mark = "met"
		}
		fmt.Fprintf(&b, "  %-6s %-58s %s\n", mark, t.What, t.Measured)
	}
	fmt.Fprintf(&b, "\ntotal benchmark time: %.0fs\n", r.TotalSeconds)
	return b.String()
}

var (
	benchLine   = regexp.MustCompile(`^(Benchmark\S+)\s+(\d+)\s+([0-9.]+) ns/op`)
	benchBytes  = regexp.MustCompile(`\s(\d+) B/op`)
	benchAllocs = regexp.MustCompile(`\s(\d+) allocs/op`)
)

func parseGoBench(path string) []GoBench {
	f, err := os.Open(path)
	if err != nil {
		logf("go bench output: %v", err)
		return nil
	}
	defer f.Close()
	var out []GoBench
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		g := GoBench{Name: m[1]}
		g.Iterations, _ = strconv.ParseInt(m[2], 10, 64)
		g.NsPerOp, _ = strconv.ParseFloat(m[3], 64)
		if m := benchBytes.FindStringSubmatch(sc.Text()); m != nil {
			g.BytesPerOp, _ = strconv.ParseInt(m[1], 10, 64)
		}
		if m := benchAllocs.FindStringSubmatch(sc.Text()); m != nil {
			g.AllocsPerOp, _ = strconv.ParseInt(m[1], 10, 64)
		}
		out = append(out, g)
	}
	return out
}

// imageSize is what a pull of the image's linux/amd64 manifest transfers: its config and layers,
// compressed as stored in the registry.
func imageSize(ref string) (int64, error) {
	slash := strings.Index(ref, "/")
	if slash < 0 {
		return 0, fmt.Errorf("%s: no registry host", ref)
	}
	host, rest := ref[:slash], ref[slash+1:]
	repo, tag := rest, "latest"
	if i := strings.LastIndex(rest, ":"); i > 0 {
		repo, tag = rest[:i], rest[i+1:]
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Size      int64  `json:"size"`
		Platform  *struct {
			OS           string `json:"os"`
			Architecture string `json:"architecture"`
		} `json:"platform"`
	}
	var doc struct {
		Manifests []desc `json:"manifests"`
		Config    desc   `json:"config"`
		Layers    []desc `json:"layers"`
	}
	get := func(reference string) error {
		req, _ := http.NewRequest("GET", "http://"+host+"/v2/"+repo+"/manifests/"+reference, nil)
		req.Header.Set("Accept", "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s: %s", ref, resp.Status)
		}
		doc.Manifests, doc.Layers = nil, nil
		return json.NewDecoder(resp.Body).Decode(&doc)
	}
	if err := get(tag); err != nil {
		return 0, err
	}
	if len(doc.Manifests) > 0 {
		d := doc.Manifests[0]
		for _, m := range doc.Manifests {
			if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == "amd64" {
				d = m
			}
		}
		if err := get(d.Digest); err != nil {
			return 0, err
		}
	}
	total := doc.Config.Size
	for _, l := range doc.Layers {
		total += l.Size
	}
	return total, nil
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
