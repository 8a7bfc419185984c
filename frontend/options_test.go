package frontend

import (
	"reflect"
	"testing"
	"time"

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
		{
			name: "SOURCE_DATE_EPOCH stamps the image and reaches the Dockerfiles",
			cfg:  dockerui.Config{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}},
			want: Options{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "1700000000"}, TestTimeout: 5 * time.Minute, Epoch: time.Unix(1700000000, 0).UTC()},
		},
		{
			name:    "bad SOURCE_DATE_EPOCH",
			cfg:     dockerui.Config{BuildArgs: map[string]string{"SOURCE_DATE_EPOCH": "yesterday"}},
			wantErr: `build-arg SOURCE_DATE_EPOCH="yesterday" is not a number of seconds since 1970`,
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
