package merge

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Action says how an env variable set by more than one of base and chunks is combined
// (dazzle.yaml combiner.envvars[].action). This package owns the list: the project loader
// validates dazzle.yaml with ParseAction, so what loads is exactly what Env can apply.
type Action string

const (
	// UseFirst keeps the value already in the result. It is the default, so under it a chunk
	// cannot change a variable the base sets: dazzle behaves so and its own tests expect it.
	UseFirst Action = "use-first"
	// UseLast takes the value of the last chunk (in combination order) that set the variable.
	UseLast Action = "use-last"
	// Merge appends a chunk's own ":"-list entries to the value so far; see Env for how the
	// base's value inside a chunk's value is kept from being appended again.
	Merge Action = "merge"
	// MergeUnique concatenates the ":"-lists and keeps the last occurrence of each entry.
	MergeUnique Action = "merge-unique"
)

// Actions lists every action, the default first.
func Actions() []Action { return []Action{UseFirst, UseLast, Merge, MergeUnique} }

// ParseAction validates an action as written in dazzle.yaml. An empty action means the default,
// as in dazzle; spelling is exact (dazzle compares the strings as they are).
func ParseAction(s string) (Action, error) {
	if s == "" {
		return UseFirst, nil
	}
	if slices.Contains(Actions(), Action(s)) {
		return Action(s), nil
	}
	var allowed []string
	for _, a := range Actions() {
		allowed = append(allowed, string(a))
	}
	return "", fmt.Errorf("unknown action %q; use one of: %s", s, strings.Join(allowed, ", "))
}

// EnvRule is one dazzle.yaml combiner.envvars entry.
type EnvRule struct {
	Name   string
	Action Action
}

// ChunkImage is one chunk's image config as dockerfile2llb produced it (base config inherited,
// then the chunk's own Dockerfile applied).
type ChunkImage struct {
	Name  string
	Image *dockerspec.DockerOCIImage
}

// Env combines env lists. base is the base image env ("K=V" entries); each chunk env is that
// chunk's full env, base variables included.
//
// The result starts as the base env, in its order. Each chunk, in order, contributes only the
// variables its own Dockerfile set or changed, i.e. those the base lacks or has with another
// value. dazzle feeds inherited variables to the rules too, so under use-last a chunk that never
// touched HOME would reset it to the base's value, undoing an earlier chunk's change.
// A contributed variable not yet in the result is appended (in the chunk's order); one already
// there follows its rule (first matching rule by name; default, or an unknown action, use-first).
//
// merge: a chunk's value is typically built from the base's (ENV PATH=/x:$PATH arrives as
// "/x:<base PATH>"), so joining it whole would repeat the base's entries once per chunk. The
// chunk's own contribution is therefore its value with the base's value removed once, where
// it appears as a whole run of ":"-delimited entries (leftmost such run); if it does not appear
// (the chunk rewrote the variable) the whole value is the contribution. The result is
// "old:contribution". For base PATH=/usr/bin and chunks A PATH=/a:/usr/bin, B PATH=/usr/bin:/b
// that gives /usr/bin:/a:/b. dazzle gives /usr/bin:/usr/bin:/a:/usr/bin:/usr/bin:/b (it also
// merges the base with itself); a PATH lookup sees the same directories in the same order in
// both, so the difference is only the duplicates. Prepending is deliberately not honoured as
// prepending: doing so would change which binary wins relative to dazzle; projects wanting
// that use merge-unique, which does keep a chunk's prefix in front of the base's entries.
//
// An empty value counts as an empty list under merge and merge-unique (no stray ":" appears),
// while empty entries inside a non-empty value ("a::b") are kept. Entries are split on the first
// "=" only, so values may contain "="; an entry without "=" is a variable with an empty value.
// Within one list a repeated variable keeps its first position and its last value.
func Env(base []string, chunks [][]string, rules []EnvRule) []string {
	baseEnv := parseEnv(base)
	res := parseEnv(base)
	for _, chunk := range chunks {
		ce := parseEnv(chunk)
		for _, k := range ce.keys {
			v := ce.vals[k]
			bv, inBase := baseEnv.vals[k]
			if inBase && bv == v {
				continue // inherited unchanged: not this chunk's doing
			}
			old, ok := res.vals[k]
			if !ok {
				res.set(k, v)
				continue
			}
			switch ruleFor(rules, k) {
			case UseLast:
				res.set(k, v)
			case Merge:
				res.set(k, appendList(old, ownEntries(v, bv, inBase)))
			case MergeUnique:
				res.set(k, mergeUnique(old, v))
			default: // UseFirst
			}
		}
	}
	var out []string
	for _, k := range res.keys {
		out = append(out, k+"="+res.vals[k])
	}
	return out
}

