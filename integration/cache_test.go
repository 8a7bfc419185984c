package integration

import (
	"slices"
	"testing"

	"github.com/moby/buildkit/client"
)

// BuildKit's cache export/import carries a dazzlekit build between machines: after pruning every
// local cache record, a build that imports the registry cache runs no build step and produces the
// same layers. (Test results are not part of the exported image, so with tests on they would rerun.)
func TestRegistryCacheRoundTrip(t *testing.T) {
	e := stack(t)
	dir := copyProject(t, exampleDir("devtools"))
	// A step no earlier run has cached, so the first build really builds.
	appendFile(t, dir+"/base/Dockerfile", "RUN echo "+e.ref(t, "")+" > /tmp/nonce\n")
	cacheRef := e.ref(t, "cache")
	ref := e.ref(t, "full")
	if _, err := e.build(t, dir, buildOpts{
		attrs: map[string]string{"target": "full", "build-arg:DAZZLE_NO_TEST": "1"}, push: ref,
		cacheExport: []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": cacheRef, "mode": "max"}}},
	}); err != nil {
		t.Fatalf("first build: %s", errText(err))
	}
	before := image(t, ref).Layers()

	e.prune(t)
	ref2 := e.ref(t, "full")
	p, err := e.build(t, dir, buildOpts{
		attrs: map[string]string{"target": "full", "build-arg:DAZZLE_NO_TEST": "1"}, push: ref2,
		cacheImport: []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": cacheRef}}},
	})
	if err != nil {
		t.Fatalf("second build: %s", errText(err))
	}
	if ran := p.ran("RUN"); len(ran) != 0 {
		t.Errorf("build steps ran despite the imported cache: %q", ran)
	}
	if after := image(t, ref2).Layers(); !slices.Equal(before, after) {
		t.Errorf("layers differ after the cache round trip:\n%v\n%v", before, after)
	}
}
