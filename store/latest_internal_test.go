package store

import (
	"strings"
	"testing"
)

// TestLatestEntriesBound: the kept lists are bounded by their bytes, not
// their number: lists of long posts push others out, one too large for a
// quarter of the bound is not kept, and a list kept again replaces its
// own bytes.
func TestLatestEntriesBound(t *testing.T) {
	var l latestEntries
	long := strings.Repeat("x", 1<<20)
	for i := range 40 {
		l.keep(latestKey{roomID: int64(i), limit: 51}, latestList{msgs: []Message{{Text: long}}})
		if l.bytes > latestBytesMax {
			t.Fatalf("after %d lists of 1 MiB: %d bytes kept, bound %d", i+1, l.bytes, latestBytesMax)
		}
	}
	if n := len(l.m); n < 10 || n > 16 {
		t.Errorf("%d lists of 1 MiB kept within %d bytes", n, latestBytesMax)
	}
	sum := 0
	for _, kept := range l.m {
		sum += kept.size
	}
	if sum != l.bytes {
		t.Errorf("kept lists weigh %d bytes, counted %d", sum, l.bytes)
	}
	before := l.bytes
	kept1 := messageSize(Message{Text: long})
	k := latestKey{roomID: 39, limit: 51}
	l.keep(k, latestList{msgs: []Message{{Text: long}}})
	if l.bytes != before || len(l.m) != before/kept1 {
		t.Errorf("the same list kept again: %d bytes in %d lists, was %d", l.bytes, len(l.m), before)
	}
	sum = 0
	for _, kept := range l.m {
		sum += kept.size
	}
	if sum != l.bytes {
		t.Errorf("after a list kept again, kept lists weigh %d bytes, counted %d", sum, l.bytes)
	}
	l.keep(latestKey{roomID: 99, limit: 51}, latestList{msgs: []Message{{Text: strings.Repeat("x", latestBytesMax/4)}}})
	if _, ok := l.m[latestKey{roomID: 99, limit: 51}]; ok {
		t.Error("a list over a quarter of the bound was kept")
	}
}
