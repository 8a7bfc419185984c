package main

import (
	"fmt"
	"slices"
	"strings"
)

// CIResults are the CI-scale project's shape and figures.
type CIResults struct {
	Folders      int `json:"chunkFolders"`
	Chunks       int `json:"chunks"`
	UsedChunks   int `json:"chunksInCombinations"` // what bake builds; dazzle builds every chunk
	Combinations int `json:"combinations"`
	// The edited chunk folder, and the combinations that hold one of its chunks.
	EditChunk             string          `json:"editChunk"`
	EditChunkCombinations int             `json:"editChunkCombinations"`
	EditTest              string          `json:"editTest"`
	EditTestCombinations  int             `json:"editTestCombinations"`
	Need                  map[string]Need `json:"need"`
	Summary               []Summary       `json:"summary"`
}

func summarizeCI(p *ciProject, runs []Run) *CIResults {
	ci := &CIResults{Folders: len(p.folders), Chunks: p.chunkCount(), UsedChunks: len(p.usedChunks()), Combinations: len(p.combs),
		EditChunk: p.EditChunk, EditChunkCombinations: len(p.combinationsWith(p.EditChunk)),
		EditTest: p.EditTest, EditTestCombinations: len(p.combinationsWith(p.EditTest)), Need: map[string]Need{}}
	for _, sc := range ciScenarios {
		ci.Need[sc] = p.need(sc)
		var kit *Summary
		first := len(ci.Summary)
		for _, tool := range []string{toolDazzle, toolBake, toolFloor, toolGWFloor, toolBakeFloor, toolLLBFloor, toolBuild, toolTestFloor, toolMergeFloor} {
			s := newSummary(runs, "ci", ci.Chunks, sc, tool)
			if s.Reps == 0 {
				continue
			}
			s.EditedRunSeconds = round(s.Steps.folderRunSeconds(p.EditChunk), 2)
			ci.Summary = append(ci.Summary, s)
		}
		for i := first; i < len(ci.Summary); i++ {
			if ci.Summary[i].Tool == toolBake && ci.Summary[i].hasMedian && ci.Summary[i].Median > 0 {
				kit = &ci.Summary[i]
			}
		}
		for i := first; kit != nil && i < len(ci.Summary); i++ {
			if s := &ci.Summary[i]; s.hasMedian {
				s.VsKit = round(s.Median/kit.Median, 2)
			}
		}
	}
	return ci
}

func (ci *CIResults) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nCI scale (gitpod workspace-images' shape): %d chunk folders, %d chunks (%d in combinations), %d combinations, %d RUN steps of ~1 s and 2 MB per chunk; the median of each tool's runs, every run's time in the last column\n",
		ci.Folders, ci.Chunks, ci.UsedChunks, ci.Combinations, ciStepsPerChunk)
	fmt.Fprintf(&b, "need: the least work a scenario demands, every chunk tested alone and in each distinct combination image holding it; %s RUN s: the edited chunk folder's RUN steps, summed from the progress stream\n", ci.EditChunk)
	fmt.Fprintf(&b, "%-16s %-22s %9s %8s %6s %11s %15s %10s %9s  %s\n", "scenario", "tool", "median", "RUN ran", "tests", "exec cached", "vertices ran/c", ci.EditChunk+" RUN s", "x bake", "runs")
	for _, sc := range ciScenarios {
		n := ci.Need[sc]
		fmt.Fprintf(&b, "%-16s %-22s %9s %8d %6d   (%s)\n", sc, "need", "", n.Run, n.Tests, n.Why)
		for _, s := range ci.Summary {
			if s.Scenario != sc {
				continue
			}
			if !s.hasMedian {
				fmt.Fprintf(&b, "%-16s %-22s %9s\n", "", s.Tool, fmt.Sprintf("failed %d/%d", s.Failed, s.Reps))
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
			fmt.Fprintf(&b, "%-16s %-22s %9s %8d %6d %11d %15s %10.1f %9s  %s\n", "", s.Tool, med, s.Steps.RunRan, s.Steps.TestsRan,
				s.Steps.ExecCached, fmt.Sprintf("%d/%d", s.Steps.VertexRan, s.Steps.VertexCached), s.EditedRunSeconds, ratio, runTimes(s.All))
		}
	}
	return b.String()
}

// runTimes lists the time of every run that succeeded, in the order they ran, so a median shows
// its spread (the median column counts the failed ones).
func runTimes(all []float64) string {
	ts := make([]string, len(all))
	for i, v := range all {
		ts[i] = fmt.Sprintf("%.1f", v)
	}
	return strings.Join(ts, " ")
}

