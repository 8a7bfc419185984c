package llbgen

import (
	"context"
	"encoding/json"
	"slices"
	"sync"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/singleflight"
)

// MetaResolver is the part of the gateway client that looks up image configs and source metadata.
type MetaResolver interface {
	ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error)
	ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error)
}

// MetaCache answers each distinct metadata lookup once per build. Chunks of one project mostly
// share their images (a builder stage's `FROM golang:1.22` in many chunks, for every variant and
// platform), and each conversion would otherwise ask the daemon, and the daemon the registry,
// again. BuildKit's own resolvers do not help here: imagemetaresolver talks to registries itself
// (the frontend has no network) and sourceresolver does not cache. Failures are not kept, so a
// later conversion retries them.
type MetaCache struct {
	r      MetaResolver
	flight singleflight.Group

	mu      sync.Mutex
	images  map[string]imageConfig
	sources map[string]*sourceresolver.MetaResponse
}

type imageConfig struct {
	ref    string
	digest digest.Digest
	config []byte
}

// NewMetaCache wraps r, typically the frontend's gateway client. Use one per build.
func NewMetaCache(r MetaResolver) *MetaCache {
	return &MetaCache{r: r, images: map[string]imageConfig{}, sources: map[string]*sourceresolver.MetaResponse{}}
}

// ResolveImageConfig is r's, answered from the cache when the same ref was asked with the same options.
func (m *MetaCache) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	key, err := metaKey("image", ref, opt)
	if err != nil {
		return m.r.ResolveImageConfig(ctx, ref, opt)
	}
	m.mu.Lock()
	res, ok := m.images[key]
	m.mu.Unlock()
	if !ok {
		v, err, _ := m.flight.Do(key, func() (any, error) {
			r, dgst, cfg, err := m.r.ResolveImageConfig(ctx, ref, opt)
			if err != nil {
				return nil, err
			}
			res := imageConfig{ref: r, digest: dgst, config: cfg}
			m.mu.Lock()
			m.images[key] = res
			m.mu.Unlock()
			return res, nil
		})
		if err != nil {
			return "", "", nil, err
		}
		res = v.(imageConfig)
	}
	// Callers own what they get: one of them changing the config must not change another's.
	return res.ref, res.digest, slices.Clone(res.config), nil
}

// ResolveSourceMetadata is r's, answered from the cache when the same source was asked with the same options.
func (m *MetaCache) ResolveSourceMetadata(ctx context.Context, op *pb.SourceOp, opt sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	key, err := metaKey("source", op, opt)
	if err != nil {
		return m.r.ResolveSourceMetadata(ctx, op, opt)
	}
	m.mu.Lock()
	res, ok := m.sources[key]
	m.mu.Unlock()
	if !ok {
		v, err, _ := m.flight.Do(key, func() (any, error) {
			res, err := m.r.ResolveSourceMetadata(ctx, op, opt)
			if err != nil {
				return nil, err
			}
			m.mu.Lock()
			m.sources[key] = res
			m.mu.Unlock()
			return res, nil
		})
		if err != nil {
			return nil, err
		}
		res = v.(*sourceresolver.MetaResponse)
	}
	return cloneMetaResponse(res), nil
}

// metaKey identifies a lookup by what it asks, not by the progress line it shows (LogName).
func metaKey(kind string, what any, opt sourceresolver.Opt) (string, error) {
	opt.LogName = ""
	dt, err := json.Marshal(struct {
		Kind string
		What any
		Opt  sourceresolver.Opt
	}{kind, what, opt})
	return string(dt), err
}

func cloneMetaResponse(r *sourceresolver.MetaResponse) *sourceresolver.MetaResponse {
	if r == nil {
		return nil
	}
	out := *r
	if r.Op != nil {
		out.Op = r.Op.CloneVT()
	}
	if r.Image != nil {
		img := *r.Image
		img.Config = slices.Clone(img.Config)
		out.Image = &img
	}
	return &out
}
