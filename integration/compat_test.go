package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/registry"
)

// The compat suite builds one small project with gitpod's dazzle v0.1.17 (DAZZLE_BIN, built by
// hack/dazzle.sh) and with dazzlekit, on the same buildkitd and registry, and compares what a user of
// either sees: which tests pass and fail, the combined image's env, config and files. Where dazzlekit
// deliberately differs (README "Differences from dazzle"), the test states both sides explicitly.

// compatEnv is the stack plus the dazzle binary. Without DAZZLE_BIN the suite is skipped only when
// integration tests were not asked for: under `make test` a missing dazzle is a failure.
func compatEnv(t *testing.T) (env, string) {
	t.Helper()
	bin := os.Getenv("DAZZLE_BIN")
	if bin == "" {
		if os.Getenv("DAZZLEKIT_INTEGRATION") != "1" {
			t.Skip("compat test: needs DAZZLE_BIN (hack/dazzle.sh builds dazzle v0.1.17) and the stack; run `make test`")
		}
		t.Fatal("DAZZLEKIT_INTEGRATION=1 needs DAZZLE_BIN, the dazzle v0.1.17 binary (hack/test.sh sets it from hack/dazzle.sh)")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("DAZZLE_BIN: %v", err)
	}
	e := env{
		host:     os.Getenv("BUILDKIT_HOST"),
		registry: os.Getenv("DAZZLEKIT_REGISTRY"),
		frontend: os.Getenv("DAZZLEKIT_FRONTEND_IMAGE"),
		runner:   os.Getenv("DAZZLEKIT_RUNNER_DIR"),
	}
	if e.host == "" || e.registry == "" || e.runner == "" {
		t.Fatal("the compat test needs BUILDKIT_HOST, DAZZLEKIT_REGISTRY and DAZZLEKIT_RUNNER_DIR (run it through hack/test.sh)")
	}
	return e, bin
}

