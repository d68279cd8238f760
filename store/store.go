// Package store keeps the chat's users, sessions, rooms, memberships and
// messages: in one SQLite file (sqlite.go), or in a PostgreSQL database
// that several chat instances share (postgres.go). Each engine has its
// numbered migrations, applied by one runner (migrate); what differs
// between the engines is written in that engine's file.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Store is the chat's database. Its methods are safe for concurrent use.
type Store struct {
	write *dbPool
	// stmts are the hot writes, prepared once on the write connection.
	stmts struct {
		insertEntry, insertPost, insertPostPG, clientIDTaken, findClientID, username, userByName, indexPost *sql.Stmt
	}
	// usernames caches the names of authors by id (a name never changes).
	usernames sync.Map
	// latest keeps rooms' latest entries (latest.go).
	latest latestEntries
	read   *dbPool
	// sessions keeps live sessions (sessions.go); nil on PostgreSQL.
	sessions    *sessionCache
	now         func() time.Time
	sessionIdle time.Duration
}

// Option sets up a Store.
type Option func(*Store)

// WithSessionIdle sets how long a session lives without being used; the
// default is DefaultSessionIdle.
func WithSessionIdle(d time.Duration) Option { return func(s *Store) { s.sessionIdle = d } }

// WithClock sets the store's clock, for tests of what time changes.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// Open opens the database and applies every migration not applied yet.
// A postgres:// or postgresql:// URL opens that PostgreSQL database;
// anything else is the path of a SQLite file, made if need be.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	if IsPostgres(path) {
		return openPostgres(ctx, path, opts...)
	}
	return openSQLite(ctx, path, opts...)
}

// IsPostgres reports whether the database named is a PostgreSQL URL.
func IsPostgres(path string) bool {
	return strings.HasPrefix(path, "postgres://") || strings.HasPrefix(path, "postgresql://")
}

// Changes counts the writes this store has done: it moves, once a write
// is committed, past every value it had before (on PostgreSQL, where one
// pool reads and writes, at every statement of that pool). A page made after
// reading it shows every change it counts; so, kept with the count read
// before it was made, the page stays right for as long as the count
// stays the same (handlers' keptPages). Only the writes of this process
// are counted: another instance on the same PostgreSQL database changes
// what pages show without moving it. A write that no page shows (a
// session's last use) is not counted.
func (s *Store) Changes() uint64 { return s.write.changes.Load() }

// Postgres reports whether the store is on PostgreSQL.
func (s *Store) Postgres() bool { return s.write.pg }

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range []struct {
		stmt **sql.Stmt
		sql  string
	}{
		{&s.stmts.insertEntry, `INSERT INTO messages (room_id, user_id, kind, body, created_at, client_id) VALUES (?, ?, ?, ?, ?, NULLIF(?, ''))
			RETURNING id, room_id, user_id, (SELECT username FROM users WHERE id = user_id), kind, body, created_at, COALESCE(client_id, ''),
				rev, COALESCE(edited_at, 0), deleted_at IS NOT NULL, mentions, 0 = 1`},
		// A post of a member, in one statement: no row is stored for
		// anyone else, nor for a client id the user gave a post already
		// (the unique index looks for it as it inserts).
		{&s.stmts.insertPost, `INSERT INTO messages (room_id, user_id, kind, body, created_at, client_id, mentions)
			SELECT ?1, ?2, 'post', ?3, ?4, NULLIF(?5, ''), ?6
			WHERE EXISTS (SELECT 1 FROM memberships WHERE room_id = ?1 AND user_id = ?2)
				AND NOT EXISTS (SELECT 1 FROM rooms WHERE id = ?1 AND archived_at IS NOT NULL)
			ON CONFLICT (user_id, client_id) WHERE client_id IS NOT NULL DO NOTHING`},
		{&s.stmts.insertPostPG, insertPostPG},
		{&s.stmts.username, "SELECT username FROM users WHERE id = ?"},
		{&s.stmts.userByName, "SELECT username FROM users WHERE username = ?"},
		{&s.stmts.indexPost, "INSERT INTO post_search (docid, tokens) VALUES (?, ?)"},
		// The id alone first: most ids are new, and this costs a tenth
		// of the whole entry's query, which is read only for an id taken.
		{&s.stmts.clientIDTaken, "SELECT id FROM messages WHERE user_id = ? AND client_id = ?"},
		{&s.stmts.findClientID, selectMessages + "WHERE m.id = ?"},
	} {
		if p.stmt == &s.stmts.insertPost && s.write.pg || p.stmt == &s.stmts.insertPostPG && !s.write.pg {
			continue // each engine's own way to store a post
		}
		stmt, err := s.write.PrepareContext(ctx, p.sql)
		if err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
		*p.stmt = stmt
	}
	return nil
}

