package frontend

// BuildKit's codec encodes gRPC messages with their generated vtproto code, as BuildKit's own
// frontends do, instead of gRPC's default reflection: every solve sends a definition of up to
// hundreds of ops (the tests of an image hold its whole graph), and with the default codec one
// invocation building 100 chunks made over three times the allocations. It registers under gRPC's "proto" name, so it
// replaces the default for the whole process.
import _ "github.com/moby/buildkit/util/grpcutil/encoding/proto"
