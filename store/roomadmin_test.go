package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/store"
)

// batch runs one write of the Batch in a transaction of its own.
func batch(ctx context.Context, s *store.Store, write func(b *store.Batch) (store.Message, bool, error)) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = write(b)
		return err
	})
	return m, changed, err
}

func TestClosedRooms(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ann := mustUser(t, s, "ann")
	bob := mustUser(t, s, "bob")
	eve := mustUser(t, s, "eve")
	if _, _, err := s.CreateRoomWithAccess(ctx, "x", "secret", ann.ID); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("access secret: %v", err)
	}
	room, _, err := s.CreateRoomWithAccess(ctx, "Team", store.AccessClosed, ann.ID)
	if err != nil {
		t.Fatal(err)
	}
	open, _, _ := s.CreateRoom(ctx, "Town", ann.ID)
	if r, _ := s.FindRoomByID(ctx, room.ID); r.Access != store.AccessClosed || r.Archived {
		t.Fatalf("found %+v", r)
	}
	post(t, s, room, ann, "secret plans here")
	post(t, s, open, ann, "public plans here")
	listed := func(u store.User) []string {
		rooms, err := s.ListRooms(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rooms {
			names = append(names, r.Name)
		}
		return names
	}
	found := func(u store.User) int {
		hits, err := s.SearchPosts(ctx, u.ID, "plans", 10)
		if err != nil {
			t.Fatal(err)
		}
		return len(hits)
	}
	if got := listed(bob); len(got) != 1 || got[0] != "Town" {
		t.Errorf("bob, no member, lists %q", got)
	}
	if got := listed(ann); len(got) != 2 {
		t.Errorf("ann lists %q", got)
	}
	if n := found(bob); n != 1 {
		t.Errorf("bob finds %d posts, want the open room's 1", n)
	}
	if n := found(ann); n != 2 {
		t.Errorf("ann finds %d posts", n)
	}

	t.Run("ErrNotMember", func(t *testing.T) {
		_, _, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.AddMember(ctx, room.ID, bob.ID, eve.ID) })
		if !errors.Is(err, store.ErrNotMember) {
			t.Fatalf("eve adds bob: %v", err)
		}
	})
	t.Run("OK", func(t *testing.T) {
		m, changed, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.AddMember(ctx, room.ID, bob.ID, ann.ID) })
		if err != nil || !changed || m.Kind != store.KindJoin || m.Author != "bob" || m.Text != "ann" {
			t.Fatalf("add: %+v %v %v", m, changed, err)
		}
		if _, changed, _ := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.AddMember(ctx, room.ID, bob.ID, ann.ID) }); changed {
			t.Error("adding twice changed something")
		}
		if got := listed(bob); len(got) != 2 {
			t.Errorf("bob, a member, lists %q", got)
		}
		if n := found(bob); n != 2 {
			t.Errorf("bob, a member, finds %d", n)
		}
		m, changed, err = batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.RemoveMember(ctx, room.ID, bob.ID, ann.ID) })
		if err != nil || !changed || m.Kind != store.KindLeave || m.Author != "bob" || m.Text != "ann" {
			t.Fatalf("remove: %+v %v %v", m, changed, err)
		}
		if got := listed(bob); len(got) != 1 {
			t.Errorf("bob, removed, lists %q", got)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		dm, err := s.OpenDM(ctx, ann, bob)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.AddMember(ctx, dm.ID, eve.ID, ann.ID) })
		if !errors.Is(err, store.ErrForbidden) {
			t.Fatalf("add to a DM: %v", err)
		}
		_, _, err = batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.RenameRoom(ctx, dm.ID, ann.ID, "x") })
		if !errors.Is(err, store.ErrForbidden) {
			t.Fatalf("rename a DM: %v", err)
		}
	})
}

