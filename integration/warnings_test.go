package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// What dazzle accepts but is likely a mistake builds, with a warning naming the file and line, through
// the packaged frontend image, once per build; so does a build arg that looks like an option but is none.
func TestProjectWarnings(t *testing.T) {
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first (make image)")
	}
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "# syntax=" + e.frontend + "\ncombiner:\n  combinations:\n    - name: all\n      chunks: [a]\n",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": okChunk,
		"tests/a.yaml": "- desc: it has hi\n  command: [cat, /hi]\n  assert: [stdout == \"hi\\n\"]\n" +
			"- desc: it is unchecked\n  command: [cat, /hi]\n",
		// gitpod's workspace-images has such a file; dazzle ignores it.
		"tests/lang-php.yaml": "- desc: php\n  command: [php, -v]\n  assert: [status == 0]\n",
	})
	warnings := []string{
		"TestsWithoutChunk: tests/lang-php.yaml:1: there is no chunk folder chunks/lang-php/, so these tests never run",
		`TestWithoutAssert: tests/a.yaml:4: test "it is unchecked" has no assert:, so it passes whatever its command does`,
		"UnknownBuildArg: build-arg DAZZLE_NOTEST is not a dazzlekit option, so it is ignored; did you mean DAZZLE_NO_TEST?",
	}
	for _, tc := range []struct {
		name   string
		args   func(ref string) []string
		prefix string // how the client shows a warning
	}{
		{"buildctl gateway.v0", func(ref string) []string {
			return []string{"buildctl", "build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + e.frontend,
				"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=dazzle.yaml",
				"--opt", "target=all", "--opt", "build-arg:REGISTRY=" + e.registry, "--opt", "build-arg:DAZZLE_NOTEST=1",
				"--output", "type=image,name=" + ref + ",push=true"}
		}, "WARN: "},
		// buildx forwards through `# syntax=`: the context reaches the frontend as an input.
		{"docker buildx build -f dazzle.yaml", func(ref string) []string {
			return []string{"docker", "buildx", "build", "--progress=plain", "-f", filepath.Join(dir, "dazzle.yaml"),
				"--target", "all", "--build-arg", "REGISTRY=" + e.registry, "--build-arg", "DAZZLE_NOTEST=1", "--provenance=false",
				"--output", "type=image,name=" + ref + ",push=true", dir}
		}, " - "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args(e.ref(t, "all"))
			out, err := run(t, dir, args[0], args[1:]...)
			if err != nil {
				t.Fatalf("%s failed: %v\n%s", strings.Join(args, " "), err, out)
			}
			for _, w := range warnings {
				if n := strings.Count(out, tc.prefix+w); n != 1 {
					t.Errorf("warning %q shown %d times, want once:\n%s", tc.prefix+w, n, out)
				}
			}
			// The project is read from the same context state the chunks build from: one transfer.
			loads := map[string]bool{}
			for _, m := range regexp.MustCompile(`#(\d+) \[internal\] load build context`).FindAllStringSubmatch(out, -1) {
				loads[m[1]] = true
			}
			if len(loads) != 1 {
				t.Errorf("the build context was loaded by %d vertices, want 1:\n%s", len(loads), out)
			}
			// The misspelt DAZZLE_NO_TEST did not turn the tests off; the test without assert ran and passed.
			if !regexp.MustCompile(`\[test (a|all)\] it is unchecked`).MatchString(out) {
				t.Errorf("the test without assert did not run:\n%s", out)
			}
		})
	}
}

// gitpod's workspace-images, the largest dazzle project we know of, loads through the packaged
// frontend: `--call targets` lists its 41 combinations, with a warning for each of its two tests files
// that have no chunk folder. DAZZLEKIT_WORKSPACE_IMAGES names a checkout (it cannot be built here:
// its base comes from Docker Hub).
func TestWorkspaceImagesTargets(t *testing.T) {
	e := stack(t)
	dir := os.Getenv("DAZZLEKIT_WORKSPACE_IMAGES")
	if dir == "" {
		t.Skip("set DAZZLEKIT_WORKSPACE_IMAGES to a checkout of github.com/gitpod-io/workspace-images")
	}
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first (make image)")
	}
	// Its dazzle.yaml has no `# syntax=` line: BUILDKIT_SYNTAX does the same.
	out, err := run(t, dir, "docker", "buildx", "build", "--progress=plain", "--call", "targets",
		"--build-arg", "BUILDKIT_SYNTAX="+e.frontend, "-f", filepath.Join(dir, "dazzle.yaml"), dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := strings.Count(out, " combination: "); n != 41 {
		t.Errorf("%d combinations listed, want 41:\n%s", n, out)
	}
	for _, f := range []string{"lang-php", "prologue"} {
		w := " - TestsWithoutChunk: tests/" + f + ".yaml:1: there is no chunk folder chunks/" + f + "/"
		if strings.Count(out, w) != 1 {
			t.Errorf("warning %q not shown once:\n%s", w, out)
		}
	}
}
