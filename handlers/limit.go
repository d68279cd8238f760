package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"chat/store"
)

// rateLimiter allows each key at most limit events in any window: a sliding
// log of the last limit event times per key.
type rateLimiter[K comparable] struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	hits  map[K][]time.Time
	calls int
}

func newRateLimiter[K comparable](limit int, window time.Duration) *rateLimiter[K] {
	return &rateLimiter[K]{limit: limit, window: window, hits: make(map[K][]time.Time)}
}

// Allow records an event for key and reports whether it is within the
// limit; an event over the limit is not recorded. A limit of 0 or less
// allows everything.
func (l *rateLimiter[K]) Allow(key K, now time.Time) bool {
	if l.limit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.liveLocked(key, now)
	if len(log) >= l.limit {
		return false
	}
	l.hits[key] = append(log, now)
	return true
}

// Wait reports how long until key may have another event: 0 when it may
// now. It records nothing.
func (l *rateLimiter[K]) Wait(key K, now time.Time) time.Duration {
	if l.limit <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.liveLocked(key, now)
	if len(log) < l.limit {
		return 0
	}
	return log[len(log)-l.limit].Add(l.window).Sub(now)
}

// Add records an event for key, over the limit or not (the log keeps only
// the last limit events).
func (l *rateLimiter[K]) Add(key K, now time.Time) {
	if l.limit <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := append(l.liveLocked(key, now), now)
	if len(log) > l.limit {
		log = log[len(log)-l.limit:]
	}
	l.hits[key] = log
}

// Reset forgets the events of key.
func (l *rateLimiter[K]) Reset(key K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

// liveLocked drops the key's events older than the window, and now and
// then forgets idle keys so that the map holds only recent ones.
func (l *rateLimiter[K]) liveLocked(key K, now time.Time) []time.Time {
	l.calls++
	if l.calls%4096 == 0 {
		for k, log := range l.hits {
			if len(log) == 0 || now.Sub(log[len(log)-1]) >= l.window {
				delete(l.hits, k)
			}
		}
	}
	log := l.hits[key]
	cut := 0
	for cut < len(log) && now.Sub(log[cut]) >= l.window {
		cut++
	}
	return log[cut:]
}

// limiter is a rate limit of some key: kept in this process's memory
// (rateLimiter), or in the database every instance shares
// (sharedLimiter).
type limiter[K comparable] interface {
	Allow(key K, now time.Time) bool
	Wait(key K, now time.Time) time.Duration
	Add(key K, now time.Time)
	Reset(key K)
}

// sharedLimiter keeps its sliding logs in the store, so that instances
// behind one address count one user's events together. If the database
// cannot answer, it allows: the write that follows fails on its own.
type sharedLimiter[K comparable] struct {
	store  *store.Store
	name   string
	limit  int
	window time.Duration
	log    *slog.Logger
	calls  atomic.Int64
}

func newLimiter[K comparable](s *store.Store, name string, limit int, window time.Duration, log *slog.Logger) limiter[K] {
	if s.Postgres() {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		return &sharedLimiter[K]{store: s, name: name, limit: limit, window: window, log: log}
	}
	return newRateLimiter[K](limit, window)
}

func (l *sharedLimiter[K]) do(key K, now time.Time, mode string) time.Duration {
	if l.limit <= 0 {
		return 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if l.calls.Add(1)%4096 == 0 {
		// Now and then, forget the keys idle for long.
		if err := l.store.ForgetRateLimits(ctx, now.Add(-l.window-time.Hour)); err != nil {
			l.log.Error("rate limits not pruned", "err", err)
		}
	}
	wait, err := l.store.RateLimit(ctx, l.name+":"+fmt.Sprint(key), now, l.window, l.limit, mode)
	if err != nil {
		l.log.Error("rate limit not read", "limit", l.name, "err", err)
		return 0
	}
	return wait
}

func (l *sharedLimiter[K]) Allow(key K, now time.Time) bool {
	return l.do(key, now, store.RateAllow) == 0
}

func (l *sharedLimiter[K]) Wait(key K, now time.Time) time.Duration {
	return l.do(key, now, store.RateWait)
}

func (l *sharedLimiter[K]) Add(key K, now time.Time) { l.do(key, now, store.RateAdd) }

func (l *sharedLimiter[K]) Reset(key K) { l.do(key, time.Now(), store.RateReset) }
