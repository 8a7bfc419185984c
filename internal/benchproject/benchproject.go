// Package benchproject is the project the daemon-less benchmarks build (llbgen, frontend), and a
// gateway client that answers a frontend from memory, so that they measure the frontend's own work.
package benchproject

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"
	"testing/fstest"
	"time"

	"github.com/dazzlekit/dazzlekit/testexec/runner"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	fstypes "github.com/tonistiigi/fsutil/types"
	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
)

// The size of a large real dazzle project, rounded up: 100 chunks and 50 combinations.
const (
	Chunks       = 100
	Combinations = 50
	ConfigFile   = "dazzle.yaml"
)

// Files is a project shaped like the ones hack/bench.sh builds, with many more chunks; the
// configuration is both in the file system and returned apart, as project.Load takes it.
//
// Each combination takes a different slice of chunks and refers to its predecessor, as real
// projects layer "full" on "minimal": comb00 has 10 chunks, and from comb09 on every combination
// has all 100 through its `ref:` chain.
func Files() (fstest.MapFS, []byte) {
	files := fstest.MapFS{}
	files["base/Dockerfile"] = &fstest.MapFile{Data: []byte("FROM registry.example/busybox:latest\n" +
		"RUN mkdir -p /opt/base && echo base > /opt/base/version\nENV BENCH_BASE=/opt/base\n")}
	var y strings.Builder
	y.WriteString("combiner:\n  combinations:\n")
	for i := 0; i < Combinations; i++ {
		var names []string
		for j := i; j < Chunks; j += Combinations / 5 {
			names = append(names, ChunkName(j))
		}
		fmt.Fprintf(&y, "    - name: %s\n      chunks: [%s]\n", CombinationName(i), strings.Join(names, ", "))
		if i > 0 {
			fmt.Fprintf(&y, "      ref: [%s]\n", CombinationName(i-1))
		}
	}
	y.WriteString("  envvars:\n    - name: PATH\n      action: merge-unique\n")
	for i := 0; i < Chunks; i++ {
		c := ChunkName(i)
		files["chunks/"+c+"/Dockerfile"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`ARG base
FROM ${base}
RUN mkdir -p /opt/%[1]s/bin && echo "%[1]s" > /opt/%[1]s/version && dd if=/dev/urandom of=/opt/%[1]s/blob bs=1M count=2
RUN printf '#!/bin/sh\ncat /opt/%[1]s/version\n' > /opt/%[1]s/bin/%[1]s && chmod 755 /opt/%[1]s/bin/%[1]s
COPY . /opt/%[1]s/src
ENV PATH=/opt/%[1]s/bin:$PATH
`, c))}
		files["tests/"+c+".yaml"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(`- desc: "%[1]s should be installed"
  command: ["%[1]s"]
  assert:
    - status == 0
    - stdout.indexOf("%[1]s") != -1
`, c))}
	}
	cfg := []byte(y.String())
	files[ConfigFile] = &fstest.MapFile{Data: cfg}
	return files, cfg
}

// ChunkName is the i-th chunk's name.
func ChunkName(i int) string { return fmt.Sprintf("c%03d", i) }

// CombinationName is the i-th combination's name.
func CombinationName(i int) string { return fmt.Sprintf("comb%02d", i) }

// Client is the part of the gateway client that a frontend invocation calls, answering from
// memory. Any other call panics on the nil embedded interface, which would show that the frontend
// started to need something the benchmark does not model.
type Client struct {
	gwclient.Client
	opts  map[string]string
	bopts gwclient.BuildOpts
	cfg   []byte
	files fstest.MapFS
	// result is what every test's runner reports: success, with every chunk's name in its output.
	result []byte
	pass   runner.Result
}

// NewClient answers a frontend invoked with opts (filename and target, as buildx sends them)
// on a build context holding files.
func NewClient(files fstest.MapFS, opts map[string]string) *Client {
	cfg, _ := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config":       map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, "Cmd": []string{"sh"}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{digest.FromString("busybox").String()}},
		"history":      []map[string]any{{"created_by": "COPY busybox /bin/busybox"}},
	})
	var out strings.Builder
	for i := 0; i < Chunks; i++ {
		out.WriteString(ChunkName(i) + "\n")
	}
	pass := runner.Result{Stdout: out.String(), Started: time.Now().Add(time.Hour).UnixNano()}
	res, _ := json.Marshal(pass)
	return &Client{
		opts: opts,
		// Made once, as the gRPC client makes them when it starts.
		bopts: gwclient.BuildOpts{
			Opts: opts, SessionID: "bench", Product: "bench",
			LLBCaps: pb.Caps.CapSet(pb.Caps.All()), Caps: gwpb.Caps.CapSet(gwpb.Caps.All()),
		},
		cfg: cfg, files: files, result: res, pass: pass,
	}
}

