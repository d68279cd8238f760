package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"
)

// The kinds of entry a room's history holds.
const (
	KindPost  = "post"
	KindJoin  = "join"
	KindLeave = "leave"
	// A room renamed (Text: RenameText), opened or closed (Text: the
	// access now), archived or brought back (Text: "archived" or
	// "unarchived"); the author is who did it.
	KindRename  = "rename"
	KindAccess  = "access"
	KindArchive = "archive"
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
	// Rev is the room's change counter at the entry's last edit, delete or
	// reaction; 0 if it never changed.
	Rev      int64
	EditedAt time.Time // zero if never edited
	Deleted  bool
	Mentions []Mention
	Boosts   []Boost
	// Files are a post's attachments, in their order.
	Files []File
	// Card is the preview of the post's first link; nil: none, or
	// removed.
	Card *Card
	// hasFiles: the post has attachments, as the query that read it found.
	hasFiles bool
	// Prev is the room's entry before this one, as the writer found it
	// when it stored this one; set on PostgreSQL, where instances that
	// pass entries to each other put them in order by it.
	Prev int64
}

// Boost is one reaction to a post and the users who gave it, in the order
// they did.
type Boost struct {
	Emoji string
	Users []string
}

// Limits of reactions.
const (
	BoostMax         = 16 // characters of one reaction
	boostsPerMessage = 20 // different reactions to one post
)

// CreatePost is Batch.CreatePost in a batch of its own.
func (s *Store) CreatePost(ctx context.Context, roomID, userID int64, text, clientID string) (msg Message, created bool, err error) {
	err = s.WriteBatch(ctx, func(b *Batch) error {
		msg, created, err = b.CreatePost(ctx, roomID, userID, text, clientID)
		return err
	})
	return msg, created, err
}