// ciTargets are the CI-scale project's targets, for `dazzlekit build` and for bake. Each is also
// held against a floor of the same run where one was measured: when the floor alone misses the
// target, the target is out of reach here. dazzlekit build's floors are the tests alone and the
// merge floor; bake's are the null frontend's bake (what any bake through a frontend image pays with
// nothing to build), for an edit that bake beside the merge floor (ciBakeFloor), and for cold and
// edit the bake of frontends that each solve their target's merge floor (ciLLBFloor).
func (r *Results) ciTargets() {
	ci := r.CI
	find := func(sc, tool string) *Summary {
		for i := range ci.Summary {
			if s := &ci.Summary[i]; s.Scenario == sc && s.Tool == tool && s.hasMedian {
				return s
			}
		}
		return nil
	}
	name := map[string]string{toolBuild: "dazzlekit build", toolBake: "bake"}
	vsDazzle := func(sc, tool, what string, limit float64, floor *Summary) {
		t := Target{What: fmt.Sprintf(what, name[tool]), Measured: "not measured"}
		if b, d := find(sc, tool), find(sc, toolDazzle); b != nil && d != nil && d.Median > 0 {
			v := b.Median / d.Median
			t.Known, t.Met, t.Measured = true, v <= limit, fmt.Sprintf("%.3fx (%.1f s vs %.1f s)", v, b.Median, d.Median)
			if floor != nil {
				fv := floor.Median / d.Median
				t.OutOfReach = !t.Met && fv > limit
				t.Measured += fmt.Sprintf("; %s %.3fx (%.1f s)", floor.Tool, fv, floor.Median)
			}
		}
		r.Targets = append(r.Targets, t)
	}
	seconds := func(sc, tool, what string, limit float64, floor *Summary) {
		t := Target{What: fmt.Sprintf(what, name[tool]), Measured: "not measured"}
		if b := find(sc, tool); b != nil {
			t.Known, t.Met, t.Measured = true, b.Median <= limit, fmt.Sprintf("%.1f s", b.Median)
			if floor != nil {
				t.OutOfReach = !t.Met && floor.Median > limit
				t.Measured += fmt.Sprintf("; %s %.1f s", floor.Tool, floor.Median)
			}
		}
		r.Targets = append(r.Targets, t)
	}
	// Editing a chunk is held against its own steps, each figure against the edited folder's steps
	// in its own stream: when the floor alone is over 3x, so is any tool composing by MergeOp.
	vsSteps := func(tool string, floor *Summary) {
		t := Target{What: fmt.Sprintf("CI scale edit %s: %s <= 3x its RUN steps", ci.EditChunk, name[tool]), Measured: "not measured"}
		if b := find(scEdit, tool); b != nil && b.EditedRunSeconds > 0 {
			v := b.Median / b.EditedRunSeconds
			t.Known, t.Met, t.Measured = true, v <= 3, fmt.Sprintf("%.1fx (%.1f s vs %.1f s)", v, b.Median, b.EditedRunSeconds)
			if floor != nil && floor.EditedRunSeconds > 0 {
				fv := floor.Median / floor.EditedRunSeconds
				t.OutOfReach = !t.Met && fv > 3
				t.Measured += fmt.Sprintf("; %s %.1fx (%.1f s vs %.1f s)", floor.Tool, fv, floor.Median, floor.EditedRunSeconds)
			}
		}
		r.Targets = append(r.Targets, t)
	}
	edit := "CI scale edit " + ci.EditChunk + ": %s <= 0.05x dazzle"
	vsDazzle(scCold, toolBuild, "CI scale cold: %s <= 0.1x dazzle", 0.1, nil)
	seconds(scWarm, toolBuild, "CI scale nothing changed: %s <= 3 s", 3, nil)
	vsDazzle(scEdit, toolBuild, edit, 0.05, nil)
	vsSteps(toolBuild, find(scEdit, toolMergeFloor))
	seconds(scEditTest, toolBuild, "CI scale edit one test: %s <= 2 s", 2, find(scEditTest, toolTestFloor))
	// Bake's targets are reported whenever bake ran, as "not measured" where a run of it failed,
	// so that a failed cold bake does not hide the figures of the others.
	if !slices.ContainsFunc(ci.Summary, func(s Summary) bool { return s.Tool == toolBake }) {
		return
	}
	// The null frontend's bake with nothing to do is what any bake through a frontend image pays, so
	// it is the floor under "nothing changed" and under "edit one test" alike.
	nothing := find(scWarm, toolGWFloor)
	// Both edit floors do less than any bake through a frontend image must, so the higher is one too.
	editFloor := find(scEdit, toolBakeFloor)
	if f := find(scEdit, toolLLBFloor); f != nil && (editFloor == nil || f.Median > editFloor.Median) {
		editFloor = f
	}
	vsDazzle(scCold, toolBake, "CI scale cold: %s <= 0.1x dazzle", 0.1, find(scCold, toolLLBFloor))
	seconds(scWarm, toolBake, "CI scale nothing changed: %s <= 3 s", 3, nothing)
	vsDazzle(scEdit, toolBake, edit, 0.05, editFloor)
	vsSteps(toolBake, editFloor)
	seconds(scEditTest, toolBake, "CI scale edit one test: %s <= 2 s", 2, nothing)
}
