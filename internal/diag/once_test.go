package diag

import "testing"

func TestOnce(t *testing.T) {
	var c Collector
	s := Once(c.Add)
	a := Warning{Rule: "FromAsCasing", File: "chunks/a/Dockerfile", Line: 2, Msg: "casing", Data: []byte("x")}
	b := a
	b.Line = 3
	for _, w := range []Warning{a, a, b, a, b} {
		s(w)
	}
	if got := c.Warnings(); len(got) != 2 || got[0].Line != 2 || got[1].Line != 3 {
		t.Errorf("got %+v, want the two distinct warnings once each, in order", got)
	}
}
