package testexec

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// execOf marshals st and returns its only exec op with its metadata.
func execOf(t *testing.T, st llb.State) (*pb.ExecOp, *pb.Op, llb.OpMetadata) {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var found *pb.Op
	var md llb.OpMetadata
	for _, b := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(b); err != nil {
			t.Fatal(err)
		}
		if op.GetExec() != nil {
			if found != nil {
				t.Fatal("more than one exec op")
			}
			found = &op
			sum := sha256.Sum256(b)
			for dgst, m := range def.Metadata {
				if string(dgst) == "sha256:"+hex.EncodeToString(sum[:]) {
					md = m
				}
			}
		}
	}
	if found == nil {
		t.Fatal("no exec op")
	}
	return found.GetExec(), found, md
}

func TestExec(t *testing.T) {
	rootfs := llb.Image("docker.io/library/node:20")
	rn := Runner{State: llb.Image("example.com/dazzlekit:latest"), Path: "/usr/bin/dazzlekit"}
	spec := Spec{
		Desc:    "it should run node",
		Argv:    []string{"bash", "-i", "-c", "node --version"},
		Env:     []string{"MESSAGE=foobar", "PATH=/custom/bin", "BARE"},
		User:    "1000",
		PTY:     true,
		Timeout: 5 * time.Minute,
	}
	imageEnv := []string{"PATH=/usr/local/bin:/usr/bin:/bin", "NODE_VERSION=20", "=ignored"}
	out := Exec(rootfs, imageEnv, "/home/node", rn, spec, "[test node] it should run node")

	ex, op, md := execOf(t, out)

	args := ex.Meta.Args
	if len(args) != 4 || args[0] != RunnerDir+"/dazzlekit" || args[1] != "run-test" || args[3] != OutDir {
		t.Fatalf("args = %q", args)
	}
	rs, err := runner.DecodeSpec(args[2])
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rs.Argv, spec.Argv) || rs.User != "1000" || !rs.PTY || rs.Timeout != 5*time.Minute {
		t.Errorf("run spec = %+v", rs)
	}

	// Image env first, then the test's; an overridden key takes the test's value.
	wantEnv := []string{"NODE_VERSION=20", "MESSAGE=foobar", "PATH=/custom/bin", "BARE="}
	if !slices.Equal(ex.Meta.Env, wantEnv) {
		t.Errorf("env = %q, want %q", ex.Meta.Env, wantEnv)
	}
	if ex.Meta.User != "0" || ex.Meta.Cwd != "/home/node" {
		t.Errorf("user %q cwd %q", ex.Meta.User, ex.Meta.Cwd)
	}
	if ex.Network != pb.NetMode_NONE {
		t.Errorf("network = %v", ex.Network)
	}
	if got := md.Description["llb.customname"]; got != "[test node] it should run node" {
		t.Errorf("custom name = %q", got)
	}

	mounts := map[string]*pb.Mount{}
	for _, m := range ex.Mounts {
		mounts[m.Dest] = m
	}
	if len(mounts) != 3 {
		t.Fatalf("mounts = %v", ex.Mounts)
	}
	if r := mounts[RunnerDir]; r == nil || !r.Readonly || r.Selector != "/usr/bin" || r.Output != int64(pb.SkipOutput) {
		t.Errorf("runner mount = %+v", r)
	}
	o := mounts[OutDir]
	if o == nil || o.Readonly || o.Input != int64(pb.Empty) || o.Output < 0 {
		t.Fatalf("output mount = %+v", o)
	}
	if root := mounts["/"]; root == nil || root.Readonly || root.Input < 0 {
		t.Errorf("root mount = %+v", root)
	}
	// The returned state is the output mount, not the root.
	if len(op.Inputs) != 2 {
		t.Errorf("inputs = %v", op.Inputs)
	}
	def, err := out.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var last pb.Op
	if err := last.UnmarshalVT(def.Def[len(def.Def)-1]); err != nil {
		t.Fatal(err)
	}
	if len(last.Inputs) != 1 || last.Inputs[0].Index != o.Output {
		t.Errorf("result points at output %d, want the output mount's %d", last.Inputs[0].Index, o.Output)
	}
}

