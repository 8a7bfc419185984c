// Package bakefile writes a `docker buildx bake` definition that builds every combination of a
// dazzle project: one target per combination, all in the default group, so one `docker buildx bake`
// builds them side by side in one BuildKit session and each chunk is built once for all of them.
package bakefile

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/dazzlekit/dazzlekit/project"
)

// Options say where the definition points.
type Options struct {
	Registry string // default of the REGISTRY variable: the repository tags go to, e.g. localhost:5000/workspace
	Context  string // the build context, relative to where bake runs; "." when empty
	File     string // the project file inside the context; dazzle.yaml when empty
	// Frontend is the dazzlekit image to build with when the project file has no `# syntax=` line
	// (it becomes the BUILDKIT_SYNTAX build arg); "" leaves it to the file.
	Frontend string
}

// Definition is bake's JSON file format (the subset used here).
type Definition struct {
	Variable map[string]Variable `json:"variable"`
	Group    map[string]Group    `json:"group"`
	Target   map[string]Target   `json:"target"`
}

type Variable struct {
	Default string `json:"default"`
}

type Group struct {
	Targets []string `json:"targets"`
}

type Target struct {
	Description string            `json:"description,omitempty"`
	Context     string            `json:"context"`
	Dockerfile  string            `json:"dockerfile"`
	Target      string            `json:"target"`
	Args        map[string]string `json:"args,omitempty"`
	Tags        []string          `json:"tags"`
}

// bake accepts only these characters in target names.
var badTargetChars = regexp.MustCompile(`[^a-zA-Z0-9_-]`)

// syntaxLine is the first-line directive that makes buildx hand the file to a frontend image.
var syntaxLine = regexp.MustCompile(`(?m)\A(?:#[^\n]*\n)*#\s*syntax\s*=`)

// Generate returns the bake definition for every combination of p. Target names are the
// combination names with characters bake refuses replaced by "_"; the image tag keeps the real
// name (`${REGISTRY}:<combination>`, as `dazzle combine --all` tags them).
func Generate(p *project.Project, o Options) (*Definition, error) {
	if o.Registry == "" {
		return nil, fmt.Errorf("no registry: pass --registry (e.g. localhost:5000/%s)", "workspace")
	}
	if o.Context == "" {
		o.Context = "."
	}
	if o.File == "" {
		o.File = p.ConfigFile
	}
	var args map[string]string
	if o.Frontend != "" && !syntaxLine.Match(p.ConfigData) {
		args = map[string]string{"BUILDKIT_SYNTAX": o.Frontend}
	}
	d := &Definition{
		Variable: map[string]Variable{"REGISTRY": {Default: o.Registry}},
		Group:    map[string]Group{"default": {Targets: []string{}}},
		Target:   map[string]Target{},
	}
	owner := map[string]string{}
	for _, c := range p.Config.Combinations {
		name := badTargetChars.ReplaceAllString(c.Name, "_")
		if other, ok := owner[name]; ok {
			return nil, fmt.Errorf("%s:%d: combinations %q and %q both become bake target %q: rename one", p.ConfigFile, c.Line, other, c.Name, name)
		}
		owner[name] = c.Name
		chunks, err := p.Combination(c.Name)
		if err != nil {
			return nil, err
		}
		names := make([]string, len(chunks))
		for i, ch := range chunks {
			names[i] = ch.Name
		}
		d.Target[name] = Target{
			Description: "combination " + c.Name + ": " + strings.Join(names, ", "),
			Context:     o.Context,
			Dockerfile:  o.File,
			Target:      c.Name,
			Args:        args,
			Tags:        []string{"${REGISTRY}:" + c.Name},
		}
		g := d.Group["default"]
		g.Targets = append(g.Targets, name)
		d.Group["default"] = g
	}
	return d, nil
}

// JSON is the definition as bake reads it (docker-bake.json, or `-f -`).
func (d *Definition) JSON() ([]byte, error) {
	dt, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(dt, '\n'), nil
}
