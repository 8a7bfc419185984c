package main

import (
	"strings"
	"testing"
)

// The chunk-alone floor runs the edited chunk's steps and, in one container, the tests dazzle and
// dazzlekit run after that edit: the chunk's own and each of the combination's.
func TestChunkFloorDockerfile(t *testing.T) {
	p := &benchProject{N: 4, rev: map[int]int{2: 3}}
	got := p.floorDockerfile("localhost:5055/r", 1)
	want := "FROM localhost:5055/r:all\n" + p.chunkSteps(2) +
		`RUN --network=none ["sh", "-c", "c02 floor-1 && c00 floor-1 && c01 floor-1 && c02 floor-1 && c03 floor-1"]` + "\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if !strings.Contains(got, `echo "c02 rev 3"`) {
		t.Errorf("the steps are not the chunk's edited ones:\n%s", got)
	}
}
