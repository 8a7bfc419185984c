package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/dazzlekit/dazzlekit/project"
)

// pointSyntax rewrites dir/dazzle.yaml's `# syntax=` line to the frontend image under test.
func pointSyntax(t *testing.T, dir, frontend string) {
	t.Helper()
	yml := filepath.Join(dir, "dazzle.yaml")
	dt, err := os.ReadFile(yml)
	if err != nil {
		t.Fatal(err)
	}
	dt = regexp.MustCompile(`(?m)^# syntax=.*$`).ReplaceAll(dt, []byte("# syntax="+frontend))
	if err := os.WriteFile(yml, dt, 0o644); err != nil {
		t.Fatal(err)
	}
}

// The project schemas come from the frontend in use through `--call`, even for a project that does
// not load, and `--call subrequests.describe` lists them.
func TestSchemasThroughCall(t *testing.T) {
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first")
	}
	dir := copyProject(t, exampleDir("devtools"))
	pointSyntax(t, dir, e.frontend)
	// Broken on purpose: the schemas do not need the project.
	if err := os.WriteFile(filepath.Join(dir, "chunks", "lang", "chunk.yaml"), []byte("variants: [{nam: x}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for call, want := range map[string][]byte{
		"dazzle.schema":       project.ConfigSchema,
		"dazzle.chunk-schema": project.ChunkSchema,
		"dazzle.tests-schema": project.TestSpecSchema,
	} {
		t.Run(call, func(t *testing.T) {
			out, err := run(t, dir, "docker", "buildx", "build", "--progress=quiet", "--call", call+",format=json", "-f", filepath.Join(dir, "dazzle.yaml"), dir)
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			if !json.Valid([]byte(out)) || strings.TrimSpace(out) != strings.TrimSpace(string(want)) {
				t.Errorf("--call %s printed:\n%s", call, out)
			}
		})
	}
	out, err := run(t, dir, "docker", "buildx", "build", "--progress=quiet", "--call", "subrequests.describe", "-f", filepath.Join(dir, "dazzle.yaml"), dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// buildx prints the names as --call takes them, without the "frontend." prefix.
	for _, want := range []string{"dazzle.schema", "dazzle.chunk-schema", "dazzle.tests-schema", "targets"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + ` +1\.0\.0 `).MatchString(out) {
			t.Errorf("subrequests.describe does not list %s:\n%s", want, out)
		}
	}
}
