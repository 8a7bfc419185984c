package frontend

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/util/suggest"
)

// Build args the frontend reads itself. Everything a buildx user must be able to set is a build arg,
// since buildx forwards nothing else but --target, --platform and --no-cache.
const (
	argTarget      = "DAZZLE_TARGET"       // same as --target
	argChunks      = "DAZZLE_CHUNKS"       // an ad-hoc combination: comma-separated chunk names
	argNoTest      = "DAZZLE_NO_TEST"      // 1 skips every test
	argTestTimeout = "DAZZLE_TEST_TIMEOUT" // default timeout of one test command, a Go duration
	argTestReport  = "DAZZLE_TEST_REPORT"  // 1 returns the test report instead of the image
	// 1 composes by copying each chunk's changes, as on a BuildKit without DiffOp/MergeOp.
	argDisableDiffMerge = "DAZZLE_DISABLE_DIFF_MERGE"

	argPrefix = "DAZZLE_" // build args with it are the frontend's own, never passed to Dockerfiles
)

var knownArgs = []string{argTarget, argChunks, argNoTest, argTestTimeout, argTestReport, argDisableDiffMerge}

// unknownArg warns about a DAZZLE_ build arg the frontend does not read: a typo such as
// DAZZLE_NOTEST would otherwise leave the tests on without a word.
func unknownArg(k string) diag.Warning {
	msg := fmt.Sprintf("build-arg %s is not a dazzlekit option, so it is ignored", k)
	near, ok := strings.ToUpper(k), false
	if slices.Contains(knownArgs, near) {
		ok = true // build arg names are case-sensitive
	} else {
		near, ok = suggest.Search(near, knownArgs, true)
	}
	if ok {
		msg += fmt.Sprintf("; did you mean %s?", near)
	} else {
		msg += "; the options are " + strings.Join(knownArgs, ", ")
	}
	return diag.Warning{Rule: "UnknownBuildArg", Msg: msg}
}

// DefaultFilename is read when the build names no file.
const DefaultFilename = "dazzle.yaml"

const chunkTargetPrefix = "chunk:"

// Options is everything the frontend takes from the user, parsed once.
type Options struct {
	Target     string   // a combination name, or "chunk:<name>"; "" = every chunk
	Chunks     []string // an ad-hoc combination (DAZZLE_CHUNKS)
	NoTest     bool
	TestReport bool
	// DisableDiffMerge composes without DiffOp/MergeOp even where BuildKit has them (to test that path).
	DisableDiffMerge bool
	TestTimeout      time.Duration
	BuildArgs        map[string]string // the user's build args for the base and chunks, without ours
	Labels           map[string]string // label:* options, added to the combined image
	// Epoch stamps the combined image's config and history instead of the build time, so the same
	// layers always give the same image digest. It is the Unix epoch, unless SOURCE_DATE_EPOCH
	// resolves to a time: BuildKit's Dockerfile converter resolves it (every form the Dockerfile
	// frontend accepts) when it converts the base, and the base's time then wins.
	Epoch time.Time
	// Warnings are about options that do nothing (an unknown DAZZLE_ build arg), sorted.
	Warnings []diag.Warning
}

// ParseOptions reads the options from dockerui's parsed config. Errors name the option.
func ParseOptions(cfg dockerui.Config) (Options, error) {
	o := Options{
		Target:      cfg.Target,
		BuildArgs:   map[string]string{},
		Labels:      maps.Clone(cfg.Labels),
		TestTimeout: project.DefaultTestTimeout,
	}
	o.Epoch = time.Unix(0, 0).UTC()
	for k, v := range cfg.BuildArgs {
		switch {
		case !strings.HasPrefix(k, argPrefix):
			o.BuildArgs[k] = v // SOURCE_DATE_EPOCH included: BuildKit's Dockerfile converter resolves it
		case !slices.Contains(knownArgs, k):
			o.Warnings = append(o.Warnings, unknownArg(k))
		}
	}
	slices.SortFunc(o.Warnings, func(a, b diag.Warning) int { return strings.Compare(a.Msg, b.Msg) })
	if v := strings.TrimSpace(cfg.BuildArgs[argTarget]); v != "" {
		if o.Target != "" && o.Target != v {
			return o, fmt.Errorf("target %q and build-arg %s=%q disagree: set only one", o.Target, argTarget, v)
		}
		o.Target = v
	}
	if v := cfg.BuildArgs[argChunks]; strings.TrimSpace(v) != "" {
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name != "" {
				o.Chunks = append(o.Chunks, name)
			}
		}
		if o.Target != "" {
			return o, fmt.Errorf("build-arg %s=%q and target %q both choose what to build: set only one", argChunks, v, o.Target)
		}
	}
	for _, f := range []struct {
		arg string
		dst *bool
	}{{argNoTest, &o.NoTest}, {argTestReport, &o.TestReport}, {argDisableDiffMerge, &o.DisableDiffMerge}} {
		if v := cfg.BuildArgs[f.arg]; v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return o, fmt.Errorf("build-arg %s=%q is not a boolean: use 1 or 0", f.arg, v)
			}
			*f.dst = b
		}
	}
	if o.NoTest && o.TestReport {
		return o, fmt.Errorf("build-arg %s and %s contradict each other: set only one", argNoTest, argTestReport)
	}
	if v := cfg.BuildArgs[argTestTimeout]; v != "" {
		d, err := project.ParseTestTimeout(v)
		if err != nil {
			return o, fmt.Errorf("build-arg %s=%q %s", argTestTimeout, v, err)
		}
		o.TestTimeout = d
	}
	return o, nil
}
