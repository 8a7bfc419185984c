package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/moby/buildkit/client"
)

// Steps is what one run executed, counted from its progress stream.
type Steps struct {
	RunRan       int       `json:"runRan"`       // RUN steps executed
	TestsRan     int       `json:"testsRan"`     // tests whose command ran (dazzlekit runs an image's tests in one op)
	TestOpsRan   int       `json:"testOpsRan"`   // test exec ops executed
	ExecCached   int       `json:"execCached"`   // RUN steps and tests answered from the cache
	VertexRan    int       `json:"vertexRan"`    // every vertex executed (exports, diffs, merges included)
	VertexCached int       `json:"vertexCached"` // every vertex answered from the cache
	RanExec      []string  `json:"ranExec,omitempty"`
	Slowest      []VtxTime `json:"slowest,omitempty"` // the longest vertices that ran
	// Seconds of the RUN steps that ran, by chunk (`lang-node:22`), where the stream names the chunk.
	ChunkRun map[string]float64 `json:"chunkRunSeconds,omitempty"`
	Note     string             `json:"note,omitempty"`
}

// folderRunSeconds is how long the RUN steps of folder's chunks (the folder's own, or its variants)
// ran: what rebuilding it costs at the least, one step after the other.
func (s Steps) folderRunSeconds(folder string) float64 {
	var sum float64
	for ch, sec := range s.ChunkRun {
		if folderOf(ch) == folder {
			sum += sec
		}
	}
	return sum
}

// VtxTime is one vertex's name and how long it ran.
type VtxTime struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

type vtx struct {
	name      string
	chunk     string // the chunk it belongs to, when known
	ran       bool
	cached    bool
	completed bool
	dur       time.Duration
	tests     int // the tests a batch op ran, from the runner's "=== RUN" lines in its log
}

// Vertex names as dazzlekit gives them, `[chunk lang-go:1.24 1/2] RUN ...` and `[test full] desc`,
// optionally with the target bake puts first: `[full chunk lang-go:1.24 1/2] RUN ...`.
var (
	testName     = regexp.MustCompile(`^\[(?:[A-Za-z0-9_-]+ )?test [^\]]+\] `)
	testReport   = regexp.MustCompile(`^\[(?:[A-Za-z0-9_-]+ )?test report\] report\.`)
	chunkRunName = regexp.MustCompile(`^\[(?:[A-Za-z0-9_-]+ )?chunk ([^ \]]+)[^\]]*\] RUN `)
)

func isTest(name string) bool { return testName.MatchString(name) && !testReport.MatchString(name) }
func isRun(name string) bool  { return strings.Contains(name, "RUN ") }

// chunkOf is the chunk a dazzlekit RUN vertex belongs to, or "".
func chunkOf(name string) string {
	if m := chunkRunName.FindStringSubmatch(name); m != nil {
		return m[1]
	}
	return ""
}

func summarize(vs []*vtx, note string) Steps {
	s := Steps{Note: note}
	var ran []VtxTime
	for _, v := range vs {
		if !v.completed && !v.cached {
			continue
		}
		exec := isRun(v.name) || isTest(v.name)
		switch {
		case v.ran:
			s.VertexRan++
			ran = append(ran, VtxTime{Name: v.name, Seconds: round(v.dur.Seconds(), 2)})
			if isTest(v.name) {
				s.TestOpsRan++
				s.TestsRan += max(v.tests, 1)
			} else if isRun(v.name) {
				s.RunRan++
				if v.chunk != "" {
					if s.ChunkRun == nil {
						s.ChunkRun = map[string]float64{}
					}
					s.ChunkRun[v.chunk] = round(s.ChunkRun[v.chunk]+v.dur.Seconds(), 2)
				}
			}
			if exec {
				s.RanExec = append(s.RanExec, v.name)
			}
		case v.cached:
			s.VertexCached++
			if exec {
				s.ExecCached++
			}
		}
	}
	sort.Strings(s.RanExec)
	sort.SliceStable(ran, func(i, j int) bool { return ran[i].Seconds > ran[j].Seconds })
	if len(ran) > 8 {
		ran = ran[:8]
	}
	s.Slowest = ran
	return s
}

