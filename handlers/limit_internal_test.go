package handlers

import (
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Now()
	l := newRateLimiter[string](3, time.Minute)
	for i := range 3 {
		if w := l.Wait("k", now); w != 0 {
			t.Fatalf("event %d: wait %v", i, w)
		}
		l.Add("k", now)
	}
	if w := l.Wait("k", now); w != time.Minute {
		t.Errorf("wait %v, want 1m", w)
	}
	if w := l.Wait("other", now); w != 0 {
		t.Errorf("other key waits %v", w)
	}
	if w := l.Wait("k", now.Add(time.Minute)); w != 0 {
		t.Errorf("after the window: %v", w)
	}
	a := newRateLimiter[int64](2, time.Second)
	if !a.Allow(1, now) || !a.Allow(1, now) || a.Allow(1, now) {
		t.Error("Allow lets more than the limit through")
	}
	if !a.Allow(1, now.Add(time.Second)) {
		t.Error("Allow after the window")
	}
	l.Reset("k")
	if w := l.Wait("k", now); w != 0 {
		t.Errorf("after reset: %v", w)
	}
	off := newRateLimiter[int64](0, time.Second)
	for range 100 {
		if !off.Allow(1, now) {
			t.Fatal("a limit of 0 refused")
		}
	}
}
