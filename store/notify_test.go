package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"chat/store"
)

// listing is the user's listing of the room among their rooms and DMs.
func listing(t *testing.T, s *store.Store, userID, roomID int64) store.RoomListing {
	t.Helper()
	ctx := context.Background()
	rooms, err := s.ListRooms(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	dms, err := s.ListDMs(ctx, userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range append(rooms, dms...) {
		if r.ID == roomID {
			return r
		}
	}
	t.Fatalf("room %d not listed for user %d", roomID, userID)
	return store.RoomListing{}
}

func TestUnreadCounts(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada_x")
	bob := mustUser(t, s, "bob")
	eve := mustUser(t, s, "eve")
	room, _, err := s.CreateRoom(ctx, "general", ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	join, _, err := joinRoom(ctx, s, room.ID, bob.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.MarkRead(ctx, store.ReadMark{UserID: ada.ID, RoomID: room.ID, LastID: join.ID}); err != nil {
		t.Fatal(err)
	}

	t.Run("PostsByOthersOnly", func(t *testing.T) {
		// Bob's three posts count; ada's own, a join and a leave do not.
		for i := range 3 {
			if _, _, err := createPost(ctx, s, room.ID, bob.ID, fmt.Sprint("hello ", i), ""); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := createPost(ctx, s, room.ID, ada.ID, "mine", ""); err != nil {
			t.Fatal(err)
		}
		if _, _, err := joinRoom(ctx, s, room.ID, eve.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := leaveRoom(ctx, s, room.ID, eve.ID); err != nil {
			t.Fatal(err)
		}
		got := listing(t, s, ada.ID, room.ID)
		if got.Unread != (store.Unread{Count: 3}) {
			t.Errorf("ada's unread = %+v, want 3 and no mention", got.Unread)
		}
		// Eve is no member: no count, whatever she has not seen.
		if got := listing(t, s, eve.ID, room.ID); got.Unread.Count != 0 {
			t.Errorf("a non-member's count = %d", got.Unread.Count)
		}
	})

	t.Run("Mention", func(t *testing.T) {
		// "@ada_x" names ada; a name that only looks like hers ("adaax",
		// were "_" a wildcard) does not.
		m, _, err := createPost(ctx, s, room.ID, bob.ID, "hey @ada_x look", "")
		if err != nil {
			t.Fatal(err)
		}
		got := listing(t, s, ada.ID, room.ID)
		if got.Unread != (store.Unread{Count: 4, Mention: true}) {
			t.Errorf("after a mention: %+v", got.Unread)
		}
		u, err := s.CountUnread(ctx, room.ID, ada.ID, ada.Username, 0, m.ID-1)
		if err != nil {
			t.Fatal(err)
		}
		if u != (store.Unread{Count: 3}) {
			t.Errorf("count up to before the mention = %+v", u)
		}
		// A read mark given (not stored yet) counts from there.
		u, err = s.CountUnread(ctx, room.ID, ada.ID, ada.Username, m.ID-1, m.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u != (store.Unread{Count: 1, Mention: true}) {
			t.Errorf("count after a later mark = %+v", u)
		}
		if err := s.MarkRead(ctx, store.ReadMark{UserID: ada.ID, RoomID: room.ID, LastID: m.ID}); err != nil {
			t.Fatal(err)
		}
		if got := listing(t, s, ada.ID, room.ID); got.Unread != (store.Unread{}) {
			t.Errorf("after reading: %+v", got.Unread)
		}
	})

	t.Run("Bounded", func(t *testing.T) {
		// A mention older than the newest hundred still marks the room.
		last, _, err := createPost(ctx, s, room.ID, bob.ID, "early @ada_x", "")
		if err != nil {
			t.Fatal(err)
		}
		for i := range store.UnreadMax + 20 {
			if last, _, err = createPost(ctx, s, room.ID, bob.ID, fmt.Sprint("many ", i), ""); err != nil {
				t.Fatal(err)
			}
		}
		if got := listing(t, s, ada.ID, room.ID); got.Unread != (store.Unread{Count: store.UnreadMax, Mention: true}) {
			t.Errorf("unread = %+v, want the bound %d and the early mention", got.Unread, store.UnreadMax)
		}
		if u, err := s.CountUnread(ctx, room.ID, ada.ID, ada.Username, 0, last.ID); err != nil || u != (store.Unread{Count: store.UnreadMax, Mention: true}) {
			t.Errorf("counted for a push: %+v, %v", u, err)
		}
		if err := s.MarkRead(ctx, store.ReadMark{UserID: ada.ID, RoomID: room.ID, LastID: last.ID}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("DirectMessages", func(t *testing.T) {
		dm, err := s.OpenDM(ctx, ada, bob)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := createPost(ctx, s, dm.ID, bob.ID, "psst", ""); err != nil {
			t.Fatal(err)
		}
		if got := listing(t, s, ada.ID, dm.ID); got.Unread != (store.Unread{Count: 1, Mention: true}) {
			t.Errorf("a direct message: %+v, want 1 for her", got.Unread)
		}
	})
}

func TestNotifyLevels(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	room, _, err := s.CreateRoom(ctx, "general", ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("DefaultMentions", func(t *testing.T) {
		level, err := s.FindNotifyLevel(ctx, room.ID, ada.ID)
		if err != nil || level != store.NotifyMentions {
			t.Errorf("level = %q, %v", level, err)
		}
		levels, err := s.ListNotifyLevels(ctx, room.ID)
		if err != nil || len(levels) != 0 {
			t.Errorf("levels other than the default: %v, %v", levels, err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		for _, l := range []string{store.NotifyAll, store.NotifyNothing} {
			if err := s.SetNotifyLevel(ctx, room.ID, ada.ID, l); err != nil {
				t.Fatal(err)
			}
			if got, err := s.FindNotifyLevel(ctx, room.ID, ada.ID); err != nil || got != l {
				t.Errorf("level = %q, %v; want %q", got, err, l)
			}
			if levels, err := s.ListNotifyLevels(ctx, room.ID); err != nil || levels["ada"] != l || len(levels) != 1 {
				t.Errorf("levels = %v, %v", levels, err)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		if err := s.SetNotifyLevel(ctx, room.ID, ada.ID, "loud"); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("err = %v", err)
		}
		if got, _ := s.FindNotifyLevel(ctx, room.ID, ada.ID); got != store.NotifyNothing {
			t.Errorf("a refused level changed it to %q", got)
		}
	})
	t.Run("ErrNotMember", func(t *testing.T) {
		if err := s.SetNotifyLevel(ctx, room.ID, bob.ID, store.NotifyAll); !errors.Is(err, store.ErrNotMember) {
			t.Errorf("err = %v", err)
		}
		if _, err := s.FindNotifyLevel(ctx, room.ID, bob.ID); !errors.Is(err, store.ErrNotMember) {
			t.Errorf("find: err = %v", err)
		}
	})
}

func TestSound(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	if ada.Sound {
		t.Fatal("sound on by default")
	}
	for _, on := range []bool{true, false} {
		if err := s.SetSound(ctx, ada.ID, on); err != nil {
			t.Fatal(err)
		}
		u, err := s.FindUserByID(ctx, ada.ID)
		if err != nil || u.Sound != on {
			t.Errorf("sound = %v, %v; want %v", u.Sound, err, on)
		}
	}
	if err := s.SetSound(ctx, 999999, true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}

func TestLanguage(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	if ada.Language != "" {
		t.Fatalf("language = %q by default", ada.Language)
	}
	for _, tag := range []string{"es", "en", ""} {
		if err := s.SetLanguage(ctx, ada.ID, tag); err != nil {
			t.Fatal(err)
		}
		u, err := s.FindUserByID(ctx, ada.ID)
		if err != nil || u.Language != tag {
			t.Errorf("language = %q, %v; want %q", u.Language, err, tag)
		}
	}
	if err := s.SetLanguage(ctx, 999999, "es"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
}
