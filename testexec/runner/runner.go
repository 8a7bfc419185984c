// Package runner is the in-image test runner: `dazzlekit run-test` runs one
// test's command inside the image under test and writes its exit status and
// output to result.json.
//
// The frontend binary doubles as the runner because images under test may
// have no shell and no libc: a static binary mounted read-only is the one
// thing guaranteed to start. The package must not import BuildKit: it runs in
// the image, and whatever it imports is code that runs there.
package runner

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/creack/pty"
)

// Command is the subcommand of the frontend binary that Main serves.
const Command = "run-test"

// ResultFile is the name of the file the runner writes into its output directory.
const ResultFile = "result.json"

// MaxOutput bounds each captured stream; a chatty test must not blow up the
// result file or the frontend's memory.
const MaxOutput = 1 << 20

// StatusNotStarted is the status of a command that never ran (not found, not
// executable, an unknown user): 255, as dazzle's runner reports it, so an
// assertion on status gives the same verdict under both.
const StatusNotStarted = 255

// drainGrace is how long output is still read after the command exited. The
// command's process group is killed at exit, so this only matters for
// processes that left the group (setsid, daemons) yet still hold the pipes or
// terminal; without a bound they would hang the runner until the op times out.
var drainGrace = 2 * time.Second

// Spec is what the frontend passes to the runner on its command line, as
// JSON. Timeout is encoded as integer nanoseconds (time.Duration's JSON form);
// the decoder also accepts a Go duration string such as "90s". A zero or
// negative Timeout means no limit.
type Spec struct {
	Argv    []string      `json:",omitempty"`
	User    string        `json:",omitempty"`
	PTY     bool          `json:",omitempty"`
	Timeout time.Duration `json:",omitempty"`
}

// Encode returns the JSON form of s. The encoding is deterministic, which
// keeps the exec op's arguments, and so BuildKit's cache key, stable.
func (s Spec) Encode() string {
	b, err := json.Marshal(s)
	if err != nil {
		// Unreachable for this struct; an undecodable spec makes the runner
		// report the problem in the result instead of failing the build blindly.
		return ""
	}
	return string(b)
}

// UnmarshalJSON accepts Timeout either as nanoseconds or as a duration string,
// so a hand-written spec (debugging, tests) can say "30s".
func (s *Spec) UnmarshalJSON(b []byte) error {
	type plain Spec
	var aux struct {
		plain
		Timeout json.RawMessage
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	*s = Spec(aux.plain)
	s.Timeout = 0
	raw := strings.TrimSpace(string(aux.Timeout))
	switch {
	case raw == "" || raw == "null":
	case strings.HasPrefix(raw, `"`):
		var str string
		if err := json.Unmarshal(aux.Timeout, &str); err != nil {
			return fmt.Errorf("timeout: %w", err)
		}
		if str == "" {
			break
		}
		d, err := time.ParseDuration(str)
		if err != nil {
			return fmt.Errorf("timeout: %w", err)
		}
		s.Timeout = d
	default:
		var ns int64
		if err := json.Unmarshal(aux.Timeout, &ns); err != nil {
			return fmt.Errorf("timeout: want nanoseconds or a duration string: %w", err)
		}
		s.Timeout = time.Duration(ns)
	}
	return nil
}

// DecodeSpec parses the runner's spec argument.
func DecodeSpec(s string) (Spec, error) {
	var spec Spec
	if err := json.Unmarshal([]byte(s), &spec); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

// Result is what the runner writes to <outdir>/result.json.
//
// Status is the exit code, 128+N when the command was killed by signal N
// (so a timeout gives 137), 127 when it could not be started (not found,
// unknown user, ...) and 126 when it was found but could not be executed;
// in the last two cases Error says why. Stdout and Stderr are separate
// streams, also for a test with a terminal (which is its stdin only). Output that is not valid UTF-8 is
// replaced by U+FFFD in the JSON.
type Result struct {
	Status   int
	Stdout   string
	Stderr   string
	TimedOut bool `json:",omitempty"`
	// Started is when the runner started (Unix nanoseconds). BuildKit caches
	// an exec op's output, so a result can be older than the build reading
	// it; the frontend reruns a failed test whose result predates the build.
	Started int64 `json:",omitempty"`
	// Seconds is how long the command ran.
	Seconds   float64 `json:",omitempty"`
	Error     string  `json:",omitempty"`
	Truncated bool    `json:",omitempty"`
	// Reused is true when the test did not run: it passed before in the same layers (PassedDir),
	// and this is that run's result.
	Reused bool `json:",omitempty"`
}

// DecodeResult parses a result.json written by the runner.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("cannot decode test result: %w", err)
	}
	return r, nil
}

// Main implements `dazzlekit run-test <spec-json> <outdir>`; args are
// the arguments after "run-test". It returns the process exit code: 0 whenever
// result.json was written (a failing or missing command is data), 2 for a
// usage error and 1 when the result could not be written.
func Main(args []string) int {
	if len(args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: run-test <spec-json> <outdir>")
		return 2
	}
	started := time.Now().UnixNano()
	var res Result
	spec, err := DecodeSpec(args[0])
	if err != nil {
		res = Result{Status: StatusNotStarted, Error: "invalid run spec: " + err.Error()}
	} else {
		res = run(spec, os.Environ())
	}
	res.Started = started
	res.Seconds = time.Since(time.Unix(0, started)).Seconds()
	b, err := json.Marshal(res)
	if err == nil {
		err = writeFile(args[1], ResultFile, b)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "run-test:", err)
		return 1
	}
	return 0
}

