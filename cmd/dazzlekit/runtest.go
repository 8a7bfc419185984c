package main

import "github.com/dazzlekit/dazzlekit/testexec"

func runTest(args []string) int {
	return testexec.RunnerMain(args)
}
