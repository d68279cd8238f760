package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The registration policies.
const (
	RegistrationOpen   = "open"   // anyone may register
	RegistrationInvite = "invite" // only with an invitation (the first account always may)
)

// Why an invitation is refused. An unknown token is ErrNotFound.
var (
	ErrInviteNeeded  = errors.New("an invitation is needed")
	ErrInviteExpired = errors.New("invitation expired")
	ErrInviteRevoked = errors.New("invitation revoked")
	ErrInviteUsedUp  = errors.New("invitation used up")
)

// Invitation is a link an admin made that lets up to MaxUses people
// register until ExpiresAt. Its token is never kept, only its hash.
type Invitation struct {
	ID        int64
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	MaxUses   int
	Uses      int
	Revoked   bool
}

// RegistrationPolicy is the policy kept in the database.
func (s *Store) RegistrationPolicy(ctx context.Context) (string, error) {
	return registrationPolicy(ctx, s.read)
}

func registrationPolicy(ctx context.Context, q querier) (string, error) {
	var p string
	err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'registration'").Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return RegistrationOpen, nil
	}
	if err != nil {
		return "", fmt.Errorf("store: registration policy: %w", err)
	}
	return p, nil
}

// SetRegistrationPolicy keeps the policy; anything but the two gives
// ErrInvalid.
func (s *Store) SetRegistrationPolicy(ctx context.Context, policy string) error {
	if policy != RegistrationOpen && policy != RegistrationInvite {
		return fmt.Errorf("store: registration policy %q: %w", policy, ErrInvalid)
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: set registration policy: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('registration', ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, policy); err != nil {
		return fmt.Errorf("store: set registration policy: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: set registration policy: %w", err)
	}
	return nil
}

// CreateInvitation makes an invitation for up to maxUses registrations,
// valid for ttl, and returns it with its token, which is not kept.
func (s *Store) CreateInvitation(ctx context.Context, byID int64, maxUses int, ttl time.Duration) (Invitation, string, error) {
	if maxUses < 1 || ttl <= 0 {
		return Invitation{}, "", fmt.Errorf("store: create invitation: %d uses for %v: %w", maxUses, ttl, ErrInvalid)
	}
	token := newToken()
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return Invitation{}, "", fmt.Errorf("store: create invitation: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	id, err := tx.insertID(ctx, "INSERT INTO invitations (token_hash, created_by, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?)",
		hashToken(token), byID, now.UnixMilli(), now.Add(ttl).UnixMilli(), maxUses)
	if err != nil {
		return Invitation{}, "", fmt.Errorf("store: create invitation: %w", constraintErr(err))
	}
	if err := tx.Commit(); err != nil {
		return Invitation{}, "", fmt.Errorf("store: create invitation: %w", err)
	}
	return Invitation{ID: id, CreatedAt: fromMillis(now.UnixMilli()), ExpiresAt: fromMillis(now.Add(ttl).UnixMilli()), MaxUses: maxUses}, token, nil
}

const invitationColumns = `i.id, u.username, i.created_at, i.expires_at, i.max_uses, i.uses, i.revoked_at IS NOT NULL`

func scanInvitation(row scanner, inv *Invitation) error {
	var created, expires int64
	if err := row.Scan(&inv.ID, &inv.CreatedBy, &created, &expires, &inv.MaxUses, &inv.Uses, &inv.Revoked); err != nil {
		return err
	}
	inv.CreatedAt, inv.ExpiresAt = fromMillis(created), fromMillis(expires)
	return nil
}

// ListInvitations lists the invitations, newest first.
func (s *Store) ListInvitations(ctx context.Context) ([]Invitation, error) {
	rows, err := s.read.QueryContext(ctx, "SELECT "+invitationColumns+" FROM invitations i JOIN users u ON u.id = i.created_by ORDER BY i.id DESC")
	if err != nil {
		return nil, fmt.Errorf("store: list invitations: %w", err)
	}
	defer rows.Close()
	var out []Invitation
	for rows.Next() {
		var inv Invitation
		if err := scanInvitation(rows, &inv); err != nil {
			return nil, fmt.Errorf("store: list invitations: %w", err)
		}
		out = append(out, inv)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list invitations: %w", err)
	}
	return out, nil
}

// RevokeInvitation ends an invitation: no one registers with it after.
func (s *Store) RevokeInvitation(ctx context.Context, id int64) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: revoke invitation: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, "UPDATE invitations SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", s.now().UnixMilli(), id)
	if err != nil {
		return fmt.Errorf("store: revoke invitation %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("store: revoke invitation %d: %w", id, ErrNotFound)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: revoke invitation %d: %w", id, err)
	}
	return nil
}

