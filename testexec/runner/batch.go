package runner

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// BatchCommand is the subcommand that runs every test of one image in one container.
//
// One exec op per tested image instead of one per test: a container start, a cache record and a
// solve round trip per test is what made tests cost more than the steps they check. Each test
// still starts from the image as it was: the runner kills whatever a test left running before
// the next starts and checks the container's root for changes after each test (rootWatch); the
// frontend reruns the tests after one that wrote anything in containers of their own, as a later
// test could have seen what it wrote.
const BatchCommand = "run-tests"

// notOverlayNote is logged when the root is not overlayfs, where telling whether a test changed it
// walks the whole image after each test rather than what the tests changed.
const notOverlayNote = "run-tests: the root is not overlayfs, so every file of the image is checked for changes after each test"

// BatchResultFile is what the batch runner writes into its output directory.
const BatchResultFile = "results.json"

// BatchTest is one test of a batch: its command as Spec, the test's own environment, which
// overrides the image's ("K=V"; a bare "K" sets K to the empty string), and for the progress log its
// name, where it is defined and its assertions.
type BatchTest struct {
	// Not embedded: Spec's UnmarshalJSON would be promoted and decode only Spec's fields.
	Spec   Spec
	Env    []string `json:",omitempty"`
	Name   string   `json:",omitempty"`
	Where  string   `json:",omitempty"`
	Assert []string `json:",omitempty"`
}

// Batch is the spec of one `run-tests` invocation. Network is the op's network mode (all its tests
// share it). With Reuse, a test that passed before in an image of the same layers is answered from
// PassedDir instead of run again, and a test that passes is kept there (see PassedDir).
type Batch struct {
	Tests   []BatchTest
	Network bool `json:",omitempty"`
	Reuse   bool `json:",omitempty"`
}

// Encode returns the JSON form of b, deterministic like Spec.Encode.
func (b Batch) Encode() string {
	dt, err := json.Marshal(b)
	if err != nil {
		return ""
	}
	return string(dt)
}

// BatchResult is results.json: one Result per test, in the batch's order.
type BatchResult struct {
	Started int64 // Unix nanoseconds, as Result.Started
	Results []Result
	// RootChecked is true when the runner watched the root, so that a nil Changed means that no
	// test changed it; a runner that predates the watch leaves it false.
	RootChecked bool
	Changed     *Changed `json:",omitempty"`
}

// DecodeBatchResult parses a results.json written by the batch runner.
func DecodeBatchResult(b []byte) (BatchResult, error) {
	var r BatchResult
	if err := json.Unmarshal(b, &r); err != nil {
		return BatchResult{}, fmt.Errorf("cannot decode test results: %w", err)
	}
	return r, nil
}

// Judge returns the expressions of the assertions r fails. The runner only prints the verdict for
// the progress log; the frontend judges again from results.json, and its verdict is the one that
// counts. It is passed in because the assertion engine imports this package.
type Judge func(asserts []string, r Result) (failed []string)

// MainBatch implements `dazzlekit run-tests <batch-json> <outdir>`. It runs the tests one after the
// other, printing a line per test to log (the exec op's progress), and returns 0 whenever
// results.json was written.
func MainBatch(args []string, judge Judge, log io.Writer) int {
	return mainBatch(args, judge, log, "/")
}

