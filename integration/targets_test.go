package integration

import (
	"slices"
	"sort"
	"testing"
)

func owners(t *testing.T, ref string) []string {
	var out []string
	for o := range layersByOwner(t, image(t, ref)) {
		if o != "base" {
			out = append(out, o)
		}
	}
	sort.Strings(out)
	return out
}

// Every way of choosing what to build: a combination, one chunk, an ad-hoc list, and everything.
func TestTargets(t *testing.T) {
	e := stack(t)
	dir := exampleDir("devtools")
	for _, tc := range []struct {
		name  string
		attrs map[string]string
		want  []string
	}{
		{"combination", map[string]string{"target": "minimal"}, []string{"hello"}},
		{"combination as build arg", map[string]string{"build-arg:DAZZLE_TARGET": "minimal"}, []string{"hello"}},
		{"one chunk", map[string]string{"target": "chunk:lang:1"}, []string{"lang:1"}},
		{"ad-hoc chunks", map[string]string{"build-arg:DAZZLE_CHUNKS": "tool, hello"}, []string{"hello", "tool"}},
		// lang:0 is ignored by dazzle.yaml
		{"everything", nil, []string{"cleanup", "hello", "lang:1", "lang:2", "tool"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ref := e.ref(t, "x")
			e.mustBuild(t, dir, tc.attrs, ref)
			if got := owners(t, ref); !slices.Equal(got, tc.want) {
				t.Errorf("chunks in image %v, want %v", got, tc.want)
			}
		})
	}
}
