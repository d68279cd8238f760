package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
)

// The access of a room.
const (
	AccessOpen   = "open"   // every signed-in user reads it and may join
	AccessClosed = "closed" // its members alone know it is there
)

// Bodies of KindArchive entries.
const (
	ArchiveOn  = "archived"
	ArchiveOff = "unarchived"
)

// Rename is what a KindRename entry's text holds: the room's name before
// and after.
type Rename struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// RenameOf reads a KindRename entry's text (the zero Rename for any other).
func RenameOf(m Message) Rename {
	var r Rename
	if m.Kind == KindRename {
		_ = json.Unmarshal([]byte(m.Text), &r) // written by RenameRoom alone
	}
	return r
}

// roomForChange reads a room (not direct messages: ErrForbidden) inside the
// transaction, locked on PostgreSQL, for a change of the room itself.
func roomForChange(ctx context.Context, tx *dbTx, roomID int64) (Room, error) {
	if _, err := tx.lockRoom(ctx, roomID); err != nil {
		return Room{}, fmt.Errorf("store: lock room %d: %w", roomID, err)
	}
	var r Room
	err := tx.QueryRowContext(ctx, "SELECT id, name, created_by, kind, access, archived_at IS NOT NULL FROM rooms WHERE id = ?", roomID).
		Scan(&r.ID, &r.Name, &r.CreatedBy, &r.Kind, &r.Access, &r.Archived)
	if errors.Is(err, sql.ErrNoRows) {
		return Room{}, fmt.Errorf("store: find room %d: %w", roomID, ErrNotFound)
	}
	if err != nil {
		return Room{}, fmt.Errorf("store: find room %d: %w", roomID, err)
	}
	if r.Kind != RoomKindRoom {
		return Room{}, fmt.Errorf("store: room %d is direct messages: %w", roomID, ErrForbidden)
	}
	return r, nil
}

// notArchived reports ErrArchived for an archived room: its history takes
// no new entry and no change.
func notArchived(ctx context.Context, tx *dbTx, roomID int64) error {
	if _, err := tx.lockRoom(ctx, roomID); err != nil {
		return fmt.Errorf("store: lock room %d: %w", roomID, err)
	}
	var archived bool
	err := tx.QueryRowContext(ctx, "SELECT archived_at IS NOT NULL FROM rooms WHERE id = ?", roomID).Scan(&archived)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: find room %d: %w", roomID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: find room %d: %w", roomID, err)
	}
	if archived {
		return fmt.Errorf("store: room %d: %w", roomID, ErrArchived)
	}
	return nil
}

// AddMember makes userID a member of the room, added by byID, who must be
// a member (ErrNotMember); the join entry's text is the name of who added
// them. A member already changes nothing. Direct messages give
// ErrForbidden, an archived room ErrArchived.
func (b *Batch) AddMember(ctx context.Context, roomID, userID, byID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) {
		tx := b.tx
		if _, err := roomForChange(ctx, tx, roomID); err != nil {
			return Message{}, false, err
		}
		if err := notArchived(ctx, tx, roomID); err != nil {
			return Message{}, false, err
		}
		if err := isMember(ctx, tx, roomID, byID); err != nil {
			return Message{}, false, err
		}
		by, err := b.s.username(ctx, tx, byID)
		if err != nil {
			return Message{}, false, err
		}
		res, err := tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			roomID, userID, b.s.now().UnixMilli())
		if err != nil {
			return Message{}, false, fmt.Errorf("store: add member to room %d: %w", roomID, constraintErr(err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Message{}, false, nil
		}
		msg, err := b.s.insertEntry(ctx, tx, roomID, userID, KindJoin, by, "")
		return msg, err == nil, err
	})
}

// RemoveMember ends userID's membership of the room, by byID; the leave
// entry's text is the name of who removed them. No member changes nothing.
func (b *Batch) RemoveMember(ctx context.Context, roomID, userID, byID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) {
		tx := b.tx
		if _, err := roomForChange(ctx, tx, roomID); err != nil {
			return Message{}, false, err
		}
		by, err := b.s.username(ctx, tx, byID)
		if err != nil {
			return Message{}, false, err
		}
		res, err := tx.ExecContext(ctx, "DELETE FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID)
		if err != nil {
			return Message{}, false, fmt.Errorf("store: remove member of room %d: %w", roomID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return Message{}, false, nil
		}
		msg, err := b.s.insertEntry(ctx, tx, roomID, userID, KindLeave, by, "")
		return msg, err == nil, err
	})
}

