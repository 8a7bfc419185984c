package llbgen

import "testing"

func TestPrefix(t *testing.T) {
	for _, tc := range []struct{ label, in, want string }{
		{"chunk node", "[2/3] RUN echo hi", "[chunk node 2/3] RUN echo hi"},
		{"chunk node", "[build 1/2] FROM base", "[chunk node build 1/2] FROM base"},
		{"base", "[internal] load build context", "[base] [internal] load build context"},
		{"chunk go:1.24", "copy /chunks/go /", "[chunk go:1.24] copy /chunks/go /"},
		{"chunk node", "[chunk node 2/3] RUN x", "[chunk node 2/3] RUN x"},
	} {
		if got := Prefix(tc.label, tc.in); got != tc.want {
			t.Errorf("Prefix(%q, %q) = %q, want %q", tc.label, tc.in, got, tc.want)
		}
	}
}
