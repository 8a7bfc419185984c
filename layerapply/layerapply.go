// Package layerapply stacks a chunk's own changes on a root filesystem without BuildKit's DiffOp
// and MergeOp: it compares the chunk's filesystem (upper) with the base's (lower) and applies what
// the chunk added, changed and deleted to a root that already holds the base and earlier chunks.
// The result is what Merge(root, Diff(lower, upper)) gives: the chunk's changes win, files it did
// not touch keep the root's version, and its deletions apply.
//
// It runs inside an exec op (the frontend binary's `apply-layer` subcommand), so it imports
// nothing of BuildKit and works in images without a shell.
package layerapply

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Command is the frontend binary's subcommand that runs Apply.
const Command = "apply-layer"

// Stats counts what Apply did.
type Stats struct {
	Written, Deleted int
}

// Apply applies upper's changes against lower to root. All three are directories; root may be "/".
// Paths in skip (relative, e.g. "proc") are left alone, with all under them: in an exec op they are
// the container's own mounts, not the image's files.
func Apply(lower, upper, root string, skip ...string) (Stats, error) {
	a := &applier{lower: lower, upper: upper, root: root, links: map[uint64]string{}, skip: map[string]bool{}}
	for _, s := range skip {
		a.skip[filepath.Clean(s)] = true
	}
	// Deletions first: a path replaced by another type is then written onto a clean place.
	if err := a.deletions(); err != nil {
		return a.stats, err
	}
	if err := a.changes(); err != nil {
		return a.stats, err
	}
	return a.stats, a.dirTimes()
}

type applier struct {
	lower, upper, root string
	links              map[uint64]string // inode in upper -> path written in root, for hard links
	dirs               []string          // directories written, to set their times last
	skip               map[string]bool
	stats              Stats
}

// skipped reports whether rel is to be left alone; for a directory, the walk then skips it whole.
func (a *applier) skipped(rel string, d fs.DirEntry) (bool, error) {
	if !a.skip[rel] {
		return false, nil
	}
	if d.IsDir() {
		return true, fs.SkipDir
	}
	return true, nil
}

func (a *applier) deletions() error {
	return filepath.WalkDir(a.lower, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a.lower, p)
		if rel == "." {
			return nil
		}
		if skip, err := a.skipped(rel, d); skip {
			return err
		}
		if _, err := os.Lstat(filepath.Join(a.upper, rel)); err == nil {
			return nil
		} else if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR) {
			return err
		}
		if err := os.RemoveAll(filepath.Join(a.root, rel)); err != nil && !errors.Is(err, syscall.ENOTDIR) {
			return fmt.Errorf("deleting /%s: %w", rel, err)
		}
		a.stats.Deleted++
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	})
}

func (a *applier) changes() error {
	return filepath.WalkDir(a.upper, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(a.upper, p)
		if rel == "." {
			return nil
		}
		if skip, err := a.skipped(rel, d); skip {
			return err
		}
		ui, err := os.Lstat(p)
		if err != nil {
			return err
		}
		li, err := os.Lstat(filepath.Join(a.lower, rel))
		if err == nil && same(li, ui, filepath.Join(a.lower, rel), p) {
			return nil
		}
		if err := a.write(rel, p, ui); err != nil {
			return fmt.Errorf("writing /%s: %w", rel, err)
		}
		a.stats.Written++
		return nil
	})
}

// same reports whether the chunk left a path as the base had it. Unchanged files in a snapshot
// keep every attribute, so comparing attributes is enough; a rewrite changes the mtime at least.
func same(l, u os.FileInfo, lp, up string) bool {
	ls, us := l.Sys().(*syscall.Stat_t), u.Sys().(*syscall.Stat_t)
	if l.Mode() != u.Mode() || ls.Uid != us.Uid || ls.Gid != us.Gid || ls.Rdev != us.Rdev {
		return false
	}
	if l.IsDir() {
		// A directory's own attributes; its entries are compared one by one.
		return ls.Mtim == us.Mtim
	}
	if l.Size() != u.Size() || ls.Mtim != us.Mtim {
		return false
	}
	if l.Mode()&fs.ModeSymlink != 0 {
		lt, err1 := os.Readlink(lp)
		ut, err2 := os.Readlink(up)
		return err1 == nil && err2 == nil && lt == ut
	}
	return true
}

