package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/frontend"
	"github.com/dazzlekit/dazzlekit/internal/registry"
	"github.com/dazzlekit/dazzlekit/project"
	controlapi "github.com/moby/buildkit/api/services/control"
)

// runSplit runs a command and returns its stdout and stderr apart.
func runSplit(t *testing.T, dir, name string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// buildSetup is what a dazzlekit build test starts from: the stack, the static binary, a copy of the
// devtools example and a repository of the test's own.
func buildSetup(t *testing.T) (e env, bin, dir, repo string) {
	t.Helper()
	e = stack(t)
	if e.runner == "" {
		t.Fatal("needs DAZZLEKIT_RUNNER_DIR (hack/test.sh sets it)")
	}
	return e, filepath.Join(e.runner, "dazzlekit"), copyProject(t, exampleDir("devtools")), strings.TrimSuffix(e.ref(t, "x"), ":x")
}

// addMinimalAgain adds a combination of the same chunks as minimal, under another name: the same image.
func addMinimalAgain(t *testing.T, dir string) {
	t.Helper()
	config := filepath.Join(dir, "dazzle.yaml")
	dt, err := os.ReadFile(config)
	if err != nil {
		t.Fatal(err)
	}
	full := "      chunks: [\"lang:2\", tool, cleanup]\n"
	if !bytes.Contains(dt, []byte(full)) {
		t.Fatalf("the example's dazzle.yaml changed:\n%s", dt)
	}
	dt = bytes.Replace(dt, []byte(full), []byte(full+"    - name: minimal-again\n      ref: [minimal]\n"), 1)
	if err := os.WriteFile(config, dt, 0o644); err != nil {
		t.Fatal(err)
	}
}

// `dazzlekit build` builds and pushes every combination with the frontend in its own process (no
// frontend image), tests included, and names what it pushed.
func TestBuildCommandEveryCombination(t *testing.T) {
	e, bin, dir, repo := buildSetup(t)
	meta := filepath.Join(t.TempDir(), "metadata.json")
	// A test of its own, so the tests run rather than come from an earlier run's cache.
	unique := fmt.Sprintf("it should run for %s", filepath.Base(repo))
	f, err := os.OpenFile(filepath.Join(dir, "tests", "hello.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fmt.Fprintf(f, "- desc: %q\n  command: [\"true\"]\n  assert:\n    - status == 0\n", unique)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	addMinimalAgain(t, dir)
	// A Dockerfile warning, told by the conversion the builds share: once, as each build's own.
	dockerfile := filepath.Join(dir, "chunks", "tool", "Dockerfile")
	dt, err := os.ReadFile(dockerfile)
	if err == nil {
		err = os.WriteFile(dockerfile, append([]byte("# syntax=docker/dockerfile:1.4\n"), dt...), 0o644)
	}
	if err != nil {
		t.Fatal(err)
	}

	stdout, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo,
		"--build-arg", "REGISTRY="+e.registry, "--progress=plain", "--metadata-file", meta)
	if err != nil {
		t.Fatalf("dazzlekit build: %v\n%s", err, stderr)
	}
	// One line per combination, in the project's order, each naming the manifest the registry holds.
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) != 3 {
		t.Fatalf("stdout has %d lines, want one per combination:\n%s", len(lines), stdout)
	}
	if n := strings.Count(stderr, "WARNING: SyntaxDirectiveIgnored: chunks/tool/Dockerfile:1: the frontend docker/dockerfile:1.4 is not used"); n != 1 {
		t.Errorf("the warning of chunks/tool/Dockerfile shows %d times, want once:\n%s", n, stderr)
	}
	var recorded map[string]struct {
		Name   string `json:"image.name"`
		Digest string `json:"containerimage.digest"`
	}
	dt, err = os.ReadFile(meta)
	if err == nil {
		err = json.Unmarshal(dt, &recorded)
	}
	if err != nil {
		t.Fatalf("--metadata-file: %v\n%s", err, dt)
	}
	digests := map[string]string{}
	for i, comb := range []string{"minimal", "full", "minimal-again"} {
		img := image(t, repo+":"+comb)
		digests[comb] = img.Digest
		if want := repo + ":" + comb + "@" + img.Digest; lines[i] != want {
			t.Errorf("stdout line %d is %q, want %q", i+1, lines[i], want)
		}
		if r := recorded[comb]; r.Name != repo+":"+comb || r.Digest != img.Digest {
			t.Errorf("metadata for %s is %+v, want %s at %s", comb, r, repo+":"+comb, img.Digest)
		}
	}
	if digests["minimal-again"] != digests["minimal"] {
		t.Errorf("minimal-again is %s, minimal %s: combinations of the same chunks differ", digests["minimal-again"], digests["minimal"])
	}
	for comb, want := range map[string][]string{
		"minimal": {"hello"},
		"full":    {"cleanup", "hello", "lang:2", "tool"},
	} {
		if got := owners(t, repo+":"+comb); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s:%s has the layers of %v, want %v", repo, comb, got, want)
		}
	}
	// The tests ran in both combination images, with this binary as their runner.
	// One session for both builds: the project is one source vertex, synced once, not once per combination.
	for _, name := range []string{"load build definition from dazzle.yaml", "load build context", "load test runner"} {
		ids := map[string]bool{}
		for _, m := range regexp.MustCompile(`(?m)^#(\d+) \[internal\] `+regexp.QuoteMeta(name)+`$`).FindAllStringSubmatch(stderr, -1) {
			ids[m[1]] = true
		}
		if len(ids) != 1 {
			t.Errorf("the progress has %d vertices %q, want one for both combinations:\n%s", len(ids), name, stderr)
		}
	}
	// Each once: every build holds the hello chunk's test op, which the solver runs once and streams
	// to all; minimal-again's image is minimal's, whose tests run once, in the ops named for minimal.
	for want, n := range map[string]int{
		"=== RUN   [test minimal] " + unique:       1,
		"=== RUN   [test full] " + unique:          1,
		"=== RUN   [test hello] " + unique:         1,
		"=== RUN   [test minimal-again] " + unique: 0,
	} {
		if got := strings.Count(stderr, want); got != n {
			t.Errorf("the progress has %q %d times, want %d:\n%s", want, got, n, stderr)
		}
	}
}

