package store

import (
	"context"
	"path/filepath"
	"testing"
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
