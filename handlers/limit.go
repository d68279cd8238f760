package handlers

import (
	"sync"
	"time"
)

// rateLimiter allows each key at most limit events in any window: a sliding
// log of the last limit event times per key.
type rateLimiter struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	hits  map[int64][]time.Time
	calls int
}

func newRateLimiter(limit int, window time.Duration) *rateLimiter {
	return &rateLimiter{limit: limit, window: window, hits: make(map[int64][]time.Time)}
}

// Allow records an event for key and reports whether it is within the
// limit. A limit of 0 or less allows everything.
func (l *rateLimiter) Allow(key int64, now time.Time) bool {
	if l == nil || l.limit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%4096 == 0 {
		l.sweepLocked(now)
	}
	log := l.hits[key]
	cut := 0
	for cut < len(log) && now.Sub(log[cut]) >= l.window {
		cut++
	}
	log = log[cut:]
	if len(log) >= l.limit {
		l.hits[key] = log
		return false
	}
	l.hits[key] = append(log, now)
	return true
}

// sweepLocked forgets keys with no event inside the window, so that the
// map holds only recent posters.
func (l *rateLimiter) sweepLocked(now time.Time) {
	for k, log := range l.hits {
		if len(log) == 0 || now.Sub(log[len(log)-1]) >= l.window {
			delete(l.hits, k)
		}
	}
}
