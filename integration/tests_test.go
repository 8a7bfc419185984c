package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// A project whose tests all pass, covering what test specs can say.
func passingTestsProject(t *testing.T) string {
	return writeFiles(t, map[string]string{
		"dazzle.yaml":         "combiner:\n  combinations:\n    - name: both\n      chunks: [a, b]\n",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": "ARG base\nFROM ${base}\nRUN echo alpha > /a.txt\nENV A_MSG=alpha\n",
		"chunks/b/Dockerfile": "ARG base\nFROM ${base}\nRUN echo beta > /b.txt\n",
		"tests/a.yaml": `- desc: "it should pass"
  command: ["cat", "/a.txt"]
  assert:
    - status == 0
    - stdout == "alpha\n"
- desc: "it should see a failing status"
  command: ["sh", "-c", "echo oops >&2; exit 4"]
  assert:
    - status == 4
    - stderr.indexOf("oops") != -1 &&
      stdout.length == 0
- desc: "it should see the image and test env"
  command: ["sh", "-c", "echo $MESSAGE $A_MSG"]
  env: ["MESSAGE=foo=bar"]
  assert:
    - stdout.trim() == "foo=bar alpha"
- desc: "it should run as a user by name"
  command: ["id", "-un"]
  user: tester
  assert:
    - stdout.trim() == "tester"
- desc: "it should run as a user by number"
  command: ["id", "-u"]
  user: 65534
  assert:
    - stdout.trim() == "65534"
- desc: "it should get a terminal with an entrypoint"
  entrypoint: [sh, -c]
  command: ["[ -t 0 ] && echo tty || echo notty; [ -t 1 ] || echo out; echo err >&2"]
  assert:
    - stdout == "tty\nout\n"
    - stderr == "err\n"
- desc: "it should pass without assertions"
  command: ["/no/such/command"]
- desc: "it should have no network"
  network: false
  command: ["sh", "-c", "tail -n +3 /proc/net/dev | wc -l"]
  assert:
    - stdout.trim() == "1"
- desc: "it should have the network, as under dazzle"
  command: ["sh", "-c", "tail -n +3 /proc/net/dev | wc -l"]
  assert:
    - stdout.trim() != "1"
- desc: "it should be skipped"
  skip: true
  command: ["false"]
  assert:
    - false
`,
		"tests/b.yaml": "- desc: \"it should have b\"\n  command: [cat, /b.txt]\n  assert: [\"stdout == 'beta\\\\n'\"]\n",
	})
}

