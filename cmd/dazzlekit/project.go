package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/dazzlekit/dazzlekit/scaffold"
)

const projectUsage = `usage: dazzlekit project [--context DIR] <command> [args]

The scaffolding commands of dazzle, editing dazzle.yaml in place: comments and layout are kept.

  init [--frontend IMAGE]     start a project: base/Dockerfile and dazzle.yaml
  init <chunk>                add a chunk: chunks/<chunk>/Dockerfile and tests/<chunk>.yaml
  add-combination <name> <chunk> [chunk ...]
                              add a combination to dazzle.yaml
  ignore <pattern> [pattern ...]
                              add chunk patterns to dazzle.yaml's ignore list

Flags:
`

// projectCmd is `dazzlekit project ...`. It never overwrites a file that exists, and it checks an
// edited dazzle.yaml with the same loader builds use before it writes it.
func projectCmd(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("project", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, projectUsage); fl.PrintDefaults() }
	dir := fl.String("context", ".", "the project folder")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() == 0 {
		fl.Usage()
		return 2
	}
	var err error
	switch cmd, rest := fl.Arg(0), fl.Args()[1:]; cmd {
	case "init":
		ifl := flag.NewFlagSet("project init", flag.ContinueOnError)
		ifl.SetOutput(stderr)
		frontend := ifl.String("frontend", "", "the dazzlekit image for dazzle.yaml's `# syntax=` line")
		if ifl.Parse(rest) != nil || ifl.NArg() > 1 {
			fl.Usage()
			return 2
		}
		if ifl.NArg() == 1 {
			err = create(*dir, scaffold.ChunkFiles(ifl.Arg(0)))
		} else {
			err = create(*dir, scaffold.InitFiles(*frontend))
			if err == nil {
				fmt.Fprintln(stdout, "dazzle project initialized - use `dazzlekit project init <chunkname>` to add a chunk")
			}
		}
	case "add-combination":
		if len(rest) < 2 {
			fl.Usage()
			return 2
		}
		err = edit(*dir, func(dt []byte) ([]byte, error) { return scaffold.AddCombination(dt, rest[0], rest[1:]) })
	case "ignore":
		if len(rest) < 1 {
			fl.Usage()
			return 2
		}
		err = edit(*dir, func(dt []byte) ([]byte, error) { return scaffold.AddIgnore(dt, rest) })
	default:
		fmt.Fprintf(stderr, "dazzlekit project: unknown command %q\n", cmd)
		fl.Usage()
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "dazzlekit project: %v\n", err)
		return 1
	}
	return 0
}

// create writes files under dir, none of which may exist yet: all are checked before any is written.
func create(dir string, files map[string][]byte) error {
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			return fmt.Errorf("%s exists already: nothing was written", name)
		} else if !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	for _, name := range names {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// edit rewrites dir/dazzle.yaml through fn, but only if the result loads as a project; the new
// content replaces the old in one rename, keeping the file's mode.
func edit(dir string, fn func([]byte) ([]byte, error)) error {
	p := filepath.Join(dir, "dazzle.yaml")
	info, err := os.Stat(p)
	if err != nil {
		return fmt.Errorf("%v: run it in a dazzle project folder, or `dazzlekit project init` first", err)
	}
	dt, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	out, err := fn(dt)
	if err != nil {
		return err
	}
	if _, err := project.Load(os.DirFS(dir), "dazzle.yaml", out); err != nil {
		return fmt.Errorf("dazzle.yaml was left as it was, since the change would not load: %v", err)
	}
	tmp, err := os.CreateTemp(dir, ".dazzle.yaml.*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(out); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
