package main

import (
	"os"
	"strconv"
	"strings"
	"time"
)

// waitIdle holds a run back until the machine has been idle for a moment, so that no run pays for the
// one before it. buildkitd finishes a build's history record after the client has its result: it
// JSON-encodes the build's trace up to 3 s after the build ends, and a bake's builds share one trace
// (every push's HTTP requests among its spans), several seconds of CPU after a bake of 41 targets.
// It gives up after 30 s and runs anyway.
func waitIdle() {
	const busyShare = 0.1
	deadline := time.Now().Add(30 * time.Second)
	quiet := 0
	busy, total, ok := cpuTimes()
	for ok && time.Now().Before(deadline) {
		time.Sleep(250 * time.Millisecond)
		b, t, ok2 := cpuTimes()
		if !ok2 || t <= total {
			return
		}
		if float64(b-busy)/float64(t-total) < busyShare {
			quiet++
		} else {
			quiet = 0
		}
		if quiet >= 4 {
			return
		}
		busy, total = b, t
	}
}

// clockTicks is USER_HZ, the unit of /proc/stat's times: 100 on every Linux architecture Go runs on.
const clockTicks = 100

// cpuTimes reads the machine's busy and total CPU time, in clock ticks, from /proc/stat.
func cpuTimes() (busy, total uint64, ok bool) {
	dt, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	return parseCPUTimes(string(dt))
}

// parseCPUTimes reads the first line of /proc/stat: cpu user nice system idle iowait irq softirq steal
// guest guest_nice.
func parseCPUTimes(stat string) (busy, total uint64, ok bool) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, 0, false
	}
	for i, s := range f[1:] {
		if i >= 8 { // guest time is already counted in user
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}
