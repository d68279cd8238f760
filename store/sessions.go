package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Session is a signed-in browser. Only a hash of its token is stored: a
// copy of the database does not let anyone sign in.
type Session struct {
	// ID names the session inside the server (in the hub, say) without
	// carrying the token itself: it is a prefix of the token's hash.
	ID   string
	User User
}

// DefaultSessionIdle is how long a session lives without being used,
// unless WithSessionIdle says otherwise.
const DefaultSessionIdle = 30 * 24 * time.Hour

// sessionTouchEvery bounds the writes that keep a session alive to one a
// minute, however many requests it makes.
const sessionTouchEvery = time.Minute

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

func sessionID(hash []byte) string { return hex.EncodeToString(hash[:12]) }

// CreateSession starts a session for the user and returns its token, the
// only copy of which goes to the browser.
func (s *Store) CreateSession(ctx context.Context, userID int64) (token string, sess Session, err error) {
	var raw [32]byte
	rand.Read(raw[:]) // never fails: crypto/rand panics rather than return short

	token = base64.RawURLEncoding.EncodeToString(raw[:])
	hash := hashToken(token)
	now := s.now().UnixMilli()
	if _, err := s.write.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)`,
		hash, userID, now, now); err != nil {
		return "", Session{}, fmt.Errorf("store: create session: %w", constraintErr(err))
	}
	u, err := s.FindUserByID(ctx, userID)
	if err != nil {
		return "", Session{}, err
	}
	return token, Session{ID: sessionID(hash), User: u}, nil
}

// FindSession finds the live session of a token. An unknown or expired
// token gives ErrNotFound.
func (s *Store) FindSession(ctx context.Context, token string) (Session, error) {
	if token == "" {
		return Session{}, fmt.Errorf("store: find session: %w", ErrNotFound)
	}
	hash := hashToken(token)
	now := s.now()
	var u User
	var lastSeen int64
	err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.last_seen_at > ? AND u.deactivated_at IS NULL`, hash, now.Add(-s.sessionIdle).UnixMilli()),
		&u, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: find session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: find session: %w", err)
	}
	if now.Sub(fromMillis(lastSeen)) > sessionTouchEvery {
		if _, err := s.write.ExecContext(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", now.UnixMilli(), hash); err != nil {
			return Session{}, fmt.Errorf("store: touch session: %w", err)
		}
	}
	return Session{ID: sessionID(hash), User: u}, nil
}

// DeleteSession ends the session of a token and returns its id. Ending a
// session that does not exist gives ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, token string) (string, error) {
	hash := hashToken(token)
	res, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", hash)
	if err != nil {
		return "", fmt.Errorf("store: delete session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", fmt.Errorf("store: delete session: %w", ErrNotFound)
	}
	return sessionID(hash), nil
}

// ChangePassword sets the user's password hash and, in the same
// transaction, ends every outstanding reset link of the user and every
// session but keep (a session id). It returns the ids of the sessions it
// ended.
func (s *Store) ChangePassword(ctx context.Context, userID int64, passwordHash, keep string) ([]string, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: change password: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, userID)
	if err != nil {
		return nil, fmt.Errorf("store: change password: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("store: change password of %d: %w", userID, ErrNotFound)
	}
	if err := endResetTokens(ctx, tx, userID, s.now()); err != nil {
		return nil, err
	}
	ended, err := endSessions(ctx, tx, userID, keep)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: change password: %w", err)
	}
	return ended, nil
}

// endSessions ends every session of the user but keep (a session id, or
// ""), and returns the ids of those it ended.
func endSessions(ctx context.Context, tx *dbTx, userID int64, keep string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT token_hash FROM sessions WHERE user_id = ?", userID)
	if err != nil {
		return nil, fmt.Errorf("store: end sessions: %w", err)
	}
	var hashes [][]byte
	for rows.Next() {
		var h []byte
		if err := rows.Scan(&h); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: end sessions: %w", err)
		}
		hashes = append(hashes, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: end sessions: %w", err)
	}
	var ended []string
	for _, h := range hashes {
		if sessionID(h) == keep {
			continue
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", h); err != nil {
			return nil, fmt.Errorf("store: end sessions: %w", err)
		}
		ended = append(ended, sessionID(h))
	}
	return ended, nil
}
