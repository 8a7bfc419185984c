package frontend

import (
	"bytes"
	"encoding/json"

	"github.com/dazzlekit/dazzlekit/project"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/frontend/subrequests"
	"github.com/moby/buildkit/frontend/subrequests/lint"
	"github.com/moby/buildkit/frontend/subrequests/outline"
	"github.com/moby/buildkit/frontend/subrequests/targets"
)

// The project file schemas, served as subrequests so editors and scripts can fetch the ones that
// match the frontend in use: `docker buildx build --call dazzle.schema -f dazzle.yaml .`.
var schemaRequests = []struct {
	req    subrequests.Request
	schema []byte
}{
	{subrequests.Request{Name: "frontend.dazzle.schema", Version: "1.0.0", Type: subrequests.TypeRPC,
		Description: "JSON schema of dazzle.yaml"}, project.ConfigSchema},
	{subrequests.Request{Name: "frontend.dazzle.chunk-schema", Version: "1.0.0", Type: subrequests.TypeRPC,
		Description: "JSON schema of chunk.yaml"}, project.ChunkSchema},
	{subrequests.Request{Name: "frontend.dazzle.tests-schema", Version: "1.0.0", Type: subrequests.TypeRPC,
		Description: "JSON schema of tests/<chunk>.yaml"}, project.TestSpecSchema},
}

// schemaSubrequest answers the schema requests and `--call subrequests.describe`. Neither needs the
// project, so they are answered before it is read: a schema helps most when the project is broken.
func schemaSubrequest(requestID string) (*gwclient.Result, bool, error) {
	if requestID == subrequests.RequestSubrequestsDescribe {
		res, err := describeRequests()
		return res, true, err
	}
	for _, s := range schemaRequests {
		if s.req.Name == requestID {
			res := gwclient.NewResult()
			res.Metadata = map[string][]byte{"result.json": s.schema, "result.txt": s.schema, "version": []byte(s.req.Version)}
			return res, true, nil
		}
	}
	return nil, false, nil
}

// describeRequests lists every subrequest this frontend answers (dockerui's own describe knows
// only the standard ones).
func describeRequests() (*gwclient.Result, error) {
	all := []subrequests.Request{outline.SubrequestsOutlineDefinition, targets.SubrequestsTargetsDefinition, lint.SubrequestLintDefinition}
	for _, s := range schemaRequests {
		all = append(all, s.req)
	}
	all = append(all, subrequests.SubrequestsDescribeDefinition)
	dt, err := json.MarshalIndent(all, "", "  ")
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := subrequests.PrintDescribe(dt, &b); err != nil {
		return nil, err
	}
	res := gwclient.NewResult()
	res.Metadata = map[string][]byte{
		"result.json": dt,
		"result.txt":  b.Bytes(),
		"version":     []byte(subrequests.SubrequestsDescribeDefinition.Version),
	}
	return res, nil
}
