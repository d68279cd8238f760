package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// TestReadStatementsKept: on SQLite a read is prepared once and kept; a
// query text the store has not seen past the bound (a long list of ids is
// a text of its own) is still answered, without growing the cache.
func TestReadStatementsKept(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.read.stmts == nil {
		t.Fatal("the SQLite read pool keeps no statements")
	}
	const q = "SELECT count(*) FROM users WHERE id > ?"
	for range 3 {
		var n int
		if err := s.read.QueryRowContext(ctx, q, 0).Scan(&n); err != nil || n != 0 {
			t.Fatalf("count: %d %v", n, err)
		}
	}
	first, ok := s.read.stmts.m.Load(q)
	if !ok || s.read.stmts.n.Load() != 1 {
		t.Fatalf("after three reads of one query the cache holds %d statements (query kept: %v)", s.read.stmts.n.Load(), ok)
	}
	rows, err := s.read.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if again, _ := s.read.stmts.m.Load(q); again != first {
		t.Error("the query was prepared again")
	}
	// Fill the cache with lists of ids of every length, then past it.
	for n := 1; n <= stmtCacheMax+20; n++ {
		ids := make([]int64, n)
		cond, args := sqliteIDsIn("id", ids)
		var got int
		if err := s.read.QueryRowContext(ctx, "SELECT count(*) FROM users WHERE "+cond, args...).Scan(&got); err != nil {
			t.Fatalf("%d ids: %v", n, err)
		}
	}
	if got := s.read.stmts.n.Load(); got != stmtCacheMax {
		t.Errorf("the cache holds %d statements, bound %d", got, stmtCacheMax)
	}
	// A bad query is an error, whether kept or not.
	if err := s.read.QueryRowContext(ctx, "SELECT nothing FROM nowhere").Scan(new(int)); err == nil {
		t.Error("a query of a table that does not exist answered")
	}
}

// TestSearchWithOneConnectionLeft: a search holds one of the read pool's
// connections for its transaction, and must end with no other free: with
// every other connection held (as by other searches), one that waited
// for a connection to prepare a statement would wait for ever. The
// statements it missed are kept once its transaction is over.
func TestSearchWithOneConnectionLeft(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, err := s.CreateUser(ctx, "alice", "x")
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := s.CreateRoom(ctx, "general", u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CreatePost(ctx, r.ID, u.ID, "coffee and cake", ""); err != nil {
		t.Fatal(err)
	}
	held := s.read.Stats().MaxOpenConnections - 1
	for range held {
		tx, err := s.read.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
	}
	// A bound on the wait, so that a hang fails rather than stops the
	// suite; nothing is timed otherwise.
	bounded, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	hits, err := s.SearchPosts(bounded, u.ID, "coffee", 50)
	if err != nil || len(hits) != 1 {
		t.Fatalf("search with %d of the pool's connections held: %v, %v", held, hits, err)
	}
	if _, ok := s.read.stmts.m.Load("SELECT indexed_upto FROM search_state"); !ok {
		t.Error("the search's statements were not kept after it")
	}
}
