// Package diag holds what every part of the frontend reports to the user without failing the
// build: warnings that point at a file and line of the build context. Producers (the project
// loader, the Dockerfile conversions, option parsing) return or emit values; only the frontend
// turns them into BuildKit warnings, so producers stay free of the gateway client.
package diag

import (
	"fmt"
	"sync"
)

// Warning is one problem worth telling the user that does not stop the build.
type Warning struct {
	Rule   string // a short CamelCase name, e.g. "TestsWithoutChunk"; shown before the message
	File   string // path inside the build context, e.g. "tests/lang-php.yaml"; "" when none
	Line   int    // 1-based; 0 when there is no line
	Msg    string // what is wrong and what to do
	Data   []byte // the whole file, so buildctl and buildx can show a snippet; nil if none
	Lang   string // "YAML" or "Dockerfile", for the snippet
	Detail string // optional longer description (a lint rule's)
	URL    string // optional documentation link
}

// String is the one-line form, also the text sent to BuildKit: "Rule: file:line: message".
func (w Warning) String() string {
	loc := w.File
	if loc != "" && w.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, w.Line)
	}
	s := w.Msg
	if loc != "" {
		s = loc + ": " + s
	}
	if w.Rule != "" {
		s = w.Rule + ": " + s
	}
	return s
}

// Sink receives warnings. It must be safe for concurrent use.
type Sink func(Warning)

// Collector is a Sink that keeps what it receives, e.g. for a test or for `--call check`.
type Collector struct {
	mu       sync.Mutex
	warnings []Warning
}

// Add records w. It is a Sink.
func (c *Collector) Add(w Warning) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.warnings = append(c.warnings, w)
}

// Warnings returns what was added so far, in order.
func (c *Collector) Warnings() []Warning {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Warning(nil), c.warnings...)
}
