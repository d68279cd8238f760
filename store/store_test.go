package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/store"
)

func TestMain(m *testing.M) { os.Exit(testdb.RunBoth(m)) }

// openStore opens a database of the test's own on the engine under test,
// and returns it and what opens it again.
func openStore(t testing.TB) (*store.Store, string) {
	t.Helper()
	path := testdb.New(t)
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func mustUser(t *testing.T, s *store.Store, name string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), name, "$argon2id$x")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOpen(t *testing.T) {
	t.Run("MigratesOnceAndKeepsData", func(t *testing.T) {
		path := testdb.New(t)
		ctx := context.Background()
		s, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateUser(ctx, "alice", "h"); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(path + "-wal"); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("write-ahead log left after close: %v", err)
		}
		s, err = store.Open(ctx, path)
		if err != nil {
			t.Fatalf("second open: %v", err)
		}
		defer s.Close()
		if _, err := s.FindUserByUsername(ctx, "alice"); err != nil {
			t.Errorf("user lost across reopen: %v", err)
		}
	})
	t.Run("ErrEmptyPath", func(t *testing.T) {
		if _, err := store.Open(context.Background(), ""); err == nil {
			t.Error("opened an empty path")
		}
	})
}

func TestCreateUser(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	t.Run("OK", func(t *testing.T) {
		u, err := s.CreateUser(ctx, "Alice", "hash")
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Username != "Alice" || u.PasswordHash != "hash" {
			t.Errorf("got %+v", u)
		}
		if !u.IsAdmin {
			t.Error("the first account is not an admin")
		}
		got, err := s.FindUserByUsername(ctx, "aLiCe")
		if err != nil || got.ID != u.ID {
			t.Errorf("find in other case: %+v, %v", got, err)
		}
	})
	t.Run("SecondIsNoAdmin", func(t *testing.T) {
		u := mustUser(t, s, "bob")
		if u.IsAdmin {
			t.Error("second account is an admin")
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		_, err := s.CreateUser(ctx, "ALICE", "other")
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("got %v, want ErrConflict", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := s.FindUserByUsername(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("got %v", err)
		}
		if _, err := s.FindUserByID(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("got %v", err)
		}
	})
}

func TestSessions(t *testing.T) {
	s, path := openStore(t)
	ctx := context.Background()
	u := mustUser(t, s, "alice")
	token, sess, err := s.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("OK", func(t *testing.T) {
		got, err := s.FindSession(ctx, token)
		if err != nil {
			t.Fatal(err)
		}
		if got.User.ID != u.ID || got.ID != sess.ID || got.ID == "" {
			t.Errorf("got %+v", got)
		}
	})
	t.Run("TokenIsNotStored", func(t *testing.T) {
		if testdb.Postgres() {
			hashes, err := testdb.Column(path, "SELECT token_hash FROM sessions")
			if err != nil || len(hashes) == 0 {
				t.Fatalf("sessions: %d %v", len(hashes), err)
			}
			for _, h := range hashes {
				if strings.Contains(string(h), token) {
					t.Error("the session token is in the database")
				}
			}
			return
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		wal, _ := os.ReadFile(path + "-wal")
		if strings.Contains(string(raw)+string(wal), token) {
			t.Error("the session token is in the database file")
		}
	})
	t.Run("FreshTokenEachTime", func(t *testing.T) {
		other, _, err := s.CreateSession(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if other == token {
			t.Error("two sessions share a token")
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		for _, tok := range []string{"", "nope", token + "x"} {
			if _, err := s.FindSession(ctx, tok); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("FindSession(%q) = %v", tok, err)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		id, err := s.DeleteSession(ctx, token)
		if err != nil || id != sess.ID {
			t.Fatalf("delete: %q, %v", id, err)
		}
		if _, err := s.FindSession(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted session still found: %v", err)
		}
		if _, err := s.DeleteSession(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestRooms(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	bob := mustUser(t, s, "bob")

	room, joined, err := s.CreateRoom(ctx, "Café ☕", alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("CreatorIsMember", func(t *testing.T) {
		if joined.Kind != store.KindJoin || joined.Author != "alice" || joined.RoomID != room.ID {
			t.Errorf("join entry %+v", joined)
		}
		ok, err := s.IsMember(ctx, room.ID, alice.ID)
		if err != nil || !ok {
			t.Errorf("creator member: %v, %v", ok, err)
		}
	})
	t.Run("ErrNameTaken", func(t *testing.T) {
		for _, name := range []string{"Café ☕", "CAFÉ ☕", "cafe\u0301 ☕"} {
			if _, _, err := s.CreateRoom(ctx, name, bob.ID); !errors.Is(err, store.ErrConflict) {
				t.Errorf("CreateRoom(%q) = %v, want ErrConflict", name, err)
			}
		}
	})
	t.Run("ListMarksMembership", func(t *testing.T) {
		if _, _, err := s.CreateRoom(ctx, "announcements", bob.ID); err != nil {
			t.Fatal(err)
		}
		rooms, err := s.ListRooms(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(rooms) != 2 || rooms[0].Name != "announcements" || rooms[0].Member || !rooms[1].Member {
			t.Errorf("rooms %+v", rooms)
		}
	})
	t.Run("JoinAndLeaveOnce", func(t *testing.T) {
		m, changed, err := joinRoom(ctx, s, room.ID, bob.ID)
		if err != nil || !changed || m.Kind != store.KindJoin || m.Author != "bob" {
			t.Fatalf("join: %+v %v %v", m, changed, err)
		}
		if _, changed, err := joinRoom(ctx, s, room.ID, bob.ID); err != nil || changed {
			t.Errorf("second join changed=%v err=%v", changed, err)
		}
		members, _ := s.ListMembers(ctx, room.ID)
		if strings.Join(members, ",") != "alice,bob" {
			t.Errorf("members %v", members)
		}
		m, changed, err = leaveRoom(ctx, s, room.ID, bob.ID)
		if err != nil || !changed || m.Kind != store.KindLeave {
			t.Fatalf("leave: %+v %v %v", m, changed, err)
		}
		if _, changed, err := leaveRoom(ctx, s, room.ID, bob.ID); err != nil || changed {
			t.Errorf("second leave changed=%v err=%v", changed, err)
		}
		msgs, _ := s.ListLatestMessages(ctx, room.ID, 50)
		var kinds []string
		for _, m := range msgs {
			kinds = append(kinds, m.Kind+":"+m.Author)
		}
		if got := strings.Join(kinds, " "); got != "join:alice join:bob leave:bob" {
			t.Errorf("history %q", got)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		if _, err := s.FindRoomByID(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("find: %v", err)
		}
		if _, _, err := joinRoom(ctx, s, 999, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("join: %v", err)
		}
		if _, _, err := leaveRoom(ctx, s, 999, bob.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("leave: %v", err)
		}
	})
}

func TestMessages(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	bob := mustUser(t, s, "bob")
	room, first, err := s.CreateRoom(ctx, "general", alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := s.CreateRoom(ctx, "other", alice.ID)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("ErrNotMember", func(t *testing.T) {
		if _, _, err := createPost(ctx, s, room.ID, bob.ID, "hi", ""); !errors.Is(err, store.ErrNotMember) {
			t.Errorf("got %v", err)
		}
		if _, _, err := createPost(ctx, s, 999, bob.ID, "hi", ""); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown room: %v", err)
		}
	})

	ids := []int64{first.ID}
	for i := range 120 {
		m, _, err := createPost(ctx, s, room.ID, alice.ID, fmt.Sprintf("post %d", i), "")
		if err != nil {
			t.Fatal(err)
		}
		if m.ID <= ids[len(ids)-1] || m.Kind != store.KindPost || m.Author != "alice" || m.Text != fmt.Sprintf("post %d", i) {
			t.Fatalf("post %d: %+v", i, m)
		}
		ids = append(ids, m.ID)
		// Entries of another room in between must not show in this one.
		if _, _, err := createPost(ctx, s, other.ID, alice.ID, "elsewhere", ""); err != nil {
			t.Fatal(err)
		}
	}
	check := func(t *testing.T, got []store.Message, want []int64) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("got %d entries, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].ID != want[i] || got[i].RoomID != room.ID {
				t.Fatalf("entry %d: id %d room %d, want id %d", i, got[i].ID, got[i].RoomID, want[i])
			}
		}
	}
	t.Run("Latest", func(t *testing.T) {
		got, err := s.ListLatestMessages(ctx, room.ID, 50)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, ids[len(ids)-50:])
	})
	t.Run("Before", func(t *testing.T) {
		got, err := s.ListMessagesBefore(ctx, room.ID, ids[len(ids)-50], 50)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, ids[len(ids)-100:len(ids)-50])
		got, _ = s.ListMessagesBefore(ctx, room.ID, ids[21], 50)
		check(t, got, ids[:21])
		got, _ = s.ListMessagesBefore(ctx, room.ID, ids[0], 50)
		check(t, got, nil)
	})
	t.Run("After", func(t *testing.T) {
		got, err := s.ListMessagesAfter(ctx, room.ID, ids[100], 50)
		if err != nil {
			t.Fatal(err)
		}
		check(t, got, ids[101:])
		got, _ = s.ListMessagesAfter(ctx, room.ID, 0, 5)
		check(t, got, ids[:5])
	})
}

func TestCreatePostClientID(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	alice := mustUser(t, s, "alice")
	bob := mustUser(t, s, "bob")
	room, _, _ := s.CreateRoom(ctx, "general", alice.ID)
	joinRoom(ctx, s, room.ID, bob.ID)

	first, created, err := createPost(ctx, s, room.ID, alice.ID, "once", "c-123456789")
	if err != nil || !created || first.ClientID != "c-123456789" {
		t.Fatalf("first: %+v %v %v", first, created, err)
	}
	again, created, err := createPost(ctx, s, room.ID, alice.ID, "once", "c-123456789")
	if err != nil || created || again.ID != first.ID || again.Text != "once" {
		t.Errorf("replayed send: %+v created=%v err=%v", again, created, err)
	}
	// Another user's ids are theirs; no id never dedupes.
	if _, created, _ := createPost(ctx, s, room.ID, bob.ID, "mine", "c-123456789"); !created {
		t.Error("bob's post with alice's id was not stored")
	}
	for range 2 {
		if _, created, _ := createPost(ctx, s, room.ID, alice.ID, "same words", ""); !created {
			t.Error("a post without id was taken for a replay")
		}
	}
	msgs, _ := s.ListLatestMessages(ctx, room.ID, 50)
	if len(msgs) != 6 {
		t.Errorf("%d entries, want 2 joins and 4 posts", len(msgs))
	}
	// The id names a post in its room: in another room it is refused, and
	// nothing is stored there.
	other, _, _ := s.CreateRoom(ctx, "other", alice.ID)
	if m, created, err := createPost(ctx, s, other.ID, alice.ID, "elsewhere", "c-123456789"); !errors.Is(err, store.ErrConflict) || created {
		t.Errorf("id reused in another room: %+v created=%v err=%v, want ErrConflict", m, created, err)
	}
	if msgs, _ := s.ListLatestMessages(ctx, other.ID, 50); len(msgs) != 1 {
		t.Errorf("%d entries in the other room, want its creator's join alone", len(msgs))
	}
	again, created, err = createPost(ctx, s, room.ID, alice.ID, "once", "c-123456789")
	if err != nil || created || again.ID != first.ID {
		t.Errorf("replay after the refusal: %+v created=%v err=%v", again, created, err)
	}
}

// The writes of entries, each in a batch of its own, as the chat's
// writer makes them.

func createPost(ctx context.Context, s *store.Store, roomID, userID int64, text, clientID string) (m store.Message, created bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, created, err = b.CreatePost(ctx, roomID, userID, text, clientID)
		return err
	})
	return m, created, err
}

func editPost(ctx context.Context, s *store.Store, id, userID int64, text string) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = b.EditPost(ctx, id, userID, text)
		return err
	})
	return m, changed, err
}

func deletePost(ctx context.Context, s *store.Store, id, userID int64, admin bool) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = b.DeletePost(ctx, id, userID, admin)
		return err
	})
	return m, changed, err
}

func toggleBoost(ctx context.Context, s *store.Store, id, userID int64, emoji string) (m store.Message, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, _, err = b.ToggleBoost(ctx, id, userID, emoji)
		return err
	})
	return m, err
}

