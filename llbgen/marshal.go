package llbgen

import (
	"context"
	"maps"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
)

// Marshaler turns the states of one build into the definitions it solves, named by its Names.
//
// A build solves many states that share most of their ops: each test's state holds its subject's
// whole graph, so a combination of 100 chunks with a test each marshals its ~500 ops a hundred
// times. llb.State.Marshal redoes every op on every call (its per-op cache is keyed by the
// *Constraints it makes afresh each time) and converts every op's metadata twice. Marshaler keeps
// one Constraints per kind of state, so each op is marshalled once per build, and each op's named
// metadata, so a definition costs a walk over its graph. The definitions share op bytes and
// metadata: they are to be sent, not changed.
type Marshaler struct {
	names *Names
	opts  []llb.ConstraintsOpt
	// derived are the constraints of a state built on converted ones (a merge, a test), which
	// carries none of its own: what llb.State.Marshal makes for it, once.
	derived *llb.Constraints

	mu    sync.Mutex
	own   map[llb.Output]*llb.Constraints // a converted state's, with its platform and caps
	meta  map[*pb.OpMetadata]*metaEntry   // by llb's cached metadata of an op
	infos map[*llb.SourceMap]*pb.SourceInfo
}

type metaEntry struct {
	raw   llb.OpMetadata // as llb merged it
	named *pb.OpMetadata
	// what the definition's terminal op declares caps for, as llb.State.Marshal does
	ignoreCache, description, exportCache bool
}

// NewMarshaler marshals with opts added to each state's own (llb.WithCaps of the build) and
// names ops as names says once Own has been called for every converted state.
func NewMarshaler(names *Names, opts ...llb.ConstraintsOpt) *Marshaler {
	return &Marshaler{
		names:   names,
		opts:    opts,
		derived: llb.NewConstraints(opts...),
		own:     map[llb.Output]*llb.Constraints{},
		meta:    map[*pb.OpMetadata]*metaEntry{},
		infos:   map[*llb.SourceMap]*pb.SourceInfo{},
	}
}

// Own records st's ops as label's (see Names.Own) and keeps the constraints st marshals with
// (a converted Dockerfile's platform and caps), for when st itself is solved. Call it for the
// base and every chunk before marshalling any state built on them.
func (m *Marshaler) Own(ctx context.Context, st llb.State, label string) error {
	def, err := st.Marshal(ctx, m.opts...)
	if err != nil {
		return err
	}
	m.names.own(def, label)
	if out := st.Output(); out != nil {
		m.mu.Lock()
		m.own[out] = def.Constraints
		m.mu.Unlock()
	}
	return nil
}

// Marshal is st.Marshal with the Marshaler's options, ToPB and Names.Apply in one, sharing their
// work with every other definition of the build.
func (m *Marshaler) Marshal(ctx context.Context, st llb.State) (*pb.Definition, error) {
	out := st.Output()
	m.mu.Lock()
	c, ok := m.own[out]
	m.mu.Unlock()
	if !ok {
		c = m.derived
	}
	if out == nil || out.Vertex(ctx, c) == nil { // nothing to share
		def, err := st.Marshal(ctx, m.opts...)
		if err != nil {
			return nil, err
		}
		pbDef := def.ToPB()
		m.names.Apply(pbDef)
		return pbDef, nil
	}
	b := &defBuilder{
		m:       m,
		ctx:     ctx,
		c:       c,
		def:     &pb.Definition{Metadata: map[string]*pb.OpMetadata{}},
		visited: map[llb.Vertex]struct{}{},
		ops:     map[digest.Digest]*metaEntry{},
	}
	if err := b.add(out.Vertex(ctx, c)); err != nil {
		return nil, err
	}
	inp, err := out.ToInput(ctx, c)
	if err != nil {
		return nil, err
	}
	dt, err := (&pb.Op{Inputs: []*pb.Input{inp}}).MarshalVT()
	if err != nil {
		return nil, err
	}
	b.def.Def = append(b.def.Def, dt)
	caps := map[string]bool{string(pb.CapConstraints): true, string(pb.CapPlatform): true}
	for _, e := range b.entries {
		if e.ignoreCache {
			caps[string(pb.CapMetaIgnoreCache)] = true
		}
		if e.description {
			caps[string(pb.CapMetaDescription)] = true
		}
		if e.exportCache {
			caps[string(pb.CapMetaExportCache)] = true
		}
	}
	term := string(digest.FromBytes(dt))
	if md := b.def.Metadata[term]; md != nil { // an op of the graph digesting as the terminal one
		md = md.CloneVT()
		md.Caps = caps
		b.def.Metadata[term] = md
	} else {
		b.def.Metadata[term] = &pb.OpMetadata{Caps: caps}
	}
	if b.def.Source, err = b.source(); err != nil {
		return nil, err
	}
	return b.def, nil
}