// A name that is not a combination, and a combination whose test fails, are errors a person can act on;
// a failed combination is not pushed.
func TestBuildCommandErrors(t *testing.T) {
	e, bin, dir, repo := buildSetup(t)

	_, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo, "--combination", "minimal,nope")
	if err == nil {
		t.Fatal("an unknown combination built")
	}
	if want := "dazzlekit build: dazzle.yaml has no combination nope (it has: minimal, full)\n"; stderr != want {
		t.Errorf("stderr is %q, want %q", stderr, want)
	}

	hello := filepath.Join(dir, "tests", "hello.yaml")
	dt, err := os.ReadFile(hello)
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(dt), `"hello from dazzlekit"`, `"goodbye from dazzlekit"`, 1)
	if broken == string(dt) {
		t.Fatal("the example's hello test changed; update this test")
	}
	if err := os.WriteFile(hello, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	// Both combinations hold the hello chunk, whose tests the builds share when they pass: a failure
	// fails each of them.
	stdout, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo,
		"--build-arg", "REGISTRY="+e.registry, "--progress=plain", "--combination", "minimal,full")
	if err == nil {
		t.Fatalf("a failing test passed the build:\n%s", stderr)
	}
	for _, want := range []string{
		"dazzlekit build: combination minimal: ",
		"dazzlekit build: combination full: ",
		`it should greet`,
		`stdout.indexOf("goodbye from dazzlekit") != -1`,
		"dazzlekit build: 2 of 2 combinations failed\n",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr has no %q:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Errorf("stdout names an image although the build failed: %q", stdout)
	}
	for _, comb := range []string{"minimal", "full"} {
		if _, err := registry.Get(repo + ":" + comb); err == nil {
			t.Errorf("%s:%s was pushed although its test failed", repo, comb)
		}
	}
}

