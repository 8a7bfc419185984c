package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"strings"
)

// The image's account files. They are read directly rather than through
// os/user so that a static binary resolves names from the image under test,
// with no NSS; tests point them at fixtures.
var (
	passwdPath = "/etc/passwd"
	groupPath  = "/etc/group"
)

// identity is who the command runs as and what its environment should say
// about it.
type identity struct {
	uid, gid uint32
	groups   []uint32 // supplementary groups
	name     string   // "" when the uid has no passwd entry
	home     string   // "" when unknown
}

type passwdEntry struct {
	name     string
	uid, gid uint32
	home     string
}

type groupEntry struct {
	name    string
	gid     uint32
	members []string
}

// resolveUser interprets a test's `user:` the way Docker interprets --user:
//   - "" is root (the runner's own identity);
//   - "uid" or "name"; a name must exist in /etc/passwd, a numeric uid need
//     not, and then runs with gid 0 and HOME "/" as it would under Docker;
//   - "user:group" with a numeric gid or a name from /etc/group.
//
// Supplementary groups come from /etc/group memberships of the user's name,
// only when no group was given explicitly (as runc does).
func resolveUser(spec string) (identity, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if spec == "" {
		userPart = "0"
	}
	if userPart == "" || (hasGroup && groupPart == "") {
		return identity{}, fmt.Errorf("invalid user %q: want user[:group]", spec)
	}

	var id identity
	if uid, err := parseID(userPart); err == nil {
		id.uid = uid
		if e, ok, _ := findPasswd(func(e passwdEntry) bool { return e.uid == uid }); ok {
			id.gid, id.name, id.home = e.gid, e.name, e.home
		}
	} else {
		e, ok, err := findPasswd(func(e passwdEntry) bool { return e.name == userPart })
		if err != nil {
			return identity{}, fmt.Errorf("cannot look up user %q: %w", userPart, err)
		}
		if !ok {
			return identity{}, fmt.Errorf("unable to find user %s: no matching entries in passwd file", userPart)
		}
		id.uid, id.gid, id.name, id.home = e.uid, e.gid, e.name, e.home
	}

	if hasGroup {
		if gid, err := parseID(groupPart); err == nil {
			id.gid = gid
		} else {
			g, ok, err := findGroup(func(g groupEntry) bool { return g.name == groupPart })
			if err != nil {
				return identity{}, fmt.Errorf("cannot look up group %q: %w", groupPart, err)
			}
			if !ok {
				return identity{}, fmt.Errorf("unable to find group %s: no matching entries in group file", groupPart)
			}
			id.gid = g.gid
		}
		return id, nil
	}

	if id.name != "" {
		groups, _ := readGroups()
		for _, g := range groups {
			if slices.Contains(g.members, id.name) && !slices.Contains(id.groups, g.gid) {
				id.groups = append(id.groups, g.gid)
			}
		}
	}
	return id, nil
}

func parseID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	return uint32(n), err
}

// userEnv adds HOME for the command's user unless the image or the test set
// it: an explicit setting wins, as under Docker, but a shell should not start
// without a home. USER is left unset, as dazzle leaves it.
func userEnv(env []string, id identity) []string {
	out := slices.Clone(env)
	if !hasEnv(env, "HOME") {
		home := id.home
		if home == "" {
			home = "/"
		}
		out = append(out, "HOME="+home)
	}
	return out
}

func hasEnv(env []string, key string) bool {
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k == key {
			return true
		}
	}
	return false
}

func findPasswd(match func(passwdEntry) bool) (passwdEntry, bool, error) {
	var found passwdEntry
	var ok bool
	err := scanLines(passwdPath, func(fields []string) bool {
		// name:password:uid:gid:gecos:home:shell
		if len(fields) < 4 {
			return true
		}
		uid, err1 := parseID(fields[2])
		gid, err2 := parseID(fields[3])
		if err1 != nil || err2 != nil {
			return true
		}
		e := passwdEntry{name: fields[0], uid: uid, gid: gid}
		if len(fields) > 5 {
			e.home = fields[5]
		}
		if match(e) {
			found, ok = e, true
			return false
		}
		return true
	})
	return found, ok, err
}

func findGroup(match func(groupEntry) bool) (groupEntry, bool, error) {
	groups, err := readGroups()
	for _, g := range groups {
		if match(g) {
			return g, true, nil
		}
	}
	return groupEntry{}, false, err
}

func readGroups() ([]groupEntry, error) {
	var groups []groupEntry
	err := scanLines(groupPath, func(fields []string) bool {
		// name:password:gid:member,member
		if len(fields) < 3 {
			return true
		}
		gid, err := parseID(fields[2])
		if err != nil {
			return true
		}
		g := groupEntry{name: fields[0], gid: gid}
		if len(fields) > 3 {
			for _, m := range strings.Split(fields[3], ",") {
				if m = strings.TrimSpace(m); m != "" {
					g.members = append(g.members, m)
				}
			}
		}
		groups = append(groups, g)
		return true
	})
	return groups, err
}

// scanLines calls fn with the colon-separated fields of each entry until fn
// returns false. A missing file reads as empty: images without account files
// are common and still run numeric users.
func scanLines(path string, fn func(fields []string) bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		// NIS compat entries (+/-) and comments name no local account.
		if line == "" || line[0] == '#' || line[0] == '+' || line[0] == '-' {
			continue
		}
		if !fn(strings.Split(line, ":")) {
			return nil
		}
	}
	return sc.Err()
}
