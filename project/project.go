// Package project loads a gitpod dazzle project (dazzle.yaml, base/, chunks/, tests/) from a
// build context into a validated model. It only reads through io/fs and never talks to BuildKit,
// so every mistake in a project is reported before anything is built, with file and line.
package project

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/dazzlekit/dazzlekit/internal/diag"
)

// Error is a user-facing error that points at a file in the build context.
type Error struct {
	File   string // path inside the build context, e.g. "dazzle.yaml"
	Line   int    // 1-based; 0 when there is no line
	Column int    // 1-based; 0 when unknown
	Msg    string // what is wrong and what to do
	Data   []byte // the whole file's content, for showing a snippet; nil if none
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

type Chunk struct {
	Name           string // "node", or "<folder>:<variant>" e.g. "lang-java:17"; "base" for the base
	Folder         string // "lang-java"
	Variant        string // "17"; "" for a chunk without chunk.yaml
	Dir            string // "chunks/lang-java", or "base"
	Dockerfile     string // path in the context, e.g. "chunks/lang-java/Dockerfile.alt"
	DockerfileData []byte
	Args           map[string]string // variant args; nil when none
}

type Project struct {
	ConfigFile string
	ConfigData []byte
	Config     Config
	Base       Chunk
	Chunks     []Chunk           // every chunk and variant not ignored, sorted by Name
	Ignored    []string          // names of the chunks left out by Config.Ignore, sorted
	Tests      map[string][]Test // key: chunk folder name ("base" for tests/base.yaml)
	Files      map[string][]byte // every file read (path -> content)
	// Warnings are what dazzle accepts but is likely a mistake (tests for a missing chunk folder,
	// a test without assertions), in the order found; the frontend shows each once per build.
	Warnings []diag.Warning

	all      map[string]Chunk    // every chunk, ignored or not
	folders  map[string][]string // folder with variants -> names of its variants, sorted
	ignoreBy map[string]string   // ignored chunk -> the ignore pattern responsible
	resolved map[string][]string // combination -> its chunk names, resolved
}

// Load reads base/, chunks/* and tests/* from fsys (the build context root) and parses
// configData, the content of configFile. All validation happens here, so that a project that
// loads can be built.
func Load(fsys fs.FS, configFile string, configData []byte) (p *Project, err error) {
	// Project files come from users; a bug here must surface as an error, not take the
	// frontend down.
	defer func() {
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("internal error while loading the dazzle project (please report this): %v", r)
		}
	}()
	if fsys == nil {
		return nil, errors.New("project.Load: no build context")
	}
	if configFile == "" {
		configFile = "dazzle.yaml"
	}
	p = &Project{
		ConfigFile: configFile,
		ConfigData: configData,
		Tests:      map[string][]Test{},
		Files:      map[string][]byte{configFile: configData},
		all:        map[string]Chunk{},
		folders:    map[string][]string{},
		ignoreBy:   map[string]string{},
		resolved:   map[string][]string{},
	}
	l := &loader{fsys: fsys, p: p}
	if p.Config, err = parseConfig(&yfile{name: configFile, data: configData}); err != nil {
		return nil, err
	}
	if err := l.loadBase(); err != nil {
		return nil, err
	}
	skipped, err := l.loadChunks()
	if err != nil {
		return nil, err
	}
	l.applyIgnore()
	if err := l.loadTests(skipped); err != nil {
		return nil, err
	}
	if err := l.resolveCombinations(); err != nil {
		return nil, err
	}
	return p, nil
}

// lookupError says why a chunk name does not resolve; callers add where the name came from.
type lookupError struct {
	name     string
	variants []string // set when name is a folder that has variants
	ignored  string   // set when the chunk exists but is ignored: the pattern
	unknown  bool
}

func (p *Project) lookup(name string) (Chunk, *lookupError) {
	if c, ok := p.all[name]; ok {
		if pat, ok := p.ignoreBy[name]; ok {
			return c, &lookupError{name: name, ignored: pat}
		}
		return c, nil
	}
	if vs, ok := p.folders[name]; ok {
		return Chunk{}, &lookupError{name: name, variants: vs}
	}
	return Chunk{}, &lookupError{name: name, unknown: true}
}

func (p *Project) chunkNames() string {
	if len(p.Chunks) == 0 {
		return "(the project has no chunks)"
	}
	names := make([]string, len(p.Chunks))
	for i, c := range p.Chunks {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// describe completes a message that starts with how the name was used, e.g. `unknown chunk "x"`.
func (p *Project) describe(e *lookupError) string {
	switch {
	case e.variants != nil:
		return fmt.Sprintf("chunk folder %q has variants, so name one of them: %s", e.name, strings.Join(e.variants, ", "))
	case e.ignored != "":
		return fmt.Sprintf("chunk %q is ignored by the pattern %q in %s; remove it from ignore: to use it", e.name, e.ignored, p.ConfigFile)
	}
	return fmt.Sprintf("unknown chunk %q; chunks are: %s", e.name, p.chunkNames())
}

// Chunk returns a chunk by full name ("node", "lang-java:17").
func (p *Project) Chunk(name string) (Chunk, error) {
	c, lerr := p.lookup(name)
	if lerr != nil {
		return Chunk{}, errors.New(p.describe(lerr))
	}
	return c, nil
}

// Combination resolves a combination's chunks: refs followed transitively, ignored chunks left
// out, deduplicated and sorted by name, which is the order dazzle stacks them in.
func (p *Project) Combination(name string) ([]Chunk, error) {
	names, ok := p.resolved[name]
	if !ok {
		if len(p.Config.Combinations) == 0 {
			return nil, fmt.Errorf("unknown combination %q: %s defines no combinations (combiner.combinations)", name, p.ConfigFile)
		}
		return nil, fmt.Errorf("unknown combination %q; combinations are: %s", name, strings.Join(p.combinationNames(), ", "))
	}
	out := make([]Chunk, len(names))
	for i, n := range names {
		out[i] = p.all[n]
	}
	return out, nil
}

// SameImageAs returns the first combination, in dazzle.yaml's order, whose chunks are those of
// combination name in the same order: name itself unless an earlier one builds the same image.
// Such combinations share their test ops, so that the image's tests run once.
func (p *Project) SameImageAs(name string) string {
	names, ok := p.resolved[name]
	if !ok {
		return name
	}
	for _, c := range p.Config.Combinations {
		if slices.Equal(p.resolved[c.Name], names) {
			return c.Name
		}
	}
	return name
}

func (p *Project) combinationNames() []string {
	names := make([]string, len(p.Config.Combinations))
	for i, c := range p.Config.Combinations {
		names[i] = c.Name
	}
	sort.Strings(names)
	return names
}

// Select returns chunks by explicit names (an ad-hoc list such as DAZZLE_CHUNKS=a,b),
// deduplicated and sorted. Blank names are skipped, so "a, b," works.
func (p *Project) Select(names []string) ([]Chunk, error) {
	seen := map[string]bool{}
	var out []Chunk
	for _, n := range names {
		n = strings.TrimSpace(n)
		if n == "" || seen[n] {
			continue
		}
		c, lerr := p.lookup(n)
		if lerr != nil {
			return nil, errors.New(p.describe(lerr))
		}
		seen[n] = true
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no chunks selected; name one or more of: %s", p.chunkNames())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
