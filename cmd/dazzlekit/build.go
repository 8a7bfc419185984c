package main

import (
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dazzlekit/dazzlekit/frontend"
	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/docker/cli/cli/config"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/auth/authprovider"
	"github.com/moby/buildkit/session/filesync"
	"github.com/moby/buildkit/session/grpchijack"
	"github.com/moby/buildkit/util/appcontext"
	"github.com/moby/buildkit/util/progress/progressui"
	"github.com/tonistiigi/fsutil"
	fstypes "github.com/tonistiigi/fsutil/types"
)

const buildUsage = `usage: dazzlekit build [flags] [project dir]

Builds the combinations of the dazzle project in the given folder (default: the current one) on
BuildKit (BUILDKIT_HOST, or --addr) and pushes each as REGISTRY:<combination>. Every combination
builds by default, all at once, as one docker buildx bake of dazzlekit bake's definition would; the
frontend runs in this process, so there is no frontend image to publish and no frontend container
per combination:

  dazzlekit build --registry registry.example/workspace
  dazzlekit build --registry registry.example/workspace --combination node,python

Tests run with this binary as their runner, so it must be a static Linux build (CGO_ENABLED=0) for
the builders' platform. It prints each pushed image as name@digest on stdout. A combination whose tag
holds the image as built already (the same manifest digest) is not pushed again, and combinations of
the same chunks build their one image once, pushed to each of their tags.

Flags:
`

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// build is `dazzlekit build`: the frontend as a BuildKit client, one solve per combination.
func build(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("build", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.Usage = func() { fmt.Fprint(stderr, buildUsage); fl.PrintDefaults() }
	addr := fl.String("addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address (default $BUILDKIT_HOST)")
	registry := fl.String("registry", "", "the repository every combination is pushed to as REGISTRY:<combination> (default localhost:5000/<project folder name>)")
	file := fl.String("file", "dazzle.yaml", "the project file, relative to the project folder")
	progressMode := fl.String("progress", "auto", "progress output: auto, plain, tty, rawjson or quiet")
	push := fl.Bool("push", true, "push every combination; with --push=false the images are built and tested, not exported")
	metadata := fl.String("metadata-file", "", "write each combination's pushed name and digest to this file as JSON")
	var combs, buildArgs listFlag
	fl.Var(&combs, "combination", "a combination to build (repeatable, or comma-separated; default: every one)")
	fl.Var(&buildArgs, "build-arg", "KEY=VALUE, a build argument as docker buildx build --build-arg takes it (repeatable)")
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 1 {
		fl.Usage()
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "dazzlekit build: "+format+"\n", a...)
		return 1
	}
	dir := "."
	if fl.NArg() == 1 {
		dir = fl.Arg(0)
	}
	if *addr == "" {
		return fail("no BuildKit to build on: set BUILDKIT_HOST or pass --addr (e.g. unix:///run/buildkit/buildkitd.sock)")
	}
	if *registry == "" && *push {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return fail("%v", err)
		}
		*registry = defaultRepository(abs)
	}
	data, err := os.ReadFile(filepath.Join(dir, *file))
	if err != nil {
		return fail("%v (run it in a dazzle project folder, or give the folder)", err)
	}
	projectFS := os.DirFS(dir)
	p, err := project.Load(projectFS, filepath.ToSlash(*file), data)
	if err != nil {
		return fail("%v", err)
	}
	names, err := pickCombinations(p, *file, combs)
	if err != nil {
		return fail("%v", err)
	}
	attrs := map[string]string{"filename": filepath.ToSlash(*file)}
	for _, a := range buildArgs {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return fail("--build-arg %q: want KEY=VALUE", a)
		}
		attrs["build-arg:"+k] = v
	}
	runner, cleanup, err := runnerFS()
	if err != nil {
		return fail("%v", err)
	}
	defer cleanup()
	ctxFS, err := fsutil.NewFS(dir)
	if err != nil {
		return fail("%v", err)
	}

	ctx := appcontext.Context()
	c, err := client.New(ctx, *addr)
	if err != nil {
		return fail("connecting to BuildKit at %s: %v", *addr, err)
	}
	defer c.Close()
	display, err := progressui.NewDisplay(stderr, progressui.DisplayMode(*progressMode))
	if err != nil {
		return fail("--progress %s: %v", *progressMode, err)
	}
	// One display for every build, as bake shows its targets: the builds share most vertices.
	all := make(chan *client.SolveStatus)
	var warnings []client.VertexWarning
	displayed := make(chan error, 1)
	go func() {
		w, err := display.UpdateFrom(context.WithoutCancel(ctx), all)
		warnings = w
		displayed <- err
	}()
	// One session for every build. The frontend names the session in the local sources it reads the
	// project and Dockerfiles from, so with one session those sources are the same vertex in every
	// build, and BuildKit syncs the project once instead of three times per combination.
	sess, err := session.NewSession(ctx, "")
	if err != nil {
		return fail("starting a BuildKit session: %v", err)
	}
	dirs := filesync.StaticDirSource{}
	for name, fs := range map[string]fsutil.FS{"context": ctxFS, "dockerfile": ctxFS, frontend.RunnerLocal: runner} {
		// Owned by root in the build, as buildctl and buildx send them: the same files, the same cache keys.
		if dirs[name], err = fsutil.NewFilterFS(fs, &fsutil.FilterOpt{Map: rootOwned}); err != nil {
			return fail("%v", err)
		}
	}
	sess.Allow(filesync.NewFSSyncProvider(dirs))
	dockerConfig := config.LoadDefaultConfigFile(stderr)
	sess.Allow(authprovider.NewDockerAuthProvider(authprovider.DockerAuthProviderConfig{
		AuthConfigProvider: authprovider.LoadAuthConfig(dockerConfig),
	}))
	sessionDone := make(chan error, 1)
	go func() { sessionDone <- sess.Run(context.WithoutCancel(ctx), grpchijack.Dialer(c.ControlClient())) }()
	defer func() {
		sess.Close()
		<-sessionDone
	}()

	type result struct {
		Name    string `json:"image.name,omitempty"` // as buildx names it in its --metadata-file
		Digest  string `json:"containerimage.digest,omitempty"`
		err     error
		retries []string // why each earlier attempt to push failed
		held    bool     // the registry held this very image already: not pushed again
	}
	results := make([]result, len(names))
	logs := &logSet{seen: map[logKey]bool{}}
	var forwards sync.WaitGroup
	// forward shows a build's progress in the one display, and each status to seen first, if set.
	forward := func(seen func(*client.SolveStatus)) chan *client.SolveStatus {
		ch := make(chan *client.SolveStatus)
		forwards.Add(1)
		go func() {
			defer forwards.Done()
			for s := range ch {
				if seen != nil {
					seen(s)
				}
				all <- logs.dedupe(s)
			}
		}()
		return ch
	}
	// A head start (frontend.Warm): the chunks' own steps are sent after one conversion, rather than
	// once the first of all the builds, each converting its Dockerfiles on the same few cores, gets
	// there. The builds start as it sends them, and find them running. Its outcome is theirs to
	// tell: a step that fails fails every build holding it.
	// The builds load the project and convert each Dockerfile once for all of them (and for the head
	// start, when it reads the project through BuildKit as they do).
	sharedCtx := frontend.WithSharedConversions(ctx)
	warmCtx, stopWarm := context.WithCancel(sharedCtx)
	defer stopWarm()
	warmed, warmDone := make(chan struct{}), make(chan struct{})
	warmChunks := chunksOf(p, names)
	news := newChanges(warmChunks)
	go func() {
		defer close(warmDone)
		defer news.end()
		opt := client.SolveOpt{SharedSession: sess, SessionPreInitialized: true, FrontendAttrs: attrs, Internal: true}
		// The project as read here, rather than again through BuildKit: the session serves this very
		// folder as the build context and the project file's.
		ready := func() { close(warmed) }
		fn := frontend.WarmLocal(p, projectFS, warmChunks, ready, news.chunkSolved)
		if isFile(filepath.Join(dir, *file+".dockerignore")) {
			fn = frontend.Warm(warmChunks, ready, news.chunkSolved)
		}
		_, _ = c.Build(warmCtx, opt, "dazzlekit", fn, forward(news.seen))
	}()
	// What the tags hold now. A push sends every layer's HEAD request and the manifest, and BuildKit
	// records each layer's source, whether or not anything changed: in a project whose combinations
	// mostly did not change, that is most of a build's time. An image is the same when its manifest
	// digest is, so a combination whose tag holds a manifest is first built without a push, and
	// pushed only when its digest differs from the tag's; unless the head start shows a step of its
	// base or chunks running: its layers are new, and it is pushed from the start.
	held := make([]string, len(names))
	if *push {
		refs := make([]string, len(names))
		for i, name := range names {
			results[i].Name = *registry + ":" + name
			refs[i] = results[i].Name
		}
		held = heldDigests(ctx, refs, dockerConfig)
	}
	select {
	case <-warmed:
	case <-warmDone: // it ended before it could start anything
	}
	// The builds share the outcomes of the test batches they have in common (a chunk's tests, in every
	// combination holding it): each passed batch runs, or is read from the cache, once for all of them.
	shared := frontend.WithSharedTests(sharedCtx)
	var builds sync.WaitGroup
	for _, group := range sameImages(p, names) {
		first := group[0]
		opt := client.SolveOpt{
			SharedSession:         sess,
			SessionPreInitialized: true,
			FrontendAttrs:         withTarget(attrs, names[first]),
		}
		// pushTo exports to the tags of the group's combinations (whose tag is among want), pushed.
		pushTo := func(want func(i int) bool) client.SolveOpt {
			var tags []string
			for _, i := range group {
				if want(i) {
					tags = append(tags, results[i].Name)
				}
			}
			o := opt
			o.Exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": strings.Join(tags, ","), "push": "true"}}}
			return o
		}
		builds.Add(1)
		go func() {
			defer builds.Done()
			// Every combination of the group gets the group's outcome.
			done := func(digest string, err error, retries []string, unchanged func(i int) bool) {
				for _, i := range group {
					results[i].Digest, results[i].err, results[i].retries = digest, err, retries
					results[i].held = err == nil && unchanged != nil && unchanged(i)
				}
			}
			// solve runs one build of the group; seen, when set, is shown each status of it first.
			solve := func(opt client.SolveOpt, build gwclient.BuildFunc, seen func(*client.SolveStatus)) (*client.SolveResponse, error) {
				return c.Build(shared, opt, "dazzlekit", build, forward(seen))
			}
			// pushed builds the group into the tags of its combinations that want it, pushed, trying
			// again after a failed push.
			pushed := func(want func(i int) bool) (*client.SolveResponse, []string, error) {
				var retries []string
				for attempt := 1; ; attempt++ {
					resp, err := solve(pushTo(want), frontend.Build, nil)
					if err != nil && attempt < pushAttempts && isPushError(err) && ctx.Err() == nil {
						// Everything before the push is cached now, so another attempt only pushes.
						retries = append(retries, oneLine(err.Error()))
						continue
					}
					return resp, retries, err
				}
			}
			// pushedDone gives the group a push's outcome.
			pushedDone := func(resp *client.SolveResponse, retries []string, err error, unchanged func(i int) bool) {
				if err != nil {
					done("", err, retries, nil)
					return
				}
				done(resp.ExporterResponse[exptypes.ExporterImageDigestKey], nil, retries, unchanged)
			}
			if !*push {
				_, err := solve(opt, frontend.Build, nil)
				done("", err, nil, nil)
				return
			}
			if !slices.ContainsFunc(group, func(i int) bool { return held[i] != "" }) || news.changed(ctx, chunksOf(p, names[first:first+1])) {
				resp, retries, err := pushed(func(int) bool { return true })
				pushedDone(resp, retries, err, nil)
				return
			}
			// The same exporter without the push, for the digest the push would give. It is left out
			// of BuildKit's build history (buildx history, Docker Desktop's builds), as buildx leaves
			// out its own internal builds. BuildKit stores with every record the build's whole
			// progress stream and a provenance attestation: recording these probes took about half
			// of a build of 41 combinations where nothing changed (2.25 s against 1.14 s without,
			// medians of 3 runs), and a probe is no build a user asked for. A build that pushes is
			// recorded, as always.
			//
			// An image a step of whose base or chunks ran in the head start (news.changed, above) has
			// new layers: it is pushed from the start, with no probe. Editing one chunk of 8, 8
			// alternating runs each: 4.63 s against 4.89 s (medians), from the last step to the end
			// 0.86 s against 0.97 s, as the push's frontend no longer starts beside the merge; editing
			// lang-c of the CI-scale project, 9.8 s against 10.9 s (5 each), 14.3 against 15.9 core-s.
			//
			// Once the own layers of one of the image's chunks are computed anew (changedLayers), which a
			// change that runs no step may also show, the tags cannot hold the image either: the push
			// starts then, beside the probe, and shares its steps and tests (BuildKit runs an op once for
			// every build waiting on it, and the builds share their test outcomes); the probe ends
			// without exporting. In an edit of one chunk of a CI-scale project that took the probes'
			// exports off the end: a median of 9.0 s against 9.4 s, alternating 6 runs each.
			//
			// The probe is not cancelled for an earlier push (c8718f0 cancelled it once a chunk step
			// ran, and started the push then): buildkitd v0.34.2 then crashed in one of some 40 edits
			// of one chunk ("failed to get edge: inconsistent graph state" on the test runner's local
			// source, then a nil dereference in its scheduler; moby/buildkit#2303), for 0.05 s.
			var early struct {
				started atomic.Bool
				resp    *client.SolveResponse
				retries []string
				err     error
				done    chan struct{}
			}
			early.done = make(chan struct{})
			seen := func(st *client.SolveStatus) {
				if early.started.Load() || !slices.ContainsFunc(st.Vertexes, changedLayers) {
					return
				}
				if early.started.CompareAndSwap(false, true) {
					go func() {
						defer close(early.done)
						early.resp, early.retries, early.err = pushed(func(int) bool { return true })
					}()
				}
			}
			probe := func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
				res, err := frontend.Build(ctx, gw)
				if err == nil && early.started.Load() {
					return nil, errPushing
				}
				return res, err
			}
			check := opt
			check.Internal = true
			check.Exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{}}}
			resp, err := solve(check, probe, seen)
			if early.started.Load() {
				// The push decides: its build runs the same tests, and fails as the probe did when one fails.
				<-early.done
				pushedDone(early.resp, early.retries, early.err, nil)
				return
			}
			if err != nil {
				done("", err, nil, nil)
				return
			}
			d := resp.ExporterResponse[exptypes.ExporterImageDigestKey]
			unchanged := func(i int) bool { return held[i] == d }
			if !slices.ContainsFunc(group, func(i int) bool { return !unchanged(i) }) {
				done(d, nil, nil, unchanged)
				return
			}
			resp, retries, err := pushed(func(i int) bool { return !unchanged(i) })
			pushedDone(resp, retries, err, unchanged)
		}()
	}
	builds.Wait()
	stopWarm() // its steps are done: every build held them
	<-warmDone
	forwards.Wait()
	close(all)
	if err := <-displayed; err != nil {
		fmt.Fprintf(stderr, "dazzlekit build: progress: %v\n", err)
	}
	printWarnings(stderr, warnings)

	failed, unchanged := 0, 0
	byName := map[string]result{}
	for i, r := range results {
		if r.held {
			unchanged++
		}
		for _, why := range r.retries {
			fmt.Fprintf(stderr, "dazzlekit build: combination %s: pushed again after: %s\n", names[i], why)
		}
		if r.err != nil {
			failed++
			fmt.Fprintf(stderr, "dazzlekit build: combination %s: %s\n", names[i], frontend.ErrorText(r.err))
			continue
		}
		byName[names[i]] = r
		if r.Digest != "" {
			fmt.Fprintf(stdout, "%s@%s\n", r.Name, r.Digest)
		}
	}
	if unchanged > 0 {
		fmt.Fprintf(stderr, "dazzlekit build: %d of %d images were in the registry already, as built: not pushed again\n", unchanged, len(names))
	}
	if *metadata != "" {
		dt, err := json.MarshalIndent(byName, "", "  ")
		if err == nil {
			err = os.WriteFile(*metadata, append(dt, '\n'), 0o644)
		}
		if err != nil {
			return fail("writing --metadata-file: %v", err)
		}
	}
	if failed > 0 {
		return fail("%d of %d combinations failed", failed, len(names))
	}
	return 0
}