func joinRoom(ctx context.Context, s *store.Store, roomID, userID int64) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = b.JoinRoom(ctx, roomID, userID)
		return err
	})
	return m, changed, err
}

func leaveRoom(ctx context.Context, s *store.Store, roomID, userID int64) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = b.LeaveRoom(ctx, roomID, userID)
		return err
	})
	return m, changed, err
}

// TestConstraintErrors: a write the schema refuses comes back as
// ErrNotFound (a row referred to is missing) or ErrConflict (a taken
// key), on both engines.
func TestConstraintErrors(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	ada := mustUser(t, s, "ada")
	for _, c := range []struct {
		name string
		err  error
		want error
	}{
		{"SessionOfNoUser", func() error { _, _, err := s.CreateSession(ctx, 999); return err }(), store.ErrNotFound},
		{"AvatarOfNoUser", s.SetAvatar(ctx, 999, []byte("png")), store.ErrNotFound},
		{"ResetTokenByNoUser", func() error { _, err := s.CreateResetToken(ctx, ada.ID, 999, time.Hour); return err }(), store.ErrNotFound},
		{"MarkReadOfNoUser", func() error {
			r, _, err := s.CreateRoom(ctx, "lobby", ada.ID)
			if err != nil {
				return err
			}
			return s.MarkRead(ctx, store.ReadMark{UserID: 999, RoomID: r.ID, LastID: 1})
		}(), store.ErrNotFound},
		{"UserNameTaken", func() error { _, err := s.CreateUser(ctx, "ADA", "h"); return err }(), store.ErrConflict},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !errors.Is(c.err, c.want) {
				t.Errorf("got %v, want %v", c.err, c.want)
			}
		})
	}
}

