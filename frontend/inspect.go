package frontend

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
)

// check answers `--call check`: every warning a build of the whole project would give (the
// options', the project files', and each Dockerfile's lint, every stage of it), and the first error
// that would stop it, each at its file and line; nothing is built. buildx exits 1 when there is any.
func check(ctx context.Context, in llbgen.Input, proj *project.Project, opt Options) *lint.LintResults {
	var col diag.Collector
	for _, w := range opt.Warnings {
		col.Add(w)
	}
	for _, w := range proj.Warnings {
		col.Add(w)
	}
	in.Warn = diag.Once(col.Add)
	in.AllStages = true
	r := &lint.LintResults{}
	source(r, proj.ConfigFile, proj.ConfigData, "YAML") // index 0: where an error without a place points
	err := func() error {
		base, err := llbgen.Base(ctx, in, proj.Base)
		if err != nil {
			return err
		}
		var first error
		for _, ch := range proj.Chunks {
			if _, err := llbgen.Chunk(ctx, in, base, ch); err != nil && first == nil {
				first = err
			}
		}
		return first
	}()
	for _, w := range col.Warnings() {
		loc := &pb.Location{SourceIndex: -1}
		if w.File != "" && w.Data != nil {
			loc.SourceIndex = int32(source(r, w.File, w.Data, w.Lang))
			if w.Line > 0 {
				l := int32(w.Line)
				loc.Ranges = []*pb.Range{{Start: &pb.Position{Line: l}, End: &pb.Position{Line: l}}}
			}
		}
		// The message names its file and line: buildx prints every snippet under the name of the
		// file it was given (-f dazzle.yaml), whichever file the snippet comes from.
		msg := w
		msg.Rule = ""
		r.Warnings = append(r.Warnings, lint.Warning{RuleName: w.Rule, Description: w.Detail, URL: w.URL, Detail: msg.String(), Location: loc})
	}
	if err != nil {
		be := &lint.BuildError{Message: withSource(err).Error()}
		for _, s := range errdefs.Sources(withSource(err)) {
			be.Location = pb.Location{SourceIndex: int32(source(r, s.Info.Filename, s.Info.Data, s.Info.Language)), Ranges: s.Ranges}
			break
		}
		r.Error = be
	}
	return r
}

// source returns the index of file in r's sources, adding it when new.
func source(r *lint.LintResults, file string, data []byte, lang string) int {
	for i, s := range r.Sources {
		if s.Filename == file {
			return i
		}
	}
	r.Sources = append(r.Sources, &pb.SourceInfo{Filename: file, Data: data, Language: lang})
	return len(r.Sources) - 1
}

// frontendArgs are the build args dazzlekit itself reads, as `--call outline` lists them.
var frontendArgs = []outline.Arg{
	{Name: argTarget, Description: "the combination to build (same as --target); chunk:<name> builds the base plus one chunk"},
	{Name: argChunks, Description: "an ad-hoc combination: comma-separated chunk names"},
	{Name: argNoTest, Description: "1 skips every test"},
	{Name: argTestReport, Description: "1 returns the test report (report.json, report.txt) instead of the image"},
	{Name: argTestTimeout, Description: "default time limit of one test command", Value: "5m"},
	{Name: argDisableDiffMerge, Description: "1 composes without DiffOp/MergeOp, as on Docker's classic image store"},
}

// outlineProject answers `--call outline`: the build args a user can set (dazzlekit's own, then
// the base's and every chunk's ARGs with their defaults and which Dockerfiles use them), and the
// secrets and ssh mounts the Dockerfiles use. Variants' own args are named where they are set.
func outlineProject(ctx context.Context, in llbgen.Input, proj *project.Project) (*outline.Outline, error) {
	in.Warn = nil
	base, err := llbgen.Base(ctx, in, proj.Base)
	if err != nil {
		return nil, err
	}
	out := &outline.Outline{Name: proj.ConfigFile, Description: fmt.Sprintf("dazzle project: a base, %d chunks, %d combinations", len(proj.Chunks), len(proj.Config.Combinations))}
	out.Args = append(out.Args, frontendArgs...)
	type argUse struct {
		arg   outline.Arg
		users []string
		set   []string // variants that set it
	}
	args := map[string]*argUse{}
	var order []string
	secrets := map[string]*outline.Secret{}
	ssh := map[string]*outline.SSH{}
	sources := map[string]int32{}
	add := func(ch project.Chunk, b *llbgen.Converted) error {
		o, err := llbgen.Outline(ctx, in, b, ch)
		if err != nil {
			return err
		}
		// Each Dockerfile's outline has one source, its own text; renumber into ours.
		idx, ok := sources[ch.Dockerfile]
		if !ok {
			idx = int32(len(out.Sources))
			sources[ch.Dockerfile] = idx
			out.Sources = append(out.Sources, ch.DockerfileData)
		}
		relocate := func(l *pb.Location) *pb.Location {
			if l == nil {
				return nil
			}
			return &pb.Location{SourceIndex: idx, Ranges: l.Ranges}
		}
		who := "chunk " + ch.Name
		if b == nil {
			who = "the base"
		}
		for _, a := range o.Args {
			if a.Name == "base" && b != nil {
				continue // dazzlekit sets it to the base
			}
			u := args[a.Name]
			if u == nil {
				v := a.Value
				if _, isVariant := ch.Args[a.Name]; isVariant {
					v = "" // a variant's value is not a default
				}
				u = &argUse{arg: outline.Arg{Name: a.Name, Value: v, Location: relocate(a.Location)}}
				args[a.Name] = u
				order = append(order, a.Name)
			}
			u.users = append(u.users, who)
			if _, ok := ch.Args[a.Name]; ok {
				u.set = append(u.set, ch.Name)
			}
		}
		for _, s := range o.Secrets {
			if cur := secrets[s.Name]; cur == nil {
				secrets[s.Name] = &outline.Secret{Name: s.Name, Required: s.Required, Location: relocate(s.Location)}
			} else {
				cur.Required = cur.Required || s.Required
			}
		}
		for _, s := range o.SSH {
			if cur := ssh[s.Name]; cur == nil {
				ssh[s.Name] = &outline.SSH{Name: s.Name, Required: s.Required, Location: relocate(s.Location)}
			} else {
				cur.Required = cur.Required || s.Required
			}
		}
		return nil
	}
	if err := add(proj.Base, nil); err != nil {
		return nil, err
	}
	for _, ch := range proj.Chunks {
		if err := add(ch, base); err != nil {
			return nil, err
		}
	}
	for _, name := range order {
		u := args[name]
		desc := "used by " + strings.Join(u.users, ", ")
		if len(u.set) > 0 {
			desc += "; set by variant " + strings.Join(u.set, ", ")
		}
		u.arg.Description = desc
		out.Args = append(out.Args, u.arg)
	}
	for _, name := range slices.Sorted(maps.Keys(secrets)) {
		out.Secrets = append(out.Secrets, *secrets[name])
	}
	for _, name := range slices.Sorted(maps.Keys(ssh)) {
		out.SSH = append(out.SSH, *ssh[name])
	}
	return out, nil
}
