package store_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"chat/internal/testdb"
	"chat/store"
)

// TestMigration6KeepsData: the migration that makes SQLite's messages
// table again (for its wider CHECK) keeps every message, reaction, id and
// the AUTOINCREMENT counter of a database made by the migrations before it.
func TestMigration6KeepsData(t *testing.T) {
	if testdb.Postgres() {
		t.Skip("SQLite's migration")
	}
	path := filepath.Join(t.TempDir(), "chat.db")
	// A store opened once registers the driver with the chat's SQL
	// functions, which migration 0003's index needs.
	if s, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "other.db")); err == nil {
		s.Close()
	}
	old, err := sql.Open("sqlite3_chat", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := old.Exec(q, args...); err != nil {
			t.Fatalf("%.60s: %v", q, err)
		}
	}
	exec("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)")
	for v, name := range []string{"0001_init.sql", "0002_client_ids.sql", "0003_conversation.sql", "0004_search_backlog.sql", "0005_people.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", v+1)
	}
	exec("INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'ann', 'h', 0), (2, 'bob', 'h', 0)")
	exec("INSERT INTO rooms (id, name, name_key, created_by, created_at) VALUES (1, 'Town', 'town', 1, 0)")
	exec("INSERT INTO memberships (room_id, user_id, created_at) VALUES (1, 1, 0)")
	exec(`INSERT INTO messages (id, room_id, user_id, kind, body, created_at, client_id, rev, edited_at, mentions)
		VALUES (1, 1, 1, 'join', '', 0, NULL, 0, NULL, ''), (2, 1, 1, 'post', 'kept words', 0, 'c1', 3, 5, 'bob'), (9, 1, 1, 'post', 'last', 0, NULL, 0, NULL, '')`)
	exec("DELETE FROM messages WHERE id = 9") // the counter stays at 9
	exec("INSERT INTO reactions (id, message_id, user_id, emoji, created_at) VALUES (1, 2, 2, '👍', 0)")
	exec("UPDATE search_state SET indexed_upto = 0")
	old.Close()

	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := s.FindMessage(ctx, 2)
	if err != nil || m.Text != "kept words" || m.ClientID != "c1" || m.Rev != 3 || len(m.Boosts) != 1 || m.Boosts[0].Users[0] != "bob" {
		t.Fatalf("message after the migration: %+v %v", m, err)
	}
	if n, _ := s.CountMessages(ctx, 1); n != 2 {
		t.Errorf("%d messages", n)
	}
	if _, _, err := s.IndexPosts(ctx, 100); err != nil {
		t.Fatal(err)
	}
	if hits, err := s.SearchPosts(ctx, 1, "kept", 10); err != nil || len(hits) != 1 {
		t.Errorf("search after the migration: %d %v", len(hits), err)
	}
	next, _, err := createPost(ctx, s, 1, 1, "new", "")
	if err != nil || next.ID <= 9 {
		t.Errorf("the next id is %d (%v), want past 9", next.ID, err)
	}
	// A reaction still goes with its message.
	if err := s.DeleteRoom(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
		t.Errorf("integrity: %q %v", v, err)
	}
	db, _ := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	defer db.Close()
	var left int
	db.QueryRow("SELECT count(*) FROM reactions").Scan(&left)
	if left != 0 {
		t.Errorf("%d reactions outlived their room", left)
	}
}
