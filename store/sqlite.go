package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

//go:embed migrations/*.sql
var sqliteMigrations embed.FS

// openSQLite opens the SQLite file at path, made if need be. Writes go
// through a single connection (SQLite allows one writer at a time;
// queueing in Go is cheaper than spinning on SQLITE_BUSY), reads through
// a pool that WAL mode lets run beside the writer.
func openSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	registerDriver()
	write, err := sql.Open(driverName, dsn(path, "immediate"))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	write.SetMaxOpenConns(1)
	write.SetMaxIdleConns(1)
	write.SetConnMaxLifetime(0)
	write.SetConnMaxIdleTime(0)

	s := &Store{write: &dbPool{DB: write, changes: new(atomic.Uint64), accounts: new(atomic.Uint64)}, now: time.Now, sessionIdle: DefaultSessionIdle, sessions: newSessionCache()}
	for _, o := range opts {
		o(s)
	}
	if err := s.migrate(ctx); err != nil {
		write.Close()
		return nil, err
	}

	if err := s.prepare(ctx); err != nil {
		write.Close()
		return nil, err
	}

	read, err := sql.Open(driverName, dsn(path, "deferred")+"&_query_only=true")
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	n := max(4, runtime.NumCPU()*2)
	read.SetMaxOpenConns(n)
	read.SetMaxIdleConns(n)
	s.read = &dbPool{DB: read, stmts: &stmtCache{}}
	if err := read.PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// driverName is go-sqlite3 with the chat's SQL functions on every
// connection: the search index calls chat_search_tokens.
const driverName = "sqlite3_chat"

var registerOnce sync.Once

func registerDriver() {
	registerOnce.Do(func() {
		sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			return c.RegisterFunc("chat_search_tokens", searchTokens, true)
		}})
	})
}

// dsn puts the pragmas in the connection string so that every pooled
// connection gets them, not only the first.
func dsn(path, txlock string) string {
	q := url.Values{}
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "FULL")
	q.Set("_txlock", txlock)
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// BackupFile writes a consistent copy of the chat's SQLite file src, live
// or not, to dest, a file that must not exist yet. It never creates, and
// never migrates, src: a mistyped path or a file that is no chat database
// is an error, and nothing is written.
func BackupFile(ctx context.Context, src, dest string) error {
	if IsPostgres(src) {
		return errors.New("store: backup: on PostgreSQL, use pg_dump")
	}
	if fi, err := os.Stat(src); err != nil {
		return fmt.Errorf("store: backup: no database at %s: %w", src, err)
	} else if !fi.Mode().IsRegular() {
		return fmt.Errorf("store: backup: %s is not a database file", src)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("store: backup: %s exists already", dest)
	}
	registerDriver()
	// mode=rw opens the file as it is and fails rather than make one.
	q := url.Values{}
	q.Set("mode", "rw")
	q.Set("_busy_timeout", "5000")
	db, err := sql.Open(driverName, "file:"+(&url.URL{Path: src}).EscapedPath()+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("store: backup: open %s: %w", src, err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: backup: open %s: %w", src, err)
	}
	defer conn.Close()
	var tables int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").Scan(&tables); err != nil {
		return fmt.Errorf("store: backup: %s is no SQLite database: %w", src, err)
	}
	if tables == 0 {
		return fmt.Errorf("store: backup: %s is no chat database", src)
	}
	if _, err := conn.ExecContext(ctx, "VACUUM INTO ?", dest); err != nil {
		return fmt.Errorf("store: backup to %s: %w", dest, err)
	}
	return nil
}

// sqliteIDsIn is idsIn on SQLite, which takes no arrays: a placeholder an
// id.
func sqliteIDsIn(col string, ids []int64) (string, []any) {
	if len(ids) == 0 {
		return "1 = 0", nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return col + " IN (?" + strings.Repeat(",?", len(ids)-1) + ")", args
}
