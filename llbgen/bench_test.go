package llbgen_test

import (
	"context"
	"testing"

	"github.com/dazzlekit/dazzlekit/internal/benchproject"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"golang.org/x/sync/errgroup"
)

// standIn is the gateway client as Dockerfile conversion sees it, answering from memory so that
// the benchmarks measure conversion alone; opts may be changed before use.
type standIn struct {
	*benchproject.Client
	opts map[string]string
}

func newStandIn() *standIn {
	opts := map[string]string{"filename": benchproject.ConfigFile}
	return &standIn{Client: benchproject.NewClient(nil, opts), opts: opts}
}

func (c *standIn) BuildOpts() gwclient.BuildOpts {
	bo := c.Client.BuildOpts()
	bo.Opts = c.opts
	return bo
}

func BenchmarkLoadProject(b *testing.B) {
	files, cfg := benchproject.Files()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := project.Load(files, "dazzle.yaml", cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGenerateLLBAllCombinations is what a frontend building every combination of the
// project at once would do before its first solve: convert the base and every chunk (in
// parallel), name the ops, then stack, merge configs and marshal each combination, as the
// frontend does for one (BenchmarkInvocation in frontend/ is one invocation).
func BenchmarkGenerateLLBAllCombinations(b *testing.B) {
	files, cfg := benchproject.Files()
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
		var names llbgen.Names
		m := llbgen.NewMarshaler(&names, llb.WithCaps(c.BuildOpts().LLBCaps))
		baseOps, err := m.Ops(ctx, base.State)
		if err != nil {
			b.Fatal(err)
		}
		conv := make(map[string]*llbgen.Converted, len(p.Chunks))
		out := make([]*llbgen.Converted, len(p.Chunks))
		ops := make([]*llbgen.Ops, len(p.Chunks))
		var eg errgroup.Group
		for i, ch := range p.Chunks {
			eg.Go(func() (err error) {
				if out[i], err = llbgen.Chunk(ctx, in, base, ch); err != nil {
					return err
				}
				ops[i], err = m.Ops(ctx, out[i].State)
				return err
			})
		}
		if err := eg.Wait(); err != nil {
			b.Fatal(err)
		}
		m.Own(baseOps, "base")
		for i, ch := range p.Chunks {
			conv[ch.Name] = out[i]
			m.Own(ops[i], "chunk "+ch.Name)
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
			if _, err := m.Marshal(ctx, st); err != nil {
				b.Fatal(err)
			}
		}
	}
}
