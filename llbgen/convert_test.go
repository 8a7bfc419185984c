package llbgen_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"
)

// convertClient is standIn with a build input of its own (as bake's `target:` contexts arrive)
// and a count of image lookups.
type convertClient struct {
	*standIn
	lookups atomic.Int64
}

func (c *convertClient) Inputs(context.Context) (map[string]llb.State, error) {
	return map[string]llb.State{"0-extra": llb.Scratch().File(llb.Mkfile("/payload", 0o644, []byte("x")))}, nil
}

func (c *convertClient) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	c.lookups.Add(1)
	return c.standIn.ResolveImageConfig(ctx, ref, opt)
}

func (c *convertClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	c.lookups.Add(1)
	return c.standIn.ResolveSourceMetadata(ctx, op, opt)
}

func newInput(files fstest.MapFS) (llbgen.Input, *convertClient, *diag.Collector) {
	c := &convertClient{standIn: newStandIn()}
	c.opts = map[string]string{"filename": "dazzle.yaml", "context:x": "input:0-extra"}
	col := &diag.Collector{}
	return llbgen.Input{
		Client: c, Opts: c.opts, Context: llb.Local("context"), Files: files,
		Meta: llbgen.NewMetaCache(c), Warn: col.Add,
	}, c, col
}

func chunk(name, dockerfile string) project.Chunk {
	return project.Chunk{Name: name, Folder: name, Dir: "chunks/" + name, Dockerfile: "chunks/" + name + "/Dockerfile", DockerfileData: []byte(dockerfile)}
}

var baseChunk = project.Chunk{Name: "base", Dir: "base", Dockerfile: "base/Dockerfile", DockerfileData: []byte("FROM registry.example/busybox\n")}

func convertChunk(t *testing.T, in llbgen.Input, ch project.Chunk) (*llbgen.Converted, error) {
	t.Helper()
	ctx := context.Background()
	base, err := llbgen.Base(ctx, in, baseChunk)
	if err != nil {
		t.Fatal(err)
	}
	return llbgen.Chunk(ctx, in, base, ch)
}

// A chunk's final stage must build on the base; the error names the Dockerfile and the line of
// that stage's FROM, and a Dockerfile that does not parse reports its own error first.
func TestChunkMustBuildOnBase(t *testing.T) {
	for _, tc := range []struct {
		name, dockerfile string
		err              string // "" = converts
	}{
		{"FROM ${base}", "ARG base\nFROM ${base}\nRUN true\n", ""},
		{"FROM $base", "ARG base\nFROM $base\n", ""},
		{"through a stage", "ARG base\nFROM ${base} AS b\nRUN true\nFROM registry.example/golang AS tools\nFROM b\n", ""},
		{"through two stages", "ARG base\nFROM ${base} AS one\nFROM one AS two\nFROM two\nCOPY --from=one /x /x\n", ""},
		{"another ARG naming the base", "ARG base\nARG from=${base}\nFROM ${from}\n", ""},
		{
			"another image", "ARG base\nFROM ${base} AS unused\nFROM registry.example/alpine\nRUN true\n",
			"chunks/a/Dockerfile:3: the chunk's final stage starts FROM registry.example/alpine, not the base: merging it would replace the base's files with its own. Start the final stage with `FROM ${base}` (after `ARG base`), or FROM an earlier stage that does",
		},
		{
			"a stage on another image", "ARG base\nFROM registry.example/golang AS build\nFROM build\n",
			"chunks/a/Dockerfile:3: the chunk's final stage starts FROM build, which starts FROM registry.example/golang, not the base",
		},
		{
			"scratch", "FROM scratch\nCOPY x /x\n",
			"chunks/a/Dockerfile:1: the chunk's final stage starts FROM scratch, not the base",
		},
		{
			"parse error first", "ARG base\nFROMM registry.example/alpine\n",
			"unknown instruction: FROMM",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _, _ := newInput(nil)
			_, err := convertChunk(t, in, chunk("a", tc.dockerfile))
			switch {
			case tc.err == "" && err != nil:
				t.Fatalf("conversion failed: %v", err)
			case tc.err != "" && err == nil:
				t.Fatalf("conversion succeeded, want %q", tc.err)
			case tc.err != "" && !strings.Contains(err.Error(), tc.err):
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, tc.err)
			}
		})
	}
}

