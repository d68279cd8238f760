package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"sync"
)

// The store speaks one SQL to two engines: SQLite, a file beside the
// chat, and PostgreSQL, shared by several chat instances. Queries are
// written with SQLite's placeholders (? and ?N); on PostgreSQL they are
// rewritten once to $N and the rewrite is kept.

// dbPool is a pool of connections to one of the engines.
type dbPool struct {
	*sql.DB
	pg bool
}

// dbTx is a transaction on one of the engines. On PostgreSQL it also
// holds the rooms it locked, with the newest entry of each: see
// lockRoom.
type dbTx struct {
	*sql.Tx
	pg    bool
	rooms map[int64]int64
}

var rewritten sync.Map // query → its PostgreSQL form

// q is the query in the engine's own placeholders.
func (pg pgFlag) q(query string) string {
	if !pg {
		return query
	}
	if r, ok := rewritten.Load(query); ok {
		return r.(string)
	}
	r := toDollars(query)
	rewritten.Store(query, r)
	return r
}

type pgFlag bool

// toDollars turns ?N into $N and each bare ? into the next number, outside
// quoted strings.
func toDollars(query string) string {
	var b strings.Builder
	b.Grow(len(query) + 16)
	next := 0
	inString := false
	for i := 0; i < len(query); i++ {
		c := query[i]
		if c == '\'' {
			inString = !inString
		}
		if c != '?' || inString {
			b.WriteByte(c)
			continue
		}
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if j > i+1 {
			n, _ := strconv.Atoi(query[i+1 : j])
			next = max(next, n)
			b.WriteString("$" + query[i+1:j])
			i = j - 1
			continue
		}
		next++
		b.WriteString("$" + strconv.Itoa(next))
	}
	return b.String()
}

func (d *dbPool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.DB.ExecContext(ctx, pgFlag(d.pg).q(query), args...)
}

func (d *dbPool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.DB.QueryContext(ctx, pgFlag(d.pg).q(query), args...)
}

func (d *dbPool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return d.DB.QueryRowContext(ctx, pgFlag(d.pg).q(query), args...)
}

func (d *dbPool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return d.DB.PrepareContext(ctx, pgFlag(d.pg).q(query))
}

func (d *dbPool) BeginTx(ctx context.Context, opts *sql.TxOptions) (*dbTx, error) {
	tx, err := d.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &dbTx{Tx: tx, pg: d.pg}, nil
}

func (t *dbTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return t.Tx.ExecContext(ctx, pgFlag(t.pg).q(query), args...)
}

func (t *dbTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.Tx.QueryContext(ctx, pgFlag(t.pg).q(query), args...)
}

func (t *dbTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.Tx.QueryRowContext(ctx, pgFlag(t.pg).q(query), args...)
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
