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
// Bound: latestBytesMax bytes of entries, as messageSize counts them (a
// page's 51 entries of long posts with many reactions weigh some 1 MB);
// past it, lists are dropped, any ones, until the new one fits; a list
// over a quarter of the bound is not kept.
type latestEntries struct {
	mu    sync.Mutex
	m     map[latestKey]latestList
	bytes int
}

type latestKey struct {
	roomID int64
	limit  int
}

type latestList struct {
	newest, rev int64
	msgs        []Message
	size        int
}

const latestBytesMax = 16 << 20

// messageSize is about what a kept entry holds: its strings, and a fixed
// share for its fields and slices' headers.
func messageSize(m Message) int {
	n := 256 + len(m.Author) + len(m.Kind) + len(m.Text) + len(m.ClientID)
	for _, mn := range m.Mentions {
		n += 48 + len(mn.Username)
	}
	for _, b := range m.Boosts {
		n += 48 + len(b.Emoji)
		for _, u := range b.Users {
			n += 16 + len(u)
		}
	}
	for _, f := range m.Files {
		n += 200 + len(f.Name) + len(f.Type) + len(f.PreviewType) + len(f.ETag)
	}
	if c := m.Card; c != nil {
		n += 64 + len(c.URL) + len(c.Title) + len(c.Description) + len(c.Site)
	}
	return n
}

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
	s.latest.keep(k, latestList{newest: newest, rev: rev, msgs: slices.Clone(msgs)})
	return msgs, nil
}

// keep keeps the list in place of the key's, within the bound.
func (l *latestEntries) keep(k latestKey, list latestList) {
	for _, m := range list.msgs {
		list.size += messageSize(m)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = make(map[latestKey]latestList)
	}
	if old, ok := l.m[k]; ok {
		l.bytes -= old.size
		delete(l.m, k)
	}
	if list.size > latestBytesMax/4 {
		return
	}
	for old, kept := range l.m {
		if l.bytes+list.size <= latestBytesMax {
			break
		}
		l.bytes -= kept.size
		delete(l.m, old)
	}
	l.m[k] = list
	l.bytes += list.size
}