// Lint warnings of the base and chunks reach the sink with the Dockerfile's path and line; the
// `ARG base` every chunk declares without a default is not one of them.
func TestLintWarningsForwarded(t *testing.T) {
	in, _, col := newInput(nil)
	_, err := convertChunk(t, in, chunk("a", "# syntax=docker/dockerfile:1.4\nARG base\nFROM ${base} as build\nMAINTAINER someone\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range col.Warnings() {
		if w.File != "chunks/a/Dockerfile" || w.Lang != "Dockerfile" || string(w.Data) == "" {
			t.Errorf("warning without its file: %+v", w)
		}
		got = append(got, w.String())
	}
	want := []string{
		"SyntaxDirectiveIgnored: chunks/a/Dockerfile:1: the frontend docker/dockerfile:1.4 is not used",
		"FromAsCasing: chunks/a/Dockerfile:3: 'as' and 'FROM' keywords' casing do not match",
		"MaintainerDeprecated: chunks/a/Dockerfile:4: Maintainer instruction is deprecated in favor of using label",
	}
	if len(got) != len(want) {
		t.Fatalf("warnings:\n  %s\nwant %d", strings.Join(got, "\n  "), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("warning %d:\n  %s\nwant it to start\n  %s", i, got[i], want[i])
		}
	}
}

// A named context that arrives as one of the build's inputs (bake's `target:` contexts) is
// usable in a chunk, next to the base and the chunk's folder.
func TestChunkSeesBuildInputs(t *testing.T) {
	in, _, _ := newInput(nil)
	if _, err := convertChunk(t, in, chunk("a", "ARG base\nFROM ${base}\nCOPY --from=x /payload /payload\n")); err != nil {
		t.Fatal(err)
	}
}

// All conversions of a build share one metadata lookup per image.
func TestConversionsShareImageLookups(t *testing.T) {
	in, c, _ := newInput(nil)
	ctx := context.Background()
	base, err := llbgen.Base(ctx, in, baseChunk)
	if err != nil {
		t.Fatal(err)
	}
	var eg errgroup.Group
	for _, name := range []string{"a", "b", "c", "d"} {
		eg.Go(func() error {
			_, err := llbgen.Chunk(ctx, in, base, chunk(name, "ARG base\nFROM registry.example/golang AS build\nRUN true\nFROM ${base}\nCOPY --from=build /x /x\n"))
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := c.lookups.Load(); n != 2 {
		t.Errorf("%d image lookups, want 2 (busybox for the base, golang once for four chunks)", n)
	}
}

// The chunk's folder is its context with its own ignore file applied: `<Dockerfile>.dockerignore`
// when there is one, else `.dockerignore`.
func TestChunkContextIgnoreFile(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files fstest.MapFS
		want  []string
	}{
		{"none", fstest.MapFS{}, nil},
		{"folder", fstest.MapFS{"chunks/a/.dockerignore": {Data: []byte("# comment\nsecret*\n!secret.keep\n")}}, []string{"secret*", "!secret.keep"}},
		{"per Dockerfile wins", fstest.MapFS{
			"chunks/a/.dockerignore":           {Data: []byte("folder\n")},
			"chunks/a/Dockerfile.dockerignore": {Data: []byte("/dockerfile/\n")},
		}, []string{"dockerfile"}},
		{"another chunk's file does not count", fstest.MapFS{"chunks/b/.dockerignore": {Data: []byte("x\n")}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _, _ := newInput(tc.files)
			conv, err := convertChunk(t, in, chunk("a", "ARG base\nFROM ${base}\nCOPY . /src\n"))
			if err != nil {
				t.Fatal(err)
			}
			def, err := conv.State.Marshal(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, dt := range def.Def {
				var op pb.Op
				if err := op.UnmarshalVT(dt); err != nil {
					t.Fatal(err)
				}
				f := op.GetFile()
				if f == nil || len(f.Actions) != 1 || f.Actions[0].GetCopy() == nil || f.Actions[0].GetCopy().Src != "/chunks/a" {
					continue
				}
				found = true
				if got := f.Actions[0].GetCopy().ExcludePatterns; strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("the chunk's context excludes %q, want %q", got, tc.want)
				}
			}
			if !found {
				t.Fatal("no copy of chunks/a out of the build context")
			}
		})
	}
}

// A build whose context is a git repository (buildx's `docker buildx build <git URL>`, the URL in
// the option `context`) still gives each chunk its folder, not the whole repository.
func TestChunkContextFromGitBuild(t *testing.T) {
	in, c, _ := newInput(nil)
	c.opts["context"] = "https://github.com/example/project.git#main"
	conv, err := convertChunk(t, in, chunk("a", "ARG base\nFROM ${base}\nCOPY . /src\n"))
	if err != nil {
		t.Fatal(err)
	}
	def, err := conv.State.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "git://") {
			t.Errorf("the chunk reads the git repository %s instead of its folder", src.Identifier)
		}
	}
}

// A `# syntax=` line is told to be ignored in any form the directive takes.
func TestSyntaxDirectiveIgnored(t *testing.T) {
	for _, tc := range []struct {
		name, first string
		warn        bool
	}{
		{"none", "# a comment", false},
		{"lower case", "# syntax=docker/dockerfile:1.4", true},
		{"upper case", "# SYNTAX = docker/dockerfile:1.4", true},
		{"mixed case, no spaces", "#Syntax=docker/dockerfile:1.4", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, _, col := newInput(nil)
			if _, err := convertChunk(t, in, chunk("a", tc.first+"\nARG base\nFROM ${base}\n")); err != nil {
				t.Fatal(err)
			}
			warned := false
			for _, w := range col.Warnings() {
				warned = warned || w.Rule == "SyntaxDirectiveIgnored"
			}
			if warned != tc.warn {
				t.Fatalf("SyntaxDirectiveIgnored warned: %v, want %v", warned, tc.warn)
			}
		})
	}
}
