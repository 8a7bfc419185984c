// Command nullfrontend is the least a BuildKit gateway frontend can do, for the benchmark's CI-scale
// floors. By default it returns the image named by the build arg IMAGE, with that image's config, and
// nothing else: a bake of it over dazzlekit's pushed combinations costs what any frontend container
// costs per target (runc, the process, the gateway round trips, the export), so the gap between it and
// a warm dazzlekit bake is dazzlekit's own work.
//
// With the build arg FLOOR it is the LLB floor's frontend instead: FLOOR names a file of the build
// context holding plain LLB definitions (a Floor), which it solves, the tests first, and returns the
// image of. That is what a bake through a frontend image pays when each frontend sends the least work
// its target needs itself, as dazzlekit's do, without reading a project or converting anything.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/appcontext"
	"golang.org/x/sync/errgroup"
)

// Floor is one target's work in the LLB floor: the definitions of the tests to run (each its own
// solve, all at once) and of the image to return once they passed, as pb.Definition bytes.
type Floor struct {
	Tests [][]byte `json:"tests"`
	Image []byte   `json:"image"`
}

func main() {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), build); err != nil {
		fmt.Fprintf(os.Stderr, "nullfrontend: %v\n", err)
		os.Exit(1)
	}
}

func build(ctx context.Context, c client.Client) (*client.Result, error) {
	if name := c.BuildOpts().Opts["build-arg:FLOOR"]; name != "" {
		return floor(ctx, c, name)
	}
	ref := c.BuildOpts().Opts["build-arg:IMAGE"]
	if ref == "" {
		return nil, fmt.Errorf("nullfrontend: set the build arg IMAGE to the image to return, or FLOOR to a file of definitions")
	}
	ref, _, config, err := c.ResolveImageConfig(ctx, ref, sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{}})
	if err != nil {
		return nil, err
	}
	def, err := llb.Image(ref).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, err
	}
	res.AddMeta(exptypes.ExporterImageConfigKey, config)
	return res, nil
}

// floor reads the Floor in the context's file name (one transfer of that file alone, one read),
// solves its tests and then its image.
func floor(ctx context.Context, c client.Client, name string) (*client.Result, error) {
	src, err := llb.Local("context", llb.SessionID(c.BuildOpts().SessionID), llb.FollowPaths([]string{name}),
		llb.SharedKeyHint("context"), llb.WithCustomName("[floor] load "+name)).Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, client.SolveRequest{Definition: src.ToPB()})
	if err != nil {
		return nil, err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	dt, err := ref.ReadFile(ctx, client.ReadRequest{Filename: name})
	if err != nil {
		return nil, err
	}
	var f Floor
	if err := json.Unmarshal(dt, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	eg, ectx := errgroup.WithContext(ctx)
	for _, t := range f.Tests {
		eg.Go(func() error {
			def, err := unmarshal(t)
			if err != nil {
				return err
			}
			_, err = c.Solve(ectx, client.SolveRequest{Definition: def, Evaluate: true})
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	def, err := unmarshal(f.Image)
	if err != nil {
		return nil, err
	}
	return c.Solve(ctx, client.SolveRequest{Definition: def})
}

func unmarshal(dt []byte) (*pb.Definition, error) {
	var def pb.Definition
	if err := def.UnmarshalVT(dt); err != nil {
		return nil, fmt.Errorf("a floor definition: %w", err)
	}
	return &def, nil
}