func TestTestsPass(t *testing.T) {
	e := stack(t)
	dir := passingTestsProject(t)
	// A fresh base, so that no test is answered from the cache of another test's build.
	appendFile(t, filepath.Join(dir, "base/Dockerfile"), fmt.Sprintf("ENV DAZZLEKIT_NONCE=%d\n", time.Now().UnixNano()))
	p := e.mustBuild(t, dir, map[string]string{"target": "both"}, "")
	ran := p.testsRan()
	for _, want := range []string{
		"[test a] it should pass", "[test b] it should have b", "[test a] it should pass without assertions",
		"[test both] it should pass", "[test both] it should have no network", "[test both] it should have b",
	} {
		if !slices.Contains(ran, want) {
			t.Errorf("test %q did not run; ran %q", want, ran)
		}
	}
	if slices.Contains(ran, "[test a] it should be skipped") {
		t.Error("a skipped test ran")
	}
	// One exec op per image and network mode, each test's verdict and duration in its log.
	ops := p.ran("[test ")
	slices.Sort(ops)
	want := []string{
		"[test a] 8 tests: it should pass; it should see a failing status; ",
		"[test a] it should have no network",
		"[test b] it should have b",
		"[test both] 9 tests: it should pass; it should see a failing status; ",
		"[test both] it should have no network",
	}
	if len(ops) != len(want) {
		t.Errorf("test ops %q, want one per image and network mode, %q", ops, want)
	} else {
		for i := range ops {
			if !strings.HasPrefix(ops[i], want[i]) {
				t.Errorf("test op %q, want %q...", ops[i], want[i])
			}
		}
	}
	log := p.testLog()
	for _, re := range []string{
		`(?m)^=== RUN   \[test both\] it should have b \(tests/b\.yaml:1\)\n--- PASS  \[test both\] it should have b \(\d+\.\d\ds, exit status 0\)$`,
		`(?m)^--- PASS  \[test a\] it should see a failing status \(\d+\.\d\ds, exit status 4\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(log) {
			t.Errorf("test log does not match %s:\n%s", re, log)
		}
	}
}

// The summary of a test run, exported as files.
func TestTestReport(t *testing.T) {
	e := stack(t)
	dir := passingTestsProject(t)
	appendFile(t, filepath.Join(dir, "tests/b.yaml"), "- desc: \"it should fail\"\n  command: [\"true\"]\n  assert: [status == 1]\n")
	out := t.TempDir()
	if _, err := e.build(t, dir, buildOpts{attrs: map[string]string{"target": "both", "build-arg:DAZZLE_TEST_REPORT": "1"}, localOut: out}); err != nil {
		t.Fatalf("report build failed: %s", errText(err))
	}
	dt, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Passed, Failed, Skipped int
		Tests                   []struct{ Subject, Desc, Result string }
	}
	if err := json.Unmarshal(dt, &r); err != nil {
		t.Fatal(err)
	}
	// a: 9 run + 1 skipped; b: 1 pass + 1 fail; each against its chunk and the combination.
	if r.Passed != 20 || r.Failed != 2 || r.Skipped != 2 {
		t.Errorf("passed %d failed %d skipped %d, want 20/2/2:\n%s", r.Passed, r.Failed, r.Skipped, dt)
	}
	txt, _ := os.ReadFile(filepath.Join(out, "report.txt"))
	if !strings.Contains(string(txt), "failed  [test b] it should fail (tests/b.yaml:4)") {
		t.Errorf("report.txt:\n%s", txt)
	}
}

// Every failure is reported, with file, line, desc, assertion, status and output.
func TestTestsFail(t *testing.T) {
	e := stack(t)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":     "combiner:\n  combinations:\n    - name: both\n      chunks: [a, b]\n",
		"base/Dockerfile": okBase,
		// b overwrites the file a's test needs: a passes alone and fails merged.
		"chunks/a/Dockerfile": "ARG base\nFROM ${base}\nRUN echo alpha > /shared.txt\n",
		"chunks/b/Dockerfile": "ARG base\nFROM ${base}\nRUN echo beta > /shared.txt\n",
		"tests/a.yaml": `- desc: "it should read its file"
  command: ["cat", "/shared.txt"]
  assert:
    - stdout == "alpha\n"
`,
		"tests/b.yaml": `- desc: "it should fail an assertion"
  command: ["sh", "-c", "echo some output; echo some error >&2"]
  assert:
    - status == 0
    - status == 1
- desc: "it should stop a hanging command"
  command: ["sleep", "100"]
  timeout: 2s
  assert:
    - status == 0
- desc: "it should stop an endless assertion"
  command: ["true"]
  assert:
    - while(true){}
- desc: "it should reject a non-boolean"
  command: ["true"]
  assert:
    - stdout
- desc: "it should report a syntax error"
  command: ["true"]
  assert:
    - status ==
    - nope.length > 0
`,
	})
	p, err := e.build(t, dir, buildOpts{attrs: map[string]string{"target": "both"}})
	if err == nil {
		t.Fatal("build succeeded, want test failures")
	}
	msg := errText(err)
	for _, want := range []string{
		"11 of 12 tests failed",
		"test failed: [test both] it should read its file\n  defined at tests/a.yaml:4",
		"stdout:\n  | beta",
		"test failed: [test b] it should fail an assertion\n  defined at tests/b.yaml:5\nfailing assertions (1 of 2):\n  #2: status == 1\n      evaluated to false\ncommand exit status: 0\nstdout:\n  | some output\nstderr:\n  | some error",
		"[test b] it should stop a hanging command",
		"command timed out after 2s and was killed",
		"assertion ran longer than",
		"assertion must evaluate to a boolean, got string",
		"[test b] it should report a syntax error",
		"SyntaxError",
		"ReferenceError: nope is not defined",
		// the YAML snippet buildctl and buildx print with the error
		"tests/b.yaml:5\n--------------------\n   3 |       assert:\n   4 |         - status == 0\n   5 | >>>     - status == 1",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not contain %q", want)
		}
	}
	if strings.Contains(msg, "[test a] it should read its file") {
		t.Errorf("a's test failed on a's own image, where it must pass:\n%s", msg)
	}
	if t.Failed() {
		t.Logf("error:\n%s", msg)
	}
	// Every test ran (or, passing on an unchanged image, was answered from the cache), even after failures.
	for _, want := range []string{"[test a] it should read its file", "[test both] it should report a syntax error"} {
		if !slices.Contains(p.testsRan(), want) && !slices.Contains(p.names(), want) {
			t.Errorf("test vertex %q did not run", want)
		}
	}
}

// Tests run in an image without a shell.
func TestTestsWithoutShell(t *testing.T) {
	e := stack(t)
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":          "",
		"base/Dockerfile":      "FROM scratch\nCOPY busybox /bin/busybox\n",
		"chunks/hi/Dockerfile": "ARG base\nFROM ${base}\nCOPY hi.txt /hi.txt\n",
		"chunks/hi/hi.txt":     "hi there\n",
		"tests/hi.yaml":        "- desc: \"it should work without a shell\"\n  command: [/bin/busybox, cat, /hi.txt]\n  assert:\n    - stdout == \"hi there\\n\"\n- desc: \"it should have no shell\"\n  command: [/bin/sh, -c, \"true\"]\n  assert:\n    - status == 255\n",
	})
	if err := os.WriteFile(filepath.Join(dir, "base/busybox"), bb, 0o755); err != nil {
		t.Fatal(err)
	}
	e.mustBuild(t, dir, nil, "")
}

// Editing one test reruns the tests of the images that hold its chunk only, and changes no image
// layer; DAZZLE_NO_TEST skips them all.
func TestTestsCachedAndSkippable(t *testing.T) {
	e := stack(t)
	dir := passingTestsProject(t)
	ref := e.ref(t, "both")
	e.mustBuild(t, dir, map[string]string{"target": "both"}, ref)
	before := image(t, ref).Layers()

	// A fresh command each run, so BuildKit's cache from earlier runs cannot hide the rerun.
	yml := filepath.Join(dir, "tests/b.yaml")
	dt, _ := os.ReadFile(yml)
	edited := fmt.Sprintf(`[sh, -c, "cat /b.txt # edited %d"]`, time.Now().UnixNano())
	if err := os.WriteFile(yml, []byte(strings.Replace(string(dt), "[cat, /b.txt]", edited, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	p := e.mustBuild(t, dir, map[string]string{"target": "both"}, ref)
	// The images holding chunk b run their tests again, each in one op; a's image does not.
	ran := p.testsRan()
	if !slices.Contains(ran, "[test b] it should have b") || !slices.Contains(ran, "[test both] it should have b") {
		t.Errorf("after editing b's test, ran %q; want it run against b and both", ran)
	}
	for _, r := range ran {
		if strings.HasPrefix(r, "[test a] ") {
			t.Errorf("editing b's test reran %q", r)
		}
	}
	// In both's op only the edited test ran: a's, which passed in the same layers, are answered from
	// the results the runner kept, and say so.
	if slices.Contains(ran, "[test both] it should pass") {
		t.Errorf("editing b's test reran a's test in both: ran %q", ran)
	}
	if re := `(?m)^--- PASS  \[test both\] it should pass \(\d+\.\d\ds, exit status 0; passed before in these very layers, not run again\)$`; !regexp.MustCompile(re).MatchString(p.testLog()) {
		t.Errorf("test log does not match %s:\n%s", re, p.testLog())
	}
	if r := p.ran("RUN"); len(r) != 0 {
		t.Errorf("editing a test reran build steps: %q", r)
	}
	if after := image(t, ref).Layers(); !slices.Equal(before, after) {
		t.Errorf("editing a test changed the image layers:\n%v\n%v", before, after)
	}

	// A failing test does not matter with DAZZLE_NO_TEST=1, and no test vertex appears.
	appendFile(t, yml, "- desc: \"it should fail\"\n  command: [\"true\"]\n  assert: [status == 1]\n")
	p = e.mustBuild(t, dir, map[string]string{"target": "both", "build-arg:DAZZLE_NO_TEST": "1"}, "")
	for _, n := range p.names() {
		if strings.HasPrefix(n, "[test ") {
			t.Errorf("DAZZLE_NO_TEST=1 but %q ran", n)
		}
	}
}

// A failed test is never answered from the cache: it runs again on the next build, as a failed RUN
// step would, while a passing one is cached; --no-cache reruns every test.
func TestFailedTestsRerun(t *testing.T) {
	e := stack(t)
	var answer atomic.Value
	answer.Store("fail")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, answer.Load())
	}))
	defer srv.Close()
	// A fresh command, so BuildKit's cache from earlier runs of this test cannot answer.
	nonce := time.Now().UnixNano()
	failing := fmt.Sprintf("- desc: \"it should fail\"\n  command: [sh, -c, \"echo fail %d\"]\n  assert: [status == 1]\n", nonce)
	flaky := fmt.Sprintf("- desc: \"it should hear pass\"\n  network: true\n  command: [wget, -qO-, %q]\n  assert: ['stdout == \"pass\"']\n", srv.URL)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": okChunk,
		"tests/a.yaml":        failing + flaky,
	})
	attrs := map[string]string{"target": "chunk:a"}
	build := func(wantErr []string, wantRan ...string) *progress {
		t.Helper()
		p, err := e.build(t, dir, buildOpts{attrs: attrs})
		msg := errText(err)
		if len(wantErr) == 0 && err != nil {
			t.Fatalf("build failed: %s", msg)
		}
		for _, w := range wantErr {
			if !strings.Contains(msg, w) {
				t.Errorf("error does not contain %q:\n%s", w, msg)
			}
		}
		ran := slices.Compact(p.testsRan())
		if !slices.Equal(ran, wantRan) {
			t.Errorf("tests that ran: %q, want %q", ran, wantRan)
		}
		return p
	}

	both := []string{"[test a] it should fail", "[test a] it should hear pass"}
	build([]string{"2 of 2 tests failed", "[test a] it should fail\n  defined at tests/a.yaml:3"}, both...)
	// The failures were cached by the first build's op; both run again, one now passes.
	answer.Store("pass")
	build([]string{"1 of 2 tests failed", "[test a] it should fail\n  defined at tests/a.yaml:3", "command exit status: 0"}, both...)
	// And again: a failure is never answered from the cache, not even beside a pass.
	build([]string{"1 of 2 tests failed"}, both...)

	// A passing run is cached: with the failing test gone, the passing test runs once, then not
	// again, whatever its server would answer now.
	if err := os.WriteFile(filepath.Join(dir, "tests/a.yaml"), []byte(flaky), 0o644); err != nil {
		t.Fatal(err)
	}
	build(nil, "[test a] it should hear pass")
	answer.Store("fail") // a rerun would fail the build
	p := build(nil)
	if !slices.Contains(p.names(), "[test a] it should hear pass") {
		t.Errorf("no cached vertex of the passing test: %q", p.names())
	}

	// --no-cache (buildctl --no-cache, buildx --no-cache) reruns it.
	answer.Store("pass")
	attrs["no-cache"] = ""
	build(nil, "[test a] it should hear pass")
}

// A failing step of a chunk with tests is the chunk's failure at its Dockerfile line, not a test's.
func TestFailingRunOfTestedChunk(t *testing.T) {
	e := stack(t)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "combiner:\n  combinations:\n    - name: both\n      chunks: [a, b]\n",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": okChunk,
		"chunks/b/Dockerfile": "ARG base\nFROM ${base}\nRUN exit 3\n",
		"tests/a.yaml":        "- desc: \"it should have hi\"\n  command: [cat, /hi]\n  assert: [status == 0]\n",
		"tests/b.yaml":        "- desc: \"it should run\"\n  command: [\"true\"]\n  assert: [status == 0]\n",
	})
	// The images each target tests that hold b, the failing chunk.
	holdingB := map[string][]string{"both": {"[test b] ", "[test both] "}, "chunk:b": {"[test b] "}}
	for _, target := range []string{"both", "chunk:b"} {
		t.Run(target, func(t *testing.T) {
			p, err := e.build(t, dir, buildOpts{attrs: map[string]string{"target": target}})
			// An in-process build's error comes from the daemon ("failed to solve: ..."), or, when the
			// daemon takes over 5 s to answer after the build function failed (a loaded machine), from
			// the build function itself: BuildKit's client then reports that one (client/solve.go).
			msg := strings.Replace(errText(err), "failed to run Build function: ", "failed to solve: ", 1)
			if !strings.HasPrefix(msg, "failed to solve: process \"/bin/sh -c exit 3\" did not complete successfully: exit code: 3\nchunks/b/Dockerfile:3\n") ||
				!strings.Contains(msg, ">>> RUN exit 3") {
				t.Errorf("error is not the chunk's step at its line:\n%s", msg)
			}
			for _, bad := range []string{"tests/", "test \""} {
				if strings.Contains(msg, bad) {
					t.Errorf("error mentions %q:\n%s", bad, msg)
				}
			}
			if failed := p.failed(); len(failed) != 1 || !strings.HasPrefix(failed[0], "[chunk b ") || !strings.HasSuffix(failed[0], "] RUN exit 3") {
				t.Errorf("failed vertices %q, want the chunk's step named after it", failed)
			}
			// No test of an image holding b is begun, so none shows. The tests of a (sent with the
			// image, not after it) may run or be cancelled, and failed() has checked none is an error.
			for _, prefix := range holdingB[target] {
				if shown := p.shown(prefix); len(shown) > 0 {
					t.Errorf("test vertices %q started though their image failed", shown)
				}
			}
		})
	}
}

// Through the packaged frontend and docker buildx: a passing test is CACHED on the next build,
// and `--no-cache` runs it again.
func TestNoCacheRerunsTestsBuildx(t *testing.T) {
	e := stack(t)
	if e.frontend == "" {
		t.Fatal("DAZZLEKIT_FRONTEND_IMAGE is not set")
	}
	// A fresh command (the desc is only the vertex's name), so earlier runs' cache cannot answer.
	nonce := time.Now().UnixNano()
	desc := fmt.Sprintf("it should have hi %d", nonce)
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "# syntax=" + e.frontend + "\n",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": okChunk,
		"tests/a.yaml":        fmt.Sprintf("- desc: %q\n  command: [sh, -c, \"cat /hi # %d\"]\n  assert: [status == 0]\n", desc, nonce),
	})
	vertex := "[test a] " + desc
	// testState returns how the test vertex ended in buildx's plain progress: DONE or CACHED.
	testState := func(extra ...string) string {
		t.Helper()
		args := append([]string{"buildx", "build", "--progress=plain", "-f", filepath.Join(dir, "dazzle.yaml"),
			"--build-arg", "REGISTRY=" + e.registry}, extra...)
		out, err := run(t, dir, "docker", append(args, dir)...)
		if err != nil {
			t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		id := ""
		for _, line := range strings.Split(out, "\n") {
			if n, rest, ok := strings.Cut(line, " "); ok && rest == vertex {
				id = n
			}
			if id != "" && (line == id+" DONE" || strings.HasPrefix(line, id+" DONE ") || line == id+" CACHED") {
				return strings.Fields(strings.TrimPrefix(line, id+" "))[0]
			}
		}
		t.Fatalf("no end of vertex %q in the progress:\n%s", vertex, out)
		return ""
	}
	if got := testState(); got != "DONE" {
		t.Errorf("first build: test %s, want DONE", got)
	}
	if got := testState(); got != "CACHED" {
		t.Errorf("second build: test %s, want CACHED", got)
	}
	if got := testState("--no-cache"); got != "DONE" {
		t.Errorf("build with --no-cache: test %s, want DONE", got)
	}
}

// Every test sees the image as a container of its own would, though an image's tests share one op:
// a process a test leaves running is gone before the next test, and when a test wrote a file, the
// tests after it run again in ops of their own.
func TestTestsIsolated(t *testing.T) {
	e := stack(t)
	nonce := time.Now().UnixNano() // fresh commands, so earlier runs' cache cannot answer
	dir := writeFiles(t, map[string]string{
		"dazzle.yaml":         "",
		"base/Dockerfile":     okBase,
		"chunks/a/Dockerfile": okChunk,
		"chunks/b/Dockerfile": okChunk,
		"tests/a.yaml": fmt.Sprintf(`- desc: "it should write a file"
  command: [sh, -c, "echo %[1]d > /tmp/leak"]
  assert: [status == 0]
- desc: "it should not see another test's file"
  command: [sh, -c, "test ! -e /tmp/leak # %[1]d"]
  assert: [status == 0]
`, nonce),
		"tests/b.yaml": fmt.Sprintf(`- desc: "it should leave a process running"
  command: [sh, -c, "setsid sleep 600 </dev/null >/dev/null 2>&1 & echo %[1]d"]
  assert: [status == 0]
- desc: "it should not see another test's process"
  command: [sh, -c, "for p in /proc/[0-9]*; do cat $p/comm; done | grep -x sleep; echo %[1]d"]
  assert: ['stdout.indexOf("sleep") == -1']
`, nonce),
	})
	p := e.mustBuild(t, dir, nil, "")
	// a's second test ran again alone, after the first had written to the root; b's did not.
	single := func(name string) bool { return slices.Contains(p.ran(name), name) }
	if !single("[test a] it should not see another test's file (again alone: an earlier test wrote /tmp/leak)") {
		t.Errorf("a's second test did not run in an op of its own; ops that ran: %q", p.ran("[test "))
	}
	if single("[test b] it should not see another test's process") {
		t.Errorf("b's tests wrote nothing, yet its second test ran alone")
	}
	if !strings.Contains(p.testLog(), "--- PASS  [test b] it should not see another test's process (") {
		t.Errorf("b's batch did not pass its second test:\n%s", p.testLog())
	}
}

// Whatever a test changes in the image's files, the runner's watch of the root sees it, however
// deep in the image the file is: the tests after it run again alone, and those before it do not.
// Each kind of change has a chunk of its own, so each is the only change in its batch.
func TestTestsChangesSeen(t *testing.T) {
	e := stack(t)
	nonce := time.Now().UnixNano()
	chunk := "ARG base\nFROM ${base}\nRUN mkdir -p /opt/deep/dir /opt/deep/locked && echo 1 > /opt/deep/dir/file && echo 2 > /opt/deep/dir/gone\n"
	files := map[string]string{"dazzle.yaml": "", "base/Dockerfile": okBase}
	kinds := []struct {
		name, command, wrote string // wrote "": no test changed anything
	}{
		{"append", "echo x >> /opt/deep/dir/file", "/opt/deep/dir/file"},
		{"remove", "rm /opt/deep/dir/gone", "/opt/deep/dir"},
		{"chmod", "chmod 700 /opt/deep/locked", "/opt/deep/locked"},
		{"backdate", "touch -t 200001010000 /opt/deep/dir/file", "/opt/deep/dir/file"},
		{"create", "mkdir -p /opt/new/x && : > /opt/new/x/f", "/opt/new/x/f"},
		{"read", "cat /opt/deep/dir/file /opt/deep/dir/gone", ""},
		// Not in the root's filesystem, and still seen by the tests after it in the same container.
		{"shm", "echo x > /dev/shm/left", "/dev/shm/left"},
	}
	for _, k := range kinds {
		files["chunks/"+k.name+"/Dockerfile"] = chunk
		files["tests/"+k.name+".yaml"] = fmt.Sprintf(`- desc: "it should read"
  command: [sh, -c, "cat /opt/deep/dir/file # %[1]s %[2]d"]
  assert: [status == 0]
- desc: "it should %[1]s"
  command: [sh, -c, "%[3]s # %[2]d"]
  assert: [status == 0]
- desc: "it should come after"
  command: [sh, -c, "true %[1]s # %[2]d"]
  assert: [status == 0]
`, k.name, nonce, k.command)
	}
	p := e.mustBuild(t, writeFiles(t, files), nil, "")
	// The stack's snapshotter is overlayfs, so the short walk is the one under test.
	if log := p.testLog(); strings.Contains(log, "the root is not overlayfs") {
		t.Fatalf("the runner did not take the container's root for overlayfs:\n%s", log)
	}
	// The image of every chunk, a MergeOp of their layers, runs them all in one batch: the first
	// writer there is append's test, the second of the batch.
	merged := "[test all chunks] it should come after (again alone: an earlier test wrote /opt/deep/dir/file)"
	if !slices.Contains(p.ran(merged), merged) {
		t.Errorf("no op %q; ops of their own: %q", merged, p.ran("(again alone"))
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			alone := p.ran("[test " + k.name + "] it should come after (again alone")
			want := []string{}
			if k.wrote != "" {
				want = []string{"[test " + k.name + "] it should come after (again alone: an earlier test wrote " + k.wrote + ")"}
			}
			if !slices.Equal(alone, want) {
				t.Errorf("ops of their own: %q, want %q", alone, want)
			}
			if again := p.ran("[test " + k.name + "] it should read (again alone"); len(again) > 0 {
				t.Errorf("the test before the change ran again: %q", again)
			}
		})
	}
}