func (s *Store) createPost(ctx context.Context, b *Batch, roomID, userID int64, text, clientID string) (Message, bool, error) {
	tx := b.tx
	mentions, err := s.findMentions(ctx, tx, text)
	if err != nil {
		return Message{}, false, err
	}
	now := s.now().UnixMilli()
	res, err := tx.StmtContext(ctx, s.stmts.insertPost).ExecContext(ctx, roomID, userID, text, now, clientID, encodeMentions(mentions))
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		// Not stored: the client id was given a post before (sent
		// again), or the user may not post here.
		if m, found, err := s.findClientID(ctx, tx, roomID, userID, clientID, text); found || err != nil {
			if err == nil {
				err = stillMember(ctx, tx, roomID, userID)
			}
			return m, false, err
		}
		if err := notArchived(ctx, tx, roomID); err != nil {
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
	msg := Message{ID: id, RoomID: roomID, UserID: userID, Author: author, Kind: KindPost, Text: text, CreatedAt: fromMillis(now), ClientID: clientID, Mentions: mentions}
	return msg, true, nil
}

func (s *Store) insertEntry(ctx context.Context, tx *dbTx, roomID, userID int64, kind, text, clientID string) (Message, error) {
	prev, err := tx.lockRoom(ctx, roomID)
	if err != nil {
		return Message{}, fmt.Errorf("store: insert %s entry: %w", kind, err)
	}
	now := s.now().UnixMilli()
	rows, err := tx.StmtContext(ctx, s.stmts.insertEntry).QueryContext(ctx, roomID, userID, kind, text, now, clientID)
	if err != nil {
		return Message{}, fmt.Errorf("store: insert %s entry: %w", kind, err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return Message{}, fmt.Errorf("store: insert %s entry: %w", kind, err)
	}
	if len(msgs) != 1 {
		return Message{}, fmt.Errorf("store: insert %s entry: no row returned", kind)
	}
	msgs[0].Prev = prev
	tx.stored(roomID, msgs[0].ID)
	return msgs[0], nil
}

// username is the name of a user, from the cache or the database.
func (s *Store) username(ctx context.Context, tx *dbTx, userID int64) (string, error) {
	if name, ok := s.usernames.Load(userID); ok {
		return name.(string), nil
	}
	var name string
	err := tx.StmtContext(ctx, s.stmts.username).QueryRowContext(ctx, userID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: find user %d: %w", userID, err)
	}
	s.usernames.Store(userID, name)
	return name, nil
}

// messageColumns are what scanMessage reads, in its order.
const messageColumns = `m.id, m.room_id, m.user_id, u.username, m.kind, m.body, m.created_at, COALESCE(m.client_id, ''),
	m.rev, COALESCE(m.edited_at, 0), m.deleted_at IS NOT NULL, m.mentions,
	m.kind = 'post' AND EXISTS (SELECT 1 FROM files f WHERE f.message_id = m.id AND f.kind = 'attachment')`

const selectMessages = `SELECT ` + messageColumns + ` FROM messages m JOIN users u ON u.id = m.user_id `

// selectMessagesRoom also reads the room's name, after the entry's columns.
const selectMessagesRoom = `SELECT ` + messageColumns + `, r.name FROM messages m JOIN users u ON u.id = m.user_id JOIN rooms r ON r.id = m.room_id `

// readableRoom is the rule of who may read a room r, with the reader's id
// as its one parameter: every open room is open to every signed-in user;
// a closed room to its members, direct messages to their two members
// alone.
const readableRoom = `((r.kind = 'room' AND r.access = 'open') OR EXISTS (SELECT 1 FROM memberships rm WHERE rm.room_id = r.id AND rm.user_id = ?))`

type scanner interface{ Scan(dest ...any) error }

func scanMessage(row scanner, m *Message, extra ...any) error {
	var created, edited int64
	var mentions string
	dest := append([]any{&m.ID, &m.RoomID, &m.UserID, &m.Author, &m.Kind, &m.Text, &created, &m.ClientID,
		&m.Rev, &edited, &m.Deleted, &mentions, &m.hasFiles}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	m.CreatedAt = fromMillis(created)
	if edited != 0 {
		m.EditedAt = fromMillis(edited)
	}
	m.Mentions = decodeMentions(mentions)
	return nil
}

// FindMessage finds an entry by id, with its reactions.
func (s *Store) FindMessage(ctx context.Context, id int64) (Message, error) {
	msgs, err := s.listMessages(ctx, s.read, selectMessages+"WHERE m.id = ?", id)
	if err != nil {
		return Message{}, err
	}
	if len(msgs) == 0 {
		return Message{}, fmt.Errorf("store: find message %d: %w", id, ErrNotFound)
	}
	return msgs[0], nil
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

// ListChangedMessages returns up to limit entries of the room, up to the
// entry uptoID, that changed (an edit, a delete, a reaction) after the
// room's change counter was sinceRev, in the order they last changed.
func (s *Store) ListChangedMessages(ctx context.Context, roomID, sinceRev, uptoID int64, limit int) ([]Message, error) {
	return s.listMessages(ctx, s.read, selectMessages+"WHERE m.room_id = ? AND m.rev > ? AND m.id <= ? ORDER BY m.rev LIMIT ?", roomID, sinceRev, uptoID, limit)
}

// RoomRev is the room's change counter: the rev of its latest change.
func (s *Store) RoomRev(ctx context.Context, roomID int64) (int64, error) {
	var rev int64
	err := s.read.QueryRowContext(ctx, "SELECT rev FROM messages WHERE room_id = ? AND rev > 0 ORDER BY rev DESC LIMIT 1", roomID).Scan(&rev)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: room rev: %w", err)
	}
	return rev, nil
}

func (s *Store) listMessages(ctx context.Context, q querier, query string, args ...any) ([]Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil {
		return nil, err
	}
	if err := attachBoosts(ctx, q, msgs); err != nil {
		return nil, err
	}
	if err := attachFiles(ctx, q, len(msgs), func(i int) *Message { return &msgs[i] }); err != nil {
		return nil, err
	}
	return msgs, nil
}

func scanMessages(rows *sql.Rows) ([]Message, error) {
	defer rows.Close()
	var out []Message
	for rows.Next() {
		var m Message
		if err := scanMessage(rows, &m); err != nil {
			return nil, fmt.Errorf("store: list messages: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list messages: %w", err)
	}
	return out, nil
}

// attachBoosts reads the reactions of the posts among msgs that have
// changed at least once (a post never changed has none).
func attachBoosts(ctx context.Context, q querier, msgs []Message) error {
	var ids []int64
	at := make(map[int64]int)
	for i, m := range msgs {
		if m.Rev > 0 && m.Kind == KindPost && !m.Deleted {
			ids = append(ids, m.ID)
			at[m.ID] = i
		}
	}
	if len(ids) == 0 {
		return nil
	}
	in, args := idsIn(q, "b.message_id", ids)
	rows, err := q.QueryContext(ctx, `SELECT b.message_id, b.emoji, u.username FROM reactions b JOIN users u ON u.id = b.user_id
		WHERE `+in+` ORDER BY b.message_id, b.id`, args...)
	if err != nil {
		return fmt.Errorf("store: list reactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var emoji, user string
		if err := rows.Scan(&id, &emoji, &user); err != nil {
			return fmt.Errorf("store: list reactions: %w", err)
		}
		m := &msgs[at[id]]
		k := slices.IndexFunc(m.Boosts, func(b Boost) bool { return b.Emoji == emoji })
		if k < 0 {
			m.Boosts = append(m.Boosts, Boost{Emoji: emoji})
			k = len(m.Boosts) - 1
		}
		m.Boosts[k].Users = append(m.Boosts[k].Users, user)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: list reactions: %w", err)
	}
	return nil
}

// ErrForbidden means the user may not make that change.
var ErrForbidden = errors.New("forbidden")

// ErrDeleted means the post was deleted.
var ErrDeleted = errors.New("deleted")

// findPost reads the post id inside the transaction, for a change.
func (s *Store) findPost(ctx context.Context, tx *dbTx, id int64) (Message, error) {
	msgs, err := s.listMessages(ctx, tx, selectMessages+"WHERE m.id = ?", id)
	if err != nil {
		return Message{}, err
	}
	if len(msgs) == 0 {
		return Message{}, fmt.Errorf("store: find message %d: %w", id, ErrNotFound)
	}
	return msgs[0], nil
}

// bump gives the entry the room's next change counter.
func (s *Store) bump(ctx context.Context, tx *dbTx, m Message) error {
	if _, err := tx.lockRoom(ctx, m.RoomID); err != nil {
		return fmt.Errorf("store: change message %d: %w", m.ID, err)
	}
	_, err := tx.ExecContext(ctx, `UPDATE messages
		SET rev = 1 + COALESCE((SELECT rev FROM messages WHERE room_id = ?1 AND rev > 0 ORDER BY rev DESC LIMIT 1), 0)
		WHERE id = ?2`, m.RoomID, m.ID)
	if err != nil {
		return fmt.Errorf("store: change message %d: %w", m.ID, err)
	}
	return nil
}

func (s *Store) editPost(ctx context.Context, b *Batch, id, userID int64, text string) (Message, bool, error) {
	tx := b.tx
	m, err := s.findPost(ctx, tx, id)
	if err != nil {
		return Message{}, false, err
	}
	if m.Kind != KindPost || m.UserID != userID {
		return Message{}, false, fmt.Errorf("store: edit message %d: %w", id, ErrForbidden)
	}
	if err := notArchived(ctx, tx, m.RoomID); err != nil {
		return Message{}, false, err
	}
	if m.Deleted {
		return Message{}, false, fmt.Errorf("store: edit message %d: %w", id, ErrDeleted)
	}
	if m.Text == text {
		return m, false, nil
	}
	mentions, err := s.findMentions(ctx, tx, text)
	if err != nil {
		return Message{}, false, err
	}
	if err := b.reindex(ctx, id, searchText(text, fileNames(m.Files))); err != nil {
		return Message{}, false, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE messages SET body = ?, mentions = ?, edited_at = ? WHERE id = ?",
		text, encodeMentions(mentions), s.now().UnixMilli(), id); err != nil {
		return Message{}, false, fmt.Errorf("store: edit message %d: %w", id, err)
	}
	if err := s.bump(ctx, tx, m); err != nil {
		return Message{}, false, err
	}
	if m, err = s.findPost(ctx, tx, id); err != nil {
		return Message{}, false, err
	}
	return m, true, nil
}

func (s *Store) deletePost(ctx context.Context, b *Batch, id, userID int64, admin bool) (Message, bool, error) {
	tx := b.tx
	m, err := s.findPost(ctx, tx, id)
	if err != nil {
		return Message{}, false, err
	}
	if m.Kind != KindPost || (m.UserID != userID && !admin) {
		return Message{}, false, fmt.Errorf("store: delete message %d: %w", id, ErrForbidden)
	}
	if err := notArchived(ctx, tx, m.RoomID); err != nil {
		return Message{}, false, err
	}
	if m.Deleted {
		return m, false, nil
	}
	if err := b.reindex(ctx, id, ""); err != nil {
		return Message{}, false, err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM reactions WHERE message_id = ?", id); err != nil {
		return Message{}, false, fmt.Errorf("store: delete message %d: %w", id, err)
	}
	if err := deleteFiles(ctx, tx, id); err != nil {
		return Message{}, false, err
	}
	if _, err := tx.ExecContext(ctx, "UPDATE messages SET body = '', mentions = '', deleted_at = ? WHERE id = ?", s.now().UnixMilli(), id); err != nil {
		return Message{}, false, fmt.Errorf("store: delete message %d: %w", id, err)
	}
	if err := s.bump(ctx, tx, m); err != nil {
		return Message{}, false, err
	}
	if m, err = s.findPost(ctx, tx, id); err != nil {
		return Message{}, false, err
	}
	return m, true, nil
}

func (s *Store) toggleBoost(ctx context.Context, tx *dbTx, id, userID int64, emoji string) (Message, bool, error) {
	m, err := s.findPost(ctx, tx, id)
	if err != nil {
		return Message{}, false, err
	}
	if m.Kind != KindPost {
		return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, ErrForbidden)
	}
	if err := notArchived(ctx, tx, m.RoomID); err != nil {
		return Message{}, false, err
	}
	if m.Deleted {
		return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, ErrDeleted)
	}
	var member int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM memberships WHERE room_id = ? AND user_id = ?", m.RoomID, userID).Scan(&member); err != nil {
		return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, err)
	}
	if member == 0 {
		return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, ErrNotMember)
	}
	res, err := tx.ExecContext(ctx, "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?", id, emoji, userID)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if !slices.ContainsFunc(m.Boosts, func(b Boost) bool { return b.Emoji == emoji }) && len(m.Boosts) >= boostsPerMessage {
			return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO reactions (message_id, user_id, emoji, created_at) VALUES (?, ?, ?, ?)",
			id, userID, emoji, s.now().UnixMilli()); err != nil {
			return Message{}, false, fmt.Errorf("store: react to message %d: %w", id, constraintErr(err))
		}
	}
	if err := s.bump(ctx, tx, m); err != nil {
		return Message{}, false, err
	}
	m, err = s.findPost(ctx, tx, id)
	return m, err == nil, err
}

