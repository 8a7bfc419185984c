// Package llbgen turns a dazzle project's base and chunk Dockerfiles into LLB with BuildKit's own
// Dockerfile converter. A chunk's `FROM ${base}` resolves to the in-memory base state through a named
// context, so chunks never need a pushed base image and inherit the base's config exactly.
package llbgen

import (
	"context"
	"encoding/json"
	"maps"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// BaseName is the name chunks see in `FROM ${base}`. It is a named context, never pulled.
const BaseName = "dazzlekit-base"

// Input is what every conversion shares.
type Input struct {
	Client    gwclient.Client   // the frontend's gateway client
	Opts      map[string]string // the frontend's options, forwarded to each conversion (named contexts, platform, no-cache, ...)
	Context   llb.State         // the whole build context
	BuildArgs map[string]string // the user's build args, for the base and every chunk
	Platform  *ocispecs.Platform
}

// Converted is a converted Dockerfile: its final state and image config.
type Converted struct {
	State llb.State
	Image *dockerspec.DockerOCIImage
	Epoch *time.Time // SOURCE_DATE_EPOCH resolved by the converter, in any form it accepts; nil if unset
}

// Base converts the project's base Dockerfile with base/ as its context.
func Base(ctx context.Context, in Input, base project.Chunk) (*Converted, error) {
	return convert(ctx, in, base, nil)
}

// Chunk converts one chunk's Dockerfile with its folder as context and `base` bound to the base state.
func Chunk(ctx context.Context, in Input, base *Converted, chunk project.Chunk) (*Converted, error) {
	return convert(ctx, in, chunk, base)
}

func convert(ctx context.Context, in Input, ch project.Chunk, base *Converted) (*Converted, error) {
	opts := forwardedOpts(in.Opts)
	opts["contextsubdir"] = ch.Dir
	inputs := map[string]llb.State{dockerui.DefaultLocalNameContext: in.Context}

	args := maps.Clone(in.BuildArgs)
	if args == nil {
		args = map[string]string{}
	}
	// A variant's args are what make it a variant, so they win over the user's global build args.
	maps.Copy(args, ch.Args)
	if base != nil {
		cfg, err := json.Marshal(base.Image)
		if err != nil {
			return nil, errors.Wrap(err, "encoding the base image config")
		}
		md, err := json.Marshal(map[string][]byte{exptypes.ExporterImageConfigKey: cfg})
		if err != nil {
			return nil, err
		}
		args["base"] = BaseName
		opts["context:"+BaseName] = "input:" + BaseName
		opts["input-metadata:"+BaseName] = string(md)
		inputs[BaseName] = base.State
	}

	bc, err := dockerui.NewClient(&scopedClient{Client: in.Client, opts: opts, inputs: inputs})
	if err != nil {
		return nil, errors.Wrapf(err, "%s", ch.Dockerfile)
	}
	cfg := bc.Config
	cfg.BuildArgs = args
	cfg.Target = ""

	ctxState := in.Context
	sm := llb.NewSourceMap(&ctxState, ch.Dockerfile, "Dockerfile", ch.DockerfileData)
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, ch.DockerfileData, dockerfile2llb.ConvertOpt{
		Config:         cfg,
		Client:         bc,
		SourceMap:      sm,
		MetaResolver:   in.Client,
		TargetPlatform: in.Platform,
	})
	if err != nil {
		return nil, withDockerfileSource(errors.Wrapf(err, "%s", ch.Dockerfile), sm, err)
	}
	return &Converted{State: res.State, Image: res.Image, Epoch: res.Epoch}, nil
}

// forwardedOpts keeps the options that mean the same for a chunk as for the whole build and drops
// the ones that name the dazzle project itself (filename, target) or its transport.
func forwardedOpts(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		switch {
		case k == "filename", k == "target", k == "cmdline", k == "source", k == "requestid",
			k == "dockerfilekey", k == "contextkey", k == "contextsubdir", k == "frontend.caps":
		case strings.HasPrefix(k, "build-arg:"), strings.HasPrefix(k, "label:"):
			// build args arrive through ConvertOpt.Config; labels belong on the combined image only
		default:
			out[k] = v
		}
	}
	return out
}

func withDockerfileSource(err error, sm *llb.SourceMap, orig error) error {
	var le *parser.LocationError
	if !errors.As(orig, &le) {
		return err
	}
	for _, loc := range le.Locations {
		s := &errdefs.Source{Info: &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language}}
		for _, r := range loc {
			s.Ranges = append(s.Ranges, &pb.Range{
				Start: &pb.Position{Line: int32(r.Start.Line), Character: int32(r.Start.Character)},
				End:   &pb.Position{Line: int32(r.End.Line), Character: int32(r.End.Character)},
			})
		}
		err = errdefs.WithSource(err, s)
	}
	return err
}

// scopedClient is the gateway client as one Dockerfile conversion sees it: its own options and inputs.
type scopedClient struct {
	gwclient.Client
	opts   map[string]string
	inputs map[string]llb.State
}

func (c *scopedClient) BuildOpts() gwclient.BuildOpts {
	bo := c.Client.BuildOpts()
	bo.Opts = c.opts
	return bo
}

func (c *scopedClient) Inputs(context.Context) (map[string]llb.State, error) {
	return c.inputs, nil
}
