// Package frontend is the BuildKit gateway frontend: it reads a dazzle project from the build context,
// answers subrequests, builds the base and the chosen chunks in parallel, stacks the chunks' own layers
// on the base and returns the combined image. It is the one package that talks to the gateway client.
package frontend

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
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
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
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
	if res, ok, err := schemaSubrequest(c.BuildOpts().Opts["requestid"]); ok {
		return res, err
	}
	pr, err := prepare(ctx, c)
	if err != nil {
		return nil, err
	}
	bc, opt, proj, warn, input := pr.bc, pr.opt, pr.proj, pr.warn, pr.input
	if res, ok, err := bc.HandleSubrequest(ctx, dockerui.RequestHandler{
		ListTargets: func(context.Context) (*targets.List, error) { return listTargets(proj), nil },
		Outline: func(ctx context.Context) (*outline.Outline, error) {
			return outlineProject(ctx, input(firstPlatform(bc)), proj)
		},
		Lint: func(ctx context.Context) (*lint.LintResults, error) {
			return check(ctx, input(firstPlatform(bc)), proj, opt), nil
		},
	}); err != nil || ok {
		return res, err
	}

	sel, err := selectChunks(proj, opt)
	if err != nil {
		return nil, err
	}
	copyStack, why := opt.DisableDiffMerge, "build-arg "+argDisableDiffMerge+" is set"
	caps := c.BuildOpts().LLBCaps
	for _, cp := range []apicaps.CapID{pb.CapMergeOp, pb.CapDiffOp} {
		if err := caps.Supports(cp); err != nil && !copyStack {
			copyStack, why = true, err.Error()
		}
	}
	if copyStack {
		warn(diag.Warning{Rule: "NoDiffMerge", Msg: "composing without DiffOp/MergeOp (" + why + "): each chunk's own changes are copied onto the chunks before it; " +
			"the image is the same, but chunks share no layers, so changing one chunk rebuilds the layers of every later one. " +
			"Docker's classic image store has no MergeOp: turn on the containerd image store, or use `docker buildx create --driver docker-container`"})
	}

	rb, err := bc.Build(ctx, func(ctx context.Context, platform *ocispecs.Platform, _ int) (*dockerui.BuildResult, error) {
		b := &builder{c: c, bc: bc, proj: proj, opt: opt, sel: sel, warn: warn, copyStack: copyStack, start: pr.start, in: input(platform)}
		return b.build(ctx)
	})
	if err != nil {
		return nil, err
	}
	return rb.Finalize()
}

// prepared is where every build of a project starts: the options, the project as read from the
// build context, and the inputs of its Dockerfile conversions.
type prepared struct {
	start time.Time
	bc    *dockerui.Client
	opt   Options
	proj  *project.Project
	warn  diag.Sink
	input func(platform *ocispecs.Platform) llbgen.Input
}

func prepare(ctx context.Context, c gwclient.Client) (*prepared, error) {
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
	// Once: each platform converts every Dockerfile again, and their lint warnings would repeat.
	warn := diag.Once(warner(ctx, src))
	if c.BuildOpts().Opts["requestid"] == lint.RequestLint {
		warn = func(diag.Warning) {} // `--call check` returns the warnings as its result
	}
	for _, w := range opt.Warnings {
		warn(w)
	}
	// The project is read from the very state the chunks are built from, so it is transferred once.
	mainCtx, err := bc.MainContext(ctx)
	if err != nil {
		return nil, err
	}
	files, err := contextFS(ctx, c, *mainCtx)
	if err != nil {
		return nil, err
	}
	proj, err := loadProject(ctx, files, src.SourceMap.Filename, src.SourceMap.Data)
	if err != nil {
		return nil, err
	}
	for _, w := range proj.Warnings { // once per build, not per platform
		warn(w)
	}

	return newPrepared(c, start, bc, opt, proj, warn, *mainCtx, files), nil
}

