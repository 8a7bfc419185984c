// Package frontend is the BuildKit gateway frontend: it reads a dazzle project from the build context,
// answers subrequests, builds the base and the chosen chunks in parallel, stacks the chunks' own layers
// on the base and returns the combined image. It is the one package that talks to the gateway client.
package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// Build is the frontend's build function (gateway.v0 and in-process client.Build alike).
func Build(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
	res, err := build(ctx, c)
	return res, withSource(err)
}

func build(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
	start := time.Now()
	bc, err := dockerui.NewClient(withDefaultFilename(c))
	if err != nil {
		return nil, err
	}
	opt, err := ParseOptions(bc.Config)
	if err != nil {
		return nil, err
	}
	src, err := bc.ReadEntrypoint(ctx, "YAML")
	if err != nil {
		return nil, err
	}
	warn := warner(ctx, src)
	files, err := readProjectFiles(ctx, c, bc)
	if err != nil {
		return nil, err
	}
	proj, err := project.Load(files, src.SourceMap.Filename, src.SourceMap.Data)
	if err != nil {
		return nil, err
	}

	// Subrequests are answered before any Dockerfile is converted: converting resolves base image
	// metadata, which a user listing targets should not need.
	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		ListTargets: func(context.Context) (*targets.List, error) { return listTargets(proj), nil },
	}); err != nil || ok {
		return res, err
	}

	sel, err := selectChunks(proj, opt)
	if err != nil {
		return nil, err
	}
	caps := c.BuildOpts().LLBCaps
	if err := caps.Supports(pb.CapMergeOp); err != nil {
		return nil, errors.New("this BuildKit cannot merge layers (MergeOp is disabled, as with Docker's classic image store): use a BuildKit with the containerd or OCI worker, e.g. `docker buildx create --driver docker-container`")
	}
	if err := caps.Supports(pb.CapDiffOp); err != nil {
		return nil, errors.New("this BuildKit cannot diff layers (DiffOp is disabled): use a BuildKit with the containerd or OCI worker")
	}

	mainCtx, err := bc.MainContext(ctx)
	if err != nil {
		return nil, err
	}
	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		b := &builder{c: c, bc: bc, proj: proj, opt: opt, sel: sel, warn: warn, start: start, in: llbgen.Input{
			Client:    c,
			Opts:      c.BuildOpts().Opts,
			Context:   *mainCtx,
			BuildArgs: opt.BuildArgs,
			Platform:  platform,
		}}
		return b.build(ctx)
	})
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// selection is what one build produces: a name for progress and the chunks in layer order.
type selection struct {
	name   string
	chunks []project.Chunk
}

func selectChunks(p *project.Project, opt Options) (selection, error) {
	switch {
	case len(opt.Chunks) > 0:
		chunks, err := p.Select(opt.Chunks)
		return selection{name: strings.Join(opt.Chunks, ","), chunks: chunks}, err
	case strings.HasPrefix(opt.Target, chunkTargetPrefix):
		name := strings.TrimPrefix(opt.Target, chunkTargetPrefix)
		ch, err := p.Chunk(name)
		return selection{name: opt.Target, chunks: []project.Chunk{ch}}, err
	case opt.Target != "":
		chunks, err := p.Combination(opt.Target)
		return selection{name: opt.Target, chunks: chunks}, err
	default:
		return selection{name: "all chunks", chunks: p.Chunks}, nil
	}
}

func listTargets(p *project.Project) *targets.List {
	l := &targets.List{}
	for _, comb := range p.Config.Combinations {
		chunks, _ := p.Combination(comb.Name) // validated when the project was loaded
		names := make([]string, len(chunks))
		for i, ch := range chunks {
			names[i] = ch.Name
		}
		l.Targets = append(l.Targets, targets.Target{Name: comb.Name, Description: "combination: " + strings.Join(names, ", ")})
	}
	for _, ch := range p.Chunks {
		l.Targets = append(l.Targets, targets.Target{Name: chunkTargetPrefix + ch.Name, Description: "the base plus chunk " + ch.Name})
	}
	l.Targets = append([]targets.Target{{Name: "", Default: true, Description: "the base plus every chunk"}}, l.Targets...)
	return l
}

type builder struct {
	c    gwclient.Client
	bc   *dockerui.Client
	proj *project.Project
	opt  Options
	sel  selection
	in   llbgen.Input
	warn diag.Sink // problems worth telling that do not stop the build
	// start is when this build began: a failed test result older than this came from the cache.
	start time.Time

	names llbgen.Names // whose each op is, applied to every solve's vertex names
}

