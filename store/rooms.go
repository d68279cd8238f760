package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Room is a named conversation, or the direct messages of two users.
type Room struct {
	ID        int64
	Name      string
	CreatedBy int64
	CreatedAt time.Time
	Kind      string // RoomKindRoom or RoomKindDM
	// Access is AccessOpen or AccessClosed (direct messages are open to
	// their two alone, whatever it says).
	Access   string
	Archived bool
}

// The kinds of room.
const (
	RoomKindRoom = "room"
	RoomKindDM   = "dm"
)

var folder = cases.Fold()

// RoomNameKey is what makes two room names the same: equal after Unicode
// normalisation and case folding ("Café" and "CAFÉ" are one room).
func RoomNameKey(name string) string {
	return folder.String(norm.NFC.String(name))
}

// CreateRoom makes a room whose first member is its creator, and returns the
// room and the creator's join entry. A name taken in any case gives
// ErrConflict.
func (s *Store) CreateRoom(ctx context.Context, name string, userID int64) (Room, Message, error) {
	return s.CreateRoomWithAccess(ctx, name, AccessOpen, userID)
}

// CreateRoomWithAccess is CreateRoom of an open or a closed room.
func (s *Store) CreateRoomWithAccess(ctx context.Context, name, access string, userID int64) (Room, Message, error) {
	if access != AccessOpen && access != AccessClosed {
		return Room{}, Message{}, fmt.Errorf("store: create room: access %q: %w", access, ErrInvalid)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Room{}, Message{}, fmt.Errorf("store: create room: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	id, err := tx.insertID(ctx, "INSERT INTO rooms (name, name_key, created_by, created_at, access) VALUES (?, ?, ?, ?, ?)",
		name, RoomNameKey(name), userID, now.UnixMilli(), access)
	if isUniqueViolation(err) {
		return Room{}, Message{}, fmt.Errorf("store: create room %q: %w", name, ErrConflict)
	}
	if err != nil {
		return Room{}, Message{}, fmt.Errorf("store: create room: %w", constraintErr(err))
	}
	msg, _, err := s.join(ctx, tx, id, userID)
	if err != nil {
		return Room{}, Message{}, err
	}
	if err := tx.Commit(); err != nil {
		return Room{}, Message{}, fmt.Errorf("store: create room: %w", err)
	}
	return Room{ID: id, Name: name, CreatedBy: userID, CreatedAt: fromMillis(now.UnixMilli()), Kind: RoomKindRoom, Access: access}, msg, nil
}

// FindRoomByID finds a room by id.
func (s *Store) FindRoomByID(ctx context.Context, id int64) (Room, error) {
	var r Room
	var created int64
	err := s.read.QueryRowContext(ctx, "SELECT id, name, created_by, created_at, kind, access, archived_at IS NOT NULL FROM rooms WHERE id = ?", id).
		Scan(&r.ID, &r.Name, &r.CreatedBy, &created, &r.Kind, &r.Access, &r.Archived)
	if errors.Is(err, sql.ErrNoRows) {
		return Room{}, fmt.Errorf("store: find room %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Room{}, fmt.Errorf("store: find room %d: %w", id, err)
	}
	r.CreatedAt = fromMillis(created)
	return r, nil
}

// RoomListing is a room as the room list shows it to one user.
type RoomListing struct {
	Room
	Member bool
	// LatestID is the room's newest entry; LastReadID the newest the user
	// has seen (0: none).
	LatestID, LastReadID int64
	// Unread is what a member has not seen, after LastReadID (nothing
	// for someone who is not one).
	Unread Unread
}

// ListRooms lists every room the user may read by name (open rooms, and
// the closed ones the user is a member of; direct messages are not rooms
// here), marking those the user is a member of, with the newest entry of
// each and the newest the user has seen.
func (s *Store) ListRooms(ctx context.Context, userID int64) ([]RoomListing, error) {
	return s.listRooms(ctx, roomsQuery(unreadColumns), userID)
}

// ListRoomNames is ListRooms without the unread counts and mentions, for
// who needs the rooms alone (the quick switcher): a fraction of the cost
// for a member of many busy rooms.
func (s *Store) ListRoomNames(ctx context.Context, userID int64) ([]RoomListing, error) {
	return s.listRooms(ctx, roomsQuery(noUnreadColumns), userID)
}

// ListDMs lists the user's direct messages, each named after the other
// user, by that name.
func (s *Store) ListDMs(ctx context.Context, userID int64) ([]RoomListing, error) {
	return s.listRooms(ctx, dmsQuery(unreadColumns), userID)
}

// ListDMNames is ListDMs without the unread counts and mentions.
func (s *Store) ListDMNames(ctx context.Context, userID int64) ([]RoomListing, error) {
	return s.listRooms(ctx, dmsQuery(noUnreadColumns), userID)
}

// roomsQuery lists the rooms a user may see, with unread, the columns of
// their unread posts (unreadColumns or noUnreadColumns).
func roomsQuery(unread string) string {
	return `SELECT r.id, r.name, r.created_by, r.created_at, r.kind, r.access, r.archived_at IS NOT NULL, m.user_id IS NOT NULL,
			COALESCE((SELECT id FROM messages WHERE room_id = r.id ORDER BY id DESC LIMIT 1), 0), COALESCE(rr.last_read_id, 0),
			` + unread + `
		FROM rooms r LEFT JOIN memberships m ON m.room_id = r.id AND m.user_id = ?1
		LEFT JOIN users me ON me.id = ?1
		LEFT JOIN room_reads rr ON rr.room_id = r.id AND rr.user_id = ?1
		WHERE r.kind = 'room' AND (r.access = 'open' OR m.user_id IS NOT NULL)
		ORDER BY r.name_key, r.id`
}

// dmsQuery lists a user's direct messages, with unread as roomsQuery.
func dmsQuery(unread string) string {
	return `SELECT r.id, u.username, r.created_by, r.created_at, r.kind, r.access, r.archived_at IS NOT NULL, 1,
			COALESCE((SELECT id FROM messages WHERE room_id = r.id ORDER BY id DESC LIMIT 1), 0), COALESCE(rr.last_read_id, 0),
			` + unread + `
		FROM memberships m JOIN rooms r ON r.id = m.room_id AND r.kind = 'dm'
		JOIN memberships o ON o.room_id = r.id AND o.user_id != m.user_id
		JOIN users u ON u.id = o.user_id
		LEFT JOIN users me ON me.id = ?1
		LEFT JOIN room_reads rr ON rr.room_id = r.id AND rr.user_id = ?1
		WHERE m.user_id = ?1
		ORDER BY u.username`
}

// noUnreadColumns stand in for unreadColumns: none unread, no mention.
const noUnreadColumns = `0, 0 != 0`

// unreadColumns are, for a room r the user me may be a member m of, with
// the read mark rr: how many posts by others the member has not seen (at
// most UnreadMax, walked back from the newest by the index of each room's
// ids), and whether one of those mentions them (among the newest
// mentionsWalked unread posts that mention anyone, by the index of those
// alone; a direct message's posts are all for them, which listRooms
// adds). 0 and false for someone who is not a member.
const unreadColumns = `CASE WHEN m.user_id IS NULL THEN 0 ELSE (SELECT count(*) FROM (SELECT 1 AS one FROM messages x
				WHERE x.room_id = r.id AND x.id > COALESCE(rr.last_read_id, 0) AND x.kind = 'post' AND x.user_id != me.id
				ORDER BY x.id DESC LIMIT 100) w) END,
			CASE WHEN m.user_id IS NULL THEN 0 ELSE (SELECT COALESCE(max(mention), 0) FROM (SELECT
				CASE WHEN (x.mentions || ' ') LIKE ('%:' || replace(me.username, '_', '\_') || ' %') ESCAPE '\' THEN 1 ELSE 0 END AS mention
				FROM messages x WHERE x.room_id = r.id AND x.mentions != '' AND x.id > COALESCE(rr.last_read_id, 0) AND x.kind = 'post' AND x.user_id != me.id
				ORDER BY x.id DESC LIMIT 1000) w) END != 0`

func (s *Store) listRooms(ctx context.Context, query string, userID int64) ([]RoomListing, error) {
	rows, err := s.read.QueryContext(ctx, query, userID)
	if err != nil {
		return nil, fmt.Errorf("store: list rooms: %w", err)
	}
	defer rows.Close()
	var out []RoomListing
	for rows.Next() {
		var r RoomListing
		var created int64
		if err := rows.Scan(&r.ID, &r.Name, &r.CreatedBy, &created, &r.Kind, &r.Access, &r.Archived, &r.Member, &r.LatestID, &r.LastReadID, &r.Unread.Count, &r.Unread.Mention); err != nil {
			return nil, fmt.Errorf("store: list rooms: %w", err)
		}
		r.CreatedAt = fromMillis(created)
		if r.Kind == RoomKindDM && r.Unread.Count > 0 {
			r.Unread.Mention = true
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list rooms: %w", err)
	}
	return out, nil
}

// IsMember reports whether the user is a member of the room.
func (s *Store) IsMember(ctx context.Context, roomID, userID int64) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: is member: %w", err)
	}
	return n > 0, nil
}

// ListMembers lists the usernames of a room's members, by name; a
// deactivated account is no one's to meet any more, and is left out.
func (s *Store) ListMembers(ctx context.Context, roomID int64) ([]string, error) {
	return s.listNames(ctx, `SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? AND u.deactivated_at IS NULL ORDER BY u.username`, roomID)
}

// listNames runs a query of usernames.
func (s *Store) listNames(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("store: list members: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	return out, nil
}

// Direct messages have their two members for good: no one joins or leaves
// them (ErrForbidden).
func (s *Store) joinRoom(ctx context.Context, tx *dbTx, roomID, userID int64) (Message, bool, error) {
	if err := roomOpen(ctx, tx, roomID); err != nil {
		return Message{}, false, err
	}
	if err := notArchived(ctx, tx, roomID); err != nil {
		return Message{}, false, err
	}
	return s.join(ctx, tx, roomID, userID)
}

func (s *Store) leaveRoom(ctx context.Context, tx *dbTx, roomID, userID int64) (Message, bool, error) {
	if err := roomOpen(ctx, tx, roomID); err != nil {
		return Message{}, false, err
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: leave room: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Message{}, false, nil
	}
	msg, err := s.insertEntry(ctx, tx, roomID, userID, KindLeave, "", "")
	return msg, err == nil, err
}

func (s *Store) join(ctx context.Context, tx *dbTx, roomID, userID int64) (Message, bool, error) {
	res, err := tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
		roomID, userID, s.now().UnixMilli())
	if err != nil {
		return Message{}, false, fmt.Errorf("store: join room %d: %w", roomID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return Message{}, false, nil
	}
	msg, err := s.insertEntry(ctx, tx, roomID, userID, KindJoin, "", "")
	return msg, err == nil, err
}

func roomExists(ctx context.Context, tx *dbTx, roomID int64) error {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM rooms WHERE id = ?", roomID).Scan(&n); err != nil {
		return fmt.Errorf("store: find room %d: %w", roomID, err)
	}
	if n == 0 {
		return fmt.Errorf("store: find room %d: %w", roomID, ErrNotFound)
	}
	return nil
}

// ReadMark says that a user has seen a room's entries up to LastID.
type ReadMark struct {
	UserID, RoomID, LastID int64
}

// MarkRead records what users have seen, in one transaction. A mark never
// goes back: an older one than recorded changes nothing.
func (s *Store) MarkRead(ctx context.Context, marks ...ReadMark) error {
	if len(marks) == 0 {
		return nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: mark read: %w", err)
	}
	defer tx.Rollback()
	for _, m := range marks {
		_, err := tx.ExecContext(ctx, `INSERT INTO room_reads (user_id, room_id, last_read_id)
			SELECT CAST(?1 AS BIGINT), CAST(?2 AS BIGINT), CAST(?3 AS BIGINT) WHERE EXISTS (SELECT 1 FROM rooms WHERE id = ?2)
			ON CONFLICT (user_id, room_id) DO UPDATE SET last_read_id = excluded.last_read_id
			WHERE excluded.last_read_id > room_reads.last_read_id`,
			m.UserID, m.RoomID, m.LastID)
		if err != nil {
			return fmt.Errorf("store: mark read: %w", constraintErr(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: mark read: %w", err)
	}
	return nil
}

// ListMembersLike lists up to limit members of a room whose names start
// with prefix, in any letter case, by name.
func (s *Store) ListMembersLike(ctx context.Context, roomID int64, prefix string, limit int) ([]string, error) {
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(prefix)
	return s.listNames(ctx, `SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? AND u.deactivated_at IS NULL AND u.username LIKE ? ESCAPE '\' ORDER BY u.username LIMIT ?`, roomID, esc+"%", limit)
}

// roomOpen reports ErrNotFound for no room, ErrForbidden for direct
// messages.
func roomOpen(ctx context.Context, tx *dbTx, roomID int64) error {
	var kind string
	err := tx.QueryRowContext(ctx, "SELECT kind FROM rooms WHERE id = ?", roomID).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: find room %d: %w", roomID, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("store: find room %d: %w", roomID, err)
	}
	if kind != RoomKindRoom {
		return fmt.Errorf("store: room %d is direct messages: %w", roomID, ErrForbidden)
	}
	return nil
}
