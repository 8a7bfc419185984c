package main

import "testing"

func TestParseCPUTimes(t *testing.T) {
	for _, tc := range []struct {
		name        string
		stat        string
		busy, total uint64
		ok          bool
	}{
		{"idle and iowait are not busy; guest is in user already",
			"cpu  100 2 30 1000 50 4 6 8 99 99\ncpu0 1 2 3 4 5 6 7 8 0 0\n", 150, 1200, true},
		{"a kernel without steal and guest columns", "cpu 1 2 3 4 5 6 7\n", 19, 28, true},
		{"too few columns", "cpu 1 2 3\n", 0, 0, false},
		{"not /proc/stat", "intr 1 2 3 4 5 6 7 8 9\n", 0, 0, false},
		{"a field that is no number", "cpu 1 2 x 4 5 6 7 8\n", 0, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			busy, total, ok := parseCPUTimes(tc.stat)
			if busy != tc.busy || total != tc.total || ok != tc.ok {
				t.Errorf("parseCPUTimes = %d, %d, %v; want %d, %d, %v", busy, total, ok, tc.busy, tc.total, tc.ok)
			}
		})
	}
}
