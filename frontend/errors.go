package frontend

import (
	"strings"

	"github.com/dazzlekit/dazzlekit/project"
	"github.com/moby/buildkit/solver/errdefs"
	"github.com/moby/buildkit/solver/pb"
	"github.com/pkg/errors"
)

// withSource attaches the file and line of a project error so buildctl and buildx print the
// offending YAML with the message.
func withSource(err error) error {
	var pe *project.Error
	if err == nil || !errors.As(err, &pe) || pe.Data == nil || pe.Line <= 0 {
		return err
	}
	line := int32(pe.Line)
	return errdefs.WithSource(err, &errdefs.Source{
		Info:   &pb.SourceInfo{Filename: pe.File, Data: pe.Data, Language: "YAML"},
		Ranges: []*pb.Range{{Start: &pb.Position{Line: line}, End: &pb.Position{Line: line}}},
	})
}

// ErrorText is a build's error as buildctl prints it: the message, then the lines of each source
// (YAML or Dockerfile) it points at.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(err.Error())
	for _, s := range errdefs.Sources(err) {
		b.WriteString("\n")
		_ = s.Print(&b)
	}
	return b.String()
}
