package runner

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func sh(script string) []string { return []string{"/bin/sh", "-c", script} }

func TestRunStatusAndStreams(t *testing.T) {
	dir := t.TempDir()
	noExec, garbage := filepath.Join(dir, "noexec"), filepath.Join(dir, "garbage")
	if err := os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(garbage, []byte{0, 1, 2, 3}, 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                 string
		argv                 []string
		status               int
		stdout, stderr, errS string
	}{
		{name: "true", argv: []string{"true"}, status: 0},
		{name: "exit code", argv: sh("exit 3"), status: 3},
		{name: "separate streams", argv: sh("echo out; echo err >&2"), stdout: "out\n", stderr: "err\n"},
		{name: "stdin is empty", argv: sh("cat; echo done"), stdout: "done\n"},
		{name: "signal", argv: sh("kill -TERM $$"), status: 128 + 15},
		{name: "missing command", argv: []string{"nodez", "--version"}, status: 255, errS: `exec: "nodez": executable file not found in $PATH`},
		{name: "missing path", argv: []string{"/no/such/binary"}, status: 255, errS: "no such file or directory"},
		{name: "not executable", argv: []string{noExec}, status: 255, errS: "permission denied"},
		{name: "bad format", argv: []string{garbage}, status: 255, errS: "exec format error"},
		{name: "empty argv", argv: nil, status: 255, errS: "no command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(Spec{Argv: tt.argv}, os.Environ())
			if r.Status != tt.status || r.Stdout != tt.stdout || r.Stderr != tt.stderr {
				t.Errorf("got %+v, want status %d stdout %q stderr %q", r, tt.status, tt.stdout, tt.stderr)
			}
			if tt.errS == "" && r.Error != "" || !strings.Contains(r.Error, tt.errS) {
				t.Errorf("Error = %q, want %q", r.Error, tt.errS)
			}
		})
	}
}

func TestRunEnv(t *testing.T) {
	withAccounts(t, fixturePasswd, fixtureGroup)
	env := []string{"PATH=" + os.Getenv("PATH"), "MESSAGE=foobar"}
	r := run(Spec{Argv: sh(`echo "$MESSAGE $HOME"`)}, env)
	// Root's HOME comes from /etc/passwd when the image sets none.
	if r.Stdout != "foobar /root\n" {
		t.Errorf("stdout = %q", r.Stdout)
	}
	r = run(Spec{Argv: sh(`echo "$HOME"`)}, append(env, "HOME=/custom"))
	if r.Stdout != "/custom\n" {
		t.Errorf("explicit HOME overridden: %q", r.Stdout)
	}
}

// With a terminal, as in dazzle, only stdin is the terminal (and the
// controlling tty); stdout and stderr stay separate pipes.
func TestRunPTY(t *testing.T) {
	script := `[ -t 0 ] && echo in-tty || echo in-notty
[ -t 1 ] && echo out-tty || echo out-notty
[ -t 2 ] && echo err-tty >&2 || echo err-notty >&2
echo to-tty > /dev/tty && echo ctty`
	r := run(Spec{Argv: sh(script), PTY: true}, os.Environ())
	if r.Status != 0 || r.Stdout != "in-tty\nout-notty\nctty\n" || r.Stderr != "err-notty\n" || r.Error != "" {
		t.Errorf("pty run = %+v", r)
	}
	r = run(Spec{Argv: sh(script)}, os.Environ())
	if r.Stdout != "in-notty\nout-notty\n" || !strings.HasPrefix(r.Stderr, "err-notty\n") {
		t.Errorf("non-pty run = %+v", r)
	}
	r = run(Spec{Argv: sh("exit 4"), PTY: true}, os.Environ())
	if r.Status != 4 {
		t.Errorf("pty exit status = %+v", r)
	}

	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	// workspace-images asserts on `java -version`'s stderr under bash -i -c.
	r = run(Spec{Argv: []string{"bash", "-i", "-c", "echo hello from $0; echo version 17 >&2"}, PTY: true}, os.Environ())
	if r.Status != 0 || r.Stdout != "hello from bash\n" || !strings.HasSuffix(r.Stderr, "version 17\n") {
		t.Errorf("bash -i = %+v", r)
	}
	if strings.Contains(r.Stderr, "no job control") {
		t.Errorf("bash -i found no controlling terminal: %q", r.Stderr)
	}
}

