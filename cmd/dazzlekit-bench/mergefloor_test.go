package main

import (
	"context"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"
)

// The merge floor composes as dazzlekit does: one MergeOp of the base and each chunk's DiffOp
// against it, the project's own steps, and the tests in one container without a network.
func TestMergeFloorDefinition(t *testing.T) {
	p := &benchProject{Registry: "localhost:5000", N: 4, rev: map[int]int{2: 3}}
	var merges, diffs, execs int
	var mergeInputs int
	var tests *pb.ExecOp
	for _, op := range llbOps(t, p.mergeFloorDef(1)) {
		switch o := op.Op.(type) {
		case *pb.Op_Merge:
			merges++
			mergeInputs = len(o.Merge.Inputs)
		case *pb.Op_Diff:
			diffs++
		case *pb.Op_Exec:
			execs++
			if o.Exec.Network == pb.NetMode_NONE {
				tests = o.Exec
			}
		}
	}
	// 1 base step, 3 steps for each of 4 chunks, 1 test container.
	if merges != 1 || mergeInputs != 5 || diffs != 4 || execs != 1+3*4+1 {
		t.Fatalf("got %d merges of %d inputs, %d diffs, %d execs; want 1 of 5, 4, 14", merges, mergeInputs, diffs, execs)
	}
	if tests == nil {
		t.Fatal("no test exec without a network")
	}
	want := "c02 floor-1 && c00 floor-1 && c01 floor-1 && c02 floor-1 && c03 floor-1"
	if got := strings.Join(tests.Meta.Args, " "); got != "/bin/sh -c "+want {
		t.Errorf("tests run %q, want %q", got, want)
	}
	if got := runSteps(p.chunkSteps(2)); len(got) != 3 || !strings.Contains(got[0], `echo "c02 rev 3"`) {
		t.Errorf("runSteps(chunkSteps(2)) = %q", got)
	}
}

// llbOps is st's LLB definition as ops, in the order it marshals them.
func llbOps(t *testing.T, st llb.State) []*pb.Op {
	t.Helper()
	def, err := st.Marshal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ops := make([]*pb.Op, 0, len(def.Def))
	for _, dt := range def.Def {
		var op pb.Op
		if err := proto.Unmarshal(dt, &op); err != nil {
			t.Fatal(err)
		}
		ops = append(ops, &op)
	}
	return ops
}
