// Package ratelimit counts events per key in a sliding window: in this
// process's memory, or in the database every instance shares.
package ratelimit

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"chat/store"
)

// A limit holds under concurrency only if the slot is taken before the work
// it guards: Take checks and records in one step (under a lock here, on a
// locked row on PostgreSQL), so that of N requests arriving together
// exactly the limit get through, and whatever did not happen after all is
// given back with Undo. There is deliberately no "check now, record later".

// Memory allows each key at most limit events in any window: a sliding
// log of the last limit event times per key, in this process's memory.
type Memory[K comparable] struct {
	limit  int
	window time.Duration

	mu    sync.Mutex
	hits  map[K][]time.Time
	calls int
}

// NewMemory makes a limit of limit events per window; 0 allows everything.
func NewMemory[K comparable](limit int, window time.Duration) *Memory[K] {
	return &Memory[K]{limit: limit, window: window, hits: make(map[K][]time.Time)}
}

// Take records an event for key at now if the key may have one, and
// returns 0; otherwise it records nothing and returns how long until the
// key may. A limit of 0 or less allows everything.
func (l *Memory[K]) Take(key K, now time.Time) time.Duration {
	if l.limit <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.liveLocked(key, now)
	if len(log) >= l.limit {
		return log[len(log)-l.limit].Add(l.window).Sub(now)
	}
	l.hits[key] = append(log, now)
	return 0
}

// Allow is Take that tells only whether the event was recorded.
func (l *Memory[K]) Allow(key K, now time.Time) bool { return l.Take(key, now) == 0 }

// Undo gives back one event that Take recorded for key at the time at.
func (l *Memory[K]) Undo(key K, at time.Time) {
	if l.limit <= 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	log := l.hits[key]
	for i := len(log) - 1; i >= 0; i-- {
		if log[i].Equal(at) {
			l.hits[key] = append(log[:i:i], log[i+1:]...)
			return
		}
	}
}

// Count tells how many events key has in the window up to now.
func (l *Memory[K]) Count(key K, now time.Time) int {
	if l.limit <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.liveLocked(key, now))
}

// Reset forgets the events of key.
func (l *Memory[K]) Reset(key K) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.hits, key)
}

// liveLocked drops the key's events older than the window, and now and
// then forgets idle keys so that the map holds only recent ones.
func (l *Memory[K]) liveLocked(key K, now time.Time) []time.Time {
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

// Limiter is a rate limit of some key: kept in this process's memory
// (Memory), or in the database every instance shares (shared).
type Limiter[K comparable] interface {
	Take(key K, now time.Time) time.Duration
	Allow(key K, now time.Time) bool
	Undo(key K, at time.Time)
	Count(key K, now time.Time) int
	Reset(key K)
}

// shared keeps its sliding logs in the store, so that instances
// behind one address count one user's events together. If the database
// cannot answer, it allows: the write that follows fails on its own.
type shared[K comparable] struct {
	store  *store.Store
	name   string
	limit  int
	window time.Duration
	log    *slog.Logger
	calls  atomic.Int64
}

// New makes the limit called name of limit events per window: shared by
// every instance on PostgreSQL, in memory on SQLite (one instance).
func New[K comparable](s *store.Store, name string, limit int, window time.Duration, log *slog.Logger) Limiter[K] {
	if s.Postgres() {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		return &shared[K]{store: s, name: name, limit: limit, window: window, log: log}
	}
	return NewMemory[K](limit, window)
}

// call runs one question to the store, now and then pruning first; it
// returns false, having logged why, if the database cannot answer.
func (l *shared[K]) call(now time.Time, f func(ctx context.Context, key string) error, key K) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if l.calls.Add(1)%4096 == 0 {
		// Now and then, forget the keys idle for long.
		if err := l.store.ForgetRateLimits(ctx, now.Add(-l.window-time.Hour)); err != nil {
			l.log.Error("rate limits not pruned", "err", err)
		}
	}
	if err := f(ctx, l.name+":"+fmt.Sprint(key)); err != nil {
		l.log.Error("rate limit not read", "limit", l.name, "err", err)
		return false
	}
	return true
}

func (l *shared[K]) do(key K, now time.Time, mode string) time.Duration {
	if l.limit <= 0 {
		return 0
	}
	var wait time.Duration
	l.call(now, func(ctx context.Context, k string) (err error) {
		wait, err = l.store.RateLimit(ctx, k, now, l.window, l.limit, mode)
		return err
	}, key)
	return wait
}

func (l *shared[K]) Take(key K, now time.Time) time.Duration {
	return l.do(key, now, store.RateAllow)
}

func (l *shared[K]) Allow(key K, now time.Time) bool { return l.Take(key, now) == 0 }

func (l *shared[K]) Undo(key K, at time.Time) { l.do(key, at, store.RateUndo) }

func (l *shared[K]) Count(key K, now time.Time) int {
	if l.limit <= 0 {
		return 0
	}
	var n int
	l.call(now, func(ctx context.Context, k string) (err error) {
		n, err = l.store.CountRateEvents(ctx, k, now, l.window)
		return err
	}, key)
	return n
}

func (l *shared[K]) Reset(key K) { l.do(key, time.Now(), store.RateReset) }
