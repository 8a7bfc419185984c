package frontend

import (
	"context"
	"fmt"
	"os"
	"path"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/dazzlekit/dazzlekit/testexec"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
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
		Name:   fmt.Sprintf("[test %s] %s", s.label, t.Desc),
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
// what it wrote, which it would not in dazzle, where every test has a container of its own: every
// test after the first then runs again in a container of its own (the first saw the image as it is).
func (b *builder) runBatch(ctx context.Context, r testexec.Runner, s subject, tcs []testCase) ([]Outcome, error) {
	if b.copyStack {
		// Telling whether a test wrote to the root takes a DiffOp: without it, each test on its own.
		return b.runEach(ctx, r, s, tcs, "")
	}
	noCache := b.bc.IsNoCache("")
	for {
		res, changes, err := b.solveBatch(ctx, r, s, tcs, noCache)
		if err != nil {
			return nil, err
		}
		outs := make([]Outcome, len(tcs))
		failed := false
		for i, tc := range tcs {
			outs[i] = b.judge(s, tc.test, outcome(s, tc), &res.Results[i])
			outs[i].Seconds = res.Results[i].Seconds
			failed = failed || outs[i].Result == "failed"
		}
		if failed && !noCache && time.Unix(0, res.Started).Before(b.start) {
			noCache = true
			continue
		}
		if len(tcs) == 1 {
			return outs, nil
		}
		changed, err := b.changedPath(ctx, s, changes)
		if err != nil {
			return nil, err
		}
		if changed == "" {
			return outs, nil
		}
		rest, err := b.runEach(ctx, r, s, tcs[1:], "again alone: an earlier test wrote "+changed)
		if err != nil {
			return nil, err
		}
		return append(outs[:1], rest...), nil
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

// solveBatch runs tcs against s and returns their results and the container's changes to its root.
func (b *builder) solveBatch(ctx context.Context, r testexec.Runner, s subject, tcs []testCase, ignoreCache bool) (*runner.BatchResult, gwclient.Reference, error) {
	tests := make([]runner.BatchTest, len(tcs))
	for i, tc := range tcs {
		tests[i] = batchTest(s, tc.test, b.opt.TestTimeout)
	}
	var env []string
	if s.image != nil {
		env = s.image.Config.Env
	}
	var opts []llb.RunOption
	diffOpts := []llb.ConstraintsOpt{llb.WithCustomName(fmt.Sprintf("[test %s] results and files the tests changed", s.label))}
	if ignoreCache {
		// On the diff too: a cached diff would answer without running the exec at all.
		opts = append(opts, llb.IgnoreCache)
		diffOpts = append(diffOpts, llb.IgnoreCache)
	}
	root := testexec.ExecBatch(s.state, env, testWorkdir, r, tests, tcs[0].test.Network, batchName(s.label, tcs), opts...)
	// The diff of an exec's root against its input is the container's upper layer, which
	// BuildKit takes as it is, without comparing trees.
	changes := llb.Diff(s.state, root, diffOpts...)
	where := func(err error) error {
		return errors.Wrapf(err, "running the tests of %s (%s)", s.label, tcs[0].test.File)
	}
	ref, err := b.solve(ctx, changes)
	if err != nil {
		return nil, nil, where(err)
	}
	if ref == nil {
		return nil, nil, where(errors.New("the test runner wrote no results"))
	}
	dt, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: path.Join(testexec.OutDir, runner.BatchResultFile)})
	if err != nil {
		return nil, nil, where(errors.Wrap(err, "reading the test runner's results"))
	}
	res, err := runner.DecodeBatchResult(dt)
	if err != nil {
		return nil, nil, where(err)
	}
	if len(res.Results) != len(tcs) {
		return nil, nil, where(errors.Errorf("the test runner returned %d results for %d tests", len(res.Results), len(tcs)))
	}
	return &res, ref, nil
}

// Paths the container itself creates in its root (mount points, the files BuildKit mounts over,
// the runner's results), whatever the tests do.
var containerPaths = map[string]bool{
	"/.dazzlekit": true, "/dev": true, "/proc": true, "/sys": true,
	"/etc/hosts": true, "/etc/resolv.conf": true, "/etc/hostname": true, "/etc/mtab": true,
}

// changedPath returns a path the tests changed in the container's root (changes), or "" when they
// left it as the image has it.
func (b *builder) changedPath(ctx context.Context, s subject, ref gwclient.Reference) (string, error) {
	var walk func(dir string) (string, error)
	walk = func(dir string) (string, error) {
		entries, err := ref.ReadDir(ctx, gwclient.ReadDirRequest{Path: dir})
		if err != nil {
			return "", errors.Wrapf(err, "reading what the tests of %s changed", s.label)
		}
		if len(entries) == 0 && dir != "/" {
			// A directory made, or its mode or owner changed.
			return dir, nil
		}
		for _, e := range entries {
			p := path.Join(dir, e.Path)
			if containerPaths[p] {
				continue
			}
			if !os.FileMode(e.Mode).IsDir() {
				return p, nil
			}
			if c, err := walk(p); c != "" || err != nil {
				return c, err
			}
		}
		return "", nil
	}
	return walk("/")
}
