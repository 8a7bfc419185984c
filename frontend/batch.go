package frontend

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/dazzlekit/dazzlekit/testexec"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// testWorkdir is where tests run: in /, not the image's WORKDIR, as dazzle runs them there, and a
// test that uses a relative path must give the same result under both.
const testWorkdir = "/"

// maxBatchArg bounds the encoded batch spec, which travels as one argument of the exec op: Linux
// refuses a single argument over 128 KiB.
const maxBatchArg = 64 << 10

// batches splits an image's tests into the exec ops that run them: one per network mode (an op has
// one), in the tests' order, split further only when the spec would not fit in an argument.
func batches(tcs []testCase) [][]testCase {
	var out [][]testCase
	for _, network := range []bool{true, false} {
		var cur []testCase
		size := 0
		for _, tc := range tcs {
			if tc.test.Network != network {
				continue
			}
			n := len(runner.Batch{Tests: []runner.BatchTest{batchTest(subject{}, tc.test, 0)}}.Encode())
			if len(cur) > 0 && size+n > maxBatchArg {
				out = append(out, cur)
				cur, size = nil, 0
			}
			cur = append(cur, tc)
			size += n
		}
		if len(cur) > 0 {
			out = append(out, cur)
		}
	}
	return out
}

// batchTest is t as the runner takes it in s.
func batchTest(s subject, t project.Test, timeout time.Duration) runner.BatchTest {
	user := t.User
	if user == "" && s.image != nil {
		// As `docker run` would: the image's USER, which the exec op does not take from the config.
		user = s.image.Config.User
	}
	return runner.BatchTest{
		Spec: runner.Spec{
			Argv:    append(append([]string{}, t.Entrypoint...), t.Command...),
			User:    user,
			PTY:     len(t.Entrypoint) > 0,
			Timeout: t.TimeLimit(timeout),
		},
		Env:    t.Env,
		Name:   fmt.Sprintf("[test %s] %s", s.opLabel, t.Desc),
		Where:  fmt.Sprintf("%s:%d", t.File, t.Line),
		Assert: t.Assert,
	}
}

// batchName names the op after its tests, so the progress shows what runs even before its log does.
func batchName(label string, tcs []testCase) string {
	if len(tcs) == 1 {
		return fmt.Sprintf("[test %s] %s", label, tcs[0].test.Desc)
	}
	descs := make([]string, 0, len(tcs))
	for _, tc := range tcs {
		descs = append(descs, tc.test.Desc)
	}
	list := strings.Join(descs, "; ")
	if len(list) > 100 {
		list = list[:97] + "..."
	}
	return fmt.Sprintf("[test %s] %d tests: %s", label, len(tcs), list)
}

// runBatch runs tcs against s in one container and judges each test.
//
// As in runJudged, a failure read from an op that predates this build came from the cache and is
// run again ignoring it. When a test wrote to the container's root, a later test may have seen
// what it wrote, which it would not in dazzle, where every test has a container of its own: the
// tests after it then run again in containers of their own.
func (b *builder) runBatch(ctx context.Context, r testexec.Runner, s subject, tcs []testCase) ([]Outcome, error) {
	memo := memoFrom(ctx)
	noCache := b.bc.IsNoCache("")
	if memo == nil || noCache {
		return b.runBatchOnce(ctx, r, s, tcs, noCache)
	}
	def, err := b.marshal.Marshal(ctx, b.batchState(r, s, tcs, false))
	if err != nil {
		return nil, err
	}
	// The terminal op names the whole graph it stands on, and the label is the outcomes' subject.
	key := digest.FromBytes(def.Def[len(def.Def)-1]).String() + " " + s.label
	return memo.run(key, func() ([]Outcome, error) { return b.runBatchOnce(ctx, r, s, tcs, false) })
}

// WithSharedTests returns a context under which the builds run with it share the outcomes of the
// test batches that passed: one batch, the same ops on the same subject in several builds, then
// runs once for all of them. `dazzlekit build` runs the build of every combination in one process
// and one session, where a chunk's image and its tests are the same ops in the build of every
// combination holding the chunk, and BuildKit would answer all but the first from its cache with the
// same results, after a solve of the whole graph under the test op and a mount to read them: about
// 300 of each in a warm build of gitpod's 41 combinations, for 75 distinct batches. Only batches
// whose tests all passed are kept, so a failed test runs again, as the cache would not have kept
// it either. Without it (a frontend image serves one build) every batch is solved.
func WithSharedTests(ctx context.Context) context.Context {
	return context.WithValue(ctx, batchMemoKey{}, &batchMemo{newMemo()})
}

type batchMemoKey struct{}

func memoFrom(ctx context.Context) *batchMemo {
	m, _ := ctx.Value(batchMemoKey{}).(*batchMemo)
	return m
}

// batchMemo is what WithSharedTests shares: the outcomes of the batches that passed, by key.
type batchMemo struct{ m *memo }

