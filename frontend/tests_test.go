package frontend

import (
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