// Close closes the database. The last connection to close checkpoints the
// write-ahead log into the main file and removes it.
func (s *Store) Close() error {
	var errs []error
	if s.read != nil {
		errs = append(errs, s.read.Close())
	}
	errs = append(errs, s.write.Close())
	return errors.Join(errs...)
}

// IntegrityCheck runs SQLite's integrity check and returns its verdict,
// "ok" for a sound file. On PostgreSQL, which keeps its own files sound,
// it checks what the chat derives: that the search index holds every
// post that is not deleted, and no other.
func (s *Store) IntegrityCheck(ctx context.Context) (string, error) {
	if s.write.pg {
		return s.searchIndexCheck(ctx)
	}
	var verdict string
	if err := s.read.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&verdict); err != nil {
		return "", fmt.Errorf("store: integrity check: %w", err)
	}
	return verdict, nil
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// migrate applies the engine's migrations not applied yet, all in one
// transaction (both engines' DDL is transactional), each recorded in
// schema_migrations. On PostgreSQL, several instances may start at once:
// the first takes an advisory lock, the others wait for it and find the
// migrations applied.
func (s *Store) migrate(ctx context.Context) error {
	if s.write.pg {
		return s.runMigrations(ctx, pgMigrations, "migrations/postgres", lockMigrations)
	}
	return s.runMigrations(ctx, sqliteMigrations, "migrations", nil)
}

// runMigrations applies the migrations of dir; lock, if any, runs first in
// the transaction.
func (s *Store) runMigrations(ctx context.Context, fsys fs.FS, dir string, lock func(context.Context, *dbTx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if lock != nil {
		if err := lock(ctx, tx); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at BIGINT  NOT NULL
	)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	files, err := migrationFiles(fsys, dir)
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
		body, err := fs.ReadFile(fsys, f.path)
		if err != nil {
			return fmt.Errorf("store: migrate %s: %w", f.path, err)
		}
		// Executed as it is, on the engine it is written for: a migration
		// has no placeholders.
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

// migrationFile is one numbered migration (NNNN_what.sql).
type migrationFile struct {
	version int
	path    string
}

// migrationFiles lists the migrations of a folder, in order.
func migrationFiles(fsys fs.FS, dir string) ([]migrationFile, error) {
	names, err := fs.Glob(fsys, dir+"/*.sql")
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	sort.Strings(names)
	files := make([]migrationFile, 0, len(names))
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		num, _, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("store: migrate: bad migration name %q", base)
		}
		files = append(files, migrationFile{version, name})
	}
	return files, nil
}

// constraintErr is err, or, when err is a constraint of the schema
// refusing a write, ErrConflict for a duplicate key and ErrNotFound for a
// row referred to that does not exist, with err's text.
func constraintErr(err error) error {
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("%w: %v", ErrConflict, err)
	case isForeignKeyViolation(err):
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}

// isForeignKeyViolation reports whether err is the engine refusing a
// reference to a row that does not exist.
func isForeignKeyViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintForeignKey
	}
	return pgCode(err) == "23503"
}

// isUniqueViolation reports whether err is the engine refusing a
// duplicate key.
func isUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	return pgCode(err) == "23505"
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
