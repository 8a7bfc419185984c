package integration

import (
	"testing"
)

// The user's build args reach the base and every chunk; a variant's own args win over them; a variant's
// Dockerfile may have any name and live in a subfolder; the chunk folder is the chunk's build context.
func TestBuildArgsAndVariants(t *testing.T) {
	e := stack(t)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":     "",
		"base/Dockerfile": okBase + "ARG GREETING\nRUN echo \"base ${GREETING}\" > /base.txt\n",
		"chunks/greet/Dockerfile": "ARG base\nFROM ${base}\nARG GREETING\nARG FLAVOUR=plain\n" +
			"RUN echo \"${GREETING} ${FLAVOUR}\" > /greet.txt\n",
		"chunks/multi/chunk.yaml": "variants:\n  - name: one\n    args: {GREETING: variant-wins}\n    dockerfile: docker/build.df\n",
		"chunks/multi/docker/build.df": "ARG base\nFROM ${base}\nARG GREETING\nCOPY payload.txt /multi/\n" +
			"RUN echo \"${GREETING}\" > /multi/greeting.txt\n",
		"chunks/multi/payload.txt": "from the chunk folder\n",
	})
	ref := e.ref(t, "x")
	e.mustBuild(t, dir, map[string]string{"build-arg:GREETING": "hi", "build-arg:FLAVOUR": "mint"}, ref)
	fs := files(t, image(t, ref))
	for path, want := range map[string]string{
		"base.txt":           "base hi\n",
		"greet.txt":          "hi mint\n",
		"multi/greeting.txt": "variant-wins\n",
		"multi/payload.txt":  "from the chunk folder\n",
	} {
		if got := string(fs[path].Data); got != want {
			t.Errorf("/%s = %q, want %q", path, got, want)
		}
	}
}

// SOURCE_DATE_EPOCH is read as the Dockerfile frontend reads it; the time it resolves to stamps the
// combined image, and without one the image carries the Unix epoch. "context" names the build
// context's commit time, which a local context has not: the build goes on without one.
func TestSourceDateEpoch(t *testing.T) {
	e := stack(t)
	dir := writeFiles(t, map[string]string{"dazzle.yaml": "", "base/Dockerfile": okBase, "chunks/a/Dockerfile": okChunk})
	for _, tc := range []struct {
		attrs map[string]string
		want  int64
	}{
		{map[string]string{"build-arg:SOURCE_DATE_EPOCH": "1700000000"}, 1700000000},
		{map[string]string{"build-arg:SOURCE_DATE_EPOCH": "context"}, 0},
		{map[string]string{}, 0},
	} {
		ref := e.ref(t, "x")
		tc.attrs["build-arg:DAZZLE_NO_TEST"] = "1"
		e.mustBuild(t, dir, tc.attrs, ref)
		if c := image(t, ref).Config.Created; c == nil || c.Unix() != tc.want {
			t.Errorf("%v: created %v, want %d", tc.attrs, c, tc.want)
		}
	}
}
