package frontend

import (
	"context"
	"errors"
	"maps"
	"testing"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Two builds converting a chunk: what each gets, how often the converter runs, what each is told.
func TestConvertShared(t *testing.T) {
	proj, other := &project.Project{}, &project.Project{}
	ch := project.Chunk{Name: "lang-node:22", Dockerfile: "chunks/lang-node/Dockerfile"}
	lint := diag.Warning{Rule: "StageNameCasing", File: ch.Dockerfile, Line: 3, Msg: "Stage name 'Foo' should be lowercase"}
	in := llbgen.Input{Opts: map[string]string{"target": "full", "build-arg:X": "1"}, BuildArgs: map[string]string{"X": "1"}}
	arm := &ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	errBad := errors.New("chunks/lang-node/Dockerfile:3: unknown instruction: RUNN")
	with := func(f func(*llbgen.Input)) llbgen.Input {
		in := in
		in.Opts, in.BuildArgs = maps.Clone(in.Opts), maps.Clone(in.BuildArgs)
		f(&in)
		return in
	}
	for _, tc := range []struct {
		name     string
		noShare  bool
		second   llbgen.Input
		proj2    *project.Project
		err      error
		converts int // how often the two builds convert
	}{
		{name: "same chunk, other combination: converted once", second: with(func(in *llbgen.Input) { in.Opts["target"] = "node" }), converts: 1},
		{name: "not shared: each converts", noShare: true, second: in, converts: 2},
		{name: "other project", second: in, proj2: other, converts: 2},
		{name: "other platform", second: with(func(in *llbgen.Input) { in.Platform = arm }), converts: 2},
		{name: "other build arg", second: with(func(in *llbgen.Input) { in.BuildArgs["X"] = "2" }), converts: 2},
		{name: "other option", second: with(func(in *llbgen.Input) { in.Opts["no-cache"] = "" }), converts: 2},
		{name: "for --call check: each converts every stage", second: with(func(in *llbgen.Input) { in.AllStages = true }), converts: 2},
		{name: "failed: each fails on its own", second: in, err: errBad, converts: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := WithSharedConversions(context.Background())
			if tc.noShare {
				ctx = context.Background()
			}
			converts := 0
			st := llb.Scratch().File(llb.Mkdir("/x", 0o755))
			convert := func(in llbgen.Input) (*llbgen.Converted, error) {
				converts++
				in.Warn(lint)
				if tc.err != nil {
					return nil, tc.err
				}
				return &llbgen.Converted{State: st}, nil
			}
			marshal := func(st llb.State) error { _, err := st.Marshal(context.Background()); return err }
			var got []*llbgen.Converted
			for i, in := range []llbgen.Input{in, tc.second} {
				p := proj
				if i == 1 && tc.proj2 != nil {
					p = tc.proj2
				}
				var told diag.Collector
				in.Warn = told.Add
				conv, err := convertShared(ctx, in, p, ch, convert, marshal)
				if !errors.Is(err, tc.err) {
					t.Fatalf("build %d: err %v, want %v", i+1, err, tc.err)
				}
				// Every build tells the conversion's warnings, whether it converted or not.
				if w := told.Warnings(); len(w) != 1 || w[0].String() != lint.String() {
					t.Errorf("build %d was told %v, want %v", i+1, w, lint)
				}
				got = append(got, conv)
			}
			if converts != tc.converts {
				t.Errorf("converted %d times, want %d", converts, tc.converts)
			}
			if tc.err == nil && tc.converts == 1 && got[0] != got[1] {
				t.Errorf("the builds got different conversions")
			}
		})
	}
}

func TestSharedRetriesOthersFailure(t *testing.T) {
	s := sharedFrom(WithSharedConversions(context.Background()))
	started, release := make(chan struct{}), make(chan struct{})
	errCancelled := errors.New("context canceled")
	first := make(chan error, 1)
	go func() {
		_, err := s.do("k", func() (any, error) { close(started); <-release; return nil, errCancelled }, always)
		first <- err
	}()
	<-started
	// The second build waits on the first's attempt, then makes the value itself once that failed.
	second := make(chan any, 1)
	go func() {
		v, _ := s.do("k", func() (any, error) { return "mine", nil }, always)
		second <- v
	}()
	close(release)
	if err := <-first; !errors.Is(err, errCancelled) {
		t.Fatalf("first: %v", err)
	}
	if v := <-second; v != "mine" {
		t.Fatalf("second got %v, want its own value", v)
	}
	if v, err := s.do("k", func() (any, error) { return "again", nil }, always); v != "mine" || err != nil {
		t.Fatalf("kept %v, %v; want the second's value", v, err)
	}
}
