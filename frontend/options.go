package frontend

import (
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/frontend/dockerui"
)

// Build args the frontend reads itself. Everything a buildx user must be able to set is a build arg,
// since buildx forwards nothing else but --target, --platform and --no-cache.
const (
	argTarget      = "DAZZLE_TARGET"       // same as --target
	argChunks      = "DAZZLE_CHUNKS"       // an ad-hoc combination: comma-separated chunk names
	argNoTest      = "DAZZLE_NO_TEST"      // 1 skips every test
	argTestTimeout = "DAZZLE_TEST_TIMEOUT" // default timeout of one test command, a Go duration
	argTestReport  = "DAZZLE_TEST_REPORT"  // 1 returns the test report instead of the image
)

// DefaultFilename is read when the build names no file.
const DefaultFilename = "dazzle.yaml"

const chunkTargetPrefix = "chunk:"

// Options is everything the frontend takes from the user, parsed once.
type Options struct {
	Target      string   // a combination name, or "chunk:<name>"; "" = every chunk
	Chunks      []string // an ad-hoc combination (DAZZLE_CHUNKS)
	NoTest      bool
	TestReport  bool
	TestTimeout time.Duration
	BuildArgs   map[string]string // the user's build args for the base and chunks, without ours
	Labels      map[string]string // label:* options, added to the combined image
	// Epoch stamps the combined image's config and history instead of the build time, so the same
	// layers always give the same image digest: SOURCE_DATE_EPOCH when given, else the Unix epoch.
	Epoch time.Time
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
	if v := cfg.BuildArgs["SOURCE_DATE_EPOCH"]; v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return o, fmt.Errorf("build-arg SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970", v)
		}
		o.Epoch = time.Unix(sec, 0).UTC()
	}
	for k, v := range cfg.BuildArgs {
		if !strings.HasPrefix(k, "DAZZLE_") {
			o.BuildArgs[k] = v
		}
	}
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
	}{{argNoTest, &o.NoTest}, {argTestReport, &o.TestReport}} {
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
