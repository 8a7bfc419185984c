package merge

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestParseAction(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    Action
		wantErr bool
	}{
		{"", UseFirst, false},
		{"use-first", UseFirst, false},
		{"use-last", UseLast, false},
		{"merge", Merge, false},
		{"merge-unique", MergeUnique, false},
		{"Merge", "", true},
		{"append", "", true},
	} {
		got, err := ParseAction(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseAction(%q) = %q, %v; want %q, err=%v", tc.in, got, err, tc.want, tc.wantErr)
		}
		if err != nil {
			for _, a := range []string{"use-first", "use-last", "merge", "merge-unique"} {
				if !strings.Contains(err.Error(), a) {
					t.Errorf("ParseAction(%q) error %q does not list %q", tc.in, err, a)
				}
			}
		}
	}
}

func TestEnv(t *testing.T) {
	path := func(a Action) []EnvRule { return []EnvRule{{Name: "PATH", Action: a}} }
	// dazzle v0.1.17 pkg/dazzle/combiner_test.go TestMergeEnv
	dzBase := []string{"PATH=first:second:third:common-value"}
	dzChunks := [][]string{
		{"PATH=fourth:fifth:common-value"},
		{"PATH=sixth:sixth:common-value"},
		{"PATH=eighth:seventh:eighth:common-value"},
	}

	for _, tc := range []struct {
		name   string
		base   []string
		chunks [][]string
		rules  []EnvRule
		want   []string
	}{
		{
			name:   "dazzle merge-unique",
			base:   dzBase,
			chunks: dzChunks,
			rules:  path(MergeUnique),
			want:   []string{"PATH=first:second:third:fourth:fifth:sixth:seventh:eighth:common-value"},
		},
		{
			name:   "dazzle merge",
			base:   dzBase,
			chunks: dzChunks,
			rules:  path(Merge),
			want:   []string{"PATH=first:second:third:common-value:fourth:fifth:common-value:sixth:sixth:common-value:eighth:seventh:eighth:common-value"},
		},
		{
			name:   "dazzle use-last",
			base:   dzBase,
			chunks: dzChunks[:1],
			rules:  path(UseLast),
			want:   []string{"PATH=fourth:fifth:common-value"},
		},
		{
			name:   "dazzle use-first",
			base:   dzBase,
			chunks: dzChunks[:1],
			rules:  path(UseFirst),
			want:   []string{"PATH=first:second:third:common-value"},
		},
		{
			name:   "compat doc merge-unique example",
			base:   []string{"PATH=a:b:c:common"},
			chunks: [][]string{{"PATH=d:e:common"}},
			rules:  path(MergeUnique),
			want:   []string{"PATH=a:b:c:d:e:common"},
		},
		{
			name:   "default rule is use-first: a chunk cannot change what the base sets",
			base:   []string{"PATH=/usr/bin", "LANG=C"},
			chunks: [][]string{{"PATH=/x:/usr/bin", "LANG=en_US.UTF-8"}},
			want:   []string{"PATH=/usr/bin", "LANG=C"},
		},
		{
			name:   "use-first between chunks: first chunk in order wins",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/usr/bin", "JAVA_HOME=/jdk17"}, {"PATH=/usr/bin", "JAVA_HOME=/jdk21"}},
			want:   []string{"PATH=/usr/bin", "JAVA_HOME=/jdk17"},
		},
		{
			name:   "use-last between chunks: last chunk in order wins",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/usr/bin", "JAVA_HOME=/jdk17"}, {"PATH=/usr/bin", "JAVA_HOME=/jdk21"}},
			rules:  []EnvRule{{Name: "JAVA_HOME", Action: UseLast}},
			want:   []string{"PATH=/usr/bin", "JAVA_HOME=/jdk21"},
		},
		{
			name:   "new variables appended in chunk order after the base",
			base:   []string{"B=1", "A=1"},
			chunks: [][]string{{"B=1", "A=1", "Z=z", "Y=y"}, {"X=x", "B=1", "A=1"}},
			want:   []string{"B=1", "A=1", "Z=z", "Y=y", "X=x"},
		},
		{
			name: "inherited-unchanged variable ignored under use-last",
			base: []string{"HOME=/root", "PATH=/usr/bin"},
			chunks: [][]string{
				{"HOME=/home/gitpod", "PATH=/usr/bin"},
				{"HOME=/root", "PATH=/usr/bin", "NODE=1"}, // did not touch HOME
			},
			rules: []EnvRule{{Name: "HOME", Action: UseLast}},
			want:  []string{"HOME=/home/gitpod", "PATH=/usr/bin", "NODE=1"},
		},
		{
			name:   "inherited-unchanged PATH adds nothing under merge",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/usr/bin"}, {"PATH=/usr/bin"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/bin"},
		},
		{
			name:   "merge strips the base value from prepends and appends",
			base:   []string{"PATH=/usr/local/bin:/usr/bin"},
			chunks: [][]string{{"PATH=/a:/usr/local/bin:/usr/bin"}, {"PATH=/usr/local/bin:/usr/bin:/b"}, {"PATH=/c1:/usr/local/bin:/usr/bin:/c2"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/local/bin:/usr/bin:/a:/b:/c1:/c2"},
		},
		{
			name:   "merge: two chunks prepending",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/a:/usr/bin"}, {"PATH=/b:/usr/bin"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/bin:/a:/b"},
		},
		{
			name:   "merge: chunk order decides the order of contributions",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/b:/usr/bin"}, {"PATH=/a:/usr/bin"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/bin:/b:/a"},
		},
		{
			name:   "merge: base value matched as whole entries only",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/usr/bin2:/x"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/bin:/usr/bin2:/x"},
		},
		{
			name:   "merge: base value removed once only",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/usr/bin:/x:/usr/bin"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/bin:/x:/usr/bin"},
		},
		{
			name:   "merge: rewritten value without the base joined whole",
			base:   []string{"PATH=/usr/local/bin:/usr/bin"},
			chunks: [][]string{{"PATH=/opt/bin:/usr/bin"}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/local/bin:/usr/bin:/opt/bin:/usr/bin"},
		},
		{
			name:   "merge: variable absent from the base joins chunk values whole",
			base:   []string{"HOME=/root"},
			chunks: [][]string{{"HOME=/root", "CP=/a.jar:/b.jar"}, {"HOME=/root", "CP=/c.jar:/b.jar"}},
			rules:  []EnvRule{{Name: "CP", Action: Merge}},
			want:   []string{"HOME=/root", "CP=/a.jar:/b.jar:/c.jar:/b.jar"},
		},
		{
			name:   "merge: empty base value adds no empty entry",
			base:   []string{"LD_LIBRARY_PATH="},
			chunks: [][]string{{"LD_LIBRARY_PATH=/a"}, {"LD_LIBRARY_PATH=/b"}},
			rules:  []EnvRule{{Name: "LD_LIBRARY_PATH", Action: Merge}},
			want:   []string{"LD_LIBRARY_PATH=/a:/b"},
		},
		{
			name:   "merge: chunk clearing the variable adds nothing",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH="}},
			rules:  path(Merge),
			want:   []string{"PATH=/usr/bin"},
		},
		{
			name:   "merge-unique: prepends stay in front of the base entries",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/a:/usr/bin"}, {"PATH=/b:/usr/bin"}},
			rules:  path(MergeUnique),
			want:   []string{"PATH=/a:/b:/usr/bin"},
		},
		{
			name:   "merge-unique: empty base value adds no empty entry",
			base:   []string{"X="},
			chunks: [][]string{{"X=/a"}},
			rules:  []EnvRule{{Name: "X", Action: MergeUnique}},
			want:   []string{"X=/a"},
		},
		{
			name:   "use-last: variable set by the base replaced",
			base:   []string{"PATH=/usr/bin"},
			chunks: [][]string{{"PATH=/x:/usr/bin"}, {"PATH=/usr/bin"}},
			rules:  path(UseLast),
			want:   []string{"PATH=/x:/usr/bin"},
		},
		{
			name:   "values containing = split on the first = only",
			base:   []string{"OPTS=-Da=b", "PATH=/usr/bin"},
			chunks: [][]string{{"OPTS=-Dc=d=e", "PATH=/usr/bin", "NEW=x=y"}},
			rules:  []EnvRule{{Name: "OPTS", Action: UseLast}},
			want:   []string{"OPTS=-Dc=d=e", "PATH=/usr/bin", "NEW=x=y"},
		},
		{
			name:   "empty values allowed",
			base:   []string{"EMPTY="},
			chunks: [][]string{{"EMPTY=", "ALSO="}, {"EMPTY=set"}},
			rules:  []EnvRule{{Name: "EMPTY", Action: UseLast}},
			want:   []string{"EMPTY=set", "ALSO="},
		},
		{
			name:   "chunk setting a variable back to empty under use-last",
			base:   []string{"X=1"},
			chunks: [][]string{{"X="}},
			rules:  []EnvRule{{Name: "X", Action: UseLast}},
			want:   []string{"X="},
		},
		{
			name:   "first rule for a name applies",
			base:   []string{"X=1"},
			chunks: [][]string{{"X=2"}},
			rules:  []EnvRule{{Name: "X", Action: UseLast}, {Name: "X", Action: UseFirst}},
			want:   []string{"X=2"},
		},
		{
			name:   "repeated variable in one list: first position, last value",
			base:   []string{"A=1", "B=1", "A=2"},
			chunks: [][]string{{"A=2", "B=1"}},
			want:   []string{"A=2", "B=1"},
		},
		{
			name: "no env at all",
			want: nil,
		},
		{
			name:  "no chunks",
			base:  []string{"A=1"},
			rules: path(Merge),
			want:  []string{"A=1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Env(tc.base, tc.chunks, tc.rules)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Env() =\n  %q\nwant\n  %q", got, tc.want)
			}
		})
	}
}

