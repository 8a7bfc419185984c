package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
)

// The stack's buildkitd samples none of its own spans (hack/stack-up.sh), so a build's history record
// holds no trace unless the client sent spans of its own: in a bake, each target's record would
// otherwise encode the spans of every target again. With BuildKit's default sampler, the record of the
// solve below gets buildkitd's trace of it within 3 s of the build's end.
func TestStackBuildkitdRecordsNoTraces(t *testing.T) {
	e := stack(t)
	if os.Getenv("DAZZLEKIT_STACK_BUILDKITD") != "1" {
		t.Skip("BUILDKIT_HOST names a buildkitd that hack/stack-up.sh did not start")
	}
	ctx, c := e.dial(t, time.Minute)
	ref := fmt.Sprintf("dazzlekit-traces-%d", time.Now().UnixNano())
	def, err := llb.Scratch().File(llb.Mkfile("/f", 0o644, []byte(ref))).Marshal(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Solve(ctx, def, client.SolveOpt{Ref: ref}, nil); err != nil {
		t.Fatal(err)
	}
	done := time.Now()
	// buildkitd stops recording a build's trace when its client finalizes the record, or 3 s after
	// the build: look until then, and a little longer.
	for {
		var rec *controlapi.BuildHistoryRecord
		for _, ev := range buildHistory(ctx, t, c, &controlapi.BuildHistoryRequest{Ref: ref, EarlyExit: true}) {
			if ev.Record != nil && ev.Record.Ref == ref {
				rec = ev.Record
			}
		}
		if rec == nil {
			t.Fatalf("no history record of build %s", ref)
		}
		if rec.Trace != nil {
			t.Fatalf("the history record of build %s holds a trace of %d bytes (%s): buildkitd samples its spans", ref, rec.Trace.Size, rec.Trace.Digest)
		}
		if time.Since(done) > 5*time.Second {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// dial connects to the stack's buildkitd for at most timeout; the connection closes when the test ends.
func (e env) dial(t *testing.T, timeout time.Duration) (context.Context, *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	c, err := client.New(ctx, e.host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return ctx, c
}

// buildHistory is what BuildKit's history sends for req, up to its end (req.EarlyExit).
func buildHistory(ctx context.Context, t *testing.T, c *client.Client, req *controlapi.BuildHistoryRequest) []*controlapi.BuildHistoryEvent {
	t.Helper()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var evs []*controlapi.BuildHistoryEvent
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
}
