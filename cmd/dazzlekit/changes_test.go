package main

import (
	"context"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
)

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		name           string
		ran, solved    []string
		over           bool
		chunks         []string
		changed, known bool
	}{
		{name: "nothing known yet", chunks: []string{"a", "b"}},
		{name: "a step of a chunk ran", ran: []string{"chunk b"}, chunks: []string{"a", "b"}, changed: true, known: true},
		{name: "a step of the base ran", ran: []string{"base"}, chunks: []string{"a"}, changed: true, known: true},
		{name: "a step of another image's chunk ran", ran: []string{"chunk c"}, chunks: []string{"a", "b"}},
		{name: "a variant's step is not the other variant's", ran: []string{"chunk a:1"}, solved: []string{"a:2"}, chunks: []string{"a:2"}, known: true},
		{name: "every chunk built, no step ran", solved: []string{"a", "b", "c"}, chunks: []string{"a", "b"}, known: true},
		{name: "one chunk still building", solved: []string{"a"}, chunks: []string{"a", "b"}},
		{name: "a step ran before the chunk was built", ran: []string{"chunk a"}, solved: []string{"a", "b"}, chunks: []string{"a", "b"}, changed: true, known: true},
		{name: "the head start ended", over: true, solved: []string{"a"}, chunks: []string{"a", "b"}, known: true},
		{name: "no chunks: the base alone", chunks: nil, known: true},
	} {
		set := func(l []string) map[string]bool {
			m := map[string]bool{}
			for _, s := range l {
				m[s] = true
			}
			return m
		}
		changed, known := verdict(set(tc.ran), set(tc.solved), tc.over, tc.chunks)
		if changed != tc.changed || known != tc.known {
			t.Errorf("%s: verdict = %v, %v, want %v, %v", tc.name, changed, known, tc.changed, tc.known)
		}
	}
}

// changes learns from the head start's progress which steps ran: a RUN, COPY or ADD of the base or
// of a chunk started and not answered from the cache; and it waits for news until it knows.
func TestChanges(t *testing.T) {
	at := time.Unix(100, 0)
	c := newChanges([]string{"a", "b:1", "c"})
	c.seen(&client.SolveStatus{Vertexes: []*client.Vertex{
		{Name: "[base 1/2] FROM localhost:5000/debian", Started: &at},                    // a source: started, uncached, in every build
		{Name: "[chunk a 1/2] RUN make", Started: &at, Completed: &at, Cached: true},     // answered from the cache
		{Name: "[chunk c 1/2] RUN make"},                                                 // not started yet
		{Name: "[chunk a] own layers (diff against base)", Started: &at, Completed: &at}, // no step
		{Name: "[test a] a should run", Started: &at},
	}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if c.changed(ctx, []string{"a"}) {
		t.Errorf("a changed before any of its steps ran")
	}
	if ctx.Err() == nil {
		t.Errorf("changed told about a before it knew")
	}

	answer := make(chan bool)
	go func() { answer <- c.changed(context.Background(), []string{"a", "b:1"}) }()
	select {
	case got := <-answer:
		t.Fatalf("changed told %v before it knew", got)
	case <-time.After(20 * time.Millisecond):
	}
	c.seen(&client.SolveStatus{Vertexes: []*client.Vertex{{Name: "[chunk b:1 build 2/3] COPY x /x", Started: &at}}})
	if got := <-answer; !got {
		t.Errorf("b:1's COPY ran, and changed said its image did not change")
	}

	go func() { answer <- c.changed(context.Background(), []string{"a", "c"}) }()
	c.chunkSolved("a")
	c.chunkSolved("c")
	if got := <-answer; got {
		t.Errorf("a and c were built with no step run, and changed said their image changed")
	}

	d := newChanges([]string{"a"})
	go func() { answer <- d.changed(context.Background(), []string{"a"}) }()
	d.end()
	if got := <-answer; got {
		t.Errorf("the head start ended with nothing known, and changed said the image changed")
	}
	d.seen(&client.SolveStatus{Vertexes: []*client.Vertex{{Name: "[base 2/2] RUN apt-get install -y git", Started: &at}}})
	if !d.changed(context.Background(), []string{"a"}) {
		t.Errorf("the base's step ran, and changed said the image did not change")
	}
}