// newPrepared sets up a build's conversions of proj, whose files are read from files and whose
// chunks are built from the build context mainCtx.
func newPrepared(c gwclient.Client, start time.Time, bc *dockerui.Client, opt Options, proj *project.Project, warn diag.Sink, mainCtx llb.State, files fs.FS) *prepared {
	// Subrequests are answered before any Dockerfile is converted: converting resolves base image
	// metadata, which a user listing targets should not need, so input only sets conversions up.
	meta := llbgen.NewMetaCache(c) // one per build: chunks and platforms share image lookups
	input := func(platform *ocispecs.Platform) llbgen.Input {
		return llbgen.Input{
			Client:    c,
			Opts:      c.BuildOpts().Opts,
			Context:   mainCtx,
			Files:     files,
			BuildArgs: opt.BuildArgs,
			Platform:  platform,
			Meta:      meta,
			Warn:      warn,
		}
	}
	return &prepared{start: start, bc: bc, opt: opt, proj: proj, warn: warn, input: input}
}

// selection is what one build produces: a name for progress and the chunks in layer order.
type selection struct {
	name   string
	chunks []project.Chunk
	// testLabel names the combined image in its test ops: the first combination of the same
	// chunks, so that combinations building one image (python and python-3.13) run its tests in
	// the same ops, once, whichever builds first.
	testLabel string
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
		return selection{name: opt.Target, chunks: chunks, testLabel: p.SameImageAs(opt.Target)}, err
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
	// copyStack composes by copying each chunk's changes (merge.CopyStack), for a BuildKit without
	// DiffOp/MergeOp or when asked to.
	copyStack bool
	// start is when this build began: a failed test result older than this came from the cache.
	start time.Time

	names   llbgen.Names      // whose each op is, applied to every solve's vertex names
	marshal *llbgen.Marshaler // every solve's definition, sharing the work of marshalling their common ops
}

func (b *builder) build(ctx context.Context) (*dockerui.BuildResult, error) {
	base, chunks, err := b.convert(ctx)
	if err != nil {
		return nil, err
	}
	layers := make([]merge.Layer, len(chunks))
	images := make([]merge.ChunkImage, len(chunks))
	for i, ch := range b.sel.chunks {
		layers[i] = merge.Layer{Name: ch.Name, State: chunks[i].State}
		images[i] = merge.ChunkImage{Name: ch.Name, Image: chunks[i].Image}
	}
	combined := merge.Layers(base.State, layers, fmt.Sprintf("[combine %s] base + %d chunks", b.sel.name, len(chunks)))
	img := merge.Config(base.Image, images, envRules(b.proj))
	if b.copyStack {
		r := testRunner(b.c)
		combined = merge.CopyStack(base.State, layers, merge.Applier{State: r.State, Path: r.Path}, b.sel.name)
		names := make([]string, len(layers))
		for i, l := range layers {
			names[i] = l.Name
		}
		img.History = merge.CopyStackHistory(img, names)
	}
	if len(b.opt.Labels) > 0 {
		if img.Config.Labels == nil {
			img.Config.Labels = map[string]string{}
		}
		maps.Copy(img.Config.Labels, b.opt.Labels)
	}

	// llb sorts an exec op's mounts in place the first time it is marshalled; the tests marshal
	// states sharing the chunks' ops from many goroutines, so marshal them all once here first.
	// Kept, the combination's definition is also where its tests' definitions and its own solve start.
	if _, err := b.marshal.Keep(ctx, combined); err != nil {
		return nil, err
	}
	var ref gwclient.Reference
	switch {
	case b.opt.TestReport:
		// The image before any test: it holds every image tests run against, so a chunk step that
		// fails is reported as that step's failure at its Dockerfile line, not as a report.
		if _, err = b.solveEvaluated(ctx, combined); err != nil {
			return nil, err
		}
		return b.report(ctx, chunks, combined, img)
	case b.opt.NoTest:
		ref, err = b.solve(ctx, combined)
	default:
		ref, err = b.solveTested(ctx, combined, b.subjects(chunks, combined, img))
	}
	if err != nil {
		return nil, err
	}
	epoch := b.opt.Epoch
	if base.Epoch != nil { // SOURCE_DATE_EPOCH, as BuildKit resolved it for the base
		epoch = *base.Epoch
	}
	return &dockerui.BuildResult{Reference: ref, Image: img, Epoch: &epoch}, nil
}

