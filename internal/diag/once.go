package diag

import "sync"

// Once passes each distinct warning on to s the first time only. A build converts every
// Dockerfile once per platform, and variants share Dockerfiles: the user needs each problem once.
func Once(s Sink) Sink {
	type key struct {
		rule, file, msg, detail, url string
		line                         int
	}
	var mu sync.Mutex
	seen := map[key]bool{}
	return func(w Warning) {
		k := key{w.Rule, w.File, w.Msg, w.Detail, w.URL, w.Line}
		mu.Lock()
		dup := seen[k]
		seen[k] = true
		mu.Unlock()
		if !dup {
			s(w)
		}
	}
}
