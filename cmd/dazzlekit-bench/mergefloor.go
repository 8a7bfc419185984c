package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/client/llb"
)

// mergeFloor measures the least an edit of one chunk costs in any tool that composes as dazzlekit
// has to, by BuildKit's DiffOp and MergeOp, and tests as dazzle does: plain LLB solved with no
// frontend by this program's floor-solve, as the CI-scale merge floor is. The base, every chunk's
// steps on it, the merge of the base and each chunk's own layers, exported and pushed once the tests
// an edit has to run passed: the middle chunk's own on the chunk's image, and every chunk's on the
// merge, in a container each without a network, all sent at once. No reads of a project, no image
// config, no test runner, no probe of the registry. The first run builds every chunk (its steps are
// not dazzlekit's LLB, so dazzlekit's cache does not answer them); the second, with the middle
// chunk's steps changed again, is the floor.
func (c *config) mergeFloor(p *benchProject, n, rep int, repo, logDir string) Run {
	dir := floorDir(logDir, "mergefloor")
	return c.editFloor(p, n, rep, toolMergeFloor, "mergefloor", "all chunks", logDir, func(k int) []command {
		image, alone, tests := p.mergeFloorDef(k)
		spec := []floorSolve{
			{Name: "chunk:" + chunkName(p.middle()), Tests: filepath.Join(dir, fmt.Sprintf("alone-%d.pb", k))},
			{Name: combAll, Tests: filepath.Join(dir, fmt.Sprintf("tests-%d.pb", k)), Image: filepath.Join(dir, fmt.Sprintf("image-%d.pb", k)), Push: repo + "-mergefloor:" + combAll},
		}
		for path, st := range map[string]llb.State{spec[0].Tests: alone, spec[1].Tests: tests, spec[1].Image: image} {
			if err := writeDef(path, st); err != nil {
				fatalf("the %s definition: %v", toolMergeFloor, err)
			}
		}
		return []command{c.floorSolve(dir, k, spec)}
	}, nil)
}

// frontendFloor is the merge floor through a frontend image, as the gateway frontend's builds run:
// `buildctl build` through the null frontend in its floor mode, which reads one file of the build
// context holding the merge floor's definitions (the middle chunk's test on the chunk's own image,
// every chunk's on the merge, and the merge) and solves them, the tests first, then returns the
// image for buildctl to push. That is the merge floor plus what any frontend image pays: its
// container, its gateway round trips, a read of the context. None without -null-frontend.
func (c *config) frontendFloor(p *benchProject, n, rep int, repo, logDir string) Run {
	dir := floorDir(logDir, "llbfloor")
	return c.editFloor(p, n, rep, toolLLBFloor, "llbfloor", "all chunks", logDir, func(k int) []command {
		image, alone, tests := p.mergeFloorDef(k)
		file := fmt.Sprintf("floor-%d.json", k)
		dt, _ := json.Marshal(floorFile{Tests: [][]byte{marshalDef(alone), marshalDef(tests)}, Image: marshalDef(image)})
		if err := os.WriteFile(filepath.Join(dir, file), dt, 0o644); err != nil {
			fatalf("%v", err)
		}
		return c.buildctlBuild("--frontend", "gateway.v0", "--opt", "source="+c.nullFrontend,
			"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "build-arg:FLOOR="+file,
			"--output", "type=image,name="+repo+"-llbfloor:"+combAll+",push=true")
	}, nil)
}

// mergeFloorDef is the merge floor's LLB in run k: the combination's image, the test of the middle
// chunk on the chunk's own image, and every chunk's test on the combination's. Its steps are the
// project's (runSteps), named as dazzlekit names a chunk's, so that the progress parser sums the
// edited chunk's step time alike.
func (p *benchProject) mergeFloorDef(k int) (image, aloneTests, tests llb.State) {
	base := llb.Image(p.baseImage())
	for _, s := range runSteps(p.baseSteps()) {
		base = base.Run(llb.Args([]string{"/bin/sh", "-c", s}), llb.WithCustomName("[base] RUN "+s)).Root()
	}
	const sysPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	test := func(root llb.State, name string, cmds, path []string) llb.State {
		return root.Run(llb.Args([]string{"/bin/sh", "-c", strings.Join(cmds, " && ")}), llb.Network(llb.NetModeNone),
			llb.AddEnv("PATH", strings.Join(append(path, sysPath), ":")), llb.WithCustomName(fmt.Sprintf("[floor tests %s] RUN %d tests", name, len(cmds)))).Root()
	}
	layers := []llb.State{base}
	var path, cmds []string
	for j := 0; j < p.N; j++ {
		name := chunkName(j)
		steps := runSteps(p.chunkSteps(j))
		st := base
		for s, cmd := range steps {
			st = st.Run(llb.Args([]string{"/bin/sh", "-c", cmd}), llb.WithCustomName(fmt.Sprintf("[chunk %s %d/%d] RUN %s", name, s+1, len(steps), cmd))).Root()
		}
		bin := "/opt/" + name + "/bin"
		cmd := fmt.Sprintf("%s floor-%d", name, k)
		if j == p.middle() {
			aloneTests = test(st, "chunk:"+name, []string{cmd}, []string{bin})
		}
		layers = append(layers, llb.Diff(base, st, llb.WithCustomName("[chunk "+name+"] own layers")))
		path = append(path, bin)
		cmds = append(cmds, cmd)
	}
	image = llb.Merge(layers, llb.WithCustomName(fmt.Sprintf("[combine %s] base + %d chunks", combAll, p.N)))
	return image, aloneTests, test(image, combAll, cmds, path)
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

// floorDir is the folder under logDir where a floor of the sizes' projects writes its definitions.
func floorDir(logDir, name string) string {
	dir := filepath.Join(logDir, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	return dir
}
