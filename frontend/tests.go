package frontend

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/dazzlekit/dazzlekit/testexec"
	"github.com/dazzlekit/dazzlekit/testexec/assert"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/pkg/errors"
	"golang.org/x/sync/errgroup"
)

// assertTimeout bounds one assertion's evaluation, so `while(true){}` cannot hang a build.
const assertTimeout = assert.DefaultAssertionTimeout

// RunnerLocal is the local context an in-process build (where the frontend has no image of its own
// to mount) names to provide the test runner: a folder holding a static binary named RunnerFile.
const RunnerLocal = "dazzlekit-runner"

// RunnerFile is the test runner's name in RunnerLocal: cmd/dazzlekit-runner, or the frontend binary
// itself, which runs tests too and is the runner in the frontend's image (/dazzlekit).
const RunnerFile = "dazzlekit-runner"

// subject is an image that tests run against: one chunk's image, or a combination's.
type subject struct {
	label   string // "node" or "full"
	opLabel string // in its test ops' names and logs: label, or the combination of the same image
	state   llb.State
	image   *dockerspec.DockerOCIImage
	tests   []testCase
}

type testCase struct {
	chunk string // the chunk folder the test file belongs to
	test  project.Test
}

// Outcome is one test's result, as the summary reports it.
type Outcome struct {
	Subject string   `json:"subject"`
	Chunk   string   `json:"chunk"`
	Desc    string   `json:"desc"`
	File    string   `json:"file"`
	Line    int      `json:"line"`
	Result  string   `json:"result"` // passed, failed, skipped
	Status  int      `json:"status"`
	Failed  []string `json:"failedAssertions,omitempty"`
	Message string   `json:"message,omitempty"`
	Seconds float64  `json:"seconds,omitempty"` // how long the command ran; 0 when skipped
	// Reused is true for a test that did not run: it passed before in an image of the same layers
	// (runner.PassedDir), and Seconds is that run's.
	Reused bool `json:"reused,omitempty"`

	failLine int
}

// testRunner returns where the test runner binary comes from: the frontend's own image when it runs as
// an image, otherwise the local context an in-process build provides.
func testRunner(c gwclient.Client) testexec.Runner {
	if cf, ok := c.(interface{ CurrentFrontend() (*llb.State, error) }); ok {
		if st, err := cf.CurrentFrontend(); err == nil && st != nil {
			return testexec.Runner{State: *st, Path: "/dazzlekit"}
		}
	}
	// A fixed unique ID: llb.Local draws a new one per Marshal otherwise, and one test op marshalled
	// twice (by two builds of one `dazzlekit build` session, say) would be two ops that both run.
	return testexec.Runner{State: llb.Local(RunnerLocal, llb.SharedKeyHint(RunnerLocal), llb.LocalUniqueID(RunnerLocal), llb.WithCustomName("[internal] load test runner")), Path: "/" + RunnerFile}
}

// runTests runs every test of every subject (all of them, even after a failure) and returns the
// outcomes in a stable order, and an error describing every failure. The caller has built every
// subject's image or is building it (builder.solveTested solves the combined image, which holds
// them all).
func (b *builder) runTests(ctx context.Context, subjects []subject) ([]Outcome, error) {
	r := testRunner(b.c)
	var (
		mu       sync.Mutex
		outcomes []Outcome
		failures []string
	)
	record := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, o)
		if o.Result == "failed" {
			failures = append(failures, o.Message)
		}
	}
	eg, ctx := errgroup.WithContext(ctx)
	for _, s := range subjects {
		var run []testCase
		for _, tc := range s.tests {
			if tc.test.Skip {
				record(Outcome{Subject: s.label, Chunk: tc.chunk, Desc: tc.test.Desc, File: tc.test.File, Line: tc.test.Line, Result: "skipped"})
				continue
			}
			run = append(run, tc)
		}
		for _, batch := range batches(run) {
			eg.Go(func() error {
				outs, err := b.runBatch(ctx, r, s, batch)
				for _, o := range outs {
					record(o)
				}
				return err
			})
		}
	}
	if err := eg.Wait(); err != nil {
		return nil, err
	}
	sort.SliceStable(outcomes, func(i, j int) bool {
		a, b := outcomes[i], outcomes[j]
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.File != b.File {
			return a.File < b.File
		}
		return a.Line < b.Line
	})
	if len(failures) > 0 {
		sort.Strings(failures)
		var err error = &TestFailures{Failed: len(failures), Total: len(outcomes), Messages: failures}
		// Each failure's YAML, so buildctl and buildx show the failing assertion in its file.
		for _, o := range outcomes {
			if o.Result == "failed" && b.proj.Files[o.File] != nil {
				line := int32(o.failLine)
				err = errdefs.WithSource(err, &errdefs.Source{
					Info:   &pb.SourceInfo{Filename: o.File, Data: b.proj.Files[o.File], Language: "YAML"},
					Ranges: []*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}},
				})
			}
		}
		return outcomes, err
	}
	return outcomes, nil
}