// sameImages groups names (indexes into it) by the image they build: combinations of the same chunks
// in the same order build one image (project.SameImageAs), so they build in one solve that tags every
// one of them, as its first combination. Groups are in the order of their first combination.
func sameImages(p *project.Project, names []string) [][]int {
	var groups [][]int
	at := map[string]int{}
	for i, n := range names {
		key := p.SameImageAs(n)
		if g, ok := at[key]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		at[key] = len(groups)
		groups = append(groups, []int{i})
	}
	return groups
}

// chunksOf lists the chunks of the named combinations, each once.
func chunksOf(p *project.Project, names []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, n := range names {
		chunks, _ := p.Combination(n) // validated when the project was loaded
		for _, ch := range chunks {
			if !seen[ch.Name] {
				seen[ch.Name] = true
				out = append(out, ch.Name)
			}
		}
	}
	return out
}

// errPushing ends a probe whose image is being pushed already: its layers are new (changedLayers).
var errPushing = errors.New("dazzlekit: the image changed and is being pushed; the probe has nothing to tell")

// changedLayers tells whether v, in the progress of a build, shows a chunk's own layers computed
// anew: the DiffOp of the chunk and the base ran rather than come from BuildKit's cache, so the
// image holding that chunk has layers that no registry holds yet (unless a rebuilt step made the
// very same files, timestamps included: then the push sends what the tag holds already).
func changedLayers(v *client.Vertex) bool {
	return v.Completed != nil && !v.Cached && v.Error == "" && merge.IsOwnLayers(v.Name)
}

