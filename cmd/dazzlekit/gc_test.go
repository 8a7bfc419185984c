package main

import (
	"runtime"
	"testing"
)

// The gateway frontend runs on one P, unless GOMAXPROCS says otherwise.
func TestFrontendProcs(t *testing.T) {
	was := runtime.GOMAXPROCS(0)
	t.Cleanup(func() { runtime.GOMAXPROCS(was) })
	for _, tt := range []struct {
		env  string
		set  int // what the runtime holds before
		want int
	}{
		{"", 4, 1},
		{"3", 3, 3}, // the runtime read the variable at start
	} {
		t.Setenv("GOMAXPROCS", tt.env)
		runtime.GOMAXPROCS(tt.set)
		frontendProcs()
		if got := runtime.GOMAXPROCS(0); got != tt.want {
			t.Errorf("GOMAXPROCS=%q: %d Ps, want %d", tt.env, got, tt.want)
		}
	}
}
