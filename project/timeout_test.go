package project

import (
	"testing"
	"time"
)

func TestTimeLimit(t *testing.T) {
	for _, tc := range []struct {
		timeout string
		want    time.Duration
	}{
		{"", 2 * time.Minute},
		{"30s", 30 * time.Second},
		{"1m30s", 90 * time.Second},
	} {
		if got := (Test{Timeout: tc.timeout}).TimeLimit(2 * time.Minute); got != tc.want {
			t.Errorf("TimeLimit with timeout %q = %s, want %s", tc.timeout, got, tc.want)
		}
	}
	for _, bad := range []string{"30", "0s", "-1m", "soon"} {
		if _, err := ParseTestTimeout(bad); err == nil {
			t.Errorf("ParseTestTimeout(%q) accepted it", bad)
		}
	}
	if DefaultTestTimeout != 5*time.Minute {
		t.Errorf("DefaultTestTimeout = %s, want dazzle's 5m", DefaultTestTimeout)
	}
}