// compatProject is a dazzle project both tools must agree on. The base names the registry itself:
// dazzle passes no build args to the base.
func compatProject(registryHost string) map[string]string {
	return map[string]string{
		"dazzle.yaml": `combiner:
  combinations:
    - name: core
      chunks: [alpha]
    - name: full
      ref: [core]
      chunks: ["beta:v1", gamma]
  envvars:
    - name: PATH
      action: merge-unique
    - name: SHARED_LAST
      action: use-last
    - name: MERGED
      action: merge
    - name: UNTOUCHED_LAST
      action: use-last
`,
		"base/Dockerfile": "FROM " + registryHost + `/dazzlekit/busybox:latest
RUN mkdir -p /etc/compat && echo base > /etc/compat/base.txt && echo legacy > /etc/compat/legacy.txt && echo base > /etc/compat/owner.txt
ENV BASE_ONLY=base EDITOR=vi UNTOUCHED_LAST=base
WORKDIR /root
CMD ["sh"]
`,
		"chunks/alpha/Dockerfile": `ARG base
FROM ${base}
RUN mkdir -p /opt/alpha/bin && printf '#!/bin/sh\necho alpha tool\n' > /opt/alpha/bin/alpha-tool && chmod 755 /opt/alpha/bin/alpha-tool && echo alpha > /etc/compat/owner.txt
ENV PATH=/opt/alpha/bin:$PATH ALPHA=1 SHARED_FIRST=alpha SHARED_LAST=alpha MERGED=alpha UNTOUCHED_LAST=alpha
EXPOSE 8080
`,
		"chunks/beta/chunk.yaml": `variants:
  - name: v1
    args: { BETA_VERSION: "1.0" }
  - name: v2
    args: { BETA_VERSION: "2.0" }
`,
		"chunks/beta/Dockerfile": `ARG base
FROM ${base}
ARG BETA_VERSION
RUN mkdir -p /opt/beta && echo "beta ${BETA_VERSION}" > /opt/beta/version && echo beta > /etc/compat/owner.txt
ENV BETA_VERSION=${BETA_VERSION}
`,
		// gamma deletes a base file, overwrites one beta wrote and tries to change a base variable.
		"chunks/gamma/Dockerfile": `ARG base
FROM ${base}
COPY gamma.conf /etc/compat/gamma.conf
RUN rm /etc/compat/legacy.txt && mkdir -p /opt/gamma/bin && echo gamma > /etc/compat/owner.txt
ENV PATH=/opt/gamma/bin:$PATH SHARED_FIRST=gamma SHARED_LAST=gamma MERGED=gamma EDITOR=nano
EXPOSE 9090/udp
`,
		"chunks/gamma/gamma.conf": "gamma config\n",
		// zz-checks sorts last: dazzle builds chunks in name order and stops at the first whose tests fail,
		// so every other chunk is built (and can be combined) before these tests fail.
		"chunks/zz-checks/Dockerfile": "ARG base\nFROM ${base}\nRUN echo checks > /etc/compat/checks.txt\nENV CHECKS=1\n",
		"tests/alpha.yaml": `- desc: "alpha: its tool runs from PATH"
  command: [alpha-tool]
  assert:
    - status == 0
    - stdout == "alpha tool\n"
- desc: "alpha: the combined env"
  command: [sh, -c, 'echo "$ALPHA $SHARED_FIRST $EDITOR"']
  assert:
    - stdout == "1 alpha vi\n"
`,
		"tests/beta.yaml": `- desc: "beta: its version file matches its env"
  command: [sh, -c, 'cat /opt/beta/version; echo "$BETA_VERSION"']
  assert:
    - stdout == "beta " + stdout.split("\n")[1] + "\n" + stdout.split("\n")[1] + "\n"
`,
		"tests/gamma.yaml": `- desc: "gamma: the base file it deleted is gone"
  command: [sh, -c, 'test ! -e /etc/compat/legacy.txt && cat /etc/compat/gamma.conf']
  assert:
    - status == 0
    - stdout.trim() == "gamma config"
`,
		"tests/zz-checks.yaml": `- desc: "entrypoint: stdout stays stdout"
  entrypoint: [sh, -c]
  command: ["echo to-stdout; echo to-stderr >&2"]
  assert:
    - stdout == "to-stdout\n"
- desc: "entrypoint: stderr stays stderr"
  entrypoint: [sh, -c]
  command: ["echo to-stdout; echo to-stderr >&2"]
  assert:
    - stderr == "to-stderr\n"
- desc: "entrypoint: stdin is a terminal"
  entrypoint: [sh, -c]
  command: ["if [ -t 0 ]; then echo tty; else echo notty; fi"]
  assert:
    - stdout == "tty\n"
- desc: "no entrypoint: stdin is not a terminal"
  command: [sh, -c, "if [ -t 0 ]; then echo tty; else echo notty; fi"]
  assert:
    - stdout == "notty\n"
- desc: "no entrypoint: stdout and stderr"
  command: [sh, -c, "echo to-stdout; echo to-stderr >&2; exit 5"]
  assert:
    - stdout == "to-stdout\n"
    - stderr == "to-stderr\n"
    - status == 5
- desc: "user by number"
  user: "65534"
  command: [sh, -c, "id -u; id -g"]
  assert:
    - stdout == "65534\n65534\n"
- desc: "HOME of a user by number"
  user: "65534"
  command: [sh, -c, 'echo "$HOME"']
  assert:
    - stdout == "/root\n"
- desc: "the working directory"
  command: [pwd]
  assert:
    - stdout == "/\n"
- desc: "USER is not set"
  command: [sh, -c, 'echo "${USER-unset}"']
  assert:
    - stdout == "unset\n"
- desc: "user by name"
  user: tester
  command: [id, -u]
  assert:
    - status == 0
    - stdout == "1000\n"
- desc: "env from the test and the image"
  env: [X=1, BASE_ONLY=overridden]
  command: [sh, -c, 'echo "$X $CHECKS $BASE_ONLY"']
  assert:
    - stdout == "1 1 overridden\n"
- desc: "a failing assertion"
  command: [sh, -c, "echo out; exit 3"]
  assert:
    - stdout == "out\n"
    - status == 0
- desc: "an assertion that is not a boolean"
  command: ["true"]
  assert:
    - stdout
- desc: "no assert, failing command"
  command: ["false"]
- desc: "no assert, missing command"
  command: [no-such-command]
- desc: "a command that cannot start has status 255"
  command: [/no/such/command]
  assert:
    - status == 255
- desc: "skipped"
  skip: true
  command: ["false"]
  assert:
    - status == 0
- desc: "an assertion over several lines"
  command: [sh, -c, "echo v20.1"]
  assert:
    - stdout.indexOf("v18") != -1 ||
      stdout.indexOf("v20") != -1
`,
		// No chunk folder "missing": dazzle never reads this file (gitpod's workspace-images has two such).
		"tests/missing.yaml": "- desc: \"a test of no chunk\"\n  command: [\"false\"]\n  assert:\n    - status == 0\n",
	}
}