func ts(s int64) *time.Time {
	t := time.Unix(s, 0).UTC()
	return &t
}

func testImages() (*dockerspec.DockerOCIImage, []ChunkImage) {
	baseHist := []ocispec.History{
		{Created: ts(1), CreatedBy: "ADD rootfs"},
		{Created: ts(2), CreatedBy: "ENV PATH=/usr/bin", EmptyLayer: true},
	}
	base := &dockerspec.DockerOCIImage{}
	base.Created = ts(100)
	base.Author = "base-author"
	base.Platform = ocispec.Platform{Architecture: "arm64", OS: "linux", Variant: "v8", OSVersion: "1", OSFeatures: []string{"f"}}
	base.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{"sha256:aaa"}}
	base.History = baseHist
	base.Config.User = "gitpod"
	base.Config.WorkingDir = "/workspace"
	base.Config.StopSignal = "SIGTERM"
	base.Config.Cmd = []string{"bash"}
	base.Config.Entrypoint = []string{"/init"}
	base.Config.Shell = []string{"/bin/bash", "-c"}
	base.Config.OnBuild = []string{"RUN true"}
	//lint:ignore SA1019 the merge must carry the base's value
	base.Config.ArgsEscaped = true
	base.Config.Healthcheck = &dockerspec.HealthcheckConfig{Test: []string{"CMD", "true"}, Retries: 3}
	base.Config.Env = []string{"PATH=/usr/bin", "HOME=/home/gitpod"}
	base.Config.Labels = map[string]string{"base": "b", "title": "base"}
	base.Config.ExposedPorts = map[string]struct{}{"22/tcp": {}}
	base.Config.Volumes = map[string]struct{}{"/base": {}}

	chunk := func(hist []ocispec.History, mod func(c *dockerspec.DockerOCIImage)) *dockerspec.DockerOCIImage {
		c := &dockerspec.DockerOCIImage{}
		c.Created = ts(200)
		c.Platform = ocispec.Platform{Architecture: "amd64", OS: "windows"}
		c.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{"sha256:aaa", "sha256:ccc"}}
		c.History = hist
		c.Config.User = "root"
		c.Config.WorkingDir = "/chunk"
		c.Config.Cmd = []string{"node"}
		c.Config.Env = []string{"PATH=/usr/bin", "HOME=/home/gitpod"}
		c.Config.Labels = map[string]string{"base": "b", "title": "base"}
		c.Config.ExposedPorts = map[string]struct{}{"22/tcp": {}}
		c.Config.Volumes = map[string]struct{}{"/base": {}}
		mod(c)
		return c
	}
	withBase := func(own ...ocispec.History) []ocispec.History {
		return append([]ocispec.History{
			{Created: ts(1), CreatedBy: "ADD rootfs"},
			{Created: ts(2), CreatedBy: "ENV PATH=/usr/bin", EmptyLayer: true},
		}, own...)
	}
	chunks := []ChunkImage{
		{Name: "node", Image: chunk(withBase(ocispec.History{Created: ts(10), CreatedBy: "RUN install node"}, ocispec.History{Created: ts(11), CreatedBy: "ENV PATH", EmptyLayer: true}), func(c *dockerspec.DockerOCIImage) {
			c.Config.Env = []string{"PATH=/node/bin:/usr/bin", "HOME=/home/gitpod", "NODE_VERSION=20"}
			c.Config.Labels["title"] = "node"
			c.Config.Labels["node"] = "yes"
			c.Config.ExposedPorts["3000/tcp"] = struct{}{}
			c.Config.Volumes["/node"] = struct{}{}
		})},
		{Name: "nil", Image: nil},
		{Name: "go", Image: chunk(withBase(ocispec.History{Created: ts(20), CreatedBy: "RUN install go"}), func(c *dockerspec.DockerOCIImage) {
			c.Config.Env = []string{"PATH=/usr/bin:/go/bin", "HOME=/home/gitpod", "GOPATH=/go"}
			c.Config.Labels["go"] = "yes"
			c.Config.ExposedPorts["8080/tcp"] = struct{}{}
		})},
		// Not built on this base as far as history tells: shorter, then differing.
		{Name: "short", Image: chunk([]ocispec.History{{Created: ts(1), CreatedBy: "ADD rootfs"}}, func(c *dockerspec.DockerOCIImage) {})},
		{Name: "other", Image: chunk([]ocispec.History{{Created: ts(1), CreatedBy: "ADD other"}, {Created: ts(2), CreatedBy: "x"}, {Created: ts(3), CreatedBy: "y"}}, func(c *dockerspec.DockerOCIImage) {})},
		// Sets title back to the base's value: indistinguishable from inheriting it, so ignored.
		{Name: "inherits", Image: chunk(withBase(), func(c *dockerspec.DockerOCIImage) {})},
		{Name: "java", Image: chunk(withBase(ocispec.History{CreatedBy: "RUN install java"}), func(c *dockerspec.DockerOCIImage) {
			c.Config.Labels["node"] = "overridden-by-java"
		})},
	}
	return base, chunks
}

