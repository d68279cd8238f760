package store_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/store"
)

func TestDeactivateAndAdmin(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	mustUser(t, s, "root")
	bob := mustUser(t, s, "bob")
	token, sess, err := s.CreateSession(ctx, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	room, _, err := s.CreateRoom(ctx, "general", bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	ended, err := s.DeactivateUser(ctx, bob.ID)
	if err != nil || len(ended) != 1 || ended[0] != sess.ID {
		t.Fatalf("deactivate: %v %v", ended, err)
	}
	if _, err := s.FindSession(ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("session of a deactivated user: %v", err)
	}
	// A session made after (a race with the sign-in) is refused too.
	token, _, _ = s.CreateSession(ctx, bob.ID)
	if _, err := s.FindSession(ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("new session of a deactivated user: %v", err)
	}
	if u, _ := s.FindUserByUsername(ctx, "bob"); !u.Deactivated {
		t.Error("bob is not marked deactivated")
	}
	// Gone from the members, and from what @ offers.
	if names, err := s.ListMembers(ctx, room.ID); err != nil || len(names) != 0 {
		t.Errorf("members after bob's deactivation: %v %v", names, err)
	}
	if names, err := s.ListMembersLike(ctx, room.ID, "b", 10); err != nil || len(names) != 0 {
		t.Errorf("@b offers %v %v", names, err)
	}
	if _, err := s.DeactivateUser(ctx, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deactivate no one: %v", err)
	}
	carol := mustUser(t, s, "carol")
	if err := s.SetAdmin(ctx, carol.ID); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.FindUserByID(ctx, carol.ID); !u.IsAdmin {
		t.Error("carol is no admin")
	}
}

func TestResetTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	s, err := store.Open(ctx, testdb.New(t), store.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	root := mustUser(t, s, "root")
	bob := mustUser(t, s, "bob")
	session, _, _ := s.CreateSession(ctx, bob.ID)
	token, err := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := s.FindResetToken(ctx, token); err != nil || u.ID != bob.ID {
		t.Fatalf("find: %v %v", u, err)
	}
	if _, err := s.FindResetToken(ctx, token+"x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a wrong token: %v", err)
	}
	u, ended, err := s.UseResetToken(ctx, token, "new-hash")
	if err != nil || u.ID != bob.ID || len(ended) != 1 {
		t.Fatalf("use: %v %v %v", u, ended, err)
	}
	if got, _ := s.FindUserByID(ctx, bob.ID); got.PasswordHash != "new-hash" {
		t.Error("the password did not change")
	}
	if _, err := s.FindSession(ctx, session); !errors.Is(err, store.ErrNotFound) {
		t.Error("bob's session outlived the reset")
	}
	if _, _, err := s.UseResetToken(ctx, token, "again"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a token used twice: %v", err)
	}
	// A token expires after its time.
	late, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
	now = now.Add(24*time.Hour + time.Second)
	if _, _, err := s.UseResetToken(ctx, late, "late"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("an expired token: %v", err)
	}
	if got, _ := s.FindUserByID(ctx, bob.ID); got.PasswordHash != "new-hash" {
		t.Error("a refused reset changed the password")
	}
}

func TestBots(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	mustUser(t, s, "root")
	bot, token, err := s.CreateBot(ctx, "helper", "http://127.0.0.1:9/hook")
	if err != nil {
		t.Fatal(err)
	}
	if !bot.IsBot || bot.WebhookURL != "http://127.0.0.1:9/hook" || !strings.HasPrefix(token, "chatbot_") {
		t.Errorf("bot %+v token %q", bot, token)
	}
	if got, err := s.FindBotByToken(ctx, token); err != nil || got.ID != bot.ID {
		t.Errorf("by token: %v %v", got, err)
	}
	for _, bad := range []string{"", "chatbot_", token + "x", strings.ToUpper(token)} {
		if _, err := s.FindBotByToken(ctx, bad); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("token %q: %v", bad, err)
		}
	}
	if _, _, err := s.CreateBot(ctx, "HELPER", ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a taken name: %v", err)
	}
	if _, _, err := s.CreateBot(ctx, "root", ""); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a person's name: %v", err)
	}
	if err := s.SetAdmin(ctx, bot.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a bot made admin: %v", err)
	}
	// Revoked: deactivating the bot stops its token.
	if _, err := s.DeactivateUser(ctx, bot.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindBotByToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a deactivated bot: %v", err)
	}
}

