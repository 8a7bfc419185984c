package layerapply

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func write(t *testing.T, p, content string, mode os.FileMode) {
	t.Helper()
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(content), mode))
	must(t, os.Chmod(p, mode))
}

// cpa copies a tree keeping every attribute, as a snapshot keeps the files a step did not touch.
func cpa(t *testing.T, src, dst string) {
	t.Helper()
	if out, err := exec.Command("cp", "-a", src+"/.", dst).CombinedOutput(); err != nil {
		t.Fatalf("cp -a: %v\n%s", err, out)
	}
}

// tree lists every path under dir with its type, mode, owner and content or link target.
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	must(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		st := fi.Sys().(*syscall.Stat_t)
		line := rel + " " + fi.Mode().String() + " " + strconv.FormatUint(uint64(st.Uid), 10) + ":" + strconv.FormatUint(uint64(st.Gid), 10)
		switch {
		case fi.Mode().IsRegular():
			dt, _ := os.ReadFile(p)
			line += " " + string(dt)
		case fi.Mode()&os.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			line += " -> " + target
		}
		if rel != "." {
			out = append(out, line)
		}
		return nil
	}))
	sort.Strings(out)
	return out
}

func TestApply(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to set owners, as the exec op that runs it does")
	}
	tmp := t.TempDir()
	lower, upper, root, want := filepath.Join(tmp, "lower"), filepath.Join(tmp, "upper"), filepath.Join(tmp, "root"), filepath.Join(tmp, "want")
	for _, d := range []string{lower, upper, root, want} {
		must(t, os.Mkdir(d, 0o755))
	}
	// The base.
	write(t, lower+"/a/x", "x0", 0o644)
	write(t, lower+"/a/y", "y0", 0o644)
	write(t, lower+"/b", "b0", 0o644)
	write(t, lower+"/c/z", "z0", 0o644)
	write(t, lower+"/keep", "k0", 0o644)
	write(t, lower+"/etc/hosts", "base hosts", 0o644)
	must(t, os.Symlink("a/x", lower+"/link"))
	old := time.Unix(1e9, 0)
	must(t, filepath.Walk(lower, func(p string, _ os.FileInfo, _ error) error {
		return unix.UtimesNanoAt(unix.AT_FDCWD, p, []unix.Timespec{unix.NsecToTimespec(old.UnixNano()), unix.NsecToTimespec(old.UnixNano())}, unix.AT_SYMLINK_NOFOLLOW)
	}))

	// The chunk: the base plus its own changes.
	cpa(t, lower, upper)
	write(t, upper+"/a/x", "x1", 0o600)
	must(t, os.Remove(upper+"/a/y"))
	must(t, os.Remove(upper+"/b"))
	write(t, upper+"/b/new", "in b", 0o644)
	must(t, os.RemoveAll(upper+"/c"))
	write(t, upper+"/c", "c is a file", 0o644)
	write(t, upper+"/d", "setuid", 0o755)
	must(t, os.Chown(upper+"/d", 1000, 1000))
	must(t, os.Chmod(upper+"/d", 0o755|os.ModeSetuid))
	must(t, unix.Lsetxattr(upper+"/d", "user.dazzlekit", []byte("v"), 0))
	must(t, os.Remove(upper+"/link"))
	must(t, os.Symlink("keep", upper+"/link"))
	write(t, upper+"/h1", "hard", 0o644)
	must(t, os.Link(upper+"/h1", upper+"/h2"))
	write(t, upper+"/etc/hosts", "chunk hosts", 0o644) // skipped: a container mount

	// The stack so far: the base plus an earlier chunk that changed a/x and keep and added e.
	cpa(t, lower, root)
	write(t, root+"/a/x", "x from an earlier chunk", 0o644)
	write(t, root+"/keep", "k from an earlier chunk", 0o644)
	write(t, root+"/e", "e", 0o644)
	cpa(t, root, want)

	s, err := Apply(lower, upper, root, "etc/hosts")
	if err != nil {
		t.Fatal(err)
	}
	// What Merge(root, Diff(lower, upper)) gives.
	must(t, os.RemoveAll(want+"/a/y"))
	must(t, os.Remove(want+"/b"))
	must(t, os.RemoveAll(want+"/c"))
	must(t, os.Remove(want+"/link"))
	for _, p := range []string{"a/x", "b", "b/new", "c", "d", "link", "h1", "h2"} {
		cmd := exec.Command("cp", "-a", "--no-target-directory", filepath.Join(upper, p), filepath.Join(want, p))
		if p == "b" {
			cmd = exec.Command("mkdir", "-p", filepath.Join(want, "b"))
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
	}
	if g, w := strings.Join(tree(t, root), "\n"), strings.Join(tree(t, want), "\n"); g != w {
		t.Errorf("applied tree:\n%s\n\nwant:\n%s", g, w)
	}
	if s.Deleted != 2 || s.Written != 9 { // a/y, c/z; a/x a b b/new c d link h1 h2 minus the skipped hosts
		t.Errorf("stats %+v", s)
	}
	var a, b syscall.Stat_t
	must(t, syscall.Stat(root+"/h1", &a))
	must(t, syscall.Stat(root+"/h2", &b))
	if a.Ino != b.Ino {
		t.Error("h1 and h2 are no longer one file")
	}
	buf := make([]byte, 16)
	if n, err := unix.Lgetxattr(root+"/d", "user.dazzlekit", buf); err != nil || string(buf[:n]) != "v" {
		t.Errorf("xattr of d: %q, %v", buf[:n], err)
	}
	if fi, _ := os.Stat(root + "/d"); fi.Mode()&os.ModeSetuid == 0 {
		t.Error("d lost its set-uid bit")
	}
	var ds, us syscall.Stat_t
	must(t, syscall.Stat(root+"/a", &ds))
	must(t, syscall.Stat(upper+"/a", &us))
	if ds.Mtim != us.Mtim {
		t.Errorf("a's mtime %v, want the chunk's %v", ds.Mtim, us.Mtim)
	}
}

func TestMainUsage(t *testing.T) {
	var b strings.Builder
	if rc := Main([]string{"x"}, &b); rc != 2 || !strings.Contains(b.String(), "usage: dazzlekit apply-layer LOWER UPPER ROOT") {
		t.Errorf("rc %d: %s", rc, b.String())
	}
	if rc := Main([]string{"/nonexistent/l", "/nonexistent/u", t.TempDir()}, &b); rc != 1 {
		t.Errorf("missing dirs: rc %d", rc)
	}
}