// defBuilder is one definition being assembled, in llb's order: each op after its inputs.
type defBuilder struct {
	m       *Marshaler
	ctx     context.Context
	c       *llb.Constraints
	def     *pb.Definition
	visited map[llb.Vertex]struct{}
	ops     map[digest.Digest]*metaEntry // the ops in def.Def, with their metadata if any
	entries []*metaEntry
	raw     map[digest.Digest][]llb.OpMetadata // only for a digest that more than one vertex has

	maps  []*llb.SourceMap
	index map[*llb.SourceMap]int
	locs  []digestLocations
}

type digestLocations struct {
	dgst digest.Digest
	locs []*llb.SourceLocation
}

func (b *defBuilder) add(v llb.Vertex) error {
	if _, ok := b.visited[v]; ok {
		return nil
	}
	for _, inp := range v.Inputs() {
		if err := b.add(inp.Vertex(b.ctx, b.c)); err != nil {
			return err
		}
	}
	dgst, dt, md, sls, err := v.Marshal(b.ctx, b.c)
	if err != nil {
		return err
	}
	b.visited[v] = struct{}{}
	prev, seen := b.ops[dgst]
	e := prev
	if md != nil {
		e = b.addMeta(dgst, dt, md, prev)
	}
	b.addSources(dgst, sls) // even none: llb gives every op an entry
	b.ops[dgst] = e
	if !seen {
		b.def.Def = append(b.def.Def, dt)
	}
	return nil
}

func (b *defBuilder) addMeta(dgst digest.Digest, dt []byte, md *pb.OpMetadata, prev *metaEntry) *metaEntry {
	var e *metaEntry
	if prev != nil {
		// Two vertices marshal to one op: llb merges their metadata, and so does this, uncached.
		if b.raw == nil {
			b.raw = map[digest.Digest][]llb.OpMetadata{}
		}
		if b.raw[dgst] == nil {
			b.raw[dgst] = []llb.OpMetadata{prev.raw}
		}
		b.raw[dgst] = append(b.raw[dgst], llb.NewOpMetadata(md))
		var merged llb.OpMetadata
		for _, r := range b.raw[dgst] {
			merged = mergeMeta(merged, r)
		}
		e = b.m.entry(dgst, dt, merged)
	} else {
		var ok bool
		b.m.mu.Lock()
		e, ok = b.m.meta[md]
		b.m.mu.Unlock()
		if !ok {
			e = b.m.entry(dgst, dt, mergeMeta(llb.OpMetadata{}, llb.NewOpMetadata(md)))
			b.m.mu.Lock()
			b.m.meta[md] = e
			b.m.mu.Unlock()
		}
	}
	b.def.Metadata[string(dgst)] = e.named
	b.entries = append(b.entries, e)
	return e
}

// entry is an op's metadata as llb.State.Marshal, ToPB and Names.Apply leave it.
func (m *Marshaler) entry(dgst digest.Digest, dt []byte, md llb.OpMetadata) *metaEntry {
	e := &metaEntry{raw: md, ignoreCache: md.IgnoreCache, description: md.Description != nil, exportCache: md.ExportCache != nil}
	e.named = md.ToPB()
	if label, ok := m.names.owner[dgst]; ok {
		name := e.named.Description[customNameKey]
		if name == "" {
			name = describe(dt)
		}
		if name != "" {
			e.named.Description = maps.Clone(e.named.Description) // raw keeps llb's
			if e.named.Description == nil {
				e.named.Description = map[string]string{}
			}
			e.named.Description[customNameKey] = Prefix(label, name)
		}
	}
	return e
}