type compatKey struct{ subject, desc string }

// compatWant is every test outcome, per image tested, that dazzle v0.1.17 gives on compatProject:
// chunk tests against each chunk's image (`dazzle build`), then the combination's (`dazzle combine`).
var compatWant = map[compatKey]string{
	{"alpha", "alpha: its tool runs from PATH"}:             "passed",
	{"alpha", "alpha: the combined env"}:                    "passed",
	{"beta:v1", "beta: its version file matches its env"}:   "passed",
	{"beta:v2", "beta: its version file matches its env"}:   "passed",
	{"gamma", "gamma: the base file it deleted is gone"}:    "passed",
	{"full", "alpha: its tool runs from PATH"}:              "passed",
	{"full", "alpha: the combined env"}:                     "passed",
	{"full", "beta: its version file matches its env"}:      "passed",
	{"full", "gamma: the base file it deleted is gone"}:     "passed",
	{"zz-checks", "entrypoint: stdout stays stdout"}:        "passed",
	{"zz-checks", "entrypoint: stderr stays stderr"}:        "passed",
	{"zz-checks", "entrypoint: stdin is a terminal"}:        "passed",
	{"zz-checks", "no entrypoint: stdin is not a terminal"}: "passed",
	{"zz-checks", "no entrypoint: stdout and stderr"}:       "passed",
	{"zz-checks", "user by number"}:                         "passed",
	// dazzle's runner keeps the env BuildKit gives a root exec (HOME=/root) when it switches user.
	{"zz-checks", "HOME of a user by number"}: "passed",
	// dazzle's test exec ignores the image's WORKDIR and sets no USER.
	{"zz-checks", "the working directory"}: "passed",
	{"zz-checks", "USER is not set"}:       "passed",
	// dazzle's runner looks the user up as a uid only and fails to start the command (status 255).
	{"zz-checks", "user by name"}:                               "failed",
	{"zz-checks", "env from the test and the image"}:            "passed",
	{"zz-checks", "a failing assertion"}:                        "failed",
	{"zz-checks", "an assertion that is not a boolean"}:         "failed",
	{"zz-checks", "no assert, failing command"}:                 "passed",
	{"zz-checks", "no assert, missing command"}:                 "passed",
	{"zz-checks", "a command that cannot start has status 255"}: "passed",
	{"zz-checks", "skipped"}:                                    "skipped",
	{"zz-checks", "an assertion over several lines"}:            "passed",
}

// compatKitDiffers are the outcomes where dazzlekit differs, deliberately or not decided yet, and why.
var compatKitDiffers = map[compatKey]struct{ result, why string }{
	{"zz-checks", "user by name"}: {"passed", "`user:` may be a name in dazzlekit"},
}

