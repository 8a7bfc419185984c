package main

import "github.com/dazzlekit/dazzlekit/testexec/runner"

func runTest(args []string) int {
	return runner.Main(args)
}
