package store

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// The store speaks one SQL to two engines: SQLite, a file beside the
// chat, and PostgreSQL, shared by several chat instances. Queries are
// written with SQLite's placeholders (? and ?N); on PostgreSQL they are
// rewritten to $N (see toDollars, which refuses what it cannot rewrite
// surely). What differs otherwise is written once per engine, in
// sqlite.go and postgres.go.

// dbPool is a pool of connections to one of the engines.
type dbPool struct {
	*sql.DB
	pg bool
	// stmts, when not nil, keeps each query prepared once per connection
	// of the pool instead of once per call: SQLite's prepare was the
	// largest single cost of a room page. PostgreSQL's driver keeps its
	// own per connection.
	stmts *stmtCache
	// changes, on the pool that writes, counts what it changed (see
	// Store.Changes), and accounts the changes of users and sessions that
	// the writes making them count (accountsChanged; see sessionCache).
	changes, accounts *atomic.Uint64
}

// changed counts a change, once it is done (committed).
func (d *dbPool) changed() {
	if d.changes != nil {
		d.changes.Add(1)
	}
}

// accountsChanged counts a change of a user or a session that is not new,
// once it is committed: the writes that make one call it (see
// sessionCache).
func (d *dbPool) accountsChanged() {
	if d.accounts != nil {
		d.accounts.Add(1)
	}
}

// stmtCache holds the pool's prepared statements by query. Nothing
// invalidates them: a statement is the query's text, and the schema does
// not change while the chat runs (migrations run before the pool opens).
// database/sql prepares a statement again on each connection it meets,
// and forgets it with the connection.
type stmtCache struct {
	m sync.Map // query → *sql.Stmt
	n atomic.Int64
}

// stmtCacheMax bounds the statements kept. The store's queries are a
// fixed set, but a list of ids on SQLite is a placeholder an id, so a
// query of many ids is a text of its own; past the bound such queries
// are prepared each time, as without the cache.
const stmtCacheMax = 256

// stmt is the pool's statement for query, prepared on first use; nil if
// the cache is full and query is not in it.
func (d *dbPool) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := d.stmts.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	// A place is taken before preparing, so that the bound holds
	// however many prepare at once.
	if d.stmts.n.Add(1) > stmtCacheMax {
		d.stmts.n.Add(-1)
		return nil, nil
	}
	text := query
	if !d.pg {
		// Prepared once for good: see toPlusParams.
		text = toPlusParams(query)
	}
	st, err := d.DB.PrepareContext(ctx, text)
	if err != nil {
		d.stmts.n.Add(-1)
		return nil, err
	}
	if prev, loaded := d.stmts.m.LoadOrStore(query, st); loaded {
		d.stmts.n.Add(-1)
		st.Close()
		return prev.(*sql.Stmt), nil
	}
	return st, nil
}

// dbTx is a transaction on one of the engines. On PostgreSQL it also
// holds the rooms it locked, with the newest entry of each: see
// lockRoom.
type dbTx struct {
	*sql.Tx
	pg    bool
	rooms map[int64]int64
	// pool, for a transaction of a pool that keeps statements (SQLite's
	// reads: a search), is that pool: its reads use the statements kept,
	// and missed are the queries it ran that were not kept yet.
	pool   *dbPool
	missed []string
	// changes and accounts are the pool's (see dbPool.changes): a
	// commit is counted, in accounts if the transaction was marked so
	// (changesAccounts).
	changes, accounts *atomic.Uint64
	accountsChanged   bool
}

// querier is what reads: the pool or a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	postgres() bool
}

// row is a *sql.Row, or the error of a query that could not be put in the
// engine's placeholders.
type row struct {
	*sql.Row
	err error
	// pool, for a row of the pool that writes, counts it once scanned,
	// when a write that returns a row is committed.
	pool *dbPool
}

