package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dazzlekit/dazzlekit/bakefile"
	"github.com/dazzlekit/dazzlekit/project"
)

const bakeUsage = `usage: dazzlekit bake [flags] [project dir]

Prints a docker buildx bake definition (JSON) with one target per combination of the dazzle
project in the given folder (default: the current one), all in the default group:

  dazzlekit bake > docker-bake.json && docker buildx bake --push
  docker run --rm -v "$PWD:/src" -w /src <frontend image> bake > docker-bake.json

Flags:
`

// bake is `dazzlekit bake`: it reads the project from disk, so it needs neither BuildKit nor a network.
func bake(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("bake", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, bakeUsage); fl.PrintDefaults() }
	registry := fl.String("registry", "", "default of the REGISTRY variable, the repository every combination is tagged in as REGISTRY:<combination> (default localhost:5000/<project folder name>)")
	file := fl.String("file", "dazzle.yaml", "the project file, relative to the project folder")
	frontend := fl.String("frontend", "", "dazzlekit image to build with when the project file has no `# syntax=` line (sets BUILDKIT_SYNTAX)")
	context := fl.String("context", "", "the build context as bake sees it (default: the project folder as given)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 1 {
		fl.Usage()
		return 2
	}
	dir := "."
	if fl.NArg() == 1 {
		dir = fl.Arg(0)
	}
	if *context == "" {
		*context = dir
	}
	if *registry == "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			fmt.Fprintf(stderr, "dazzlekit bake: %v\n", err)
			return 1
		}
		*registry = defaultRepository(abs)
	}
	data, err := os.ReadFile(filepath.Join(dir, *file))
	if err != nil {
		fmt.Fprintf(stderr, "dazzlekit bake: %v (run it in a dazzle project folder, or give the folder)\n", err)
		return 1
	}
	p, err := project.Load(os.DirFS(dir), filepath.ToSlash(*file), data)
	if err != nil {
		fmt.Fprintf(stderr, "dazzlekit bake: %v\n", err)
		return 1
	}
	def, err := bakefile.Generate(p, bakefile.Options{Registry: *registry, Context: *context, File: *file, Frontend: *frontend})
	if err != nil {
		fmt.Fprintf(stderr, "dazzlekit bake: %v\n", err)
		return 1
	}
	dt, err := def.JSON()
	if err != nil {
		fmt.Fprintf(stderr, "dazzlekit bake: %v\n", err)
		return 1
	}
	_, err = stdout.Write(dt)
	if err != nil {
		return 1
	}
	return 0
}
