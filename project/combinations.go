package project

import (
	"fmt"
	"strings"
)

// resolveCombinations checks every combination up front (refs, cycles, chunk names), so a
// mistake in a combination nobody builds today still fails early, at its line.
func (l *loader) resolveCombinations() error {
	p := l.p
	combs := p.Config.Combinations
	f := &yfile{name: p.ConfigFile, data: p.ConfigData}
	errAt := func(line int, format string, a ...any) *Error {
		return &Error{File: f.name, Line: line, Msg: fmt.Sprintf(format, a...), Data: f.data}
	}
	index := make(map[string]int, len(combs))
	for i, c := range combs {
		index[c.Name] = i
	}
	for _, c := range combs {
		for k, r := range c.Ref {
			if _, ok := index[r]; !ok {
				return errAt(lineAt(c.RefLines, k, c.Line), "combination %q refers to unknown combination %q in ref; combinations are: %s",
					c.Name, r, strings.Join(p.combinationNames(), ", "))
			}
		}
	}
	if cyc := findCycle(combs, index); cyc != nil {
		names := make([]string, len(cyc))
		for i, c := range cyc {
			names[i] = combs[c].Name
		}
		first := combs[cyc[0]]
		line := first.Line
		for k, r := range first.Ref {
			if r == names[1] {
				line = lineAt(first.RefLines, k, first.Line)
				break
			}
		}
		return errAt(line, "ref cycle: %s; a combination cannot include itself, so remove one of these refs", strings.Join(names, " -> "))
	}

	own := make([]map[string]bool, len(combs))
	for i, c := range combs {
		own[i] = map[string]bool{}
		for k, name := range c.Chunks {
			ch, lerr := p.lookup(name)
			switch {
			case lerr == nil:
				own[i][ch.Name] = true
			case lerr.ignored != "":
				// dazzle drops ignored chunks from the project; a combination naming one just goes without it.
			case lerr.variants != nil:
				return errAt(lineAt(c.ChunkLines, k, c.Line), "combination %q refers to chunk folder %q, which has variants; name one of: %s",
					c.Name, name, strings.Join(lerr.variants, ", "))
			default:
				return errAt(lineAt(c.ChunkLines, k, c.Line), "combination %q refers to unknown chunk %q; chunks are: %s", c.Name, name, p.chunkNames())
			}
		}
	}

	// No cycles, so the recursion ends; memo keeps shared refs from being walked repeatedly.
	memo := make([]map[string]bool, len(combs))
	var closure func(i int) map[string]bool
	closure = func(i int) map[string]bool {
		if memo[i] != nil {
			return memo[i]
		}
		set := map[string]bool{}
		for n := range own[i] {
			set[n] = true
		}
		for _, r := range combs[i].Ref {
			for n := range closure(index[r]) {
				set[n] = true
			}
		}
		memo[i] = set
		return set
	}
	for i, c := range combs {
		names := sortedKeys(closure(i))
		p.resolved[c.Name] = names
	}
	return nil
}

func lineAt(lines []int, i, fallback int) int {
	if i < len(lines) && lines[i] > 0 {
		return lines[i]
	}
	return fallback
}

// findCycle returns a ref cycle as combination indexes, first repeated at the end
// (a -> b -> a), or nil. Combinations are visited in file order so the report is stable.
func findCycle(combs []Combination, index map[string]int) []int {
	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]int, len(combs))
	var stack []int
	var visit func(i int) []int
	visit = func(i int) []int {
		state[i] = onStack
		stack = append(stack, i)
		for _, r := range combs[i].Ref {
			j := index[r]
			switch state[j] {
			case onStack:
				for pos, s := range stack {
					if s == j {
						return append(append([]int(nil), stack[pos:]...), j)
					}
				}
			case unvisited:
				if c := visit(j); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		return nil
	}
	for i := range combs {
		if state[i] == unvisited {
			if c := visit(i); c != nil {
				return c
			}
		}
	}
	return nil
}