// TestSessionsKeptRight: a session found is kept in memory (sessionCache,
// on SQLite), and what is found from it is what the database says: a
// change of its user is seen at once, idleness ends it as the query
// would, and its use is still written down once a minute, kept or not.
// It runs on both engines: PostgreSQL keeps nothing, and must say the
// same.
func TestSessionsKeptRight(t *testing.T) {
	ctx := context.Background()
	path := testdb.New(t)
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const idle = time.Hour
	s, err := store.Open(ctx, path, store.WithClock(clock), store.WithSessionIdle(idle))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	u := mustUser(t, s, "alice")
	token, _, err := s.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	find := func() (store.Session, error) {
		t.Helper()
		// Twice: the second may be the one kept.
		if _, err := s.FindSession(ctx, token); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		return s.FindSession(ctx, token)
	}

	if err := s.SetLanguage(ctx, u.ID, "es"); err != nil {
		t.Fatal(err)
	}
	if got, err := find(); err != nil || got.User.Language != "es" {
		t.Fatalf("after the language changed: %+v, %v", got.User, err)
	}
	if err := s.SetSound(ctx, u.ID, true); err != nil {
		t.Fatal(err)
	}
	if got, err := find(); err != nil || !got.User.Sound {
		t.Fatalf("after the sound changed: %+v, %v", got.User, err)
	}

	// Used every 50 minutes, kept or not, it lives on: each use past a
	// minute is written, which another store on the file sees.
	for range 3 {
		now = now.Add(50 * time.Minute)
		if _, err := find(); err != nil {
			t.Fatalf("a session used every 50 minutes, idle an hour: %v", err)
		}
	}
	if !testdb.Postgres() {
		db, err := sql.Open("sqlite3", path)
		if err != nil {
			t.Fatal(err)
		}
		var last int64
		err = db.QueryRow("SELECT last_seen_at FROM sessions").Scan(&last)
		db.Close()
		if err != nil || last != now.UnixMilli() {
			t.Fatalf("its last use, at %d, was written as %d (%v)", now.UnixMilli(), last, err)
		}
	}
	now = now.Add(idle + time.Second)
	if _, err := find(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a session idle past its time: %v", err)
	}

	token, _, err = s.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := find(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DeactivateUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := find(); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a deactivated user's session: %v", err)
	}
}