// CheckInvitation finds the invitation of a token and says whether it
// may be used now: ErrNotFound for a token that is none, else
// ErrInviteRevoked, ErrInviteExpired or ErrInviteUsedUp.
func (s *Store) CheckInvitation(ctx context.Context, token string) (Invitation, error) {
	return checkInvitation(ctx, s.read, token, s.now())
}

func checkInvitation(ctx context.Context, q querier, token string, now time.Time) (Invitation, error) {
	var inv Invitation
	err := scanInvitation(q.QueryRowContext(ctx, "SELECT "+invitationColumns+" FROM invitations i JOIN users u ON u.id = i.created_by WHERE i.token_hash = ?",
		hashToken(token)), &inv)
	if errors.Is(err, sql.ErrNoRows) {
		return Invitation{}, fmt.Errorf("store: invitation: %w", ErrNotFound)
	}
	if err != nil {
		return Invitation{}, fmt.Errorf("store: invitation: %w", err)
	}
	switch {
	case inv.Revoked:
		return inv, fmt.Errorf("store: invitation %d: %w", inv.ID, ErrInviteRevoked)
	case !now.Before(inv.ExpiresAt):
		return inv, fmt.Errorf("store: invitation %d: %w", inv.ID, ErrInviteExpired)
	case inv.Uses >= inv.MaxUses:
		return inv, fmt.Errorf("store: invitation %d: %w", inv.ID, ErrInviteUsedUp)
	}
	return inv, nil
}

// RegisterUser adds an account as the registration policy allows: under
// RegistrationInvite, with a token whose invitation is good (one of its
// uses is taken in the same transaction, so that at most MaxUses
// registrations ever use it), unless no account exists yet. Without one:
// ErrInviteNeeded; with a bad one, as CheckInvitation says. The first
// account is an admin; a username taken gives ErrConflict, and spends no
// use.
func (s *Store) RegisterUser(ctx context.Context, username, passwordHash, token string) (User, error) {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return User{}, fmt.Errorf("store: register: %w", err)
	}
	defer tx.Rollback()
	now := s.now()
	policy, err := registrationPolicy(ctx, tx)
	if err != nil {
		return User{}, err
	}
	if policy == RegistrationInvite {
		var anyone int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1) x").Scan(&anyone); err != nil {
			return User{}, fmt.Errorf("store: register: %w", err)
		}
		if anyone > 0 {
			if err := useInvitation(ctx, tx, token, now); err != nil {
				return User{}, err
			}
		}
	}
	u, err := insertUser(ctx, tx, username, passwordHash, now)
	if err != nil {
		return User{}, err
	}
	if err := tx.Commit(); err != nil {
		return User{}, fmt.Errorf("store: register: %w", err)
	}
	return u, nil
}

// useInvitation takes one use of the token's invitation, if it is good:
// one statement that checks and counts, so that registrations at once
// (on either engine) take no more uses than there are.
func useInvitation(ctx context.Context, tx *dbTx, token string, now time.Time) error {
	if token == "" {
		return fmt.Errorf("store: register: %w", ErrInviteNeeded)
	}
	res, err := tx.ExecContext(ctx, `UPDATE invitations SET uses = uses + 1
		WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ? AND uses < max_uses`, hashToken(token), now.UnixMilli())
	if err != nil {
		return fmt.Errorf("store: use invitation: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	if _, err := checkInvitation(ctx, tx, token, now); err != nil {
		return err
	}
	// Good when read now: another registration took its last use between
	// the two statements (only on PostgreSQL, where reads see commits).
	return fmt.Errorf("store: use invitation: %w", ErrInviteUsedUp)
}

// CheckRegistration says whether someone holding token ("" for none) may
// register now, as RegisterUser would: nil, ErrInviteNeeded, or why the
// invitation is refused. RegisterUser decides again, in its transaction.
func (s *Store) CheckRegistration(ctx context.Context, token string) error {
	policy, err := registrationPolicy(ctx, s.read)
	if err != nil || policy != RegistrationInvite {
		return err
	}
	var anyone int
	if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM users LIMIT 1) x").Scan(&anyone); err != nil {
		return fmt.Errorf("store: check registration: %w", err)
	}
	if anyone == 0 {
		return nil
	}
	if token == "" {
		return fmt.Errorf("store: register: %w", ErrInviteNeeded)
	}
	_, err = checkInvitation(ctx, s.read, token, s.now())
	return err
}
