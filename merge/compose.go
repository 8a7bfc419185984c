package merge

import (
	"strings"

	"github.com/moby/buildkit/client/llb"
)

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
		states = append(states, llb.Diff(base, c.State, llb.WithCustomName(OwnLayersName(c.Name))))
	}
	return llb.Merge(states, llb.WithCustomName(name))
}

const ownLayers = "] own layers (diff against base)"

// OwnLayersName is the progress name of the DiffOp of chunk's own layers.
func OwnLayersName(chunk string) string { return "[chunk " + chunk + ownLayers }

// IsOwnLayers tells whether a progress name is OwnLayersName's. BuildKit runs that DiffOp, rather
// than answering it from its cache, only when the chunk's layers (or the base's) are not the ones
// it has computed before: a COPY whose files did not change is a cache hit, and so is the diff
// after it.
func IsOwnLayers(name string) bool {
	return strings.HasPrefix(name, "[chunk ") && strings.HasSuffix(name, ownLayers)
}
