package integration

import (
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The packaged frontend image through the three ways users run it. Each builds the example's "full"
// combination and checks the pushed image.
func TestEntryPoints(t *testing.T) {
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first (make image)")
	}
	dir := copyProject(t, exampleDir("devtools"))
	pointSyntax(t, dir, e.frontend)

	t.Run("docker buildx build --call targets", func(t *testing.T) {
		out, err := run(t, dir, "docker", "buildx", "build", "--call", "targets", "-f", filepath.Join(dir, "dazzle.yaml"), dir)
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		for _, want := range []string{"full          combination: cleanup, hello, lang:2, tool", "chunk:lang:1  the base plus chunk lang:1"} {
			if !strings.Contains(out, want) {
				t.Errorf("targets do not list %q:\n%s", want, out)
			}
		}
	})

	for _, tc := range []struct {
		name string
		cmd  func(ref string) []string
	}{
		{"buildctl gateway.v0", func(ref string) []string {
			return []string{"buildctl", "build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + e.frontend,
				"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=dazzle.yaml",
				"--opt", "target=full", "--opt", "build-arg:REGISTRY=" + e.registry,
				"--output", "type=image,name=" + ref + ",push=true"}
		}},
		{"buildctl dockerfile.v0 with # syntax", func(ref string) []string {
			return []string{"buildctl", "build", "--progress=plain", "--frontend", "dockerfile.v0",
				"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=dazzle.yaml",
				"--opt", "target=full", "--opt", "build-arg:REGISTRY=" + e.registry,
				"--output", "type=image,name=" + ref + ",push=true"}
		}},
		{"docker buildx build -f dazzle.yaml", func(ref string) []string {
			return []string{"docker", "buildx", "build", "--progress=plain", "-f", filepath.Join(dir, "dazzle.yaml"),
				"--target", "full", "--build-arg", "REGISTRY=" + e.registry, "--provenance=false",
				"--output", "type=image,name=" + ref + ",push=true", dir}
		}},
		{"docker buildx bake", func(ref string) []string {
			_, file, _, _ := runtime.Caller(0)
			return []string{"docker", "buildx", "bake", "--progress=plain", "-f", filepath.Join(filepath.Dir(file), "..", "docker-bake.hcl"),
				"--set", "example-full.context=" + dir, "--set", "example-full.tags=" + ref,
				"--set", "example-full.args.REGISTRY=" + e.registry, "example-full"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := e.ref(t, "full")
			args := tc.cmd(ref)
			out, err := run(t, dir, args[0], args[1:]...)
			if err != nil {
				t.Fatalf("%s failed: %v\n%s", strings.Join(args, " "), err, out)
			}
			img := image(t, ref)
			if got, want := owners(t, ref), []string{"cleanup", "hello", "lang:2", "tool"}; strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("chunks %v, want %v", got, want)
			}
			env := envMap(img.Config.Config.Env)
			if env["HELLO_OPTS"] != "--greeting=hi --color=auto" || env["DEVTOOLS"] != "base:hello:tool" {
				t.Errorf("merged env wrong: %v", img.Config.Config.Env)
			}
			fs := files(t, img)
			if _, ok := fs["etc/legacy.conf"]; ok {
				t.Error("/etc/legacy.conf survived chunk cleanup's deletion")
			}
			// The example's tests ran inside the images, with the runner from the frontend image.
			// One op per image runs its tests (cached after the first entry point's build).
			for _, v := range []string{`\[test hello\] \d tests: it should greet`, `\[test full\] \d tests: it should have removed the legacy config`} {
				if !regexp.MustCompile(`(?m)^#\d+ ` + v).MatchString(out) {
					t.Errorf("progress shows no test vertex %s:\n%s", v, out)
				}
			}
			if !strings.Contains(out, "[chunk tool build ") {
				t.Errorf("progress does not name chunk vertices:\n%s", out)
			}
		})
	}
}
