package main

import (
	"os"
	"runtime"
	"runtime/debug"
)

// frontendGC trades memory for CPU in the frontend process. One invocation lives for one build and
// allocates tens of MB (BenchmarkInvocation), so at the default GOGC=100 it collected several times
// while its heap was still growing, and a bake starts one such process per target, all at once: perf of
// a warm bake of the 41-combination bench project put the frontends at 18% less CPU with GOGC=400 (no
// gain from turning the collector off altogether). The memory limit bounds the heap of a project far
// larger than that. GOGC or GOMEMLIMIT in the environment still win. `dazzlekit build` runs the
// frontend of every combination in one process, and the same setting took a fifth off its CPU time
// in a warm build of that project (0.60 s of user time against 0.74 s, 4 runs each).
func frontendGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
}

// frontendProcs runs the gateway frontend's goroutines on one OS thread at a time. Its work is
// mostly waiting for BuildKit; what it computes (loading the project, converting Dockerfiles,
// judging assertions) takes tens of ms per build. A bake starts a frontend per target, all at once,
// and with a P per core each process kept idle threads spinning for work and ran its collector on
// the other core: in alternating bakes of the 41-combination bench project after an edit of lang-c
// (8 each), the frontend containers took 5.5 CPU-s against 5.9, and the bake 8.08 s against 8.29 s
// (medians). A single build of a 16-chunk combination took the same 0.21-0.22 s either way.
// GOMAXPROCS in the environment still wins. `dazzlekit build`, one process for every combination,
// keeps its P per core.
func frontendProcs() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}
