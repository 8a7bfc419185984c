package frontend

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"testing/fstest"
	"time"

	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	fstypes "github.com/tonistiigi/fsutil/types"
	"golang.org/x/sync/singleflight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// contextFS solves the build context and returns it as an fs.FS that reads each file only when the
// project loader asks for it. The loader thus sees the context exactly as the chunk conversions do
// (the same state, so BuildKit transfers it once), with no list of file patterns that a chunk's
// files could fail to match. It works alike for a local context and one forwarded as an input
// through `# syntax=`.
func contextFS(ctx context.Context, c gwclient.Client, st llb.State) (fs.FS, error) {
	def, err := st.Marshal(ctx)
	if err != nil {
		return nil, err
	}
	res, err := c.Solve(ctx, gwclient.SolveRequest{Definition: def.ToPB()})
	if err != nil {
		return nil, fmt.Errorf("loading the dazzle project from the build context: %w", err)
	}
	ref, err := res.SingleRef()
	if err != nil {
		return nil, err
	}
	if ref == nil { // an empty context (scratch) has no reference; the loader reports what is missing
		return fstest.MapFS{}, nil
	}
	head, err := def.Head()
	if err != nil {
		return nil, err
	}
	reads, loaded := contextReads.LoadOrStore(head, newReadCache())
	f := &refFS{ctx: ctx, ref: ref, reads: reads.(*readCache)}
	if !loaded {
		go f.prefetch()
	}
	return f, nil
}

// prefetchRequests bounds the requests prefetch has under way at once.
const prefetchRequests = 8

// prefetch reads, several requests at a time, what the project loader then asks for one request
// after another: the listings of the project's folders and, in them, the files every load reads
// (each folder's chunk.yaml, or else its Dockerfile, and each test file). A bake starts a frontend
// per combination, 41 at once on 2 cores, and each request's round trip through the gateway then
// waits its turn: loading the benchmark's copy of gitpod's layout (27 listings, 57 files) took from
// 1.0 to 2.8 s once the context was there, in every frontend alike, and no chunk step could start
// before; with prefetch, 0.5 to 0.7 s. What the loader asks for while prefetch has it under way waits
// for that request (readCache.read); what prefetch fails to read, the loader asks for again and
// reports. The requests are the ones the loader makes, save a test file of a skipped folder.
func (f *refFS) prefetch() {
	sem := make(chan struct{}, prefetchRequests)
	var wg sync.WaitGroup
	spawn := func(fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn()
		}()
	}
	list := func(dir string) map[string]*fstypes.Stat {
		sem <- struct{}{}
		defer func() { <-sem }()
		l, _ := f.list(dir)
		return l
	}
	read := func(name string) {
		spawn(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			_, _ = f.ReadFile(name)
		})
	}
	regular := func(st *fstypes.Stat) bool { return st != nil && fs.FileMode(st.Mode).IsRegular() }
	isDir := func(st *fstypes.Stat) bool { return st != nil && fs.FileMode(st.Mode).IsDir() }
	folder := func(dir string) {
		l := list(dir)
		first := "Dockerfile"
		for _, name := range []string{"chunk.yml", "chunk.yaml"} {
			if l[name] != nil {
				first = name
			}
		}
		if regular(l[first]) {
			read(path.Join(dir, first))
		}
	}
	root := list(".")
	if isDir(root["base"]) {
		spawn(func() { folder("base") })
	}
	if isDir(root["tests"]) {
		spawn(func() {
			for name, st := range list("tests") {
				if ext := path.Ext(name); regular(st) && !strings.HasPrefix(name, ".") && (ext == ".yaml" || ext == ".yml") {
					read(path.Join("tests", name))
				}
			}
		})
	}
	if isDir(root["chunks"]) {
		for name, st := range list("chunks") {
			if isDir(st) && !strings.HasPrefix(name, "_") && !strings.HasPrefix(name, ".") {
				spawn(func() { folder(path.Join("chunks", name)) })
			}
		}
	}
	wg.Wait()
}

// contextReads keeps what refFS has read of each context, by the context's LLB digest, for the
// builds of one process. `dazzlekit build` runs the build of every combination in one process and
// one session, where the local context is one and the same vertex, synced once, in all of them: the
// second and later builds then read the project from memory instead of asking BuildKit for each of
// its files again. A local source names its session, and a frontend image serves a single build, so
// a digest never stands for two different syncs of a folder.
var contextReads sync.Map // digest.Digest -> *readCache

