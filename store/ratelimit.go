package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The ways RateLimit looks at a key's log.
const (
	RateAllow = "allow" // record an event if the key may have one now
	RateUndo  = "undo"  // give back one event recorded at now
	RateAdd   = "add"   // record an event, allowed or not
	RateWait  = "wait"  // record nothing
	RateReset = "reset" // forget the key's events
)

// ErrNoSharedLimits: SQLite serves one instance, which keeps its limits in
// memory.
var ErrNoSharedLimits = errors.New("store: rate limits are shared on PostgreSQL alone")

// RateLimit keeps a sliding log of the latest limit events of key over
// window, shared by every instance on the database, and returns how long
// until key may have another event (0: now); mode says what it records.
// With RateAllow, 0 means the event was allowed and recorded.
func (s *Store) RateLimit(ctx context.Context, key string, now time.Time, window time.Duration, limit int, mode string) (time.Duration, error) {
	if !s.write.pg {
		return 0, ErrNoSharedLimits
	}
	var wait int64
	err := s.write.QueryRowContext(ctx, "SELECT chat_rate(?, ?, ?, ?, ?)", key, now.UnixMilli(), window.Milliseconds(), limit, mode).Scan(&wait)
	if err != nil {
		return 0, fmt.Errorf("store: rate limit: %w", err)
	}
	return time.Duration(wait) * time.Millisecond, nil
}

// CountRateEvents tells how many events key has in the window up to now.
func (s *Store) CountRateEvents(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	if !s.write.pg {
		return 0, ErrNoSharedLimits
	}
	var n int
	err := s.write.QueryRowContext(ctx, "SELECT chat_rate(?, ?, ?, 1, 'count')", key, now.UnixMilli(), window.Milliseconds()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("store: count rate events: %w", err)
	}
	return n, nil
}

// ForgetRateLimits drops the logs untouched since before.
func (s *Store) ForgetRateLimits(ctx context.Context, before time.Time) error {
	if !s.write.pg {
		return nil
	}
	if _, err := s.write.ExecContext(ctx, "DELETE FROM rate_logs WHERE updated_at < ?", before.UnixMilli()); err != nil {
		return fmt.Errorf("store: forget rate limits: %w", err)
	}
	return nil
}
