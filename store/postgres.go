package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
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
	pool := &dbPool{DB: db, pg: true}
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

// migratePostgres applies the PostgreSQL migrations not applied yet, all
// in one transaction (PostgreSQL's DDL is transactional) under an
// advisory lock.
func (s *Store) migratePostgres(ctx context.Context) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", int64(migrationLock)); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	files, err := migrationFiles(pgMigrations, "migrations/postgres")
	if err != nil {
		return err
	}
	for _, f := range files {
		var done int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE version = ?", f.version).Scan(&done); err != nil {
			return fmt.Errorf("store: migrate %s: %w", f.path, err)
		}
		if done > 0 {
			continue
		}
		body, err := pgMigrations.ReadFile(f.path)
		if err != nil {
			return err
		}
		// Executed as it is: the file has no placeholders to rewrite.
		if _, err := tx.Tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("store: migrate %s: %w", f.path, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)", f.version, s.now().UnixMilli()); err != nil {
			return fmt.Errorf("store: migrate %s: %w", f.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
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
