package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"golang.org/x/sync/errgroup"
)

// floorSolve is one build of the CI-scale merge floor: the LLB definitions of an image's tests and
// of the image, and the tag the image is pushed to once its tests passed ("" for an image no tool
// pushes, a chunk alone, which is only tested).
type floorSolve struct {
	Name  string `json:"name"`
	Tests string `json:"tests"`
	Image string `json:"image,omitempty"`
	Push  string `json:"push,omitempty"`
}

// ciFloorImage is one image of the CI-scale merge floor.
type ciFloorImage struct {
	name   string
	chunks []string // in merge order; one chunk and no merge for a chunk alone
	alone  bool
}

// mergeFloorImages are what an edit of the folder f makes any tool do at the least: f's chunks
// alone, and each distinct combination image holding one (imagesHolding), each tested in a
// container of its own; the combination images are pushed, the chunks alone are not. A chunk
// alone goes by "chunk:<chunk>".
func (p *ciProject) mergeFloorImages(f string) []ciFloorImage {
	var out []ciFloorImage
	for _, ch := range p.usedChunks() {
		if folderOf(ch) == f {
			out = append(out, ciFloorImage{name: "chunk:" + ch, chunks: []string{ch}, alone: true})
		}
	}
	for _, img := range p.imagesHolding(f) {
		out = append(out, ciFloorImage{name: img, chunks: p.resolve(img)})
	}
	return out
}

// floorChunk is chunk ch's steps on base, as its Dockerfile runs them (ciSteps, with the variant's
// VERSION), named as dazzlekit names a chunk's steps so the progress parser sums the edited folder's
// step time alike. The edited folder's steps carry the floor's own revision k, so that neither
// dazzlekit's cache nor an earlier floor run answers them.
func (p *ciProject) floorChunk(base llb.State, ch string, k int) llb.State {
	f, version := folderOf(ch), "none"
	if _, v, ok := strings.Cut(ch, ":"); ok {
		version = v
	}
	steps := runSteps(p.ciSteps(f))
	st := base.AddEnv("VERSION", version)
	for i, s := range steps {
		if f == p.EditChunk {
			s = strings.Replace(s, "$VERSION rev ", fmt.Sprintf("$VERSION rev floor-%d-", k), 1)
		}
		st = st.Run(llb.Args([]string{"/bin/sh", "-c", s}), llb.WithCustomName(fmt.Sprintf("[chunk %s %d/%d] RUN %s", ch, i+1, len(steps), s))).Root()
	}
	return st
}

// floorTestCommands are the tests of an image of chunks, as the CI project's test files define them
// (write), each its own process as the runner starts them, one after the other, and the PATH they
// run with.
func (p *ciProject) floorTestCommands(chunks []string) (cmds []string, path string) {
	var bins []string
	for _, ch := range chunks {
		f := folderOf(ch)
		bins = append(bins, "/opt/"+f+"/bin")
		cmds = append(cmds, fmt.Sprintf(`case "$(%[1]s)" in *"%[1]s "*) ;; *) exit 1;; esac`, f))
		if p.testCount(f) == 2 {
			cmds = append(cmds, fmt.Sprintf("ls /opt/%s/blob2 >/dev/null", f))
		}
	}
	return cmds, strings.Join(append(bins, "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"), ":")
}

// mergeFloorDef is image img's LLB in floor run k: the base, each chunk's steps on it, the MergeOp
// of the base and each chunk's DiffOp against it (a chunk alone is its steps, no merge), and on that
// one container without a network running the image's tests.
func (p *ciProject) mergeFloorDef(img ciFloorImage, k int) (image, tests llb.State) {
	base := llb.Image(p.baseImage())
	base = base.Run(llb.Args([]string{"/bin/sh", "-c", "mkdir -p /opt/base && echo base > /opt/base/version && sleep 1"}),
		llb.WithCustomName("[base] RUN mkdir -p /opt/base")).Root()
	var root llb.State
	if img.alone {
		root = p.floorChunk(base, img.chunks[0], k)
	} else {
		layers := []llb.State{base}
		for _, ch := range img.chunks {
			layers = append(layers, llb.Diff(base, p.floorChunk(base, ch, k), llb.WithCustomName("[chunk "+ch+"] own layers")))
		}
		root = llb.Merge(layers, llb.WithCustomName(fmt.Sprintf("[combine %s] base + %d chunks", img.name, len(img.chunks))))
	}
	cmds, path := p.floorTestCommands(img.chunks)
	return root, root.Run(llb.Args([]string{"/bin/sh", "-c", strings.Join(cmds, " && ")}), llb.Network(llb.NetModeNone),
		llb.AddEnv("PATH", path), llb.WithCustomName(fmt.Sprintf("[floor tests %s] RUN %d tests", img.name, len(cmds)))).Root()
}

