package merge

import "github.com/moby/buildkit/client/llb"

// Layer is one chunk's full state (base plus the chunk's own steps).
type Layer struct {
	Name  string
	State llb.State
}

// Layers stacks each chunk's own layers (the chunk minus the base) on the base, in the given order.
// Because the base is an ancestor of every chunk, the exporter reuses each chunk's per-step layers:
// a change to one chunk leaves the base's and every other chunk's layer digests as they were.
// Later chunks win where files clash; a chunk's deletions (whiteouts) carry over.
func Layers(base llb.State, chunks []Layer, name string) llb.State {
	if len(chunks) == 0 {
		return base
	}
	states := []llb.State{base}
	for _, c := range chunks {
		states = append(states, llb.Diff(base, c.State, llb.WithCustomName("[chunk "+c.Name+"] own layers (diff against base)")))
	}
	return llb.Merge(states, llb.WithCustomName(name))
}
