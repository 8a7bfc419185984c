package integration

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/dazzlekit/dazzlekit/internal/registry"
)

// Forced onto the path a BuildKit without DiffOp/MergeOp takes (Docker's classic image store), the
// example's "full" combination has the same files, env and tests as with DiffOp/MergeOp, one layer
// per chunk in dazzle's order, and the build says why it composed that way.
func TestCopyStackFallback(t *testing.T) {
	e := stack(t)
	dir := exampleDir("devtools")
	mergedRef, copiedRef := e.ref(t, "merged"), e.ref(t, "copied")
	e.mustBuild(t, dir, map[string]string{"target": "full"}, mergedRef)
	p := e.mustBuild(t, dir, map[string]string{"target": "full", "build-arg:DAZZLE_DISABLE_DIFF_MERGE": "1"}, copiedRef)

	want := "NoDiffMerge: composing without DiffOp/MergeOp (build-arg DAZZLE_DISABLE_DIFF_MERGE is set): each chunk's own changes are copied onto the chunks before it"
	if n := len(p.warnings); n != 1 || !strings.HasPrefix(p.warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", p.warnings, want)
	}
	merged, copied := image(t, mergedRef), image(t, copiedRef)
	if got, want := flat(t, copied), flat(t, merged); got != want {
		t.Errorf("the copied image's files differ from the merged image's:\n--- copied\n%s\n--- merged\n%s", got, want)
	}
	if g, w := strings.Join(copied.Config.Config.Env, "\n"), strings.Join(merged.Config.Config.Env, "\n"); g != w {
		t.Errorf("env differs:\n%s\nvs\n%s", g, w)
	}
	owners := layersByOwner(t, copied)
	for _, ch := range []string{"cleanup", "hello", "lang:2", "tool"} {
		if len(owners[ch]) != 1 {
			t.Errorf("chunk %s has %d layers, want its changes in one: %v", ch, len(owners[ch]), owners)
		}
	}
	if b, m := owners["base"], layersByOwner(t, merged)["base"]; strings.Join(b, ",") != strings.Join(m, ",") {
		t.Errorf("base layers differ: %v vs %v", b, m)
	}
	for _, want := range []string{"[chunk cleanup] own changes, copied onto full", "[chunk tool] own changes, copied onto full"} {
		if !strings.Contains(strings.Join(p.names(), "\n"), want) {
			t.Errorf("no vertex %q; vertices: %v", want, p.names())
		}
	}
	// The image's tests in one op, as with DiffOp/MergeOp: the runner itself tells what a test wrote.
	if !slices.Contains(p.testsRan(), "[test full] it should run the tool built in another stage") {
		t.Errorf("the combination's tests did not run; ran %q", p.testsRan())
	}
	var ops []string
	for _, n := range p.ran("[test full] ") {
		if !strings.Contains(n, "(again alone: ") {
			ops = append(ops, n)
		}
	}
	if len(ops) != 1 || !strings.Contains(ops[0], " tests: ") {
		t.Errorf("the combination's tests ran in ops %q, want one", ops)
	}
}

// flat lists an image's files, one line each: path, type and mode, owner, content or link target.
func flat(t *testing.T, img *registry.Image) string {
	t.Helper()
	var lines []string
	for p, f := range files(t, img) {
		lines = append(lines, fmt.Sprintf("%s dir=%v mode=%o %d:%d link=%q %q", p, f.Dir, f.Mode, f.Uid, f.Gid, f.Link, f.Data))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}