// An image the registry holds already, as built, is not pushed again; a tag that holds anything else
// is pushed as always. What the registry holds afterwards is the same either way. minimal-again builds
// minimal's image, in minimal's solve, which pushes to whichever of the two tags needs it.
func TestBuildCommandSkipsHeldImages(t *testing.T) {
	e, bin, dir, repo := buildSetup(t)
	addMinimalAgain(t, dir)
	since := time.Now()
	build := func() (string, string) {
		t.Helper()
		stdout, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo,
			"--build-arg", "REGISTRY="+e.registry, "--progress=plain")
		if err != nil {
			t.Fatalf("dazzlekit build: %v\n%s", err, stderr)
		}
		return stdout, stderr
	}
	pushed := func(stderr string) (tags []string) {
		for _, m := range regexp.MustCompile(`pushing manifest for `+regexp.QuoteMeta(repo)+`:([a-z-]+)@`).FindAllStringSubmatch(stderr, -1) {
			tags = append(tags, m[1])
		}
		slices.Sort(tags)
		return slices.Compact(tags)
	}
	first, stderr := build()
	if got, want := pushed(stderr), []string{"full", "minimal", "minimal-again"}; !slices.Equal(got, want) || strings.Contains(stderr, "not pushed again") {
		t.Fatalf("the first build, to an empty repository, pushed %q, want %q:\n%s", got, want, stderr)
	}
	// Asking the registry about tags it does not hold is no news: nothing about it on stderr.
	if strings.Contains(stderr, "fetch failed") || strings.Contains(stderr, "level=") {
		t.Errorf("the first build logged its look-ups of absent tags:\n%s", stderr)
	}
	digest := func(comb string) string { return image(t, repo+":"+comb).Digest }
	minimal, full := digest("minimal"), digest("full")
	if got := digest("minimal-again"); got != minimal {
		t.Fatalf("%s:minimal-again is %s, want minimal's %s", repo, got, minimal)
	}

	// Every build that pushed is in BuildKit's history, under its tags, and no probe of what the
	// registry holds is: the second build pushes nothing, so it records nothing of this repository.
	digests := []string{minimal, full}
	if got := e.recordedBuilds(t, since, repo, digests); len(got) != 2 {
		t.Errorf("BuildKit's history holds %d builds of %s after the first build, want 2 (minimal's image, full's): %q", len(got), repo, got)
	}
	again, stderr := build()
	if got := e.recordedBuilds(t, since, repo, digests); len(got) != 2 {
		t.Errorf("BuildKit's history holds %d builds of %s after a build that pushed nothing, want the first build's 2: %q", len(got), repo, got)
	}
	if want := "dazzlekit build: 3 of 3 images were in the registry already, as built: not pushed again\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr has no %q:\n%s", want, stderr)
	}
	if strings.Contains(stderr, "pushing ") {
		t.Errorf("the second build pushed:\n%s", stderr)
	}
	if again != first {
		t.Errorf("the second build printed\n%s\nthe first\n%s", again, first)
	}

	// full's tag now holds minimal's manifest, minimal-again's full's: both are pushed again, minimal not.
	if err := registry.Tag(repo+":minimal", "full"); err != nil {
		t.Fatal(err)
	}
	if err := registry.Tag(repo+"@"+full, "minimal-again"); err != nil {
		t.Fatal(err)
	}
	if digest("full") != minimal || digest("minimal-again") != full {
		t.Fatal("retagging did not take")
	}
	third, stderr := build()
	if want := "dazzlekit build: 1 of 3 images were in the registry already, as built: not pushed again\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr has no %q:\n%s", want, stderr)
	}
	if got, want := pushed(stderr), []string{"full", "minimal-again"}; !slices.Equal(got, want) {
		t.Errorf("pushed %q, want %q:\n%s", got, want, stderr)
	}
	if third != first {
		t.Errorf("the third build printed\n%s\nthe first\n%s", third, first)
	}
	if got := e.recordedBuilds(t, since, repo, digests); len(got) != 4 {
		t.Errorf("BuildKit's history holds %d builds of %s after the third build, want 4 (2 more, one per push): %q", len(got), repo, got)
	}
	for comb, want := range map[string]string{"full": full, "minimal": minimal, "minimal-again": minimal} {
		if got := digest(comb); got != want {
			t.Errorf("%s:%s is %s after the build, want %s", repo, comb, got, want)
		}
	}

	// A chunk of full's changes, and its test with it: full's new image is pushed (from the start,
	// with no probe, as the chunk's step runs in the head start), minimal's tags are left alone.
	setTool := func(built, expected string) {
		t.Helper()
		for file, pair := range map[string][2]string{
			"chunks/tool/Dockerfile": {`echo "tool built in a separate stage"`, `echo "` + built + `"`},
			"tests/tool.yaml":        {`stdout == "tool built in a separate stage\n"`, `stdout == "` + expected + `\n"`},
		} {
			path := filepath.Join(dir, file)
			dt, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			changed := strings.Replace(string(dt), pair[0], pair[1], 1)
			if changed == string(dt) {
				t.Fatalf("the example's %s changed; update this test", file)
			}
			if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	original, err := os.ReadFile(filepath.Join(dir, "chunks/tool/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	originalTest, err := os.ReadFile(filepath.Join(dir, "tests/tool.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// New in every run, so that the chunk's step runs rather than come from BuildKit's cache.
	v2, v3 := fmt.Sprintf("tool v2 %d", time.Now().UnixNano()), fmt.Sprintf("tool v3 %d", time.Now().UnixNano())
	setTool(v2, v2)
	fourth, stderr := build()
	// No build is cancelled: the progress shows nothing of a cancellation.
	if strings.Contains(strings.ToLower(stderr), "cancel") {
		t.Errorf("the progress shows a cancellation:\n%s", stderr)
	}
	if want := "dazzlekit build: 2 of 3 images were in the registry already, as built: not pushed again\n"; !strings.Contains(stderr, want) {
		t.Errorf("stderr has no %q:\n%s", want, stderr)
	}
	if got, want := pushed(stderr), []string{"full"}; !slices.Equal(got, want) {
		t.Errorf("pushed %q, want %q:\n%s", got, want, stderr)
	}
	full2 := digest("full")
	if full2 == full || !strings.Contains(fourth, repo+":full@"+full2+"\n") {
		t.Errorf("%s:full is %s after its chunk changed (before: %s); the build printed\n%s", repo, full2, full, fourth)
	}
	if digest("minimal") != minimal || digest("minimal-again") != minimal {
		t.Errorf("minimal's tags changed with a chunk it does not hold")
	}

	// The chunk changes again but its test still expects v2: full fails and its tag keeps v2,
	// although its build was a push from the start.
	if err := os.WriteFile(filepath.Join(dir, "chunks/tool/Dockerfile"), original, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "tests/tool.yaml"), originalTest, 0o644); err != nil {
		t.Fatal(err)
	}
	setTool(v3, v2)
	stdout, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo,
		"--build-arg", "REGISTRY="+e.registry, "--progress=plain")
	if err == nil {
		t.Fatalf("a failing test passed the build:\n%s", stderr)
	}
	for _, want := range []string{"dazzlekit build: combination full: ", `stdout == "` + v2 + `\n"`, "dazzlekit build: 1 of 3 combinations failed\n"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr has no %q:\n%s", want, stderr)
		}
	}
	if got := pushed(stderr); len(got) != 0 {
		t.Errorf("pushed %q although full's test failed:\n%s", got, stderr)
	}
	if strings.Contains(stdout, ":full@") {
		t.Errorf("stdout names full although its test failed:\n%s", stdout)
	}
	if got := digest("full"); got != full2 {
		t.Errorf("%s:full is %s after a build whose test failed, want v2's %s", repo, got, full2)
	}
}

