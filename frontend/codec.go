package frontend

// BuildKit's codec encodes gRPC messages with their generated vtproto code, as BuildKit's own
// frontends do, instead of gRPC's default reflection: every solve sends a definition of up to
// hundreds of ops (a test's holds its whole subject), and the default codec takes three times the
// allocations and markedly more time to encode one. It registers under gRPC's "proto" name, so it
// replaces the default for the whole process.
import _ "github.com/moby/buildkit/util/grpcutil/encoding/proto"