// Config returns the combined image config. Never mutates its inputs, and shares no slice, map
// or pointer with them. A nil base counts as an empty image; a chunk with a nil Image adds nothing.
//
// Execution settings (Cmd, Entrypoint, User, WorkingDir, StopSignal, Shell, Healthcheck, OnBuild,
// ArgsEscaped), Author and the platform come from the base: chunks are independent additions to
// it, and letting any one of them pick how the combined image runs would depend on the order.
// RootFS is the base's as given; the exporter rewrites the diff ids from the stacked layers.
// Created is left unset so that the same inputs give the same config bytes.
//
// Env: see Env. Labels: the base's, then each chunk's own labels (those the base lacks or has
// with another value, for the same reason as Env: an inherited label must not undo an earlier
// chunk's), later chunks winning a clash. ExposedPorts and Volumes: union of all.
// History: the base's, then each chunk's own entries (those after the base's). A chunk whose
// history does not start with the base's is not built on this base as far as its history tells;
// it adds no history rather than a guess. A chunk's entries carry HistoryComment(chunk), so
// `docker history` and tools tell which chunk made each layer.
func Config(base *dockerspec.DockerOCIImage, chunks []ChunkImage, rules []EnvRule) *dockerspec.DockerOCIImage {
	if base == nil {
		base = &dockerspec.DockerOCIImage{}
	}
	var imgs []*dockerspec.DockerOCIImage
	for _, c := range chunks {
		if c.Image != nil {
			imgs = append(imgs, c.Image)
		}
	}

	out := &dockerspec.DockerOCIImage{}
	out.Author = base.Author
	out.Platform = ocispec.Platform{
		Architecture: base.Architecture,
		OS:           base.OS,
		OSVersion:    base.OSVersion,
		OSFeatures:   slices.Clone(base.OSFeatures),
		Variant:      base.Variant,
	}
	out.RootFS = ocispec.RootFS{Type: base.RootFS.Type, DiffIDs: slices.Clone(base.RootFS.DiffIDs)}
	out.History = cloneHistory(nil, base.History)
	for _, ch := range chunks {
		img := ch.Image
		if img != nil && len(img.History) >= len(base.History) && slices.EqualFunc(img.History[:len(base.History)], base.History, historyEqual) {
			n := len(out.History)
			out.History = cloneHistory(out.History, img.History[len(base.History):])
			for i := n; i < len(out.History); i++ {
				out.History[i].Comment = HistoryComment(ch.Name)
			}
		}
	}

	bc := base.Config
	c := &out.Config
	c.User = bc.User
	c.WorkingDir = bc.WorkingDir
	c.StopSignal = bc.StopSignal
	//lint:ignore SA1019 kept so a base whose Cmd/Entrypoint is pre-escaped still runs as written
	c.ArgsEscaped = bc.ArgsEscaped
	c.Cmd = slices.Clone(bc.Cmd)
	c.Entrypoint = slices.Clone(bc.Entrypoint)
	c.Shell = slices.Clone(bc.Shell)
	c.OnBuild = slices.Clone(bc.OnBuild)
	if bc.Healthcheck != nil {
		hc := *bc.Healthcheck
		hc.Test = slices.Clone(hc.Test)
		c.Healthcheck = &hc
	}

	envs := make([][]string, len(imgs))
	for i, img := range imgs {
		envs[i] = img.Config.Env
	}
	c.Env = Env(bc.Env, envs, rules)

	c.Labels = maps.Clone(bc.Labels)
	c.ExposedPorts = maps.Clone(bc.ExposedPorts)
	c.Volumes = maps.Clone(bc.Volumes)
	for _, img := range imgs {
		for k, v := range img.Config.Labels {
			if bv, ok := bc.Labels[k]; ok && bv == v {
				continue
			}
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			c.Labels[k] = v
		}
		c.ExposedPorts = addSet(c.ExposedPorts, img.Config.ExposedPorts)
		c.Volumes = addSet(c.Volumes, img.Config.Volumes)
	}
	return out
}

