package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

//go:embed migrations/postgres/*.sql
var pgMigrations embed.FS

// migrationLock is the advisory lock instances take while they migrate,
// so that several starting at once apply each migration once.
const migrationLock = 0x636861745f6d6967 // "chat_mig"

func openPostgres(ctx context.Context, url string, opts ...Option) (*Store, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(32)
	db.SetMaxIdleConns(32)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pool := &dbPool{DB: db, pg: true, changes: new(atomic.Uint64), accounts: new(atomic.Uint64)}
	s := &Store{write: pool, read: pool, now: time.Now, sessionIdle: DefaultSessionIdle}
	for _, o := range opts {
		o(s)
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// lockMigrations takes the advisory lock that instances migrating at
// once take in turn, until the transaction ends.
func lockMigrations(ctx context.Context, tx *dbTx) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrationLock))
	return err
}

// pgCode is PostgreSQL's SQLSTATE for err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// retryable reports whether a PostgreSQL transaction failed only for
// meeting another one (a deadlock, or a serialization failure) and may be
// run again as it was.
func retryable(err error) bool {
	code := pgCode(err)
	return code == "40P01" || code == "40001"
}

// searchIndexCheck is IntegrityCheck on PostgreSQL.
func (s *Store) searchIndexCheck(ctx context.Context) (string, error) {
	var missing, stale int
	err := s.read.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM messages m WHERE m.kind = 'post' AND m.deleted_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM post_search p WHERE p.docid = m.id)),
		(SELECT count(*) FROM post_search p JOIN messages m ON m.id = p.docid WHERE m.deleted_at IS NOT NULL)`).Scan(&missing, &stale)
	if err != nil {
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	if missing+stale > 0 {
		return fmt.Sprintf("search index: %d posts missing, %d deleted posts kept", missing, stale), nil
	}
	return "ok", nil
}
