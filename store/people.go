package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ListUsers lists every account, people and bots, by name.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+userColumns+" FROM users u ORDER BY u.username")
	if err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := scanUser(rows, &u); err != nil {
			return nil, fmt.Errorf("store: list users: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list users: %w", err)
	}
	return out, nil
}

// DeactivateUser stops an account: its sessions end (their ids are
// returned, for their sockets to close), it can no longer sign in, a bot's
// token stops working. Its history stays. Deactivating twice changes
// nothing more.
func (s *Store) DeactivateUser(ctx context.Context, userID int64) ([]string, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: deactivate user: %w", err)
	}
	defer tx.Rollback()
	tx.changesAccounts()
	res, err := tx.ExecContext(ctx, "UPDATE users SET deactivated_at = COALESCE(deactivated_at, ?) WHERE id = ?", s.now().UnixMilli(), userID)
	if err != nil {
		return nil, fmt.Errorf("store: deactivate user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, fmt.Errorf("store: deactivate user %d: %w", userID, ErrNotFound)
	}
	ended, err := endSessions(ctx, tx, userID, "")
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: deactivate user: %w", err)
	}
	return ended, nil
}

// SetAdmin makes the user an admin.
func (s *Store) SetAdmin(ctx context.Context, userID int64) error {
	res, err := s.write.ExecContext(ctx, "UPDATE users SET is_admin = 1 WHERE id = ? AND is_bot = 0", userID)
	s.write.accountsChanged()
	if err != nil {
		return fmt.Errorf("store: set admin: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: set admin %d: %w", userID, ErrNotFound)
	}
	return nil
}

// newToken is 32 random bytes, as text fit for a URL.
func newToken() string {
	var raw [32]byte
	rand.Read(raw[:])
	return base64.RawURLEncoding.EncodeToString(raw[:])
}

// CreateResetToken makes a one-time password-reset token for the user,
// valid for ttl, and returns it: only its hash is kept. Every other
// outstanding token of the user ends: one link is good at a time.
func (s *Store) CreateResetToken(ctx context.Context, userID, byID int64, ttl time.Duration) (string, error) {
	token := newToken()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("store: create reset token: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	if err := lockUser(ctx, tx, userID); err != nil {
		return "", fmt.Errorf("store: create reset token: %w", err)
	}
	if err := endResetTokens(ctx, tx, userID, now); err != nil {
		return "", err
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO password_resets (token_hash, user_id, created_by, expires_at) VALUES (?, ?, ?, ?)",
		hashToken(token), userID, byID, now.Add(ttl).UnixMilli()); err != nil {
		return "", fmt.Errorf("store: create reset token: %w", constraintErr(err))
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("store: create reset token: %w", err)
	}
	return token, nil
}

// lockUser, on PostgreSQL, locks the user's row until the transaction
// ends. Whatever changes a user's password or reset tokens takes it first
// (changing the password locks it by updating it), so that two such
// transactions wait for each other rather than both deciding from what
// they saw before. SQLite has one writer: there is nothing to lock.
func lockUser(ctx context.Context, tx *dbTx, userID int64) error {
	if !tx.pg {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, "SELECT 1 FROM users WHERE id = ? FOR UPDATE", userID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %d: %w", userID, ErrNotFound)
	}
	return err
}

// endResetTokens ends every outstanding reset token of the user, as if
// used: called when a token is used or made, and when the password
// changes.
func endResetTokens(ctx context.Context, tx *dbTx, userID int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, "UPDATE password_resets SET used_at = ? WHERE user_id = ? AND used_at IS NULL", now.UnixMilli(), userID); err != nil {
		return fmt.Errorf("store: end reset tokens: %w", err)
	}
	return nil
}

// FindResetToken finds the user a reset token is for. A token unknown,
// used or expired gives ErrNotFound.
func (s *Store) FindResetToken(ctx context.Context, token string) (User, error) {
	return findResetUser(ctx, s.read, token, s.now())
}