// pushAttempts bounds the pushes of one combination. BuildKit can fail a push when several builds
// push images sharing layers at once ("provided digest did not match uploaded content", "unexpected
// commit digest": moby/buildkit#3856), and here every combination pushes at the same moment.
const pushAttempts = 3

func isPushError(err error) bool {
	return strings.Contains(err.Error(), "failed to push ")
}

// oneLine is a multi-line error (a registry's list of errors) on one line.
func oneLine(s string) string {
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// defaultRepository is localhost:5000/<the project folder's name>, as a registry accepts it.
func defaultRepository(absDir string) string {
	name := strings.Trim(regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(strings.ToLower(filepath.Base(absDir)), "-"), "-._")
	if name == "" {
		name = "dazzle"
	}
	return "localhost:5000/" + name
}

// pickCombinations returns the combinations to build in the project's order: the ones asked for, or
// every one.
func pickCombinations(p *project.Project, file string, asked []string) ([]string, error) {
	var known []string
	for _, c := range p.Config.Combinations {
		known = append(known, c.Name)
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("%s has no combinations: add one under `combiner: combinations:`", file)
	}
	if len(asked) == 0 {
		return known, nil
	}
	want := map[string]bool{}
	for _, a := range asked {
		for _, n := range strings.Split(a, ",") {
			if n = strings.TrimSpace(n); n != "" {
				want[n] = true
			}
		}
	}
	var names []string
	for _, n := range known {
		if want[n] {
			names = append(names, n)
			delete(want, n)
		}
	}
	if len(want) > 0 {
		var missing []string
		for n := range want {
			missing = append(missing, n)
		}
		sort.Strings(missing)
		return nil, fmt.Errorf("%s has no combination %s (it has: %s)", file, strings.Join(missing, ", "), strings.Join(known, ", "))
	}
	return names, nil
}

func rootOwned(_ string, st *fstypes.Stat) fsutil.MapResult {
	st.Uid, st.Gid = 0, 0
	return fsutil.MapResultKeep
}

func withTarget(attrs map[string]string, target string) map[string]string {
	m := make(map[string]string, len(attrs)+1)
	for k, v := range attrs {
		m[k] = v
	}
	m["target"] = target
	return m
}

// runnerFS is the test runner's local context: a folder holding only a file named
// frontend.RunnerFile. That is the dazzlekit-runner beside this binary (where the README's install,
// hack/test.sh and make bench put it), which starts faster in every test op; else this binary, which
// runs tests too. Images under test run it, so it has to be a static Linux executable.
func runnerFS() (fsutil.FS, func(), error) {
	cleanup := func() {}
	if runtime.GOOS != "linux" {
		return nil, nil, fmt.Errorf("the tests run this binary inside the images, so it must be a Linux build: use the frontend image (docker buildx bake) on %s", runtime.GOOS)
	}
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("finding this binary for the test runner: %v", err)
	}
	bin := exe
	if sibling := filepath.Join(filepath.Dir(exe), frontend.RunnerFile); isFile(sibling) {
		bin = sibling
	}
	if err := checkStatic(bin); err != nil {
		return nil, nil, err
	}
	dir := filepath.Dir(bin)
	if filepath.Base(bin) != frontend.RunnerFile {
		// Tests call the runner by that name; link or copy it under it, in a folder of its own.
		tmp, err := os.MkdirTemp("", "dazzlekit-runner-")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		if err := linkOrCopy(bin, filepath.Join(tmp, frontend.RunnerFile)); err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("preparing the test runner: %v", err)
		}
		dir = tmp
	}
	fs, err := fsutil.NewFS(dir)
	if err == nil {
		fs, err = fsutil.NewFilterFS(fs, &fsutil.FilterOpt{IncludePatterns: []string{frontend.RunnerFile}})
	}
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	return fs, cleanup, nil
}

