package frontend

import (
	"context"
	"io/fs"
	"os"
	"path"
	"strings"
	"testing/fstest"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/pkg/errors"
	"gopkg.in/yaml.v3"
)

// projectFiles are the files of the build context that describe the project. Loading the project
// transfers only these, not the chunks' build contexts.
var projectFiles = []string{
	"base/Dockerfile*", "base/*.Dockerfile", "base/*.dockerfile", "base/chunk.yaml", "base/chunk.yml", "base/*.dockerignore",
	"chunks/*/Dockerfile*", "chunks/*/*.Dockerfile", "chunks/*/*.dockerfile", "chunks/*/chunk.yaml", "chunks/*/chunk.yml", "chunks/*/*.dockerignore",
	"tests/*.yaml", "tests/*.yml",
}

// readProjectFiles loads the project's description files from the build context into memory.
func readProjectFiles(ctx context.Context, c gwclient.Client, bc *dockerui.Client) (fs.FS, error) {
	ref, err := solveContext(ctx, c, bc, llb.IncludePatterns(projectFiles))
	if err != nil {
		return nil, err
	}
	files := fstest.MapFS{}
	// A context that arrives as an input (forwarded through `# syntax=`) ignores include patterns,
	// so the walk filters by the same patterns and stays two levels deep.
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		entries, err := ref.ReadDir(ctx, gwclient.ReadDirRequest{Path: dir})
		if err != nil {
			if dir == "." {
				return err
			}
			return nil // a missing base/, chunks/ or tests/ is the loader's to report
		}
		for _, e := range entries {
			p := path.Join(dir, e.Path)
			if os.FileMode(e.Mode).IsDir() {
				files[p] = &fstest.MapFile{Mode: fs.ModeDir | 0o755}
				if depth < 2 && (depth > 0 || p == "base" || p == "chunks" || p == "tests") {
					if err := walk(p, depth+1); err != nil {
						return err
					}
				}
				continue
			}
			if !matchesAny(p) {
				continue
			}
			dt, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: p})
			if err != nil {
				return errors.Wrapf(err, "reading %s", p)
			}
			files[p] = &fstest.MapFile{Data: dt, Mode: 0o644}
		}
		return nil
	}
	if err := walk(".", 0); err != nil {
		return nil, err
	}
	return files, readVariantDockerfiles(ctx, c, bc, files)
}

// readVariantDockerfiles fetches the Dockerfiles that chunk.yaml variants name but projectFiles
// does not match (e.g. `dockerfile: docker/build.df`). A chunk.yaml that does not parse is left
// for the project loader to report.
func readVariantDockerfiles(ctx context.Context, c gwclient.Client, bc *dockerui.Client, files fstest.MapFS) error {
	var missing []string
	for p, f := range files {
		if path.Base(p) != "chunk.yaml" && path.Base(p) != "chunk.yml" {
			continue
		}
		var spec struct {
			Variants []struct {
				Dockerfile string `yaml:"dockerfile"`
			} `yaml:"variants"`
		}
		if yaml.Unmarshal(f.Data, &spec) != nil {
			continue
		}
		for _, v := range spec.Variants {
			if v.Dockerfile == "" || path.IsAbs(v.Dockerfile) {
				continue
			}
			full := path.Join(path.Dir(p), v.Dockerfile)
			if _, ok := files[full]; !ok && strings.HasPrefix(full, path.Dir(p)+"/") {
				missing = append(missing, full, full+".dockerignore")
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	ref, err := solveContext(ctx, c, bc, llb.FollowPaths(missing))
	if err != nil {
		return err
	}
	for _, p := range missing {
		if dt, err := ref.ReadFile(ctx, gwclient.ReadRequest{Filename: p}); err == nil {
			files[p] = &fstest.MapFile{Data: dt, Mode: 0o644}
		}
	}
	return nil
}

func solveContext(ctx context.Context, c gwclient.Client, bc *dockerui.Client, opts ...llb.LocalOption) (gwclient.Reference, error) {
	opts = append(opts, dockerui.WithInternalName("load dazzle project"))
	st, err := bc.MainContext(ctx, opts...)
	if err != nil {
		return nil, err
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, errors.Wrap(err, "loading the dazzle project from the build context")
	}
	return res.SingleRef()
}

func matchesAny(p string) bool {
	for _, pat := range projectFiles {
		if ok, _ := path.Match(pat, p); ok {
			return true
		}
	}
	return false
}
