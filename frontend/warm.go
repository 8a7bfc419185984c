package frontend

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// Warm is a build function that builds the named chunks, each on the base, converted as
// every build of the project converts them, and returns no result: no merge, no test, no image.
// It calls ready once, just before it sends their solves (or when it fails before that), and
// solved (if set) with a chunk's name once that chunk is built for every target platform.
//
// Its use is a head start. When many builds of one project start at once (`dazzlekit build` runs a
// frontend per combination), each spends CPU reading the project and converting its Dockerfiles
// before it sends anything to BuildKit; a chunk's changed steps, which every build of it waits for,
// start only once the first of them gets there. Started first, Warm sends those steps after one
// conversion, and the builds find them running: BuildKit runs a vertex once for every build
// holding it.
func Warm(chunks []string, ready func(), solved func(chunk string)) gwclient.BuildFunc {
	return warm(func(ctx context.Context, c gwclient.Client) (*prepared, func() error, error) {
		pr, err := prepare(ctx, c)
		return pr, nil, err
	}, chunks, ready, solved)
}

// WarmLocal is Warm for a caller that has read the project already, from the folder its session
// serves as both the build context and the project file's: `dazzlekit build`, which loads the
// project before it starts any build. The head start then reads nothing through BuildKit but the
// context's .dockerignore, which the chunks' context needs, instead of the project file, the
// context and every file of the project one request at a time: editing one chunk of 8, its first
// step started 0.058 s after the first vertex instead of 0.093 s (medians of 10 runs each).
// files is that folder; a project file with a .dockerignore of its own (dazzle.yaml.dockerignore)
// needs Warm, as only reading the project file through BuildKit makes the context use it.
func WarmLocal(proj *project.Project, files fs.FS, chunks []string, ready func(), solved func(chunk string)) gwclient.BuildFunc {
	return warm(func(ctx context.Context, c gwclient.Client) (*prepared, func() error, error) {
		return prepareLocal(ctx, c, proj, files)
	}, chunks, ready, solved)
}

// warm is Warm with prep in place of prepare. When prep gives a loaded func, the chunks are sent
// once it returns: it waits for what has to reach BuildKit before them.
func warm(prep func(context.Context, gwclient.Client) (pr *prepared, loaded func() error, err error), chunks []string, ready func(), solved func(chunk string)) gwclient.BuildFunc {
	return func(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
		var once sync.Once
		signal := func() { once.Do(ready) }
		defer signal()
		pr, loaded, err := prep(ctx, c)
		if err != nil {
			return nil, err
		}
		sel, err := pr.proj.Select(chunks)
		if err != nil {
			return nil, err
		}
		platforms := []*ocispecs.Platform{nil}
		if len(pr.bc.TargetPlatforms) > 0 {
			platforms = platforms[:0]
			for _, p := range pr.bc.TargetPlatforms {
				platforms = append(platforms, &p)
			}
		}
		// Converted for every platform first, so that ready comes once all of them can be sent.
		type warm struct {
			b      *builder
			chunks []*llbgen.Converted
		}
		warms := make([]warm, len(platforms))
		for i, p := range platforms {
			b := &builder{c: c, bc: pr.bc, proj: pr.proj, opt: pr.opt, sel: selection{name: "head start", chunks: sel}, warn: pr.warn, start: pr.start, in: pr.input(p)}
			_, conv, err := b.convert(ctx)
			if err != nil {
				return nil, err
			}
			warms[i] = warm{b: b, chunks: conv}
		}
		if loaded != nil {
			if err := loaded(); err != nil {
				return nil, err
			}
		}
		signal()
		var mu sync.Mutex
		left := make([]int, len(sel)) // platforms each chunk is still being built for
		for i := range left {
			left[i] = len(warms)
		}
		eg, ctx := errgroup.WithContext(ctx)
		for _, w := range warms {
			for i, ch := range w.chunks {
				eg.Go(func() error {
					if _, err := w.b.solveEvaluated(ctx, ch.State); err != nil {
						return err
					}
					mu.Lock()
					left[i]--
					done := left[i] == 0
					mu.Unlock()
					if done && solved != nil {
						solved(sel[i].Name)
					}
					return nil
				})
			}
		}
		return nil, eg.Wait()
	}
}

// prepareLocal is prepare for a project read by the caller from files. The warnings are the
// builds': each tells them as it reads the project, so a head start tells none.
//
// It loads the build context all the same, beside the conversions, and loaded waits for that: a
// chunk that copies from the context holds its source op, and BuildKit names a vertex as the first
// build to send it does. Sent first in a chunk's definition, the context would be shown as that
// chunk's (`[chunk hello] [internal] load build context`) in every build, on a cold cache.
func prepareLocal(ctx context.Context, c gwclient.Client, proj *project.Project, files fs.FS) (pr *prepared, loaded func() error, err error) {
	start := time.Now()
	bc, err := dockerui.NewClient(withDefaultFilename(c))
	if err != nil {
		return nil, nil, err
	}
	opt, err := ParseOptions(bc.Config)
	if err != nil {
		return nil, nil, err
	}
	mainCtx, err := bc.MainContext(ctx)
	if err != nil {
		return nil, nil, err
	}
	done := make(chan error, 1)
	go func() {
		def, err := mainCtx.Marshal(ctx) // as contextFS marshals it: the builds' vertex
		if err == nil {
			// Evaluated: an unread result is only loaded, and the chunk's solve would run it.
			_, err = c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB(), Evaluate: true})
		}
		done <- err
	}()
	loaded = func() error {
		if err := <-done; err != nil {
			return fmt.Errorf("loading the build context: %w", err)
		}
		return nil
	}
	return newPrepared(c, start, bc, opt, proj, func(diag.Warning) {}, *mainCtx, files), loaded, nil
}