// ciMergeFloor measures the least an edit of one chunk folder costs, at CI scale, any tool that
// composes as dazzlekit has to (DiffOp and MergeOp) and tests as dazzle does (each chunk alone and
// each combination image holding it, every test, in a container per image): plain LLB with no
// frontend, no project reads, no image config, no test runner and no registry probe, each image
// one solve, all at once from one BuildKit client (this program's floor-solve), the combination
// images pushed to tags of a repository of its own. The first run builds every chunk of those
// images (its LLB is not dazzlekit's); the second, with the edited folder's steps changed again,
// is the floor under "edit one chunk".
func (c *config) ciMergeFloor(p *ciProject, rep int, repo, logDir string) Run {
	dir := filepath.Join(filepath.Dir(logDir), filepath.Base(logDir)+"-mergefloor")
	imgs := p.mergeFloorImages(p.EditChunk)
	var r Run
	for k, sc := range []string{"all chunks", scEdit} {
		r = Run{N: p.chunkCount(), Rep: rep, Tool: toolMergeFloor, Scenario: sc, Project: "ci",
			Log: filepath.Join(logDir, fmt.Sprintf("mergefloor-%d-%s.log", k, strings.ReplaceAll(sc, " ", "-")))}
		logf("CI scale rep %d %-16s %-16s ...", rep+1, toolMergeFloor, sc)
		c.run(&r, []command{c.mergeFloorCommand(p, dir, repo, k, imgs)}, parseRawJSON)
		c.logFloor(p, rep, r)
	}
	return r
}

// ciBakeFloor measures the least a docker buildx bake of every combination through a frontend image
// pays for an edit of one chunk folder: the merge floor's solves (ciMergeFloor, the images holding
// the edited folder's chunks, after a run that builds their chunks) and the null frontend's bake
// (ciFloor's nullBake, each target returning the image bake pushed) started at once, the run over
// when both are. On 2 cores the two share the CPU as a bake's frontend containers share it with the
// builds they ask for; their sum is no floor, as each would leave the CPU idle at times the other
// fills. There is no such floor for a cold build: the merge floor of every image, sent at once beside
// the 41 frontend containers' start, made one of them miss BuildKit's gRPC preface timeout in each of
// 4 tries (2026-12-05), where a cold dazzlekit bake, whose frontends send their builds themselves,
// does not: ciLLBFloor is the cold floor.
func (c *config) ciBakeFloor(p *ciProject, rep int, repo, logDir string, nullBake command) []Run {
	dir := filepath.Join(filepath.Dir(logDir), filepath.Base(logDir)+"-bakefloor")
	imgs := p.mergeFloorImages(p.EditChunk)
	newRun := func(k int, tool, sc string) Run {
		return Run{N: p.chunkCount(), Rep: rep, Tool: tool, Scenario: sc, Project: "ci",
			Log: filepath.Join(logDir, fmt.Sprintf("bakefloor-%d-%s.log", k, strings.ReplaceAll(sc, " ", "-")))}
	}
	// Builds the chunks the edit's floor starts from; not a figure.
	r := newRun(0, toolMergeFloor, "all chunks")
	logf("CI scale rep %d %-16s %-16s ...", rep+1, r.Tool, r.Scenario)
	c.run(&r, []command{c.mergeFloorCommand(p, dir, repo, 0, imgs)}, parseRawJSON)
	c.logFloor(p, rep, r)
	// Each try is a run k of its own, the edited folder's steps changed again, so that nothing a
	// failed try finished answers the next from the cache.
	for k := 1; k <= 3; k++ {
		r := newRun(k, toolBakeFloor, scEdit)
		logf("CI scale rep %d %-16s %-16s ...", rep+1, r.Tool, r.Scenario)
		c.runTogether(&r, []command{c.mergeFloorCommand(p, dir, repo, k, imgs), nullBake}, parseRawJSON)
		if r.OK {
			c.logFloor(p, rep, r)
			return []Run{r}
		}
		// A frontend container that misses BuildKit's 10 s gRPC preface timeout on 2 cores fails
		// its target ("frontend grpc server closed unexpectedly", see the README): that bake
		// measured nothing, so the floor is run again; a floor that never ran is left out.
		logf("CI scale rep %d %-16s %-16s failed, try %d of 3: %s (log %s)", rep+1, r.Tool, r.Scenario, k, firstLine(r.Error), r.Log)
	}
	return nil
}