func TestRunTimeout(t *testing.T) {
	for _, ptyMode := range []bool{false, true} {
		start := time.Now()
		r := run(Spec{Argv: sh("echo begun; sleep 100"), Timeout: 200 * time.Millisecond, PTY: ptyMode}, os.Environ())
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("pty=%v: took %s", ptyMode, d)
		}
		if !r.TimedOut || r.Status != 137 || r.Stdout != "begun\n" {
			t.Errorf("pty=%v: %+v", ptyMode, r)
		}
	}
	r := run(Spec{Argv: sh("echo quick"), Timeout: time.Minute}, os.Environ())
	if r.TimedOut || r.Status != 0 {
		t.Errorf("fast command: %+v", r)
	}
}

func TestRunBackgroundProcessDoesNotHang(t *testing.T) {
	defer func(g time.Duration) { drainGrace = g }(drainGrace)
	drainGrace = 300 * time.Millisecond

	cases := map[string][]string{
		"background in group": sh("sleep 100 & echo started"),
		// setsid escapes the process group, so only the drain bound helps.
		"escaped group": sh("setsid sleep 3 & echo started"),
	}
	for name, argv := range cases {
		if strings.Contains(argv[2], "setsid") {
			if _, err := exec.LookPath("setsid"); err != nil {
				continue
			}
		}
		for _, ptyMode := range []bool{false, true} {
			start := time.Now()
			r := run(Spec{Argv: argv, PTY: ptyMode}, os.Environ())
			if d := time.Since(start); d > 2500*time.Millisecond {
				t.Errorf("%s pty=%v: took %s", name, ptyMode, d)
			}
			if r.Status != 0 || r.Stdout != "started\n" {
				t.Errorf("%s pty=%v: %+v", name, ptyMode, r)
			}
		}
	}
}

func TestRunTruncatesOutput(t *testing.T) {
	r := run(Spec{Argv: sh("head -c 3000000 /dev/zero | tr '\\0' a; echo small >&2")}, os.Environ())
	if len(r.Stdout) != MaxOutput || !r.Truncated || r.Stderr != "small\n" || r.Status != 0 {
		t.Errorf("len(stdout)=%d truncated=%v stderr=%q status=%d", len(r.Stdout), r.Truncated, r.Stderr, r.Status)
	}
	r = run(Spec{Argv: sh("echo small")}, os.Environ())
	if r.Truncated {
		t.Error("small output marked truncated")
	}
}

// withAccounts points the runner at fixture account files.
func withAccounts(t *testing.T, passwd, group string) {
	t.Helper()
	dir := t.TempDir()
	p, g := filepath.Join(dir, "passwd"), filepath.Join(dir, "group")
	if err := os.WriteFile(p, []byte(passwd), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(g, []byte(group), 0o644); err != nil {
		t.Fatal(err)
	}
	oldP, oldG := passwdPath, groupPath
	passwdPath, groupPath = p, g
	t.Cleanup(func() { passwdPath, groupPath = oldP, oldG })
}

const fixturePasswd = `# comment
root:x:0:0:root:/root:/bin/sh
gitpod:x:33333:33333:Gitpod:/home/gitpod:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
+nis
broken line
`

const fixtureGroup = `root:x:0:
docker:x:999:gitpod,other
sudo:x:27:gitpod
gitpod:x:33333:
nogroup:x:65534:
`

func TestResolveUser(t *testing.T) {
	withAccounts(t, fixturePasswd, fixtureGroup)
	tests := []struct {
		spec    string
		want    identity
		wantErr string
	}{
		{spec: "", want: identity{uid: 0, gid: 0, name: "root", home: "/root"}},
		{spec: "gitpod", want: identity{uid: 33333, gid: 33333, groups: []uint32{999, 27}, name: "gitpod", home: "/home/gitpod"}},
		{spec: "33333", want: identity{uid: 33333, gid: 33333, groups: []uint32{999, 27}, name: "gitpod", home: "/home/gitpod"}},
		{spec: "gitpod:nogroup", want: identity{uid: 33333, gid: 65534, name: "gitpod", home: "/home/gitpod"}},
		{spec: "nobody:nogroup", want: identity{uid: 65534, gid: 65534, name: "nobody", home: "/nonexistent"}},
		{spec: "1000", want: identity{uid: 1000, gid: 0}},
		{spec: "1000:1000", want: identity{uid: 1000, gid: 1000}},
		{spec: "ghost", wantErr: "unable to find user ghost"},
		{spec: "gitpod:ghosts", wantErr: "unable to find group ghosts"},
		{spec: ":1", wantErr: "invalid user"},
		{spec: "1:", wantErr: "invalid user"},
		{spec: "99999999999", wantErr: "unable to find user"},
	}
	for _, tt := range tests {
		got, err := resolveUser(tt.spec)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolveUser(%q) error = %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("resolveUser(%q): %v", tt.spec, err)
			continue
		}
		if got.uid != tt.want.uid || got.gid != tt.want.gid || got.name != tt.want.name || got.home != tt.want.home ||
			!slices.Equal(got.groups, tt.want.groups) {
			t.Errorf("resolveUser(%q) = %+v, want %+v", tt.spec, got, tt.want)
		}
	}
}

func TestRunAsUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change identity")
	}
	if _, err := exec.LookPath("id"); err != nil {
		t.Skip("no id")
	}
	withAccounts(t, fixturePasswd, fixtureGroup)
	env := []string{"PATH=" + os.Getenv("PATH")}
	// USER stays unset, as under dazzle.
	script := sh(`echo "$(id -u) $(id -g) $(id -G) $HOME ${USER-unset}"`)
	tests := []struct{ user, want string }{
		{"gitpod", "33333 33333 33333 27 999 /home/gitpod unset\n"},
		{"1000", "1000 0 0 / unset\n"},
		{"1000:1000", "1000 1000 1000 / unset\n"},
		{"nobody:nogroup", "65534 65534 65534 /nonexistent unset\n"},
	}
	for _, tt := range tests {
		for _, ptyMode := range []bool{false, true} {
			r := run(Spec{Argv: script, User: tt.user, PTY: ptyMode}, env)
			// The kernel sorts supplementary groups, so id -G's order is stable.
			if r.Stdout != tt.want || r.Status != 0 {
				t.Errorf("user %q pty=%v: %+v, want stdout %q", tt.user, ptyMode, r, tt.want)
			}
		}
	}
	r := run(Spec{Argv: script, User: "ghost"}, env)
	if r.Status != 255 || !strings.Contains(r.Error, "unable to find user ghost") {
		t.Errorf("unknown user: %+v", r)
	}
}

func TestRunnerMain(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	spec := Spec{Argv: sh("echo hi; exit 5"), Timeout: time.Minute}
	if code := Main([]string{spec.Encode(), out}); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	b, err := os.ReadFile(filepath.Join(out, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	r, err := DecodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != 5 || r.Stdout != "hi\n" {
		t.Errorf("result = %+v", r)
	}

	if code := Main([]string{"{not json", out}); code != 0 {
		t.Fatalf("bad spec: exit code %d", code)
	}
	b, _ = os.ReadFile(filepath.Join(out, ResultFile))
	if r, _ := DecodeResult(b); r.Status != 255 || !strings.Contains(r.Error, "invalid run spec") {
		t.Errorf("bad spec result = %+v", r)
	}
	if code := Main(nil); code != 2 {
		t.Errorf("no args: exit code %d", code)
	}
}

func TestRunSpecJSON(t *testing.T) {
	s := Spec{Argv: []string{"node", "--version"}, User: "1000", PTY: true, Timeout: 90 * time.Second}
	got, err := DecodeSpec(s.Encode())
	if err != nil || got.Timeout != s.Timeout || got.User != s.User || !got.PTY || strings.Join(got.Argv, " ") != "node --version" {
		t.Fatalf("round trip: %+v, %v (from %s)", got, err, s.Encode())
	}
	if !strings.Contains(s.Encode(), `"Timeout":90000000000`) {
		t.Errorf("Timeout not encoded as nanoseconds: %s", s.Encode())
	}
	got, err = DecodeSpec(`{"Argv":["x"],"Timeout":"1m30s"}`)
	if err != nil || got.Timeout != 90*time.Second {
		t.Errorf("string timeout: %+v, %v", got, err)
	}
	for _, bad := range []string{`{"Timeout":"soon"}`, `{"Timeout":true}`, `[]`, ``} {
		if _, err := DecodeSpec(bad); err == nil {
			t.Errorf("DecodeSpec(%q) accepted", bad)
		}
	}
	if got, err := DecodeSpec(`{"Argv":["x"]}`); err != nil || got.Timeout != 0 {
		t.Errorf("no timeout: %+v, %v", got, err)
	}
}
