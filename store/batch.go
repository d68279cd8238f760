package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Batch is one write transaction that several writes share: one commit,
// and so one wait for the disk, for all of them. Each write runs in a
// savepoint of its own, so one that fails leaves the others standing.
type Batch struct {
	s  *Store
	tx *sql.Tx
}

// WriteBatch runs fn in one write transaction and commits what it wrote.
// An error from fn, or from the commit, undoes everything.
func (s *Store) WriteBatch(ctx context.Context, fn func(b *Batch) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(&Batch{s: s, tx: tx}); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
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

// CreatePost is Store.CreatePost inside the batch. It needs no savepoint:
// it writes one row, last, and a statement that fails undoes only itself.
func (b *Batch) CreatePost(ctx context.Context, roomID, userID int64, text, clientID string) (Message, bool, error) {
	return b.s.createPost(ctx, b.tx, roomID, userID, text, clientID)
}

// JoinRoom is Store.JoinRoom inside the batch.
func (b *Batch) JoinRoom(ctx context.Context, roomID, userID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.joinRoom(ctx, b.tx, roomID, userID) })
}

// LeaveRoom is Store.LeaveRoom inside the batch.
func (b *Batch) LeaveRoom(ctx context.Context, roomID, userID int64) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.leaveRoom(ctx, b.tx, roomID, userID) })
}

// EditPost is Store.EditPost inside the batch.
func (b *Batch) EditPost(ctx context.Context, id, userID int64, text string) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.editPost(ctx, b.tx, id, userID, text) })
}

// DeletePost is Store.DeletePost inside the batch.
func (b *Batch) DeletePost(ctx context.Context, id, userID int64, admin bool) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.deletePost(ctx, b.tx, id, userID, admin) })
}

// ToggleBoost is Store.ToggleBoost inside the batch; it always changes the
// post.
func (b *Batch) ToggleBoost(ctx context.Context, id, userID int64, emoji string) (Message, bool, error) {
	return b.item(ctx, func() (Message, bool, error) { return b.s.toggleBoost(ctx, b.tx, id, userID, emoji) })
}