func TestManageRoom(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ann := mustUser(t, s, "ann")
	room, _, _ := s.CreateRoom(ctx, "Town", ann.ID)
	s.CreateRoom(ctx, "Other", ann.ID)
	t.Run("Rename", func(t *testing.T) {
		_, _, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.RenameRoom(ctx, room.ID, ann.ID, "OTHER") })
		if !errors.Is(err, store.ErrConflict) {
			t.Fatalf("rename to a taken name: %v", err)
		}
		m, changed, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) { return b.RenameRoom(ctx, room.ID, ann.ID, "City") })
		if err != nil || !changed || m.Kind != store.KindRename || store.RenameOf(m) != (store.Rename{From: "Town", To: "City"}) {
			t.Fatalf("rename: %+v %v %v", m, changed, err)
		}
		if r, _ := s.FindRoomByID(ctx, room.ID); r.Name != "City" {
			t.Errorf("name is %q", r.Name)
		}
		// The old name is free again, in any case.
		if _, _, err := s.CreateRoom(ctx, "town", ann.ID); err != nil {
			t.Errorf("old name: %v", err)
		}
	})
	t.Run("Access", func(t *testing.T) {
		m, changed, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomAccess(ctx, room.ID, ann.ID, store.AccessClosed)
		})
		if err != nil || !changed || m.Kind != store.KindAccess || m.Text != "closed" {
			t.Fatalf("close: %+v %v %v", m, changed, err)
		}
		if _, changed, _ := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomAccess(ctx, room.ID, ann.ID, store.AccessClosed)
		}); changed {
			t.Error("closing twice changed something")
		}
		if _, _, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomAccess(ctx, room.ID, ann.ID, "ajar")
		}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("ajar: %v", err)
		}
	})
	t.Run("Archive", func(t *testing.T) {
		p := post(t, s, room, ann, "before the archive")
		m, changed, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomArchived(ctx, room.ID, ann.ID, true)
		})
		if err != nil || !changed || m.Kind != store.KindArchive || m.Text != store.ArchiveOn {
			t.Fatalf("archive: %+v %v %v", m, changed, err)
		}
		if _, _, err := createPost(ctx, s, room.ID, ann.ID, "after", ""); !errors.Is(err, store.ErrArchived) {
			t.Errorf("post in an archived room: %v", err)
		}
		for name, write := range map[string]func(b *store.Batch) (store.Message, bool, error){
			"edit":   func(b *store.Batch) (store.Message, bool, error) { return b.EditPost(ctx, p.ID, ann.ID, "changed") },
			"delete": func(b *store.Batch) (store.Message, bool, error) { return b.DeletePost(ctx, p.ID, ann.ID, true) },
			"boost":  func(b *store.Batch) (store.Message, bool, error) { return b.ToggleBoost(ctx, p.ID, ann.ID, "👍") },
		} {
			if _, _, err := batch(ctx, s, write); !errors.Is(err, store.ErrArchived) {
				t.Errorf("%s in an archived room: %v", name, err)
			}
		}
		if hits, _ := s.SearchPosts(ctx, ann.ID, "archive", 10); len(hits) != 1 {
			t.Errorf("an archived room's posts are found %d times", len(hits))
		}
		if _, changed, err := batch(ctx, s, func(b *store.Batch) (store.Message, bool, error) {
			return b.SetRoomArchived(ctx, room.ID, ann.ID, false)
		}); err != nil || !changed {
			t.Fatalf("unarchive: %v %v", changed, err)
		}
		if _, _, err := createPost(ctx, s, room.ID, ann.ID, "after", ""); err != nil {
			t.Errorf("post after unarchive: %v", err)
		}
	})
	t.Run("Delete", func(t *testing.T) {
		p := post(t, s, room, ann, "soon gone forever")
		if n, err := s.CountMessages(ctx, room.ID); err != nil || n < 5 {
			t.Fatalf("count: %d %v", n, err)
		}
		if _, _, err := s.IndexPosts(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteRoom(ctx, room.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FindRoomByID(ctx, room.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("room after delete: %v", err)
		}
		if _, err := s.FindMessage(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("entry after delete: %v", err)
		}
		if hits, _ := s.SearchPosts(ctx, ann.ID, "forever", 10); len(hits) != 0 {
			t.Errorf("deleted posts found: %d", len(hits))
		}
		if v, err := s.IntegrityCheck(ctx); err != nil || v != "ok" {
			t.Errorf("integrity: %q %v", v, err)
		}
		if err := s.DeleteRoom(ctx, room.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("delete twice: %v", err)
		}
		// Ids are never handed out again.
		other, _, _ := s.CreateRoom(ctx, "After", ann.ID)
		if q := post(t, s, other, ann, "new"); q.ID <= p.ID {
			t.Errorf("id %d after deleted %d", q.ID, p.ID)
		}
	})
}

func TestInvitations(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := store.Open(ctx, testdb.New(t), store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if p, _ := s.RegistrationPolicy(ctx); p != store.RegistrationOpen {
		t.Fatalf("policy at first %q", p)
	}
	if err := s.SetRegistrationPolicy(ctx, "maybe"); !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("maybe: %v", err)
	}
	if err := s.SetRegistrationPolicy(ctx, store.RegistrationInvite); err != nil {
		t.Fatal(err)
	}
	// The first account always may.
	root, err := s.RegisterUser(ctx, "root", "h", "")
	if err != nil || !root.IsAdmin {
		t.Fatalf("first: %+v %v", root, err)
	}
	if _, err := s.RegisterUser(ctx, "nobody", "h", ""); !errors.Is(err, store.ErrInviteNeeded) {
		t.Fatalf("no invitation: %v", err)
	}
	if _, err := s.RegisterUser(ctx, "nobody", "h", "wrong"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	inv, token, err := s.CreateInvitation(ctx, root.ID, 2, time.Hour)
	if err != nil || inv.MaxUses != 2 {
		t.Fatal(inv, err)
	}
	if _, err := s.RegisterUser(ctx, "ROOT", "h", token); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("taken name: %v", err)
	}
	if got, _ := s.CheckInvitation(ctx, token); got.Uses != 0 {
		t.Errorf("a refused registration spent a use: %d", got.Uses)
	}
	for _, name := range []string{"amy", "ben"} {
		if _, err := s.RegisterUser(ctx, name, "h", token); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if _, err := s.RegisterUser(ctx, "cat", "h", token); !errors.Is(err, store.ErrInviteUsedUp) {
		t.Errorf("used up: %v", err)
	}
	inv2, token2, _ := s.CreateInvitation(ctx, root.ID, 1, time.Hour)
	if err := s.RevokeInvitation(ctx, inv2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterUser(ctx, "cat", "h", token2); !errors.Is(err, store.ErrInviteRevoked) {
		t.Errorf("revoked: %v", err)
	}
	_, token3, _ := s.CreateInvitation(ctx, root.ID, 1, time.Hour)
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	if _, err := s.RegisterUser(ctx, "cat", "h", token3); !errors.Is(err, store.ErrInviteExpired) {
		t.Errorf("expired: %v", err)
	}
	list, err := s.ListInvitations(ctx)
	if err != nil || len(list) != 3 || list[2].Uses != 2 || !list[1].Revoked || list[0].CreatedBy != "root" {
		t.Errorf("list: %+v %v", list, err)
	}
	// Open again: no invitation needed, none spent.
	if err := s.SetRegistrationPolicy(ctx, store.RegistrationOpen); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterUser(ctx, "dan", "h", ""); err != nil {
		t.Errorf("open: %v", err)
	}
}

// TestInvitationUsedOnce: registrations at once with a one-use invitation
// make exactly one account.
func TestInvitationUsedOnce(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	root := mustUser(t, s, "root")
	if err := s.SetRegistrationPolicy(ctx, store.RegistrationInvite); err != nil {
		t.Fatal(err)
	}
	_, token, err := s.CreateInvitation(ctx, root.ID, 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.RegisterUser(ctx, "user"+string(rune('a'+i)), "h", token)
		}()
	}
	wg.Wait()
	made := 0
	for _, err := range errs {
		switch {
		case err == nil:
			made++
		case !errors.Is(err, store.ErrInviteUsedUp):
			t.Errorf("unexpected: %v", err)
		}
	}
	users, _ := s.ListUsers(ctx)
	if made != 1 || len(users) != 2 {
		t.Errorf("%d registrations went through, %d users", made, len(users))
	}
}
