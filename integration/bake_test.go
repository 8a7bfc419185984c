package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// `dazzlekit bake` writes one bake target per combination; one `docker buildx bake --push` of its
// output builds and pushes every combination of the example, each with its own chunks.
func TestBakeEveryCombination(t *testing.T) {
	e := stack(t)
	if e.frontend == "" || e.runner == "" {
		t.Fatal("needs DAZZLEKIT_FRONTEND_IMAGE and DAZZLEKIT_RUNNER_DIR (hack/test.sh sets both)")
	}
	dir := copyProject(t, exampleDir("devtools"))
	// Without a `# syntax=` line, so --frontend has to supply BUILDKIT_SYNTAX.
	yml := filepath.Join(dir, "dazzle.yaml")
	dt, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(yml, regexp.MustCompile(`(?m)^# syntax=.*\n`).ReplaceAll(dt, nil), 0o644); err != nil {
		t.Fatal(err)
	}
	repo := strings.TrimSuffix(e.ref(t, "x"), ":x")

	def, err := run(t, dir, filepath.Join(e.runner, "dazzlekit"), "bake", "--registry", repo, "--frontend", e.frontend)
	if err != nil {
		t.Fatalf("dazzlekit bake: %v\n%s", err, def)
	}
	if err := os.WriteFile(filepath.Join(dir, "docker-bake.json"), []byte(def), 0o644); err != nil {
		t.Fatal(err)
	}
	// BuildKit can fail one of several pushes of images sharing layers at once ("provided digest did
	// not match uploaded content": moby/buildkit#3856), as dazzlekit build's retries say. A user runs
	// the bake again, and so does this test: everything but the push is cached by then.
	var out string
	for attempt := 1; ; attempt++ {
		o, err := run(t, dir, "docker", "buildx", "bake", "--progress=plain", "--push",
			"--set", "*.args.REGISTRY="+e.registry, "--set", "*.attest=type=provenance,disabled=true")
		out += o
		if err != nil && attempt < 3 && strings.Contains(o, "failed to push ") {
			t.Logf("docker buildx bake failed to push, attempt %d: again", attempt)
			continue
		}
		if err != nil {
			t.Fatalf("docker buildx bake: %v\n%s", err, out)
		}
		break
	}
	for comb, want := range map[string][]string{
		"minimal": {"hello"},
		"full":    {"cleanup", "hello", "lang:2", "tool"},
	} {
		if got := owners(t, repo+":"+comb); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s:%s has the layers of %v, want %v", repo, comb, got, want)
		}
	}
	// bake prefixes each vertex with its target.
	if !strings.Contains(out, "[full test full]") || !strings.Contains(out, "[minimal test minimal]") {
		t.Errorf("the combinations' tests did not run:\n%s", out)
	}
}