// run returns the passed outcomes kept for key, or runs the batch with run. A build sharing
// another's run that failed runs the batch itself: the failure may be the other build's own (it
// was cancelled), not the batch's.
func (b *batchMemo) run(key string, run func() ([]Outcome, error)) ([]Outcome, error) {
	passed := func(v any) bool {
		return !slices.ContainsFunc(v.([]Outcome), func(o Outcome) bool { return o.Result != "passed" })
	}
	v, err := b.m.do(key, func() (any, error) { return run() }, passed)
	outs, _ := v.([]Outcome)
	return slices.Clone(outs), err
}

// runBatchOnce is runBatch without the memo: noCache runs the tests ignoring the cache.
func (b *builder) runBatchOnce(ctx context.Context, r testexec.Runner, s subject, tcs []testCase, noCache bool) ([]Outcome, error) {
	for {
		res, err := b.solveBatch(ctx, r, s, tcs, noCache)
		if err != nil {
			return nil, err
		}
		outs := make([]Outcome, len(tcs))
		failed := false
		for i, tc := range tcs {
			outs[i] = b.judge(s, tc.test, outcome(s, tc), &res.Results[i])
			outs[i].Seconds = res.Results[i].Seconds
			outs[i].Reused = res.Results[i].Reused
			failed = failed || outs[i].Result == "failed"
		}
		if failed && !noCache && time.Unix(0, res.Started).Before(b.start) {
			noCache = true
			continue
		}
		c := res.Changed
		if c == nil || c.Test >= len(tcs)-1 {
			return outs, nil
		}
		rest, err := b.runEach(ctx, r, s, tcs[c.Test+1:], "again alone: an earlier test wrote "+c.Path)
		if err != nil {
			return nil, err
		}
		return append(outs[:c.Test+1], rest...), nil
	}
}

func outcome(s subject, tc testCase) Outcome {
	return Outcome{Subject: s.label, Chunk: tc.chunk, Desc: tc.test.Desc, File: tc.test.File, Line: tc.test.Line}
}

// runEach runs every test in an exec op of its own, note saying why in its name.
func (b *builder) runEach(ctx context.Context, r testexec.Runner, s subject, tcs []testCase, note string) ([]Outcome, error) {
	outs := make([]Outcome, len(tcs))
	eg, ctx := errgroup.WithContext(ctx)
	for i, tc := range tcs {
		eg.Go(func() error {
			o, err := b.runJudged(ctx, r, s, tc.test, outcome(s, tc), note)
			if err != nil {
				return errors.Wrapf(err, "%s:%d: test %q", tc.test.File, tc.test.Line, tc.test.Desc)
			}
			outs[i] = o
			return nil
		})
	}
	return outs, eg.Wait()
}

// solveBatch runs tcs against s and returns their results.
func (b *builder) solveBatch(ctx context.Context, r testexec.Runner, s subject, tcs []testCase, ignoreCache bool) (*runner.BatchResult, error) {
	out := b.batchState(r, s, tcs, ignoreCache)
	where := func(err error) error {
		return errors.Wrapf(err, "running the tests of %s (%s)", s.label, tcs[0].test.File)
	}
	ref, err := b.solve(ctx, out)
	if err != nil {
		return nil, where(err)
	}
	if ref == nil {
		return nil, where(errors.New("the test runner wrote no results"))
	}
	dt, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: runner.BatchResultFile})
	if err != nil {
		return nil, where(errors.Wrap(err, "reading the test runner's results"))
	}
	res, err := runner.DecodeBatchResult(dt)
	if err != nil {
		return nil, where(err)
	}
	if len(res.Results) != len(tcs) {
		return nil, where(errors.Errorf("the test runner returned %d results for %d tests", len(res.Results), len(tcs)))
	}
	if !res.RootChecked {
		return nil, where(errors.New("the test runner is older than the frontend: it does not say whether a test changed the image's files; use the runner of the same dazzlekit version"))
	}
	return &res, nil
}

// batchState is the output of the exec op that runs tcs against s.
func (b *builder) batchState(r testexec.Runner, s subject, tcs []testCase, ignoreCache bool) llb.State {
	tests := make([]runner.BatchTest, len(tcs))
	for i, tc := range tcs {
		tests[i] = batchTest(s, tc.test, b.opt.TestTimeout)
	}
	env, opts := s.execInputs(ignoreCache)
	// Ignoring the cache (--no-cache, or a failure read from it) runs every test again, passed or not.
	batch := runner.Batch{Tests: tests, Network: tcs[0].test.Network, Reuse: !ignoreCache}
	return testexec.ExecBatch(s.state, env, testWorkdir, r, batch, batchName(s.opLabel, tcs), opts...)
}

// execInputs are what a test op on s starts from: the image's environment, and IgnoreCache when the
// test must run again whatever the cache holds.
func (s subject) execInputs(ignoreCache bool) ([]string, []llb.RunOption) {
	var env []string
	if s.image != nil {
		env = s.image.Config.Env
	}
	var opts []llb.RunOption
	if ignoreCache {
		opts = append(opts, llb.IgnoreCache)
	}
	return env, opts
}
