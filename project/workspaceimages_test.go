package project

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// TestWorkspaceImages loads a checkout of gitpod's workspace-images, the largest dazzle project
// we know of, when DAZZLEKIT_WORKSPACE_IMAGES names one.
func TestWorkspaceImages(t *testing.T) {
	dir := os.Getenv("DAZZLEKIT_WORKSPACE_IMAGES")
	if dir == "" {
		t.Skip("set DAZZLEKIT_WORKSPACE_IMAGES to a checkout of github.com/gitpod-io/workspace-images")
	}
	cfg, err := os.ReadFile(filepath.Join(dir, "dazzle.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load(os.DirFS(dir), "dazzle.yaml", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, w := range p.Warnings {
		warnings = append(warnings, fmt.Sprintf("%s %s:%d", w.Rule, w.File, w.Line))
	}
	// dazzle ignores both files: neither has a chunk folder.
	if want := []string{"TestsWithoutChunk tests/lang-php.yaml:1", "TestsWithoutChunk tests/prologue.yaml:1"}; !reflect.DeepEqual(warnings, want) {
		t.Errorf("warnings %v, want %v", warnings, want)
	}
	folders := map[string]bool{}
	for _, c := range p.Chunks {
		folders[c.Folder] = true
	}
	tests := 0
	for _, ts := range p.Tests {
		tests += len(ts)
	}
	if len(p.Config.Combinations) != 41 {
		t.Errorf("%d combinations, want 41", len(p.Config.Combinations))
	}
	for _, c := range p.Config.Combinations {
		if chunks, err := p.Combination(c.Name); err != nil || len(chunks) == 0 {
			t.Errorf("combination %s: %d chunks, %v", c.Name, len(chunks), err)
		}
	}
	t.Logf("%d combinations, %d chunk folders, %d chunks (variants counted), %d tests in %d files, %d warnings",
		len(p.Config.Combinations), len(folders), len(p.Chunks), tests, len(p.Tests), len(p.Warnings))
}