func writeFile(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name), b, 0o644)
}

// run executes spec with env as the base environment. The command is looked up
// in the runner's own PATH, which is env's PATH when run from Main.
func run(spec Spec, env []string) (res Result) {
	defer func() {
		if r := recover(); r != nil {
			res = Result{Status: StatusNotStarted, Error: fmt.Sprintf("runner failed: %v", r)}
		}
	}()

	if len(spec.Argv) == 0 || spec.Argv[0] == "" {
		return notStarted("no command to run")
	}
	id, err := resolveUser(spec.User)
	if err != nil {
		return notStarted(err.Error())
	}

	cmd := exec.Command(spec.Argv[0], spec.Argv[1:]...)
	if cmd.Err != nil {
		return notStarted(cmd.Err.Error())
	}
	cmd.Env = userEnv(env, id)
	var cred *syscall.Credential
	if spec.User != "" {
		cred = &syscall.Credential{Uid: id.uid, Gid: id.gid, Groups: id.groups}
		if cred.Groups == nil {
			// A nil slice would still mean setgroups(0); be explicit that the
			// child must not keep root's supplementary groups.
			cred.Groups = []uint32{}
		}
	}

	var (
		readers []io.ReadCloser
		outs    []*capture
	)
	outR, outW, err := os.Pipe()
	if err != nil {
		return notStarted(err.Error())
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return notStarted(err.Error())
	}
	// *os.File writers go straight to the child, so os/exec starts no copy
	// goroutines that Wait would block on while a background process keeps
	// the pipes open; reading and its time bound stay ours.
	cmd.Stdout, cmd.Stderr = outW, errW
	childEnds := []io.Closer{outW, errW}
	readers = []io.ReadCloser{outR, errR}
	outs = []*capture{{}, {}}
	if spec.PTY {
		// As dazzle (pty.Start after setting Stdout and Stderr): only stdin
		// is the terminal, stdout and stderr stay separate. The terminal is
		// also the controlling tty of a new session, so that job control in
		// `bash -i` works and `[ -t 0 ]` holds.
		ptmx, tty, err := pty.Open()
		if err != nil {
			outR.Close()
			errR.Close()
			outW.Close()
			errW.Close()
			return notStarted(err.Error())
		}
		_ = pty.Setsize(ptmx, &pty.Winsize{Rows: 24, Cols: 80})
		cmd.Stdin = tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0, Credential: cred}
		childEnds = append(childEnds, tty)
		// What the command writes to the terminal itself (e.g. /dev/tty) is
		// read and dropped, as dazzle never reads it either; reading keeps
		// such a writer from blocking.
		readers = append(readers, ptmx)
		outs = append(outs, &capture{discard: true})
	} else {
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	}
	err = cmd.Start()
	for _, c := range childEnds {
		c.Close()
	}
	if err != nil {
		for _, r := range readers {
			r.Close()
		}
		return notStarted(err.Error())
	}

	var wg sync.WaitGroup
	for i, r := range readers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i].readFrom(r)
		}()
	}

	pgid := cmd.Process.Pid
	var timedOut atomic.Bool
	var timer *time.Timer
	if spec.Timeout > 0 {
		timer = time.AfterFunc(spec.Timeout, func() {
			timedOut.Store(true)
			killGroup(pgid)
		})
	}
	waitErr := cmd.Wait()
	if timer != nil {
		timer.Stop()
	}
	// Like a container whose main process exited: whatever the command left
	// running in the background is gone, and cannot keep the output open.
	killGroup(pgid)

	drained := make(chan struct{})
	go func() {
		wg.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(drainGrace):
		// The read ends are pollable, so closing them ends the blocked reads.
		for _, r := range readers {
			r.Close()
		}
		select {
		case <-drained:
		case <-time.After(time.Second):
		}
	}
	for _, r := range readers {
		r.Close()
	}

	res.TimedOut = timedOut.Load()
	res.Status = exitStatus(cmd.ProcessState)
	if cmd.ProcessState == nil && waitErr != nil {
		res.Status = StatusNotStarted
		res.Error = waitErr.Error()
	}
	for _, c := range outs {
		c.mu.Lock()
		if c.truncated {
			res.Truncated = true
		}
		c.mu.Unlock()
	}
	res.Stdout = outs[0].String()
	res.Stderr = outs[1].String()
	return res
}

func notStarted(msg string) Result {
	return Result{Status: StatusNotStarted, Error: msg}
}

func exitStatus(ps *os.ProcessState) int {
	if ps == nil {
		return StatusNotStarted
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

func killGroup(pgid int) {
	if pgid > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
}

// capture keeps the first MaxOutput bytes of a stream and discards the rest,
// still reading so the writer never blocks on a full pipe.
type capture struct {
	mu        sync.Mutex
	buf       []byte
	truncated bool
	discard   bool // read to keep the writer going, keep nothing
}

func (c *capture) readFrom(r io.Reader) {
	b := make([]byte, 32*1024)
	for {
		n, err := r.Read(b)
		if n > 0 && !c.discard {
			c.mu.Lock()
			keep := min(n, MaxOutput-len(c.buf))
			c.buf = append(c.buf, b[:keep]...)
			if keep < n {
				c.truncated = true
			}
			c.mu.Unlock()
		}
		// A terminal master reports EIO once the last slave is closed; that
		// is its end of file.
		if err != nil {
			return
		}
	}
}

func (c *capture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return string(c.buf)
}
