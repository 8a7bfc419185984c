// Command dazzlekit is the dazzlekit BuildKit frontend. The same static binary is mounted into images
// under test as the test runner (`dazzlekit run-test`), so tests work in images without a shell.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/dazzlekit/dazzlekit/frontend"
	"github.com/dazzlekit/dazzlekit/layerapply"
	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/frontend/gateway/grpcclient"
	"github.com/moby/buildkit/util/appcontext"
)

// Version is set at build time.
var Version = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case runner.Command:
			os.Exit(runTest(os.Args[2:]))
		case runner.BatchCommand:
			os.Exit(runTests(os.Args[2:]))
		case "build":
			frontendGC() // it is the frontend of every combination at once
			os.Exit(build(os.Args[2:], os.Stdout, os.Stderr))
		case "bake":
			os.Exit(bake(os.Args[2:], os.Stdout, os.Stderr))
		case layerapply.Command:
			os.Exit(layerapply.Main(os.Args[2:], os.Stderr))
		case "project":
			os.Exit(projectCmd(os.Args[2:], os.Stdout, os.Stderr))
		}
	}
	version := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *version {
		fmt.Println("dazzlekit", Version)
		return
	}
	frontendProcs()
	frontendGC()
	if err := grpcclient.RunFromEnvironment(appcontext.Context(), frontend.Build); err != nil {
		// stdout carries the gateway's gRPC stream: anything for people goes to stderr.
		fmt.Fprintf(os.Stderr, "dazzlekit: %v\n", err)
		os.Exit(1)
	}
	_ = context.Background
}
