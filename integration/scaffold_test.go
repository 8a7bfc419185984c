package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A project started with `dazzlekit project init`, given a chunk with `project init <chunk>` and a
// combination with `project add-combination`, builds through docker buildx with its scaffolded test.
func TestScaffoldedProjectBuilds(t *testing.T) {
	e := stack(t)
	if e.frontend == "" || e.runner == "" {
		t.Fatal("needs DAZZLEKIT_FRONTEND_IMAGE and DAZZLEKIT_RUNNER_DIR (hack/test.sh sets both)")
	}
	dir := t.TempDir()
	bin := filepath.Join(e.runner, "dazzlekit")
	for _, args := range [][]string{
		{"project", "init", "--frontend", e.frontend},
		{"project", "init", "hello"},
		{"project", "add-combination", "all", "hello"},
		{"project", "ignore", "old-*"},
	} {
		if out, err := run(t, dir, bin, args...); err != nil {
			t.Fatalf("dazzlekit %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// No public registry here: the scaffolded base (ubuntu) becomes the local busybox.
	if err := os.WriteFile(filepath.Join(dir, "base", "Dockerfile"), []byte(okBase), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := e.ref(t, "all")
	out, err := run(t, dir, "docker", "buildx", "build", "--progress=plain", "-f", filepath.Join(dir, "dazzle.yaml"),
		"--target", "all", "--build-arg", "REGISTRY="+e.registry, "--provenance=false",
		"--output", "type=image,name="+ref+",push=true", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "[test all] it should say hello") {
		t.Errorf("the scaffolded test did not run on the combination:\n%s", out)
	}
	if got := owners(t, ref); len(got) != 0 {
		t.Errorf("the empty chunk hello added layers %v", got)
	}
}
