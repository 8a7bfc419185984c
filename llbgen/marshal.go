package llbgen

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"sync"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
)

// Marshaler turns the states of one build into the definitions it solves, named by its Names.
// Each definition is the one llb.State.Marshal, ToPB and Names.Apply make together.
//
// A build solves many states that share most of their ops: every chunk's image holds the base,
// the combination every chunk, and the tests of an image its whole graph. llb.State.Marshal redoes
// every op on every call (its per-op cache is keyed by the *Constraints it makes afresh each time)
// and converts every op's metadata twice. Marshaler keeps one Constraints per kind of state, so
// each op is marshalled once per build, and each op's named metadata; and it keeps the
// definitions of the states others are built on (Keep), so that the definition of an image's
// tests starts as a copy of the image's instead of a walk over its graph.
//
// The definitions share op bytes, metadata and source infos: they are to be sent, not changed.
type Marshaler struct {
	names *Names
	opts  []llb.ConstraintsOpt
	// derived are the constraints of a state built on converted ones (a merge, a test), which
	// carries none of its own: what llb.State.Marshal makes for it, once.
	derived *llb.Constraints
	// converted are the constraints of the states Own was given, found from the first.
	converted *llb.Constraints

	mu    sync.Mutex
	own   map[llb.Output]*llb.Constraints // a converted state's, with its platform and caps
	meta  map[*pb.OpMetadata]*metaEntry   // by llb's cached metadata of an op
	infos map[*llb.SourceMap]*pb.SourceInfo
	kept  map[keptKey]*kept
}

type metaEntry struct {
	raw   llb.OpMetadata // as llb merged it
	named *pb.OpMetadata
	flags capFlags
}

// capFlags are what a definition's terminal op declares caps for, as llb.State.Marshal does.
type capFlags struct{ ignoreCache, description, exportCache bool }

func (f *capFlags) add(g capFlags) {
	f.ignoreCache = f.ignoreCache || g.ignoreCache
	f.description = f.description || g.description
	f.exportCache = f.exportCache || g.exportCache
}

type keptKey struct {
	v llb.Vertex
	c *llb.Constraints
}

// kept is a state's definition with what it takes to start another definition from it.
type kept struct {
	out      llb.Output
	def      *pb.Definition
	term     string         // the terminal op's digest, last in def.Def
	termMeta *pb.OpMetadata // what an op of the graph had under term, if one digests as the terminal op
	visited  map[llb.Vertex]struct{}
	ops      map[digest.Digest]*metaEntry
	maps     []*llb.SourceMap
	index    map[*llb.SourceMap]int
	flags    capFlags
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
		kept:    map[keptKey]*kept{},
	}
}

// Ops are the ops of a converted state, in the order llb marshals them, for Own.
type Ops struct {
	out llb.Output
	c   *llb.Constraints
	ops []digest.Digest
}