func TestDirectMessages(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	eve := mustUser(t, s, "eve")
	dm, err := s.OpenDM(ctx, ada, bob)
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.OpenDM(ctx, bob, ada)
	if err != nil || again.ID != dm.ID || again.Kind != store.RoomKindDM {
		t.Errorf("the same pair got %v %v, want room %d", again, err, dm.ID)
	}
	other, _ := s.OpenDM(ctx, ada, eve)
	if other.ID == dm.ID {
		t.Error("two pairs share a room")
	}
	if rooms, _ := s.ListRooms(ctx, ada.ID); len(rooms) != 0 {
		t.Errorf("direct messages listed as rooms: %v", rooms)
	}
	dms, err := s.ListDMs(ctx, ada.ID)
	if err != nil || len(dms) != 2 || dms[0].Name != "bob" || dms[1].Name != "eve" {
		t.Errorf("ada's dms %+v %v", dms, err)
	}
	if dms, _ := s.ListDMs(ctx, bob.ID); len(dms) != 1 || dms[0].Name != "ada" {
		t.Errorf("bob's dms %+v", dms)
	}
	if p, err := s.DMPartner(ctx, dm.ID, bob.ID); err != nil || p.ID != ada.ID {
		t.Errorf("partner %v %v", p, err)
	}
	if _, _, err := joinRoom(ctx, s, dm.ID, eve.ID); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a third user joins: %v", err)
	}
	if _, _, err := leaveRoom(ctx, s, dm.ID, ada.ID); !errors.Is(err, store.ErrForbidden) {
		t.Errorf("a member leaves: %v", err)
	}
	if _, _, err := createPost(ctx, s, dm.ID, eve.ID, "let me in", ""); !errors.Is(err, store.ErrNotMember) {
		t.Errorf("a third user posts: %v", err)
	}
	m, _, err := createPost(ctx, s, dm.ID, ada.ID, "a secret plan", "")
	if err != nil {
		t.Fatal(err)
	}
	// Search finds it for its members alone.
	for _, c := range []struct {
		who  store.User
		want int
	}{{ada, 1}, {bob, 1}, {eve, 0}} {
		hits, err := s.SearchPosts(ctx, c.who.ID, "secret", 10)
		if err != nil || len(hits) != c.want {
			t.Errorf("%s finds %d, want %d (%v)", c.who.Username, len(hits), c.want, err)
		}
	}
	s.IndexPosts(ctx, 100)
	if hits, _ := s.SearchPosts(ctx, eve.ID, "secret", 10); len(hits) != 0 {
		t.Errorf("eve finds the indexed dm post: %v", hits[0].ID == m.ID)
	}
}

func TestAvatars(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	if _, _, err := s.FindAvatar(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("no avatar yet: %v", err)
	}
	if err := s.SetAvatar(ctx, ada.ID, []byte("png one")); err != nil {
		t.Fatal(err)
	}
	s.SetAvatar(ctx, ada.ID, []byte("png two"))
	if img, _, err := s.FindAvatar(ctx, ada.ID); err != nil || string(img) != "png two" {
		t.Errorf("avatar %q %v", img, err)
	}
	s.DeleteAvatar(ctx, ada.ID)
	if _, _, err := s.FindAvatar(ctx, ada.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after delete: %v", err)
	}
}

