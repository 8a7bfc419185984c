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