// TestFailures is the error of a build whose tests failed: every failure, with its test file and line.
type TestFailures struct {
	Failed, Total int
	Messages      []string
}

func (e *TestFailures) Error() string {
	return fmt.Sprintf("%d of %d tests failed:\n\n%s", e.Failed, e.Total, strings.Join(e.Messages, "\n\n"))
}

// Report is the test summary a build exports with DAZZLE_TEST_REPORT=1.
type Report struct {
	Passed  int       `json:"passed"`
	Failed  int       `json:"failed"`
	Skipped int       `json:"skipped"`
	Tests   []Outcome `json:"tests"`
}

func newReport(outcomes []Outcome) Report {
	r := Report{Tests: outcomes}
	for _, o := range outcomes {
		switch o.Result {
		case "passed":
			r.Passed++
		case "failed":
			r.Failed++
		default:
			r.Skipped++
		}
	}
	return r
}

// Text is the report for people: one line per test, then each failure in full.
func (r Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d passed, %d failed, %d skipped\n\n", r.Passed, r.Failed, r.Skipped)
	for _, o := range r.Tests {
		fmt.Fprintf(&b, "%-7s [test %s] %s (%s:%d) %.2fs\n", o.Result, o.Subject, o.Desc, o.File, o.Line, o.Seconds)
	}
	for _, o := range r.Tests {
		if o.Message != "" {
			b.WriteString("\n" + o.Message + "\n")
		}
	}
	return b.String()
}

// runJudged runs one test and judges it. A failed result that predates this build came from
// BuildKit's cache (the exec op succeeds whatever the test's verdict, so BuildKit caches failures
// too): the test runs again, ignoring the cache, as a failed RUN step would. BuildKit then keeps the
// newer result for the op (solver.getBestResult takes the latest record), so a test that passes
// now is answered from the cache next time.
func (b *builder) runJudged(ctx context.Context, r testexec.Runner, s subject, t project.Test, o Outcome, note string) (Outcome, error) {
	noCache := b.bc.IsNoCache("")
	for {
		res, err := b.runOne(ctx, r, s, t, noCache, note)
		if err != nil {
			return o, err
		}
		judged := b.judge(s, t, o, res)
		judged.Seconds = res.Seconds
		if judged.Result == "failed" && !noCache && time.Unix(0, res.Started).Before(b.start) {
			noCache = true
			continue
		}
		return judged, nil
	}
}

// judge evaluates t's assertions on res. As in dazzle, a test without assertions passes whatever
// its command did, unless the command outlived its time limit.
func (b *builder) judge(s subject, t project.Test, o Outcome, res *runner.Result) Outcome {
	checks := assert.Check(t.Assert, *res, assertTimeout)
	o.Status = res.Status
	o.Result = "passed"
	var failed []assert.AssertionOutcome
	for _, c := range checks {
		if !c.Passed {
			failed = append(failed, c)
			o.Failed = append(o.Failed, c.Expr)
		}
	}
	if len(failed) > 0 || res.TimedOut {
		o.Result = "failed"
		o.failLine = assertLine(t, failed)
		o.Message = assert.FormatFailure(fmt.Sprintf("[test %s] %s", s.label, t.Desc), fmt.Sprintf("%s:%d", t.File, o.failLine), checks, *res, t.TimeLimit(b.opt.TestTimeout))
	}
	return o
}

// assertLine is the line a failure points at: the first failing assertion's, else the test's.
func assertLine(t project.Test, failed []assert.AssertionOutcome) int {
	if len(failed) > 0 && failed[0].Index < len(t.AssertLines) {
		return t.AssertLines[failed[0].Index]
	}
	return t.Line
}

// runOne runs t alone; note, when set, says why in the op's name.
func (b *builder) runOne(ctx context.Context, r testexec.Runner, s subject, t project.Test, ignoreCache bool, note string) (*runner.Result, error) {
	bt := batchTest(s, t, b.opt.TestTimeout)
	spec := testexec.Spec{Desc: t.Desc, Argv: bt.Spec.Argv, Env: t.Env, User: bt.Spec.User, PTY: bt.Spec.PTY, Network: t.Network, Timeout: bt.Spec.Timeout}
	env, opts := s.execInputs(ignoreCache)
	name := fmt.Sprintf("[test %s] %s", s.opLabel, t.Desc)
	if note != "" {
		name += " (" + note + ")"
	}
	out := testexec.Exec(s.state, env, testWorkdir, r, spec, name, opts...)
	ref, err := b.solve(ctx, out)
	if err != nil {
		return nil, err
	}
	dt, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: runner.ResultFile})
	if err != nil {
		return nil, errors.Wrap(err, "reading the test runner's result")
	}
	rr, err := runner.DecodeResult(dt)
	if err != nil {
		return nil, errors.Wrap(err, "decoding the test runner's result")
	}
	return &rr, nil
}