func newRefFS(ctx context.Context, ref gwclient.Reference) *refFS {
	return &refFS{ctx: ctx, ref: ref, reads: newReadCache()}
}

// readCache is what was read of one context: directory listings and file contents.
type readCache struct {
	mu    sync.Mutex
	dirs  map[string]map[string]*fstypes.Stat // directory -> entry name -> stat
	files map[string][]byte
	// reading lets the builds that start together, as `dazzlekit build` starts all of them, wait for
	// the one request already under way for a file or listing rather than each send its own: 41
	// builds loading a project of 80 files at once were 3,000 requests and 0.3 s before any step.
	reading singleflight.Group
}

// read returns what fetch returns for key, fetching it once for the readers that ask at once. A
// reader sharing another's failed fetch tries again on its own: the failure may be the other's
// (a build cancelled, its reference released), not the file's.
func (c *readCache) read(key string, fetch func() (any, error)) (any, error) {
	mine := false
	v, err, _ := c.reading.Do(key, func() (any, error) {
		mine = true
		return fetch()
	})
	if err != nil && !mine {
		return fetch()
	}
	return v, err
}

func newReadCache() *readCache {
	return &readCache{dirs: map[string]map[string]*fstypes.Stat{}, files: map[string][]byte{}}
}

// refFS is an fs.FS over a gateway reference. Each request to BuildKit mounts the reference, and a
// bake of every combination loads the project once per combination, so refFS keeps each directory
// listing it reads and answers from it what it can: a Stat in a listed directory, or a ReadFile of
// a file absent from one, costs no request. The loader's look at a chunk folder (chunk.yaml?
// chunk.yml? Dockerfile? .dockerignore?) is then one listing and one read. Stat describes a symbolic
// link itself, as a directory entry does (the gateway's stat does not follow links); reading a link
// follows it.
type refFS struct {
	ctx   context.Context
	ref   gwclient.Reference
	reads *readCache // listings and files read so far
}

// listed returns dir's listing if it has been read.
func (f *refFS) listed(dir string) (map[string]*fstypes.Stat, bool) {
	f.reads.mu.Lock()
	defer f.reads.mu.Unlock()
	l, ok := f.reads.dirs[dir]
	return l, ok
}

// fetched returns name's content if it has been read.
func (f *refFS) fetched(name string) ([]byte, bool) {
	f.reads.mu.Lock()
	defer f.reads.mu.Unlock()
	dt, ok := f.reads.files[name]
	return dt, ok
}

// list reads the listing of dir, which the caller knows to be a directory: the gateway lists a
// file as itself.
func (f *refFS) list(dir string) (map[string]*fstypes.Stat, error) {
	if l, ok := f.listed(dir); ok {
		return l, nil
	}
	v, err := f.reads.read("dir:"+dir, func() (any, error) {
		if l, ok := f.listed(dir); ok { // read by a request that ended since the look above
			return l, nil
		}
		sts, err := f.ref.ReadDir(f.ctx, gwclient.ReadDirRequest{Path: dir})
		if err != nil {
			return nil, pathError("readdir", dir, err)
		}
		l := make(map[string]*fstypes.Stat, len(sts))
		for _, st := range sts {
			l[path.Base(st.Path)] = st
		}
		f.reads.mu.Lock()
		f.reads.dirs[dir] = l
		f.reads.mu.Unlock()
		return l, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]*fstypes.Stat), nil
}

// isListedDir reports whether dir is known to be a directory from a listing. The context's root,
// which the loader looks into first, is listed for it.
func (f *refFS) isListedDir(dir string) bool {
	if dir == "." {
		return true
	}
	l, ok := f.listed(path.Dir(dir))
	if !ok && path.Dir(dir) == "." {
		var err error
		l, err = f.list(".")
		ok = err == nil
	}
	return ok && l[path.Base(dir)] != nil && fs.FileMode(l[path.Base(dir)].Mode).IsDir()
}

var (
	_ fs.StatFS     = (*refFS)(nil)
	_ fs.ReadDirFS  = (*refFS)(nil)
	_ fs.ReadFileFS = (*refFS)(nil)
)

func (f *refFS) Open(name string) (fs.File, error) {
	fi, err := f.Stat(name)
	if err != nil {
		return nil, rename(err, "open")
	}
	return &refFile{fsys: f, name: name, info: fi}, nil
}