func TestExecDefaults(t *testing.T) {
	rn := Runner{State: llb.Local("runner"), Path: "dazzlekit"}
	out := Exec(llb.Scratch(), nil, "", rn, Spec{Argv: []string{"/bin/true"}, Network: true}, "t",
		llb.IgnoreCache)
	ex, _, md := execOf(t, out)
	if ex.Network != pb.NetMode_UNSET || ex.Meta.Cwd != "/" || ex.Meta.Args[0] != RunnerDir+"/dazzlekit" {
		t.Errorf("exec = %+v", ex)
	}
	for _, m := range ex.Mounts {
		if m.Dest == RunnerDir && m.Selector != "/" {
			t.Errorf("runner selector = %q", m.Selector)
		}
	}
	if !md.IgnoreCache {
		t.Error("caller's options were not applied")
	}
	// Without image env the exec still gets BuildKit's default PATH, nothing else.
	for _, kv := range ex.Meta.Env {
		if !strings.HasPrefix(kv, "PATH=") {
			t.Errorf("unexpected env %q", kv)
		}
	}
}

func TestExecIsDeterministic(t *testing.T) {
	mk := func() []byte {
		st := Exec(llb.Image("alpine"), []string{"A=1", "B=2"}, "/w", Runner{State: llb.Image("r"), Path: "/r"},
			Spec{Argv: []string{"sh", "-c", "echo"}, Env: []string{"C=3"}, User: "nobody", Timeout: time.Minute}, "n")
		def, err := st.Marshal(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		// Op bytes are what BuildKit digests; metadata is a map and not part of the key.
		var b []byte
		for _, op := range def.Def {
			b = append(b, op...)
		}
		return b
	}
	if first, second := mk(), mk(); string(first) != string(second) {
		t.Error("same inputs gave different definitions, which defeats BuildKit's cache")
	}
}

func TestExecInvalidRunnerPath(t *testing.T) {
	for _, p := range []string{"", "/", "."} {
		st := Exec(llb.Image("alpine"), nil, "", Runner{State: llb.Scratch(), Path: p}, Spec{Argv: []string{"x"}}, "n")
		if _, err := st.Marshal(context.Background()); err == nil || !strings.Contains(err.Error(), "invalid runner path") {
			t.Errorf("path %q: marshal error = %v", p, err)
		}
	}
}

// A batch with Reuse mounts the daemon's one store of passed results, shared, outside the op's
// inputs; without it (ignoring the cache) there is no such mount.
func TestExecBatchReuse(t *testing.T) {
	rootfs := llb.Image("docker.io/library/node:20")
	rn := Runner{State: llb.Image("example.com/dazzlekit:latest"), Path: "/usr/bin/dazzlekit"}
	tests := []runner.BatchTest{{Name: "[test node] it should run node", Spec: runner.Spec{Argv: []string{"node", "--version"}}}}
	for _, reuse := range []bool{true, false} {
		exec, op, _ := execOf(t, ExecBatch(rootfs, nil, "/", rn, runner.Batch{Tests: tests, Reuse: reuse}, "n"))
		var cache []*pb.Mount
		for _, m := range exec.Mounts {
			if m.MountType == pb.MountType_CACHE {
				cache = append(cache, m)
			}
		}
		if !reuse {
			if len(cache) != 0 {
				t.Errorf("without reuse: cache mounts %v", cache)
			}
			continue
		}
		if len(cache) != 1 || cache[0].Dest != "/"+runner.PassedDir || cache[0].CacheOpt.GetID() != PassedCacheID ||
			cache[0].CacheOpt.GetSharing() != pb.CacheSharingOpt_SHARED || cache[0].Input != int64(pb.Empty) {
			t.Fatalf("with reuse: cache mounts %v", cache)
		}
		if len(op.Inputs) != 2 { // the image and the runner, nothing of the store
			t.Errorf("inputs %v", op.Inputs)
		}
		if !strings.Contains(exec.Meta.Args[2], `"Reuse":true`) {
			t.Errorf("the batch spec %s does not ask for reuse", exec.Meta.Args[2])
		}
	}
}
