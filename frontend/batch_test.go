package frontend

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatchMemo(t *testing.T) {
	passed := []Outcome{{Desc: "a", Result: "passed"}, {Desc: "b", Result: "passed"}}
	failed := []Outcome{{Desc: "a", Result: "passed"}, {Desc: "b", Result: "failed"}}
	errRun := errors.New("build cancelled")
	for _, tc := range []struct {
		name  string
		outs  []Outcome
		err   error
		runs  int // how often two calls in a row run the batch
		other string
	}{
		{name: "passed batch runs once", outs: passed, runs: 1},
		{name: "failed test runs again", outs: failed, runs: 2},
		{name: "error runs again", err: errRun, runs: 2},
		{name: "other key runs on its own", outs: passed, runs: 2, other: "k2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := memoFrom(WithSharedTests(context.Background()))
			runs := 0
			run := func() ([]Outcome, error) { runs++; return tc.outs, tc.err }
			second := "k1"
			if tc.other != "" {
				second = tc.other
			}
			for _, key := range []string{"k1", second} {
				outs, err := m.run(key, run)
				if !errors.Is(err, tc.err) || len(outs) != len(tc.outs) {
					t.Fatalf("run(%s) = %v, %v; want %v, %v", key, outs, err, tc.outs, tc.err)
				}
			}
			if runs != tc.runs {
				t.Errorf("the batch ran %d times, want %d", runs, tc.runs)
			}
		})
	}

	t.Run("kept outcomes are copies", func(t *testing.T) {
		m := memoFrom(WithSharedTests(context.Background()))
		outs, _ := m.run("k", func() ([]Outcome, error) { return []Outcome{{Desc: "a", Result: "passed"}}, nil })
		outs[0].Desc = "changed by the build that ran it"
		for i := range 2 {
			again, _ := m.run("k", func() ([]Outcome, error) { t.Fatal("ran again"); return nil, nil })
			if again[0].Desc != "a" {
				t.Fatalf("read %d: kept outcome changed to %q", i, again[0].Desc)
			}
			again[0].Desc = "changed by a build that read it"
		}
	})

	t.Run("builds at once share one run", func(t *testing.T) {
		m := memoFrom(WithSharedTests(context.Background()))
		var runs atomic.Int32
		release := make(chan struct{})
		var wg sync.WaitGroup
		results := make([][]Outcome, 8)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], _ = m.run("k", func() ([]Outcome, error) {
					runs.Add(1)
					<-release
					return passed, nil
				})
			}()
		}
		for runs.Load() == 0 { // until one build runs the batch; the others then wait for it
			runtime.Gosched()
		}
		time.Sleep(20 * time.Millisecond)
		close(release)
		wg.Wait()
		if n := runs.Load(); n != 1 {
			t.Errorf("the batch ran %d times for 8 builds at once, want 1", n)
		}
		for i, r := range results {
			if len(r) != 2 || r[1].Result != "passed" {
				t.Errorf("build %d got %v", i, r)
			}
		}
	})

	t.Run("a build whose shared run failed runs it itself", func(t *testing.T) {
		m := memoFrom(WithSharedTests(context.Background()))
		started := make(chan struct{})
		release := make(chan struct{})
		leader := make(chan error, 1)
		go func() {
			_, err := m.run("k", func() ([]Outcome, error) {
				close(started)
				<-release
				return nil, errRun
			})
			leader <- err
		}()
		<-started
		follower := make(chan []Outcome, 1)
		go func() {
			outs, err := m.run("k", func() ([]Outcome, error) { return passed, nil })
			if err != nil {
				t.Errorf("follower: %v", err)
			}
			follower <- outs
		}()
		time.Sleep(20 * time.Millisecond) // the follower waits for the leader's run
		close(release)
		if err := <-leader; !errors.Is(err, errRun) {
			t.Errorf("leader: %v, want %v", err, errRun)
		}
		if outs := <-follower; len(outs) != 2 {
			t.Errorf("follower got %v, want its own run's outcomes", outs)
		}
	})

	t.Run("no memo without WithSharedTests", func(t *testing.T) {
		if m := memoFrom(context.Background()); m != nil {
			t.Errorf("memo %v in a plain context", m)
		}
	})
}