func TestConfig(t *testing.T) {
	base, chunks := testImages()
	got := Config(base, chunks, []EnvRule{{Name: "PATH", Action: Merge}})

	want := &dockerspec.DockerOCIImage{}
	want.Author = "base-author"
	want.Platform = ocispec.Platform{Architecture: "arm64", OS: "linux", Variant: "v8", OSVersion: "1", OSFeatures: []string{"f"}}
	want.RootFS = ocispec.RootFS{Type: "layers", DiffIDs: []digest.Digest{"sha256:aaa"}}
	want.History = []ocispec.History{
		{Created: ts(1), CreatedBy: "ADD rootfs"},
		{Created: ts(2), CreatedBy: "ENV PATH=/usr/bin", EmptyLayer: true},
		{Created: ts(10), CreatedBy: "RUN install node", Comment: "dazzlekit: chunk node"},
		{Created: ts(11), CreatedBy: "ENV PATH", EmptyLayer: true, Comment: "dazzlekit: chunk node"},
		{Created: ts(20), CreatedBy: "RUN install go", Comment: "dazzlekit: chunk go"},
		{CreatedBy: "RUN install java", Comment: "dazzlekit: chunk java"},
	}
	want.Config.User = "gitpod"
	want.Config.WorkingDir = "/workspace"
	want.Config.StopSignal = "SIGTERM"
	want.Config.Cmd = []string{"bash"}
	want.Config.Entrypoint = []string{"/init"}
	want.Config.Shell = []string{"/bin/bash", "-c"}
	want.Config.OnBuild = []string{"RUN true"}
	//lint:ignore SA1019 the merge must carry the base's value
	want.Config.ArgsEscaped = true
	want.Config.Healthcheck = &dockerspec.HealthcheckConfig{Test: []string{"CMD", "true"}, Retries: 3}
	want.Config.Env = []string{"PATH=/usr/bin:/node/bin:/go/bin", "HOME=/home/gitpod", "NODE_VERSION=20", "GOPATH=/go"}
	want.Config.Labels = map[string]string{"base": "b", "title": "node", "node": "overridden-by-java", "go": "yes"}
	want.Config.ExposedPorts = map[string]struct{}{"22/tcp": {}, "3000/tcp": {}, "8080/tcp": {}}
	want.Config.Volumes = map[string]struct{}{"/base": {}, "/node": {}}

	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("Config() =\n%s\nwant\n%s", g, w)
	}
}

