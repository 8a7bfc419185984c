package project

import (
	"fmt"
	"strings"

	"github.com/dazzlekit/dazzlekit/merge"
	"github.com/moby/patternmatcher"
	"gopkg.in/yaml.v3"
)

type EnvVar struct {
	Name   string
	Action merge.Action // validated; a missing action is merge.UseFirst, as in dazzle
	Line   int
}

type Combination struct {
	Name   string
	Ref    []string
	Chunks []string
	Line   int

	RefLines   []int // line of each Ref entry
	ChunkLines []int // line of each Chunks entry
}

type Config struct {
	Combinations []Combination
	EnvVars      []EnvVar
	Ignore       []string

	IgnoreLines []int // line of each Ignore entry
}

// dazzle v0.1.17's ProjectConfig has exactly these fields (combiner.combinations,
// combiner.envvars, ignore); it has no other top-level settings.
var (
	configFields      = []string{"combiner", "ignore"}
	combinerFields    = []string{"combinations", "envvars"}
	combinationFields = []string{"name", "ref", "chunks"}
	envVarFields      = []string{"name", "action"}
)

func parseConfig(f *yfile) (Config, error) {
	var cfg Config
	root, err := f.root()
	if err != nil || root == nil {
		return cfg, err
	}
	if root.Kind != yaml.MappingNode {
		return cfg, f.errf(root, "%s must be a mapping with the keys combiner: and ignore:, not %s", f.name, kindName(root))
	}
	top, err := f.fields(root, f.name, configFields)
	if err != nil {
		return cfg, err
	}
	for _, fl := range top {
		switch fl.key {
		case "combiner":
			if err := parseCombiner(f, fl.val, &cfg); err != nil {
				return cfg, err
			}
		case "ignore":
			if cfg.Ignore, cfg.IgnoreLines, err = f.list(fl.val, "ignore", `ignore: ["lang-java:11"]`); err != nil {
				return cfg, err
			}
			for i, p := range cfg.Ignore {
				if _, err := compilePattern(p); err != nil {
					return cfg, &Error{File: f.name, Line: cfg.IgnoreLines[i], Data: f.data,
						Msg: fmt.Sprintf("ignore pattern %q is invalid (%v); patterns are gitignore-style, e.g. \"lang-java:*\"", p, err)}
				}
			}
		}
	}
	return cfg, nil
}

func parseCombiner(f *yfile, n *yaml.Node, cfg *Config) error {
	fields, err := f.fields(n, "combiner", combinerFields)
	if err != nil {
		return err
	}
	for _, fl := range fields {
		items := deref(fl.val)
		if isNull(items) {
			continue
		}
		if items.Kind != yaml.SequenceNode {
			return f.errf(items, "combiner.%s must be a list, not %s", fl.key, kindName(items))
		}
		switch fl.key {
		case "combinations":
			if err := parseCombinations(f, items, cfg); err != nil {
				return err
			}
		case "envvars":
			if err := parseEnvVars(f, items, cfg); err != nil {
				return err
			}
		}
	}
	return nil
}

func parseCombinations(f *yfile, items *yaml.Node, cfg *Config) error {
	lines := map[string]int{}
	for i, item := range items.Content {
		c := Combination{Line: item.Line}
		what := fmt.Sprintf("combination #%d", i+1)
		fields, err := f.fields(item, what, combinationFields)
		if err != nil {
			return err
		}
		if isNull(item) {
			return f.errf(item, "%s is empty; give it a name: and chunks:", what)
		}
		for _, fl := range fields {
			if fl.key == "name" {
				if c.Name, err = f.str(fl.val, what+" name"); err != nil {
					return err
				}
			}
		}
		if strings.TrimSpace(c.Name) == "" {
			return f.errf(item, "%s has no name; add name: <name>", what)
		}
		if prev, ok := lines[c.Name]; ok {
			return f.errf(item, "combination %q is defined twice (also on line %d); combination names must be unique", c.Name, prev)
		}
		lines[c.Name] = c.Line
		what = fmt.Sprintf("combination %q", c.Name)
		for _, fl := range fields {
			switch fl.key {
			case "ref":
				c.Ref, c.RefLines, err = f.list(fl.val, "ref of "+what, "ref: [minimal]")
			case "chunks":
				c.Chunks, c.ChunkLines, err = f.list(fl.val, "chunks of "+what, `chunks: [node, "lang-java:17"]`)
			}
			if err != nil {
				return err
			}
		}
		cfg.Combinations = append(cfg.Combinations, c)
	}
	return nil
}