// Ops marshals st, converted from the Input every state given to Own is converted from, to tell
// its ops. It may run in the goroutine that converted st, but only after it returned for the
// first state (the base).
//
// Converted states carry the constraints dockerfile2llb gave them (the target platform, the
// caps), which only llb.State.Marshal reads: Ops finds them by marshalling the first state so,
// and marshals every later one with the very same constraints, so that each op the states share
// is marshalled once.
func (m *Marshaler) Ops(ctx context.Context, st llb.State) (*Ops, error) {
	out := st.Output()
	m.mu.Lock()
	c := m.converted
	if c == nil || out == nil || out.Vertex(ctx, c) == nil {
		defer m.mu.Unlock()
		def, err := st.Marshal(ctx, m.opts...)
		if err != nil {
			return nil, err
		}
		o := &Ops{out: out, c: def.Constraints, ops: make([]digest.Digest, len(def.Def))}
		for i, dt := range def.Def {
			o.ops[i] = digest.FromBytes(dt)
		}
		if c == nil && out != nil {
			m.converted = def.Constraints
			if sameConstraints(def.Constraints, m.derived) {
				// A state built on converted ones marshals as they do: share their ops' marshalling too.
				m.derived = def.Constraints
			}
		}
		return o, nil
	}
	m.mu.Unlock()
	o := &Ops{out: out, c: c}
	visited := map[llb.Vertex]struct{}{}
	var walk func(v llb.Vertex) error
	walk = func(v llb.Vertex) error {
		if _, ok := visited[v]; ok {
			return nil
		}
		visited[v] = struct{}{}
		for _, inp := range v.Inputs() {
			if err := walk(inp.Vertex(ctx, c)); err != nil {
				return err
			}
		}
		dgst, _, _, _, err := v.Marshal(ctx, c)
		o.ops = append(o.ops, dgst)
		return err
	}
	if err := walk(out.Vertex(ctx, c)); err != nil {
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
	o.ops = append(o.ops, digest.FromBytes(dt))
	return o, nil
}

// Own records the ops as label's (see Names.Own), and the constraints their state marshals with
// for when it is solved itself. Call it for the base and then every chunk, in order, before
// marshalling any state.
func (m *Marshaler) Own(o *Ops, label string) {
	m.names.ownDigests(o.ops, label)
	if o.out != nil {
		m.mu.Lock()
		m.own[o.out] = o.c
		m.mu.Unlock()
	}
}

// sameConstraints tells whether ops marshal alike under a and b: whether all but their local
// unique IDs are equal. That ID only names a local source without a session, which then keeps one
// name for the whole build instead of taking a new one in every solve.
func sameConstraints(a, b *llb.Constraints) bool {
	ac := *a
	ac.LocalUniqueID = b.LocalUniqueID
	return reflect.DeepEqual(&ac, b)
}

// Marshal is st.Marshal with the Marshaler's options, ToPB and Names.Apply in one.
func (m *Marshaler) Marshal(ctx context.Context, st llb.State) (*pb.Definition, error) {
	return m.marshal(ctx, st, false)
}

// Keep is Marshal for a state that others are built on (a test's subject): their definitions
// start from its, and solving it again costs nothing.
func (m *Marshaler) Keep(ctx context.Context, st llb.State) (*pb.Definition, error) {
	return m.marshal(ctx, st, true)
}

func (m *Marshaler) marshal(ctx context.Context, st llb.State, keep bool) (*pb.Definition, error) {
	out := st.Output()
	m.mu.Lock()
	c, ok := m.own[out]
	if !ok {
		c = m.derived
	}
	m.mu.Unlock()
	var root llb.Vertex
	if out != nil {
		root = out.Vertex(ctx, c)
	}
	if root == nil { // nothing to share
		def, err := st.Marshal(ctx, m.opts...)
		if err != nil {
			return nil, err
		}
		pbDef := def.ToPB()
		m.names.Apply(pbDef)
		return pbDef, nil
	}
	if k := m.keptAt(root, c); k != nil && k.out == out {
		return k.def, nil
	}
	b := &defBuilder{
		m:       m,
		ctx:     ctx,
		c:       c,
		def:     &pb.Definition{},
		visited: map[llb.Vertex]struct{}{},
		ops:     map[digest.Digest]*metaEntry{},
		index:   map[*llb.SourceMap]int{},
	}
	if err := b.add(root); err != nil {
		return nil, err
	}
	if b.def.Metadata == nil {
		b.def.Metadata = make(map[string]*pb.OpMetadata, len(b.ops)+1)
		for dgst, e := range b.ops {
			if e != nil {
				b.def.Metadata[string(dgst)] = e.named
			}
		}
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
	if b.flags.ignoreCache {
		caps[string(pb.CapMetaIgnoreCache)] = true
	}
	if b.flags.description {
		caps[string(pb.CapMetaDescription)] = true
	}
	if b.flags.exportCache {
		caps[string(pb.CapMetaExportCache)] = true
	}
	term := string(digest.FromBytes(dt))
	termMeta := b.def.Metadata[term]
	if termMeta != nil { // an op of the graph digesting as the terminal one
		md := termMeta.CloneVT()
		md.Caps = caps
		b.def.Metadata[term] = md
	} else {
		b.def.Metadata[term] = &pb.OpMetadata{Caps: caps}
	}
	if b.def.Source, err = b.source(); err != nil {
		return nil, err
	}
	if keep {
		m.keep(root, c, b.kept(out, term, termMeta))
	}
	return b.def, nil
}

func (m *Marshaler) keptAt(v llb.Vertex, c *llb.Constraints) *kept {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.kept[keptKey{v, c}]
}

func (m *Marshaler) keep(v llb.Vertex, c *llb.Constraints, k *kept) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.kept[keptKey{v, c}]; !ok {
		m.kept[keptKey{v, c}] = k
	}
}

// defBuilder is one definition being assembled, in llb's order: each op after its inputs. It
// starts from a kept definition when the first op it meets is the root of one.
type defBuilder struct {
	m   *Marshaler
	ctx context.Context
	c   *llb.Constraints
	def *pb.Definition
	// base is the kept definition this one started from; what follows holds what came after.
	base    *kept
	visited map[llb.Vertex]struct{}
	ops     map[digest.Digest]*metaEntry // the ops in def.Def, with their metadata if any
	flags   capFlags
	raw     map[digest.Digest][]llb.OpMetadata // only for a digest that more than one vertex has

	maps  []*llb.SourceMap
	index map[*llb.SourceMap]int
	locs  []digestLocations
}

type digestLocations struct {
	dgst digest.Digest
	locs []*llb.SourceLocation
}

func (b *defBuilder) seen(v llb.Vertex) bool {
	if _, ok := b.visited[v]; ok {
		return true
	}
	if b.base != nil {
		_, ok := b.base.visited[v]
		return ok
	}
	return false
}

func (b *defBuilder) op(dgst digest.Digest) (*metaEntry, bool) {
	if e, ok := b.ops[dgst]; ok {
		return e, true
	}
	if b.base != nil {
		e, ok := b.base.ops[dgst]
		return e, ok
	}
	return nil, false
}

func (b *defBuilder) add(v llb.Vertex) error {
	if b.seen(v) {
		return nil
	}
	if len(b.def.Def) == 0 && b.base == nil {
		// What llb would add first is v's whole graph: a kept definition has it in that order.
		if k := b.m.keptAt(v, b.c); k != nil {
			b.adopt(k)
			return nil
		}
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
	prev, dup := b.op(dgst)
	e := prev
	if md != nil {
		e = b.addMeta(dgst, dt, md, prev)
	}
	b.addSources(dgst, sls) // even none: llb gives every op an entry
	b.ops[dgst] = e
	if !dup {
		b.def.Def = append(b.def.Def, dt)
	}
	return nil
}

func (b *defBuilder) adopt(k *kept) {
	b.base = k
	n := len(k.def.Def) - 1
	b.def.Def = append(make([][]byte, 0, n+8), k.def.Def[:n]...)
	b.def.Metadata = maps.Clone(k.def.Metadata)
	if k.termMeta != nil {
		b.def.Metadata[k.term] = k.termMeta
	} else {
		delete(b.def.Metadata, k.term)
	}
	b.flags = k.flags
	b.maps = slices.Clone(k.maps)
	b.index = maps.Clone(k.index)
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
	if b.def.Metadata != nil { // started from a kept definition: it has the map already
		b.def.Metadata[string(dgst)] = e.named
	}
	b.flags.add(e.flags)
	return e
}

// entry is an op's metadata as llb.State.Marshal, ToPB and Names.Apply leave it.
func (m *Marshaler) entry(dgst digest.Digest, dt []byte, md llb.OpMetadata) *metaEntry {
	e := &metaEntry{raw: md, flags: capFlags{ignoreCache: md.IgnoreCache, description: md.Description != nil, exportCache: md.ExportCache != nil}}
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

// noLocations is the entry of an op without any, shared by every definition.
var noLocations = &pb.Locations{}

// source is llb's source map of the definition; each file's info (with its definition, marshalled
// once) is shared by every definition that points into the file.
func (b *defBuilder) source() (*pb.Source, error) {
	s := &pb.Source{}
	if b.base != nil {
		s.Infos = slices.Clip(b.base.def.Source.Infos)
		s.Locations = maps.Clone(b.base.def.Source.Locations)
	} else {
		s.Locations = make(map[string]*pb.Locations, len(b.locs))
	}
	for _, sm := range b.maps[len(s.Infos):] {
		info, err := b.m.sourceInfo(b.ctx, sm)
		if err != nil {
			return nil, err
		}
		s.Infos = append(s.Infos, info)
	}
	var mine map[string]*pb.Locations // the entries this definition made, which it may append to
	for _, dl := range b.locs {
		key := dl.dgst.String()
		if len(dl.locs) == 0 {
			if _, ok := s.Locations[key]; !ok {
				s.Locations[key] = noLocations
			}
			continue
		}
		pbLocs, ok := mine[key]
		if !ok {
			pbLocs = &pb.Locations{}
			if prev := s.Locations[key]; prev != nil {
				pbLocs.Locations = slices.Clone(prev.Locations)
			}
			if mine == nil {
				mine = map[string]*pb.Locations{}
			}
			mine[key] = pbLocs
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
		sm.Definition = def // as llb does, so that later marshals agree on it
	}
	info := &pb.SourceInfo{Data: sm.Data, Filename: sm.Filename, Language: sm.Language}
	if def != nil {
		info.Definition = def.ToPB()
	}
	m.infos[sm] = info
	return info, nil
}

// kept is what another definition needs to start from this one.
func (b *defBuilder) kept(out llb.Output, term string, termMeta *pb.OpMetadata) *kept {
	k := &kept{out: out, def: b.def, term: term, termMeta: termMeta, visited: b.visited, ops: b.ops, maps: b.maps, index: b.index, flags: b.flags}
	if b.base != nil { // one kept on another: it holds both
		k.visited = maps.Clone(b.base.visited)
		maps.Copy(k.visited, b.visited)
		k.ops = maps.Clone(b.base.ops)
		maps.Copy(k.ops, b.ops)
	}
	return k
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