// parseRawJSON reads buildctl's --progress=rawjson stream (one client.SolveStatus per line). A
// vertex can be reported by several of a frontend's sub-solves; it counts as run when any report
// shows it executed, and as cached only when every report that completed it was a cache hit.
func parseRawJSON(r io.Reader) Steps {
	byDigest := map[string]*vtx{}
	var order []*vtx
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] != '{' {
			continue
		}
		var st client.SolveStatus
		if json.Unmarshal(line, &st) != nil {
			continue
		}
		get := func(d string) *vtx {
			x := byDigest[d]
			if x == nil {
				x = &vtx{}
				byDigest[d] = x
				order = append(order, x)
			}
			return x
		}
		for _, l := range st.Logs {
			get(l.Vertex.String()).tests += bytes.Count(l.Data, []byte("=== RUN   "))
		}
		for _, v := range st.Vertexes {
			x := get(v.Digest.String())
			if v.Name != "" {
				x.name = v.Name
				x.chunk = chunkOf(v.Name)
			}
			if v.Completed == nil {
				continue
			}
			x.completed = true
			if v.Cached {
				x.cached = true
				continue
			}
			if v.Started != nil {
				x.ran = true
				x.dur = v.Completed.Sub(*v.Started)
			}
		}
	}
	return summarize(order, "")
}

var (
	ansiRE     = regexp.MustCompile(`\x1b\[[0-9;]*[A-Za-z]`)
	plainRE    = regexp.MustCompile(`^#(\d+) (.*)$`)
	plainDone  = regexp.MustCompile(`^DONE ([0-9.]+)s$`)
	dazzleTest = regexp.MustCompile(`testing "`)
	// dazzle logs `building full image ... chunk="lang-go:1.24" ref=...` before a chunk's solve.
	dazzleChunk = regexp.MustCompile(`\bchunk="([^"]*)"`)
)

// parseDazzle reads dazzle's stderr: BuildKit's plain progress (dazzle hands each solve to
// progressui.DisplaySolveStatus, which prints `#N name`, then `#N CACHED` or `#N DONE 1.2s`),
// interleaved with its own log lines. Vertex numbers restart with every solve, and dazzle logs a line
// before each solve, so a log line starts a new numbering. dazzle's tests are solves whose progress it
// consumes without printing (pkg/test/buildkit), so they are counted from its `testing "<desc>"`
// log line instead; each is an exec op with llb.IgnoreCache, i.e. always executed. A solve's vertices
// belong to the chunk its log line names.
func parseDazzle(r io.Reader) Steps {
	var all []*vtx
	block := map[int]*vtx{}
	tests := 0
	chunk := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := strings.TrimRight(ansiRE.ReplaceAllString(sc.Text(), ""), " \r")
		m := plainRE.FindStringSubmatch(line)
		if m == nil {
			if strings.TrimSpace(line) != "" {
				block = map[int]*vtx{}
				chunk = ""
				if m := dazzleChunk.FindStringSubmatch(line); m != nil {
					chunk = m[1]
				}
			}
			if dazzleTest.MatchString(line) {
				tests++
			}
			continue
		}
		n, _ := strconv.Atoi(m[1])
		rest := m[2]
		x := block[n]
		if x == nil {
			// The first line of a vertex number is its name.
			x = &vtx{name: rest, chunk: chunk}
			block[n] = x
			all = append(all, x)
			continue
		}
		switch {
		case rest == "CACHED":
			x.cached, x.completed = true, true
		case plainDone.MatchString(rest):
			sec, _ := strconv.ParseFloat(plainDone.FindStringSubmatch(rest)[1], 64)
			x.ran, x.completed = true, true
			x.dur = time.Duration(sec * float64(time.Second))
		case strings.HasPrefix(rest, "ERROR"):
			x.ran, x.completed = true, true
		}
	}
	s := summarize(all, "tests counted from dazzle's `testing` log lines: their solves print no progress")
	s.TestsRan += tests
	s.VertexRan += tests
	for i := 0; i < tests; i++ {
		s.RanExec = append(s.RanExec, "[dazzle test]")
	}
	return s
}

func round(f float64, digits int) float64 {
	p := 1.0
	for i := 0; i < digits; i++ {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}
