// Command dazzlekit-bench compares dazzlekit with dazzle v0.1.17 and a monolithic Dockerfile on
// generated projects of N independent chunks, on one BuildKit daemon that it prunes between cold runs
// (run it only against a daemon of its own: hack/bench.sh starts one). It prints a table and writes the
// raw figures as JSON.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tools, in table order.
const (
	toolDazzle     = "dazzle v0.1.17"
	toolMono       = "monolithic Dockerfile"
	toolKit        = "dazzlekit"
	toolKitNoTests = "dazzlekit, tests off"
	toolBake       = "dazzlekit bake"        // every combination in one docker buildx bake (the CI-scale project)
	toolBuild      = "dazzlekit build"       // the frontend in the dazzlekit build process, no frontend container: the one combination, or every one (CI scale)
	toolFloor      = "plain bake (floor)"    // the same bake of Dockerfiles FROM bake's images: BuildKit's and bake's own cost (ciFloor)
	toolGWFloor    = "null frontend (floor)" // the same bake through a gateway frontend that only returns bake's images (ciFloor)
	toolChunkFloor = "chunk alone (floor)"   // the edited chunk's steps and test in a plain Dockerfile FROM the pushed image (chunkFloor)
	toolMergeFloor = "merge (floor)"         // the same steps and tests on a MergeOp of the base and every chunk's diff, plain LLB (mergeFloor)
	toolTestFloor  = "tests alone (floor)"   // one container per image an edited test must run in, the test alone in each (ciTestFloor)
	toolBakeFloor  = "null + merge (floor)"  // the null frontend's bake and the merge floor's solves at once (ciBakeFloor)
	toolLLBFloor   = "LLB frontend (floor)"  // the merge floor's LLB through a frontend image that solves it: the same bake (ciLLBFloor), or one buildctl build (frontendFloor)
)

// Scenarios, in the order each tool goes through them after a pruned daemon.
const (
	scCold    = "cold"
	scWarm    = "warm"
	scEdit    = "edit one chunk"
	scNewComb = "new combination"
	scTests   = "tests only"
	// The CI-scale project's: its first test's command changed in one chunk folder, no layer.
	scEditTest = "edit one test"
)

var scenarios = []string{scCold, scWarm, scEdit, scNewComb, scTests}

type config struct {
	addr, registry, frontend, dazzle string
	buildctl                         string
	sizes                            []int
	reps, repsLarge                  int
	out, work                        string
	goBench                          string
	tools                            map[string]bool
	timeout                          time.Duration
	// The CI-scale project (ci.go).
	sizesOn, ciOn              bool
	ciCombinations, ciReps     int
	ciRepsDazzle               int
	ciEditChunk, ciEditTest    string
	dazzlekit, docker, builder string
	nullFrontend               string // cmd/dazzlekit-bench/nullfrontend's image, for the gateway floor
}

