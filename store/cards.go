package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
)

// Card is the preview of a post's first link: what the page says of
// itself, and its picture (a file of kind 'card', re-encoded by the
// chat), if any.
type Card struct {
	URL, Title, Description, Site string
	ImageID                       int64 // 0: no picture
	ImageWidth, ImageHeight       int
}

// PutCardImage stores the picture of a post's card (re-encoded and small
// already, by the caller) as a file of kind 'card' held by the post. A
// post that does not exist, or is deleted, gives ErrNotFound. The picture
// is shown once SetCard names it.
func (s *Store) PutCardImage(ctx context.Context, msgID int64, data []byte, typ string, w, h int) (File, error) {
	if len(data) == 0 {
		return File{}, fmt.Errorf("store: put card image of message %d: %w", msgID, ErrEmpty)
	}
	if typ == "" || !storable(typ) {
		return File{}, fmt.Errorf("store: put card image of message %d: no type: %w", msgID, ErrInvalid)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return File{}, fmt.Errorf("store: put card image of message %d: %w", msgID, err)
	}
	defer tx.Rollback()
	var f File
	err = tx.QueryRowContext(ctx, "SELECT user_id, room_id FROM messages WHERE id = ? AND kind = 'post' AND deleted_at IS NULL", msgID).Scan(&f.UserID, &f.RoomID)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, fmt.Errorf("store: put card image of message %d: %w", msgID, ErrNotFound)
	}
	if err != nil {
		return File{}, fmt.Errorf("store: put card image of message %d: %w", msgID, err)
	}
	sum := sha256.Sum256(data)
	now := s.now().UnixMilli()
	f.MessageID, f.Name, f.Type, f.Size, f.Width, f.Height = msgID, "card", typ, int64(len(data)), w, h
	f.ETag, f.CreatedAt = hex.EncodeToString(sum[:]), fromMillis(now)
	f.ID, err = tx.insertID(ctx, `INSERT INTO files (user_id, message_id, kind, name, type, size, width, height, sha256, created_at)
		VALUES (?, ?, 'card', ?, ?, ?, ?, ?, ?, ?)`, f.UserID, msgID, f.Name, typ, f.Size, w, h, f.ETag, now)
	if err != nil {
		return File{}, fmt.Errorf("store: put card image of message %d: %w", msgID, constraintErr(err))
	}
	bufp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bufp)
	if _, err := writeChunks(ctx, tx, f.ID, variantFile, nil, bytes.NewReader(data), *bufp, nil); err != nil {
		return File{}, fmt.Errorf("store: put card image of message %d: %w", msgID, err)
	}
	if err := tx.Commit(); err != nil {
		return File{}, fmt.Errorf("store: put card image of message %d: commit: %w", msgID, err)
	}
	return f, nil
}

// SetCard gives a post its card: a change of the entry (its rev is
// bumped, as by an edit), so that it is pushed again. It changes nothing
// (changed false) when the post is deleted, has a card already, or its
// card was removed; then the picture card.ImageID names, if any, is
// deleted. A picture that is no card picture of this post is ErrNotFound;
// a text with NUL or bad UTF-8 (which PostgreSQL cannot keep) ErrInvalid.
func (b *Batch) SetCard(ctx context.Context, msgID int64, card Card) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.setCard(ctx, b.tx, msgID, card) })
}