// mergeMeta is llb's merge of an op's metadata into what the definition has for its digest.
func mergeMeta(m1, m2 llb.OpMetadata) llb.OpMetadata {
	if m2.IgnoreCache {
		m1.IgnoreCache = true
	}
	if len(m2.Description) > 0 {
		if m1.Description == nil {
			m1.Description = map[string]string{}
		}
		maps.Copy(m1.Description, m2.Description)
	}
	if m2.ExportCache != nil {
		m1.ExportCache = m2.ExportCache
	}
	for k := range m2.Caps {
		if m1.Caps == nil {
			m1.Caps = make(map[apicaps.CapID]bool, len(m2.Caps))
		}
		m1.Caps[k] = true
	}
	if m2.ProgressGroup != nil {
		m1.ProgressGroup = m2.ProgressGroup
	}
	if m2.LinuxResources != nil {
		m1.LinuxResources = m2.LinuxResources
	}
	return m1
}

func (b *defBuilder) addSources(dgst digest.Digest, ls []*llb.SourceLocation) {
	if b.index == nil {
		b.index = map[*llb.SourceMap]int{}
	}
	for _, l := range ls {
		idx, ok := b.index[l.SourceMap]
		if !ok {
			idx = -1
			for i, sm := range b.maps {
				if equalSourceMap(sm, l.SourceMap) {
					idx = i
					break
				}
			}
			if idx == -1 {
				idx = len(b.maps)
				b.maps = append(b.maps, l.SourceMap)
			}
		}
		b.index[l.SourceMap] = idx
	}
	b.locs = append(b.locs, digestLocations{dgst: dgst, locs: ls})
}

// source is llb's source map of the definition; each file's info (with its definition, marshalled
// once) is shared by every definition that points into the file.
func (b *defBuilder) source() (*pb.Source, error) {
	s := &pb.Source{Locations: make(map[string]*pb.Locations, len(b.locs))}
	for _, sm := range b.maps {
		info, err := b.m.sourceInfo(b.ctx, sm)
		if err != nil {
			return nil, err
		}
		s.Infos = append(s.Infos, info)
	}
	for _, dl := range b.locs {
		key := dl.dgst.String()
		pbLocs, ok := s.Locations[key]
		if !ok {
			pbLocs = &pb.Locations{}
			s.Locations[key] = pbLocs
		}
		for _, loc := range dl.locs {
			pbLocs.Locations = append(pbLocs.Locations, &pb.Location{SourceIndex: int32(b.index[loc.SourceMap]), Ranges: loc.Ranges})
		}
	}
	return s, nil
}

func (m *Marshaler) sourceInfo(ctx context.Context, sm *llb.SourceMap) (*pb.SourceInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if info, ok := m.infos[sm]; ok {
		return info, nil
	}
	def := sm.Definition
	if def == nil && sm.State != nil {
		var err error
		if def, err = sm.State.Marshal(ctx, m.opts...); err != nil {
			return nil, err
		}
		sm.Definition = def // as llb does, so later marshals agree on it
	}
	info := &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language}
	if def != nil {
		info.Definition = def.ToPB()
	}
	m.infos[sm] = info
	return info, nil
}

func equalSourceMap(sm1, sm2 *llb.SourceMap) bool {
	if sm1 == nil || sm2 == nil || sm1.Filename != sm2.Filename || sm1.Language != sm2.Language || string(sm1.Data) != string(sm2.Data) {
		return false
	}
	if sm1.Definition != nil && sm2.Definition != nil {
		d1, d2 := sm1.Definition.Def, sm2.Definition.Def
		if len(d1) != len(d2) && len(d1) != 0 {
			return false
		}
		return string(d1[len(d1)-1]) == string(d2[len(d2)-1])
	}
	return true
}