func TestCompat(t *testing.T) {
	e, dazzle := compatEnv(t)
	projFiles := compatProject(e.registry)
	dzDir := writeFiles(t, projFiles)
	// dazzlekit builds the project without tests/missing.yaml here; "tests file without a chunk
	// folder" below builds it with the file, so that one difference fails one subtest.
	kitFiles := maps.Clone(projFiles)
	delete(kitFiles, "tests/missing.yaml")
	kitDir := writeFiles(t, kitFiles)
	stamp := time.Now().UnixNano()
	// A fresh repository: dazzle skips the tests of a chunk whose passing result it finds tagged there.
	dzRepo := fmt.Sprintf("%s/compat/dazzle-%d", e.registry, stamp)
	kitRef := fmt.Sprintf("%s/compat/kit-%d:full", e.registry, stamp)

	// --- dazzle: build every chunk (failing at zz-checks, after the others), then combine "full".
	start := time.Now()
	out, err := runDazzle(t, dazzle, e.host, dzDir, "build", "--plain-output", dzRepo)
	const wantBuildErr = "cannot test chunk zz-checks: zz-checks: tests failed"
	if err == nil || !strings.Contains(out, wantBuildErr) {
		t.Fatalf("dazzle build: got %v, want it to fail with %q (only zz-checks has failing tests):\n%s", err, wantBuildErr, tail(out, 60))
	}
	dzBuildOut := out
	out, err = runDazzle(t, dazzle, e.host, dzDir, "combine", dzRepo, "--combination", "full")
	if err != nil {
		t.Fatalf("dazzle combine: %v\n%s", err, tail(out, 60))
	}
	dzLog := dzBuildOut + out
	dzOutcomes, err := parseDazzleTests(dzLog)
	if err != nil {
		t.Fatalf("reading dazzle's test log: %v\n%s", err, dzLog)
	}
	t.Logf("dazzle build + combine: %.1fs", time.Since(start).Seconds())

	// --- dazzlekit: the image, then the test reports of the same images dazzle tested.
	start = time.Now()
	e.mustBuild(t, kitDir, map[string]string{"target": "full", "build-arg:DAZZLE_NO_TEST": "1"}, kitRef)
	kitFull, kitMessages := kitReport(t, e, kitDir, "full")
	kitOutcomes := maps.Clone(kitFull)
	for _, target := range []string{"chunk:beta:v2", "chunk:zz-checks"} {
		res, msgs := kitReport(t, e, kitDir, target)
		maps.Copy(kitOutcomes, res)
		maps.Copy(kitMessages, msgs)
	}
	t.Logf("dazzlekit builds: %.1fs", time.Since(start).Seconds())

	t.Run("tests", func(t *testing.T) {
		keys := slices.Collect(maps.Keys(compatWant))
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].subject+"\x00"+keys[i].desc < keys[j].subject+"\x00"+keys[j].desc
		})
		for _, k := range keys {
			t.Run(k.subject+"/"+k.desc, func(t *testing.T) {
				want := compatWant[k]
				if got := dzOutcomes[k]; got != want {
					t.Errorf("dazzle: %q, the suite expects %q: dazzle does not behave as this test assumes\n%s", got, want, dazzleLines(dzLog, k.desc))
				}
				kitWant, why := want, "as dazzle"
				if d, ok := compatKitDiffers[k]; ok {
					kitWant, why = d.result, d.why
				}
				if got := kitOutcomes[k]; got != kitWant {
					t.Errorf("dazzlekit: %q, want %q (%s; dazzle: %q)\n%s", got, kitWant, why, dzOutcomes[k], kitMessages[k])
				}
			})
		}
		for k, v := range dzOutcomes {
			if _, ok := compatWant[k]; !ok {
				t.Errorf("dazzle ran a test the suite does not expect: [%s] %s: %s", k.subject, k.desc, v)
			}
		}
		for k, v := range kitOutcomes {
			if _, ok := compatWant[k]; !ok {
				t.Errorf("dazzlekit ran a test the suite does not expect: [%s] %s: %s", k.subject, k.desc, v)
			}
		}
	})

	dz := image(t, dzRepo+":full")
	kit := image(t, kitRef)

	t.Run("env", func(t *testing.T) {
		dzEnv, kitEnv := envSet(t, dz.Config.Config.Env), envSet(t, kit.Config.Config.Env)
		// use-last on a variable a chunk did not touch: dazzle resets UNTOUCHED_LAST to the base's value
		// because beta and gamma inherit it; dazzlekit counts only what a chunk set (alpha).
		if got := dzEnv["UNTOUCHED_LAST"]; got != "base" {
			t.Errorf("dazzle: UNTOUCHED_LAST=%q, the suite expects %q", got, "base")
		}
		if got := kitEnv["UNTOUCHED_LAST"]; got != "alpha" {
			t.Errorf("dazzlekit: UNTOUCHED_LAST=%q, want %q (only what a chunk set counts)", got, "alpha")
		}
		delete(dzEnv, "UNTOUCHED_LAST")
		delete(kitEnv, "UNTOUCHED_LAST")
		for _, k := range sortedUnion(dzEnv, kitEnv) {
			dv, dok := dzEnv[k]
			kv, kok := kitEnv[k]
			if dv != kv || dok != kok {
				t.Errorf("%s: dazzle %s, dazzlekit %s", k, showVal(dv, dok), showVal(kv, kok))
			}
		}
		// The rules the project exercises, so agreeing on something else is noticed too.
		for k, v := range map[string]string{
			"PATH":         "/opt/alpha/bin:/opt/gamma/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"MERGED":       "alpha:gamma",
			"SHARED_FIRST": "alpha",
			"SHARED_LAST":  "gamma",
			"EDITOR":       "vi",
			"BETA_VERSION": "1.0",
		} {
			if dzEnv[k] != v {
				t.Errorf("dazzle: %s=%q, the suite expects %q", k, dzEnv[k], v)
			}
		}
	})

	t.Run("config", func(t *testing.T) {
		dc, kc := dz.Config.Config, kit.Config.Config
		if dc.User != kc.User || dc.WorkingDir != kc.WorkingDir || !slices.Equal(dc.Cmd, kc.Cmd) ||
			!slices.Equal(dc.Entrypoint, kc.Entrypoint) || dc.StopSignal != kc.StopSignal {
			t.Errorf("user/workdir/cmd/entrypoint/stopsignal: dazzle %q %q %q %q %q, dazzlekit %q %q %q %q %q",
				dc.User, dc.WorkingDir, dc.Cmd, dc.Entrypoint, dc.StopSignal, kc.User, kc.WorkingDir, kc.Cmd, kc.Entrypoint, kc.StopSignal)
		}
		dp, kp := slices.Sorted(maps.Keys(dc.ExposedPorts)), slices.Sorted(maps.Keys(kc.ExposedPorts))
		if !slices.Equal(dp, kp) || !slices.Equal(dp, []string{"8080/tcp", "9090/udp"}) {
			t.Errorf("exposed ports: dazzle %q, dazzlekit %q, want [8080/tcp 9090/udp]", dp, kp)
		}
	})

	t.Run("files", func(t *testing.T) {
		df, kf := files(t, dz), files(t, kit)
		for _, p := range sortedUnion(df, kf) {
			d, dok := df[p]
			k, kok := kf[p]
			switch {
			case !dok:
				t.Errorf("/%s: only in dazzlekit's image", p)
			case !kok:
				t.Errorf("/%s: only in dazzle's image", p)
			case d.Dir != k.Dir || d.Link != k.Link || d.Mode != k.Mode || d.Uid != k.Uid || d.Gid != k.Gid:
				t.Errorf("/%s: dazzle %s, dazzlekit %s", p, fileMeta(d), fileMeta(k))
			case !bytes.Equal(d.Data, k.Data):
				t.Errorf("/%s: contents differ: dazzle %q, dazzlekit %q", p, clip(d.Data), clip(k.Data))
			}
		}
		// What the layers' order and whiteouts must give, so agreeing on something else is noticed too.
		for p, want := range map[string]string{
			"etc/compat/owner.txt":     "gamma\n",
			"etc/compat/base.txt":      "base\n",
			"etc/compat/gamma.conf":    "gamma config\n",
			"opt/beta/version":         "beta 1.0\n",
			"opt/alpha/bin/alpha-tool": "#!/bin/sh\necho alpha tool\n",
		} {
			if got := string(df[p].Data); got != want {
				t.Errorf("dazzle: /%s = %q, the suite expects %q", p, got, want)
			}
		}
		for _, p := range []string{"etc/compat/legacy.txt", "etc/compat/checks.txt"} {
			if _, ok := df[p]; ok {
				t.Errorf("dazzle: /%s exists, the suite expects it absent", p)
			}
		}
	})

	// dazzle ignores a tests file whose chunk folder does not exist; dazzlekit must build the project
	// as it is and give the same outcomes.
	t.Run("tests file without a chunk folder", func(t *testing.T) {
		if got, _ := kitReport(t, e, dzDir, "full"); !maps.Equal(got, kitFull) {
			t.Errorf("outcomes with tests/missing.yaml:\n%v\nwant those without it:\n%v", got, kitFull)
		}
	})
}

