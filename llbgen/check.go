package llbgen

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/containerd/platforms"
	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/pkg/errors"
)

// baseArgRef matches a FROM that names the chunk's `base` argument.
var baseArgRef = regexp.MustCompile(`\$\{?base\b`)

// lintWarner forwards dockerfile2llb's lint warnings as diag warnings on the Dockerfile's line.
func lintWarner(in Input, ch project.Chunk, isChunk bool) linter.LintWarnFunc {
	if in.Warn == nil {
		return nil
	}
	return func(rule, description, url, msg string, location []parser.Range) {
		// Every dazzle chunk declares `ARG base` without a default: the value always comes from
		// dazzle (here: dazzlekit), so the rule's "empty base image name" cannot happen.
		if isChunk && rule == linter.RuleInvalidDefaultArgInFrom.Name && baseArgRef.MatchString(msg) {
			return
		}
		line := 0
		if len(location) > 0 {
			line = location[0].Start.Line
		}
		in.Warn(diag.Warning{
			Rule: rule, File: ch.Dockerfile, Line: line, Msg: msg,
			Data: ch.DockerfileData, Lang: "Dockerfile", Detail: description, URL: url,
		})
	}
}

// warnSyntax tells that a Dockerfile's `# syntax=` line is not followed. dazzle built each
// Dockerfile on its own, so the named frontend ran; here every Dockerfile is converted into one
// build graph by the converter built into dazzlekit, because a separate frontend would hand back
// a finished result instead of LLB whose layers can be stacked on the base.
func warnSyntax(in Input, ch project.Chunk) {
	// Every form of the directive names its key: the detection, which parses the file's start
	// three ways, is left out for the Dockerfiles that could not have one (nearly all).
	if in.Warn == nil || !containsFold(ch.DockerfileData, "syntax") {
		return
	}
	syntax, _, location, ok := parser.DetectSyntax(ch.DockerfileData)
	if !ok {
		return
	}
	line := 0
	if len(location) > 0 {
		line = location[0].Start.Line
	}
	in.Warn(diag.Warning{
		Rule: "SyntaxDirectiveIgnored", File: ch.Dockerfile, Line: line,
		Msg: fmt.Sprintf("the frontend %s is not used: dazzlekit converts the base and every chunk with the Dockerfile converter built into it (%s); "+
			"remove the line if the Dockerfile needs nothing else", syntax, builtinConverter()),
		Data: ch.DockerfileData, Lang: "Dockerfile",
		Detail: "Dockerfiles of a dazzle project are converted together so that each chunk's layers can be stacked on the base; a `# syntax=` frontend cannot take part in that.",
	})
}

// containsFold reports whether s is in b, ignoring ASCII case; s is lower-case.
func containsFold(b []byte, s string) bool {
	t := []byte(s)
	for i := 0; i+len(t) <= len(b); i++ {
		if bytes.EqualFold(b[i:i+len(t)], t) {
			return true
		}
	}
	return false
}

var builtinConverter = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, m := range bi.Deps {
			if m.Path == "github.com/moby/buildkit" {
				return "BuildKit " + m.Version
			}
		}
	}
	return "BuildKit's dockerfile2llb"
})

// buildsOnBase refuses a chunk whose final stage does not start from the base, directly or
// through earlier stages (`FROM ${base} AS b` ... `FROM b`). Only then is the base an ancestor of
// the chunk, so that the chunk minus the base is the chunk's own change; otherwise the
// difference would delete and replace the base's files in every image the chunk is merged into.
// It follows dockerfile2llb's rules: arguments expand with the meta ARGs and the build's args,
// and a name is a stage when an earlier stage has exactly that (lower-case) name.
func buildsOnBase(ch project.Chunk, args map[string]string, platform *ocispecs.Platform) error {
	res, err := parser.Parse(bytes.NewReader(ch.DockerfileData))
	if err != nil {
		return nil // converted already, so unreachable; the conversion's error is the one to show
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil || len(stages) == 0 {
		return nil
	}
	lex := shell.NewLex(res.EscapeToken)
	env := globalArgs(lex, metaArgs, args, platform)

	final := stages[len(stages)-1]
	var chain []string
	for i := len(stages) - 1; ; {
		name, err := lex.ProcessWordWithMatches(stages[i].BaseName, env)
		if err != nil {
			return nil
		}
		if isBaseRef(name.Result) {
			return nil
		}
		chain = append(chain, "FROM "+name.Result)
		j := -1
		for k := range i {
			if stages[k].Name != "" && stages[k].Name == name.Result {
				j = k
			}
		}
		if j < 0 {
			break
		}
		i = j
	}
	line := 0
	if len(final.Location) > 0 {
		line = final.Location[0].Start.Line
	}
	how := "starts " + chain[0]
	if len(chain) > 1 {
		how = "starts " + strings.Join(chain, ", which starts ")
	}
	return parser.WithLocation(errors.Errorf("%s:%d: the chunk's final stage %s, not the base: merging it would replace the base's files with its own. "+
		"Start the final stage with `FROM ${base}` (after `ARG base`), or FROM an earlier stage that does",
		ch.Dockerfile, line, how), final.Location)
}

// globalArgs is what a FROM line expands with: the platform args, then the meta ARGs before the
// first FROM, a build arg replacing an ARG's default.
func globalArgs(lex *shell.Lex, metaArgs []instructions.ArgCommand, args map[string]string, platform *ocispecs.Platform) shell.EnvGetter {
	p := platforms.DefaultSpec()
	if platform != nil {
		p = *platform
	}
	env := map[string]string{}
	for _, prefix := range []string{"BUILD", "TARGET"} {
		env[prefix+"PLATFORM"] = platforms.Format(p)
		env[prefix+"OS"] = p.OS
		env[prefix+"ARCH"] = p.Architecture
		env[prefix+"VARIANT"] = p.Variant
	}
	for _, cmd := range metaArgs {
		for _, kv := range cmd.Args {
			if v, ok := args[kv.Key]; ok {
				env[kv.Key] = v
			} else if kv.Value != nil {
				if r, err := lex.ProcessWordWithMatches(*kv.Value, mapEnv(env)); err == nil {
					env[kv.Key] = r.Result
				}
			}
		}
	}
	return mapEnv(env)
}

type mapEnv map[string]string

func (m mapEnv) Get(k string) (string, bool) { v, ok := m[k]; return v, ok }

func (m mapEnv) Keys() []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// isBaseRef reports whether a FROM name resolves to the base's named context, as dockerui
// matches named contexts: by the normalized familiar name, `:latest` dropped.
func isBaseRef(name string) bool {
	named, err := reference.ParseNormalizedNamed(name)
	if err != nil {
		return false
	}
	return strings.TrimSuffix(reference.FamiliarString(named), ":latest") == BaseName
}
