// Package testutil holds what the tests of every package share: a wait on
// a condition, and a buffer that collects what a logger writes.
package testutil

import (
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Eventually checks cond until it holds, often, for at most timeout, and
// fails the test when it never does. A timeout is a bound for a loaded
// machine, not an expected duration: a wait that is met returns at once.
func Eventually(t testing.TB, timeout time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	if !Within(timeout, cond) {
		t.Fatalf("after %v: "+format, append([]any{timeout}, args...)...)
	}
}

// Within reports whether cond holds within timeout, checking it often; for
// the tests that go on (or report more) when it does not.
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for wait := time.Millisecond; ; {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait) // a poll interval, not a stand-in for an event
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}

// LogBuffer collects what a logger (or a process's output) writes, safe
// for concurrent writers. When made with a pattern, it also hands out the
// first submatch of the first write that matches it (a server's address
// in the line that says it listens).
type LogBuffer struct {
	mu    sync.Mutex
	buf   strings.Builder
	match *regexp.Regexp
	found chan string
}

// NewLogBuffer returns a buffer; match may be nil.
func NewLogBuffer(match *regexp.Regexp) *LogBuffer {
	return &LogBuffer{match: match, found: make(chan string, 1)}
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.match != nil {
		if m := b.match.FindSubmatch(p); m != nil {
			select {
			case b.found <- string(m[len(m)-1]):
			default:
			}
		}
	}
	return b.buf.Write(p)
}

// Found delivers the first submatch of the pattern, once.
func (b *LogBuffer) Found() <-chan string { return b.found }

// String is everything written so far.
func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