func runDazzle(t *testing.T, bin, addr, dir string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"--addr", addr, "--context", dir}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out // one stream: result lines follow their "testing" line
	// No colours; dazzle reads ~/.docker/config.json for registry auth, none is needed here.
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	err := cmd.Run()
	return out.String(), err
}

var (
	ansiEscape   = regexp.MustCompile(`\x1b\[[0-9;]*m`)
	dzChunkTests = regexp.MustCompile(`^\s*running tests\s+chunk="([^"]*)"`)
	dzCombining  = regexp.MustCompile(`^\s*producing chunk combination\s.*\bcombination="([^"]*)"`)
	dzTesting    = regexp.MustCompile(`^\s*step \d+\s+testing "(.*)"\s*command=`)
	dzSkipping   = regexp.MustCompile(`^\s*step \d+\s+skipping "(.*)"\s*$`)
	dzResult     = regexp.MustCompile(`^\s*(?:\S+\s+)?(passed|failed|error)\s*(?:message=.*)?$`)
)

// parseDazzleTests reads test outcomes from dazzle's log (pkg/test RunTests: `testing "<desc>"`, then
// `passed`, `failed` (an assertion was false) or `error` (it could not be evaluated), or `skipping
// "<desc>"`), one test after another. The image tested is the chunk of the last `running tests`
// line, or the combination of the last `producing chunk combination`. dazzle's failed and error
// both fail the build: both are "failed" here.
func parseDazzleTests(log string) (map[compatKey]string, error) {
	out := map[compatKey]string{}
	var subject, pending string
	set := func(desc, result string) error {
		k := compatKey{subject, desc}
		if subject == "" {
			return fmt.Errorf("test %q outside a chunk or combination", desc)
		}
		if _, dup := out[k]; dup {
			return fmt.Errorf("[%s] %s: reported twice", subject, desc)
		}
		out[k] = result
		return nil
	}
	for _, l := range strings.Split(ansiEscape.ReplaceAllString(log, ""), "\n") {
		if m := dzChunkTests.FindStringSubmatch(l); m != nil {
			subject = m[1]
		} else if m := dzCombining.FindStringSubmatch(l); m != nil {
			subject = m[1]
		} else if m := dzTesting.FindStringSubmatch(l); m != nil {
			if pending != "" {
				return nil, fmt.Errorf("test %q has no result", pending)
			}
			pending = m[1]
		} else if m := dzSkipping.FindStringSubmatch(l); m != nil {
			if err := set(m[1], "skipped"); err != nil {
				return nil, err
			}
		} else if m := dzResult.FindStringSubmatch(l); m != nil && pending != "" {
			result := "passed"
			if m[1] != "passed" {
				result = "failed"
			}
			if err := set(pending, result); err != nil {
				return nil, err
			}
			pending = ""
		}
	}
	if pending != "" {
		return nil, fmt.Errorf("test %q has no result", pending)
	}
	return out, nil
}

