package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The example GitHub workflow runs the commands integration/bake_test.go proves: `bake` with flags
// that exist, written to the file the bake step reads, and one bake of the default group.
func TestWorkflowMatchesTestedCommands(t *testing.T) {
	dt, err := os.ReadFile("../../examples/github-actions.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Uses string            `yaml:"uses"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(dt, &wf); err != nil {
		t.Fatal(err)
	}
	var bakeRun, bakeFiles string
	for _, s := range wf.Jobs["build"].Steps {
		if strings.Contains(s.Run, `"$DAZZLEKIT" bake `) {
			bakeRun = s.Run
		}
		if strings.HasPrefix(s.Uses, "docker/bake-action@") {
			bakeFiles = s.With["files"]
			if s.With["targets"] != "" {
				t.Errorf("the bake step names targets %q: it must build the default group, every combination", s.With["targets"])
			}
		}
	}
	if bakeRun == "" || bakeFiles == "" {
		t.Fatalf("workflow lacks the dazzlekit bake step or the bake-action step")
	}
	args, out, ok := strings.Cut(strings.SplitN(bakeRun, `"$DAZZLEKIT" bake `, 2)[1], " > ")
	if !ok || strings.TrimSpace(out) != bakeFiles {
		t.Errorf("dazzlekit bake writes %q, the bake step reads %q", out, bakeFiles)
	}
	// The flags parse (with a stand-in for the shell variable); the project is this repository's example.
	fields := strings.Fields(strings.ReplaceAll(args, `"$REGISTRY"`, "localhost:5000/ws"))
	var stdout, stderr bytes.Buffer
	if rc := bake(append(fields, "../../examples/devtools"), &stdout, &stderr); rc != 0 {
		t.Fatalf("dazzlekit bake %s: rc %d: %s", args, rc, stderr.String())
	}
	if !strings.Contains(stdout.String(), `"localhost:5000/ws"`) {
		t.Errorf("--registry did not reach the definition:\n%s", stdout.String())
	}
}
