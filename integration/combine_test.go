package integration

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dazzlekit/dazzlekit/merge"
)

func envMap(envs []string) map[string]string {
	m := map[string]string{}
	for _, e := range envs {
		k, v, _ := strings.Cut(e, "=")
		m[k] = v
	}
	return m
}

// The example's "full" combination: base + hello (via ref) + lang:2 (a variant with its own
// Dockerfile) + tool (multi-stage) + cleanup (deletes a base file).
func TestCombineExampleFull(t *testing.T) {
	e := stack(t)
	dir := exampleDir("devtools")
	ref := e.ref(t, "full")
	p := e.mustBuild(t, dir, map[string]string{"target": "full"}, ref)
	img := image(t, ref)

	owners := layersByOwner(t, img)
	for _, ch := range []string{"cleanup", "hello", "lang:2", "tool"} {
		if len(owners[ch]) == 0 {
			t.Errorf("no layers from chunk %s; layers by owner: %v", ch, owners)
		}
	}
	if len(owners) != 5 {
		t.Errorf("want layers from the base and 4 chunks, got %v", owners)
	}
	// dazzle's order: the base, then the chunks sorted by name.
	var order []string
	for _, h := range img.Config.History {
		if o, ok := merge.ChunkFromHistoryComment(h.Comment); ok && !h.EmptyLayer && (len(order) == 0 || order[len(order)-1] != o) {
			order = append(order, o)
		}
	}
	if want := []string{"cleanup", "hello", "lang:2", "tool"}; !slices.Equal(order, want) {
		t.Errorf("chunk layer order %v, want %v", order, want)
	}

	env := envMap(img.Config.Config.Env)
	wantEnv := map[string]string{
		// merge-unique: lang:2 and tool both prepend to the base PATH; the base entries keep their place at the end.
		"PATH":         "/opt/lang/2.1/bin:/opt/tool/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HELLO_OPTS":   "--greeting=hi --color=auto", // values with "=" survive
		"LANG_VERSION": "2.1",
		"HOME":         "/home/tester", // use-first: the base's
		"EDITOR":       "vi",
		"DEVTOOLS":     "base:hello:tool", // merge, in chunk order; the base value is not merged with itself
	}
	for k, v := range wantEnv {
		if env[k] != v {
			t.Errorf("env %s=%q, want %q (env: %v)", k, env[k], v, img.Config.Config.Env)
		}
	}
	cfg := img.Config.Config
	if cfg.Labels["org.example.base"] != "busybox" || cfg.Labels["org.example.hello"] != "1" {
		t.Errorf("labels %v: want the base's and hello's", cfg.Labels)
	}
	if _, ok := cfg.ExposedPorts["8080/tcp"]; !ok {
		t.Errorf("exposed ports %v: want 8080/tcp from hello", cfg.ExposedPorts)
	}
	if cfg.User != "tester" || cfg.WorkingDir != "/home/tester" || !slices.Equal(cfg.Cmd, []string{"sh"}) {
		t.Errorf("user %q workdir %q cmd %q: want the base's", cfg.User, cfg.WorkingDir, cfg.Cmd)
	}

	// No build time in the config: the same layers give the same digest.
	if c := img.Config.Created; c == nil || c.Unix() != 0 {
		t.Errorf("config created %v, want the Unix epoch", c)
	}
	for _, h := range img.Config.History {
		if h.Created == nil || h.Created.Unix() != 0 {
			t.Errorf("history %q created %v, want the Unix epoch", h.CreatedBy, h.Created)
			break
		}
	}

	fs := files(t, img)
	for _, f := range []string{"usr/local/bin/hello", "opt/lang/2.1/bin/lang", "opt/lang/2.1/bin/langfmt", "usr/local/bin/tool", "etc/devtools/cleanup", "etc/motd", "bin/busybox"} {
		if _, ok := fs[f]; !ok {
			t.Errorf("/%s missing from the combined image", f)
		}
	}
	if _, ok := fs["etc/legacy.conf"]; ok {
		t.Error("/etc/legacy.conf is in the combined image: chunk cleanup deleted it, the deletion must survive the merge")
	}
	if _, ok := fs["out/tool"]; ok {
		t.Error("/out/tool from tool's build stage leaked into the image")
	}
	if got := string(fs["etc/devtools/layers"].Data); got != "base\n" {
		t.Errorf("/etc/devtools/layers = %q", got)
	}

	// Progress names each vertex after its chunk.
	names := strings.Join(p.names(), "\n")
	for _, want := range []string{"[chunk hello ", "[chunk lang:2 ", "[chunk tool build ", "[base "} {
		if !strings.Contains(names, want) {
			t.Errorf("no vertex named %q in progress:\n%s", want, names)
		}
	}
}

// Editing one chunk rebuilds that chunk only: the base's and every other chunk's layers keep their digests.
func TestEditOneChunkKeepsOtherLayers(t *testing.T) {
	e := stack(t)
	dir := copyProject(t, exampleDir("devtools"))
	ref := e.ref(t, "full")
	e.mustBuild(t, dir, map[string]string{"target": "full"}, ref)
	before := layersByOwner(t, image(t, ref))

	// A fresh step each run, so BuildKit's cache from earlier runs cannot hide the rebuild.
	appendFile(t, dir+"/chunks/tool/Dockerfile", fmt.Sprintf("USER root\nRUN echo edited %d > /etc/devtools/tool-edit\nUSER tester\n", time.Now().UnixNano()))
	p := e.mustBuild(t, dir, map[string]string{"target": "full"}, ref)
	after := layersByOwner(t, image(t, ref))

	for owner, layers := range before {
		if owner == "tool" {
			continue
		}
		if !slices.Equal(layers, after[owner]) {
			t.Errorf("%s's layers changed after editing chunk tool:\nbefore %v\nafter  %v", owner, layers, after[owner])
		}
	}
	if len(after["tool"]) != len(before["tool"])+1 {
		t.Errorf("tool: %d layers before, %d after; want one more", len(before["tool"]), len(after["tool"]))
	}
	if !slices.Equal(before["tool"], after["tool"][:len(before["tool"])]) {
		t.Errorf("tool's unchanged steps got new layers: before %v after %v", before["tool"], after["tool"])
	}
	if ran := p.ran("RUN"); len(ran) != 1 || !strings.Contains(ran[0], "[chunk tool ") {
		t.Errorf("want only the edited chunk's new RUN to execute, ran: %q", ran)
	}
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	dt, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(dt, s...), 0o644); err != nil {
		t.Fatal(err)
	}
}
