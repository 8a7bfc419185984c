package frontend

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
)

// A test's verdict, as dazzle v0.1.17 gives it: assertions decide; without any the test passes
// whatever its command did, unless the command ran out of time.
func TestJudge(t *testing.T) {
	b := &builder{opt: Options{TestTimeout: time.Minute}}
	s := subject{label: "node"}
	for _, tc := range []struct {
		name    string
		asserts []string
		res     runner.Result
		want    string
		message string // a substring of the failure message
	}{
		{name: "no assert, not started", res: runner.Result{Status: runner.StatusNotStarted, Error: "exec: not found"}, want: "passed"},
		{name: "no assert, non-zero exit", res: runner.Result{Status: 3}, want: "passed"},
		{name: "no assert, timed out", res: runner.Result{Status: 137, TimedOut: true}, want: "failed", message: "command timed out after 1m0s"},
		{name: "assert passes", asserts: []string{"status == 0"}, res: runner.Result{}, want: "passed"},
		{name: "assert fails", asserts: []string{"status == 0"}, res: runner.Result{Status: 127, Error: "exec: not found"}, want: "failed", message: "command could not be started: exec: not found (status 127)"},
		{name: "passing assert, timed out", asserts: []string{"true"}, res: runner.Result{Status: 137, TimedOut: true}, want: "failed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			test := project.Test{Desc: "d", File: "tests/node.yaml", Line: 2, Assert: tc.asserts, AssertLines: []int{4}}
			o := b.judge(s, test, Outcome{}, &tc.res)
			if o.Result != tc.want {
				t.Errorf("result %q, want %q (%s)", o.Result, tc.want, o.Message)
			}
			if !strings.Contains(o.Message, tc.message) {
				t.Errorf("message %q does not contain %q", o.Message, tc.message)
			}
		})
	}
}

// An image's tests go to one exec op per network mode, in their order; a spec too long for one
// argument is split.
func TestBatches(t *testing.T) {
	tc := func(desc string, network bool, cmdLen int) testCase {
		return testCase{chunk: "a", test: project.Test{Desc: desc, Network: network, Command: []string{strings.Repeat("x", cmdLen)}}}
	}
	descs := func(bs [][]testCase) (out [][]string) {
		for _, b := range bs {
			var d []string
			for _, c := range b {
				d = append(d, c.test.Desc)
			}
			out = append(out, d)
		}
		return out
	}
	for _, tt := range []struct {
		name string
		in   []testCase
		want [][]string
	}{
		{"none", nil, nil},
		{"one", []testCase{tc("a", true, 1)}, [][]string{{"a"}}},
		{"network modes", []testCase{tc("a", true, 1), tc("b", false, 1), tc("c", true, 1)}, [][]string{{"a", "c"}, {"b"}}},
		{"too long for one argument", []testCase{tc("a", true, 40<<10), tc("b", true, 40<<10), tc("c", true, 1)}, [][]string{{"a"}, {"b", "c"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := descs(batches(tt.in)); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("batches = %q, want %q", got, tt.want)
			}
		})
	}
	if got := batchName("full", []testCase{tc("it should run node", true, 1)}); got != "[test full] it should run node" {
		t.Errorf("one test's op is named %q", got)
	}
	if got := batchName("full", []testCase{tc("it should run node", true, 1), tc("it should run go", true, 1)}); got != "[test full] 2 tests: it should run node; it should run go" {
		t.Errorf("two tests' op is named %q", got)
	}
}