// Scan is sql.Row's Scan, or the query's error.
func (r row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	err := r.Row.Scan(dest...)
	if r.pool != nil {
		r.pool.changed()
	}
	return err
}

// rewrittenMax bounds the queries whose PostgreSQL form is kept. The
// store's queries are a fixed set well under it (a list of ids is one
// array parameter on PostgreSQL, not a placeholder an id); should that
// change, the queries past the bound are rewritten each time, not kept.
const rewrittenMax = 512

var (
	rewritten  sync.Map // query → its PostgreSQL form
	rewrittenN atomic.Int64
)

type pgFlag bool

// q is the query in the engine's own placeholders, or the error that
// says why it cannot be put in them.
func (pg pgFlag) q(query string) (string, error) {
	if !pg {
		return query, nil
	}
	if r, ok := rewritten.Load(query); ok {
		return r.(string), nil
	}
	r, err := toDollars(query)
	if err != nil {
		return "", err
	}
	if rewrittenN.Load() < rewrittenMax {
		if _, loaded := rewritten.LoadOrStore(query, r); !loaded {
			rewrittenN.Add(1)
		}
	}
	return r, nil
}

func (d *dbPool) postgres() bool { return d.pg }

func (d *dbPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := d.execQuiet(ctx, query, args...)
	// Counted even when it failed: a count too many costs a page
	// rendered again, never a page that misses a change.
	d.changed()
	return res, err
}

// execQuiet is ExecContext for a write that no page shows (a session's
// last use): it is not counted in Store.Changes.
func (d *dbPool) execQuiet(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, err := pgFlag(d.pg).q(query)
	if err != nil {
		return nil, err
	}
	return d.DB.ExecContext(ctx, query, args...)
}

