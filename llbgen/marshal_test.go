package llbgen_test

import (
	"context"
	"testing"

	"github.com/dazzlekit/dazzlekit/internal/benchproject"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/dazzlekit/dazzlekit/testexec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// Marshaler's definitions are llb.State.Marshal's, ToPB's and Names.Apply's, for every kind of
// state a build solves: converted chunks, a combination, tests on either, on the build's
// platform and another, and graphs where two vertices make one op.
func TestMarshalerMatchesLLB(t *testing.T) {
	arm := ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		name     string
		platform *ocispecs.Platform
	}{
		{"default platform", nil},
		{"linux/arm64", &arm},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			files, cfg := benchproject.Files()
			p, err := project.Load(files, benchproject.ConfigFile, cfg)
			if err != nil {
				t.Fatal(err)
			}
			c := newStandIn()
			// A session, as every real build context has: without one each marshal names the
			// local anew, so no two definitions of it could agree.
			in := llbgen.Input{Client: c, Opts: c.opts, Platform: tc.platform, Files: files,
				Context: llb.Local("context", llb.SessionID("s"), llb.SharedKeyHint("context"))}
			base, err := llbgen.Base(ctx, in, p.Base)
			if err != nil {
				t.Fatal(err)
			}
			var names llbgen.Names
			m := llbgen.NewMarshaler(&names, llb.WithCaps(c.BuildOpts().LLBCaps))
			own := func(st llb.State, label string) {
				t.Helper()
				ops, err := m.Ops(ctx, st)
				if err != nil {
					t.Fatal(err)
				}
				m.Own(ops, label)
			}
			own(base.State, "base")
			chunks, err := p.Combination("comb01")
			if err != nil {
				t.Fatal(err)
			}
			var layers []merge.Layer
			for _, ch := range chunks {
				conv, err := llbgen.Chunk(ctx, in, base, ch)
				if err != nil {
					t.Fatal(err)
				}
				own(conv.State, "chunk "+ch.Name)
				layers = append(layers, merge.Layer{Name: ch.Name, State: conv.State})
			}
			combined := merge.Layers(base.State, layers, "[combine comb01]")
			runner := testexec.Runner{State: llb.Image("registry.example/runner"), Path: "/dazzlekit"}
			test := func(st llb.State, opts ...llb.RunOption) llb.State {
				return testexec.Exec(st, []string{"PATH=/bin"}, "/", runner, testexec.Spec{Desc: "t", Argv: []string{"true"}}, "[test] t", opts...)
			}
			mkdir := func(name string) llb.State {
				return llb.Image("registry.example/busybox").File(llb.Mkdir("/x", 0o755), llb.WithCustomName(name))
			}
			// Two vertices, one op: their metadata merge.
			twice := llb.Merge([]llb.State{mkdir("one"), mkdir("two"), layers[0].State})

			onCombined := test(combined)
			for _, st := range []struct {
				name string
				st   llb.State
				keep bool // Keep it, as a subject of tests, before the states after it
			}{
				{"chunk", layers[0].State, true},
				{"base", base.State, false},
				{"combination", combined, true},
				{"test on a chunk", test(layers[1].State), false},
				{"test on a kept chunk", test(layers[0].State), false},
				{"test on the combination", onCombined, true},
				{"test ignoring the cache", test(combined, llb.IgnoreCache), false},
				{"test on a test", test(onCombined), false},
				{"one op from two vertices", twice, true},
				{"on one op from two vertices", test(twice), false},
				{"no chunks", merge.Layers(base.State, nil, "none"), false},
				{"scratch", llb.Scratch(), false},
			} {
				t.Run(st.name, func(t *testing.T) {
					def, err := st.st.Marshal(ctx, llb.WithCaps(c.BuildOpts().LLBCaps))
					if err != nil {
						t.Fatal(err)
					}
					want := def.ToPB()
					names.Apply(want)
					marshal := []func(context.Context, llb.State) (*pb.Definition, error){m.Marshal, m.Marshal}
					if st.keep {
						marshal = []func(context.Context, llb.State) (*pb.Definition, error){m.Keep, m.Marshal}
					}
					for _, f := range marshal { // the second from what the first left
						got, err := f(ctx, st.st)
						if err != nil {
							t.Fatal(err)
						}
						if !proto.Equal(got, want) {
							t.Fatalf("got\n%s\nwant\n%s", prototext.Format(got), prototext.Format(want))
						}
					}
				})
			}
		})
	}
}
