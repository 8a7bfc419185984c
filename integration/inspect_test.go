package integration

import (
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/subrequests/outline"
)

// `docker buildx build --call check` lists every warning without building, each at its file and
// line, and exits 1; a clean project passes. `--call outline` lists the build args a user can set
// (dazzlekit's own, then the Dockerfiles' with defaults and users) and the secrets they mount.
func TestCallCheckAndOutline(t *testing.T) {
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first")
	}
	files := map[string]string{
		"dazzle.yaml":     "# syntax=" + e.frontend + "\ncombiner:\n  combinations:\n    - name: all\n      chunks: [\"node:20\", tool]\n",
		"base/Dockerfile": okBase,
		"chunks/node/Dockerfile": "ARG base\nFROM ${base}\nARG NODE_VERSION=18\nARG NODE_MIRROR=https://nodejs.example\n" +
			"RUN --mount=type=secret,id=npmrc echo ${NODE_VERSION} > /node\n",
		"chunks/node/chunk.yaml": "variants:\n  - name: \"20\"\n    args: {NODE_VERSION: \"20\"}\n",
		// FromAsCasing: `as` in lower case after an upper-case FROM.
		"chunks/tool/Dockerfile": "ARG base\nFROM ${base} as build\nRUN echo tool > /tool\nFROM build\n",
		"tests/node.yaml":        "- desc: node\n  command: [cat, /node]\n",
		"tests/php.yaml":         "- desc: php\n  command: [php, -v]\n  assert: [status == 0]\n",
	}
	dir := writeFiles(t, files)
	yml := filepath.Join(dir, "dazzle.yaml")

	t.Run("check with warnings", func(t *testing.T) {
		cmd := exec.Command("docker", "buildx", "build", "--progress=quiet", "--call", "check", "-f", yml, dir)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err == nil || !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Fatalf("want exit status 1, got %v:\n%s", err, out)
		}
		for _, want := range []string{
			"Check complete, 3 warnings have been found!",
			"WARNING: FromAsCasing",
			"chunks/tool/Dockerfile:2",
			"WARNING: TestsWithoutChunk",
			"tests/php.yaml:1",
			"WARNING: TestWithoutAssert",
			"tests/node.yaml:1",
		} {
			if !strings.Contains(string(out), want) {
				t.Errorf("check output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(string(out), "InvalidDefaultArgInFrom") {
			t.Errorf("every dazzle chunk's `ARG base` without a default was reported:\n%s", out)
		}
	})

	t.Run("check of a clean project", func(t *testing.T) {
		clean := writeFiles(t, map[string]string{
			"dazzle.yaml":         "# syntax=" + e.frontend + "\ncombiner:\n  combinations:\n    - name: all\n      chunks: [a]\n",
			"base/Dockerfile":     okBase,
			"chunks/a/Dockerfile": okChunk,
		})
		out, err := run(t, clean, "docker", "buildx", "build", "--progress=quiet", "--call", "check", "-f", filepath.Join(clean, "dazzle.yaml"), clean)
		if err != nil || !strings.Contains(out, "Check complete, no warnings found.") {
			t.Fatalf("%v:\n%s", err, out)
		}
	})

	t.Run("check of a chunk not on the base", func(t *testing.T) {
		bad := writeFiles(t, map[string]string{
			"dazzle.yaml":         "# syntax=" + e.frontend + "\ncombiner:\n  combinations:\n    - name: all\n      chunks: [a]\n",
			"base/Dockerfile":     okBase,
			"chunks/a/Dockerfile": "ARG base\nFROM ${base}\nFROM scratch\nCOPY --from=0 /bin/busybox /\n",
		})
		out, err := run(t, bad, "docker", "buildx", "build", "--progress=quiet", "--call", "check", "-f", filepath.Join(bad, "dazzle.yaml"), bad)
		if err == nil || !strings.Contains(out, "the chunk's final stage starts FROM scratch, not the base") || !strings.Contains(out, "chunks/a/Dockerfile:3") {
			t.Fatalf("want the error at chunks/a/Dockerfile:3, got %v:\n%s", err, out)
		}
	})

	t.Run("outline", func(t *testing.T) {
		out, err := exec.Command("docker", "buildx", "build", "--progress=quiet", "--call", "outline,format=json", "-f", yml, dir).Output()
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		var o outline.Outline
		if err := json.Unmarshal(out, &o); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		args := map[string]outline.Arg{}
		for _, a := range o.Args {
			args[a.Name] = a
		}
		for name, want := range map[string]outline.Arg{
			"DAZZLE_NO_TEST": {Description: "1 skips every test"},
			"REGISTRY":       {Value: "localhost:5000", Description: "used by the base"},
			"NODE_VERSION":   {Description: "used by chunk node:20; set by variant node:20"},
			"NODE_MIRROR":    {Value: "https://nodejs.example", Description: "used by chunk node:20"},
		} {
			got := args[name]
			if got.Value != want.Value || got.Description != want.Description {
				t.Errorf("arg %s: %+v, want value %q, description %q", name, got, want.Value, want.Description)
			}
		}
		if _, ok := args["base"]; ok {
			t.Errorf("`base` is listed, but dazzlekit sets it: %+v", o.Args)
		}
		if len(o.Secrets) != 1 || o.Secrets[0].Name != "npmrc" {
			t.Errorf("secrets %+v, want npmrc", o.Secrets)
		}
	})
}
