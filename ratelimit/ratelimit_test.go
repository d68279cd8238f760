package ratelimit

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Now()
	l := NewMemory[string](3, time.Minute)
	for i := range 3 {
		if w := l.Take("k", now.Add(time.Duration(i)*time.Second)); w != 0 {
			t.Fatalf("event %d: wait %v", i, w)
		}
	}
	if w := l.Take("k", now.Add(3*time.Second)); w != 57*time.Second {
		t.Errorf("wait %v, want 57s (until the first is a minute old)", w)
	}
	if n := l.Count("k", now.Add(3*time.Second)); n != 3 {
		t.Errorf("a refused event was recorded: %d events", n)
	}
	if w := l.Take("other", now); w != 0 {
		t.Errorf("other key waits %v", w)
	}
	if w := l.Take("k", now.Add(time.Minute)); w != 0 {
		t.Errorf("after the window: %v", w)
	}
	// Undo gives back the event taken at that time, and that one alone.
	l.Undo("k", now.Add(2*time.Second))
	if n := l.Count("k", now.Add(time.Minute)); n != 2 {
		t.Errorf("after undo: %d events, want 2", n)
	}
	l.Undo("k", now.Add(2*time.Second))
	if n := l.Count("k", now.Add(time.Minute)); n != 2 {
		t.Errorf("a second undo of one event: %d events, want 2", n)
	}
	a := NewMemory[int64](2, time.Second)
	if !a.Allow(1, now) || !a.Allow(1, now) || a.Allow(1, now) {
		t.Error("Allow lets more than the limit through")
	}
	if !a.Allow(1, now.Add(time.Second)) {
		t.Error("Allow after the window")
	}
	l.Reset("k")
	if n := l.Count("k", now.Add(time.Minute)); n != 0 {
		t.Errorf("after reset: %d", n)
	}
	off := NewMemory[int64](0, time.Second)
	for range 100 {
		if !off.Allow(1, now) {
			t.Fatal("a limit of 0 refused")
		}
	}
}

// TestRateLimiterBurst: of many takers at once, exactly the limit get
// through.
func TestRateLimiterBurst(t *testing.T) {
	l := NewMemory[string](7, time.Minute)
	now := time.Now()
	var got atomic.Int32
	var wg sync.WaitGroup
	for range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.Take("k", now) == 0 {
				got.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := got.Load(); n != 7 {
		t.Errorf("%d of 200 taken, want 7", n)
	}
}
