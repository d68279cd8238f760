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

// TestMigration8KeepsSearch: the migration that has SQLite's search index
// read posts with their files' names keeps the index of a database made
// before it whole: its posts are found, edited and deleted as before.
func TestMigration8KeepsSearch(t *testing.T) {
	if testdb.Postgres() {
		t.Skip("SQLite's migration")
	}
	path := filepath.Join(t.TempDir(), "chat.db")
	// A store opened once registers the driver with the chat's SQL
	// functions, which the search index's view needs.
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
	for v, name := range []string{"0001_init.sql", "0002_client_ids.sql", "0003_conversation.sql", "0004_search_backlog.sql",
		"0005_people.sql", "0006_who_gets_in.sql", "0007_notifications.sql"} {
		body, err := os.ReadFile(filepath.Join("migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		exec(string(body))
		exec("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)", v+1)
	}
	exec("INSERT INTO users (id, username, password_hash, created_at) VALUES (1, 'ann', 'h', 0)")
	exec("INSERT INTO rooms (id, name, name_key, created_by, created_at) VALUES (1, 'Town', 'town', 1, 0)")
	exec("INSERT INTO memberships (room_id, user_id, created_at) VALUES (1, 1, 0)")
	exec(`INSERT INTO messages (id, room_id, user_id, kind, body, created_at) VALUES
		(1, 1, 1, 'post', 'older words', 0), (2, 1, 1, 'post', 'words to edit', 0), (3, 1, 1, 'post', 'words to delete', 0)`)
	exec("UPDATE search_state SET indexed_upto = 3")
	exec("INSERT INTO post_search (post_search) VALUES ('rebuild')")
	old.Close()

	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ftsIntegrity(t, s, path)
	if hits, err := s.SearchPosts(ctx, 1, "words", 10); err != nil || len(hits) != 3 {
		t.Fatalf("after the migration: %v %v", hits, err)
	}
	if _, _, err := editPost(ctx, s, 2, 1, "edited"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := deletePost(ctx, s, 3, 1, false); err != nil {
		t.Fatal(err)
	}
	if hits, err := s.SearchPosts(ctx, 1, "words", 10); err != nil || len(hits) != 1 || hits[0].ID != 1 {
		t.Errorf("after an edit and a delete: %v %v", hits, err)
	}
	ftsIntegrity(t, s, path)
}