// TestResetTokensEndEachOther: using a link, changing the password or
// making a new link ends every other outstanding link of the user; an
// ended link is as good as none, and changes nothing.
func TestResetTokensEndEachOther(t *testing.T) {
	ctx := context.Background()
	setup := func(t *testing.T) (*store.Store, store.User, store.User) {
		s, _ := openStore(t)
		return s, mustUser(t, s, "root"), mustUser(t, s, "bob")
	}
	ended := func(t *testing.T, s *store.Store, bob store.User, token, hash string) {
		t.Helper()
		if _, err := s.FindResetToken(ctx, token); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("find an ended link: %v", err)
		}
		if _, _, err := s.UseResetToken(ctx, token, "from-the-old-link"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("use an ended link: %v", err)
		}
		if got, _ := s.FindUserByID(ctx, bob.ID); got.PasswordHash != hash {
			t.Errorf("an ended link changed the password to %q", got.PasswordHash)
		}
	}
	t.Run("OlderAfterNewerUsed", func(t *testing.T) {
		s, root, bob := setup(t)
		older, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		newer, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		if _, _, err := s.UseResetToken(ctx, newer, "newer-hash"); err != nil {
			t.Fatalf("use the newer link: %v", err)
		}
		ended(t, s, bob, older, "newer-hash")
	})
	t.Run("NewerAfterOlderUsed", func(t *testing.T) {
		s, root, bob := setup(t)
		older, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		newer, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		// The newer one ended the older at once.
		ended(t, s, bob, older, "$argon2id$x")
		if _, _, err := s.UseResetToken(ctx, newer, "newer-hash"); err != nil {
			t.Fatalf("use the newer link: %v", err)
		}
	})
	t.Run("AfterPasswordChange", func(t *testing.T) {
		s, root, bob := setup(t)
		token, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		if _, err := s.ChangePassword(ctx, bob.ID, "changed-hash", ""); err != nil {
			t.Fatal(err)
		}
		ended(t, s, bob, token, "changed-hash")
	})
	t.Run("OthersUntouched", func(t *testing.T) {
		s, root, bob := setup(t)
		carol := mustUser(t, s, "carol")
		hers, _ := s.CreateResetToken(ctx, carol.ID, root.ID, 24*time.Hour)
		bobs, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
		s.UseResetToken(ctx, bobs, "x")
		if _, err := s.ChangePassword(ctx, bob.ID, "changed-hash", ""); err != nil {
			t.Fatal(err)
		}
		if u, err := s.FindResetToken(ctx, hers); err != nil || u.ID != carol.ID {
			t.Errorf("bob's links ended carol's: %v", err)
		}
	})
	// A link used while an admin makes a new one and the user changes
	// the password: each finishes or finds its link ended (no deadlock,
	// no error), and at most one link is left.
	t.Run("AllAtOnce", func(t *testing.T) {
		s, root, bob := setup(t)
		for round := range 10 {
			old, _ := s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour)
			var made string
			var wg sync.WaitGroup
			errs := make(chan error, 3)
			wg.Add(3)
			go func() {
				defer wg.Done()
				if _, _, err := s.UseResetToken(ctx, old, "reset"); err != nil && !errors.Is(err, store.ErrNotFound) {
					errs <- err
				}
			}()
			go func() {
				defer wg.Done()
				var err error
				if made, err = s.CreateResetToken(ctx, bob.ID, root.ID, 24*time.Hour); err != nil {
					errs <- err
				}
			}()
			go func() {
				defer wg.Done()
				if _, err := s.ChangePassword(ctx, bob.ID, "changed", ""); err != nil {
					errs <- err
				}
			}()
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Errorf("round %d: %v", round, err)
			}
			left := 0
			for _, tok := range []string{old, made} {
				if _, err := s.FindResetToken(ctx, tok); err == nil {
					left++
				}
			}
			if left > 1 {
				t.Errorf("round %d: %d links left", round, left)
			}
		}
	})
}
