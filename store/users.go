package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// User is an account.
type User struct {
	ID           int64
	Username     string
	PasswordHash string
	IsAdmin      bool
	CreatedAt    time.Time
	IsBot        bool
	Deactivated  bool
	// WebhookURL is where a bot is told of posts for it; "" for none.
	WebhookURL string
	// Sound: a short sound goes with the user's notifications.
	Sound bool
	// Language is the tag of the language the user chose ("es"), or ""
	// when they have not chosen one.
	Language string
}

// userColumns are what scanUser reads, of the table aliased u.
const userColumns = `u.id, u.username, u.password_hash, u.is_admin, u.created_at, u.is_bot, u.deactivated_at IS NOT NULL, u.webhook_url, u.sound != 0, u.language`

func scanUser(row scanner, u *User, extra ...any) error {
	var created int64
	dest := append([]any{&u.ID, &u.Username, &u.PasswordHash, &u.IsAdmin, &created, &u.IsBot, &u.Deactivated, &u.WebhookURL, &u.Sound, &u.Language}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	u.CreatedAt = fromMillis(created)
	return nil
}

// CreateUser adds an account. The first account ever made is an admin.
// A username taken in any letter case gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, username, passwordHash string) (User, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	defer tx.Rollback()
	u, err := insertUser(ctx, tx, username, passwordHash, s.now())
	if err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return u, nil
}

// insertUser adds an account in tx: the first account is an admin, a
// name taken in any letter case is ErrConflict.
func insertUser(ctx context.Context, tx *dbTx, username, passwordHash string, now time.Time) (User, error) {
	id, err := tx.insertID(ctx, `INSERT INTO users (username, password_hash, is_admin, created_at)
		VALUES (?, ?, CASE WHEN EXISTS (SELECT 1 FROM users) THEN 0 ELSE 1 END, ?)`, username, passwordHash, now.UnixMilli())
	if isUniqueViolation(err) {
		return User{}, fmt.Errorf("store: create user %q: %w", username, ErrConflict)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: create user: %w", err)
	}
	return findUser(ctx, tx, "id = ?", id)
}

// FindUserByUsername finds an account by name, in any letter case.
func (s *Store) FindUserByUsername(ctx context.Context, username string) (User, error) {
	return findUser(ctx, s.read, "username = ?", username)
}

// FindUserByID finds an account by id.
func (s *Store) FindUserByID(ctx context.Context, id int64) (User, error) {
	return findUser(ctx, s.read, "id = ?", id)
}

func findUser(ctx context.Context, q querier, where string, arg any) (User, error) {
	var u User
	err := scanUser(q.QueryRowContext(ctx, "SELECT "+userColumns+" FROM users u WHERE u."+where, arg), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: find user %v: %w", arg, ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: find user %v: %w", arg, err)
	}
	return u, nil
}

// SetLanguage keeps the tag of the language the user chose for the chat's
// words ("" to let the browser say); the caller checks it is one the chat
// speaks.
func (s *Store) SetLanguage(ctx context.Context, userID int64, tag string) error {
	res, err := s.write.ExecContext(ctx, "UPDATE users SET language = ? WHERE id = ?", tag, userID)
	s.write.accountsChanged()
	if err != nil {
		return fmt.Errorf("store: set language: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set language of user %d: %w", userID, ErrNotFound)
	}
	return nil
}
