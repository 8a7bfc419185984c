// Package llbgen turns a dazzle project's base and chunk Dockerfiles into LLB with BuildKit's own
// Dockerfile converter. A chunk's `FROM ${base}` resolves to the in-memory base state through a named
// context, so chunks never need a pushed base image and inherit the base's config exactly.
package llbgen

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"maps"
	"path"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/patternmatcher/ignorefile"
	digest "github.com/opencontainers/go-digest"
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
	Files     fs.FS             // project files read from the context, where each folder's .dockerignore is looked up; nil: none
	BuildArgs map[string]string // the user's build args, for the base and every chunk
	Platform  *ocispecs.Platform
	Meta      *MetaCache // image metadata lookups shared by every conversion of the build; nil: each asks Client
	Warn      diag.Sink  // receives the Dockerfiles' lint warnings; nil: they are dropped
	AllStages bool       // convert every stage, not only those the final one needs (for `--call check`)
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

// Chunk converts one chunk's Dockerfile with its folder as context and `base` bound to the base
// state. A chunk whose final stage does not build on the base is refused.
func Chunk(ctx context.Context, in Input, base *Converted, chunk project.Chunk) (*Converted, error) {
	return convert(ctx, in, chunk, base)
}

func convert(ctx context.Context, in Input, ch project.Chunk, base *Converted) (*Converted, error) {
	opt, err := prepare(in, ch, base)
	if err != nil {
		return nil, err
	}
	warnSyntax(in, ch)
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, ch.DockerfileData, opt)
	if err != nil {
		return nil, withDockerfileSource(errors.Wrapf(err, "%s", ch.Dockerfile), opt.SourceMap, err)
	}
	// Checked only after converting, so a Dockerfile that does not parse reports that first.
	if base != nil {
		if err := buildsOnBase(ch, opt.Config.BuildArgs, in.Platform); err != nil {
			return nil, withDockerfileSource(err, opt.SourceMap, err)
		}
	}
	return &Converted{State: res.State, Image: res.Image, Epoch: res.Epoch}, nil
}

// Outline is what `--call outline` shows of one Dockerfile (its build args, secrets and ssh
// mounts), converted with exactly the options a build gives it.
func Outline(ctx context.Context, in Input, base *Converted, ch project.Chunk) (*outline.Outline, error) {
	opt, err := prepare(in, ch, base)
	if err != nil {
		return nil, err
	}
	opt.Warn = nil
	o, err := dockerfile2llb.Dockerfile2Outline(ctx, ch.DockerfileData, opt)
	if err != nil {
		return nil, withDockerfileSource(errors.Wrapf(err, "%s", ch.Dockerfile), opt.SourceMap, err)
	}
	return o, nil
}

// prepare gives a Dockerfile's conversion its options: its folder as the context, the base bound
// to `base`, the build's own options and inputs, and the shared metadata lookups.
func prepare(in Input, ch project.Chunk, base *Converted) (dockerfile2llb.ConvertOpt, error) {
	var none dockerfile2llb.ConvertOpt
	chunkCtx, err := folderContext(in, ch)
	if err != nil {
		return none, err
	}
	// The chunk sees the build's own options and inputs (named contexts such as bake's
	// `target:` contexts arrive as inputs), plus its folder as the context and the base.
	opts := forwardedOpts(in.Opts)
	inputs := map[string]llb.State{dockerui.DefaultLocalNameContext: chunkCtx}

	args := maps.Clone(in.BuildArgs)
	if args == nil {
		args = map[string]string{}
	}
	// A variant's args are what make it a variant, so they win over the user's global build args.
	maps.Copy(args, ch.Args)
	if base != nil {
		cfg, err := json.Marshal(base.Image)
		if err != nil {
			return none, errors.Wrap(err, "encoding the base image config")
		}
		md, err := json.Marshal(map[string][]byte{exptypes.ExporterImageConfigKey: cfg})
		if err != nil {
			return none, err
		}
		args["base"] = BaseName
		opts["context:"+BaseName] = "input:" + BaseName
		opts["input-metadata:"+BaseName] = string(md)
		inputs[BaseName] = base.State
	}

	var meta MetaResolver = in.Client
	if in.Meta != nil {
		meta = in.Meta
	}
	bc, err := dockerui.NewClient(&chunkClient{Client: in.Client, opts: opts, inputs: inputs, meta: meta})
	if err != nil {
		return none, errors.Wrapf(err, "%s", ch.Dockerfile)
	}
	cfg := bc.Config
	cfg.BuildArgs = args
	cfg.Target = ""

	// The source map's state is the one its file name is relative to: the whole context.
	ctxState := in.Context
	sm := llb.NewSourceMap(&ctxState, ch.Dockerfile, "Dockerfile", ch.DockerfileData)
	return dockerfile2llb.ConvertOpt{
		Config:         cfg,
		Client:         bc,
		SourceMap:      sm,
		MetaResolver:   meta,
		TargetPlatform: in.Platform,
		Warn:           lintWarner(in, ch, base != nil),
		AllStages:      in.AllStages,
	}, nil
}

