package assert

import (
	"testing"
	"time"
)

// FuzzEvaluate: whatever the assertion and the output, Evaluate returns a verdict or an error,
// within its time limit, and never panics.
func FuzzEvaluate(f *testing.F) {
	for _, seed := range []string{
		"status == 0",
		"status != 0",
		`stdout.indexOf("v18") != -1 || stdout.indexOf("v20") != -1`,
		"stdout.indexOf(\"v18\") != -1 ||\nstdout.indexOf(\"v20\") != -1",
		`stdout.trim() == "hello"`,
		"stderr.length == 0",
		`stdout == "alpha\n"`,
		`stderr.indexOf("version \"17") != -1`,
		"stdout",
		"while(true){}",
		"status ==",
		"nope.length > 0",
		"(function f(){ return f(); })()",
		"new Boolean(true)",
		"throw new Error('x')",
	} {
		f.Add(seed, "v18.19.0\n", "warning\n", 0)
	}
	const limit = 50 * time.Millisecond
	f.Fuzz(func(t *testing.T, expr, stdout, stderr string, status int) {
		type verdict struct {
			passed bool
			err    error
		}
		done := make(chan verdict, 1)
		go func() {
			passed, err := Evaluate(expr, Result{Status: status, Stdout: stdout, Stderr: stderr}, limit)
			done <- verdict{passed, err}
		}()
		select {
		case v := <-done:
			if v.err != nil && v.passed {
				t.Errorf("Evaluate(%q) = passed with error %v", expr, v.err)
			}
		// The interrupt lands between instructions; allow for a slow or busy machine.
		case <-time.After(limit + 3*time.Second):
			t.Fatalf("Evaluate(%q) did not return within %s of its limit of %s", expr, 3*time.Second, limit)
		}
	})
}
