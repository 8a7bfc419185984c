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
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := client.New(ctx, e.host)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
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
		rec := historyRecord(ctx, t, c, ref)
		if rec.Trace != nil {
			t.Fatalf("the history record of build %s holds a trace of %d bytes (%s): buildkitd samples its spans", ref, rec.Trace.Size, rec.Trace.Digest)
		}
		if time.Since(done) > 5*time.Second {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// historyRecord is BuildKit's history record of the build ref.
func historyRecord(ctx context.Context, t *testing.T, c *client.Client, ref string) *controlapi.BuildHistoryRecord {
	t.Helper()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{Ref: ref, EarlyExit: true})
	if err != nil {
		t.Fatal(err)
	}
	var rec *controlapi.BuildHistoryRecord
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Record != nil && ev.Record.Ref == ref {
			rec = ev.Record
		}
	}
	if rec == nil {
		t.Fatalf("no history record of build %s", ref)
	}
	return rec
}
