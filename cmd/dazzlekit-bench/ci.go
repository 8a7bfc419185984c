package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The CI-scale project has the shape of gitpod's workspace-images, the largest dazzle project we
// know of: its chunk folders, their variants, and its combinations with their `ref:`s. Only the
// shape is kept: every chunk's steps are synthetic (ciSteps), so the figures depend on how each tool
// schedules and caches work, not on what the chunks download.
type ciFolder struct {
	name     string
	variants []string // none: the folder is one chunk, without chunk.yaml
}

type ciComb struct {
	name   string
	ref    []string
	chunks []string
}

var ciFolders = []ciFolder{
	{"dep-cacert-update", nil},
	{"lang-c", nil},
	{"lang-clojure", nil},
	{"lang-elixir", nil},
	{"lang-go", []string{"1.24"}},
	{"lang-java", []string{"11", "17", "21", "23", "25"}},
	{"lang-node", []string{"18", "20", "22", "23", "24", "25"}},
	{"lang-python", []string{"3.13", "3.12", "3.11", "3.10"}},
	{"lang-ruby", []string{"3.1", "3.2", "3.3"}},
	{"lang-rust", []string{"1"}},
	{"tool-brew", nil},
	{"tool-bun", []string{"1"}},
	{"tool-chrome", nil},
	{"tool-docker", nil},
	{"tool-dotnet", []string{"6", "8"}},
	{"tool-mongodb", nil},
	{"tool-mysql", nil},
	{"tool-nginx", nil},
	{"tool-nix", []string{"2"}},
	{"tool-postgresql", nil},
	{"tool-tailscale", nil},
	{"tool-vnc", nil},
	{"tool-yugabytedb", []string{"2.18", "2.19", "2.20"}},
}

func ciCombs() []ciComb {
	base := []string{"base"}
	full := []string{"full"}
	ws := func(s string) []string { return strings.Fields(s) }
	yb := "lang-c lang-clojure lang-go:1.24 lang-java:11 lang-node:22 lang-ruby:3.2 lang-rust:1 tool-brew tool-nginx tool-nix:2 "
	cs := []ciComb{
		{"base", nil, ws("dep-cacert-update tool-docker tool-tailscale")},
		{"gitpod-dev", base, ws("lang-c lang-go:1.24 lang-java:11 lang-node:22 tool-brew")},
		{"c", base, ws("lang-c")},
		{"clojure", base, ws("lang-clojure")},
		{"elixir", base, ws("lang-elixir")},
		{"full", base, ws("lang-c lang-clojure lang-go:1.24 lang-java:11 lang-node:24 lang-python:3.13 lang-ruby:3.2 lang-rust:1 tool-brew tool-nginx tool-nix:2")},
		{"full-vnc", full, ws("tool-chrome tool-vnc")},
		{"go", base, ws("lang-go:1.24")},
		{"nix", base, ws("tool-nix:2")},
		{"node", base, ws("lang-node:25 tool-chrome")},
		{"node-lts", base, ws("lang-node:24 tool-chrome")},
	}
	for _, v := range []string{"18", "20", "22", "23", "24", "25"} {
		cs = append(cs, ciComb{"node-" + v, base, ws("lang-node:" + v + " tool-chrome")})
	}
	cs = append(cs, ciComb{"python", base, ws("lang-python:3.13")})
	for _, v := range []string{"3.13", "3.12", "3.11", "3.10"} {
		cs = append(cs, ciComb{"python-" + v, base, ws("lang-python:" + v)})
	}
	for _, v := range []string{"3.1", "3.2", "3.3"} {
		cs = append(cs, ciComb{"ruby-" + v, base, ws("lang-ruby:" + v)})
	}
	cs = append(cs,
		ciComb{"ruby-3", base, ws("lang-ruby:3.3")},
		ciComb{"rust", base, ws("lang-rust:1")},
		ciComb{"dotnet", full, ws("tool-dotnet:8")},
		ciComb{"dotnet-6", full, ws("tool-dotnet:6")},
		ciComb{"dotnet-8", full, ws("tool-dotnet:8")},
		ciComb{"postgres", full, ws("tool-postgresql")},
		ciComb{"mysql", full, ws("tool-mysql")},
		ciComb{"mongodb", full, ws("tool-mongodb")},
	)
	for _, v := range []string{"11", "17", "21", "23", "25"} {
		cs = append(cs, ciComb{"java-" + v, base, ws("lang-java:" + v)})
	}
	return append(cs,
		ciComb{"yugabytedb", base, ws(yb + "tool-yugabytedb:2.18")},
		ciComb{"yugabytedb-preview", base, ws(yb + "tool-yugabytedb:2.19")},
		ciComb{"bun", base, ws("tool-bun:1")},
	)
}

