package llbgen_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/llbgen"
	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/client/llb"
)

// SOURCE_DATE_EPOCH is BuildKit's to parse: the base's conversion carries the time it resolved,
// which the frontend stamps on the combined image.
func TestBaseEpoch(t *testing.T) {
	c := newStandIn()
	base := project.Chunk{Name: "base", Dir: "base", Dockerfile: "base/Dockerfile", DockerfileData: []byte("FROM registry.example/busybox:latest\n")}
	for _, tc := range []struct {
		args    map[string]string
		want    *time.Time
		wantErr string
	}{
		{args: nil},
		{args: map[string]string{"SOURCE_DATE_EPOCH": ""}},
		{args: map[string]string{"SOURCE_DATE_EPOCH": "context"}}, // a local context has no time of its own
		{args: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, want: ptr(time.Unix(1700000000, 0).UTC())},
		{args: map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}, wantErr: "base/Dockerfile: invalid SOURCE_DATE_EPOCH: yesterday"},
	} {
		in := llbgen.Input{Client: c, Opts: c.opts, Context: llb.Local("context"), BuildArgs: tc.args}
		conv, err := llbgen.Base(context.Background(), in, base)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		if (conv.Epoch == nil) != (tc.want == nil) || (tc.want != nil && !conv.Epoch.Equal(*tc.want)) {
			t.Errorf("%v: epoch %v, want %v", tc.args, conv.Epoch, tc.want)
		}
	}
}

func ptr[T any](v T) *T { return &v }
