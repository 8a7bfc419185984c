package frontend

import (
	"context"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
)

// warner turns diag warnings into BuildKit warnings attached to the project file's load vertex,
// so `buildctl --progress=plain` prints `WARN:` lines and buildx lists them with a snippet.
func warner(ctx context.Context, src *dockerui.Source) diag.Sink {
	return func(w diag.Warning) {
		opts := gwclient.WarnOpts{Level: 1, URL: w.URL}
		if w.Detail != "" {
			opts.Detail = [][]byte{[]byte(w.Detail)}
		}
		if w.File != "" && w.Data != nil {
			opts.SourceInfo = &pb.SourceInfo{Filename: w.File, Data: w.Data, Language: w.Lang}
			if w.Line > 0 {
				l := int32(w.Line)
				opts.Range = []*pb.Range{{Start: &pb.Position{Line: l}, End: &pb.Position{Line: l}}}
			}
		}
		src.Warn(ctx, w.String(), opts)
	}
}
