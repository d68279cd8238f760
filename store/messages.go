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
}

// CreatePost stores a post by a member of the room. A user who is not a
// member gives ErrNotMember, an unknown room ErrNotFound.
func (s *Store) CreatePost(ctx context.Context, roomID, userID int64, text string) (Message, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Message{}, fmt.Errorf("store: create post: %w", err)
	}
	defer tx.Rollback()
	var member int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&member); err != nil {
		return Message{}, fmt.Errorf("store: create post: %w", err)
	}
	if member == 0 {
		if err := roomExists(ctx, tx, roomID); err != nil {
			return Message{}, err
		}
		return Message{}, fmt.Errorf("store: create post in room %d: %w", roomID, ErrNotMember)
	}
	msg, err := s.insertEntry(ctx, tx, roomID, userID, KindPost, text)
	if err != nil {
		return Message{}, err
	}
	if err := tx.Commit(); err != nil {
		return Message{}, fmt.Errorf("store: create post: %w", err)
	}
	return msg, nil
}

func (s *Store) insertEntry(ctx context.Context, tx *sql.Tx, roomID, userID int64, kind, text string) (Message, error) {
	now := s.now().UnixMilli()
	var m Message
	var created int64
	err := tx.QueryRowContext(ctx, `INSERT INTO messages (room_id, user_id, kind, body, created_at) VALUES (?, ?, ?, ?, ?)
		RETURNING id, room_id, user_id, (SELECT username FROM users WHERE id = user_id), kind, body, created_at`,
		roomID, userID, kind, text, now).Scan(&m.ID, &m.RoomID, &m.UserID, &m.Author, &m.Kind, &m.Text, &created)
	if err != nil {
		return Message{}, fmt.Errorf("store: insert %s entry: %w", kind, err)
	}
	m.CreatedAt = fromMillis(created)
	return m, nil
}

const selectMessages = `SELECT m.id, m.room_id, m.user_id, u.username, m.kind, m.body, m.created_at
	FROM messages m JOIN users u ON u.id = m.user_id `

// ListLatestMessages returns the room's latest entries, up to limit, oldest
// first.
func (s *Store) ListLatestMessages(ctx context.Context, roomID int64, limit int) ([]Message, error) {
	msgs, err := s.listMessages(ctx, selectMessages+"WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?", roomID, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// ListMessagesBefore returns up to limit entries of the room older than the
// entry beforeID, oldest first.
func (s *Store) ListMessagesBefore(ctx context.Context, roomID, beforeID int64, limit int) ([]Message, error) {
	msgs, err := s.listMessages(ctx, selectMessages+"WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?", roomID, beforeID, limit)
	slices.Reverse(msgs)
	return msgs, err
}

// ListMessagesAfter returns up to limit entries of the room newer than the
// entry afterID, oldest first.
func (s *Store) ListMessagesAfter(ctx context.Context, roomID, afterID int64, limit int) ([]Message, error) {
	return s.listMessages(ctx, selectMessages+"WHERE m.room_id = ? AND m.id > ? ORDER BY m.id LIMIT ?", roomID, afterID, limit)
}

func (s *Store) listMessages(ctx context.Context, query string, args ...any) ([]Message, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		var created int64
		if err := rows.Scan(&m.ID, &m.RoomID, &m.UserID, &m.Author, &m.Kind, &m.Text, &created); err != nil {
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