// solveTested solves the combined image, which holds every image tests run against and is the
// result, and runs the tests. The tests are sent along with the image rather than once it is built:
// each test op then waits in BuildKit for its image and starts the moment that is done, where a
// round trip through the frontend came first, and the tests answered from the cache are read while
// the steps run (an edit of one chunk of 8 with `dazzlekit build`: 4.98 s against 5.09 s, medians
// of 8 alternating runs; 0.99 s against 1.26 s from its last step to the end). A chunk step that
// fails is still reported as that step's failure at its Dockerfile line: the tests, whose errors
// could only repeat it or say they were cancelled, are cancelled and their errors dropped.
func (b *builder) solveTested(ctx context.Context, combined llb.State, subjects []subject) (gwclient.Reference, error) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tested := make(chan error, 1)
	go func() {
		_, err := b.runTests(tctx, subjects)
		tested <- err
	}()
	ref, err := b.solveEvaluated(ctx, combined)
	if err != nil {
		cancel()
		<-tested
		return nil, err
	}
	if err := <-tested; err != nil {
		return nil, err
	}
	return ref, nil
}

// convert converts the base and the selected chunks (in parallel) and names each op for its owner.
func (b *builder) convert(ctx context.Context) (*llbgen.Converted, []*llbgen.Converted, error) {
	caps := llb.WithCaps(b.c.BuildOpts().LLBCaps)
	marshal := func(st llb.State) error {
		_, err := st.Marshal(ctx, caps)
		return err
	}
	base, err := convertShared(ctx, b.in, b.proj, b.proj.Base, func(in llbgen.Input) (*llbgen.Converted, error) {
		return llbgen.Base(ctx, in, b.proj.Base)
	}, marshal)
	if err != nil {
		return nil, nil, err
	}
	// BuildKit runs independent chunks in parallel within a solve; the names say whose each step is.
	b.marshal = llbgen.NewMarshaler(&b.names, caps)
	baseOps, err := b.marshal.Ops(ctx, base.State)
	if err != nil {
		return nil, nil, err
	}
	chunks := make([]*llbgen.Converted, len(b.sel.chunks))
	ops := make([]*llbgen.Ops, len(b.sel.chunks))
	eg, ectx := errgroup.WithContext(ctx)
	for i, ch := range b.sel.chunks {
		eg.Go(func() error {
			conv, err := convertShared(ectx, b.in, b.proj, ch, func(in llbgen.Input) (*llbgen.Converted, error) {
				return llbgen.Chunk(ectx, in, base, ch)
			}, marshal)
			if err != nil {
				return errors.Wrapf(err, "chunk %s", ch.Name)
			}
			chunks[i] = conv
			ops[i], err = b.marshal.Ops(ectx, conv.State)
			return err
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	b.marshal.Own(baseOps, llbgen.BaseLabel)
	for i, ch := range b.sel.chunks {
		b.marshal.Own(ops[i], llbgen.ChunkLabel(ch.Name))
	}
	return base, chunks, nil
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
	testLabel := b.sel.testLabel
	if testLabel == "" {
		testLabel = b.sel.name
	}
	comb := subject{label: b.sel.name, opLabel: testLabel, state: combined, image: img}
	seen := map[string]bool{}
	for i, ch := range b.sel.chunks {
		var tests []testCase
		for _, t := range b.proj.Tests[ch.Folder] {
			tests = append(tests, testCase{chunk: ch.Folder, test: t})
		}
		if len(tests) == 0 {
			continue
		}
		out = append(out, subject{label: ch.Name, opLabel: ch.Name, state: chunks[i].State, image: chunks[i].Image, tests: tests})
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
	marshal := b.marshal.Marshal
	if evaluate { // a test's subject, which its tests are built on
		marshal = b.marshal.Keep
	}
	pbDef, err := marshal(ctx, st)
	if err != nil {
		return nil, err
	}
	res, err := b.c.Solve(ctx, gwclient.SolveRequest{Definition: pbDef, CacheImports: b.bc.CacheImports, Evaluate: evaluate})
	if err != nil {
		return nil, err
	}
	return res.SingleRef()
}

func envRules(p *project.Project) []merge.EnvRule {
	rules := make([]merge.EnvRule, 0, len(p.Config.EnvVars))
	for _, ev := range p.Config.EnvVars {
		rules = append(rules, merge.EnvRule{Name: ev.Name, Action: ev.Action})
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

// firstPlatform is the platform `--call check|outline` convert for: the first one asked for.
func firstPlatform(bc *dockerui.Client) *ocispecs.Platform {
	if len(bc.TargetPlatforms) > 0 {
		p := bc.TargetPlatforms[0]
		return &p
	}
	return nil
}