func (a *applier) write(rel, src string, fi os.FileInfo) error {
	dst := filepath.Join(a.root, rel)
	st := fi.Sys().(*syscall.Stat_t)
	if fi.IsDir() {
		if cur, err := os.Lstat(dst); err == nil && !cur.IsDir() {
			if err := os.Remove(dst); err != nil {
				return err
			}
		}
		if err := os.Mkdir(dst, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		a.dirs = append(a.dirs, rel)
		return attrs(dst, src, fi)
	}
	if cur, err := os.Lstat(dst); err == nil {
		rm := os.Remove
		if cur.IsDir() {
			rm = os.RemoveAll
		}
		if err := rm(dst); err != nil {
			return err
		}
	}
	if fi.Mode().IsRegular() && st.Nlink > 1 {
		if first, ok := a.links[st.Ino]; ok {
			return os.Link(filepath.Join(a.root, first), dst)
		}
		a.links[st.Ino] = rel
	}
	switch m := fi.Mode(); {
	case m.IsRegular():
		if err := copyFile(dst, src); err != nil {
			return err
		}
	case m&fs.ModeSymlink != 0:
		target, err := os.Readlink(src)
		if err != nil {
			return err
		}
		if err := os.Symlink(target, dst); err != nil {
			return err
		}
	case m&fs.ModeNamedPipe != 0:
		if err := unix.Mkfifo(dst, 0o600); err != nil {
			return err
		}
	case m&fs.ModeDevice != 0:
		if err := unix.Mknod(dst, st.Mode, int(st.Rdev)); err != nil {
			return err
		}
	default:
		return nil // sockets belong to running processes, not to images
	}
	return attrs(dst, src, fi)
}

func copyFile(dst, src string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// attrs gives dst src's owner, extended attributes, mode and times, in that order: chown clears
// set-uid bits and file capabilities are xattrs, so mode and xattrs come after it.
func attrs(dst, src string, fi os.FileInfo) error {
	st := fi.Sys().(*syscall.Stat_t)
	if err := os.Lchown(dst, int(st.Uid), int(st.Gid)); err != nil && !(errors.Is(err, fs.ErrPermission) && os.Geteuid() != 0) {
		return err
	}
	if err := copyXattrs(dst, src); err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSymlink == 0 {
		if err := unix.Chmod(dst, st.Mode&07777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(syscall.TimespecToNsec(st.Atim)), unix.NsecToTimespec(syscall.TimespecToNsec(st.Mtim))}
	return unix.UtimesNanoAt(unix.AT_FDCWD, dst, ts, unix.AT_SYMLINK_NOFOLLOW)
}

func copyXattrs(dst, src string) error {
	buf := make([]byte, 64*1024)
	n, err := unix.Llistxattr(src, buf)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil
		}
		return err
	}
	for _, name := range strings.Split(strings.TrimRight(string(buf[:n]), "\x00"), "\x00") {
		if name == "" {
			continue
		}
		val := make([]byte, 64*1024)
		vn, err := unix.Lgetxattr(src, name, val)
		if err != nil {
			return err
		}
		if err := unix.Lsetxattr(dst, name, val[:vn], 0); err != nil && !errors.Is(err, unix.ENOTSUP) && !errors.Is(err, unix.EPERM) {
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

// dirTimes sets directory times last, since writing their entries changed them.
func (a *applier) dirTimes() error {
	for i := len(a.dirs) - 1; i >= 0; i-- {
		rel := a.dirs[i]
		fi, err := os.Lstat(filepath.Join(a.upper, rel))
		if err != nil {
			return err
		}
		st := fi.Sys().(*syscall.Stat_t)
		ts := []unix.Timespec{unix.NsecToTimespec(syscall.TimespecToNsec(st.Atim)), unix.NsecToTimespec(syscall.TimespecToNsec(st.Mtim))}
		if err := unix.UtimesNanoAt(unix.AT_FDCWD, filepath.Join(a.root, rel), ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	return nil
}

// ContainerMounts are the paths an exec op's container mounts over its root filesystem (BuildKit's
// OCI spec and its network files) plus where the frontend mounts lower, upper and itself.
var ContainerMounts = []string{"proc", "sys", "dev", "etc/hosts", "etc/resolv.conf", "etc/hostname", ".dazzlekit"}

// Main is the `apply-layer LOWER UPPER ROOT` subcommand. With ROOT "/" it leaves ContainerMounts alone.
func Main(args []string, stderr io.Writer) int {
	if len(args) != 3 {
		fmt.Fprintf(stderr, "usage: dazzlekit %s LOWER UPPER ROOT\n", Command)
		return 2
	}
	var skip []string
	if filepath.Clean(args[2]) == "/" {
		skip = ContainerMounts
	}
	s, err := Apply(args[0], args[1], args[2], skip...)
	if err != nil {
		fmt.Fprintf(stderr, "dazzlekit %s: %v\n", Command, err)
		return 1
	}
	fmt.Fprintf(stderr, "%d paths written, %d deleted\n", s.Written, s.Deleted)
	return 0
}
