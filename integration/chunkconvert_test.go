package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/tonistiigi/fsutil"
)

// Each chunk is converted as the Dockerfile frontend builds it with its folder as the context,
// as dazzle did: tests of that, through the packaged frontend image.

func needFrontend(t *testing.T) env {
	t.Helper()
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set: hack/test.sh builds the frontend image first (make image)")
	}
	return e
}

// buildctlGateway builds dir with the packaged frontend through gateway.v0, the context as a
// local, and pushes the result to push unless it is "".
func (e env) buildctlGateway(t *testing.T, dir, push string, opts ...string) (string, error) {
	t.Helper()
	args := []string{"build", "--progress=plain", "--frontend", "gateway.v0", "--opt", "source=" + e.frontend,
		"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=dazzle.yaml"}
	if push != "" {
		args = append(args, "--output", "type=image,name="+push+",push=true")
	}
	for _, o := range opts {
		args = append(args, "--opt", o)
	}
	return run(t, dir, "buildctl", args...)
}

// forwardAsInputs builds dir with the packaged frontend the way the Dockerfile frontend forwards a
// `# syntax=` file: the build context and the project file arrive as the frontend's inputs.
func (e env) forwardAsInputs(t *testing.T, dir string, opts map[string]string, push string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := client.New(ctx, e.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fsys, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	so := client.SolveOpt{
		LocalMounts: map[string]fsutil.FS{"context": fsys},
		Exports:     []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": push, "push": "true"}}},
	}
	_, err = c.Build(ctx, so, "", func(ctx context.Context, gc gwclient.Client) (*gwclient.Result, error) {
		def, err := llb.Local("context").Marshal(ctx)
		if err != nil {
			return nil, err
		}
		fo := map[string]string{"source": e.frontend, "filename": "dazzle.yaml"}
		for k, v := range opts {
			fo[k] = v
		}
		return gc.Solve(ctx, gwclient.SolveRequest{
			Frontend:       "gateway.v0",
			FrontendOpt:    fo,
			FrontendInputs: map[string]*pb.Definition{"context": def.ToPB(), "dockerfile": def.ToPB()},
		})
	}, nil)
	return err
}

// buildctlRaw builds dir like buildctlGateway and returns the raw progress stream.
func (e env) buildctlRaw(t *testing.T, dir string, opts ...string) []*client.SolveStatus {
	t.Helper()
	args := []string{"build", "--progress=rawjson", "--frontend", "gateway.v0", "--opt", "source=" + e.frontend,
		"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=dazzle.yaml"}
	for _, o := range opts {
		args = append(args, "--opt", o)
	}
	cmd := exec.Command("buildctl", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var out []*client.SolveStatus
	dec := json.NewDecoder(&stderr)
	for dec.More() {
		var st client.SolveStatus
		if err := dec.Decode(&st); err != nil {
			t.Fatal(err)
		}
		out = append(out, &st)
	}
	return out
}

const scratchBase = "FROM scratch\nCOPY . /base-ctx\n"

// A chunk folder's `.dockerignore` applies to its context, and a `<Dockerfile>.dockerignore`
// instead of it where there is one; so does the base folder's. Whether the build context comes
// as a local or as an input.
func TestChunkDockerignore(t *testing.T) {
	e := needFrontend(t)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":            "# syntax=" + e.frontend + "\n",
		"base/Dockerfile":        scratchBase,
		"base/.dockerignore":     "not-in-base\n",
		"base/not-in-base":       "x",
		"base/in-base":           "x",
		"chunks/a/Dockerfile":    "ARG base\nFROM ${base}\nCOPY . /a\n",
		"chunks/a/.dockerignore": "secret.txt\nsub/*.log\n!sub/keep.log\n",
		"chunks/a/keep.txt":      "k",
		"chunks/a/secret.txt":    "s",
		"chunks/a/sub/a.log":     "l",
		"chunks/a/sub/keep.log":  "l",
		"chunks/a/sub/b.txt":     "b",
		// The Dockerfile's own ignore file wins over the folder's.
		"chunks/b/Dockerfile":              "ARG base\nFROM ${base}\nCOPY . /b\n",
		"chunks/b/Dockerfile.dockerignore": "*.tmp\n",
		"chunks/b/.dockerignore":           "keep.txt\n",
		"chunks/b/keep.txt":                "k",
		"chunks/b/scratch.tmp":             "t",
	})
	want := map[string]bool{
		"base-ctx/in-base": true, "base-ctx/not-in-base": false,
		"a/keep.txt": true, "a/sub/b.txt": true, "a/sub/keep.log": true, "a/secret.txt": false, "a/sub/a.log": false,
		"a/.dockerignore": true, // excluded only if it lists itself, as with docker build
		"b/keep.txt":      true, "b/Dockerfile.dockerignore": true, "b/scratch.tmp": false,
	}
	for _, tc := range []struct {
		name  string
		build func(ref string) error
	}{
		{"context as a local (buildctl gateway.v0)", func(ref string) error {
			if out, err := e.buildctlGateway(t, dir, ref, "build-arg:DAZZLE_NO_TEST=1"); err != nil {
				return fmt.Errorf("%v\n%s", err, out)
			}
			return nil
		}},
		{"docker buildx build -f dazzle.yaml (through # syntax=)", func(ref string) error {
			out, err := run(t, dir, "docker", "buildx", "build", "--progress=plain", "-f", "dazzle.yaml",
				"--build-arg", "DAZZLE_NO_TEST=1", "--provenance=false", "--output", "type=image,name="+ref+",push=true", ".")
			if err != nil {
				return fmt.Errorf("%v\n%s", err, out)
			}
			return nil
		}},
		{"context as an input (forwarded)", func(ref string) error {
			return e.forwardAsInputs(t, dir, map[string]string{"build-arg:DAZZLE_NO_TEST": "1"}, ref)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := e.ref(t, "ignore")
			if err := tc.build(ref); err != nil {
				t.Fatal(err)
			}
			fs := files(t, image(t, ref))
			for p, present := range want {
				if _, ok := fs[p]; ok != present {
					t.Errorf("/%s in the image: %v, want %v", p, ok, present)
				}
			}
		})
	}
}