// Opts are the frontend options the client was made with.
func (c *Client) Opts() map[string]string { return c.opts }

func (c *Client) BuildOpts() gwclient.BuildOpts { return c.bopts }

func (c *Client) Inputs(context.Context) (map[string]llb.State, error) { return nil, nil }

func (c *Client) Warn(context.Context, digest.Digest, string, gwclient.WarnOpts) error { return nil }

// Solve encodes the request with the codec the process registered for gRPC, as the gRPC client
// sending it to BuildKit does (into pooled buffers, freed once sent), and answers as BuildKit
// would for what the frontend asks: a batch of tests all passing, none changing the root,
// anything else the build context.
func (c *Client) Solve(_ context.Context, req gwclient.SolveRequest) (*gwclient.Result, error) {
	data, err := encoding.GetCodecV2(grpcproto.Name).Marshal(&gwpb.SolveRequest{Definition: req.Definition, Evaluate: req.Evaluate})
	if err != nil {
		return nil, err
	}
	data.Free()
	res := gwclient.NewResult()
	r := &ref{c: c}
	// A batch's results: the output mount of the exec running the batch.
	if args := head(req.Definition).GetExec().GetMeta().GetArgs(); len(args) > 2 && args[1] == runner.BatchCommand {
		// Counted rather than decoded, which would cost as much as the frontend's encoding: in
		// the batch's JSON the key appears once per test, never in a string, where its
		// quotes would be escaped.
		r.batch = strings.Count(args[2], `"Spec":`)
	}
	res.SetRef(r)
	return res, nil
}

// head is the op a definition's result comes from (nil if none): the one its last op names,
// which llb puts just before it.
func head(def *pb.Definition) *pb.Op {
	if def == nil || len(def.Def) < 2 {
		return nil
	}
	var term pb.Op
	if term.UnmarshalVT(def.Def[len(def.Def)-1]) != nil || len(term.Inputs) == 0 {
		return nil
	}
	return find(def, term.Inputs[0].Digest)
}

// find is the op of def with digest dgst, searched from the end, where llb puts an op's inputs
// just before it.
func find(def *pb.Definition, dgst string) *pb.Op {
	var op pb.Op
	for i := len(def.Def) - 2; i >= 0; i-- {
		if digest.FromBytes(def.Def[i]).String() == dgst {
			if op.UnmarshalVT(def.Def[i]) != nil {
				return nil
			}
			return &op
		}
	}
	return nil
}

func (c *Client) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return ref, digest.FromBytes(c.cfg), c.cfg, nil
}

func (c *Client) ResolveSourceMetadata(_ context.Context, op *pb.SourceOp, _ sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return &sourceresolver.MetaResponse{Op: op, Image: &sourceresolver.ResolveImageResponse{Digest: digest.FromBytes(c.cfg), Config: c.cfg}}, nil
}

type ref struct {
	gwclient.Reference
	c     *Client
	batch int // the number of tests, when the solve ran a batch of them
}

func (r *ref) ReadFile(_ context.Context, req gwclient.ReadRequest) ([]byte, error) {
	switch {
	case req.Filename == runner.ResultFile:
		return r.c.result, nil
	case req.Filename == runner.BatchResultFile && r.batch > 0:
		results := make([]runner.Result, r.batch)
		for i := range results {
			results[i] = r.c.pass
		}
		return json.Marshal(runner.BatchResult{Started: r.c.pass.Started, Results: results, RootChecked: true})
	}
	return fs.ReadFile(r.c.files, req.Filename)
}

func (r *ref) StatFile(_ context.Context, req gwclient.StatRequest) (*fstypes.Stat, error) {
	fi, err := fs.Stat(r.c.files, req.Path)
	if err != nil {
		return nil, err
	}
	return &fstypes.Stat{Path: req.Path, Mode: uint32(fi.Mode()), Size: fi.Size()}, nil
}

func (r *ref) ReadDir(_ context.Context, req gwclient.ReadDirRequest) ([]*fstypes.Stat, error) {
	entries, err := fs.ReadDir(r.c.files, req.Path)
	if err != nil {
		return nil, err
	}
	out := make([]*fstypes.Stat, 0, len(entries))
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			return nil, err
		}
		out = append(out, &fstypes.Stat{Path: path.Join(req.Path, e.Name()), Mode: uint32(fi.Mode()), Size: fi.Size()})
	}
	return out, nil
}

// CPUTime is the CPU time (user and system) the process has used so far, for a benchmark's
// figure that other processes on the machine do not change as they change its wall time.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
