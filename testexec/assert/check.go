package assert

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dazzlekit/dazzlekit/testexec/runner"
)

// AssertionOutcome is the verdict on one assertion of a test.
type AssertionOutcome struct {
	Index  int // position in the test's assert list, from 0
	Expr   string
	Passed bool
	Err    error // why it could not be judged; Passed is then false
}

// Check evaluates every assertion, never stopping at the first failure, so a
// report shows everything that is wrong with a test at once.
func Check(asserts []string, r Result, timeout time.Duration) []AssertionOutcome {
	out := make([]AssertionOutcome, 0, len(asserts))
	for i, a := range asserts {
		ok, err := Evaluate(a, r, timeout)
		out = append(out, AssertionOutcome{Index: i, Expr: a, Passed: ok && err == nil, Err: err})
	}
	return out
}

// Failed returns the outcomes that did not pass.
func Failed(outcomes []AssertionOutcome) []AssertionOutcome {
	var failed []AssertionOutcome
	for _, o := range outcomes {
		if !o.Passed {
			failed = append(failed, o)
		}
	}
	return failed
}

// outputTail bounds each stream in a failure message: the end of the output
// is where errors usually are, and a build log is no place for megabytes.
const outputTail = 2048

// FormatFailure describes a failed test in plain text: where it is defined
// (location, e.g. "chunks/node/chunk.yaml:12"), its desc, each assertion that
// did not pass and why, how the command ended (timeout is the limit it ran
// under, used only to explain a timeout) and the tail of its output.
// Passed outcomes are ignored, so all of a test's outcomes may be passed in.
func FormatFailure(desc, location string, outcomes []AssertionOutcome, r Result, timeout time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "test failed: %s\n", desc)
	if location != "" {
		fmt.Fprintf(&b, "  defined at %s\n", location)
	}

	failed := Failed(outcomes)
	if len(failed) > 0 {
		fmt.Fprintf(&b, "failing assertions (%d of %d):\n", len(failed), len(outcomes))
		for _, o := range failed {
			expr := strings.ReplaceAll(strings.TrimSpace(o.Expr), "\n", "\n      ")
			fmt.Fprintf(&b, "  #%d: %s\n", o.Index+1, expr)
			if o.Err != nil {
				fmt.Fprintf(&b, "      error: %s\n", o.Err)
			} else {
				b.WriteString("      evaluated to false\n")
			}
		}
	}

	switch {
	case r.Error != "":
		fmt.Fprintf(&b, "command could not be started: %s (status %d)\n", r.Error, r.Status)
	case r.TimedOut && timeout > 0:
		fmt.Fprintf(&b, "command timed out after %s and was killed (status %d)\n", timeout, r.Status)
	case r.TimedOut:
		fmt.Fprintf(&b, "command timed out and was killed (status %d)\n", r.Status)
	case r.Status > 128 && r.Status < 128+65:
		fmt.Fprintf(&b, "command exit status: %d (killed by signal %d)\n", r.Status, r.Status-128)
	default:
		fmt.Fprintf(&b, "command exit status: %d\n", r.Status)
	}

	writeStream(&b, "stdout", r.Stdout)
	writeStream(&b, "stderr", r.Stderr)
	if r.Truncated {
		fmt.Fprintf(&b, "note: the runner kept only the first %d bytes of each stream\n", runner.MaxOutput)
	}
	return strings.TrimRight(b.String(), "\n")
}

func writeStream(b *strings.Builder, name, s string) {
	if s == "" {
		fmt.Fprintf(b, "%s: (empty)\n", name)
		return
	}
	tail := s
	if len(s) > outputTail {
		start := len(s) - outputTail
		for start < len(s) && !utf8.RuneStart(s[start]) {
			start++
		}
		tail = s[start:]
		fmt.Fprintf(b, "%s (last %d of %d bytes):\n", name, len(tail), len(s))
	} else {
		fmt.Fprintf(b, "%s:\n", name)
	}
	for _, line := range strings.Split(strings.TrimSuffix(tail, "\n"), "\n") {
		fmt.Fprintf(b, "  | %s\n", line)
	}
}

// FailedExprs returns the expressions of the assertions r fails: the runner's judge, which prints
// in the progress log the verdict the build reports.
func FailedExprs(asserts []string, r Result) []string {
	var failed []string
	for _, o := range Failed(Check(asserts, r, DefaultAssertionTimeout)) {
		failed = append(failed, o.Expr)
	}
	return failed
}