// dazzleLines are the lines of dazzle's log about the test desc: each "testing" line and the next.
func dazzleLines(log, desc string) string {
	lines := strings.Split(ansiEscape.ReplaceAllString(log, ""), "\n")
	var out []string
	for i, l := range lines {
		if strings.Contains(l, `"`+desc+`"`) {
			out = append(out, l)
			if i+1 < len(lines) {
				out = append(out, lines[i+1])
			}
		}
	}
	return strings.Join(out, "\n")
}

// kitReport builds target with DAZZLE_TEST_REPORT=1 and returns every test's outcome by image tested,
// and the failure messages.
func kitReport(t *testing.T, e env, dir, target string) (results, messages map[compatKey]string) {
	t.Helper()
	out := t.TempDir()
	_, err := e.build(t, dir, buildOpts{attrs: map[string]string{"target": target, "build-arg:DAZZLE_TEST_REPORT": "1"}, localOut: out})
	if err != nil {
		t.Fatalf("dazzlekit test report of %s: %s", target, errText(err))
	}
	dt, err := os.ReadFile(filepath.Join(out, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Tests []struct{ Subject, Desc, Result, Message string }
	}
	if err := json.Unmarshal(dt, &r); err != nil {
		t.Fatal(err)
	}
	results, messages = map[compatKey]string{}, map[compatKey]string{}
	for _, o := range r.Tests {
		results[compatKey{o.Subject, o.Desc}] = o.Result
		messages[compatKey{o.Subject, o.Desc}] = o.Message
	}
	return results, messages
}

func envSet(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := m[k]; dup {
			t.Errorf("env has %s twice", k)
		}
		m[k] = v
	}
	return m
}

