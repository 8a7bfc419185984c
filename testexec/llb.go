// Package testexec turns one dazzle test into a BuildKit exec op that runs
// the in-image runner (package runner) in the image under test. Judging the
// result is package assert's job.
package testexec

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// Where the exec op mounts the runner and where the runner writes its results,
// a mount of its own. A
// dot-directory under the root is unlikely to exist in any image, and the
// exec's root is never part of an image, so the image's layers never see them.
const (
	RunnerDir = "/.dazzlekit/runner"
	OutDir    = "/.dazzlekit/out"
)

// Runner says where the runner binary comes from: a state whose filesystem
// holds it at Path (e.g. the frontend's own image via CurrentFrontend(), path
// "/dazzlekit", or a local context holding a static build).
type Runner struct {
	State llb.State
	Path  string
}

// Spec is one test as the exec op needs it.
type Spec struct {
	Desc    string
	Argv    []string // entrypoint + command
	Env     []string // test env "K=V", applied on top of the image env (later wins)
	User    string
	PTY     bool // true when the test sets an entrypoint (dazzle compatibility)
	Network bool // false -> no network
	Timeout time.Duration
}

// Exec returns the state of the writable output directory where the runner
// writes result.json.
//
// rootfs is the image under test; env and workdir are its config, passed
// explicitly because a merged image's state carries no env. The exec runs as
// root so the runner can write its output mount; the runner itself drops to
// s.User. The root mount's changes are discarded: only the output mount is
// returned. opts are applied last, so they can override anything set here.
//
// An invalid r.Path yields a state whose marshalling fails with an error
// naming it.
func Exec(rootfs llb.State, env []string, workdir string, r Runner, s Spec, name string, opts ...llb.RunOption) llb.State {
	bin := path.Clean("/" + r.Path)
	if r.Path == "" || bin == "/" {
		return failedState(fmt.Errorf("test %q: invalid runner path %q", s.Desc, r.Path))
	}
	dir, base := path.Dir(bin), path.Base(bin)

	st := rootfs
	for _, kv := range env {
		st = addEnv(st, kv)
	}
	for _, kv := range s.Env {
		st = addEnv(st, kv)
	}
	wd := "/"
	if workdir != "" {
		wd = path.Clean("/" + workdir)
	}
	network := pb.NetMode_NONE
	if s.Network {
		network = pb.NetMode_UNSET
	}

	// Only the command's inputs go into the op, so BuildKit can reuse a
	// result as long as the image, the runner and the test are unchanged.
	spec := runner.Spec{Argv: s.Argv, User: s.User, PTY: s.PTY, Timeout: s.Timeout}
	ro := []llb.RunOption{
		llb.Args([]string{path.Join(RunnerDir, base), runner.Command, spec.Encode(), OutDir}),
		llb.Dir(wd),
		llb.User("0"),
		llb.Network(network),
		llb.AddMount(RunnerDir, r.State, llb.SourcePath(dir), llb.Readonly),
		llb.WithCustomName(name),
	}
	ro = append(ro, opts...)
	return st.Run(ro...).AddMount(OutDir, llb.Scratch())
}

// addEnv applies one "K=V" entry; a bare "K" sets K to the empty string, as
// there is no outer environment to inherit it from.
func addEnv(st llb.State, kv string) llb.State {
	k, v, _ := strings.Cut(kv, "=")
	if k == "" {
		return st
	}
	return st.AddEnv(k, v)
}

func failedState(err error) llb.State {
	return llb.Scratch().Async(func(context.Context, llb.State, *llb.Constraints) (llb.State, error) {
		return llb.State{}, err
	})
}

// PassedCacheID is the cache mount that batches with Reuse keep their passed results in
// (runner.PassedDir): one for the daemon, shared by every test op at once.
const PassedCacheID = "dazzlekit-passed-tests"

// ExecBatch returns the output mount of the container that runs b's tests with `run-tests`, where
// the runner writes runner.BatchResultFile: the results, and whether a test changed the root. env
// is the image's environment; each test's own travels in its BatchTest and is applied by the
// runner. All tests of a batch share network mode: it is the op's. With b.Reuse the op mounts the
// results of the tests that passed before (PassedCacheID), which are no input of the op: BuildKit's
// cache key stays that of the image, the runner and the tests.
func ExecBatch(rootfs llb.State, env []string, workdir string, r Runner, b runner.Batch, name string, opts ...llb.RunOption) llb.State {
	bin := path.Clean("/" + r.Path)
	if r.Path == "" || bin == "/" {
		return failedState(fmt.Errorf("invalid runner path %q", r.Path))
	}
	dir, base := path.Dir(bin), path.Base(bin)
	st := rootfs
	for _, kv := range env {
		st = addEnv(st, kv)
	}
	wd := "/"
	if workdir != "" {
		wd = path.Clean("/" + workdir)
	}
	mode := pb.NetMode_NONE
	if b.Network {
		mode = pb.NetMode_UNSET
	}
	ro := []llb.RunOption{
		llb.Args([]string{path.Join(RunnerDir, base), runner.BatchCommand, b.Encode(), OutDir}),
		llb.Dir(wd),
		llb.User("0"),
		llb.Network(mode),
		llb.AddMount(RunnerDir, r.State, llb.SourcePath(dir), llb.Readonly),
		llb.WithCustomName(name),
	}
	if b.Reuse {
		ro = append(ro, llb.AddMount("/"+runner.PassedDir, llb.Scratch(), llb.AsPersistentCacheDir(PassedCacheID, llb.CacheMountShared)))
	}
	ro = append(ro, opts...)
	return st.Run(ro...).AddMount(OutDir, llb.Scratch())
}