// --push=false builds and tests every combination and pushes nothing: no name on stdout, no tag.
func TestBuildCommandNoPush(t *testing.T) {
	e, bin, dir, repo := buildSetup(t)
	stdout, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo, "--push=false",
		"--build-arg", "REGISTRY="+e.registry, "--progress=plain")
	if err != nil {
		t.Fatalf("dazzlekit build --push=false: %v\n%s", err, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout names images although nothing was pushed: %q", stdout)
	}
	for _, want := range []string{"[test minimal] ", "[test full] "} {
		if !strings.Contains(stderr, want) {
			t.Errorf("the progress has no %q: the build holds no test op\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "pushing ") || strings.Contains(stderr, "not pushed again") {
		t.Errorf("--push=false pushed or looked at the registry:\n%s", stderr)
	}
	for _, comb := range []string{"minimal", "full"} {
		if _, err := registry.Get(repo + ":" + comb); err == nil {
			t.Errorf("%s:%s exists after --push=false", repo, comb)
		}
	}
}

// recordedBuilds lists the builds in BuildKit's history (as buildx history shows it) since a time
// that exported one of digests or pushed to repo: each as its exporter's name, or the digest it
// exported. The integration tests run one at a time, and no other package builds what they build.
func (e env) recordedBuilds(t *testing.T, since time.Time, repo string, digests []string) []string {
	t.Helper()
	ctx, c := e.dial(t, time.Minute)
	var out []string
	for _, ev := range buildHistory(ctx, t, c, &controlapi.BuildHistoryRequest{EarlyExit: true}) {
		rec := ev.Record
		if rec == nil || ev.Type == controlapi.BuildHistoryEventType_DELETED || rec.CreatedAt.AsTime().Before(since) {
			continue
		}
		what := ""
		for _, exp := range rec.Exporters {
			if n := exp.Attrs["name"]; strings.HasPrefix(n, repo+":") {
				what = n
			}
		}
		if res := rec.Result; what == "" && res != nil {
			descs := []*controlapi.Descriptor{res.ResultDeprecated}
			for _, d := range res.Results {
				descs = append(descs, d)
			}
			for _, d := range descs {
				if d != nil && slices.Contains(digests, d.Digest) {
					what = d.Digest
				}
			}
		}
		if what != "" {
			out = append(out, what)
		}
	}
	slices.Sort(out)
	return out
}

// frontend.Warm, dazzlekit build's head start, builds the chunks it is given, each on the base and
// as every build of the project converts them, and nothing else: no merge, no test, no export. It
// says it is ready once, before it sends them, whether it then succeeds or fails. WarmLocal, which
// dazzlekit build runs, does the same with the project it is given, read from the folder the
// session serves, rather than read through BuildKit.
func TestWarm(t *testing.T) {
	for _, local := range []bool{false, true} {
		t.Run(map[bool]string{false: "read through BuildKit", true: "read by the caller"}[local], func(t *testing.T) { testWarm(t, local) })
	}
}

func testWarm(t *testing.T, local bool) {
	e := stack(t)
	dir := copyProject(t, exampleDir("devtools"))
	repo := strings.TrimSuffix(e.ref(t, "x"), ":x")
	unique := filepath.Base(repo) // so the step is new to the cache
	appendFile(t, filepath.Join(dir, "chunks", "tool", "Dockerfile"), "RUN echo "+unique+" > /tmp/tool-warmed\n")

	var mu sync.Mutex
	var solved []string
	warm := func(chunks ...string) (p *progress, ready int, at time.Time, err error) {
		solved = nil
		isReady := func() { ready++; at = time.Now() }
		isSolved := func(ch string) {
			mu.Lock()
			solved = append(solved, ch)
			mu.Unlock()
		}
		fn := frontend.Warm(chunks, isReady, isSolved)
		if local {
			files := os.DirFS(dir)
			data, err := fs.ReadFile(files, "dazzle.yaml")
			if err != nil {
				t.Fatal(err)
			}
			proj, err := project.Load(files, "dazzle.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			fn = frontend.WarmLocal(proj, files, chunks, isReady, isSolved)
		}
		p, err = e.build(t, dir, buildOpts{fn: fn})
		return p, ready, at, err
	}
	p, ready, at, err := warm("tool", "hello")
	if err != nil {
		t.Fatalf("warm: %s", errText(err))
	}
	if ready != 1 {
		t.Errorf("ready was called %d times, want once", ready)
	}
	// Each chunk is told built once, which is what dazzlekit build waits for before it probes.
	if slices.Sort(solved); !slices.Equal(solved, []string{"hello", "tool"}) {
		t.Errorf("solved was called for %q, want hello and tool once each", solved)
	}
	step := "RUN echo " + unique + " > /tmp/tool-warmed"
	if got := p.ran(step); len(got) != 1 || !strings.HasPrefix(got[0], "[chunk tool ") {
		t.Errorf("the progress ran %q as %q, want once, as the tool chunk's: %q", step, got, p.names())
	}
	for _, v := range p.vertices {
		if strings.Contains(v.Name, step) && v.Started.Before(at) {
			t.Errorf("%q started at %s, before ready (%s)", step, v.Started, at)
		}
		for _, not := range []string{"[combine", "[test", "own layers", "exporting"} {
			if strings.Contains(v.Name, not) {
				t.Errorf("the head start ran %q: it builds chunks only", v.Name)
			}
		}
	}
	// The builds find the chunk's step done: it is the same vertex.
	b := e.mustBuild(t, dir, map[string]string{"target": "full"}, "")
	if !slices.ContainsFunc(b.names(), func(n string) bool { return strings.Contains(n, step) }) {
		t.Fatalf("the build of full has no %q: %q", step, b.names())
	}
	if got := b.ran(step); len(got) != 0 {
		t.Errorf("the build of full ran %q again after the head start", step)
	}

	// A failing step fails it with the step's error, ready or not; dazzlekit build reports that
	// failure as each combination's own and says nothing of the head start.
	appendFile(t, filepath.Join(dir, "chunks", "hello", "Dockerfile"), "RUN echo "+unique+" && false\n")
	_, ready, _, err = warm("tool", "hello")
	if err == nil || !strings.Contains(errText(err), "echo "+unique+" && false") {
		t.Errorf("warm of a failing chunk: %v, want the failing step's error", err)
	}
	if ready != 1 {
		t.Errorf("ready was called %d times for the failing chunk, want once", ready)
	}
	if slices.Contains(solved, "hello") {
		t.Errorf("solved was called for hello, whose step failed: %q", solved)
	}
	_, ready, _, err = warm("nope")
	if err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("warm of an unknown chunk: %v, want an error naming it", err)
	}
	if ready != 1 {
		t.Errorf("ready was called %d times for an unknown chunk, want once", ready)
	}
	if !local {
		return // dazzlekit build runs WarmLocal
	}
	bin := filepath.Join(e.runner, "dazzlekit")
	_, stderr, err := runSplit(t, dir, bin, "build", "--addr", e.host, "--registry", repo,
		"--build-arg", "REGISTRY="+e.registry, "--progress=plain")
	if err == nil {
		t.Fatalf("a failing step passed dazzlekit build:\n%s", stderr)
	}
	var errs []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "dazzlekit build: ") {
			errs = append(errs, l)
		}
	}
	if len(errs) != 3 || !strings.HasPrefix(errs[0], "dazzlekit build: combination minimal: ") ||
		!strings.HasPrefix(errs[1], "dazzlekit build: combination full: ") || errs[2] != "dazzlekit build: 2 of 2 combinations failed" {
		t.Errorf("dazzlekit build's errors are %q, want one per combination and the count", errs)
	}
	for _, l := range errs[:min(2, len(errs))] {
		if !strings.Contains(l, "echo "+unique+" && false") {
			t.Errorf("%q does not name the failing step", l)
		}
	}
}