// Run is one tool's build in one scenario.
type Run struct {
	N        int     `json:"n"`
	Rep      int     `json:"rep"`
	Tool     string  `json:"tool"`
	Scenario string  `json:"scenario"`
	Seconds  float64 `json:"seconds"`
	// CPUSeconds is the machine's busy CPU time during the run (every process, in core-seconds from
	// /proc/stat): on 2 cores a run whose steps leave the CPU idle is bound by them, one over about
	// twice its seconds by the CPU.
	CPUSeconds float64  `json:"cpuSeconds"`
	OK         bool     `json:"ok"`
	Error      string   `json:"error,omitempty"`
	Project    string   `json:"project,omitempty"` // "ci" for the CI-scale project; N is then its number of chunks
	Steps      Steps    `json:"steps"`
	Log        string   `json:"log"`
	Commands   []string `json:"commands"`
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == floorSolveCommand {
		os.Exit(floorSolveMain(os.Args[2:]))
	}
	var c config
	var sizes, tools, projects string
	flag.StringVar(&c.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address (it is pruned: use a daemon of the benchmark's own)")
	flag.StringVar(&c.registry, "registry", "localhost:5055", "registry host:port holding dazzlekit/busybox:latest")
	flag.StringVar(&c.frontend, "frontend", "", "the dazzlekit frontend image")
	flag.StringVar(&c.nullFrontend, "null-frontend", "", "the image of cmd/dazzlekit-bench/nullfrontend: a CI-scale floor through a frontend container that does nothing (none without it)")
	flag.StringVar(&c.dazzle, "dazzle", "", "the dazzle v0.1.17 binary")
	flag.StringVar(&c.buildctl, "buildctl", "buildctl", "the buildctl binary")
	flag.StringVar(&sizes, "sizes", "8,32", "numbers of chunks")
	flag.IntVar(&c.reps, "reps", 3, "repetitions at the smallest size")
	flag.IntVar(&c.repsLarge, "reps-large", 1, "repetitions at the other sizes")
	flag.StringVar(&tools, "tools", "dazzle,mono,kit,kit-notest,bake,build", "tools to run (the CI-scale project runs dazzle, bake and build)")
	flag.StringVar(&projects, "scenarios", "sizes,ci", "projects to run: sizes (N independent chunks, -sizes), ci (CI-scale, workspace-images' shape)")
	flag.IntVar(&c.ciCombinations, "ci-combinations", 0, "keep the CI-scale project's first K combinations and the chunks they use (0: all 41)")
	// A dazzlekit run of the CI-scale project varies by several seconds from one run to the next
	// (a cold build by over 20%), a cold dazzle run by a few percent of its seven minutes: a median
	// of three tells what dazzlekit costs, one dazzle run (over 20 minutes) what dazzle does.
	flag.IntVar(&c.ciReps, "ci-reps", 3, "repetitions of the CI-scale project through dazzlekit (bake and build)")
	flag.IntVar(&c.ciRepsDazzle, "ci-reps-dazzle", 1, "repetitions of the CI-scale project through dazzle")
	flag.StringVar(&c.ciEditChunk, "ci-edit-chunk", "lang-c", "chunk folder whose first RUN step the CI-scale edit-one-chunk scenario changes")
	flag.StringVar(&c.ciEditTest, "ci-edit-test", "lang-node", "chunk folder whose first test's command the CI-scale edit-one-test scenario changes")
	flag.StringVar(&c.dazzlekit, "dazzlekit", "", "the dazzlekit binary built for this host (for `dazzlekit bake`)")
	flag.StringVar(&c.docker, "docker", "docker", "the docker CLI with the buildx plugin")
	flag.StringVar(&c.builder, "builder", os.Getenv("BUILDX_BUILDER"), "buildx builder on the -addr daemon")
	flag.StringVar(&c.out, "out", "bench-results", "directory for the JSON and the logs")
	flag.StringVar(&c.work, "work", "", "directory for the generated projects (default: <out>/work)")
	flag.StringVar(&c.goBench, "gobench", "", "output of `go test -bench` to include")
	flag.DurationVar(&c.timeout, "timeout", 15*time.Minute, "limit of one build")
	flag.Parse()
	for _, s := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			fatalf("bad -sizes %q", sizes)
		}
		c.sizes = append(c.sizes, n)
	}
	for _, s := range strings.Split(projects, ",") {
		switch strings.TrimSpace(s) {
		case "sizes":
			c.sizesOn = true
		case "ci":
			c.ciOn = true
		default:
			fatalf("unknown scenario set %q in -scenarios (sizes, ci)", s)
		}
	}
	c.tools = map[string]bool{}
	names := map[string]string{"dazzle": toolDazzle, "mono": toolMono, "kit": toolKit, "kit-notest": toolKitNoTests, "bake": toolBake, "build": toolBuild}
	for _, t := range strings.Split(tools, ",") {
		if names[t] == "" {
			fatalf("unknown tool %q", t)
		}
		c.tools[names[t]] = true
	}
	if c.addr == "" || (c.tools[toolKit] || c.tools[toolKitNoTests] || c.tools[toolBake]) && c.frontend == "" || c.tools[toolDazzle] && c.dazzle == "" {
		fatalf("need -addr, -frontend and -dazzle")
	}
	if c.ciOn && c.tools[toolBake] && (c.dazzlekit == "" || c.builder == "") {
		fatalf("the CI-scale project's bake runs need -dazzlekit and -builder (or BUILDX_BUILDER)")
	}
	if c.tools[toolBuild] && c.dazzlekit == "" {
		fatalf("the dazzlekit build runs need -dazzlekit (a static build: it is the tests' runner)")
	}
	if !c.sizesOn {
		c.sizes = nil
	}
	if c.work == "" {
		c.work = filepath.Join(c.out, "work")
	}
	started := time.Now()
	res := Results{Date: started.UTC().Format(time.RFC3339), Machine: machine(), Sizes: c.sizes}
	var ci *ciProject
	res.FrontendImage = c.frontend
	if c.frontend != "" {
		sz, err := imageSize(c.frontend)
		if err != nil {
			logf("frontend image size: %v", err)
		}
		res.FrontendCompressedBytes = sz
	}
	if c.goBench != "" {
		res.GoBench = parseGoBench(c.goBench)
	}
	for _, n := range c.sizes {
		reps := c.repsLarge
		if n == c.sizes[0] {
			reps = c.reps
		}
		for rep := 0; rep < reps; rep++ {
			for _, tool := range []string{toolDazzle, toolMono, toolKit, toolKitNoTests, toolBuild} {
				if !c.tools[tool] {
					continue
				}
				res.Runs = append(res.Runs, c.sequence(n, rep, tool)...)
			}
		}
	}
	if c.ciOn {
		for rep := 0; rep < max(c.ciReps, c.ciRepsDazzle); rep++ {
			for _, tool := range []string{toolDazzle, toolBake, toolBuild} {
				reps := c.ciReps
				if tool == toolDazzle {
					reps = c.ciRepsDazzle
				}
				if !c.tools[tool] || rep >= reps {
					continue
				}
				var runs []Run
				ci, runs = c.ciSequence(rep, tool)
				res.Runs = append(res.Runs, runs...)
			}
		}
	}
	res.TotalSeconds = round(time.Since(started).Seconds(), 1)
	res.summarize()
	if ci != nil {
		res.CI = summarizeCI(ci, res.Runs)
		res.ciTargets()
	}
	table := res.table()
	fmt.Print(table)
	res.Table = table
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		fatalf("%v", err)
	}
	dt, _ := json.MarshalIndent(res, "", "  ")
	path := filepath.Join(c.out, "bench-"+started.UTC().Format("20060102-150405")+".json")
	if err := os.WriteFile(path, append(dt, '\n'), 0o644); err != nil {
		fatalf("%v", err)
	}
	_ = os.WriteFile(filepath.Join(c.out, "latest.json"), append(dt, '\n'), 0o644)
	_ = os.WriteFile(filepath.Join(c.out, "latest.txt"), []byte(table), 0o644)
	logf("raw figures: %s", path)
}

