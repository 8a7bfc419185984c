// Package integration builds real projects with a real buildkitd and registry, started by
// hack/stack-up.sh (hack/test.sh sets everything up and runs these with DAZZLEKIT_INTEGRATION=1).
package integration

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/frontend"
	"github.com/dazzlekit/dazzlekit/internal/registry"
	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/moby/buildkit/client"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/tonistiigi/fsutil"
)

type env struct {
	host     string // BUILDKIT_HOST
	registry string // localhost:PORT
	frontend string // the packaged frontend image, for the entry-point tests
	runner   string // a directory holding a static dazzlekit binary, for in-process test runs
}

var (
	repoSeq     atomic.Int64
	badRefChars = regexp.MustCompile(`[^a-z0-9]+`)
)

// stack returns the running stack, skipping only when integration tests were not asked for: under
// DAZZLEKIT_INTEGRATION=1 a missing piece is a failure, never a silent skip.
func stack(t *testing.T) env {
	t.Helper()
	if os.Getenv("DAZZLEKIT_INTEGRATION") != "1" {
		t.Skip("integration test: run `make test` (sets DAZZLEKIT_INTEGRATION=1 and starts the stack)")
	}
	e := env{
		host:     os.Getenv("BUILDKIT_HOST"),
		registry: os.Getenv("DAZZLEKIT_REGISTRY"),
		frontend: os.Getenv("DAZZLEKIT_FRONTEND_IMAGE"),
		runner:   os.Getenv("DAZZLEKIT_RUNNER_DIR"),
	}
	if e.host == "" || e.registry == "" {
		t.Fatal("DAZZLEKIT_INTEGRATION=1 needs BUILDKIT_HOST and DAZZLEKIT_REGISTRY (source .stack/env)")
	}
	return e
}

// ref returns a fresh image name in the local registry.
func (e env) ref(t *testing.T, tag string) string {
	name := strings.Trim(badRefChars.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	return fmt.Sprintf("%s/test/%s-%d-%d:%s", e.registry, name, time.Now().UnixNano()%1e6, repoSeq.Add(1), tag)
}

// copyProject copies a project directory (e.g. an example) into a temp dir the test may edit.
func copyProject(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		dt, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(target, dt, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// writeFiles writes a project from a map of path -> content into a temp dir.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func exampleDir(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "examples", name)
}

// progress records what the build showed: vertex names, and which ran and which were cached.
type progress struct {
	mu       sync.Mutex
	vertices map[string]*client.Vertex // by digest
	logs     map[string]*bytes.Buffer  // each vertex's log, by digest
	warnings []string                  // the short text of each warning, as buildctl prints after WARN:
}

func (p *progress) names() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, v := range p.vertices {
		out = append(out, v.Name)
	}
	return out
}

// ran returns the names of vertices that executed (completed, not cached) and match substr.
func (p *progress) ran(substr string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, v := range p.vertices {
		if !v.Cached && v.Completed != nil && v.Started != nil && strings.Contains(v.Name, substr) {
			out = append(out, v.Name)
		}
	}
	return out
}

// shown returns the names of vertices that started, with prefix: those buildx and buildctl show (their
// progress skips a vertex that never started, such as an op whose input failed).
func (p *progress) shown(prefix string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, v := range p.vertices {
		if v.Started != nil && strings.HasPrefix(v.Name, prefix) {
			out = append(out, v.Name)
		}
	}
	return out
}

// testsRan returns the tests whose command ran in this build (not answered from the cache), as
// "[test <image>] <desc>": from the runner's "=== RUN" lines in the log of an op running several
// tests, and the name of an op running one test alone.
func (p *progress) testsRan() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for dgst, v := range p.vertices {
		if v.Cached || v.Completed == nil || v.Started == nil || !strings.HasPrefix(v.Name, "[test ") {
			continue
		}
		b := p.logs[dgst]
		if b == nil || !strings.Contains(b.String(), "=== RUN   ") {
			if !strings.Contains(v.Name, " tests: ") {
				out = append(out, v.Name)
			}
			continue
		}
		for _, line := range strings.Split(b.String(), "\n") {
			if name, ok := strings.CutPrefix(line, "=== RUN   "); ok {
				if i := strings.LastIndex(name, " ("); i > 0 {
					name = name[:i]
				}
				out = append(out, name)
			}
		}
	}
	sort.Strings(out)
	return out
}

// testLog is the runner's log of every test op, for the lines a user reads in the progress.
func (p *progress) testLog() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for dgst, v := range p.vertices {
		if l := p.logs[dgst]; l != nil && strings.HasPrefix(v.Name, "[test ") {
			b.WriteString(l.String())
		}
	}
	return b.String()
}