func (c *config) logFloor(p *ciProject, rep int, r Run) {
	logf("CI scale rep %d %-16s %-16s %7.1fs  RUN %d, %s RUN %.1fs, CPU %.1f s", rep+1, r.Tool, r.Scenario, r.Seconds, r.Steps.RunRan,
		p.EditChunk, r.Steps.folderRunSeconds(p.EditChunk), r.CPUSeconds)
	if !r.OK {
		fatalf("the %s build failed: %s (log %s)", r.Tool, firstLine(r.Error), r.Log)
	}
}

// mergeFloorCommand writes the merge floor's definitions of imgs for run k into dir, and returns the
// floor-solve command that builds them, pushing each combination image to a tag of repo-mergefloor.
func (c *config) mergeFloorCommand(p *ciProject, dir, repo string, k int, imgs []ciFloorImage) command {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	var spec []floorSolve
	for i, img := range imgs {
		image, tests := p.mergeFloorDef(img, k)
		s := floorSolve{Name: img.name, Tests: filepath.Join(dir, fmt.Sprintf("tests-%d-%d.pb", k, i))}
		if err := writeDef(s.Tests, tests); err != nil {
			fatalf("the %s definition: %v", toolMergeFloor, err)
		}
		if !img.alone {
			s.Image, s.Push = filepath.Join(dir, fmt.Sprintf("image-%d-%d.pb", k, i)), repo+"-mergefloor:"+img.name
			if err := writeDef(s.Image, image); err != nil {
				fatalf("the %s definition: %v", toolMergeFloor, err)
			}
		}
		spec = append(spec, s)
	}
	return c.floorSolve(dir, k, spec)
}

