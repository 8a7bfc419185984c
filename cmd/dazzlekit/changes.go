package main

import (
	"context"
	"slices"
	"sync"

	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/moby/buildkit/client"
)

// changes tells, from the head start's progress (frontend.Warm), whose steps run rather than come
// from BuildKit's cache, so that a build whose image cannot be the one its tags hold pushes from
// the start, with no probe before it. The probe would only end in that push, started once the
// chunk's own layers were new (changedLayers), at the end of its steps: the push's frontend then
// read the project and converted the Dockerfiles on the cores that merged and tested the image.
// Pushing from the start, it does that during the steps, and the probe's work is not done at all.
// A step that ran and made the very same files, timestamps included, makes an image the tag holds
// already: it is pushed again, the same manifest, where a probe would have left it alone.
type changes struct {
	labels []string // the base's and every chunk's, as llbgen names their ops

	mu     sync.Mutex
	ran    map[string]bool // labels a step of which ran
	solved map[string]bool // chunks the head start has built
	over   bool            // the head start ended
	wake   chan struct{}   // closed, and replaced, on every news
}

func newChanges(chunks []string) *changes {
	labels := []string{llbgen.BaseLabel}
	for _, ch := range chunks {
		labels = append(labels, llbgen.ChunkLabel(ch))
	}
	return &changes{labels: labels, ran: map[string]bool{}, solved: map[string]bool{}, wake: make(chan struct{})}
}

// seen takes a status of the head start's progress.
func (c *changes) seen(st *client.SolveStatus) {
	var ran []string
	for _, v := range st.Vertexes {
		// BuildKit reports an op with inputs as started and not cached only once it runs it.
		if v.Started == nil || v.Cached {
			continue
		}
		for _, l := range c.labels {
			if llbgen.IsStepOf(v.Name, l) {
				ran = append(ran, l)
			}
		}
	}
	if len(ran) == 0 {
		return
	}
	c.update(func() {
		for _, l := range ran {
			c.ran[l] = true
		}
	})
}

// chunkSolved is the head start's news that it built chunk.
func (c *changes) chunkSolved(chunk string) { c.update(func() { c.solved[chunk] = true }) }

// end is the news that the head start ended: nothing more will be learnt.
func (c *changes) end() { c.update(func() { c.over = true }) }

func (c *changes) update(f func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f()
	close(c.wake)
	c.wake = make(chan struct{})
}

// changed waits until it knows whether the image of chunks (on the base) has layers that no tag
// can hold, and tells: true once a step of the base or of one of chunks ran; false once the head
// start built every one of chunks with none of their steps run, or ended, or ctx is done. False is
// only "not known": the build then probes, as it always did.
func (c *changes) changed(ctx context.Context, chunks []string) bool {
	for {
		c.mu.Lock()
		changed, known := verdict(c.ran, c.solved, c.over, chunks)
		wake := c.wake
		c.mu.Unlock()
		if known {
			return changed
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return false
		}
	}
}

// verdict is changed's rule: whether the image of chunks is new, and whether that is known yet.
func verdict(ran, solved map[string]bool, over bool, chunks []string) (changed, known bool) {
	if ran[llbgen.BaseLabel] || slices.ContainsFunc(chunks, func(ch string) bool { return ran[llbgen.ChunkLabel(ch)] }) {
		return true, true
	}
	if over || !slices.ContainsFunc(chunks, func(ch string) bool { return !solved[ch] }) {
		return false, true
	}
	return false, false
}