func parseEnvVars(f *yfile, items *yaml.Node, cfg *Config) error {
	lines := map[string]int{}
	for i, item := range items.Content {
		v := EnvVar{Line: item.Line}
		what := fmt.Sprintf("envvars entry #%d", i+1)
		fields, err := f.fields(item, what, envVarFields)
		if err != nil {
			return err
		}
		var (
			actionNode *yaml.Node
			action     string
		)
		for _, fl := range fields {
			switch fl.key {
			case "name":
				v.Name, err = f.str(fl.val, what+" name")
			case "action":
				action, err = f.str(fl.val, what+" action")
				actionNode = fl.val
			}
			if err != nil {
				return err
			}
		}
		if v.Name == "" {
			return f.errf(item, "%s has no name; add name: <VARIABLE>", what)
		}
		if prev, ok := lines[v.Name]; ok {
			return f.errf(item, "envvar %q is listed twice (also on line %d); keep one rule per variable", v.Name, prev)
		}
		lines[v.Name] = v.Line
		if v.Action, err = merge.ParseAction(action); err != nil {
			return f.errf(actionNode, "envvar %q has %v", v.Name, err)
		}
		cfg.EnvVars = append(cfg.EnvVars, v)
	}
	return nil
}

// ignorePattern is one entry of dazzle.yaml's ignore list. dazzle matched chunk names with
// github.com/sabhiram/go-gitignore; patternmatcher (the .dockerignore matcher) gives the same
// answers on names without "/" for the forms people write ("lang-java:11", "lang-java:*",
// "!lang-java:17"), and unlike go-gitignore reports malformed patterns instead of panicking.
// Comments (#) and a leading "/" are handled here as gitignore does.
type ignorePattern struct {
	raw     string
	line    int
	negate  bool
	matcher *patternmatcher.PatternMatcher // of the pattern without its "!"
}

// compilePattern returns nil for lines that are no pattern (blank, comment).
func compilePattern(raw string) (*ignorePattern, error) {
	p := strings.TrimSpace(raw)
	if p == "" || strings.HasPrefix(p, "#") {
		return nil, nil
	}
	ip := &ignorePattern{raw: raw}
	if strings.HasPrefix(p, "!") {
		ip.negate = true
		p = p[1:]
	}
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return nil, fmt.Errorf("the pattern is empty")
	}
	m, err := patternmatcher.New([]string{p})
	if err != nil {
		return nil, err
	}
	if _, err := m.MatchesOrParentMatches("x"); err != nil {
		return nil, err
	}
	ip.matcher = m
	return ip, nil
}

func compileIgnore(cfg Config) []*ignorePattern {
	var out []*ignorePattern
	for i, raw := range cfg.Ignore {
		ip, err := compilePattern(raw)
		if err != nil || ip == nil {
			continue // parseConfig has rejected invalid patterns
		}
		ip.line = cfg.IgnoreLines[i]
		out = append(out, ip)
	}
	return out
}

// ignoredBy returns the pattern that makes name ignored, or nil. As in gitignore, the last
// matching pattern decides, and "!" patterns bring a name back.
func ignoredBy(patterns []*ignorePattern, name string) *ignorePattern {
	var by *ignorePattern
	for _, p := range patterns {
		if ok, err := p.matcher.MatchesOrParentMatches(name); err == nil && ok {
			if p.negate {
				by = nil
			} else {
				by = p
			}
		}
	}
	return by
}