func sortedUnion[V any](a, b map[string]V) []string {
	keys := slices.Collect(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func showVal(v string, ok bool) string {
	if !ok {
		return "(unset)"
	}
	return fmt.Sprintf("%q", v)
}

func fileMeta(f registry.File) string {
	kind := "file"
	switch {
	case f.Dir:
		kind = "dir"
	case f.Link != "":
		kind = "link to " + f.Link
	}
	return fmt.Sprintf("%s mode %o uid %d gid %d", kind, f.Mode, f.Uid, f.Gid)
}

func clip(b []byte) string {
	if len(b) > 200 {
		return string(b[:200]) + "..."
	}
	return string(b)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// dazzle's log, as v0.1.17 writes it (lines from a real run), read without a daemon.
func TestParseDazzleTests(t *testing.T) {
	log := strings.Join([]string{
		`#4 ERROR: failed to configure registry cache importer: localhost:5000/x:a--1--test: not found`,
		`              running tests                               chunk="beta:v1" `,
		` step 00      testing "beta: its version file matches its env"command=[sh -c cat /opt/beta/version] `,
		`              passed                                      `,
		`              running tests                               chunk="zz-checks" `,
		"\x1b[30;47m step 05 \x1b[0m     \x1b[32mtesting \"user by name\"                      \x1b[0mcommand=[id -u] ",
		`              failed                                      message="assertion failed: status == 0" result="&test.RunResult{StatusCode: 255}" `,
		` step 08      testing "not a boolean"                     command=[true] `,
		`          🐲  error                                       message="assertion must evaluate to boolean value" `,
		` step 11      skipping "skipped"                          `,
		`              producing chunk combination                 chunks=[alpha beta:v1] combination="full" ref="localhost:5000/x:full" `,
		` step 00      testing "beta: its version file matches its env"command=[sh -c cat /opt/beta/version] `,
		`time="2026-12-01T07:19:22Z" level=info msg="trying next host - response was http.StatusNotFound" host="localhost:5000"`,
		`              passed                                      `,
		`Error: cannot test chunk zz-checks: zz-checks: tests failed`,
	}, "\n")
	got, err := parseDazzleTests(log)
	if err != nil {
		t.Fatal(err)
	}
	want := map[compatKey]string{
		{"beta:v1", "beta: its version file matches its env"}: "passed",
		{"zz-checks", "user by name"}:                         "failed",
		{"zz-checks", "not a boolean"}:                        "failed",
		{"zz-checks", "skipped"}:                              "skipped",
		{"full", "beta: its version file matches its env"}:    "passed",
	}
	if !maps.Equal(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for _, bad := range []string{
		` step 00      testing "no result"                         command=[true] `,
		` step 00      testing "outside a chunk"                   command=[true] ` + "\n              passed",
	} {
		if _, err := parseDazzleTests(bad); err == nil {
			t.Errorf("no error for %q", bad)
		}
	}
}
