// Command dazzlekit-runner is what `dazzlekit build` runs inside the images it builds: the tests
// (`run-tests`, `run-test`) and, without DiffOp/MergeOp, `apply-layer`. It mounts it from beside its
// own binary. Every test op starts it, and the dazzlekit binary links BuildKit, gRPC and
// OpenTelemetry, whose package initialisation alone takes about 30 ms, where this one starts in
// under 10 ms. The frontend image leaves it out and runs its own binary: the runner's 4 MB would
// take the image past its 15 MB bound.
package main

import (
	"fmt"
	"os"

	"github.com/dazzlekit/dazzlekit/layerapply"
	"github.com/dazzlekit/dazzlekit/testexec/assert"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case runner.Command:
			os.Exit(runner.Main(os.Args[2:]))
		case runner.BatchCommand:
			os.Exit(runner.MainBatch(os.Args[2:], assert.FailedExprs, os.Stdout))
		case layerapply.Command:
			os.Exit(layerapply.Main(os.Args[2:], os.Stderr))
		}
	}
	fmt.Fprintf(os.Stderr, "usage: dazzlekit-runner %s|%s|%s ARGS...\n", runner.BatchCommand, runner.Command, layerapply.Command)
	os.Exit(2)
}