// ciStepsPerChunk RUN steps of about a second and 2 MB each make one chunk.
const ciStepsPerChunk = 2

// ciProject is one generated CI-scale project. As benchProject, it stays within dazzle v0.1.17's
// limits.
type ciProject struct {
	Dir, Registry string
	folders       []ciFolder
	combs         []ciComb
	EditChunk     string // the folder the edit-one-chunk scenario changes
	EditTest      string // the folder whose first test the edit-one-test scenario changes
	chunkRev      int
	testRev       int
}

// newCIProject writes the project with its first k combinations (all when k is 0 or more than
// there are), and only the chunks those use when it is cut down, so a short run stays short.
func newCIProject(dir, registry string, k int, editChunk, editTest string) (*ciProject, error) {
	p := &ciProject{Dir: dir, Registry: registry, folders: ciFolders, combs: ciCombs(), EditChunk: editChunk, EditTest: editTest}
	if k > 0 && k < len(p.combs) {
		p.combs = p.combs[:k]
		used := map[string]bool{}
		for _, c := range p.combs {
			for _, ch := range p.resolve(c.name) {
				used[ch] = true
			}
		}
		var fs []ciFolder
		for _, f := range ciFolders {
			if f.variants == nil {
				if used[f.name] {
					fs = append(fs, f)
				}
				continue
			}
			var vs []string
			for _, v := range f.variants {
				if used[f.name+":"+v] {
					vs = append(vs, v)
				}
			}
			if vs != nil {
				fs = append(fs, ciFolder{f.name, vs})
			}
		}
		p.folders = fs
	}
	for _, f := range []string{editChunk, editTest} {
		if len(p.combinationsWith(f)) == 0 {
			return nil, fmt.Errorf("chunk folder %s is in none of the %d combinations", f, len(p.combs))
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return p, p.write()
}

func (p *ciProject) editChunk() error { p.chunkRev++; return p.write() }
func (p *ciProject) editTest() error  { p.testRev++; return p.write() }

// resolve is a combination's chunks with its refs followed, as dazzle resolves them.
func (p *ciProject) resolve(name string) []string {
	var out []string
	for _, c := range p.combs {
		if c.name != name {
			continue
		}
		for _, r := range c.ref {
			out = append(out, p.resolve(r)...)
		}
		out = append(out, c.chunks...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func folderOf(chunk string) string { return strings.SplitN(chunk, ":", 2)[0] }

// combinationsWith lists the combinations holding a chunk of folder f.
func (p *ciProject) combinationsWith(f string) []string {
	var out []string
	for _, c := range p.combs {
		if slices.ContainsFunc(p.resolve(c.name), func(ch string) bool { return folderOf(ch) == f }) {
			out = append(out, c.name)
		}
	}
	return out
}

// usedChunks are the chunks of every combination; bake builds these, dazzle builds every chunk.
func (p *ciProject) usedChunks() []string {
	var out []string
	for _, c := range p.combs {
		out = append(out, p.resolve(c.name)...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (p *ciProject) chunkCount() int {
	n := 0
	for _, f := range p.folders {
		n += max(1, len(f.variants))
	}
	return n
}

func (p *ciProject) testCount(folder string) int {
	i := slices.IndexFunc(ciFolders, func(f ciFolder) bool { return f.name == folder })
	return 1 + (i+1)%2 // one or two tests, alternating
}

// Need is the least work a scenario demands when every chunk is tested alone and in each
// combination that holds it (as dazzle does, and dazzlekit): RUN steps whose inputs changed, and
// test execs whose image or command changed. Combinations of the same chunks (python and
// python-3.13) are one image, tested once.
type Need struct {
	Run   int    `json:"run"`
	Tests int    `json:"tests"`
	Why   string `json:"why"`
}

// images are the distinct combination images, each named by the first combination that resolves
// to its chunks.
func (p *ciProject) images() []string {
	var out []string
	var seen [][]string
	for _, c := range p.combs {
		chunks := p.resolve(c.name)
		if !slices.ContainsFunc(seen, func(o []string) bool { return slices.Equal(o, chunks) }) {
			seen = append(seen, chunks)
			out = append(out, c.name)
		}
	}
	return out
}

// imagesHolding are the distinct combination images (as images names them) holding a chunk of
// folder f: those of images among combinationsWith(f).
func (p *ciProject) imagesHolding(f string) []string {
	with := p.combinationsWith(f)
	return slices.DeleteFunc(p.images(), func(img string) bool { return !slices.Contains(with, img) })
}

func (p *ciProject) need(sc string) Need {
	used := p.usedChunks()
	tests := func(chunks []string) int {
		n := 0
		for _, ch := range chunks {
			n += p.testCount(folderOf(ch))
		}
		return n
	}
	inFolder := func(f string) []string {
		return slices.DeleteFunc(slices.Clone(used), func(ch string) bool { return folderOf(ch) != f })
	}
	switch sc {
	case scCold:
		n := Need{Run: 1 + ciStepsPerChunk*len(used), Tests: tests(used),
			Why: fmt.Sprintf("the base and %d chunks of %d combinations, %d distinct images", len(used), len(p.combs), len(p.images()))}
		for _, img := range p.images() {
			n.Tests += tests(p.resolve(img))
		}
		return n
	case scEdit:
		chunks, imgs := inFolder(p.EditChunk), p.imagesHolding(p.EditChunk)
		n := Need{Run: ciStepsPerChunk * len(chunks), Tests: tests(chunks),
			Why: fmt.Sprintf("%s: %d chunk(s), in %d of %d combinations, %d distinct images", p.EditChunk, len(chunks), len(p.combinationsWith(p.EditChunk)), len(p.combs), len(imgs))}
		for _, img := range imgs {
			n.Tests += tests(p.resolve(img))
		}
		return n
	case scEditTest:
		chunks, imgs := inFolder(p.EditTest), p.imagesHolding(p.EditTest)
		return Need{Tests: len(chunks) + len(imgs),
			Why: fmt.Sprintf("first test of %s: %d chunk(s), in %d of %d combinations, %d distinct images", p.EditTest, len(chunks), len(p.combinationsWith(p.EditTest)), len(p.combs), len(imgs))}
	}
	return Need{Why: "nothing changed"}
}

func (p *ciProject) baseImage() string { return p.Registry + "/dazzlekit/busybox:latest" }

// ciSteps are a chunk folder's Dockerfile: ciStepsPerChunk RUN steps of about a second and 2 MB
// each. VERSION is the variant's build arg, so each variant's steps are its own.
func (p *ciProject) ciSteps(f string) string {
	rev := 0
	if f == p.EditChunk {
		rev = p.chunkRev
	}
	return fmt.Sprintf(`ARG base
FROM ${base}
ARG VERSION=none
RUN mkdir -p /opt/%[1]s/bin && echo "%[1]s $VERSION rev %[2]d" > /opt/%[1]s/version && dd if=/dev/urandom of=/opt/%[1]s/blob1 bs=1M count=2 2>/dev/null && sleep 1
RUN dd if=/dev/urandom of=/opt/%[1]s/blob2 bs=1M count=2 2>/dev/null && printf '#!/bin/sh\ncat /opt/%[1]s/version\n' > /opt/%[1]s/bin/%[1]s && chmod 755 /opt/%[1]s/bin/%[1]s && sleep 1
ENV PATH=/opt/%[1]s/bin:$PATH
`, f, rev)
}

func (p *ciProject) write() error {
	var y strings.Builder
	y.WriteString("combiner:\n  combinations:\n")
	for _, c := range p.combs {
		fmt.Fprintf(&y, "    - name: %s\n", c.name)
		if len(c.ref) > 0 {
			fmt.Fprintf(&y, "      ref: [%s]\n", strings.Join(c.ref, ", "))
		}
		y.WriteString("      chunks:\n")
		for _, ch := range c.chunks {
			fmt.Fprintf(&y, "        - %q\n", ch)
		}
	}
	y.WriteString("  envvars:\n    - name: PATH\n      action: merge-unique\n")
	files := map[string]string{
		"dazzle.yaml":     y.String(),
		"base/Dockerfile": "FROM " + p.baseImage() + "\nRUN mkdir -p /opt/base && echo base > /opt/base/version && sleep 1\nENV BENCH_BASE=/opt/base\n",
	}
	for _, f := range p.folders {
		files["chunks/"+f.name+"/Dockerfile"] = p.ciSteps(f.name)
		if f.variants != nil {
			var c strings.Builder
			c.WriteString("variants:\n")
			for _, v := range f.variants {
				fmt.Fprintf(&c, "  - name: %q\n    args:\n      VERSION: %q\n", v, v)
			}
			files["chunks/"+f.name+"/chunk.yaml"] = c.String()
		}
		arg := ""
		if f.name == p.EditTest && p.testRev > 0 {
			arg = fmt.Sprintf(", \"t%d\"", p.testRev)
		}
		t := fmt.Sprintf(`- desc: "%[1]s should be installed"
  command: ["%[1]s"%[2]s]
  assert:
    - status == 0
    - stdout.indexOf("%[1]s ") != -1
`, f.name, arg)
		if p.testCount(f.name) == 2 {
			t += fmt.Sprintf(`- desc: "%[1]s should have its data"
  command: ["ls", "/opt/%[1]s/blob2"]
  assert:
    - status == 0
`, f.name)
		}
		files["tests/"+f.name+".yaml"] = t
	}
	for name, content := range files {
		path := filepath.Join(p.Dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

var ciScenarios = []string{scCold, scWarm, scEdit, scEditTest}

// ciSequence runs one tool through the CI-scale scenarios from a pruned daemon, on a project and a
// registry repository of its own.
func (c *config) ciSequence(rep int, tool string) (*ciProject, []Run) {
	slug := map[string]string{toolDazzle: "dazzle", toolBake: "bake", toolBuild: "build"}[tool]
	name := fmt.Sprintf("ci-r%d-%s", rep, slug)
	dir, _ := filepath.Abs(filepath.Join(c.work, name))
	p, err := newCIProject(dir, c.registry, c.ciCombinations, c.ciEditChunk, c.ciEditTest)
	if err != nil {
		fatalf("generating %s: %v", dir, err)
	}
	repo := fmt.Sprintf("%s/bench/ci-%s-r%d-%d", c.registry, slug, rep, time.Now().Unix())
	logDir, _ := filepath.Abs(filepath.Join(c.out, "logs", name))
	_ = os.MkdirAll(logDir, 0o755)
	var runs []Run
	for i, sc := range ciScenarios {
		switch sc {
		case scCold:
			c.prune()
		case scEdit:
			err = p.editChunk()
		case scEditTest:
			err = p.editTest()
		}
		if err != nil {
			fatalf("editing %s: %v", dir, err)
		}
		r := Run{N: p.chunkCount(), Rep: rep, Tool: tool, Scenario: sc, Project: "ci",
			Log: filepath.Join(logDir, fmt.Sprintf("%d-%s.log", i, strings.ReplaceAll(sc, " ", "-")))}
		logf("CI scale rep %d %-16s %-16s ...", rep+1, tool, sc)
		cmds, parse := c.commands(tool, p.Dir, repo, "", logDir)
		c.run(&r, cmds, parse)
		status := "ok"
		if !r.OK {
			status = "FAILED: " + firstLine(r.Error) + " (log " + r.Log + ")"
		}
		logf("CI scale rep %d %-16s %-16s %7.1fs  RUN %d, tests %d ran, %d exec cached, %s RUN %.1fs, CPU %.1f s  %s", rep+1, tool, sc, r.Seconds,
			r.Steps.RunRan, r.Steps.TestsRan, r.Steps.ExecCached, p.EditChunk, r.Steps.folderRunSeconds(p.EditChunk), r.CPUSeconds, status)
		runs = append(runs, r)
	}
	switch tool {
	case toolBake:
		floors, nullBake := c.ciFloor(p, rep, repo, logDir)
		runs = append(runs, floors...)
		if nullBake != nil {
			runs = append(runs, c.ciBakeFloor(p, rep, repo, logDir, *nullBake)...)
			runs = append(runs, c.ciLLBFloor(p, rep, repo, logDir)...)
		}
	case toolBuild:
		runs = append(runs, c.ciTestFloor(p, rep, repo, logDir), c.ciMergeFloor(p, rep, repo, logDir))
	}
	return p, runs
}

// ciFloor measures what one docker buildx bake of the same combinations costs when no frontend has
// anything to do, twice:
//   - plain bake: each target is a plain Dockerfile FROM the image dazzlekit pushed for its combination,
//     with the Dockerfile frontend built into buildkitd, so no frontend container starts;
//   - null frontend (with -null-frontend): each target goes through a gateway frontend image, as
//     dazzlekit's do, that only resolves that image and returns it with its config. It pays what any
//     frontend container costs per target (runc, the process, the gateway's round trips), so what a warm
//     dazzlekit bake costs over it is dazzlekit's own work.
//
// Each tags the same manifests in a repository of its own, so BuildKit resolves, solves (all cached) and
// pushes the same layers as a warm dazzlekit bake. The first bake copies the layers over; the second,
// with nothing new, is the floor under "warm" and "edit one test" for anything run through bake here.
// It returns the null frontend's bake too (nil without -null-frontend), for ciBakeFloor.
func (c *config) ciFloor(p *ciProject, rep int, repo, logDir string) ([]Run, *command) {
	dir := filepath.Join(filepath.Dir(logDir), filepath.Base(logDir)+"-floor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	kit := p.kitBake(logDir)
	floors := []struct{ tool, slug string }{{toolFloor, "floor"}}
	if c.nullFrontend != "" {
		floors = append(floors, struct{ tool, slug string }{toolGWFloor, "null"})
	}
	var runs []Run
	var nullBake *command
	for _, f := range floors {
		targets := map[string]any{}
		for name, t := range kit.Target {
			image := repo + ":" + t.Target
			target := map[string]any{"context": dir, "tags": []string{repo + "-" + f.slug + ":" + t.Target}}
			if f.tool == toolFloor {
				target["dockerfile-inline"] = "FROM " + image + "\n"
			} else {
				// The null frontend reads no Dockerfile; bake wants one all the same.
				target["dockerfile-inline"] = "# returned by the null frontend: the build arg IMAGE\n"
				target["args"] = map[string]string{"BUILDKIT_SYNTAX": c.nullFrontend, "IMAGE": image}
			}
			targets[name] = target
		}
		def, _ := json.MarshalIndent(map[string]any{"group": kit.Group, "target": targets}, "", "  ")
		defPath := filepath.Join(dir, "docker-bake-"+f.slug+".json")
		if err := os.WriteFile(defPath, def, 0o644); err != nil {
			fatalf("%v", err)
		}
		bake := []command{c.bake(defPath, dir)}
		var r Run
		for i, sc := range []string{"copy", scWarm} {
			r = Run{N: p.chunkCount(), Rep: rep, Tool: f.tool, Scenario: sc, Project: "ci",
				Log: filepath.Join(logDir, fmt.Sprintf("%s-%d-%s.log", f.slug, i, sc))}
			logf("CI scale rep %d %-16s %-16s ...", rep+1, f.tool, sc)
			c.run(&r, bake, parseRawJSON)
			logf("CI scale rep %d %-16s %-16s %7.1fs  vertices ran %d, cached %d", rep+1, f.tool, sc, r.Seconds, r.Steps.VertexRan, r.Steps.VertexCached)
			if !r.OK {
				fatalf("the %s bake failed: %s (log %s)", f.tool, firstLine(r.Error), r.Log)
			}
		}
		runs = append(runs, r)
		if f.tool == toolGWFloor {
			nullBake = &bake[0]
		}
	}
	return runs, nullBake
}

// kitBake is dazzlekit bake's definition in logDir, for its group and target names (bake allows no
// dots in them) and each target's combination, which the floors' bakes reuse.
type kitBake struct {
	Group  map[string]any `json:"group"`
	Target map[string]struct {
		Target string `json:"target"`
	} `json:"target"`
}

func (p *ciProject) kitBake(logDir string) kitBake {
	var kit kitBake
	dt, err := os.ReadFile(filepath.Join(logDir, "docker-bake.json"))
	if err == nil {
		err = json.Unmarshal(dt, &kit)
	}
	if err != nil || len(kit.Target) != len(p.combs) {
		fatalf("reading dazzlekit bake's definition for the floor: %v (%d targets)", err, len(kit.Target))
	}
	return kit
}

// testImages are the images an edit of folder f's first test has to rerun it in, as need counts
// them: each of f's chunks alone, then each distinct combination image holding one of them
// (imagesHolding). A chunk alone, which no tool pushes, is named by the first combination holding
// that chunk.
func (p *ciProject) testImages(f string) []string {
	var out []string
	for _, ch := range p.usedChunks() {
		if folderOf(ch) != f {
			continue
		}
		for _, c := range p.combs {
			if slices.Contains(p.resolve(c.name), ch) {
				out = append(out, c.name)
				break
			}
		}
	}
	return append(out, p.imagesHolding(f)...)
}

// testFloorDockerfile runs the edited test's command once in each of images (tags of repo), each in
// a container of its own without a network, as dazzlekit runs tests by default: a stage per image
// whose RUN differs from every other's (the stage's index) and from every earlier run's (run), and
// a last stage that needs each stage's result.
func (p *ciProject) testFloorDockerfile(repo string, images []string, run int) string {
	var b strings.Builder
	for i, img := range images {
		fmt.Fprintf(&b, "FROM %s:%s AS t%d\nRUN --network=none [\"%s\", \"floor-%d-%d\"]\n", repo, img, i, p.EditTest, run, i)
	}
	b.WriteString("FROM scratch\n")
	for i := range images {
		fmt.Fprintf(&b, "COPY --from=t%d /opt/%s/version /t%d\n", i, p.EditTest, i)
	}
	return b.String()
}

// ciTestFloor measures the least that editing one test costs any tool that runs a test in a
// container of each image holding it, as dazzle and dazzlekit do: one build through the Dockerfile
// frontend built into buildkitd (no frontend container, no export, no push) that runs only the
// edited test's command, once per image need counts, each in a container of its own, in the images
// `dazzlekit build` pushed. The first build brings those images' layers into snapshots; the second
// runs the same containers again with new commands and is the floor under "edit one test".
func (c *config) ciTestFloor(p *ciProject, rep int, repo, logDir string) Run {
	dir := filepath.Join(filepath.Dir(logDir), filepath.Base(logDir)+"-testfloor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatalf("%v", err)
	}
	images := p.testImages(p.EditTest)
	var r Run
	for i, sc := range []string{"unpack", scEditTest} {
		if err := os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(p.testFloorDockerfile(repo, images, i)), 0o644); err != nil {
			fatalf("%v", err)
		}
		r = Run{N: p.chunkCount(), Rep: rep, Tool: toolTestFloor, Scenario: sc, Project: "ci",
			Log: filepath.Join(logDir, fmt.Sprintf("testfloor-%d-%s.log", i, strings.ReplaceAll(sc, " ", "-")))}
		logf("CI scale rep %d %-16s %-16s ...", rep+1, toolTestFloor, sc)
		c.run(&r, c.dockerfileBuild(dir), parseRawJSON)
		logf("CI scale rep %d %-16s %-16s %7.1fs  RUN %d for %d images", rep+1, toolTestFloor, sc, r.Seconds, r.Steps.RunRan, len(images))
		if !r.OK {
			fatalf("the %s build failed: %s (log %s)", toolTestFloor, firstLine(r.Error), r.Log)
		}
	}
	return r
}