// mainBatch is MainBatch with the root to watch for changes, a directory of its own in tests.
func mainBatch(args []string, judge Judge, log io.Writer, root string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: run-tests <batch-json> <outdir>")
		return 2
	}
	out := BatchResult{Started: time.Now().UnixNano()}
	var b Batch
	if err := json.Unmarshal([]byte(args[0]), &b); err != nil {
		fmt.Fprintln(os.Stderr, "run-tests: invalid batch spec:", err)
		return 2
	}
	watch, err := startWatch(root)
	if err != nil {
		// Then no test can be shown to have left the root alone: the frontend reruns every test
		// after the first in a container of its own.
		fmt.Fprintln(log, "run-tests: cannot watch the root for changes, so every test after the first runs again alone:", err)
		out.Changed = &Changed{Test: 0, Path: "(unknown: " + err.Error() + ")"}
	} else if !watch.overlay {
		fmt.Fprintln(log, notOverlayNote)
	}
	out.RootChecked = true
	var passed *passedStore
	if b.Reuse {
		passed = openPassed(root)
	}
	base := os.Environ()
	defer os.Setenv("PATH", os.Getenv("PATH"))
	for i, t := range b.Tests {
		env := overlayEnv(base, t.Env)
		var key string
		if passed != nil {
			key = passed.key(env, b.Network, t)
			if res, ok := passed.find(key); ok {
				res.Reused = true
				out.Results = append(out.Results, res)
				fmt.Fprintf(log, "--- PASS  %s (%.2fs, exit status %d; passed before in these very layers, not run again)\n", t.Name, res.Seconds, res.Status)
				continue
			}
		}
		// A test after one that changed the root may have seen the change: its result is no one else's.
		clean := out.Changed == nil
		fmt.Fprintf(log, "=== RUN   %s (%s)\n", t.Name, t.Where)
		started := time.Now()
		// exec looks the command up in the runner's own PATH: make it the test's, as it is when
		// the test runs in a container of its own.
		path, _ := lookupEnv(env, "PATH")
		_ = os.Setenv("PATH", path)
		res := run(t.Spec, env)
		res.Started = started.UnixNano()
		res.Seconds = time.Since(started).Seconds()
		killStrays()
		out.Results = append(out.Results, res)
		if out.Changed == nil && i < len(b.Tests)-1 {
			// After the last test nothing is left to see a change.
			p, err := watch.changed()
			if err != nil {
				p = "(unknown: " + err.Error() + ")"
			}
			if p != "" {
				out.Changed = &Changed{Test: i, Path: p}
			}
		}
		verdict := "PASS"
		var why []string
		if judge != nil {
			why = judge(t.Assert, res)
		}
		if res.TimedOut {
			why = append(why, "timed out after "+t.Spec.Timeout.String())
		}
		if len(why) > 0 {
			verdict = "FAIL"
		}
		fmt.Fprintf(log, "--- %s  %s (%.2fs, exit status %d)\n", verdict, t.Name, res.Seconds, res.Status)
		for _, w := range why {
			fmt.Fprintf(log, "    failed: %s\n", w)
		}
		// Only a verdict: without a judge nothing is kept. One that cannot be kept runs again next time.
		if passed != nil && clean && judge != nil && verdict == "PASS" {
			_ = passed.keep(key, res)
		}
	}
	dt, err := json.Marshal(out)
	if err == nil {
		err = writeFile(args[1], BatchResultFile, dt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "run-tests:", err)
		return 1
	}
	return 0
}

// overlayEnv applies a test's env entries over the image's, later entries winning.
func overlayEnv(base, over []string) []string {
	out := make([]string, 0, len(base)+len(over))
	idx := map[string]int{}
	set := func(kv string) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			return
		}
		kv = k + "=" + v
		if i, ok := idx[k]; ok {
			out[i] = kv
			return
		}
		idx[k] = len(out)
		out = append(out, kv)
	}
	for _, kv := range base {
		set(kv)
	}
	for _, kv := range over {
		set(kv)
	}
	return out
}

func lookupEnv(env []string, key string) (string, bool) {
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// killStrays ends every process but the runner once a test is over, as the end of a test's own
// container would: a daemon a test started (setsid, nohup) must not answer the next test. Only as
// PID 1, that is in the container's own PID namespace; anywhere else the other processes are not ours.
func killStrays() {
	if os.Getpid() != 1 {
		return
	}
	// Every other process of the container's PID namespace descends from PID 1, which inherits each
	// orphan: with no child there is no other process, and no listing of /proc to read after each of
	// the tests that leave nothing behind, nearly all.
	if _, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil); errors.Is(err, syscall.ECHILD) {
		return
	}
	for range 50 {
		entries, err := os.ReadDir("/proc")
		if err != nil {
			return
		}
		found := false
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == 1 {
				continue
			}
			found = true
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		// Orphans are ours to reap as PID 1; a killed process stays in /proc until reaped.
		for {
			pid, err := syscall.Wait4(-1, nil, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
		if !found {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}
