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
	"time"
)

// Tools, in table order.
const (
	toolDazzle     = "dazzle v0.1.17"
	toolMono       = "monolithic Dockerfile"
	toolKit        = "dazzlekit"
	toolKitNoTests = "dazzlekit, tests off"
)

// Scenarios, in the order each tool goes through them after a pruned daemon.
const (
	scCold    = "cold"
	scWarm    = "warm"
	scEdit    = "edit one chunk"
	scNewComb = "new combination"
	scTests   = "tests only"
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
}

// Run is one tool's build in one scenario.
type Run struct {
	N        int      `json:"n"`
	Rep      int      `json:"rep"`
	Tool     string   `json:"tool"`
	Scenario string   `json:"scenario"`
	Seconds  float64  `json:"seconds"`
	OK       bool     `json:"ok"`
	Error    string   `json:"error,omitempty"`
	Steps    Steps    `json:"steps"`
	Log      string   `json:"log"`
	Commands []string `json:"commands"`
}

func main() {
	var c config
	var sizes, tools string
	flag.StringVar(&c.addr, "addr", os.Getenv("BUILDKIT_HOST"), "buildkitd address (it is pruned: use a daemon of the benchmark's own)")
	flag.StringVar(&c.registry, "registry", "localhost:5055", "registry host:port holding dazzlekit/busybox:latest")
	flag.StringVar(&c.frontend, "frontend", "", "the dazzlekit frontend image")
	flag.StringVar(&c.dazzle, "dazzle", "", "the dazzle v0.1.17 binary")
	flag.StringVar(&c.buildctl, "buildctl", "buildctl", "the buildctl binary")
	flag.StringVar(&sizes, "sizes", "8,32", "numbers of chunks")
	flag.IntVar(&c.reps, "reps", 3, "repetitions at the smallest size")
	flag.IntVar(&c.repsLarge, "reps-large", 1, "repetitions at the other sizes")
	flag.StringVar(&tools, "tools", "dazzle,mono,kit,kit-notest", "tools to run")
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
	c.tools = map[string]bool{}
	names := map[string]string{"dazzle": toolDazzle, "mono": toolMono, "kit": toolKit, "kit-notest": toolKitNoTests}
	for _, t := range strings.Split(tools, ",") {
		if names[t] == "" {
			fatalf("unknown tool %q", t)
		}
		c.tools[names[t]] = true
	}
	if c.addr == "" || (c.tools[toolKit] || c.tools[toolKitNoTests]) && c.frontend == "" || c.tools[toolDazzle] && c.dazzle == "" {
		fatalf("need -addr, -frontend and -dazzle")
	}
	if c.work == "" {
		c.work = filepath.Join(c.out, "work")
	}
	started := time.Now()
	res := Results{Date: started.UTC().Format(time.RFC3339), Machine: machine(), Sizes: c.sizes}
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
			for _, tool := range []string{toolDazzle, toolMono, toolKit, toolKitNoTests} {
				if !c.tools[tool] {
					continue
				}
				res.Runs = append(res.Runs, c.sequence(n, rep, tool)...)
			}
		}
	}
	res.TotalSeconds = round(time.Since(started).Seconds(), 1)
	res.summarize()
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
	slug := map[string]string{toolDazzle: "dazzle", toolMono: "mono", toolKit: "kit", toolKitNoTests: "kit-notest"}[tool]
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
			if out, err := exec.Command(c.buildctl, "--addr", c.addr, "prune", "--all").CombinedOutput(); err != nil {
				fatalf("pruning the benchmark's buildkitd: %v\n%s", err, out)
			}
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
		c.run(&r, p, repo, comb)
		status := "ok"
		if !r.OK {
			status = "FAILED: " + firstLine(r.Error) + " (log " + r.Log + ")"
		}
		logf("N=%d rep %d %-22s %-16s %7.1fs  RUN %d, tests %d ran, %d exec cached  %s", n, rep+1, tool, sc, r.Seconds, r.Steps.RunRan, r.Steps.TestsRan, r.Steps.ExecCached, status)
		runs = append(runs, r)
	}
	return runs
}

func (c *config) run(r *Run, p *benchProject, repo, comb string) {
	var cmds [][]string
	parse := parseRawJSON
	buildctl := []string{c.buildctl, "--addr", c.addr, "build", "--progress=rawjson"}
	switch r.Tool {
	case toolDazzle:
		// As dazzle's users run it: build every chunk, then combine (tests on in both).
		cmds = [][]string{
			{c.dazzle, "--addr", c.addr, "--context", p.Dir, "build", "--plain-output", repo},
			{c.dazzle, "--addr", c.addr, "--context", p.Dir, "combine", repo, "--combination", comb},
		}
		parse = parseDazzle
	case toolMono:
		dir := filepath.Join(p.Dir, "monolithic")
		cmds = [][]string{append(buildctl, "--frontend", "dockerfile.v0",
			"--local", "context="+dir, "--local", "dockerfile="+dir, "--opt", "filename=Dockerfile."+comb,
			"--output", "type=image,name="+repo+":"+comb+",push=true")}
	case toolKit, toolKitNoTests:
		cmd := append(buildctl, "--frontend", "gateway.v0", "--opt", "source="+c.frontend,
			"--local", "context="+p.Dir, "--local", "dockerfile="+p.Dir, "--opt", "filename=dazzle.yaml",
			"--opt", "target="+comb, "--output", "type=image,name="+repo+":"+comb+",push=true")
		if r.Tool == toolKitNoTests {
			cmd = append(cmd, "--opt", "build-arg:DAZZLE_NO_TEST=1")
		}
		cmds = [][]string{cmd}
	}
	f, err := os.Create(r.Log)
	if err != nil {
		fatalf("%v", err)
	}
	defer f.Close()
	var out bytes.Buffer
	w := io.MultiWriter(f, &out)
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	r.OK = true
	for _, argv := range cmds {
		r.Commands = append(r.Commands, strings.Join(argv, " "))
		fmt.Fprintf(w, "$ %s\n", strings.Join(argv, " "))
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = w, w
		// dazzle reads ~/.docker/config.json for registry auth; none is needed here.
		cmd.Env = append(os.Environ(), "NO_COLOR=1")
		if err := cmd.Run(); err != nil {
			r.OK = false
			r.Error = fmt.Sprintf("%s: %v\n%s", filepath.Base(argv[0]), err, tail(out.String(), 15))
			break
		}
	}
	r.Seconds = round(time.Since(start).Seconds(), 2)
	r.Steps = parse(bytes.NewReader(out.Bytes()))
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
