package frontend

import (
	"context"
	"sync"

	"github.com/dazzlekit/dazzlekit/llbgen"
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
	return func(ctx context.Context, c gwclient.Client) (*gwclient.Result, error) {
		var once sync.Once
		signal := func() { once.Do(ready) }
		defer signal()
		pr, err := prepare(ctx, c)
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