func writeDef(path string, st llb.State) error {
	def, err := st.Marshal(context.Background())
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = llb.WriteTo(def, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// floorSolveCommand makes this program the merge floor's BuildKit client: `dazzlekit-bench
// floor-solve -addr A spec.json` solves every definition of the spec at once, each pushed where the
// spec says, and prints every solve's progress to stdout as buildctl's --progress=rawjson does.
const floorSolveCommand = "floor-solve"

// floorSolve writes spec, run k's in dir, and returns the command that solves it.
func (c *config) floorSolve(dir string, k int, spec []floorSolve) command {
	self, err := os.Executable()
	if err != nil {
		fatalf("%v", err)
	}
	specPath := filepath.Join(dir, fmt.Sprintf("spec-%d.json", k))
	dt, _ := json.MarshalIndent(spec, "", "  ")
	if err := os.WriteFile(specPath, dt, 0o644); err != nil {
		fatalf("%v", err)
	}
	return command{argv: []string{self, floorSolveCommand, "-addr", c.addr, specPath}}
}

func floorSolveMain(args []string) int {
	fs := flag.NewFlagSet(floorSolveCommand, flag.ContinueOnError)
	addr := fs.String("addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address")
	if err := fs.Parse(args); err != nil || fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: dazzlekit-bench floor-solve -addr ADDR SPEC.json")
		return 2
	}
	if err := floorSolveRun(*addr, fs.Arg(0)); err != nil {
		fmt.Fprintln(os.Stderr, "floor-solve:", err)
		return 1
	}
	return 0
}

func floorSolveRun(addr, specPath string) error {
	dt, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var spec []floorSolve
	if err := json.Unmarshal(dt, &spec); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	ctx := context.Background()
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	var mu sync.Mutex
	enc := json.NewEncoder(os.Stdout)
	eg, ctx := errgroup.WithContext(ctx)
	for _, s := range spec {
		tests, err := readDef(s.Tests)
		if err != nil {
			return err
		}
		var image *llb.Definition
		var opt client.SolveOpt
		if s.Image != "" {
			if image, err = readDef(s.Image); err != nil {
				return err
			}
			opt.Exports = []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": s.Push, "push": "true"}}}
		}
		ch := make(chan *client.SolveStatus)
		eg.Go(func() error {
			for st := range ch {
				mu.Lock()
				err := enc.Encode(st)
				mu.Unlock()
				if err != nil {
					return err
				}
			}
			return nil
		})
		eg.Go(func() error {
			// The tests first, then the image: a push waits for its image's tests, as any tool's does.
			_, err := c.Build(ctx, opt, "", func(ctx context.Context, gw gwclient.Client) (*gwclient.Result, error) {
				if _, err := gw.Solve(ctx, gwclient.SolveRequest{Definition: tests.ToPB(), Evaluate: true}); err != nil {
					return nil, err
				}
				if image == nil {
					return gwclient.NewResult(), nil
				}
				return gw.Solve(ctx, gwclient.SolveRequest{Definition: image.ToPB()})
			}, ch)
			if err != nil {
				return fmt.Errorf("%s: %w", s.Name, err)
			}
			return nil
		})
	}
	return eg.Wait()
}

func readDef(path string) (*llb.Definition, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	def, err := llb.ReadFrom(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return def, nil
}

// ciLLBFloor measures the least a docker buildx bake of every combination through a frontend image
// pays when each frontend sends its builds itself, as dazzlekit's do: a bake of the same targets
// through the null frontend in its floor mode, each target's frontend reading one file of plain LLB
// (the merge floor's definitions of its combination image and of each of its chunks alone) and
// solving it, the tests first, then returning the image for bake to push. No project reads, no
// conversion, no image config, no test runner. It runs cold on a pruned daemon, then with the
// edited folder's steps changed: the floors under "cold" and "edit one chunk". A try whose bake fails
// (a frontend container missing BuildKit's gRPC preface timeout, see ciBakeFloor) is run again, up to
// three times; a floor that never ran is left out.
func (c *config) ciLLBFloor(p *ciProject, rep int, repo, logDir string) []Run {
	dir := filepath.Join(filepath.Dir(logDir), filepath.Base(logDir)+"-llbfloor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	kit := p.kitBake(logDir)
	var runs []Run
	k := 0
	for _, sc := range []string{scCold, scEdit} {
		for try := 1; try <= 3; try++ {
			if sc == scCold {
				c.prune()
			} else {
				k++
			}
			r := Run{N: p.chunkCount(), Rep: rep, Tool: toolLLBFloor, Scenario: sc, Project: "ci",
				Log: filepath.Join(logDir, fmt.Sprintf("llbfloor-%d-%d-%s.log", k, try, strings.ReplaceAll(sc, " ", "-")))}
			logf("CI scale rep %d %-16s %-16s ...", rep+1, r.Tool, r.Scenario)
			c.run(&r, []command{c.llbFloorBake(p, kit, dir, repo, k)}, parseRawJSON)
			if r.OK {
				c.logFloor(p, rep, r)
				runs = append(runs, r)
				break
			}
			logf("CI scale rep %d %-16s %-16s failed, try %d of 3: %s (log %s)", rep+1, r.Tool, r.Scenario, try, firstLine(r.Error), r.Log)
		}
		if len(runs) == 0 {
			// The edit's floor starts from the cold one's chunks.
			return nil
		}
	}
	return runs
}

// llbFloorBake writes run k's floor definitions, one file per target, and the bake of them into
// dir, and returns that bake. The targets and tags are dazzlekit bake's, in a repository of its own.
func (c *config) llbFloorBake(p *ciProject, kit kitBake, dir, repo string, k int) command {
	targets := map[string]any{}
	for name, t := range kit.Target {
		var f floorFile
		for _, img := range p.llbFloorImages(t.Target) {
			image, tests := p.mergeFloorDef(img, k)
			f.Tests = append(f.Tests, marshalDef(tests))
			if !img.alone {
				f.Image = marshalDef(image)
			}
		}
		file := fmt.Sprintf("floor-%d-%s.json", k, name)
		dt, _ := json.Marshal(f)
		if err := os.WriteFile(filepath.Join(dir, file), dt, 0o644); err != nil {
			fatalf("%v", err)
		}
		targets[name] = map[string]any{"context": dir, "tags": []string{repo + "-llbfloor:" + t.Target},
			"dockerfile-inline": "# built by the null frontend: the build arg FLOOR\n",
			"args":              map[string]string{"BUILDKIT_SYNTAX": c.nullFrontend, "FLOOR": file}}
	}
	def, _ := json.MarshalIndent(map[string]any{"group": kit.Group, "target": targets}, "", "  ")
	defPath := filepath.Join(dir, fmt.Sprintf("docker-bake-%d.json", k))
	if err := os.WriteFile(defPath, def, 0o644); err != nil {
		fatalf("%v", err)
	}
	return c.bake(defPath, dir)
}

// floorFile is nullfrontend's Floor: what one target's frontend solves in the LLB floor.
type floorFile struct {
	Tests [][]byte `json:"tests"`
	Image []byte   `json:"image"`
}

// llbFloorImages are what combination comb's target has to build and test at the least: each of its
// chunks alone, then the combination image, which is last.
func (p *ciProject) llbFloorImages(comb string) []ciFloorImage {
	chunks := p.resolve(comb)
	var out []ciFloorImage
	for _, ch := range chunks {
		out = append(out, ciFloorImage{name: "chunk:" + ch, chunks: []string{ch}, alone: true})
	}
	return append(out, ciFloorImage{name: comb, chunks: chunks})
}

func marshalDef(st llb.State) []byte {
	def, err := st.Marshal(context.Background())
	if err != nil {
		fatalf("a floor definition: %v", err)
	}
	dt, err := def.ToPB().Marshal()
	if err != nil {
		fatalf("a floor definition: %v", err)
	}
	return dt
}