// sequence runs one tool through every scenario, starting from a pruned daemon, on a project of
// its own so one tool's edits and pushes never help another.
func (c *config) sequence(n, rep int, tool string) []Run {
	slug := map[string]string{toolDazzle: "dazzle", toolMono: "mono", toolKit: "kit", toolKitNoTests: "kit-notest", toolBuild: "build"}[tool]
	dir, _ := filepath.Abs(filepath.Join(c.work, fmt.Sprintf("n%d-r%d-%s", n, rep, slug)))
	p, err := newProject(dir, c.registry, n)
	if err != nil {
		fatalf("generating %s: %v", dir, err)
	}
	// A fresh repository per sequence: dazzle caches by registry tags, so a cold run needs one.
	repo := fmt.Sprintf("%s/bench/%s-n%d-r%d-%d", c.registry, slug, n, rep, time.Now().Unix())
	logDir := filepath.Join(c.out, "logs", fmt.Sprintf("n%d-r%d-%s", n, rep, slug))
	_ = os.MkdirAll(logDir, 0o755)

	var runs []Run
	for i, sc := range scenarios {
		switch sc {
		case scCold:
			c.prune()
		case scEdit:
			err = p.editChunk(p.middle())
		case scNewComb:
			err = p.addOddCombination()
		case scTests:
			err = p.editTests()
		}
		if err != nil {
			fatalf("editing %s: %v", dir, err)
		}
		if sc == scTests && (tool == toolMono || tool == toolKitNoTests) {
			continue // nothing to run: this tool runs no tests
		}
		comb := combAll
		if sc == scNewComb {
			comb = combOdd
		}
		r := Run{N: n, Rep: rep, Tool: tool, Scenario: sc, Log: filepath.Join(logDir, fmt.Sprintf("%d-%s.log", i, strings.ReplaceAll(sc, " ", "-")))}
		logf("N=%d rep %d %-22s %-16s ...", n, rep+1, tool, sc)
		cmds, parse := c.commands(tool, p.Dir, repo, comb, logDir)
		c.run(&r, cmds, parse)
		status := "ok"
		if !r.OK {
			status = "FAILED: " + firstLine(r.Error) + " (log " + r.Log + ")"
		}
		logf("N=%d rep %d %-22s %-16s %7.1fs  RUN %d, tests %d ran, %d exec cached  %s", n, rep+1, tool, sc, r.Seconds, r.Steps.RunRan, r.Steps.TestsRan, r.Steps.ExecCached, status)
		runs = append(runs, r)
	}
	if tool == toolKit {
		runs = append(runs, c.chunkFloor(p, n, rep, repo, logDir), c.mergeFloor(p, n, rep, repo, logDir))
		if c.nullFrontend != "" {
			runs = append(runs, c.frontendFloor(p, n, rep, repo, logDir))
		}
	}
	return runs
}

