package frontend

import (
	"reflect"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/internal/diag"
	"github.com/moby/buildkit/frontend/dockerui"
)

var epoch0 = time.Unix(0, 0).UTC()

func TestParseOptions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     dockerui.Config
		want    Options
		wantErr string
	}{
		{
			name: "defaults",
			want: Options{BuildArgs: map[string]string{}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "target and user build args; ours are not passed on",
			cfg: dockerui.Config{Target: "full", Labels: map[string]string{"a": "b"}, BuildArgs: map[string]string{
				"GO_VERSION": "1.26", "DAZZLE_NO_TEST": "1", "DAZZLE_TEST_TIMEOUT": "90s",
			}},
			want: Options{Target: "full", NoTest: true, TestTimeout: 90 * time.Second,
				BuildArgs: map[string]string{"GO_VERSION": "1.26"}, Labels: map[string]string{"a": "b"}, Epoch: epoch0},
		},
		{
			name: "DAZZLE_TARGET is the target",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"DAZZLE_TARGET": "minimal"}},
			want: Options{Target: "minimal", BuildArgs: map[string]string{}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "ad-hoc chunks trimmed",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"DAZZLE_CHUNKS": " node, go ,,"}},
			want: Options{Chunks: []string{"node", "go"}, BuildArgs: map[string]string{}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "report",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"DAZZLE_TEST_REPORT": "true"}},
			want: Options{TestReport: true, BuildArgs: map[string]string{}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		// SOURCE_DATE_EPOCH goes to the Dockerfiles as it is: BuildKit's converter accepts and resolves
		// its forms (seconds, empty, "context", a named context or stage) and the base's result stamps
		// the image, so no form the Dockerfile frontend accepts is refused here.
		{
			name: "SOURCE_DATE_EPOCH in seconds reaches the Dockerfiles",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}},
			want: Options{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "empty SOURCE_DATE_EPOCH",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": ""}},
			want: Options{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": ""}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "SOURCE_DATE_EPOCH=context",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "context"}},
			want: Options{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "context"}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "SOURCE_DATE_EPOCH naming a context",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "src"}},
			want: Options{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "src"}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name: "a typo in an option warns with the option meant",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"DAZZLE_NOTEST": "1"}},
			want: Options{BuildArgs: map[string]string{}, TestTimeout: 5 * time.Minute, Epoch: epoch0, Warnings: []diag.Warning{
				{Rule: "UnknownBuildArg", Msg: "build-arg DAZZLE_NOTEST is not a dazzlekit option, so it is ignored; did you mean DAZZLE_NO_TEST?"},
			}},
		},
		{
			name: "unknown options warn, sorted; case counts",
			cfg: dockerui.Config{BuildArgs: map[string]string{"DAZZLE_TEST_TIMOUT": "1m", "DAZZLE_no_test": "1",
				"DAZZLE_COLOUR": "red", "DAZZLE_CHUNK": "a", "DAZZLE_NO_TEST": "1"}},
			want: Options{NoTest: true, BuildArgs: map[string]string{}, TestTimeout: 5 * time.Minute, Epoch: epoch0, Warnings: []diag.Warning{
				{Rule: "UnknownBuildArg", Msg: "build-arg DAZZLE_CHUNK is not a dazzlekit option, so it is ignored; did you mean DAZZLE_CHUNKS?"},
				{Rule: "UnknownBuildArg", Msg: "build-arg DAZZLE_COLOUR is not a dazzlekit option, so it is ignored; the options are DAZZLE_TARGET, DAZZLE_CHUNKS, DAZZLE_NO_TEST, DAZZLE_TEST_TIMEOUT, DAZZLE_TEST_REPORT, DAZZLE_DISABLE_DIFF_MERGE"},
				{Rule: "UnknownBuildArg", Msg: "build-arg DAZZLE_TEST_TIMOUT is not a dazzlekit option, so it is ignored; did you mean DAZZLE_TEST_TIMEOUT?"},
				{Rule: "UnknownBuildArg", Msg: "build-arg DAZZLE_no_test is not a dazzlekit option, so it is ignored; did you mean DAZZLE_NO_TEST?"},
			}},
		},
		{
			name: "other build args are the Dockerfiles', never warned about",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"DAZZLE": "x", "dazzle_no_test": "1", "NOTEST": "1"}},
			want: Options{BuildArgs: map[string]string{"DAZZLE": "x", "dazzle_no_test": "1", "NOTEST": "1"}, TestTimeout: 5 * time.Minute, Epoch: epoch0},
		},
		{
			name:    "target and DAZZLE_TARGET disagree",
			cfg:     dockerui.Config{Target: "a", BuildArgs: map[string]string{"DAZZLE_TARGET": "b"}},
			wantErr: `target "a" and build-arg DAZZLE_TARGET="b" disagree: set only one`,
		},
		{
			name:    "chunks and target",
			cfg:     dockerui.Config{Target: "a", BuildArgs: map[string]string{"DAZZLE_CHUNKS": "x"}},
			wantErr: `build-arg DAZZLE_CHUNKS="x" and target "a" both choose what to build: set only one`,
		},
		{
			name:    "bad boolean",
			cfg:     dockerui.Config{BuildArgs: map[string]string{"DAZZLE_NO_TEST": "maybe"}},
			wantErr: `build-arg DAZZLE_NO_TEST="maybe" is not a boolean: use 1 or 0`,
		},
		{
			name:    "bad timeout",
			cfg:     dockerui.Config{BuildArgs: map[string]string{"DAZZLE_TEST_TIMEOUT": "-1s"}},
			wantErr: `build-arg DAZZLE_TEST_TIMEOUT="-1s" must be more than zero`,
		},
		{
			name:    "no test and report",
			cfg:     dockerui.Config{BuildArgs: map[string]string{"DAZZLE_NO_TEST": "1", "DAZZLE_TEST_REPORT": "1"}},
			wantErr: `build-arg DAZZLE_NO_TEST and DAZZLE_TEST_REPORT contradict each other: set only one`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOptions(tc.cfg)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}