// A named context that bake passes from another target (`contexts = { x = "target:other" }`,
// reaching the frontend as `context:x=input:<id>`) works in a chunk's COPY --from and FROM.
func TestBakeTargetContextInChunk(t *testing.T) {
	e := needFrontend(t)
	ref := e.ref(t, "bake")
	dir := writeFiles(t, map[string]string{
		"other/Dockerfile":     "FROM scratch\nCOPY payload.txt /payload.txt\n",
		"other/payload.txt":    "from the other target\n",
		"proj/dazzle.yaml":     "# syntax=" + e.frontend + "\n",
		"proj/base/Dockerfile": scratchBase,
		"proj/base/f":          "x",
		"proj/chunks/a/Dockerfile": "ARG base\nFROM x AS other\n" +
			"FROM ${base}\nCOPY --from=x /payload.txt /copied.txt\nCOPY --from=other /payload.txt /staged.txt\n",
		"docker-bake.hcl": fmt.Sprintf(`target "other" {
  context    = "other"
}
target "main" {
  context    = "proj"
  dockerfile = "dazzle.yaml"
  contexts   = { x = "target:other" }
  args       = { DAZZLE_NO_TEST = "1" }
  tags       = [%q]
  output     = ["type=image,push=true"]
  attest     = ["type=provenance,disabled=true"]
}
`, ref),
	})
	out, err := run(t, dir, "docker", "buildx", "bake", "--progress=plain", "main")
	if err != nil {
		t.Fatalf("bake failed: %v\n%s", err, out)
	}
	fs := files(t, image(t, ref))
	for _, p := range []string{"copied.txt", "staged.txt", "base-ctx/f"} {
		if _, ok := fs[p]; !ok {
			t.Errorf("/%s missing from the image", p)
		}
	}
}