// folderContext is the chunk's folder as the build context, as dazzle built it: its
// `<Dockerfile>.dockerignore`, or else its `.dockerignore`, applies (the file dockerui would read
// had the folder been the whole context). It is the same whether the build context arrived
// as a local or as an input: dockerui applies no ignore file to a context handed over as an input.
func folderContext(in Input, ch project.Chunk) (llb.State, error) {
	patterns, err := ignorePatterns(in.Files, ch)
	if err != nil {
		return llb.State{}, err
	}
	return llb.Scratch().File(llb.Copy(in.Context, ch.Dir, "/", &llb.CopyInfo{
		CopyDirContentsOnly: true,
		ExcludePatterns:     patterns,
	})), nil
}

func ignorePatterns(files fs.FS, ch project.Chunk) ([]string, error) {
	if files == nil {
		return nil, nil
	}
	for _, name := range []string{ch.Dockerfile + ".dockerignore", path.Join(ch.Dir, dockerui.DefaultDockerignoreName)} {
		dt, err := fs.ReadFile(files, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, errors.Wrapf(err, "reading %s", name)
		}
		patterns, err := ignorefile.ReadAll(bytes.NewReader(dt))
		if err != nil {
			return nil, errors.Wrapf(err, "%s", name)
		}
		return patterns, nil
	}
	return nil, nil
}

// forwardedOpts keeps the options that mean the same for a chunk as for the whole build and drops
// the ones that name the dazzle project itself (filename, target), its build context (a git or
// HTTP URL in `context` would take the place of the chunk's folder) or its transport.
func forwardedOpts(in map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range in {
		switch {
		case k == "filename", k == "target", k == "cmdline", k == "source", k == "requestid",
			k == dockerui.DefaultLocalNameContext, k == dockerui.DefaultLocalNameDockerfile,
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

// chunkClient is the gateway client as one Dockerfile conversion sees it: the build's client
// with the conversion's own options, its inputs added to the build's, and metadata lookups
// shared across conversions.
type chunkClient struct {
	gwclient.Client
	opts   map[string]string
	inputs map[string]llb.State
	meta   MetaResolver
}

func (c *chunkClient) BuildOpts() gwclient.BuildOpts {
	bo := c.Client.BuildOpts()
	bo.Opts = c.opts
	return bo
}

func (c *chunkClient) Inputs(ctx context.Context) (map[string]llb.State, error) {
	real, err := c.Client.Inputs(ctx)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(real)
	if out == nil {
		out = map[string]llb.State{}
	}
	maps.Copy(out, c.inputs)
	return out, nil
}

func (c *chunkClient) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return c.meta.ResolveImageConfig(ctx, ref, opt)
}

func (c *chunkClient) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return c.meta.ResolveSourceMetadata(ctx, op, opt)
}
