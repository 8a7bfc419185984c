package main

import (
	"os"

	"github.com/dazzlekit/dazzlekit/testexec/assert"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
)

// runTest and runTests keep the frontend binary a test runner: the frontend image's, and the one
// `dazzlekit build` mounts into the images when no dazzlekit-runner lies beside it.
func runTest(args []string) int {
	return runner.Main(args)
}

// runTests runs a batch, judging each test with the same engine the frontend uses, so the verdict
// in the progress log is the one the build reports.
func runTests(args []string) int {
	return runner.MainBatch(args, assert.FailedExprs, os.Stdout)
}