// The tests of `dazzlekit build` run in the dazzlekit-runner beside the binary, which starts faster,
// and in the binary itself when it stands alone. A test of the project tells which by the size of
// the runner the test op runs (its first process's /proc/1/exe is not for the tests to read).
func TestBuildCommandRunner(t *testing.T) {
	e, bin, _, repo := buildSetup(t)
	alone := filepath.Join(t.TempDir(), "dk")
	dt, err := os.ReadFile(bin)
	if err == nil {
		err = os.WriteFile(alone, dt, 0o755)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, bin, runner string
	}{
		{"beside", bin, filepath.Join(e.runner, "dazzlekit-runner")},
		{"alone", alone, alone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := os.Stat(tc.runner)
			if err != nil {
				t.Fatal(err)
			}
			dir := copyProject(t, exampleDir("devtools"))
			f, err := os.OpenFile(filepath.Join(dir, "tests", "hello.yaml"), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			// The repository's name, sh's $0, keeps the op from an earlier run's cache.
			_, err = fmt.Fprintf(f, "- desc: \"the runner is %[1]d bytes\"\n  command: [sh, -c, \"wc -c < /.dazzlekit/runner/dazzlekit-runner\", %[2]q]\n  assert:\n    - stdout.trim() == \"%[1]d\"\n", st.Size(), filepath.Base(repo)+"-"+tc.name)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			_, stderr, err := runSplit(t, dir, tc.bin, "build", "--addr", e.host, "--registry", repo+"-"+tc.name,
				"--build-arg", "REGISTRY="+e.registry, "--progress=plain", "--combination", "minimal")
			if err != nil {
				t.Fatalf("dazzlekit build: %v\n%s", err, stderr)
			}
			want := fmt.Sprintf("--- PASS  [test minimal] the runner is %d bytes", st.Size())
			if !strings.Contains(stderr, want) {
				t.Errorf("the progress lacks %q:\n%s", want, stderr)
			}
		})
	}
}
