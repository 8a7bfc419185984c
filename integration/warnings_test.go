package integration

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

// What dazzle accepts but is likely a mistake builds, with a warning naming the file and line, through
// the packaged frontend image, once per build; so does a build arg that looks like an option but is none.
//
// buildctl is read with --progress=rawjson, which shows every warning BuildKit sends with its file and
// line. Its plain printer (BuildKit v0.34.2 progressui) prints a warning only when its vertex changes
// afterwards, and the project file's vertex is complete before the project is loaded, so there a
// `WARN:` line for it shows only when the display happens to be late; buildx lists every warning.
func TestProjectWarnings(t *testing.T) {
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first (make image)")
	}
	files := map[string]string{
		"dazzle.yaml":     "# syntax=" + e.frontend + "\ncombiner:\n  combinations:\n    - name: all\n      chunks: [a]\n",
		"base/Dockerfile": okBase,
		// a fresh chunk, so its tests run rather than come from the cache
		"chunks/a/Dockerfile": okChunk + fmt.Sprintf("RUN echo %d > /nonce\n", time.Now().UnixNano()),
		"tests/a.yaml": "- desc: it has hi\n  command: [cat, /hi]\n  assert: [stdout == \"hi\\n\"]\n" +
			"- desc: it is unchecked\n  command: [cat, /hi]\n",
		// gitpod's workspace-images has such a file; dazzle ignores it.
		"tests/lang-php.yaml": "- desc: php\n  command: [php, -v]\n  assert: [status == 0]\n",
	}
	dir := writeFiles(t, files)
	warnings := []struct {
		text string
		file string // the snippet's file
		line int32  // 0: none
	}{
		{"TestsWithoutChunk: tests/lang-php.yaml:1: there is no chunk folder chunks/lang-php/, so these tests never run (dazzle ignores them too); tests/<name>.yaml holds the tests of chunks/<name>/: rename the file after its chunk folder, or remove it", "tests/lang-php.yaml", 1},
		{`TestWithoutAssert: tests/a.yaml:4: test "it is unchecked" has no assert:, so it passes whatever its command does (as in dazzle); add e.g. assert: [status == 0]`, "tests/a.yaml", 4},
		{"UnknownBuildArg: build-arg DAZZLE_NOTEST is not a dazzlekit option, so it is ignored; did you mean DAZZLE_NO_TEST?", "dazzle.yaml", 0},
	}

	t.Run("buildctl gateway.v0", func(t *testing.T) {
		out, err := run(t, dir, "buildctl", "build", "--progress=rawjson", "--frontend", "gateway.v0", "--opt", "source="+e.frontend,
			"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=dazzle.yaml",
			"--opt", "target=all", "--opt", "build-arg:REGISTRY="+e.registry, "--opt", "build-arg:DAZZLE_NOTEST=1",
			// two platforms that run here: the warnings are the build's, not each platform's
			"--opt", "platform=linux/amd64,linux/amd64/v2",
			"--output", "type=image,name="+e.ref(t, "all")+",push=true")
		if err != nil {
			t.Fatalf("build failed: %v\n%s", err, out)
		}
		var got []*client.VertexWarning
		names := map[string][]string{} // vertex name -> digests
		for _, line := range strings.Split(out, "\n") {
			var ss client.SolveStatus
			if json.Unmarshal([]byte(line), &ss) != nil {
				continue
			}
			got = append(got, ss.Warnings...)
			for _, v := range ss.Vertexes {
				if !slices.Contains(names[v.Name], v.Digest.String()) {
					names[v.Name] = append(names[v.Name], v.Digest.String())
				}
			}
		}
		for _, w := range warnings {
			var found []*client.VertexWarning
			for _, g := range got {
				if string(g.Short) == w.text {
					found = append(found, g)
				}
			}
			if len(found) != 1 {
				t.Errorf("warning %q sent %d times, want once", w.text, len(found))
				continue
			}
			si := found[0].SourceInfo
			if si == nil || si.Filename != w.file || (w.file != "dazzle.yaml" && string(si.Data) != files[w.file]) {
				t.Errorf("warning %q: source %+v, want the file %s", w.text, si, w.file)
			}
			if r := found[0].Range; (w.line == 0) != (len(r) == 0) || (w.line > 0 && r[0].Start.Line != w.line) {
				t.Errorf("warning %q: range %v, want line %d", w.text, r, w.line)
			}
		}
		if len(got) != len(warnings) {
			t.Errorf("%d warnings, want %d", len(got), len(warnings))
		}
		// The project is read from the same context state the chunks build from: one transfer.
		if n := len(names["[internal] load build context"]); n != 1 {
			t.Errorf("the build context was loaded by %d vertices, want 1", n)
		}
		// The misspelt DAZZLE_NO_TEST did not turn the tests off.
		if !slices.ContainsFunc(slices.Collect(maps.Keys(names)), func(n string) bool { return strings.HasPrefix(n, "[test ") }) {
			t.Errorf("no test ran; vertices: %v", slices.Collect(maps.Keys(names)))
		}
	})

	// buildx forwards through `# syntax=`: the context reaches the frontend as an input.
	t.Run("docker buildx build -f dazzle.yaml", func(t *testing.T) {
		out, err := run(t, dir, "docker", "buildx", "build", "--progress=plain", "-f", filepath.Join(dir, "dazzle.yaml"),
			"--target", "all", "--build-arg", "REGISTRY="+e.registry, "--build-arg", "DAZZLE_NOTEST=1", "--provenance=false",
			"--output", "type=image,name="+e.ref(t, "all")+",push=true", dir)
		if err != nil {
			t.Fatalf("build failed: %v\n%s", err, out)
		}
		if !strings.Contains(out, fmt.Sprintf("%d warnings found", len(warnings))) {
			t.Errorf("buildx does not count %d warnings:\n%s", len(warnings), out)
		}
		for _, w := range warnings {
			if n := strings.Count(out, " - "+w.text+"\n"); n != 1 {
				t.Errorf("warning %q listed %d times, want once:\n%s", w.text, n, out)
			}
		}
		if !regexp.MustCompile(`(?m)^#\d+ \[test `).MatchString(out) {
			t.Errorf("no test ran:\n%s", out)
		}
	})
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
