package assert

import (
	"strings"
	"testing"
	"time"
)

func TestEvaluate(t *testing.T) {
	res := Result{Status: 0, Stdout: "v18.19.0\n", Stderr: "warning: x\n"}
	tests := []struct {
		name    string
		expr    string
		r       Result
		want    bool
		wantErr string // substring; "" means no error
	}{
		{name: "status true", expr: "status == 0", r: res, want: true},
		{name: "status false", expr: "status == 0", r: Result{Status: 2}, want: false},
		{name: "status is a number", expr: "typeof status === 'number' && status === 3", r: Result{Status: 3}, want: true},
		{name: "indexOf", expr: `stdout.indexOf("v18") != -1`, r: res, want: true},
		{name: "multi-line or chain", expr: "stdout.indexOf(\"v16\") != -1\n|| stdout.indexOf(\"v18\") != -1\n|| stdout.indexOf(\"v20\") != -1\n", r: res, want: true},
		{name: "multi-line or chain false", expr: "stdout.indexOf(\"v16\") != -1 ||\n  stdout.indexOf(\"v20\") != -1", r: res, want: false},
		{name: "trim equality", expr: `stdout.trim() == "v18.19.0"`, r: res, want: true},
		{name: "newline in string", expr: `stdout == "v18.19.0\n"`, r: res, want: true},
		{name: "length", expr: "stderr.length > 0", r: res, want: true},
		{name: "empty stderr", expr: `stderr.length == 0`, r: Result{}, want: true},
		{name: "trailing semicolon", expr: "status == 0;", r: res, want: true},
		{name: "number", expr: "stdout.indexOf('v18')", r: res, wantErr: "boolean, got number (0)"},
		{name: "string", expr: "stdout", r: res, wantErr: "got string"},
		{name: "undefined", expr: "undefined", r: res, wantErr: "got undefined"},
		{name: "empty", expr: "", r: res, wantErr: "got undefined"},
		{name: "null", expr: "null", r: res, wantErr: "got null"},
		{name: "boolean object", expr: "new Boolean(false)", r: res, wantErr: "got object (Boolean)"},
		{name: "function", expr: "(function(){})", r: res, wantErr: "got function"},
		{name: "syntax error", expr: "status ==", r: res, wantErr: "SyntaxError"},
		{name: "reference error", expr: "nosuchvar == 1", r: res, wantErr: "nosuchvar is not defined"},
		{name: "thrown", expr: `(function(){ throw new Error("boom") })()`, r: res, wantErr: "boom"},
		{name: "recursion", expr: "(function f(){ return f() })()", r: res, wantErr: "RangeError: maximum call stack size exceeded at f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The default bound, not a tight one: these cases check outcomes, and on a loaded CI
			// machine the recursion case (about 0.05 s here) once took over a second.
			// TestEvaluateInfiniteLoopIsStopped checks the bound itself.
			got, err := Evaluate(tt.expr, tt.r, DefaultAssertionTimeout)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Evaluate(%q) error = %v, want it to contain %q", tt.expr, err, tt.wantErr)
				}
				if got {
					t.Errorf("Evaluate(%q) = true alongside an error", tt.expr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Evaluate(%q): %v", tt.expr, err)
			}
			if got != tt.want {
				t.Errorf("Evaluate(%q) = %v, want %v", tt.expr, got, tt.want)
			}
		})
	}
}

func TestEvaluateInfiniteLoopIsStopped(t *testing.T) {
	start := time.Now()
	_, err := Evaluate("while(true){}", Result{}, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "ran longer than 100ms") {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %s to stop", d)
	}
}

func TestCheckEvaluatesAllAndIsolates(t *testing.T) {
	r := Result{Status: 1, Stdout: "hello\n"}
	outcomes := Check([]string{
		"status == 0",
		"stdout = 'x'; true", // must not leak into the next assertion
		`stdout == "hello\n"`,
		"oops(",
	}, r, time.Second)
	if len(outcomes) != 4 {
		t.Fatalf("got %d outcomes", len(outcomes))
	}
	want := []bool{false, true, true, false}
	for i, o := range outcomes {
		if o.Index != i || o.Passed != want[i] {
			t.Errorf("outcome %d = %+v, want Passed=%v", i, o, want[i])
		}
	}
	if outcomes[0].Err != nil || outcomes[3].Err == nil {
		t.Errorf("errors: %v / %v", outcomes[0].Err, outcomes[3].Err)
	}
	if got := Failed(outcomes); len(got) != 2 || got[0].Index != 0 || got[1].Index != 3 {
		t.Errorf("Failed = %+v", got)
	}
}

func TestFormatFailure(t *testing.T) {
	long := strings.Repeat("a", 3000) + "\nTHE END\n"
	outcomes := Check([]string{"status == 0", "stdout.indexOf('v18') != -1\n|| false", "bad("}, Result{Status: 1, Stdout: long}, time.Second)
	msg := FormatFailure("it should run node", "chunks/node/chunk.yaml:12", outcomes, Result{Status: 1, Stdout: long, Stderr: "err\n"}, time.Minute)
	for _, want := range []string{
		"test failed: it should run node",
		"chunks/node/chunk.yaml:12",
		"failing assertions (3 of 3)",
		"#1: status == 0\n      evaluated to false",
		"#2: stdout.indexOf('v18') != -1\n      || false",
		"#3: bad(\n      error: SyntaxError",
		"command exit status: 1",
		"stdout (last 2048 of 3009 bytes)",
		"  | THE END",
		"stderr:\n  | err",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	if len(msg) > 3000 {
		t.Errorf("message not bounded: %d bytes", len(msg))
	}

	msg = FormatFailure("t", "f:1", nil, Result{Status: 137, TimedOut: true, Truncated: true}, 30*time.Second)
	for _, want := range []string{"timed out after 30s", "stdout: (empty)", "first 1048576 bytes"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
	msg = FormatFailure("t", "f:1", nil, Result{Status: 127, Error: `exec: "nodez": executable file not found in $PATH`}, 0)
	if !strings.Contains(msg, `could not be started: exec: "nodez"`) {
		t.Errorf("message:\n%s", msg)
	}
}
