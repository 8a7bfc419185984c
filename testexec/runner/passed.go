package runner

import (
	"bufio"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// PassedDir is where a batch with Reuse keeps the results of the tests that passed, relative to the
// container's root: a BuildKit cache mount, shared by every test op of the daemon.
//
// Editing one test changes the batch op of every image holding it, and BuildKit reruns the whole
// op: every test of those images, where only the edited one changed. In gitpod's 41 combinations
// that is 290 tests for the 22 that changed (lang-node's first test, in 22 images). A test that
// passed in an image with the very same layers, with the same command, environment, assertions
// and runner, is the same test of the same files, which BuildKit's cache would answer had each test
// its own op: the runner answers it from here instead of running it again.
const PassedDir = ".dazzlekit/passed"

// passedVersion is part of every key: a runner that keeps other results, or judges otherwise,
// changes it and finds none of the older ones.
const passedVersion = "1"

// passedStore is a batch's view of PassedDir: the identity of the image and the runner, which
// every key starts from, or nil when they cannot be told apart from another's.
type passedStore struct {
	dir string
	id  string
}

// openPassed returns the store of root's batch, or nil (every test runs) when root has no PassedDir
// or its layers or the runner cannot be named.
func openPassed(root string) *passedStore {
	dir := filepath.Join(root, PassedDir)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil
	}
	layers, ok := rootLayers(root)
	if !ok {
		return nil
	}
	self, ok := runnerID()
	if !ok {
		return nil
	}
	return &passedStore{dir: dir, id: passedVersion + "\x00" + layers + "\x00" + self}
}

// rootLayers names the layers of the filesystem mounted at root: the lower directories of its
// overlayfs mount, as /proc/self/mountinfo shows them. BuildKit's overlayfs snapshotter mounts an
// exec op's root as the image's committed snapshots, which never change, under a writable layer of
// the op's own. Any other root (the native snapshotter's copy, a bind mount) has no name that
// changes with its files: no reuse. Var for tests.
var rootLayers = func(root string) (string, bool) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	layers, found := "", false
	for sc.Scan() {
		// id parent major:minor root mountpoint options [optional...] - fstype source superoptions
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, sup := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(sup) < 3 || fields[4] != root {
			continue
		}
		// The last mount at root is the one seen there.
		layers, found = "", false
		if sup[0] != "overlay" {
			continue
		}
		for _, o := range strings.Split(sup[2], ",") {
			if v, ok := strings.CutPrefix(o, "lowerdir="); ok && v != "" {
				layers, found = v, true
			}
		}
	}
	return layers, found && sc.Err() == nil
}

// runnerID names this runner's build: its Go build ID, which changes with its code. Var for tests.
var runnerID = func() (string, bool) {
	exe, err := os.Executable()
	if err != nil {
		return "", false
	}
	f, err := elf.Open(exe)
	if err != nil {
		return "", false
	}
	defer f.Close()
	s := f.Section(".note.go.buildid")
	if s == nil {
		return "", false
	}
	dt, err := s.Data()
	if err != nil || len(dt) == 0 {
		return "", false
	}
	return hex.EncodeToString(dt), true
}

// key is the name of t's result: the image, the runner, and everything of the test that reaches
// its command or its verdict. The test's name and place in the project file are left out: moved, or
// run in another combination of the same image, it is the same test.
func (p *passedStore) key(env []string, network bool, t BatchTest) string {
	env = slices.DeleteFunc(slices.Clone(env), tracing)
	h := sha256.New()
	_ = json.NewEncoder(h).Encode(struct {
		ID      string
		Env     []string
		Network bool
		Spec    Spec
		Assert  []string
	}{p.id, env, network, t.Spec, t.Assert})
	return hex.EncodeToString(h.Sum(nil))
}

// tracing tells the variables BuildKit puts in every container's environment for OpenTelemetry:
// TRACEPARENT names the op's own span, new each time it runs, and says nothing of the test.
func tracing(kv string) bool {
	k, _, _ := strings.Cut(kv, "=")
	return k == "TRACEPARENT" || k == "TRACESTATE" || strings.HasPrefix(k, "OTEL_")
}

// find returns the result kept under key, if any.
func (p *passedStore) find(key string) (Result, bool) {
	dt, err := os.ReadFile(filepath.Join(p.dir, key+".json"))
	if err != nil {
		return Result{}, false
	}
	var r Result
	if json.Unmarshal(dt, &r) != nil {
		return Result{}, false
	}
	return r, true
}

// keep stores r under key. The ops of a daemon share the directory, so the file appears whole or
// not at all. A result that cannot be kept is only run again next time.
func (p *passedStore) keep(key string, r Result) error {
	r.Reused = false
	dt, err := json.Marshal(r)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(p.dir, ".tmp-"+key)
	if err != nil {
		return err
	}
	_, err = tmp.Write(dt)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(p.dir, key+".json"))
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("keeping the result: %w", err)
	}
	return nil
}
