package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// benchProject is one generated dazzle project and the monolithic Dockerfiles equivalent to its
// combinations. Everything stays inside dazzle v0.1.17's limits: env values without `=`, tests
// without a user (dazzle takes numeric users only), the registry written into the base Dockerfile
// (dazzle passes no build args to the base), and no network in any step.
type benchProject struct {
	Dir      string
	Registry string // host:port of the registry holding the busybox base
	N        int
	rev      map[int]int // chunk index -> revision of its first RUN step
	testRev  int
	odd      bool // whether the "odd" combination exists yet
}

const (
	combAll = "all"
	combOdd = "odd" // added by the new-combination scenario: not a prefix, so the monolith cannot reuse its cache
)

func chunkName(i int) string { return fmt.Sprintf("c%02d", i) }

func newProject(dir, registry string, n int) (*benchProject, error) {
	p := &benchProject{Dir: dir, Registry: registry, N: n, rev: map[int]int{}}
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	return p, p.write()
}

// editChunk changes the first RUN step of chunk i, so every step of that chunk must run again.
func (p *benchProject) editChunk(i int) error { p.rev[i]++; return p.write() }

// addOddCombination adds a combination of the odd-numbered chunks, all of them already built.
func (p *benchProject) addOddCombination() error { p.odd = true; return p.write() }

// editTests changes every test's command (not only an assertion, which dazzlekit evaluates outside
// the exec op), so every tool must run every test again while no layer changes.
func (p *benchProject) editTests() error { p.testRev++; return p.write() }

// middle is the chunk the edit-one scenario changes.
func (p *benchProject) middle() int { return p.N / 2 }

func (p *benchProject) chunks(comb string) []string {
	var out []string
	for i := 0; i < p.N; i++ {
		if comb == combOdd && i%2 == 0 {
			continue
		}
		out = append(out, chunkName(i))
	}
	return out
}

func (p *benchProject) baseImage() string { return p.Registry + "/dazzlekit/busybox:latest" }

func (p *benchProject) baseSteps() string {
	return "RUN mkdir -p /opt/base && echo base > /opt/base/version && sleep 1\n" +
		"ENV BENCH_BASE=/opt/base\n"
}

// chunkSteps are a chunk's steps: three RUN steps of about a second each that write 3 MB in all.
func (p *benchProject) chunkSteps(i int) string {
	c := chunkName(i)
	return fmt.Sprintf(`RUN mkdir -p /opt/%[1]s/bin && echo "%[1]s rev %[2]d" > /opt/%[1]s/version && dd if=/dev/urandom of=/opt/%[1]s/blob1 bs=1M count=2 2>/dev/null && sleep 1
RUN dd if=/dev/urandom of=/opt/%[1]s/blob2 bs=1M count=1 2>/dev/null && sleep 1
RUN printf '#!/bin/sh\ncat /opt/%[1]s/version\n' > /opt/%[1]s/bin/%[1]s && chmod 755 /opt/%[1]s/bin/%[1]s && sleep 1
ENV PATH=/opt/%[1]s/bin:$PATH
`, c, p.rev[i])
}

func (p *benchProject) write() error {
	files := map[string]string{}
	var y strings.Builder
	y.WriteString("combiner:\n  combinations:\n")
	fmt.Fprintf(&y, "    - name: %s\n      chunks: [%s]\n", combAll, strings.Join(p.chunks(combAll), ", "))
	if p.odd {
		fmt.Fprintf(&y, "    - name: %s\n      chunks: [%s]\n", combOdd, strings.Join(p.chunks(combOdd), ", "))
	}
	y.WriteString("  envvars:\n    - name: PATH\n      action: merge-unique\n")
	files["dazzle.yaml"] = y.String()
	files["base/Dockerfile"] = "FROM " + p.baseImage() + "\n" + p.baseSteps()
	for i := 0; i < p.N; i++ {
		c := chunkName(i)
		files["chunks/"+c+"/Dockerfile"] = "ARG base\nFROM ${base}\n" + p.chunkSteps(i)
		arg := ""
		if p.testRev > 0 {
			arg = fmt.Sprintf(", \"t%d\"", p.testRev)
		}
		files["tests/"+c+".yaml"] = fmt.Sprintf(`- desc: "%[1]s should be installed"
  command: ["%[1]s"%[2]s]
  assert:
    - status == 0
    - stdout.indexOf("%[1]s rev") != -1
`, c, arg)
	}
	for _, comb := range []string{combAll, combOdd} {
		if comb == combOdd && !p.odd {
			continue
		}
		var d strings.Builder
		d.WriteString("FROM " + p.baseImage() + "\n" + p.baseSteps())
		for i := 0; i < p.N; i++ {
			if comb == combOdd && i%2 == 0 {
				continue
			}
			d.WriteString(p.chunkSteps(i))
		}
		files["monolithic/Dockerfile."+comb] = d.String()
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

// floorDockerfile is the chunk-alone floor of run k: the middle chunk's steps on the image of
// combination all in repo, then, in one container without a network (as dazzlekit runs tests by
// default), the tests an edit of that chunk has to run: its own (in dazzlekit, on the chunk's own
// image) and every chunk's of the combination. One container for both is fewer than the two
// images need, so this stays a floor.
func (p *benchProject) floorDockerfile(repo string, k int) string {
	return fmt.Sprintf("FROM %s:%s\n%sRUN --network=none [\"sh\", \"-c\", \"%s\"]\n", repo, combAll, p.chunkSteps(p.middle()), strings.Join(p.floorTests(k), " && "))
}

// floorTests are the commands of the tests the chunk-alone floor runs in run k, in its one
// container: the middle chunk's own test first, as dazzlekit runs it on the chunk's image, then
// every chunk's of the combination.
func (p *benchProject) floorTests(k int) []string {
	cmds := []string{fmt.Sprintf("%s floor-%d", chunkName(p.middle()), k)}
	for _, c := range p.chunks(combAll) {
		cmds = append(cmds, fmt.Sprintf("%s floor-%d", c, k))
	}
	return cmds
}
