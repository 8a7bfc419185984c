package frontend

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
)

// dirRef answers like a gateway reference over a directory, errors included: they arrive as bare
// messages, since gRPC does not carry the os error types across.
type dirRef struct {
	root  string
	mu    sync.Mutex
	reads []string // files read, in order
	calls int      // requests of any kind
}

func (r *dirRef) ToState() (llb.State, error)    { return llb.Scratch(), nil }
func (r *dirRef) Evaluate(context.Context) error { return nil }

func (r *dirRef) ReadFile(_ context.Context, req gwclient.ReadRequest) ([]byte, error) {
	r.mu.Lock()
	r.reads = append(r.reads, req.Filename)
	r.calls++
	r.mu.Unlock()
	dt, err := os.ReadFile(filepath.Join(r.root, req.Filename))
	return dt, bare(err)
}

func (r *dirRef) StatFile(_ context.Context, req gwclient.StatRequest) (*fstypes.Stat, error) {
	r.count()
	st, err := fsutil.Stat(filepath.Join(r.root, req.Path))
	return st, bare(err)
}

func (r *dirRef) ReadDir(_ context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	r.count()
	entries, err := os.ReadDir(filepath.Join(r.root, req.Path))
	if err != nil {
		return nil, bare(err)
	}
	var out []*fstypes.Stat
	for _, e := range entries {
		st, err := fsutil.Stat(filepath.Join(r.root, req.Path, e.Name()))
		if err != nil {
			return nil, bare(err)
		}
		st.Path = e.Name()
		out = append(out, st)
	}
	return out, nil
}

func (r *dirRef) count() {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
}

