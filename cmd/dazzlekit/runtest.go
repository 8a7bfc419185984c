package main

func runTest(args []string) int {
	return 2
}
