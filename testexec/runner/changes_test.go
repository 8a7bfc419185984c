package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// copyUp does to the directories above rel what overlayfs does when a change below them copies
// them up into the container's layer: it sets their ctime. Here, on the host's filesystem, the
// tests call it themselves; the integration tests check the real thing in a container's root.
func copyUp(root, rel string) error {
	for d := filepath.Dir(rel); d != "."; d = filepath.Dir(d) {
		fi, err := os.Stat(filepath.Join(root, d))
		if err != nil {
			return err
		}
		if err := os.Chmod(filepath.Join(root, d), fi.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}

// linkElsewhere hard-links rel to a file outside the root, as a MergeOp does to an image's files.
func linkElsewhere(root, rel string) error {
	return os.Link(filepath.Join(root, rel), filepath.Join(filepath.Dir(root), "elsewhere-"+filepath.Base(rel)))
}

func TestRootWatch(t *testing.T) {
	for _, tt := range []struct {
		name   string
		change func(root string) error
		want   string
		// What the walk that trusts overlayfs's copy-up finds, where it differs from want.
		wantOverlay *string
	}{
		{"nothing", func(string) error { return nil }, "", nil},
		{"new file deep", func(root string) error {
			if err := copyUp(root, "usr/share/doc/new"); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, "usr/share/doc/new"), nil, 0o644)
		}, "/usr/share/doc/new", nil},
		{"file changed deep", func(root string) error {
			if err := copyUp(root, "usr/share/doc/readme"); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, "usr/share/doc/readme"), []byte("x"), 0o644)
		}, "/usr/share/doc/readme", nil},
		// Without a copy-up only the full walk finds it: why the short one needs overlayfs.
		{"file changed deep, no copy-up", func(root string) error {
			return os.WriteFile(filepath.Join(root, "usr/share/doc/readme"), []byte("x"), 0o644)
		}, "/usr/share/doc/readme", new("")},
		{"top-level file", func(root string) error { return os.WriteFile(filepath.Join(root, "top"), []byte("x"), 0o644) }, "/top", nil},
		{"removed", func(root string) error {
			if err := copyUp(root, "usr/share/doc/readme"); err != nil {
				return err
			}
			return os.Remove(filepath.Join(root, "usr/share/doc/readme"))
		}, "/usr/share/doc", nil},
		// What a MergeOp built beside the tests does to a file of their image: a link elsewhere.
		// The file counts, but the directory a test changed is the change named.
		{"removed, a file beside linked elsewhere", func(root string) error {
			if err := linkElsewhere(root, "usr/share/doc/readme"); err != nil {
				return err
			}
			if err := copyUp(root, "usr/share/doc/gone"); err != nil {
				return err
			}
			return os.Remove(filepath.Join(root, "usr/share/doc/gone"))
		}, "/usr/share/doc", nil},
		{"only a link elsewhere", func(root string) error { return linkElsewhere(root, "top") }, "/top", nil},
		{"linked elsewhere and written", func(root string) error {
			if err := linkElsewhere(root, "top"); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(root, "top"), []byte("x"), 0o644)
		}, "/top", nil},
		{"chmod", func(root string) error {
			if err := copyUp(root, "usr/share"); err != nil {
				return err
			}
			return os.Chmod(filepath.Join(root, "usr/share"), 0o700)
		}, "/usr/share", nil},
		{"new directory", func(root string) error { return os.MkdirAll(filepath.Join(root, "opt/a/b"), 0o755) }, "/opt/a/b", nil},
		// Outside the root's filesystem, shared by the tests of a batch all the same.
		{"posix shared memory", func(root string) error {
			return os.WriteFile(filepath.Join(root, "dev/shm/seg"), []byte("x"), 0o600)
		}, "/dev/shm/seg", nil},
		{"posix shared memory changed", func(root string) error {
			return os.WriteFile(filepath.Join(root, "dev/shm/kept"), []byte("xy"), 0o600)
		}, "/dev/shm/kept", nil},
		{"posix shared memory removed", func(root string) error {
			return os.Remove(filepath.Join(root, "dev/shm/kept"))
		}, "/dev/shm/kept", nil},
		{"message queue", func(root string) error {
			return os.WriteFile(filepath.Join(root, "dev/mqueue/q"), nil, 0o600)
		}, "/dev/mqueue/q", nil},
		{"system v ipc", func(root string) error {
			return os.WriteFile(filepath.Join(root, "proc/sysvipc/shm"), []byte(sysvipcHeader+"0 32768 600 4096 1 1 0 0 0 0 0 0 0 0 0 0\n"), 0o644)
		}, "/proc/sysvipc/shm", nil},
		{"container paths", func(root string) error {
			for _, p := range []string{"etc/hosts", "dev/null", ".dazzlekit/out/results.json"} {
				if err := os.WriteFile(filepath.Join(root, p), []byte("x"), 0o644); err != nil {
					return err
				}
			}
			return nil
		}, "", nil},
	} {
		for _, overlay := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/overlay=%v", tt.name, overlay), func(t *testing.T) {
				root := t.TempDir()
				for _, d := range []string{"usr/share/doc", "etc", "dev/shm", "dev/mqueue", "proc/sysvipc", ".dazzlekit/out"} {
					if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
				for _, f := range []string{"usr/share/doc/readme", "usr/share/doc/gone", "etc/hosts", "top", "dev/shm/kept"} {
					if err := os.WriteFile(filepath.Join(root, f), nil, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.WriteFile(filepath.Join(root, "proc/sysvipc/shm"), []byte(sysvipcHeader), 0o644); err != nil {
					t.Fatal(err)
				}
				w, err := startWatch(root)
				if err != nil {
					t.Fatal(err)
				}
				if w.overlay {
					t.Fatal("a temporary directory taken for overlayfs")
				}
				w.overlay = overlay
				if err := tt.change(root); err != nil {
					t.Fatal(err)
				}
				got, err := w.changed()
				if err != nil {
					t.Fatal(err)
				}
				want := tt.want
				if overlay && tt.wantOverlay != nil {
					want = *tt.wantOverlay
				}
				if got != want {
					t.Errorf("changed() = %q, want %q", got, want)
				}
			})
		}
	}
}

// sysvipcHeader is /proc/sysvipc/shm with no segment.
const sysvipcHeader = "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  cgid      atime      dtime      ctime                   rss                  swap\n"
