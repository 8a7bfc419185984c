package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// Changed says which test of a batch first left the container's root different from the image,
// and one path it changed there.
type Changed struct {
	Test int
	Path string
}

// containerPaths are what the container itself puts in its root (mount points, the files BuildKit
// mounts over, the runner's own directory), relative to the root: whatever the tests do, they
// differ from the image, and none of them is part of any image the tests could leave behind.
var containerPaths = map[string]bool{
	".dazzlekit": true, "dev": true, "proc": true, "sys": true,
	"etc/hosts": true, "etc/resolv.conf": true, "etc/hostname": true, "etc/mtab": true,
}

// rootWatch tells whether anything under root changed since it was started, without a copy of the
// tree to compare with: every change to an inode sets its ctime to the kernel's clock, which no
// program can set back, so a path changed since the start has a ctime after the start. Under
// overlayfs (the container's root with BuildKit's overlayfs snapshotter) a change below a directory
// copies that directory up, which sets the directory's ctime too, so the walk only needs to enter
// directories whose ctime is after the start: a few stat calls in the root when nothing changed,
// whatever the image's size. On any other filesystem (the native snapshotter's copies, FUSE) a
// file changed in place leaves its directory alone, so the walk enters every directory.
//
// The start is the ctime of a marker the watch writes into root itself, not time.Now: file times
// come from the kernel's coarse clock, in the granularity of root's filesystem, and only a time
// taken from that same filesystem compares with them. The watch then waits for that clock to move
// on, so whatever a test changes carries a later time than the marker, even in the same tick.
type rootWatch struct {
	root  string
	start syscall.Timespec
	// overlay is true when root is an overlayfs mount, whose copy-up lets the walk skip
	// directories that did not change.
	overlay bool
	// shared is what the container's places outside its root filesystem held at the start.
	shared map[string]string
}

// sharedDirs and sysvipcFiles are where a test can leave something for the next one without
// touching the root's filesystem: POSIX shared memory and message queues (the container's own
// tmpfs and mqueue mounts), and System V IPC objects, which /proc/sysvipc lists for the container's
// IPC namespace. The walk skips dev and proc, so these are compared with how they were at the start.
var (
	sharedDirs   = []string{"dev/shm", "dev/mqueue"}
	sysvipcFiles = []string{"proc/sysvipc/shm", "proc/sysvipc/sem", "proc/sysvipc/msg"}
)

// sharedState lists what sharedDirs and sysvipcFiles hold, by path as the container sees it. A place
// the container lacks lists nothing, at the start and later alike.
func (w *rootWatch) sharedState() map[string]string {
	st := map[string]string{}
	for _, d := range sharedDirs {
		names, err := readDirNames(filepath.Join(w.root, d))
		if err != nil {
			continue
		}
		for _, name := range names {
			p := filepath.Join(d, name)
			var s syscall.Stat_t
			if syscall.Lstat(filepath.Join(w.root, p), &s) == nil {
				st["/"+p] = fmt.Sprintf("%d.%09d %d %o", s.Ctim.Sec, s.Ctim.Nsec, s.Size, s.Mode)
			}
		}
	}
	for _, f := range sysvipcFiles {
		if dt, err := os.ReadFile(filepath.Join(w.root, f)); err == nil {
			st["/"+f] = string(dt)
		}
	}
	return st
}

// sharedChanged returns the first place in sharedState that differs from the start, or "".
func (w *rootWatch) sharedChanged() string {
	now := w.sharedState()
	var paths []string
	for p, v := range now {
		if w.shared[p] != v {
			paths = append(paths, p)
		}
	}
	for p := range w.shared {
		if _, ok := now[p]; !ok {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return ""
	}
	return slices.Min(paths)
}

func readDirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// overlayfsMagic is OVERLAYFS_SUPER_MAGIC, statfs's f_type of an overlayfs mount.
const overlayfsMagic = 0x794c7630

const markerName = ".dazzlekit/started"

func startWatch(root string) (*rootWatch, error) {
	var sfs syscall.Statfs_t
	if err := syscall.Statfs(root, &sfs); err != nil {
		return nil, err
	}
	marker := filepath.Join(root, markerName)
	if err := os.MkdirAll(filepath.Dir(marker), 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(marker, nil, 0o644); err != nil {
		return nil, err
	}
	start, err := ctime(marker)
	if err != nil {
		return nil, err
	}
	// At most a second, for a filesystem with times in whole seconds; usually a tick of a few ms.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		now := time.Now()
		if err := os.Chtimes(marker, now, now); err != nil {
			return nil, err
		}
		t, err := ctime(marker)
		if err != nil {
			return nil, err
		}
		if after(t, start) {
			w := &rootWatch{root: root, start: start, overlay: sfs.Type == overlayfsMagic}
			w.shared = w.sharedState()
			return w, nil
		}
	}
	return nil, errors.New("the filesystem's clock did not move in 2 s")
}

// changed returns a path under the root (as the container sees it, e.g. "/tmp/x") that changed
// since the watch started, or "" when none did. A directory stands for itself when nothing in it
// changed: its mode, its owner, or an entry removed. The places in sharedState count too.
func (w *rootWatch) changed() (string, error) {
	p, err := w.rootChanged()
	if p == "" && err == nil {
		p = w.sharedChanged()
	}
	return p, err
}

func (w *rootWatch) rootChanged() (string, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(w.root, &st); err != nil {
		return "", err
	}
	dev := st.Dev
	// BuildKit builds a MergeOp on overlayfs by hard-linking each layer's files into a snapshot of
	// its own (snapshot/diffapply_linux.go), and link(2) sets the ctime of the file linked: a merge
	// built while the tests run, beside them, renews the ctime of files in their image that no test
	// touched. Such a file (a second link, an mtime from before the start) still counts as a change,
	// so nothing a test did goes unseen, but only when nothing else changed: any other path is the
	// one named, e.g. the directory a test removed a file from rather than the file left beside it.
	var linked string
	var walk func(rel string) (string, error)
	walk = func(rel string) (string, error) {
		names, err := readDirNames(filepath.Join(w.root, rel))
		if err != nil {
			return "", err
		}
		slices.Sort(names)
		for _, name := range names {
			p := filepath.Join(rel, name)
			if containerPaths[p] {
				continue
			}
			var st syscall.Stat_t // the walk below would overwrite one shared with it
			if err := syscall.Lstat(filepath.Join(w.root, p), &st); err != nil {
				if errors.Is(err, fs.ErrNotExist) {
					// Gone between the listing and now: a process of a test still at work.
					return "/" + p, nil
				}
				return "", err
			}
			changed := after(st.Ctim, w.start)
			// Another filesystem mounted here holds nothing of the image.
			if st.Mode&syscall.S_IFMT == syscall.S_IFDIR && st.Dev == dev && (changed || !w.overlay) {
				if c, err := walk(p); c != "" || err != nil {
					return c, err
				}
			}
			if changed {
				if st.Mode&syscall.S_IFMT != syscall.S_IFDIR && st.Nlink > 1 && !after(st.Mtim, w.start) {
					if linked == "" {
						linked = "/" + p
					}
					continue
				}
				return "/" + p, nil
			}
		}
		return "", nil
	}
	p, err := walk("")
	if p == "" && err == nil {
		p = linked
	}
	return p, err
}

func ctime(path string) (syscall.Timespec, error) {
	var st syscall.Stat_t
	if err := syscall.Lstat(path, &st); err != nil {
		return syscall.Timespec{}, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Ctim, nil
}

func after(a, b syscall.Timespec) bool {
	return a.Sec > b.Sec || a.Sec == b.Sec && a.Nsec > b.Nsec
}