func (s *Store) setCard(ctx context.Context, tx *dbTx, msgID int64, card Card) (Message, bool, error) {
	if !storable(card.URL, card.Title, card.Description, card.Site) {
		return Message{}, false, fmt.Errorf("store: set card of message %d: a text of NUL or bad UTF-8: %w", msgID, ErrInvalid)
	}
	m, err := s.findPost(ctx, tx, msgID)
	if err != nil {
		return Message{}, false, err
	}
	if m.Kind != KindPost {
		return Message{}, false, fmt.Errorf("store: set card of message %d: %w", msgID, ErrForbidden)
	}
	if card.ImageID != 0 {
		var one int
		err := tx.QueryRowContext(ctx, "SELECT 1 FROM files WHERE id = ? AND message_id = ? AND kind = 'card'", card.ImageID, msgID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return Message{}, false, fmt.Errorf("store: set card of message %d: image %d: %w", msgID, card.ImageID, ErrNotFound)
		}
		if err != nil {
			return Message{}, false, fmt.Errorf("store: set card of message %d: %w", msgID, err)
		}
	}
	if _, err := tx.lockRoom(ctx, m.RoomID); err != nil {
		return Message{}, false, fmt.Errorf("store: set card of message %d: %w", msgID, err)
	}
	stored := int64(0)
	if !m.Deleted {
		res, err := tx.ExecContext(ctx, `INSERT INTO link_cards (message_id, url, title, description, site, image_id)
			VALUES (?, ?, ?, ?, ?, NULLIF(?, 0)) ON CONFLICT (message_id) DO NOTHING`,
			msgID, card.URL, card.Title, card.Description, card.Site, card.ImageID)
		if err != nil {
			return Message{}, false, fmt.Errorf("store: set card of message %d: %w", msgID, err)
		}
		if stored, err = res.RowsAffected(); err != nil {
			return Message{}, false, fmt.Errorf("store: set card of message %d: %w", msgID, err)
		}
	}
	if stored == 0 {
		if card.ImageID != 0 {
			if _, err := tx.ExecContext(ctx, "DELETE FROM files WHERE id = ? AND kind = 'card'", card.ImageID); err != nil {
				return Message{}, false, fmt.Errorf("store: set card of message %d: %w", msgID, err)
			}
		}
		return m, false, nil
	}
	if err := s.bump(ctx, tx, m); err != nil {
		return Message{}, false, err
	}
	if m, err = s.findPost(ctx, tx, msgID); err != nil {
		return Message{}, false, err
	}
	return m, true, nil
}

// RemoveCard takes the card of a post away for good, at its author's
// wish (anyone else: ErrForbidden): a change of the entry. A post without
// a card changes nothing; a deleted one gives ErrDeleted.
func (b *Batch) RemoveCard(ctx context.Context, msgID, userID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.removeCard(ctx, b.tx, msgID, userID) })
}

func (s *Store) removeCard(ctx context.Context, tx *dbTx, msgID, userID int64) (Message, bool, error) {
	m, err := s.findPost(ctx, tx, msgID)
	if err != nil {
		return Message{}, false, err
	}
	if m.Kind != KindPost || m.UserID != userID {
		return Message{}, false, fmt.Errorf("store: remove card of message %d: %w", msgID, ErrForbidden)
	}
	if err := notArchived(ctx, tx, m.RoomID); err != nil {
		return Message{}, false, err
	}
	if m.Deleted {
		return Message{}, false, fmt.Errorf("store: remove card of message %d: %w", msgID, ErrDeleted)
	}
	if m.Card == nil {
		return m, false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE link_cards SET removed = 1, url = '', title = '', description = '', site = '', image_id = NULL
		WHERE message_id = ?`, msgID); err != nil {
		return Message{}, false, fmt.Errorf("store: remove card of message %d: %w", msgID, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM files WHERE message_id = ? AND kind = 'card'", msgID); err != nil {
		return Message{}, false, fmt.Errorf("store: remove card of message %d: %w", msgID, err)
	}
	if err := s.bump(ctx, tx, m); err != nil {
		return Message{}, false, err
	}
	if m, err = s.findPost(ctx, tx, msgID); err != nil {
		return Message{}, false, err
	}
	return m, true, nil
}

// deleteFiles deletes what a post holds: its card, its files and their
// chunks.
func deleteFiles(ctx context.Context, tx *dbTx, msgID int64) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM link_cards WHERE message_id = ?", msgID); err != nil {
		return fmt.Errorf("store: delete card of message %d: %w", msgID, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM files WHERE message_id = ?", msgID); err != nil {
		return fmt.Errorf("store: delete files of message %d: %w", msgID, err)
	}
	return nil
}

// attachCards reads the cards of the posts ids (not removed ones), each
// into the message msg gives for it.
func attachCards(ctx context.Context, q querier, ids []int64, msg func(id int64) *Message) error {
	in, args := idsIn(q, "c.message_id", ids)
	rows, err := q.QueryContext(ctx, `SELECT c.message_id, c.url, c.title, c.description, c.site,
			COALESCE(c.image_id, 0), COALESCE(f.width, 0), COALESCE(f.height, 0)
		FROM link_cards c LEFT JOIN files f ON f.id = c.image_id WHERE `+in+` AND c.removed = 0`, args...)
	if err != nil {
		return fmt.Errorf("store: list cards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var c Card
		if err := rows.Scan(&id, &c.URL, &c.Title, &c.Description, &c.Site, &c.ImageID, &c.ImageWidth, &c.ImageHeight); err != nil {
			return fmt.Errorf("store: list cards: %w", err)
		}
		msg(id).Card = &c
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: list cards: %w", err)
	}
	return nil
}
