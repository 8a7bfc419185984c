package llbgen

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/moby/buildkit/client/llb"
)

func TestPrefix(t *testing.T) {
	for _, tc := range []struct{ label, in, want string }{
		{"chunk node", "[2/3] RUN echo hi", "[chunk node 2/3] RUN echo hi"},
		{"chunk node", "[build 1/2] FROM base", "[chunk node build 1/2] FROM base"},
		{"base", "[internal] load build context", "[base] [internal] load build context"},
		{"chunk go:1.24", "copy /chunks/go /", "[chunk go:1.24] copy /chunks/go /"},
		{"chunk node", "[chunk node 2/3] RUN x", "[chunk node 2/3] RUN x"},
	} {
		if got := Prefix(tc.label, tc.in); got != tc.want {
			t.Errorf("Prefix(%q, %q) = %q, want %q", tc.label, tc.in, got, tc.want)
		}
	}
}

func TestIsStepOf(t *testing.T) {
	for _, tc := range []struct {
		name, label string
		want        bool
	}{
		{"[chunk node 2/3] RUN echo hi", ChunkLabel("node"), true},
		{"[chunk node build 1/2] COPY a b", ChunkLabel("node"), true},
		{"[chunk node 3/3] ADD https://example.com/x /x", ChunkLabel("node"), true},
		{"[base 2/2] RUN apt-get update", BaseLabel, true},
		{"[chunk node 2/3] RUN echo hi", ChunkLabel("node-x"), false},
		{"[chunk node-x 2/3] RUN echo hi", ChunkLabel("node"), false},
		{"[chunk go:1.24 1/2] RUN go version", ChunkLabel("go:1.24"), true},
		{"[chunk go:1.24 1/2] RUN go version", ChunkLabel("go"), false},
		{"[chunk node build 1/2] FROM base", ChunkLabel("node"), false}, // a source: reported started, uncached, every build
		{"[chunk node] own layers (diff against base)", ChunkLabel("node"), false},
		{"[chunk node] copy /chunks/node /", ChunkLabel("node"), false},
		{"[chunk node 2/3] WORKDIR /x", ChunkLabel("node"), false},
		{"[base] [internal] load build context", BaseLabel, false},
		{"[test node] node should run", ChunkLabel("node"), false},
	} {
		if got := IsStepOf(tc.name, tc.label); got != tc.want {
			t.Errorf("IsStepOf(%q, %q) = %v, want %v", tc.name, tc.label, got, tc.want)
		}
	}
}

func TestApplyNamesUnnamedOps(t *testing.T) {
	ctx := context.Background()
	src := llb.Image("localhost:5000/x", llb.WithCustomName("[1/2] FROM x"))
	st := llb.Scratch().File(llb.Copy(src, "/chunks/a", "/"))
	var n Names
	if err := n.Own(ctx, st, "chunk a"); err != nil {
		t.Fatal(err)
	}
	def, err := st.Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pbDef := def.ToPB()
	n.Apply(pbDef)
	var got []string
	for _, md := range pbDef.Metadata {
		if name := md.Description[customNameKey]; name != "" {
			got = append(got, name)
		}
	}
	sort.Strings(got)
	want := []string{"[chunk a 1/2] FROM x", "[chunk a] copy /chunks/a /"}
	if !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}
