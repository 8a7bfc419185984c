package frontend

import (
	"context"
	"testing"

	"github.com/dazzlekit/dazzlekit/internal/benchproject"
)

// BenchmarkInvocation is one frontend invocation, as `docker buildx bake` starts one per target:
// read the project from the context, convert the base and the target's chunks, stack them, and
// send every definition to the solver (a client answering from memory, encoding each request as
// gRPC would); with tests, also test each chunk and the combination. comb49 has all 100 chunks
// (through its `ref:` chain), comb00 10 of them. cpu-ns/op is the CPU time of the whole process
// (conversions run in parallel, and the garbage collector) per invocation, which other processes
// on the machine do not change.
func BenchmarkInvocation(b *testing.B) {
	files, _ := benchproject.Files()
	for _, target := range []string{benchproject.CombinationName(benchproject.Combinations - 1), benchproject.CombinationName(0)} {
		for _, tests := range []bool{true, false} {
			opts := map[string]string{"filename": benchproject.ConfigFile, "target": target}
			name := "target=" + target + "/tests"
			if !tests {
				opts["build-arg:"+argNoTest] = "1"
				name = "target=" + target + "/no-test"
			}
			b.Run(name, func(b *testing.B) {
				c := benchproject.NewClient(files, opts)
				ctx := context.Background()
				b.ReportAllocs()
				cpu := benchproject.CPUTime()
				for b.Loop() {
					if _, err := Build(ctx, c); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(benchproject.CPUTime()-cpu)/float64(b.N), "cpu-ns/op")
			})
		}
	}
}