func (f *refFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if name != "." && f.isListedDir(path.Dir(name)) {
		// One listing answers this and every later Stat in the same directory.
		l, err := f.list(path.Dir(name))
		if err != nil {
			return nil, rename(err, "stat")
		}
		st := l[path.Base(name)]
		if st == nil {
			return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
		}
		return fileInfo{name: path.Base(name), st: st}, nil
	}
	st, err := f.ref.StatFile(f.ctx, gwclient.StatRequest{Path: name})
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	return fileInfo{name: path.Base(name), st: st}, nil
}

func (f *refFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	if !f.isListedDir(name) {
		fi, err := f.Stat(name)
		if err != nil {
			return nil, rename(err, "readdir")
		}
		if !fi.IsDir() {
			return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
		}
	}
	l, err := f.list(name)
	if err != nil {
		return nil, err
	}
	entries := make([]fs.DirEntry, 0, len(l))
	for n, st := range l {
		entries = append(entries, fs.FileInfoToDirEntry(fileInfo{name: n, st: st}))
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

func (f *refFS) ReadFile(name string) ([]byte, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrInvalid}
	}
	if l, ok := f.listed(path.Dir(name)); ok && l[path.Base(name)] == nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: fs.ErrNotExist}
	}
	if dt, ok := f.fetched(name); ok {
		return slices.Clone(dt), nil
	}
	v, err := f.reads.read("file:"+name, func() (any, error) {
		if dt, ok := f.fetched(name); ok { // read by a request that ended since the look above
			return dt, nil
		}
		dt, err := f.ref.ReadFile(f.ctx, gwclient.ReadRequest{Filename: name})
		if err != nil {
			return nil, pathError("read", name, err)
		}
		f.reads.mu.Lock()
		f.reads.files[name] = dt
		f.reads.mu.Unlock()
		return dt, nil
	})
	if err != nil {
		return nil, err
	}
	return slices.Clone(v.([]byte)), nil
}

// refFile is an opened file or directory; its content is fetched on the first Read.
type refFile struct {
	fsys    *refFS
	name    string
	info    fs.FileInfo
	data    []byte
	read    bool
	off     int
	entries []fs.DirEntry // what ReadDir(n) has yet to return; nil until listed
	listed  bool
}

func (f *refFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *refFile) Close() error               { return nil }

func (f *refFile) Read(b []byte) (int, error) {
	if f.info.IsDir() {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errors.New("is a directory")}
	}
	if !f.read {
		dt, err := f.fsys.ReadFile(f.name)
		if err != nil {
			return 0, err
		}
		f.data, f.read = dt, true
	}
	if f.off >= len(f.data) {
		return 0, io.EOF
	}
	n := copy(b, f.data[f.off:])
	f.off += n
	return n, nil
}

func (f *refFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !f.listed {
		entries, err := f.fsys.ReadDir(f.name)
		if err != nil {
			return nil, err
		}
		f.entries, f.listed = entries, true
	}
	if n <= 0 {
		out := f.entries
		f.entries = nil
		return out, nil
	}
	if len(f.entries) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(f.entries))
	out := f.entries[:n]
	f.entries = f.entries[n:]
	return out, nil
}

// fileInfo is a gateway stat as an fs.FileInfo. fsutil's Mode holds Go's os.FileMode bits.
type fileInfo struct {
	name string
	st   *fstypes.Stat
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.st.Size }
func (i fileInfo) Mode() fs.FileMode  { return fs.FileMode(i.st.Mode) }
func (i fileInfo) ModTime() time.Time { return time.Unix(0, i.st.ModTime) }
func (i fileInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i fileInfo) Sys() any           { return i.st }

var errNotDir = errors.New("not a directory")

// pathError makes a missing file fs.ErrNotExist, which is what the loader tests for: the gateway
// sends errors over gRPC, where the os error's type is lost. The two usual errors get a message of
// their own, since the gateway's may name its temporary mount path.
func pathError(op, name string, err error) error {
	msg := err.Error()
	switch {
	case status.Code(err) == codes.NotFound || strings.Contains(msg, "no such file or directory"):
		err = fs.ErrNotExist
	case strings.Contains(msg, "not a directory"):
		err = errNotDir
	}
	return &fs.PathError{Op: op, Path: name, Err: err}
}

func rename(err error, op string) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return &fs.PathError{Op: op, Path: pe.Path, Err: pe.Err}
	}
	return err
}