func findResetUser(ctx context.Context, q querier, token string, now time.Time) (User, error) {
	var u User
	err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM password_resets p JOIN users u ON u.id = p.user_id
		WHERE p.token_hash = ? AND p.used_at IS NULL AND p.expires_at > ? AND u.deactivated_at IS NULL`, hashToken(token), now.UnixMilli()), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: find reset token: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: find reset token: %w", err)
	}
	return u, nil
}

// UseResetToken sets the password of the token's user, spends the token
// and every other outstanding one of the user, and ends every session of
// the user (their ids are returned). A token unknown, used, ended or
// expired gives ErrNotFound and changes nothing.
func (s *Store) UseResetToken(ctx context.Context, token, passwordHash string) (User, []string, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, nil, fmt.Errorf("store: use reset token: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	u, err := findResetUser(ctx, tx, token, now)
	if err != nil {
		return User{}, nil, err
	}
	if err := lockUser(ctx, tx, u.ID); err != nil {
		return User{}, nil, fmt.Errorf("store: use reset token: %w", err)
	}
	// Once the user is locked, the token must still be outstanding: a
	// transaction that held the lock before may have ended it.
	res, err := tx.ExecContext(ctx, "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?",
		now.UnixMilli(), hashToken(token), now.UnixMilli())
	if err != nil {
		return User{}, nil, fmt.Errorf("store: use reset token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return User{}, nil, fmt.Errorf("store: use reset token: %w", ErrNotFound)
	}
	if err := endResetTokens(ctx, tx, u.ID, now); err != nil {
		return User{}, nil, err
	}
	tx.changesAccounts()
	if _, err := tx.ExecContext(ctx, "UPDATE users SET password_hash = ? WHERE id = ?", passwordHash, u.ID); err != nil {
		return User{}, nil, fmt.Errorf("store: use reset token: %w", err)
	}
	ended, err := endSessions(ctx, tx, u.ID, "")
	if err != nil {
		return User{}, nil, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, nil, fmt.Errorf("store: use reset token: %w", err)
	}
	return u, ended, nil
}

// botTokenPrefix starts every bot token, so that one found in a log or a
// repository says what it is.
const botTokenPrefix = "chatbot_"

// CreateBot makes a bot account, which signs in with no password, and
// returns it and its token: only the token's hash is kept. A name taken
// in any letter case gives ErrConflict.
func (s *Store) CreateBot(ctx context.Context, name, webhookURL string) (User, string, error) {
	token := botTokenPrefix + newToken()
	// No password opens it: the hash of random bytes matches nothing typed.
	noPassword := "!bot:" + newToken()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, "", fmt.Errorf("store: create bot: %w", err)
	}
	defer tx.Rollback()
	id, err := tx.insertID(ctx, `INSERT INTO users (username, password_hash, is_admin, created_at, is_bot, bot_token_hash, webhook_url)
		VALUES (?, ?, 0, ?, 1, ?, ?)`, name, noPassword, s.now().UnixMilli(), hashToken(token), webhookURL)
	if isUniqueViolation(err) {
		return User{}, "", fmt.Errorf("store: create bot %q: %w", name, ErrConflict)
	}
	if err != nil {
		return User{}, "", fmt.Errorf("store: create bot: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return User{}, "", fmt.Errorf("store: create bot: %w", err)
	}
	u, err := findUser(ctx, s.write, "id = ?", id)
	return u, token, err
}

// FindBotByToken finds the active bot a token belongs to; any other
// token gives ErrNotFound.
func (s *Store) FindBotByToken(ctx context.Context, token string) (User, error) {
	var u User
	err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+` FROM users u
		WHERE u.bot_token_hash = ? AND u.is_bot = 1 AND u.deactivated_at IS NULL`, hashToken(token)), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: find bot: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: find bot: %w", err)
	}
	return u, nil
}

// ListBots lists the active bots that have a webhook.
func (s *Store) ListBots(ctx context.Context) ([]User, error) {
	users, err := s.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	var bots []User
	for _, u := range users {
		if u.IsBot && !u.Deactivated {
			bots = append(bots, u)
		}
	}
	return bots, nil
}

// OpenDM returns the direct messages of two users, made the first time:
// a room of kind dm whose members are the two, the same room every time.
// Its name is the two usernames; pages show the other one's.
func (s *Store) OpenDM(ctx context.Context, a, b User) (Room, error) {
	r, _, err := s.OpenDMCreated(ctx, a, b)
	return r, err
}

// OpenDMCreated is OpenDM, and reports whether the direct messages were
// made by this call (their users' open pages list them then).
func (s *Store) OpenDMCreated(ctx context.Context, a, b User) (Room, bool, error) {
	lo, hi, key := dmKey(a, b)
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Room{}, false, fmt.Errorf("store: open dm: %w", err)
	}
	defer tx.Rollback()
	var r Room
	var created int64
	err = tx.QueryRowContext(ctx, "SELECT id, name, created_by, created_at, kind FROM rooms WHERE name_key = ?", key).
		Scan(&r.ID, &r.Name, &r.CreatedBy, &created, &r.Kind)
	if err == nil {
		r.CreatedAt = fromMillis(created)
		return r, false, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return Room{}, false, fmt.Errorf("store: open dm: %w", err)
	}
	now := s.now().UnixMilli()
	name := lo.Username + " & " + hi.Username
	id, err := tx.insertID(ctx, "INSERT INTO rooms (name, name_key, created_by, created_at, kind) VALUES (?, ?, ?, ?, 'dm')", name, key, a.ID, now)
	if err != nil {
		return Room{}, false, fmt.Errorf("store: open dm: %w", constraintErr(err))
	}
	for _, u := range []int64{lo.ID, hi.ID} {
		if _, err := tx.ExecContext(ctx, "INSERT INTO memberships (room_id, user_id, created_at) VALUES (?, ?, ?)", id, u, now); err != nil {
			return Room{}, false, fmt.Errorf("store: open dm: %w", constraintErr(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return Room{}, false, fmt.Errorf("store: open dm: %w", err)
	}
	return Room{ID: id, Name: name, CreatedBy: a.ID, CreatedAt: fromMillis(now), Kind: RoomKindDM}, true, nil
}

// dmKey is the name key of the direct messages of a and b, and the two
// by id. Control characters cannot be in a room's name, so no room typed
// by anyone has this key.
func dmKey(a, b User) (lo, hi User, key string) {
	lo, hi = a, b
	if lo.ID > hi.ID {
		lo, hi = hi, lo
	}
	return lo, hi, "\x01dm " + strconv.FormatInt(lo.ID, 10) + " " + strconv.FormatInt(hi.ID, 10)
}

// FindDM finds the direct messages of a and b, if they were made
// (ErrNotFound if not).
func (s *Store) FindDM(ctx context.Context, a, b User) (Room, error) {
	_, _, key := dmKey(a, b)
	var r Room
	var created int64
	err := s.read.QueryRowContext(ctx, "SELECT id, name, created_by, created_at, kind FROM rooms WHERE name_key = ?", key).
		Scan(&r.ID, &r.Name, &r.CreatedBy, &created, &r.Kind)
	if errors.Is(err, sql.ErrNoRows) {
		return Room{}, fmt.Errorf("store: find dm: %w", ErrNotFound)
	}
	if err != nil {
		return Room{}, fmt.Errorf("store: find dm: %w", err)
	}
	r.CreatedAt = fromMillis(created)
	return r, nil
}

// DMPartner is the other member of direct messages, for the user.
func (s *Store) DMPartner(ctx context.Context, roomID, userID int64) (User, error) {
	var u User
	err := scanUser(s.read.QueryRowContext(ctx, "SELECT "+userColumns+` FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.room_id = ? AND m.user_id != ? LIMIT 1`, roomID, userID), &u)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("store: dm partner: %w", ErrNotFound)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: dm partner: %w", err)
	}
	return u, nil
}

// MaxAvatarSide is the side of the square an uploaded avatar is made.
const MaxAvatarSide = 128

// SetAvatar keeps the user's avatar, an image the caller has re-encoded.
func (s *Store) SetAvatar(ctx context.Context, userID int64, image []byte) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO avatars (user_id, image, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET image = excluded.image, updated_at = excluded.updated_at`, userID, image, s.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store: set avatar: %w", constraintErr(err))
	}
	return nil
}

// DeleteAvatar goes back to the generated avatar.
func (s *Store) DeleteAvatar(ctx context.Context, userID int64) error {
	if _, err := s.write.ExecContext(ctx, "DELETE FROM avatars WHERE user_id = ?", userID); err != nil {
		return fmt.Errorf("store: delete avatar: %w", err)
	}
	return nil
}

// FindAvatar returns the user's uploaded avatar and when it was set; a
// user without one gives ErrNotFound.
func (s *Store) FindAvatar(ctx context.Context, userID int64) ([]byte, time.Time, error) {
	var image []byte
	var updated int64
	err := s.read.QueryRowContext(ctx, "SELECT image, updated_at FROM avatars WHERE user_id = ?", userID).Scan(&image, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, fmt.Errorf("store: find avatar: %w", ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("store: find avatar: %w", err)
	}
	return image, fromMillis(updated), nil
}