func (d *dbPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, err := pgFlag(d.pg).q(query)
	if err != nil {
		return nil, err
	}
	if d.stmts != nil {
		st, err := d.stmt(ctx, query)
		if err != nil {
			return nil, err
		}
		if st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	rows, err := d.DB.QueryContext(ctx, query, args...)
	// On the pool that writes, counted as a write, though a write's rows
	// commit when they are closed, after this: the chat writes through
	// ExecContext, QueryRowContext and transactions, never through rows
	// outside one.
	d.changed()
	return rows, err
}

func (d *dbPool) QueryRowContext(ctx context.Context, query string, args ...any) row {
	query, err := pgFlag(d.pg).q(query)
	if err != nil {
		return row{err: err}
	}
	if d.stmts != nil {
		st, err := d.stmt(ctx, query)
		if err != nil {
			return row{err: err}
		}
		if st != nil {
			return row{Row: st.QueryRowContext(ctx, args...)}
		}
	}
	// On the pool that writes, counted once scanned (row.Scan).
	return row{Row: d.DB.QueryRowContext(ctx, query, args...), pool: d}
}

func (d *dbPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	query, err := pgFlag(d.pg).q(query)
	if err != nil {
		return nil, err
	}
	return d.DB.PrepareContext(ctx, query)
}

func (d *dbPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*dbTx, error) {
	tx, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	t := &dbTx{Tx: tx, pg: d.pg, changes: d.changes, accounts: d.accounts}
	if d.stmts != nil {
		t.pool = d
	}
	return t, nil
}

// stmt is the pool's kept statement for query, made the transaction's;
// nil if the pool keeps none or has not kept it yet. It never prepares
// through the pool: that needs a connection of the pool while this
// transaction holds one, and with every connection held by such a
// transaction none would ever come. A query missed is kept once the
// transaction is over (keepMissed).
func (t *dbTx) stmt(ctx context.Context, query string) *sql.Stmt {
	if t.pool == nil {
		return nil
	}
	st, ok := t.pool.stmts.m.Load(query)
	if !ok {
		t.missed = append(t.missed, query)
		return nil
	}
	return t.Tx.StmtContext(ctx, st.(*sql.Stmt))
}

// Commit commits, then keeps the statements the transaction missed.
func (t *dbTx) Commit() error {
	err := t.Tx.Commit()
	if t.changes != nil {
		t.changes.Add(1)
		if t.accountsChanged {
			t.accounts.Add(1)
		}
	}
	t.keepMissed()
	return err
}

// Rollback rolls back, then keeps the statements the transaction missed.
func (t *dbTx) Rollback() error {
	err := t.Tx.Rollback()
	t.keepMissed()
	return err
}

// keepMissed prepares through the pool the queries the transaction ran
// that were not kept, now that its connection is back in the pool; one
// that fails to prepare is prepared again next time, as before.
func (t *dbTx) keepMissed() {
	for _, q := range t.missed {
		_, _ = t.pool.stmt(context.Background(), q)
	}
	t.missed = nil
}

func (t *dbTx) postgres() bool { return t.pg }

// changesAccounts marks the transaction as one that changes a user or a
// session that is not new: its commit is counted so (see sessionCache).
func (t *dbTx) changesAccounts() { t.accountsChanged = true }

func (t *dbTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	query, err := pgFlag(t.pg).q(query)
	if err != nil {
		return nil, err
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *dbTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query, err := pgFlag(t.pg).q(query)
	if err != nil {
		return nil, err
	}
	if st := t.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *dbTx) QueryRowContext(ctx context.Context, query string, args ...any) row {
	query, err := pgFlag(t.pg).q(query)
	if err != nil {
		return row{err: err}
	}
	if st := t.stmt(ctx, query); st != nil {
		return row{Row: st.QueryRowContext(ctx, args...)}
	}
	return row{Row: t.Tx.QueryRowContext(ctx, query, args...)}
}

// idsIn is a condition that col is one of ids, with its arguments: on
// PostgreSQL one array parameter, so that the query is the same whatever
// the number of ids; on SQLite a list of placeholders.
func idsIn(q querier, col string, ids []int64) (string, []any) {
	if q.postgres() {
		return col + " = ANY(?)", []any{ids}
	}
	return sqliteIDsIn(col, ids)
}

// insertID runs an INSERT of one row and returns the id it was given.
func (t *dbTx) insertID(ctx context.Context, query string, args ...any) (int64, error) {
	if t.pg {
		var id int64
		err := t.QueryRowContext(ctx, query+" RETURNING id", args...).Scan(&id)
		return id, err
	}
	res, err := t.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// lockRoom, on PostgreSQL, locks the room until the transaction ends and
// returns its newest entry. Entries get their ids from a sequence before
// they commit; with every writer of a room's entries and changes taking
// its lock first, a room's ids and change counters grow in the order
// their transactions commit, which is what a page that resumes with
// ?after= relies on. SQLite has one writer: there is nothing to lock, and
// it returns 0.
func (t *dbTx) lockRoom(ctx context.Context, roomID int64) (int64, error) {
	if !t.pg {
		return 0, nil
	}
	if last, ok := t.rooms[roomID]; ok {
		return last, nil
	}
	var one int
	err := t.QueryRowContext(ctx, "SELECT 1 FROM rooms WHERE id = ? FOR UPDATE", roomID).Scan(&one)
	if err == sql.ErrNoRows {
		return 0, nil // no room: the write that follows finds so
	}
	if err != nil {
		return 0, err
	}
	// A statement of its own, so that its snapshot, taken once the lock
	// is held, sees what the room's last writer committed.
	var last int64
	if err := t.QueryRowContext(ctx, "SELECT COALESCE(max(id), 0) FROM messages WHERE room_id = ?", roomID).Scan(&last); err != nil {
		return 0, err
	}
	if t.rooms == nil {
		t.rooms = make(map[int64]int64)
	}
	t.rooms[roomID] = last
	return last, nil
}

// stored records id as the room's newest entry, for the next lockRoom of
// this transaction.
func (t *dbTx) stored(roomID, id int64) {
	if t.pg {
		t.rooms[roomID] = id
	}
}