// chunkFloor measures the least an edit of one chunk costs around that chunk's own steps: a plain
// Dockerfile, through the Dockerfile frontend built into buildkitd, FROM the combination image
// dazzlekit pushed, with the edited chunk's steps (a revision of their own) and the tests that
// edit has to run (floorDockerfile), pushed to a repository of its own. That is BuildKit's
// client, solve, one test container and export around the steps, with no frontend container, diff
// or merge. The first build brings the image into snapshots and the registry; the second, with the
// steps changed again, is the floor under "edit one chunk".
func (c *config) chunkFloor(p *benchProject, n, rep int, repo, logDir string) Run {
	dir := floorDir(logDir, "floor")
	chunk := chunkName(p.middle())
	return c.editFloor(p, n, rep, toolChunkFloor, "floor", "copy", logDir, func(k int) []command {
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(p.floorDockerfile(repo, k)), 0o644); err != nil {
			fatalf("%v", err)
		}
		return c.dockerfileBuild(dir, "--output", "type=image,name="+repo+"-floor:"+combAll+",push=true")
	}, func(r *Run) {
		// Its vertices are the Dockerfile frontend's, not named by chunk: the chunk's steps are the
		// RUN steps that write under /opt/<chunk>/ (the tests' RUN names only their commands).
		for _, v := range r.Steps.Slowest {
			if isRun(v.Name) && strings.Contains(v.Name, "/opt/"+chunk+"/") {
				if r.Steps.ChunkRun == nil {
					r.Steps.ChunkRun = map[string]float64{}
				}
				r.Steps.ChunkRun[chunk] = round(r.Steps.ChunkRun[chunk]+v.Seconds, 2)
			}
		}
	})
}

// editFloor runs a floor's two builds, the middle chunk's steps changed before each: the first
// (scenario first) brings what the floor needs into the cache and the registry, the second, under
// "edit one chunk", is the figure. build gives run k's commands; steps, when set, completes what
// the progress parser could not tell (the chunk's step time).
func (c *config) editFloor(p *benchProject, n, rep int, tool, slug, first, logDir string, build func(k int) []command, steps func(r *Run)) Run {
	i := p.middle()
	var r Run
	for k, sc := range []string{first, scEdit} {
		p.rev[i]++
		cmds := build(k)
		r = Run{N: n, Rep: rep, Tool: tool, Scenario: sc, Log: filepath.Join(logDir, fmt.Sprintf("%s-%d-%s.log", slug, k, strings.ReplaceAll(sc, " ", "-")))}
		logf("N=%d rep %d %-22s %-16s ...", n, rep+1, tool, sc)
		c.run(&r, cmds, parseRawJSON)
		if steps != nil {
			steps(&r)
		}
		logf("N=%d rep %d %-22s %-16s %7.1fs  RUN %d, the chunk's %.2fs", n, rep+1, tool, sc, r.Seconds, r.Steps.RunRan, r.Steps.ChunkRun[chunkName(i)])
		if !r.OK {
			fatalf("the %s build failed: %s (log %s)", tool, firstLine(r.Error), r.Log)
		}
	}
	return r
}

