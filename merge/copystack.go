package merge

import (
	"path"
	"slices"

	"github.com/dazzlekit/dazzlekit/layerapply"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Applier is the program that applies a chunk's changes without DiffOp/MergeOp: a state holding
// the frontend binary at Path (the frontend's own image, or a local context in-process).
type Applier struct {
	State llb.State
	Path  string
}

// Where CopyStack's exec ops mount their inputs; layerapply.ContainerMounts leaves them alone.
const (
	lowerDir  = "/.dazzlekit/lower"
	upperDir  = "/.dazzlekit/upper"
	binaryDir = "/.dazzlekit/bin"
)

// CopyStack composes like Layers for a BuildKit without DiffOp and MergeOp (Docker's classic image
// store): each chunk's own changes, found by comparing its filesystem with the base's, are applied
// by an exec op on top of the previous chunks. The files are the same as Layers gives; what is lost
// is layer sharing: each chunk becomes one layer that depends on the chunks before it, so changing
// one chunk rebuilds the layers of every later one.
func CopyStack(base llb.State, chunks []Layer, a Applier, name string) llb.State {
	st := base
	bin := path.Clean("/" + a.Path)
	for _, c := range chunks {
		st = st.Run(
			llb.Args([]string{path.Join(binaryDir, path.Base(bin)), layerapply.Command, lowerDir, upperDir, "/"}),
			// Mounts in target order: llb sorts them in place when marshalling, and the tests
			// marshal states sharing these ops from several goroutines at once.
			llb.AddMount(binaryDir, a.State, llb.SourcePath(path.Dir(bin)), llb.Readonly),
			llb.AddMount(lowerDir, base, llb.Readonly),
			llb.AddMount(upperDir, c.State, llb.Readonly),
			llb.User("0"),
			llb.Dir("/"),
			llb.Network(pb.NetMode_NONE),
			llb.WithCustomName("[chunk "+c.Name+"] own changes, copied onto "+name+" (no DiffOp/MergeOp here)"),
		).Root()
	}
	return st
}

// CopyStackHistory is img's history for an image composed by CopyStack: each chunk's own entries
// become one, since its changes are one layer.
func CopyStackHistory(img *dockerspec.DockerOCIImage, chunks []string) []ocispec.History {
	var out []ocispec.History
	for _, h := range img.History {
		chunk, ok := ChunkFromHistoryComment(h.Comment)
		if !ok || !slices.Contains(chunks, chunk) {
			out = append(out, h)
			continue
		}
		if n := len(out); n > 0 && out[n-1].Comment == h.Comment {
			out[n-1].Created = h.Created
			continue
		}
		out = append(out, ocispec.History{
			Created:   h.Created,
			CreatedBy: "dazzlekit: the own changes of chunk " + chunk + ", copied onto the previous chunks",
			Comment:   h.Comment,
		})
	}
	return out
}
