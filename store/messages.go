package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"
)

// The kinds of entry a room's history holds.
const (
	KindPost  = "post"
	KindJoin  = "join"
	KindLeave = "leave"
)

// Message is one entry of a room's history: a post, or a member joining or
// leaving. Ids grow with each entry across all rooms.
type Message struct {
	ID        int64
	RoomID    int64
	UserID    int64
	Author    string
	Kind      string
	Text      string
	CreatedAt time.Time
	// ClientID is the id the sender's page gave a post, or "".
	ClientID string
}

// CreatePost stores a post by a member of the room. A user who is not a
// member gives ErrNotMember, an unknown room ErrNotFound. A clientID the
// user has given a post before stores nothing: it returns that post, with
// created false.
func (s *Store) CreatePost(ctx context.Context, roomID, userID int64, text, clientID string) (msg Message, created bool, err error) {
	err = s.WriteBatch(ctx, func(b *Batch) error {
		msg, created, err = b.CreatePost(ctx, roomID, userID, text, clientID)
		return err
	})
	return msg, created, err
}

func (s *Store) createPost(ctx context.Context, tx *sql.Tx, roomID, userID int64, text, clientID string) (Message, bool, error) {
	if clientID != "" {
		rows, err := tx.StmtContext(ctx, s.stmts.findClientID).QueryContext(ctx, userID, clientID)
		if err != nil {
			return Message{}, false, fmt.Errorf("store: create post: %w", err)
		}
		msgs, err := scanMessages(rows)
		if err != nil {
			return Message{}, false, err
		}
		if len(msgs) > 0 {
			return msgs[0], false, nil
		}
	}
	now := s.now().UnixMilli()
	res, err := tx.StmtContext(ctx, s.stmts.insertPost).ExecContext(ctx, roomID, userID, text, now, clientID)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if err := roomExists(ctx, tx, roomID); err != nil {
			return Message{}, false, err
		}
		return Message{}, false, fmt.Errorf("store: create post in room %d: %w", roomID, ErrNotMember)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	author, err := s.username(ctx, tx, userID)
	if err != nil {
		return Message{}, false, err
	}
	msg := Message{ID: id, RoomID: roomID, UserID: userID, Author: author, Kind: KindPost, Text: text, CreatedAt: fromMillis(now), ClientID: clientID}
	return msg, true, nil
}

func (s *Store) insertEntry(ctx context.Context, tx *sql.Tx, roomID, userID int64, kind, text, clientID string) (Message, error) {
	now := s.now().UnixMilli()
	var m Message
	var created int64
	err := tx.StmtContext(ctx, s.stmts.insertEntry).QueryRowContext(ctx, roomID, userID, kind, text, now, clientID).Scan(&m.ID, &m.RoomID, &m.UserID, &m.Author, &m.Kind, &m.Text, &created, &m.ClientID)
	if err != nil {
		return Message{}, fmt.Errorf("store: insert %s entry: %w", kind, err)
	}
	m.CreatedAt = fromMillis(created)
	return m, nil
}

// username is the name of a user, from the cache or the database.
func (s *Store) username(ctx context.Context, tx *sql.Tx, userID int64) (string, error) {
	if name, ok := s.usernames.Load(userID); ok {
		return name.(string), nil
	}
	var name string
	if err := tx.StmtContext(ctx, s.stmts.username).QueryRowContext(ctx, userID).Scan(&name); err != nil {
		return "", fmt.Errorf("store: find user %d: %w", userID, err)
	}
	s.usernames.Store(userID, name)
	return name, nil
}

const selectMessages = `SELECT m.id, m.room_id, m.user_id, u.username, m.kind, m.body, m.created_at, COALESCE(m.client_id, '')
	FROM messages m JOIN users u ON u.id = m.user_id `

// ListLatestMessages returns the room's latest entries, up to limit, oldest
// first.
func (s *Store) ListLatestMessages(ctx context.Context, roomID int64, limit int) ([]Message, error) {
	msgs, err := s.listMessages(ctx, s.read, selectMessages+"WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?", roomID, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// ListMessagesBefore returns up to limit entries of the room older than the
// entry beforeID, oldest first.
func (s *Store) ListMessagesBefore(ctx context.Context, roomID, beforeID int64, limit int) ([]Message, error) {
	msgs, err := s.listMessages(ctx, s.read, selectMessages+"WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?", roomID, beforeID, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// ListMessagesAfter returns up to limit entries of the room newer than the
// entry afterID, oldest first.
func (s *Store) ListMessagesAfter(ctx context.Context, roomID, afterID int64, limit int) ([]Message, error) {
	return s.listMessages(ctx, s.read, selectMessages+"WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ?", roomID, afterID, limit)
}

func (s *Store) listMessages(ctx context.Context, q querier, query string, args ...any) ([]Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	return scanMessages(rows)
}

func scanMessages(rows *sql.Rows) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var created int64
		if err := rows.Scan(&m.ID, &m.RoomID, &m.UserID, &m.Author, &m.Kind, &m.Text, &created, &m.ClientID); err != nil {
			return nil, fmt.Errorf("store: list messages: %w", err)
		}
		m.CreatedAt = fromMillis(created)
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	return out, nil
}
