package store

import (
	"context"
	"fmt"
	"strings"
)

// A member's notification level for a room: what of its entries raises a
// notification for them.
const (
	// NotifyAll: every post by someone else.
	NotifyAll = "all"
	// NotifyMentions: posts that mention the member, and every post of a
	// direct message. The default.
	NotifyMentions = "mentions"
	// NotifyNothing: none.
	NotifyNothing = "nothing"
)

// ValidNotifyLevel reports whether level is one of the levels.
func ValidNotifyLevel(level string) bool {
	return level == NotifyAll || level == NotifyMentions || level == NotifyNothing
}

// UnreadMax bounds an unread count: a room with more unread posts than
// this counts this many (the room list says "99+"), so that a count costs
// at most this many rows however far behind the reader is.
const UnreadMax = 100

// Unread is what a member has not seen of a room: how many posts by
// others (at most UnreadMax), and whether one of them is for them (it
// mentions them, or the room is a direct message).
type Unread struct {
	Count   int
	Mention bool
}

// mentionPattern is the LIKE pattern that finds the username among a
// post's encoded mentions ("start:end:name start:end:name"), followed by
// the space appended to them.
func mentionPattern(username string) string {
	esc := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(username)
	return "%:" + esc + " %"
}

// mentionsWalked bounds the unread posts that mention anyone walked to
// find one that mentions the reader: those posts alone, by their own
// index, from the newest.
const mentionsWalked = 1000

// CountUnread counts the posts by others in the room after the user's
// read mark (the stored one, or after, if later) and up to upTo, as the
// room list does.
func (s *Store) CountUnread(ctx context.Context, roomID, userID int64, username string, after, upTo int64) (Unread, error) {
	var kind string
	var stored int64
	err := s.read.QueryRowContext(ctx, `SELECT r.kind, COALESCE(rr.last_read_id, 0) FROM rooms r
		LEFT JOIN room_reads rr ON rr.room_id = r.id AND rr.user_id = ?2 WHERE r.id = ?1`, roomID, userID).Scan(&kind, &stored)
	if err != nil {
		return Unread{}, fmt.Errorf("store: count unread: %w", err)
	}
	var u Unread
	var mention int
	err = s.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM (SELECT 1 AS one FROM messages x
			WHERE x.room_id = ?1 AND x.id > ?2 AND x.id <= ?3 AND x.kind = 'post' AND x.user_id != ?4
			ORDER BY x.id DESC LIMIT 100) w),
		(SELECT COALESCE(max(mention), 0) FROM (SELECT CASE WHEN (x.mentions || ' ') LIKE ?5 ESCAPE '\' THEN 1 ELSE 0 END AS mention
			FROM messages x WHERE x.room_id = ?1 AND x.mentions != '' AND x.id > ?2 AND x.id <= ?3 AND x.kind = 'post' AND x.user_id != ?4
			ORDER BY x.id DESC LIMIT 1000) w)`,
		roomID, max(after, stored), upTo, userID, mentionPattern(username)).Scan(&u.Count, &mention)
	if err != nil {
		return Unread{}, fmt.Errorf("store: count unread: %w", err)
	}
	u.Mention = u.Count > 0 && (mention > 0 || kind == RoomKindDM)
	return u, nil
}

// SetNotifyLevel sets what of the room notifies the member: ErrInvalid
// for no level, ErrNotMember for someone who is not one.
func (s *Store) SetNotifyLevel(ctx context.Context, roomID, userID int64, level string) error {
	if !ValidNotifyLevel(level) {
		return fmt.Errorf("store: set notify level %q: %w", level, ErrInvalid)
	}
	res, err := s.write.ExecContext(ctx, "UPDATE memberships SET notify = ? WHERE room_id = ? AND user_id = ?", level, roomID, userID)
	if err != nil {
		return fmt.Errorf("store: set notify level: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set notify level of room %d: %w", roomID, ErrNotMember)
	}
	return nil
}

// FindNotifyLevel is the member's level for the room; ErrNotMember for
// someone who is not one.
func (s *Store) FindNotifyLevel(ctx context.Context, roomID, userID int64) (string, error) {
	levels, err := s.listNotify(ctx, "SELECT u.username, m.notify FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.room_id = ? AND m.user_id = ?", roomID, userID)
	if err != nil {
		return "", err
	}
	for _, l := range levels {
		return l, nil
	}
	return "", fmt.Errorf("store: notify level of room %d: %w", roomID, ErrNotMember)
}

// ListNotifyLevels are the levels of the room's members who chose another
// than the default, by username.
func (s *Store) ListNotifyLevels(ctx context.Context, roomID int64) (map[string]string, error) {
	return s.listNotify(ctx, `SELECT u.username, m.notify FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? AND m.notify != 'mentions' AND u.deactivated_at IS NULL`, roomID)
}

func (s *Store) listNotify(ctx context.Context, query string, args ...any) (map[string]string, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: notify levels: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, level string
		if err := rows.Scan(&name, &level); err != nil {
			return nil, fmt.Errorf("store: notify levels: %w", err)
		}
		out[name] = level
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: notify levels: %w", err)
	}
	return out, nil
}

// SetSound says whether the user hears a short sound with a notification.
func (s *Store) SetSound(ctx context.Context, userID int64, on bool) error {
	v := 0
	if on {
		v = 1
	}
	res, err := s.write.ExecContext(ctx, "UPDATE users SET sound = ? WHERE id = ?", v, userID)
	s.write.accountsChanged()
	if err != nil {
		return fmt.Errorf("store: set sound: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set sound of user %d: %w", userID, ErrNotFound)
	}
	return nil
}

// Member is a member of a room as the unread marks know them.
type Member struct {
	ID       int64
	Username string
}

// ListMemberIDs lists a room's members with their ids, by name; a
// deactivated account is left out, as by ListMembers.
func (s *Store) ListMemberIDs(ctx context.Context, roomID int64) ([]Member, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT u.id, u.username FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? AND u.deactivated_at IS NULL ORDER BY u.username`, roomID)
	if err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		var m Member
		if err := rows.Scan(&m.ID, &m.Username); err != nil {
			return nil, fmt.Errorf("store: list members: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list members: %w", err)
	}
	return out, nil
}

// FindReadMark is the newest entry of the room the user has seen, as
// stored (0: none).
func (s *Store) FindReadMark(ctx context.Context, userID, roomID int64) (int64, error) {
	var id int64
	err := s.read.QueryRowContext(ctx, "SELECT COALESCE(max(last_read_id), 0) FROM room_reads WHERE user_id = ? AND room_id = ?", userID, roomID).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: find read mark: %w", err)
	}
	return id, nil
}