// dockerfileBuild is a build of the Dockerfile in dir, with dir as its context, through the
// Dockerfile frontend built into buildkitd; args follow (options, outputs).
func (c *config) dockerfileBuild(dir string, args ...string) []command {
	return c.buildctlBuild(append([]string{"--frontend", "dockerfile.v0", "--local", "context=" + dir, "--local", "dockerfile=" + dir}, args...)...)
}

// buildctlBuild is one `buildctl build` on the benchmark's daemon, its progress as rawjson.
func (c *config) buildctlBuild(args ...string) []command {
	return []command{{argv: append([]string{c.buildctl, "--addr", c.addr, "build", "--progress=rawjson"}, args...)}}
}

// command is one process of a run; its stdout goes to the file out when set, else to the log, and
// its stdin comes from the file in when set.
type command struct {
	argv []string
	dir  string
	out  string
	in   string // a file for its stdin
}

// commands are what tool runs to build comb (every combination when comb is "") of the project in
// dir and push it to repo, and the parser of their output.
func (c *config) commands(tool, dir, repo, comb, logDir string) ([]command, func(io.Reader) Steps) {
	switch tool {
	case toolDazzle:
		// As dazzle's users run it: build every chunk, then combine (tests on in both).
		combine := []string{c.dazzle, "--addr", c.addr, "--context", dir, "combine", repo, "--all"}
		if comb != "" {
			combine = []string{c.dazzle, "--addr", c.addr, "--context", dir, "combine", repo, "--combination", comb}
		}
		return []command{
			{argv: []string{c.dazzle, "--addr", c.addr, "--context", dir, "build", "--plain-output", repo}},
			{argv: combine},
		}, parseDazzle
	case toolMono:
		return c.dockerfileBuild(filepath.Join(dir, "monolithic"), "--opt", "filename=Dockerfile."+comb,
			"--output", "type=image,name="+repo+":"+comb+",push=true"), parseRawJSON
	case toolKit, toolKitNoTests:
		args := []string{"--frontend", "gateway.v0", "--opt", "source=" + c.frontend,
			"--local", "context=" + dir, "--local", "dockerfile=" + dir, "--opt", "filename=dazzle.yaml",
			"--opt", "target=" + comb, "--output", "type=image,name=" + repo + ":" + comb + ",push=true"}
		if tool == toolKitNoTests {
			args = append(args, "--opt", "build-arg:DAZZLE_NO_TEST=1")
		}
		return c.buildctlBuild(args...), parseRawJSON
	case toolBake:
		// As the README has CI run it: the definition, then one bake of every combination.
		def := filepath.Join(logDir, "docker-bake.json")
		return []command{
			{argv: []string{c.dazzlekit, "bake", "--registry", repo, "--frontend", c.frontend, "--context", dir, dir}, out: def},
			c.bake(def, dir),
		}, parseRawJSON
	case toolBuild:
		// The same combinations and tags as bake's, from one process that is their frontend; on one
		// combination, that combination only, tagged as the gateway frontend's run tags it.
		argv := []string{c.dazzlekit, "build", "--addr", c.addr, "--registry", repo, "--progress=rawjson"}
		if comb != "" {
			argv = append(argv, "--combination", comb)
		}
		return []command{{argv: append(argv, dir)}}, parseRawJSON
	}
	panic("unknown tool " + tool)
}

// prune empties the benchmark's buildkitd before a cold run. Only the benchmark's own daemon is
// ever pruned (hack/bench.sh refuses any other).
func (c *config) prune() {
	if out, err := exec.Command(c.buildctl, "--addr", c.addr, "prune", "--all").CombinedOutput(); err != nil {
		fatalf("pruning the benchmark's buildkitd: %v\n%s", err, out)
	}
}

// bake is one docker buildx bake of the definition def, run in dir, pushing every target with its
// progress as raw JSON. Provenance is off, as no other tool here attaches any.
func (c *config) bake(def, dir string) command {
	return command{argv: []string{c.docker, "buildx", "bake", "--builder", c.builder, "-f", def, "--push", "--progress=rawjson",
		"--set", "*.attest=type=provenance,disabled=true"}, dir: dir}
}

func (c *config) run(r *Run, cmds []command, parse func(io.Reader) Steps) {
	c.runCommands(r, cmds, false, parse)
}