func isFile(name string) bool {
	st, err := os.Stat(name)
	return err == nil && st.Mode().IsRegular()
}

// checkStatic refuses a dynamically linked runner: the images under test lack its libraries.
func checkStatic(bin string) error {
	f, err := elf.Open(bin)
	if err != nil {
		return fmt.Errorf("reading %s for the test runner: %v", bin, err)
	}
	dynamic := f.Section(".interp") != nil
	f.Close()
	if dynamic {
		return fmt.Errorf("%s is dynamically linked and the tests run it inside the images: build it with CGO_ENABLED=0", bin)
	}
	return nil
}

// linkOrCopy keeps the modification time on a copy, so that BuildKit, which compares a local
// context by name, size and time, does not take the copy of the same binary for a new runner.
func linkOrCopy(from, to string) error {
	if os.Link(from, to) == nil {
		return nil
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(to, st.ModTime(), st.ModTime())
}

// printWarnings prints each distinct warning once: the combinations of a project mostly share the
// chunks a warning is about.
func printWarnings(w io.Writer, warnings []client.VertexWarning) {
	seen := map[string]bool{}
	for _, vw := range warnings {
		key := string(vw.Short)
		if seen[key] {
			continue
		}
		seen[key] = true
		fmt.Fprintf(w, "WARNING: %s\n", vw.Short)
		for _, d := range vw.Detail {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}

// logSet drops log lines already shown. The solver runs a vertex the builds share once and streams its
// logs to every build holding it, so merged as they are here, a shared test's output would print once
// per combination.
type logSet struct {
	mu   sync.Mutex
	seen map[logKey]bool
}

type logKey struct {
	vertex string
	stream int
	at     int64
	sum    uint64
}

func (l *logSet) dedupe(s *client.SolveStatus) *client.SolveStatus {
	if len(s.Logs) == 0 {
		return s
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	kept := s.Logs[:0:0]
	for _, lg := range s.Logs {
		h := fnv.New64a()
		h.Write(lg.Data)
		k := logKey{vertex: lg.Vertex.String(), stream: lg.Stream, at: lg.Timestamp.UnixNano(), sum: h.Sum64()}
		if !l.seen[k] {
			l.seen[k] = true
			kept = append(kept, lg)
		}
	}
	out := *s
	out.Logs = kept
	return &out
}