func (b *builder) build(ctx context.Context) (*dockerui.BuildResult, error) {
	base, err := llbgen.Base(ctx, b.in, b.proj.Base)
	if err != nil {
		return nil, err
	}
	chunks := make([]*llbgen.Converted, len(b.sel.chunks))
	eg, ectx := errgroup.WithContext(ctx)
	for i, ch := range b.sel.chunks {
		eg.Go(func() error {
			conv, err := llbgen.Chunk(ectx, b.in, base, ch)
			if err != nil {
				return errors.Wrapf(err, "chunk %s", ch.Name)
			}
			chunks[i] = conv
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}

	// BuildKit runs independent chunks in parallel within a solve; the names say whose each step is.
	if err := b.names.Own(ctx, base.State, "base"); err != nil {
		return nil, err
	}
	for i, ch := range b.sel.chunks {
		if err := b.names.Own(ctx, chunks[i].State, "chunk "+ch.Name); err != nil {
			return nil, err
		}
	}

	layers := make([]merge.Layer, len(chunks))
	images := make([]merge.ChunkImage, len(chunks))
	for i, ch := range b.sel.chunks {
		layers[i] = merge.Layer{Name: ch.Name, State: chunks[i].State}
		images[i] = merge.ChunkImage{Name: ch.Name, Image: chunks[i].Image}
	}
	combined := merge.Layers(base.State, layers, fmt.Sprintf("[combine %s] base + %d chunks", b.sel.name, len(chunks)))
	img := merge.Config(base.Image, images, envRules(b.proj))
	if len(b.opt.Labels) > 0 {
		if img.Config.Labels == nil {
			img.Config.Labels = map[string]string{}
		}
		maps.Copy(img.Config.Labels, b.opt.Labels)
	}

	if b.opt.TestReport {
		return b.report(ctx, chunks, combined, img)
	}
	if !b.opt.NoTest {
		if _, err := b.runTests(ctx, b.subjects(chunks, combined, img)); err != nil {
			return nil, err
		}
	}

	ref, err := b.solve(ctx, combined)
	if err != nil {
		return nil, err
	}
	return &dockerui.BuildResult{Reference: ref, Image: img, Epoch: &b.opt.Epoch}, nil
}

// report runs the tests and returns their summary (report.json, report.txt) instead of the image.
// Failing tests do not fail this build: the report is what the user asked for.
func (b *builder) report(ctx context.Context, chunks []*llbgen.Converted, combined llb.State, img *dockerspec.DockerOCIImage) (*dockerui.BuildResult, error) {
	outcomes, err := b.runTests(ctx, b.subjects(chunks, combined, img))
	var tf *TestFailures
	if err != nil && !errors.As(err, &tf) {
		return nil, err
	}
	r := newReport(outcomes)
	dt, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	st := llb.Scratch().
		File(llb.Mkfile("report.json", 0o644, append(dt, '\n')), llb.WithCustomName("[test report] report.json")).
		File(llb.Mkfile("report.txt", 0o644, []byte(r.Text())), llb.WithCustomName("[test report] report.txt"))
	ref, err := b.solve(ctx, st)
	if err != nil {
		return nil, err
	}
	return &dockerui.BuildResult{Reference: ref, Image: &dockerspec.DockerOCIImage{Image: ocispecs.Image{Platform: img.Platform}}}, nil
}

// subjects lists what tests run against: each chunk's own image with its tests, then the combined
// image with the tests of every chunk in it (a chunk that works alone can break once merged).
func (b *builder) subjects(chunks []*llbgen.Converted, combined llb.State, img *dockerspec.DockerOCIImage) []subject {
	var out []subject
	comb := subject{label: b.sel.name, state: combined, image: img}
	seen := map[string]bool{}
	for i, ch := range b.sel.chunks {
		var tests []testCase
		for _, t := range b.proj.Tests[ch.Folder] {
			tests = append(tests, testCase{chunk: ch.Folder, test: t})
		}
		if len(tests) == 0 {
			continue
		}
		out = append(out, subject{label: ch.Name, state: chunks[i].State, image: chunks[i].Image, tests: tests})
		if !seen[ch.Folder] {
			seen[ch.Folder] = true
			comb.tests = append(comb.tests, tests...)
		}
	}
	if !strings.HasPrefix(b.sel.name, chunkTargetPrefix) && len(comb.tests) > 0 {
		out = append(out, comb)
	}
	return out
}

func (b *builder) solve(ctx context.Context, st llb.State) (gwclient.Reference, error) {
	return b.solveRequest(ctx, st, false)
}

// solveEvaluated builds st now rather than when its result is first read.
func (b *builder) solveEvaluated(ctx context.Context, st llb.State) (gwclient.Reference, error) {
	return b.solveRequest(ctx, st, true)
}

func (b *builder) solveRequest(ctx context.Context, st llb.State, evaluate bool) (gwclient.Reference, error) {
	def, err := st.Marshal(ctx, llb.WithCaps(b.c.BuildOpts().LLBCaps))
	if err != nil {
		return nil, err
	}
	pbDef := def.ToPB()
	b.names.Apply(pbDef)
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: pbDef, CacheImports: b.bc.CacheImports, Evaluate: evaluate})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

func envRules(p *project.Project) []merge.EnvRule {
	rules := make([]merge.EnvRule, 0, len(p.Config.EnvVars))
	for _, ev := range p.Config.EnvVars {
		a, _ := merge.ParseAction(ev.Action) // validated when the project was loaded
		rules = append(rules, merge.EnvRule{Name: ev.Name, Action: a})
	}
	return rules
}

// withDefaultFilename makes dazzle.yaml the file read when the build names none.
func withDefaultFilename(c gwclient.Client) gwclient.Client {
	if _, ok := c.BuildOpts().Opts["filename"]; ok {
		return c
	}
	opts := maps.Clone(c.BuildOpts().Opts)
	if opts == nil {
		opts = map[string]string{}
	}
	opts["filename"] = DefaultFilename
	return &optsClient{Client: c, opts: opts}
}

type optsClient struct {
	gwclient.Client
	opts map[string]string
}

func (c *optsClient) BuildOpts() gwclient.BuildOpts {
	bo := c.Client.BuildOpts()
	bo.Opts = c.opts
	return bo
}