// failed names the vertices a user sees as ERROR. A sibling the solver cancelled when
// another vertex failed carries "context canceled", which buildx and buildctl print as
// CANCELED (progressui does the same suffix test), so it is not counted; whether a
// sibling got cancelled or finished first is a race.
func (p *progress) failed() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, v := range p.vertices {
		if v.Error != "" && !strings.HasSuffix(v.Error, context.Canceled.Error()) {
			out = append(out, v.Name)
		}
	}
	return out
}

type buildOpts struct {
	attrs       map[string]string
	cacheExport []client.CacheOptionsEntry
	cacheImport []client.CacheOptionsEntry
	push        string             // image ref to push to; "" = no export
	localOut    string             // a directory to export the result's files to
	fn          gwclient.BuildFunc // the build function; nil: frontend.Build
}

// build runs the frontend in-process against the real buildkitd with dir as context and dockerfile.
func (e env) build(t *testing.T, dir string, o buildOpts) (*progress, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, err := client.New(ctx, e.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fsys, err := fsutil.NewFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]fsutil.FS{"context": fsys, "dockerfile": fsys}
	if e.runner != "" {
		rfs, err := fsutil.NewFS(e.runner)
		if err != nil {
			t.Fatal(err)
		}
		mounts["dazzlekit-runner"] = rfs
	}
	attrs := map[string]string{"build-arg:REGISTRY": e.registry}
	for k, v := range o.attrs {
		attrs[k] = v
	}
	opt := client.SolveOpt{LocalMounts: mounts, FrontendAttrs: attrs, CacheExports: o.cacheExport, CacheImports: o.cacheImport}
	if o.push != "" {
		opt.Exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": o.push, "push": "true"}}}
	}
	if o.localOut != "" {
		opt.Exports = append(opt.Exports, client.ExportEntry{Type: client.ExporterLocal, OutputDir: o.localOut})
	}
	p := &progress{vertices: map[string]*client.Vertex{}, logs: map[string]*bytes.Buffer{}}
	ch := make(chan *client.SolveStatus)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for s := range ch {
			p.mu.Lock()
			for _, v := range s.Vertexes {
				p.vertices[v.Digest.String()] = v
			}
			for _, l := range s.Logs {
				b := p.logs[l.Vertex.String()]
				if b == nil {
					b = &bytes.Buffer{}
					p.logs[l.Vertex.String()] = b
				}
				b.Write(l.Data)
			}
			for _, w := range s.Warnings {
				p.warnings = append(p.warnings, string(w.Short))
			}
			p.mu.Unlock()
		}
	}()
	fn := o.fn
	if fn == nil {
		fn = frontend.Build
	}
	_, err = c.Build(ctx, opt, "dazzlekit", fn, ch)
	<-done
	return p, err
}

// prune empties the build cache of the test buildkitd.
func (e env) prune(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := client.New(ctx, e.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Prune(ctx, nil, client.PruneAll); err != nil {
		t.Fatal(err)
	}
}

// mustBuild builds and pushes, failing the test on error.
func (e env) mustBuild(t *testing.T, dir string, attrs map[string]string, push string) *progress {
	t.Helper()
	p, err := e.build(t, dir, buildOpts{attrs: attrs, push: push})
	if err != nil {
		t.Fatalf("build failed: %s", errText(err))
	}
	return p
}

// errText is the error as buildctl would show it: the message plus any source snippets.
func errText(err error) string { return frontend.ErrorText(err) }

func image(t *testing.T, ref string) *registry.Image {
	t.Helper()
	img, err := registry.Get(ref)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func files(t *testing.T, img *registry.Image) map[string]registry.File {
	t.Helper()
	f, err := img.Files()
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs a command (buildctl, docker) and returns combined output.
func run(t *testing.T, dir string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// layersByOwner groups an image's layer digests by the chunk that made them, using the history
// comments dazzlekit writes on chunk entries (merge.HistoryComment); the rest is the base.
func layersByOwner(t *testing.T, img *registry.Image) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	i := 0
	for _, h := range img.Config.History {
		if h.EmptyLayer {
			continue
		}
		if i >= len(img.Manifest.Layers) {
			t.Fatalf("%s: more non-empty history entries than layers", img.Ref)
		}
		owner, ok := merge.ChunkFromHistoryComment(h.Comment)
		if !ok {
			owner = "base"
		}
		out[owner] = append(out[owner], img.Manifest.Layers[i].Digest.String())
		i++
	}
	if i != len(img.Manifest.Layers) {
		t.Fatalf("%s: %d layers but %d non-empty history entries", img.Ref, len(img.Manifest.Layers), i)
	}
	return out
}