// runTogether is run with every command started at once, and the run over when the last one is:
// a floor made of two loads that a tool pays side by side on the same cores (ciBakeFloor). Each
// command's output goes to the log whole, after the one before it, so that the progress streams
// of two clients do not cut into each other's lines.
func (c *config) runTogether(r *Run, cmds []command, parse func(io.Reader) Steps) {
	c.runCommands(r, cmds, true, parse)
}

func (c *config) runCommands(r *Run, cmds []command, together bool, parse func(io.Reader) Steps) {
	f, err := os.Create(r.Log)
	if err != nil {
		fatalf("%v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	w := io.MultiWriter(f, &out)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	waitIdle()
	busy0, _, _ := cpuTimes()
	start := time.Now()
	r.OK = true
	fail := func(cm command, err error, output string) {
		if r.OK {
			r.OK = false
			r.Error = fmt.Sprintf("%s: %v\n%s", filepath.Base(cm.argv[0]), err, tail(output, 15))
		}
	}
	if together {
		bufs := make([]bytes.Buffer, len(cmds))
		errs := make([]error, len(cmds))
		var wg sync.WaitGroup
		for i, cm := range cmds {
			r.Commands = append(r.Commands, cm.line())
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = cm.run(ctx, &bufs[i])
			}()
		}
		wg.Wait()
		for i, cm := range cmds {
			fmt.Fprintf(w, "$ %s\n", cm.line())
			_, _ = w.Write(bufs[i].Bytes())
			if errs[i] != nil {
				fail(cm, errs[i], bufs[i].String())
			}
		}
	} else {
		for _, cm := range cmds {
			r.Commands = append(r.Commands, cm.line())
			fmt.Fprintf(w, "$ %s\n", cm.line())
			if err := cm.run(ctx, w); err != nil {
				fail(cm, err, out.String())
				break
			}
		}
	}
	r.Seconds = round(time.Since(start).Seconds(), 2)
	if busy1, _, ok := cpuTimes(); ok && busy1 >= busy0 {
		r.CPUSeconds = round(float64(busy1-busy0)/clockTicks, 2)
	}
	r.Steps = parse(bytes.NewReader(out.Bytes()))
}

// line is cm as a shell would show it.
func (cm command) line() string {
	line := strings.Join(cm.argv, " ")
	if cm.out != "" {
		line += " > " + cm.out
	}
	if cm.in != "" {
		line += " < " + cm.in
	}
	return line
}

// run runs cm to its end, its output (but for what cm.out redirects) to w.
func (cm command) run(ctx context.Context, w io.Writer) error {
	cmd := exec.CommandContext(ctx, cm.argv[0], cm.argv[1:]...)
	cmd.Dir = cm.dir
	cmd.Stdout, cmd.Stderr = w, w
	if cm.in != "" {
		f, err := os.Open(cm.in)
		if err != nil {
			fatalf("%v", err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	if cm.out != "" {
		stdout, err := os.Create(cm.out)
		if err != nil {
			fatalf("%v", err)
		}
		defer stdout.Close()
		cmd.Stdout = stdout
	}
	// dazzle reads ~/.docker/config.json for registry auth; none is needed here.
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	return cmd.Run()
}

func machine() map[string]string {
	m := map[string]string{"cores": strconv.Itoa(runtime.NumCPU()), "goos": runtime.GOOS, "goarch": runtime.GOARCH}
	if dt, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(dt), "\n") {
			if strings.HasPrefix(l, "model name") {
				m["cpu"] = strings.TrimSpace(l[strings.Index(l, ":")+1:])
				break
			}
		}
	}
	if dt, err := os.ReadFile("/proc/meminfo"); err == nil {
		if f := strings.Fields(strings.SplitN(string(dt), "\n", 2)[0]); len(f) >= 2 {
			kb, _ := strconv.Atoi(f[1])
			m["memory"] = fmt.Sprintf("%.0f GiB", float64(kb)/(1<<20))
		}
	}
	if out, err := exec.Command("uname", "-r").Output(); err == nil {
		m["kernel"] = strings.TrimSpace(string(out))
	}
	return m
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func firstLine(s string) string { return strings.SplitN(s, "\n", 2)[0] }

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", a...)
}

func fatalf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "dazzlekit-bench: "+format+"\n", a...)
	os.Exit(1)
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
