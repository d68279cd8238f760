package store

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// latestEntries keeps, per room and limit, the entries ListLatestMessages
// read last, with the room's newest entry id and change counter (rev) as
// they were before that read.
//
// What invalidates a list: every change of a room's entries makes a new
// entry (a post, a join or a leave, a rename, a change of access) or
// bumps the room's change counter (an edit, a deletion, a boost, a card
// set or removed: bump), on every engine, and a room's ids and counters
// only grow (on PostgreSQL, lockRoom keeps them in commit order). So
// each call reads the two first, from the database the instances share,
// and a kept list is given only if both are what they were when it was
// read: any change since, made by this instance or another, gives a new
// read. Reading them before the entries errs the safe way: a change that
// lands in between is in the list but not in the pair, and the next call
// reads again. What an entry shows that is not the room's (its author's
// name) never changes.
//
// Bound: latestRoomsMax lists (of the page's 51 entries, about 25 KB
// each: some 13 MB at most); past it, any one is dropped.
type latestEntries struct {
	mu sync.Mutex
	m  map[latestKey]latestList
}

type latestKey struct {
	roomID int64
	limit  int
}

type latestList struct {
	newest, rev int64
	msgs        []Message
}

const latestRoomsMax = 512

// ListLatestMessages returns the room's latest entries, up to limit, oldest
// first. The entries' own slices (boosts, mentions, files) may be shared
// with other callers: they are read, never changed.
func (s *Store) ListLatestMessages(ctx context.Context, roomID int64, limit int) ([]Message, error) {
	var newest, rev int64
	err := s.read.QueryRowContext(ctx, `SELECT COALESCE((SELECT id FROM messages WHERE room_id = ?1 ORDER BY id DESC LIMIT 1), 0),
		COALESCE((SELECT rev FROM messages WHERE room_id = ?1 AND rev > 0 ORDER BY rev DESC LIMIT 1), 0)`, roomID).Scan(&newest, &rev)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	k := latestKey{roomID, limit}
	s.latest.mu.Lock()
	kept, ok := s.latest.m[k]
	s.latest.mu.Unlock()
	if ok && kept.newest == newest && kept.rev == rev {
		return slices.Clone(kept.msgs), nil
	}
	msgs, err := s.listMessages(ctx, s.read, selectMessages+"WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?", roomID, limit)
	if err != nil {
		return nil, err
	}
	slices.Reverse(msgs)
	s.latest.mu.Lock()
	defer s.latest.mu.Unlock()
	if s.latest.m == nil {
		s.latest.m = make(map[latestKey]latestList)
	}
	if _, ok := s.latest.m[k]; !ok && len(s.latest.m) >= latestRoomsMax {
		for old := range s.latest.m {
			delete(s.latest.m, old)
			break
		}
	}
	s.latest.m[k] = latestList{newest: newest, rev: rev, msgs: slices.Clone(msgs)}
	return msgs, nil
}
