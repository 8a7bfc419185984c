package main

import (
	"os"

	"github.com/dazzlekit/dazzlekit/testexec/assert"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
)

func runTest(args []string) int {
	return runner.Main(args)
}

// runTests runs a batch, judging each test with the same engine the frontend uses, so the verdict
// in the progress log is the one the build reports.
func runTests(args []string) int {
	judge := func(asserts []string, r runner.Result) []string {
		var failed []string
		for _, o := range assert.Failed(assert.Check(asserts, r, assert.DefaultAssertionTimeout)) {
			failed = append(failed, o.Expr)
		}
		return failed
	}
	return runner.MainBatch(args, judge, os.Stdout)
}