// LatestEntries returns the newest entry of each room that has one.
func (s *Store) LatestEntries(ctx context.Context) (map[int64]int64, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT room_id, max(id) FROM messages GROUP BY room_id")
	if err != nil {
		return nil, fmt.Errorf("store: latest entries: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]int64)
	for rows.Next() {
		var room, id int64
		if err := rows.Scan(&room, &id); err != nil {
			return nil, fmt.Errorf("store: latest entries: %w", err)
		}
		out[room] = id
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: latest entries: %w", err)
	}
	return out, nil
}

// insertPostPG stores a post of a member and indexes it for search, in one
// round trip: no row comes back for a non-member, or for a client id the
// user has given a post before.
const insertPostPG = `WITH m AS (
		INSERT INTO messages (room_id, user_id, kind, body, created_at, client_id, mentions)
		SELECT ?1::bigint, ?2::bigint, 'post', ?3::text, ?4::bigint, NULLIF(?5::text, ''), ?6::text
		WHERE EXISTS (SELECT 1 FROM memberships WHERE room_id = ?1 AND user_id = ?2)
			AND NOT EXISTS (SELECT 1 FROM rooms WHERE id = ?1 AND archived_at IS NOT NULL)
		ON CONFLICT (user_id, client_id) WHERE client_id IS NOT NULL DO NOTHING
		RETURNING id
	), indexed AS (
		INSERT INTO post_search (docid, tokens) SELECT id, ?7::integer[] FROM m
	)
	SELECT id FROM m`

// createPostPG is createPost on PostgreSQL, where every statement is a
// round trip to the server: the common case is one. search is what the
// post is indexed by (see searchText).
func (s *Store) createPostPG(ctx context.Context, b *Batch, roomID, userID int64, text, clientID, search string) (Message, bool, error) {
	tx := b.tx
	mentions, err := s.findMentions(ctx, tx, text)
	if err != nil {
		return Message{}, false, err
	}
	prev, err := tx.lockRoom(ctx, roomID)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	now := s.now().UnixMilli()
	var id int64
	err = tx.StmtContext(ctx, s.stmts.insertPostPG).QueryRowContext(ctx,
		roomID, userID, text, now, clientID, encodeMentions(mentions), pgTokens(search)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		if m, found, err := s.findClientID(ctx, tx, roomID, userID, clientID, text); found || err != nil {
			if err == nil {
				err = stillMember(ctx, tx, roomID, userID)
			}
			return m, false, err
		}
		if err := notArchived(ctx, tx, roomID); err != nil {
			return Message{}, false, err
		}
		return Message{}, false, fmt.Errorf("store: create post in room %d: %w", roomID, ErrNotMember)
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	tx.stored(roomID, id)
	author, err := s.username(ctx, tx, userID)
	if err != nil {
		return Message{}, false, err
	}
	return Message{ID: id, RoomID: roomID, UserID: userID, Author: author, Kind: KindPost, Text: text, CreatedAt: fromMillis(now),
		ClientID: clientID, Mentions: mentions, Prev: prev}, true, nil
}

// stillMember is ErrNotMember for a send repeated by one who is no longer
// a member of the room: it is told no more of the room than a new post
// would be (a closed room's former member learns nothing of it).
func stillMember(ctx context.Context, tx *dbTx, roomID, userID int64) error {
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM memberships WHERE room_id = ? AND user_id = ?", roomID, userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: repeated post in room %d: %w", roomID, ErrNotMember)
	}
	return err
}

// findClientID finds the post the user gave clientID to, if any. An id
// names one post in one room: given to a post in another room, or to one
// of other text (that was not edited or deleted since), it is ErrConflict
// (a page replaying a send replays the same text in its own room, so this
// is not a replay, and storing nothing would lose the post).
func (s *Store) findClientID(ctx context.Context, tx *dbTx, roomID, userID int64, clientID, text string) (Message, bool, error) {
	if clientID == "" {
		return Message{}, false, nil
	}
	var id int64
	err := tx.StmtContext(ctx, s.stmts.clientIDTaken).QueryRowContext(ctx, userID, clientID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return Message{}, false, nil
	}
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	rows, err := tx.StmtContext(ctx, s.stmts.findClientID).QueryContext(ctx, id)
	if err != nil {
		return Message{}, false, fmt.Errorf("store: create post: %w", err)
	}
	msgs, err := scanMessages(rows)
	if err != nil || len(msgs) == 0 {
		return Message{}, false, err
	}
	if err := attachBoosts(ctx, tx, msgs); err != nil {
		return Message{}, false, err
	}
	if err := attachFiles(ctx, tx, 1, func(int) *Message { return &msgs[0] }); err != nil {
		return Message{}, false, err
	}
	m := msgs[0]
	if m.RoomID != roomID {
		return Message{}, false, fmt.Errorf("store: create post in room %d: client id used in room %d: %w", roomID, m.RoomID, ErrConflict)
	}
	if m.Text != text && m.Rev == 0 && !m.Deleted {
		return Message{}, false, fmt.Errorf("store: create post in room %d: client id used for entry %d of other text: %w", roomID, m.ID, ErrConflict)
	}
	return m, true, nil
}
