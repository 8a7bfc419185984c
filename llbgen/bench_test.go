package llbgen_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	fstypes "github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/errgroup"
)

// The size of a large real dazzle project, rounded up: 100 chunks and 50 combinations.
const (
	benchChunks       = 100
	benchCombinations = 50
)

// benchFiles is a project shaped like the ones hack/bench.sh builds, with many more chunks.
func benchFiles() (fs.FS, []byte) {
	files := fstest.MapFS{}
	files["base/Dockerfile"] = &fstest.MapFile{Data: []byte("FROM registry.example/busybox:latest\n" +
		"RUN mkdir -p /opt/base && echo base > /opt/base/version\nENV BENCH_BASE=/opt/base\n")}
	var y strings.Builder
	y.WriteString("combiner:\n  combinations:\n")
	for i := 0; i < benchCombinations; i++ {
		// Each combination takes a different slice of chunks and refers to its predecessor, as real
		// projects layer "full" on "minimal".
		var names []string
		for j := i; j < benchChunks; j += benchCombinations / 5 {
			names = append(names, fmt.Sprintf("c%03d", j))
		}
		fmt.Fprintf(&y, "    - name: comb%02d\n      chunks: [%s]\n", i, strings.Join(names, ", "))
		if i > 0 {
			fmt.Fprintf(&y, "      ref: [comb%02d]\n", i-1)
		}
	}
	y.WriteString("  envvars:\n    - name: PATH\n      action: merge-unique\n")
	for i := 0; i < benchChunks; i++ {
		c := fmt.Sprintf("c%03d", i)
		files["chunks/"+c+"/Dockerfile"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`ARG base
FROM ${base}
RUN mkdir -p /opt/%[1]s/bin && echo "%[1]s" > /opt/%[1]s/version && dd if=/dev/urandom of=/opt/%[1]s/blob bs=1M count=2
RUN printf '#!/bin/sh\ncat /opt/%[1]s/version\n' > /opt/%[1]s/bin/%[1]s && chmod 755 /opt/%[1]s/bin/%[1]s
COPY . /opt/%[1]s/src
ENV PATH=/opt/%[1]s/bin:$PATH
`, c))}
		files["tests/"+c+".yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`- desc: "%[1]s should be installed"
  command: ["%[1]s"]
  assert:
    - status == 0
    - stdout.indexOf("%[1]s") != -1
`, c))}
	}
	return files, []byte(y.String())
}

// standIn is the part of the gateway client that Dockerfile conversion calls, answering from
// memory so that the benchmark measures conversion alone. Any other call panics on the nil
// embedded interface, which would show that conversion started to need the daemon.
type standIn struct {
	gwclient.Client
	opts map[string]string
	cfg  []byte
}

func newStandIn() *standIn {
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "Cmd": []string{"sh"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digest.FromString("busybox").String()}},
		"history":      []map[string]any{{"created_by": "COPY busybox /bin/busybox"}},
	})
	return &standIn{opts: map[string]string{"filename": "dazzle.yaml"}, cfg: cfg}
}

func (c *standIn) BuildOpts() gwclient.BuildOpts {
	return gwclient.BuildOpts{Opts: c.opts, LLBCaps: pb.Caps.CapSet(pb.Caps.All()), Caps: gwpb.Caps.CapSet(gwpb.Caps.All())}
}

func (c *standIn) Inputs(context.Context) (map[string]llb.State, error) { return nil, nil }

// Solve answers with an empty context. Conversion makes no solve as long as the context arrives
// as an input (a gateway with frontend inputs, as every BuildKit the frontend runs on); this
// keeps the benchmark running, without a daemon, should that change.
func (c *standIn) Solve(context.Context, gwclient.SolveRequest) (*gwclient.Result, error) {
	res := gwclient.NewResult()
	res.SetRef(emptyRef{})
	return res, nil
}

// emptyRef is a build context with no files.
type emptyRef struct{ gwclient.Reference }

func (emptyRef) StatFile(context.Context, gwclient.StatRequest) (*fstypes.Stat, error) {
	return nil, fs.ErrNotExist
}

func (emptyRef) ReadFile(context.Context, gwclient.ReadRequest) ([]byte, error) {
	return nil, fs.ErrNotExist
}

func (c *standIn) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromBytes(c.cfg), c.cfg, nil
}

func (c *standIn) ResolveSourceMetadata(_ context.Context, op *pb.SourceOp, _ sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return &sourceresolver.MetaResponse{Op: op, Image: &sourceresolver.ResolveImageResponse{Digest: digest.FromBytes(c.cfg), Config: c.cfg}}, nil
}

func BenchmarkLoadProject(b *testing.B) {
	files, cfg := benchFiles()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := project.Load(files, "dazzle.yaml", cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateLLB is what the frontend does before its first solve, for every combination
// of the project: convert the base and every chunk (in parallel, as the frontend does), name the
// ops, then stack, merge configs and marshal each combination.
func BenchmarkGenerateLLB(b *testing.B) {
	files, cfg := benchFiles()
	c := newStandIn()
	if _, err := dockerui.NewClient(c); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		p, err := project.Load(files, "dazzle.yaml", cfg)
		if err != nil {
			b.Fatal(err)
		}
		in := llbgen.Input{Client: c, Opts: c.opts, Context: llb.Local("context")}
		base, err := llbgen.Base(ctx, in, p.Base)
		if err != nil {
			b.Fatal(err)
		}
		conv := make(map[string]*llbgen.Converted, len(p.Chunks))
		out := make([]*llbgen.Converted, len(p.Chunks))
		var eg errgroup.Group
		for i, ch := range p.Chunks {
			eg.Go(func() (err error) {
				out[i], err = llbgen.Chunk(ctx, in, base, ch)
				return err
			})
		}
		if err := eg.Wait(); err != nil {
			b.Fatal(err)
		}
		var names llbgen.Names
		if err := names.Own(ctx, base.State, "base"); err != nil {
			b.Fatal(err)
		}
		for i, ch := range p.Chunks {
			conv[ch.Name] = out[i]
			if err := names.Own(ctx, out[i].State, "chunk "+ch.Name); err != nil {
				b.Fatal(err)
			}
		}
		for _, comb := range p.Config.Combinations {
			chunks, err := p.Combination(comb.Name)
			if err != nil {
				b.Fatal(err)
			}
			layers := make([]merge.Layer, len(chunks))
			images := make([]merge.ChunkImage, len(chunks))
			for i, ch := range chunks {
				layers[i] = merge.Layer{Name: ch.Name, State: conv[ch.Name].State}
				images[i] = merge.ChunkImage{Name: ch.Name, Image: conv[ch.Name].Image}
			}
			st := merge.Layers(base.State, layers, "[combine "+comb.Name+"]")
			merge.Config(base.Image, images, nil)
			def, err := st.Marshal(ctx, llb.WithCaps(c.BuildOpts().LLBCaps))
			if err != nil {
				b.Fatal(err)
			}
			names.Apply(def.ToPB())
		}
	}
}
