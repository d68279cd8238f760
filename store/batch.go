package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
)

// Batch is one write transaction that several writes share: one commit,
// and so one wait for the disk, for all of them. Each write runs in a
// savepoint of its own, so one that fails leaves the others standing.
type Batch struct {
	s  *Store
	tx *dbTx
	// toIndex are the edited posts, by id, whose new text the search
	// index takes at the end of the batch. FTS4 writes its pending terms
	// out whenever a statement of the transaction opens a savepoint, which
	// each insert does: indexed between other writes, posts cost five
	// times as much.
	toIndex map[int64]string
	// upto is the newest entry the search index has taken; -1 until read.
	upto int64
	// retry is the error of a write that met another instance's
	// transaction (PostgreSQL): the whole batch runs again.
	retry error
}

// WriteBatch runs fn in one write transaction and commits what it wrote.
// An error from fn, or from the commit, undoes everything. On PostgreSQL,
// a transaction that deadlocks with another instance's is undone and fn
// runs again, up to a few times.
func (s *Store) WriteBatch(ctx context.Context, fn func(b *Batch) error) error {
	for attempt := 1; ; attempt++ {
		tx, err := s.write.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: begin: %w", err)
		}
		err = s.runBatch(ctx, tx, fn)
		if attempt < 5 && retryable(err) {
			continue
		}
		return err
	}
}

// writeBatchOn is WriteBatch on a connection the caller holds.
func (s *Store) writeBatchOn(ctx context.Context, conn *sql.Conn, fn func(b *Batch) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	return s.runBatch(ctx, &dbTx{Tx: tx, pg: s.write.pg, changes: s.write.changes, accounts: s.write.accounts}, fn)
}