func bare(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(err.Error())
}

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if strings.HasSuffix(p, "/") {
			if err := os.MkdirAll(full, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestRefFSIsAnFS(t *testing.T) {
	root := writeTree(t, map[string]string{
		"dazzle.yaml": "combiner: {}\n", "base/Dockerfile": "FROM x\n", "chunks/a/Dockerfile": "FROM y\n",
		"chunks/a/big.bin": strings.Repeat("z", 100000), "chunks/empty/": "",
	})
	fsys := newRefFS(context.Background(), &dirRef{root: root})
	if err := fstest.TestFS(fsys, "dazzle.yaml", "base/Dockerfile", "chunks/a/Dockerfile", "chunks/a/big.bin", "chunks/empty"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"nope", "chunks/nope/Dockerfile"} {
		if _, err := fs.Stat(fsys, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Stat(%s): %v, want fs.ErrNotExist", name, err)
		}
		if _, err := fs.ReadFile(fsys, name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(%s): %v, want fs.ErrNotExist", name, err)
		}
	}
	if _, err := fs.ReadDir(fsys, "tests"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("ReadDir(tests): %v, want fs.ErrNotExist", err)
	}
	// As os.DirFS: a file is there, but is no directory.
	if _, err := fs.ReadDir(fsys, "dazzle.yaml"); err == nil || err.Error() != "readdir dazzle.yaml: not a directory" {
		t.Errorf("ReadDir of a file: %v, want not a directory", err)
	}
	if _, err := fs.Stat(fsys, "dazzle.yaml/x"); err == nil || err.Error() != "stat dazzle.yaml/x: not a directory" {
		t.Errorf("Stat under a file: %v, want not a directory", err)
	}
}

// The loader reads only what it needs: the chunks' other files never leave BuildKit, whatever
// they are named, and no chunk folder is missed for the name of its Dockerfile.
func TestLoadThroughRefFS(t *testing.T) {
	files := map[string]string{
		"base/Dockerfile":             "FROM scratch\n",
		"chunks/go/Dockerfile":        "ARG base\nFROM ${base}\n",
		"chunks/go/main.go":           "package main\n",
		"chunks/java/chunk.yaml":      "variants:\n  - name: \"17\"\n    dockerfile: docker/build.df\n",
		"chunks/java/docker/build.df": "ARG base\nFROM ${base}\n",
		"chunks/java/jdk.tar":         strings.Repeat("j", 1000),
		"chunks/_old/Dockerfile":      "FROMM broken\n",
		"tests/go.yaml":               "- desc: go\n  command: [go, version]\n  assert: [status == 0]\n",
		"tests/php.yaml":              "- desc: php\n  command: [php]\n",
		"README.md":                   "docs\n",
	}
	ref := &dirRef{root: writeTree(t, files)}
	if err := os.Symlink("go", filepath.Join(ref.root, "chunks", "golink")); err != nil {
		t.Fatal(err)
	}
	fsys := newRefFS(context.Background(), ref)
	p, err := project.Load(fsys, "dazzle.yaml", []byte("combiner:\n  combinations:\n    - name: all\n      chunks: [go, \"java:17\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var chunks []string
	for _, c := range p.Chunks {
		chunks = append(chunks, c.Name+"="+c.Dockerfile)
	}
	if want := []string{"go=chunks/go/Dockerfile", "java:17=chunks/java/docker/build.df"}; !reflect.DeepEqual(chunks, want) {
		t.Errorf("chunks %v, want %v", chunks, want)
	}
	sort.Strings(ref.reads)
	if want := []string{"base/Dockerfile", "chunks/go/Dockerfile", "chunks/java/chunk.yaml", "chunks/java/docker/build.df", "tests/go.yaml", "tests/php.yaml"}; !reflect.DeepEqual(ref.reads, want) {
		t.Errorf("read %v, want %v", ref.reads, want)
	}
	// A request per folder the loader looks into (root, base, chunks, go, java, java/docker, tests)
	// and per file it reads; the Stat of each candidate file (chunk.yaml, chunk.yml, Dockerfile)
	// answered from its folder's listing. Each request mounts the context in BuildKit, and a bake
	// of every combination loads the project once per combination: it was 19 here.
	if ref.calls != 13 {
		t.Errorf("%d requests to BuildKit, want 13", ref.calls)
	}
	// A chunk's ignore files, absent from its listed folder, cost none.
	before := ref.calls
	if _, err := fs.ReadFile(fsys, "chunks/go/.dockerignore"); !errors.Is(err, fs.ErrNotExist) || ref.calls != before {
		t.Errorf("ReadFile(chunks/go/.dockerignore): %v after %d requests, want fs.ErrNotExist and none", err, ref.calls-before)
	}
	// Another build of the same context in this process (dazzlekit build: one session, one vertex)
	// reads the project from what the first one read: no request, the same project.
	again := &dirRef{root: ref.root}
	p2, err := project.Load(&refFS{ctx: context.Background(), ref: again, reads: fsys.reads}, "dazzle.yaml", []byte("combiner:\n  combinations:\n    - name: all\n      chunks: [go, \"java:17\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if again.calls != 0 || !reflect.DeepEqual(p2.Chunks, p.Chunks) {
		t.Errorf("a second load of the context made %d requests and found chunks %v, want none and %v", again.calls, p2.Chunks, p.Chunks)
	}
	// What a reader does to the bytes it got stays with it.
	dt, _ := fs.ReadFile(fsys, "tests/go.yaml")
	dt[0] = 'X'
	if dt2, _ := fs.ReadFile(fsys, "tests/go.yaml"); dt2[0] != '-' {
		t.Errorf("a change to what ReadFile returned reached the cache: %q", dt2)
	}
	var warned []string
	for _, w := range p.Warnings {
		warned = append(warned, fmt.Sprintf("%s %s:%d", w.Rule, w.File, w.Line))
	}
	if want := []string{"ChunkFolderSymlink chunks/golink:0", "TestsWithoutChunk tests/php.yaml:1"}; !reflect.DeepEqual(warned, want) {
		t.Errorf("warnings %v, want %v", warned, want)
	}

	// A Dockerfile whose name no pattern would have matched is an error naming the folder.
	files["chunks/node/dockerfile"] = "ARG base\nFROM ${base}\n"
	_, err = project.Load(newRefFS(context.Background(), &dirRef{root: writeTree(t, files)}), "dazzle.yaml", nil)
	want := `chunks/node/: no Dockerfile; found "dockerfile" (names are case-sensitive: rename it to Dockerfile); every chunk folder needs one: add chunks/node/Dockerfile, or rename the folder to chunks/_node so it is skipped`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
}

// slowRef is a dirRef whose every request takes a while, as over gRPC to a busy BuildKit.
type slowRef struct{ dirRef }

func (r *slowRef) ReadFile(ctx context.Context, req gwclient.ReadRequest) ([]byte, error) {
	time.Sleep(5 * time.Millisecond)
	return r.dirRef.ReadFile(ctx, req)
}

func (r *slowRef) ReadDir(ctx context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	time.Sleep(5 * time.Millisecond)
	return r.dirRef.ReadDir(ctx, req)
}

// Builds that load one context at once, as `dazzlekit build` starts them, send each request once
// between them; each still gets the whole project, and one whose shared request failed asks again.
func TestConcurrentLoadsShareRequests(t *testing.T) {
	root := writeTree(t, map[string]string{
		"base/Dockerfile":      "FROM scratch\n",
		"chunks/go/Dockerfile": "ARG base\nFROM ${base}\n",
		"chunks/py/Dockerfile": "ARG base\nFROM ${base}\n",
		"tests/go.yaml":        "- desc: go\n  command: [go, version]\n",
	})
	config := []byte("combiner:\n  combinations:\n    - name: all\n      chunks: [go, py]\n")
	single := &dirRef{root: root}
	if _, err := project.Load(newRefFS(context.Background(), single), "dazzle.yaml", config); err != nil {
		t.Fatal(err)
	}
	reads := newReadCache()
	refs := make([]*slowRef, 8)
	var wg sync.WaitGroup
	for i := range refs {
		refs[i] = &slowRef{dirRef{root: root}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := project.Load(&refFS{ctx: context.Background(), ref: refs[i], reads: reads}, "dazzle.yaml", config)
			if err != nil || len(p.Chunks) != 2 || len(p.Tests["go"]) != 1 {
				t.Errorf("load %d: %v, %+v", i, err, p)
			}
		}()
	}
	wg.Wait()
	calls := 0
	for _, r := range refs {
		calls += r.calls
	}
	if calls != single.calls {
		t.Errorf("%d loads at once made %d requests, want %d, as one load makes", len(refs), calls, single.calls)
	}

	started, release := make(chan struct{}), make(chan struct{})
	first := make(chan error)
	go func() {
		_, err := reads.read("file:x", func() (any, error) {
			close(started)
			<-release
			return nil, errors.New("the first build was cancelled")
		})
		first <- err
	}()
	<-started
	second := make(chan any)
	go func() {
		v, err := reads.read("file:x", func() (any, error) { return "read again", nil })
		if err != nil {
			t.Errorf("the second reader got %v", err)
		}
		second <- v
	}()
	time.Sleep(20 * time.Millisecond) // for the second reader to wait on the first's request
	close(release)
	if err := <-first; err == nil {
		t.Error("the first reader's failure was lost")
	}
	if v := <-second; v != "read again" {
		t.Errorf("the second reader got %v, want its own read", v)
	}
}

// overlapRef is a slowRef that records the most of its requests under way at once.
type overlapRef struct {
	slowRef
	mu             sync.Mutex
	underway, most int
}

func (r *overlapRef) track() func() {
	r.mu.Lock()
	r.underway++
	r.most = max(r.most, r.underway)
	r.mu.Unlock()
	return func() {
		r.mu.Lock()
		r.underway--
		r.mu.Unlock()
	}
}

func (r *overlapRef) ReadFile(ctx context.Context, req gwclient.ReadRequest) ([]byte, error) {
	defer r.track()()
	return r.slowRef.ReadFile(ctx, req)
}

func (r *overlapRef) ReadDir(ctx context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	defer r.track()()
	return r.slowRef.ReadDir(ctx, req)
}

// A prefetch beside the load sends the requests the load would send alone, each once, but several
// at a time: the same project, the same files read, requests overlapping.
func TestPrefetchOverlapsTheLoad(t *testing.T) {
	files := map[string]string{
		"base/Dockerfile":        "FROM scratch\n",
		"chunks/go/Dockerfile":   "ARG base\nFROM ${base}\n",
		"chunks/py/Dockerfile":   "ARG base\nFROM ${base}\n",
		"chunks/rb/Dockerfile":   "ARG base\nFROM ${base}\n",
		"chunks/java/chunk.yaml": "variants:\n  - name: \"17\"\n",
		"chunks/java/Dockerfile": "ARG base\nFROM ${base}\n",
		"chunks/_off/Dockerfile": "FROMM broken\n",
		"tests/go.yaml":          "- desc: go\n  command: [go, version]\n",
		"tests/py.yml":           "- desc: py\n  command: [python]\n",
		"README.md":              "docs\n",
	}
	root := writeTree(t, files)
	config := []byte("combiner:\n  combinations:\n    - name: all\n      chunks: [go, py, rb, \"java:17\"]\n")
	alone := &overlapRef{slowRef: slowRef{dirRef{root: root}}}
	want, err := project.Load(newRefFS(context.Background(), alone), "dazzle.yaml", config)
	if err != nil {
		t.Fatal(err)
	}
	if alone.most != 1 {
		t.Fatalf("a load alone had %d requests under way at once, want 1", alone.most)
	}
	for range 5 { // the load and the prefetch race differently each time
		ref := &overlapRef{slowRef: slowRef{dirRef{root: root}}}
		fsys := newRefFS(context.Background(), ref)
		done := make(chan struct{})
		go func() {
			fsys.prefetch()
			close(done)
		}()
		p, err := project.Load(fsys, "dazzle.yaml", config)
		<-done
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(p.Chunks, want.Chunks) || !reflect.DeepEqual(p.Tests, want.Tests) {
			t.Errorf("with a prefetch, chunks %+v and tests %+v, want %+v and %+v", p.Chunks, p.Tests, want.Chunks, want.Tests)
		}
		sort.Strings(ref.reads)
		sort.Strings(alone.reads)
		if ref.calls != alone.calls || !reflect.DeepEqual(ref.reads, alone.reads) {
			t.Errorf("with a prefetch, %d requests reading %v; alone, %d reading %v", ref.calls, ref.reads, alone.calls, alone.reads)
		}
		if ref.most < 2 {
			t.Errorf("with a prefetch, at most %d request under way at once, want several", ref.most)
		}
	}
}
