package runner

import (
	"os/exec"
	"strings"
	"testing"
)

// The runner runs inside images under test: it must stay free of BuildKit, which it has no use for.
func TestImportsNoBuildKit(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.HasPrefix(pkg, "github.com/moby/buildkit") {
			t.Errorf("the runner depends on %s", pkg)
		}
	}
	if !strings.Contains(string(out), "github.com/creack/pty") {
		t.Errorf("go list found no dependencies:\n%s", out)
	}
}
