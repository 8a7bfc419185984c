package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/proto"
)

// The merge floor composes as dazzlekit does, one MergeOp of the base and each chunk's DiffOp
// against it, with the project's own steps, and tests as dazzle does: the edited chunk's test on the
// chunk's own image, every chunk's on the merge, in a container each without a network.
func TestMergeFloorDefinition(t *testing.T) {
	p := &benchProject{Registry: "localhost:5000", N: 4, rev: map[int]int{2: 3}}
	image, alone, tests := p.mergeFloorDef(1)
	var merges, mergeInputs, diffs, execs int
	for _, op := range llbOps(t, image) {
		switch o := op.Op.(type) {
		case *pb.Op_Merge:
			merges++
			mergeInputs = len(o.Merge.Inputs)
		case *pb.Op_Diff:
			diffs++
		case *pb.Op_Exec:
			execs++
		}
	}
	// 1 base step, 3 steps for each of 4 chunks.
	if merges != 1 || mergeInputs != 5 || diffs != 4 || execs != 1+3*4 {
		t.Fatalf("image: got %d merges of %d inputs, %d diffs, %d execs; want 1 of 5, 4, 13", merges, mergeInputs, diffs, execs)
	}
	for _, tc := range []struct {
		name   string
		st     llb.State
		want   string
		merges int
		holds  string // the chunks whose steps the tested image holds
	}{
		{"alone", alone, "c02 floor-1", 0, "c02"},
		{"merged", tests, "c00 floor-1 && c01 floor-1 && c02 floor-1 && c03 floor-1", 1, "c00 c01 c02 c03"},
	} {
		var last *pb.ExecOp
		var merges int
		var steps []string
		for _, op := range llbOps(t, tc.st) {
			switch o := op.Op.(type) {
			case *pb.Op_Merge:
				merges++
			case *pb.Op_Exec:
				last = o.Exec
				steps = append(steps, strings.Join(o.Exec.Meta.Args, " "))
			}
		}
		if last == nil || last.Network != pb.NetMode_NONE {
			t.Fatalf("%s: the last exec is not a test without a network: %v", tc.name, last)
		}
		if got := strings.Join(last.Meta.Args, " "); got != "/bin/sh -c "+tc.want {
			t.Errorf("%s: tests run %q, want %q", tc.name, got, tc.want)
		}
		if merges != tc.merges {
			t.Errorf("%s: %d merges under the tests, want %d", tc.name, merges, tc.merges)
		}
		for j := 0; j < p.N; j++ {
			c := chunkName(j)
			has := slices.ContainsFunc(steps, func(s string) bool { return strings.Contains(s, "/opt/"+c+"/") })
			if want := strings.Contains(tc.holds, c); has != want {
				t.Errorf("%s: the tested image holds %s's steps: %v, want %v", tc.name, c, has, want)
			}
		}
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