func (s *Store) runBatch(ctx context.Context, tx *dbTx, fn func(b *Batch) error) error {
	defer tx.Rollback()
	b := &Batch{s: s, tx: tx, upto: -1}
	if err := fn(b); err != nil {
		return err
	}
	if b.retry != nil {
		return b.retry
	}
	if err := b.index(ctx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// LockRooms, on PostgreSQL, locks the rooms whose entries the batch is
// about to write, in the order of their ids: two instances' batches that
// write to the same rooms then never wait for each other in a circle.
// SQLite has one writer and needs nothing.
func (b *Batch) LockRooms(ctx context.Context, ids []int64) error {
	if !b.tx.pg || len(ids) == 0 {
		return nil
	}
	ids = slices.Clone(ids)
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		if _, err := b.tx.lockRoom(ctx, id); err != nil {
			b.noteRetry(err)
			return fmt.Errorf("store: lock room %d: %w", id, err)
		}
	}
	return nil
}

// noteRetry remembers that the batch met another transaction in a way
// that undoing and running it again resolves.
func (b *Batch) noteRetry(err error) {
	if b.retry == nil && retryable(err) {
		b.retry = err
	}
}

// index adds the batch's new and edited posts to the search index.
func (b *Batch) index(ctx context.Context) error {
	if len(b.toIndex) == 0 {
		return nil
	}
	ids := make([]int64, 0, len(b.toIndex))
	for id := range b.toIndex {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	stmt := b.tx.StmtContext(ctx, b.s.stmts.indexPost)
	for _, id := range ids {
		var tokens any = searchTokens(b.toIndex[id])
		if b.tx.pg {
			tokens = pgTokens(b.toIndex[id])
		}
		if _, err := stmt.ExecContext(ctx, id, tokens); err != nil {
			return fmt.Errorf("store: index post %d: %w", id, err)
		}
	}
	return nil
}

// indexedUpto is the newest entry the search index has taken: posts up to
// it are in the index, newer ones wait for IndexPosts.
func (b *Batch) indexedUpto(ctx context.Context) (int64, error) {
	if b.upto >= 0 {
		return b.upto, nil
	}
	if err := b.tx.QueryRowContext(ctx, "SELECT indexed_upto FROM search_state").Scan(&b.upto); err != nil {
		return 0, fmt.Errorf("store: search state: %w", err)
	}
	return b.upto, nil
}

// reindex changes what the index holds of a post whose text changes to
// text ("" for a deleted post): before the change, for the index reads the
// old text to know what to forget. A post the index has not taken yet
// needs nothing: it is indexed as it stands when its turn comes.
func (b *Batch) reindex(ctx context.Context, id int64, text string) error {
	upto, err := b.indexedUpto(ctx)
	if err != nil {
		return err
	}
	if id > upto {
		return nil
	}
	if err := b.unindex(ctx, id); err != nil {
		return err
	}
	if text == "" {
		delete(b.toIndex, id)
	} else {
		b.indexLater(id, text)
	}
	return nil
}

// indexLater has the post's text indexed at the end of the batch.
func (b *Batch) indexLater(id int64, text string) {
	if b.toIndex == nil {
		b.toIndex = make(map[int64]string)
	}
	b.toIndex[id] = text
}

// unindex takes a post out of the search index, before its text changes:
// the index reads the old text to know what to forget. A post of this
// batch is not in the index yet.
func (b *Batch) unindex(ctx context.Context, id int64) error {
	if _, ok := b.toIndex[id]; ok {
		return nil
	}
	if _, err := b.tx.ExecContext(ctx, "DELETE FROM post_search WHERE docid = ?", id); err != nil {
		return fmt.Errorf("store: unindex post %d: %w", id, err)
	}
	return nil
}

// item runs one write in a savepoint: if it fails, what it wrote is undone
// and the batch goes on.
func (b *Batch) item(ctx context.Context, write func() (Message, bool, error)) (Message, bool, error) {
	if _, err := b.tx.ExecContext(ctx, "SAVEPOINT item"); err != nil {
		return Message{}, false, fmt.Errorf("store: savepoint: %w", err)
	}
	m, changed, err := write()
	b.noteRetry(err)
	if err != nil {
		if _, rerr := b.tx.ExecContext(ctx, "ROLLBACK TO item"); rerr != nil {
			return Message{}, false, fmt.Errorf("%w (undo: %v)", err, rerr)
		}
	}
	if _, rerr := b.tx.ExecContext(ctx, "RELEASE item"); rerr != nil && err == nil {
		return Message{}, false, fmt.Errorf("store: release savepoint: %w", rerr)
	}
	return m, changed, err
}

// CreatePost stores a post by a member of the room. A user who is not a
// member gives ErrNotMember, an unknown room ErrNotFound. A clientID the
// user has given a post in this room before stores nothing: it returns
// that post, with created false; one given to a post in another room is
// ErrConflict.
//
// It needs no savepoint: it writes one row, last, and on SQLite a
// statement that fails undoes only itself. On PostgreSQL one statement
// stores and indexes the post, and refuses a non-member or a repeated
// send without an error; what else fails spoils the batch, which its
// writers then hear.
func (b *Batch) CreatePost(ctx context.Context, roomID, userID int64, text, clientID string) (Message, bool, error) {
	if b.tx.pg {
		m, created, err := b.s.createPostPG(ctx, b, roomID, userID, text, clientID, text)
		b.noteRetry(err)
		return m, created, err
	}
	return b.s.createPost(ctx, b, roomID, userID, text, clientID)
}

// JoinRoom makes the user a member and records a join entry. It reports
// changed=false, and records nothing, when the user was a member already.
func (b *Batch) JoinRoom(ctx context.Context, roomID, userID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.joinRoom(ctx, b.tx, roomID, userID) })
}

// LeaveRoom ends the user's membership and records a leave entry. It
// reports changed=false, and records nothing, when the user was no member.
func (b *Batch) LeaveRoom(ctx context.Context, roomID, userID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.leaveRoom(ctx, b.tx, roomID, userID) })
}

// EditPost replaces the text of a post by its author. Another user's post,
// or an entry that is no post, gives ErrForbidden; a deleted post
// ErrDeleted. The same text again changes nothing (changed false).
func (b *Batch) EditPost(ctx context.Context, id, userID int64, text string) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.editPost(ctx, b, id, userID, text) })
}

// DeletePost deletes a post by its author or, with admin, by anyone: its
// text and reactions go, a mark stays in the room's history. Another
// user's post gives ErrForbidden; a post deleted already changes nothing.
func (b *Batch) DeletePost(ctx context.Context, id, userID int64, admin bool) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.deletePost(ctx, b, id, userID, admin) })
}

// ToggleBoost adds the user's reaction emoji to a post, or takes it back
// if the user gave it already. Only members of the post's room react
// (ErrNotMember); an entry that is no post gives ErrForbidden, a deleted
// post ErrDeleted, a post with too many different reactions ErrConflict.
// It always changes the post.
func (b *Batch) ToggleBoost(ctx context.Context, id, userID int64, emoji string) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.toggleBoost(ctx, b.tx, id, userID, emoji) })
}