func TestConfigLabelClash(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []map[string]string
		want   string
	}{
		{"later chunk wins", []map[string]string{{"k": "a"}, {"k": "b"}}, "b"},
		{"order reversed", []map[string]string{{"k": "b"}, {"k": "a"}}, "a"},
		{"inherited label does not undo a change", []map[string]string{{"k": "a"}, {"k": "base"}}, "a"},
		{"no chunk changes it", []map[string]string{{"k": "base"}, {}}, "base"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := &dockerspec.DockerOCIImage{}
			base.Config.Labels = map[string]string{"k": "base"}
			var chunks []ChunkImage
			for _, l := range tc.labels {
				c := &dockerspec.DockerOCIImage{}
				c.Config.Labels = l
				chunks = append(chunks, ChunkImage{Image: c})
			}
			if got := Config(base, chunks, nil).Config.Labels["k"]; got != tc.want {
				t.Errorf("label k = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigEmpty(t *testing.T) {
	for name, base := range map[string]*dockerspec.DockerOCIImage{"nil base": nil, "zero base": {}} {
		got := Config(base, nil, nil)
		if !reflect.DeepEqual(got, &dockerspec.DockerOCIImage{}) {
			t.Errorf("%s: Config() = %+v, want zero image", name, got)
		}
	}
	// Maps stay nil (omitted from JSON) unless something sets them.
	c := &dockerspec.DockerOCIImage{}
	c.Config.ExposedPorts = map[string]struct{}{"80/tcp": {}}
	got := Config(nil, []ChunkImage{{Image: c}}, nil)
	if got.Config.Labels != nil || got.Config.Volumes != nil || len(got.Config.ExposedPorts) != 1 {
		t.Errorf("Config() = %+v", got.Config)
	}
}

func TestConfigDoesNotMutateOrAlias(t *testing.T) {
	base, chunks := testImages()
	before, _ := json.Marshal(struct {
		B *dockerspec.DockerOCIImage
		C []ChunkImage
	}{base, chunks})
	rules := []EnvRule{{Name: "PATH", Action: MergeUnique}}

	got := Config(base, chunks, rules)
	after, _ := json.Marshal(struct {
		B *dockerspec.DockerOCIImage
		C []ChunkImage
	}{base, chunks})
	if string(before) != string(after) {
		t.Fatalf("inputs mutated:\n%s\n%s", before, after)
	}

	// Scribble over everything in the result; the inputs must not change.
	got.OSFeatures[0] = "x"
	got.RootFS.DiffIDs[0] = "x"
	got.History[0].CreatedBy = "x"
	*got.History[0].Created = time.Unix(999, 0)
	*got.History[2].Created = time.Unix(999, 0)
	got.Config.Cmd[0] = "x"
	got.Config.Entrypoint[0] = "x"
	got.Config.Shell[0] = "x"
	got.Config.OnBuild[0] = "x"
	got.Config.Healthcheck.Test[0] = "x"
	got.Config.Healthcheck.Retries = 99
	got.Config.Env[0] = "x"
	got.Config.Labels["base"] = "x"
	got.Config.ExposedPorts["x"] = struct{}{}
	got.Config.Volumes["x"] = struct{}{}
	after, _ = json.Marshal(struct {
		B *dockerspec.DockerOCIImage
		C []ChunkImage
	}{base, chunks})
	if string(before) != string(after) {
		t.Fatalf("result aliases inputs:\n%s\n%s", before, after)
	}
}

func TestConfigDeterministic(t *testing.T) {
	var first []byte
	for i := range 50 {
		base, chunks := testImages()
		b, err := json.Marshal(Config(base, chunks, []EnvRule{{Name: "PATH", Action: MergeUnique}, {Name: "HOME", Action: UseLast}}))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = b
			if strings.Contains(string(b), `"created":"1970-01-01T00:01:40Z"`) {
				t.Errorf("image Created copied from the base: %s", b)
			}
			continue
		}
		if string(b) != string(first) {
			t.Fatalf("run %d differs:\n%s\n%s", i, b, first)
		}
	}
}

func TestEnvDeterministic(t *testing.T) {
	base := []string{"PATH=/usr/bin"}
	var chunk []string
	for _, c := range "abcdefghijklmnopqrstuvwxyz" {
		chunk = append(chunk, string(c)+"="+string(c))
	}
	want := append(append([]string{}, base...), chunk...)
	for range 20 {
		if got := Env(base, [][]string{chunk}, nil); !reflect.DeepEqual(got, want) {
			t.Fatalf("Env() = %q, want %q", got, want)
		}
	}
}

func TestHistoryCommentRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		comment string
		chunk   string
		ok      bool
	}{
		{HistoryComment("node"), "node", true},
		{HistoryComment("lang-java:17"), "lang-java:17", true},
		{"buildkit.dockerfile.v0", "", false},
		{"", "", false},
		{"dazzlekit: chunk ", "", false},
		{"dazzlekit: chunks node", "", false},
	} {
		chunk, ok := ChunkFromHistoryComment(tc.comment)
		if chunk != tc.chunk || ok != tc.ok {
			t.Errorf("ChunkFromHistoryComment(%q) = %q, %v; want %q, %v", tc.comment, chunk, ok, tc.chunk, tc.ok)
		}
	}
}
