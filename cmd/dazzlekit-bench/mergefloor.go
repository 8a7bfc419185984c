package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client/llb"
)

// mergeFloor measures the least an edit of one chunk costs in any tool that composes as dazzlekit
// has to, by BuildKit's DiffOp and MergeOp: an LLB definition solved by buildctl with no frontend,
// of the base, every chunk's steps on it, the merge of the base and each chunk's own layers, and
// in one container on that merge, without a network, the tests the edit has to run (as the chunk
// alone floor runs them), exported and pushed. No frontend, no reads of a project, no image
// config, no second test container for the chunk's own image, no probe of the registry. The
// first run builds every chunk (its steps are not dazzlekit's LLB, so dazzlekit's cache does not
// answer them); the second, with the middle chunk's steps changed again, is the floor.
func (c *config) mergeFloor(p *benchProject, n, rep int, repo, logDir string) Run {
	dir := filepath.Join(logDir, "mergefloor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	return c.editFloor(p, n, rep, toolMergeFloor, "mergefloor", "all chunks", logDir, func(k int) []command {
		in := filepath.Join(dir, fmt.Sprintf("def-%d.pb", k))
		if err := writeDef(in, p.mergeFloorDef(k)); err != nil {
			fatalf("the %s definition: %v", toolMergeFloor, err)
		}
		cmds := c.buildctlBuild("--output", "type=image,name="+repo+"-mergefloor:"+combAll+",push=true")
		cmds[0].in = in
		return cmds
	}, nil)
}

// mergeFloorDef is the merge floor's LLB in run k. Its steps are the project's (runSteps), named as
// dazzlekit names a chunk's, so that the progress parser sums the edited chunk's step time alike.
func (p *benchProject) mergeFloorDef(k int) llb.State {
	base := llb.Image(p.baseImage())
	for _, s := range runSteps(p.baseSteps()) {
		base = base.Run(llb.Args([]string{"/bin/sh", "-c", s}), llb.WithCustomName("[base] RUN "+s)).Root()
	}
	layers := []llb.State{base}
	var path []string
	for j := 0; j < p.N; j++ {
		name := chunkName(j)
		steps := runSteps(p.chunkSteps(j))
		st := base
		for s, cmd := range steps {
			st = st.Run(llb.Args([]string{"/bin/sh", "-c", cmd}), llb.WithCustomName(fmt.Sprintf("[chunk %s %d/%d] RUN %s", name, s+1, len(steps), cmd))).Root()
		}
		layers = append(layers, llb.Diff(base, st, llb.WithCustomName("[chunk "+name+"] own layers")))
		path = append(path, "/opt/"+name+"/bin")
	}
	merged := llb.Merge(layers, llb.WithCustomName(fmt.Sprintf("[combine %s] base + %d chunks", combAll, p.N)))
	path = append(path, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
	return merged.Run(llb.Args([]string{"/bin/sh", "-c", strings.Join(p.floorTests(k), " && ")}), llb.Network(llb.NetModeNone),
		llb.AddEnv("PATH", strings.Join(path, ":")), llb.WithCustomName("[floor tests] RUN the edit's tests")).Root()
}

// runSteps are the commands of a Dockerfile fragment's RUN lines.
func runSteps(dockerfile string) []string {
	var out []string
	for _, l := range strings.Split(dockerfile, "\n") {
		if cmd, ok := strings.CutPrefix(l, "RUN "); ok {
			out = append(out, cmd)
		}
	}
	return out
}