// envList keeps the order of first appearance beside the values, so nothing depends on map
// iteration order (dazzle's does, which makes its combined env order random).
type envList struct {
	keys []string
	vals map[string]string
}

func parseEnv(env []string) *envList {
	l := &envList{vals: make(map[string]string, len(env))}
	for _, e := range env {
		k, v, _ := strings.Cut(e, "=")
		l.set(k, v)
	}
	return l
}

func (l *envList) set(k, v string) {
	if _, ok := l.vals[k]; !ok {
		l.keys = append(l.keys, k)
	}
	l.vals[k] = v
}

func ruleFor(rules []EnvRule, name string) Action {
	for _, r := range rules {
		if r.Name == name {
			return r.Action
		}
	}
	return UseFirst
}

// splitList treats "" as no entries rather than one empty entry, so that merging with an
// empty value does not introduce an empty PATH entry (which would mean the current directory).
func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ":")
}

// ownEntries is what a chunk added to the base's value: v without the first whole-entry run equal
// to the base's value. Matching whole entries keeps /usr/bin from matching inside /usr/bin2.
func ownEntries(v, baseVal string, inBase bool) []string {
	entries := splitList(v)
	b := splitList(baseVal)
	if !inBase || len(b) == 0 {
		return entries
	}
	for i := 0; i+len(b) <= len(entries); i++ {
		if slices.Equal(entries[i:i+len(b)], b) {
			return slices.Concat(entries[:i], entries[i+len(b):])
		}
	}
	return entries
}

func appendList(old string, add []string) string {
	if len(add) == 0 {
		return old
	}
	if old == "" {
		return strings.Join(add, ":")
	}
	return old + ":" + strings.Join(add, ":")
}

// mergeUnique keeps the last occurrence of each entry, as dazzle does: a chunk's "/x:$PATH"
// thereby keeps /x in front of the base's entries it repeats.
func mergeUnique(old, v string) string {
	all := slices.Concat(splitList(old), splitList(v))
	seen := make(map[string]bool, len(all))
	var keep []string
	for i := len(all) - 1; i >= 0; i-- {
		if !seen[all[i]] {
			seen[all[i]] = true
			keep = append(keep, all[i])
		}
	}
	slices.Reverse(keep)
	return strings.Join(keep, ":")
}

func addSet(dst, src map[string]struct{}) map[string]struct{} {
	for k := range src {
		if dst == nil {
			dst = map[string]struct{}{}
		}
		dst[k] = struct{}{}
	}
	return dst
}

func historyEqual(a, b ocispec.History) bool {
	if (a.Created == nil) != (b.Created == nil) || (a.Created != nil && !a.Created.Equal(*b.Created)) {
		return false
	}
	return a.CreatedBy == b.CreatedBy && a.Author == b.Author && a.Comment == b.Comment && a.EmptyLayer == b.EmptyLayer
}

func cloneHistory(dst, src []ocispec.History) []ocispec.History {
	for _, h := range src {
		if h.Created != nil {
			t := *h.Created
			h.Created = &t
		}
		dst = append(dst, h)
	}
	return dst
}

// historyCommentPrefix starts the comment of every history entry a chunk's own step made.
const historyCommentPrefix = "dazzlekit: chunk "

// HistoryComment marks the history entries of a chunk's own steps in a combined image.
// ChunkFromHistoryComment reads it back.
func HistoryComment(chunk string) string {
	return historyCommentPrefix + chunk
}

// ChunkFromHistoryComment returns the chunk a history entry's comment names, and false for an
// entry no chunk made (the base's).
func ChunkFromHistoryComment(comment string) (string, bool) {
	chunk, ok := strings.CutPrefix(comment, historyCommentPrefix)
	if !ok || chunk == "" {
		return "", false
	}
	return chunk, true
}
