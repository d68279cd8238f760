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
	"sync"
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
	hash := sha256.Sum256([]byte(token))
	now := s.now()
	// Read before the session is: see sessionCache.
	stamp := s.write.accounts.Load()
	if kept, ok := s.sessions.get(hash, stamp, now.Add(-s.sessionIdle)); ok {
		if now.Sub(kept.lastSeen) > sessionTouchEvery {
			if err := s.touchSession(ctx, hash[:], now); err != nil {
				return Session{}, err
			}
			s.sessions.touched(hash, now)
		}
		return kept.sess, nil
	}
	var u User
	var lastSeen int64
	err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userColumns+`, s.last_seen_at
		FROM sessions s JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = ? AND s.last_seen_at > ? AND u.deactivated_at IS NULL`, hash[:], now.Add(-s.sessionIdle).UnixMilli()),
		&u, &lastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, fmt.Errorf("store: find session: %w", ErrNotFound)
	}
	if err != nil {
		return Session{}, fmt.Errorf("store: find session: %w", err)
	}
	seen := fromMillis(lastSeen)
	if now.Sub(seen) > sessionTouchEvery {
		if err := s.touchSession(ctx, hash[:], now); err != nil {
			return Session{}, err
		}
		seen = now
	}
	sess := Session{ID: sessionID(hash[:]), User: u}
	s.sessions.put(hash, keptSession{sess: sess, lastSeen: seen, stamp: stamp})
	return sess, nil
}

// touchSession writes down that the session was used now.
func (s *Store) touchSession(ctx context.Context, hash []byte, now time.Time) error {
	// No page shows when a session was last used.
	if _, err := s.write.execQuiet(ctx, "UPDATE sessions SET last_seen_at = ? WHERE token_hash = ?", now.UnixMilli(), hash); err != nil {
		return fmt.Errorf("store: touch session: %w", err)
	}
	return nil
}

// sessionCache keeps the live sessions found, by their token's hash, so
// that a request costs no query to know who makes it. It is SQLite's
// alone (nil on PostgreSQL, where other instances end sessions): this
// process is the only one that writes the file.
//
// What invalidates a kept session: any change of any user or session
// (dbPool.accounts counts them, as each write that makes one says with
// accountsChanged or changesAccounts: a sign-out, a password changed, a
// deactivation, a user made admin, a sound, a language), which makes every
// kept session be read again; and its idleness, checked as the query
// checks it. A session is kept with the count read before it was read, so
// a change made meanwhile is never missed. New users and new sessions
// change none kept, and are not counted. Only this process's writes are
// counted: nothing else may write the file while the chat runs.
//
// Bound: sessionCacheMax sessions; past it, any one is dropped.
type sessionCache struct {
	mu sync.Mutex
	m  map[[sha256.Size]byte]keptSession
}

type keptSession struct {
	sess     Session
	lastSeen time.Time
	stamp    uint64
}

const sessionCacheMax = 1 << 16

func newSessionCache() *sessionCache {
	return &sessionCache{m: make(map[[sha256.Size]byte]keptSession)}
}

// get is the kept session of hash, if it was kept at stamp and used after
// idleSince.
func (c *sessionCache) get(hash [sha256.Size]byte, stamp uint64, idleSince time.Time) (keptSession, bool) {
	if c == nil {
		return keptSession{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[hash]
	if !ok || k.stamp != stamp || !k.lastSeen.After(idleSince) {
		return keptSession{}, false
	}
	return k, true
}

func (c *sessionCache) touched(hash [sha256.Size]byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, ok := c.m[hash]; ok {
		k.lastSeen = now
		c.m[hash] = k
	}
}

func (c *sessionCache) put(hash [sha256.Size]byte, k keptSession) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[hash]; !ok && len(c.m) >= sessionCacheMax {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[hash] = k
}

// DeleteSession ends the session of a token and returns its id. Ending a
// session that does not exist gives ErrNotFound.
func (s *Store) DeleteSession(ctx context.Context, token string) (string, error) {
	hash := hashToken(token)
	res, err := s.write.ExecContext(ctx, "DELETE FROM sessions WHERE token_hash = ?", hash)
	s.write.accountsChanged()
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
	tx.changesAccounts()
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
	tx.changesAccounts()
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