// Lint warnings of the base's and the chunks' Dockerfiles reach the user with the file and line,
// once even for a build of two platforms; `ARG base` without a default, in every chunk, is not one.
//
// Checked in buildx's warning summary and in buildctl's raw progress stream. buildctl's plain
// progress (BuildKit v0.34.2) prints a vertex's warnings only along with a status change of that
// vertex, so warnings that arrive after the project file's vertex was printed as done do not show
// there; the Dockerfile frontend's own lint warnings are subject to the same race.
func TestDockerfileWarnings(t *testing.T) {
	e := needFrontend(t)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "# syntax=" + e.frontend + "\n",
		"base/Dockerfile":     "FROM scratch\nMAINTAINER someone\nCOPY . /base-ctx\n",
		"chunks/a/Dockerfile": "# syntax=docker/dockerfile:1.4\nARG base\nFROM ${base} as build\nCOPY . /a\n",
		"chunks/a/f":          "x",
	})
	type want struct {
		file string
		line int32
		text string
	}
	wants := []want{
		{"base/Dockerfile", 2, "MaintainerDeprecated: base/Dockerfile:2: Maintainer instruction is deprecated in favor of using label"},
		{"chunks/a/Dockerfile", 3, "FromAsCasing: chunks/a/Dockerfile:3: 'as' and 'FROM' keywords' casing do not match"},
		{"chunks/a/Dockerfile", 1, "SyntaxDirectiveIgnored: chunks/a/Dockerfile:1: the frontend docker/dockerfile:1.4 is not used: " +
			"dazzlekit converts the base and every chunk with the Dockerfile converter built into it (BuildKit v0.34.2); remove the line if the Dockerfile needs nothing else"},
	}

	t.Run("docker buildx build", func(t *testing.T) {
		out, err := run(t, dir, "docker", "buildx", "build", "--progress=plain", "-f", "dazzle.yaml",
			"--platform", "linux/amd64,linux/arm64", "--build-arg", "DAZZLE_NO_TEST=1", ".")
		if err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if !strings.Contains(out, fmt.Sprintf("%d warnings found", len(wants))) {
			t.Errorf("buildx does not report %d warnings:\n%s", len(wants), out)
		}
		for _, w := range wants {
			if n := strings.Count(out, " - "+w.text+"\n"); n != 1 {
				t.Errorf("buildx lists %q %d times, want once:\n%s", w.text, n, out)
			}
		}
		if strings.Contains(out, "InvalidDefaultArgInFrom") {
			t.Errorf("warns about `ARG base` without a default:\n%s", out)
		}
	})

	t.Run("buildctl", func(t *testing.T) {
		var got []*client.VertexWarning
		for _, st := range e.buildctlRaw(t, dir, "build-arg:DAZZLE_NO_TEST=1", "platform=linux/amd64,linux/arm64") {
			got = append(got, st.Warnings...)
		}
		if len(got) != len(wants) {
			var short []string
			for _, w := range got {
				short = append(short, string(w.Short))
			}
			t.Fatalf("%d warnings, want %d:\n%s", len(got), len(wants), strings.Join(short, "\n"))
		}
		for _, w := range wants {
			found := false
			for _, g := range got {
				if string(g.Short) != w.text {
					continue
				}
				found = true
				if g.SourceInfo == nil || g.SourceInfo.Filename != w.file || g.SourceInfo.Language != "Dockerfile" || len(g.SourceInfo.Data) == 0 {
					t.Errorf("%q: source %+v, want %s with its content", w.text, g.SourceInfo, w.file)
				}
				if len(g.Range) != 1 || g.Range[0].Start.Line != w.line {
					t.Errorf("%q: range %v, want line %d", w.text, g.Range, w.line)
				}
			}
			if !found {
				t.Errorf("no warning %q", w.text)
			}
		}
	})
}

// A chunk whose final stage does not build on the base is refused, pointing at that FROM line,
// after the Dockerfile was converted (a parse error still comes first).
func TestChunkNotOnBase(t *testing.T) {
	e := needFrontend(t)
	for _, tc := range []struct {
		name, dockerfile string
		want             []string
	}{
		{
			name:       "final stage from another image",
			dockerfile: "ARG base\nFROM ${base} AS b\nFROM scratch\nCOPY --from=b /base-ctx /g\n",
			want: []string{
				"error: failed to solve: chunk a: chunks/a/Dockerfile:3: the chunk's final stage starts FROM scratch, not the base: " +
					"merging it would replace the base's files with its own. Start the final stage with `FROM ${base}` (after `ARG base`), or FROM an earlier stage that does\n",
				"chunks/a/Dockerfile:3\n--------------------\n",
				">>> FROM scratch\n",
			},
		},
		{
			name:       "parse error first",
			dockerfile: "ARG base\nFROM scratch\nRUNN true\n",
			want:       []string{"chunks/a/Dockerfile:3", "unknown instruction: RUNN"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{
				"dazzle.yaml":         "",
				"base/Dockerfile":     scratchBase,
				"chunks/a/Dockerfile": tc.dockerfile,
			})
			out, err := e.buildctlGateway(t, dir, "", "build-arg:DAZZLE_NO_TEST=1")
			if err == nil {
				t.Fatalf("build succeeded:\n%s", out)
			}
			for _, w := range tc.want {
				if !strings.Contains(out, w) {
					t.Errorf("output does not contain %q:\n%s", w, out)
				}
			}
			if strings.Contains(out, "final stage") && tc.name == "parse error first" {
				t.Errorf("the final-stage check came before the parse error:\n%s", out)
			}
		})
	}
}

// The base and chunks that start stages from the same image look its metadata up once per build.
func TestImageLookupsShared(t *testing.T) {
	e := needFrontend(t)
	img := e.registry + "/dazzlekit/busybox:latest"
	files := map[string]string{"dazzle.yaml": "", "base/Dockerfile": "FROM " + img + "\n"}
	for i := range 5 {
		files[fmt.Sprintf("chunks/c%d/Dockerfile", i)] = fmt.Sprintf("ARG base\nFROM %s AS tools\nRUN echo %d > /t\nFROM ${base}\nCOPY --from=tools /t /t%d\n", img, i, i)
	}
	// Every lookup shows as the same vertex (its digest comes from the ref), started anew.
	starts := map[time.Time]bool{}
	for _, st := range e.buildctlRaw(t, writeFiles(t, files), "build-arg:DAZZLE_NO_TEST=1") {
		for _, v := range st.Vertexes {
			if strings.Contains(v.Name, "load metadata for "+img) && v.Started != nil {
				starts[*v.Started] = true
			}
		}
	}
	if len(starts) != 1 {
		t.Errorf("%s looked up %d times, want once", img, len(starts))
	}
}