// RenameRoom gives the room a new name, by byID, and records a rename
// entry. A name another room has in any case gives ErrConflict; the same
// name again changes nothing.
func (b *Batch) RenameRoom(ctx context.Context, roomID, byID int64, name string) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) {
		tx := b.tx
		r, err := roomForChange(ctx, tx, roomID)
		if err != nil {
			return Message{}, false, err
		}
		if r.Name == name {
			return Message{}, false, nil
		}
		_, err = tx.ExecContext(ctx, "UPDATE rooms SET name = ?, name_key = ? WHERE id = ?", name, RoomNameKey(name), roomID)
		if isUniqueViolation(err) {
			return Message{}, false, fmt.Errorf("store: rename room %d to %q: %w", roomID, name, ErrConflict)
		}
		if err != nil {
			return Message{}, false, fmt.Errorf("store: rename room %d: %w", roomID, err)
		}
		body, err := json.Marshal(Rename{From: r.Name, To: name})
		if err != nil {
			return Message{}, false, fmt.Errorf("store: rename room %d: %w", roomID, err)
		}
		msg, err := b.s.insertEntry(ctx, tx, roomID, byID, KindRename, string(body), "")
		return msg, err == nil, err
	})
}

// SetRoomAccess opens or closes the room, by byID, and records an access
// entry. The access it has changes nothing.
func (b *Batch) SetRoomAccess(ctx context.Context, roomID, byID int64, access string) (Message, bool, error) {
	if access != AccessOpen && access != AccessClosed {
		return Message{}, false, fmt.Errorf("store: room access %q: %w", access, ErrInvalid)
	}
	return b.item(ctx, func() (Message, bool, error) {
		tx := b.tx
		r, err := roomForChange(ctx, tx, roomID)
		if err != nil {
			return Message{}, false, err
		}
		if r.Access == access {
			return Message{}, false, nil
		}
		if _, err := tx.ExecContext(ctx, "UPDATE rooms SET access = ? WHERE id = ?", access, roomID); err != nil {
			return Message{}, false, fmt.Errorf("store: room %d access: %w", roomID, err)
		}
		msg, err := b.s.insertEntry(ctx, tx, roomID, byID, KindAccess, access, "")
		return msg, err == nil, err
	})
}

// SetRoomArchived archives the room (read-only) or brings it back, by
// byID, and records an archive entry: the last an archived room takes.
// The state it is in changes nothing.
func (b *Batch) SetRoomArchived(ctx context.Context, roomID, byID int64, archived bool) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) {
		tx := b.tx
		r, err := roomForChange(ctx, tx, roomID)
		if err != nil {
			return Message{}, false, err
		}
		if r.Archived == archived {
			return Message{}, false, nil
		}
		var at any
		body := ArchiveOff
		if archived {
			at, body = b.s.now().UnixMilli(), ArchiveOn
		}
		if _, err := tx.ExecContext(ctx, "UPDATE rooms SET archived_at = ? WHERE id = ?", at, roomID); err != nil {
			return Message{}, false, fmt.Errorf("store: archive room %d: %w", roomID, err)
		}
		msg, err := b.s.insertEntry(ctx, tx, roomID, byID, KindArchive, body, "")
		return msg, err == nil, err
	})
}

// CountMessages counts the entries of a room's history.
func (s *Store) CountMessages(ctx context.Context, roomID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM messages WHERE room_id = ?", roomID).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count messages of room %d: %w", roomID, err)
	}
	return n, nil
}

// DeleteRoom deletes a room (not direct messages: ErrForbidden) with its
// whole history: its entries, their reactions and search index rows, its
// memberships and read marks.
func (s *Store) DeleteRoom(ctx context.Context, roomID int64) error {
	return s.WriteBatch(ctx, func(b *Batch) error {
		tx := b.tx
		if _, err := roomForChange(ctx, tx, roomID); err != nil {
			return err
		}
		if !tx.pg {
			// The FTS4 index reads a post's tokens from its text to forget
			// them: before the posts go. (On PostgreSQL the rows go with
			// their posts.)
			if _, err := tx.ExecContext(ctx, `DELETE FROM post_search WHERE docid IN (
				SELECT id FROM messages WHERE room_id = ? AND kind = 'post' AND deleted_at IS NULL
					AND id <= (SELECT indexed_upto FROM search_state))`, roomID); err != nil {
				return fmt.Errorf("store: delete room %d: unindex: %w", roomID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM rooms WHERE id = ?", roomID); err != nil {
			return fmt.Errorf("store: delete room %d: %w", roomID, err)
		}
		return nil
	})
}

// isMember reports ErrNotMember unless the user is a member of the room.
func isMember(ctx context.Context, tx *dbTx, roomID, userID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&n); err != nil {
		return fmt.Errorf("store: is member: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("store: room %d: %w", roomID, ErrNotMember)
	}
	return nil
}
