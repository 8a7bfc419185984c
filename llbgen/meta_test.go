package llbgen

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// countingResolver answers every lookup after a short delay, counting the calls per ref.
type countingResolver struct {
	mu     sync.Mutex
	calls  map[string]int
	total  atomic.Int64
	failOn string
}

func (r *countingResolver) count(ref string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	r.calls[ref]++
	r.total.Add(1)
}

func (r *countingResolver) ResolveImageConfig(_ context.Context, ref string, _ sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	r.count(ref)
	time.Sleep(10 * time.Millisecond) // long enough for concurrent callers to overlap
	if ref == r.failOn {
		return "", "", nil, errors.New("registry unreachable")
	}
	return ref, digest.FromString(ref), []byte(`{"ref":"` + ref + `"}`), nil
}

func (r *countingResolver) ResolveSourceMetadata(_ context.Context, op *pb.SourceOp, _ sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	r.count(op.Identifier)
	time.Sleep(10 * time.Millisecond)
	if op.Identifier == r.failOn {
		return nil, errors.New("registry unreachable")
	}
	return &sourceresolver.MetaResponse{Op: op, Image: &sourceresolver.ResolveImageResponse{Digest: digest.FromString(op.Identifier), Config: []byte("{}")}}, nil
}

func imageOpt(log string, p *ocispecs.Platform) sourceresolver.Opt {
	return sourceresolver.Opt{LogName: log, ImageOpt: &sourceresolver.ResolveImageOpt{Platform: p, ResolveMode: "default"}}
}

func TestMetaCacheImageConfig(t *testing.T) {
	amd64 := &ocispecs.Platform{OS: "linux", Architecture: "amd64"}
	arm64 := &ocispecs.Platform{OS: "linux", Architecture: "arm64"}
	for _, tc := range []struct {
		name      string
		lookups   []func(m *MetaCache) error
		wantCalls int64
	}{
		{
			name:      "one ref from many conversions at once is looked up once",
			lookups:   repeat(20, lookupImage("golang:1.22", imageOpt("[internal] load metadata for golang:1.22", amd64))),
			wantCalls: 1,
		},
		{
			name: "the progress name does not count",
			lookups: []func(m *MetaCache) error{
				lookupImage("golang:1.22", imageOpt("chunk a", amd64)),
				lookupImage("golang:1.22", imageOpt("chunk b", amd64)),
			},
			wantCalls: 1,
		},
		{
			name: "another platform is another lookup",
			lookups: []func(m *MetaCache) error{
				lookupImage("golang:1.22", imageOpt("", amd64)),
				lookupImage("golang:1.22", imageOpt("", arm64)),
				lookupImage("golang:1.22", imageOpt("", arm64)),
			},
			wantCalls: 2,
		},
		{
			name: "another resolve mode is another lookup",
			lookups: []func(m *MetaCache) error{
				lookupImage("golang:1.22", imageOpt("", amd64)),
				lookupImage("golang:1.22", sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: amd64, ResolveMode: "pull"}}),
			},
			wantCalls: 2,
		},
		{
			name: "different refs are different lookups",
			lookups: []func(m *MetaCache) error{
				lookupImage("golang:1.22", imageOpt("", amd64)),
				lookupImage("node:20", imageOpt("", amd64)),
				lookupImage("golang:1.22", imageOpt("", amd64)),
			},
			wantCalls: 2,
		},
		{
			name: "a failure is not kept",
			lookups: []func(m *MetaCache) error{
				expectErr(lookupImage("broken:1", imageOpt("", amd64))),
				expectErr(lookupImage("broken:1", imageOpt("", amd64))),
			},
			wantCalls: 2,
		},
		{
			name: "source metadata is cached apart from image configs",
			lookups: []func(m *MetaCache) error{
				lookupSource("docker-image://docker.io/library/golang:1.22", imageOpt("a", amd64)),
				lookupSource("docker-image://docker.io/library/golang:1.22", imageOpt("b", amd64)),
				lookupImage("docker-image://docker.io/library/golang:1.22", imageOpt("", amd64)),
			},
			wantCalls: 2,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingResolver{failOn: "broken:1"}
			m := NewMetaCache(r)
			// Concurrent callers share one lookup; sequential ones hit the cache.
			var wg sync.WaitGroup
			errs := make([]error, len(tc.lookups))
			if len(tc.lookups) > 3 {
				for i, l := range tc.lookups {
					wg.Go(func() { errs[i] = l(m) })
				}
				wg.Wait()
			} else {
				for i, l := range tc.lookups {
					errs[i] = l(m)
				}
			}
			for _, err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if got := r.total.Load(); got != tc.wantCalls {
				t.Errorf("resolver called %d times (%v), want %d", got, r.calls, tc.wantCalls)
			}
		})
	}
}

// A caller that changes what it got does not change what the next caller gets.
func TestMetaCacheReturnsCopies(t *testing.T) {
	m := NewMetaCache(&countingResolver{})
	_, _, cfg, err := m.ResolveImageConfig(context.Background(), "a", sourceresolver.Opt{})
	if err != nil {
		t.Fatal(err)
	}
	cfg[0] = 'X'
	_, _, again, _ := m.ResolveImageConfig(context.Background(), "a", sourceresolver.Opt{})
	if string(again) != `{"ref":"a"}` {
		t.Errorf("cached config changed to %q", again)
	}
	res, err := m.ResolveSourceMetadata(context.Background(), &pb.SourceOp{Identifier: "x"}, sourceresolver.Opt{})
	if err != nil {
		t.Fatal(err)
	}
	res.Op.Identifier = "changed"
	res.Image.Config[0] = 'X'
	res2, _ := m.ResolveSourceMetadata(context.Background(), &pb.SourceOp{Identifier: "x"}, sourceresolver.Opt{})
	if res2.Op.Identifier != "x" || string(res2.Image.Config) != "{}" {
		t.Errorf("cached response changed: %v %q", res2.Op.Identifier, res2.Image.Config)
	}
}

func repeat(n int, f func(m *MetaCache) error) []func(m *MetaCache) error {
	out := make([]func(m *MetaCache) error, n)
	for i := range out {
		out[i] = f
	}
	return out
}

func lookupImage(ref string, opt sourceresolver.Opt) func(m *MetaCache) error {
	return func(m *MetaCache) error {
		got, dgst, cfg, err := m.ResolveImageConfig(context.Background(), ref, opt)
		if err != nil {
			return err
		}
		if got != ref || dgst != digest.FromString(ref) || string(cfg) != `{"ref":"`+ref+`"}` {
			return errors.New("wrong answer for " + ref + ": " + got + " " + string(cfg))
		}
		return nil
	}
}

func lookupSource(id string, opt sourceresolver.Opt) func(m *MetaCache) error {
	return func(m *MetaCache) error {
		res, err := m.ResolveSourceMetadata(context.Background(), &pb.SourceOp{Identifier: id}, opt)
		if err != nil {
			return err
		}
		if res.Image == nil || res.Image.Digest != digest.FromString(id) {
			return errors.New("wrong answer for " + id)
		}
		return nil
	}
}

func expectErr(f func(m *MetaCache) error) func(m *MetaCache) error {
	return func(m *MetaCache) error {
		if err := f(m); err == nil {
			return errors.New("lookup succeeded, want the resolver's error")
		}
		return nil
	}
}
