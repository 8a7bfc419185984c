package frontend

import (
	"context"
	"testing"

	"github.com/dazzlekit/dazzlekit/internal/benchproject"
)

// BenchmarkInvocation is one frontend invocation, as `docker buildx bake` starts one per target:
// read the project from the context, convert the base and the target's chunks, stack them, test
// each chunk and the combination, and send every definition to the solver (here a client that
// answers from memory). comb49 has all 100 chunks (through its `ref:` chain), comb00 10 of them.
func BenchmarkInvocation(b *testing.B) {
	files, _ := benchproject.Files()
	for _, target := range []string{benchproject.CombinationName(benchproject.Combinations - 1), benchproject.CombinationName(0)} {
		b.Run("target="+target, func(b *testing.B) {
			c := benchproject.NewClient(files, map[string]string{"filename": benchproject.ConfigFile, "target": target})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Build(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
