package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/store"
)

func TestRateLimitShared(t *testing.T) {
	ctx := context.Background()
	s, url := openStore(t)
	if !testdb.Postgres() {
		if _, err := s.RateLimit(ctx, "k", time.Now(), time.Second, 1, store.RateAllow); !errors.Is(err, store.ErrNoSharedLimits) {
			t.Fatalf("SQLite: %v, want ErrNoSharedLimits", err)
		}
		return
	}
	// A second instance on the same database.
	s2, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	t0 := time.UnixMilli(1_800_000_000_000)
	w := 10 * time.Second
	allow := func(s *store.Store, at time.Duration) time.Duration {
		t.Helper()
		wait, err := s.RateLimit(ctx, "post:1", t0.Add(at), w, 3, store.RateAllow)
		if err != nil {
			t.Fatal(err)
		}
		return wait
	}
	// Three events in the window, from either instance; the fourth waits
	// until the first is 10 s old.
	for i, st := range []*store.Store{s, s2, s} {
		if wait := allow(st, time.Duration(i)*time.Second); wait != 0 {
			t.Fatalf("event %d refused: %v", i, wait)
		}
	}
	if wait := allow(s2, 4*time.Second); wait != 6*time.Second {
		t.Errorf("fourth event: wait %v, want 6s", wait)
	}
	if wait := allow(s, 10*time.Second); wait != 0 {
		t.Errorf("once the first is 10 s old: wait %v", wait)
	}
	// Another key is another log.
	if wait, _ := s.RateLimit(ctx, "post:2", t0, w, 3, store.RateAllow); wait != 0 {
		t.Errorf("another key: %v", wait)
	}
	// add records over the limit; wait records nothing; reset forgets.
	for range 5 {
		s.RateLimit(ctx, "login:ada", t0, w, 2, store.RateAdd)
	}
	if wait, _ := s2.RateLimit(ctx, "login:ada", t0.Add(time.Second), w, 2, store.RateWait); wait != 9*time.Second {
		t.Errorf("after failures: wait %v, want 9s", wait)
	}
	if wait, _ := s2.RateLimit(ctx, "login:ada", t0.Add(11*time.Second), w, 2, store.RateWait); wait != 0 {
		t.Errorf("after the window: wait %v", wait)
	}
	s.RateLimit(ctx, "login:ada", t0, w, 2, store.RateAdd)
	s.RateLimit(ctx, "login:ada", t0, w, 2, store.RateAdd)
	s2.RateLimit(ctx, "login:ada", t0, w, 2, store.RateReset)
	if wait, _ := s.RateLimit(ctx, "login:ada", t0, w, 2, store.RateWait); wait != 0 {
		t.Errorf("after reset: wait %v", wait)
	}

	// undo gives back one event recorded at that time; count tells how
	// many the window holds.
	count := func(st *store.Store, at time.Duration) int {
		t.Helper()
		n, err := st.CountRateEvents(ctx, "room:1", t0.Add(at), w)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	for i := range 3 {
		s.RateLimit(ctx, "room:1", t0.Add(time.Duration(i)*time.Second), w, 3, store.RateAllow)
	}
	if n := count(s2, 3*time.Second); n != 3 {
		t.Errorf("count %d, want 3", n)
	}
	if wait, err := s2.RateLimit(ctx, "room:1", t0.Add(time.Second), w, 3, store.RateUndo); err != nil || wait != 0 {
		t.Errorf("undo: %v %v", wait, err)
	}
	s2.RateLimit(ctx, "room:1", t0.Add(time.Second), w, 3, store.RateUndo)
	if n := count(s, 3*time.Second); n != 2 {
		t.Errorf("after undo: count %d, want 2 (one event given back, once)", n)
	}
	if wait := func() time.Duration {
		wait, _ := s.RateLimit(ctx, "room:1", t0.Add(3*time.Second), w, 3, store.RateAllow)
		return wait
	}(); wait != 0 {
		t.Errorf("the place given back was not free: wait %v", wait)
	}
	if n := count(s, 12*time.Second+time.Millisecond); n != 1 {
		t.Errorf("count after the window: %d, want 1", n)
	}

	// Many at once from two instances: exactly the limit get through.
	var allowed atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := []*store.Store{s, s2}[i%2]
			wait, err := st.RateLimit(ctx, "burst", t0, w, 7, store.RateAllow)
			if err != nil {
				t.Error(err)
			}
			if wait == 0 {
				allowed.Add(1)
			}
		}()
	}
	wg.Wait()
	if n := allowed.Load(); n != 7 {
		t.Errorf("%d of 40 concurrent events allowed, want 7", n)
	}
	if err := s.ForgetRateLimits(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
}
