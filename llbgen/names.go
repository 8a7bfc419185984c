package llbgen

import (
	"context"
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

const customNameKey = "llb.customname"

// Names maps LLB ops to the part of the project that owns them, so progress reads `[chunk node 2/3] RUN ...`
// instead of dockerfile2llb's `[2/3] RUN ...`, which is ambiguous once many Dockerfiles share one build.
// Names live in definition metadata, outside op digests, so renaming never changes a cache key.
type Names struct {
	owner map[digest.Digest]string
}

// Own records every op of st that no earlier call owned as belonging to label (e.g. "chunk node").
// Call it for the base first, then for each chunk.
func (n *Names) Own(ctx context.Context, st llb.State, label string) error {
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	ops := make([]digest.Digest, len(def.Def))
	for i, dt := range def.Def {
		ops[i] = digest.FromBytes(dt)
	}
	n.ownDigests(ops, label)
	return nil
}

func (n *Names) ownDigests(ops []digest.Digest, label string) {
	if n.owner == nil {
		n.owner = map[digest.Digest]string{}
	}
	for _, d := range ops {
		if _, ok := n.owner[d]; !ok {
			n.owner[d] = label
		}
	}
}

// Apply renames the owned ops of def in place.
func (n *Names) Apply(def *pb.Definition) {
	var ops map[string][]byte // by digest, built once and only if some owned op is unnamed
	for d, md := range def.Metadata {
		label, ok := n.owner[digest.Digest(d)]
		if !ok || md == nil {
			continue
		}
		name := md.Description[customNameKey]
		if name == "" {
			if ops == nil {
				ops = make(map[string][]byte, len(def.Def))
				for _, dt := range def.Def {
					ops[digest.FromBytes(dt).String()] = dt
				}
			}
			if name = describe(ops[d]); name == "" {
				continue // the definition's terminal op: never shown
			}
		}
		if md.Description == nil {
			md.Description = map[string]string{}
		}
		md.Description[customNameKey] = Prefix(label, name)
	}
}

// BaseLabel is the label the base's ops are owned by; ChunkLabel a chunk's.
const BaseLabel = "base"

// ChunkLabel is the label chunk's ops are owned by.
func ChunkLabel(chunk string) string { return "chunk " + chunk }

// IsStepOf tells whether name, a vertex name Prefix gave, is a RUN, COPY or ADD step of label's
// Dockerfile: an op that makes new files whenever BuildKit runs it rather than answers it from its
// cache. BuildKit reports an op with inputs as started, not cached, only once it runs it.
func IsStepOf(name, label string) bool {
	rest, ok := strings.CutPrefix(name, "["+label+" ")
	if !ok {
		return false
	}
	_, instr, ok := strings.Cut(rest, "] ")
	if !ok {
		return false
	}
	for _, w := range []string{"RUN ", "COPY ", "ADD "} {
		if strings.HasPrefix(instr, w) {
			return true
		}
	}
	return false
}

// Prefix puts label into a vertex name: "[2/3] RUN x" -> "[chunk node 2/3] RUN x",
// "[build 1/2] FROM y" -> "[chunk node build 1/2] FROM y", anything else -> "[chunk node] name".
func Prefix(label, name string) string {
	if strings.HasPrefix(name, "["+label) {
		return name
	}
	if strings.HasPrefix(name, "[") && !strings.HasPrefix(name, "[internal]") {
		if i := strings.Index(name, "] "); i > 0 {
			return "[" + label + " " + name[1:]
		}
	}
	return "[" + label + "] " + name
}

// describe names an op that its author left unnamed (dockerui's copy of a chunk's folder out of the
// build context is one), so that it too shows whose it is.
func describe(dt []byte) string {
	var op pb.Op
	if dt == nil || op.UnmarshalVT(dt) != nil {
		return ""
	}
	if f := op.GetFile(); f != nil && len(f.Actions) == 1 {
		if cp := f.Actions[0].GetCopy(); cp != nil {
			return "copy " + cp.Src + " " + cp.Dest
		}
	}
	switch {
	case op.GetExec() != nil:
		return "exec"
	case op.GetFile() != nil:
		return "file operation"
	case op.GetSource() != nil:
		return op.GetSource().Identifier
	}
	return ""
}
