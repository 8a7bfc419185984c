// Command nullfrontend is the least a BuildKit gateway frontend can do, for the benchmark's CI-scale
// floor: it returns the image named by the build arg IMAGE, with that image's config, and nothing else.
// A bake of it over dazzlekit's pushed combinations costs what any frontend container costs per target
// (runc, the process, the gateway round trips, the export), so the gap between it and a warm dazzlekit
// bake is dazzlekit's own work.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

func main() {
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), build); err != nil {
		fmt.Fprintf(os.Stderr, "nullfrontend: %v\n", err)
		os.Exit(1)
	}
}

func build(ctx context.Context, c client.Client) (*client.Result, error) {
	ref := c.BuildOpts().Opts["build-arg:IMAGE"]
	if ref == "" {
		return nil, fmt.Errorf("nullfrontend: set the build arg IMAGE to the image to return")
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
