package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"chat/store"
)

// TestLatestMessagesAfterChanges: the room's latest entries are kept
// between calls (latest.go); every kind of change of them is in the very
// next list, whether the change was made through the same store or
// through another one on the same database (another instance).
func TestLatestMessagesAfterChanges(t *testing.T) {
	ctx := context.Background()
	a, path := openStore(t)
	b, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	alice, bob, carol := mustUser(t, a, "alice"), mustUser(t, a, "bob"), mustUser(t, a, "carol")
	r := room(t, a, "general", alice, bob)
	post(t, a, r, alice, "first")
	fresh := func(s *store.Store) int64 { return post(t, s, r, bob, "a post https://example.com/a").ID }
	card := func(s *store.Store, id int64) error {
		return s.WriteBatch(ctx, func(bt *store.Batch) error {
			_, _, err := bt.SetCard(ctx, id, store.Card{URL: "https://example.com/a", Title: "A"})
			return err
		})
	}
	boost := func(s *store.Store, id int64) error { _, err := toggleBoost(ctx, s, id, alice.ID, "🎉"); return err }
	join := func(s *store.Store, _ int64) error { _, _, err := joinRoom(ctx, s, r.ID, carol.ID); return err }
	leave := func(s *store.Store, _ int64) error { _, _, err := leaveRoom(ctx, s, r.ID, carol.ID); return err }

	for _, c := range []struct {
		name   string
		setup  func(s *store.Store, id int64) error // of a fresh post, before the entries are kept
		change func(s *store.Store, id int64) error
	}{
		{"Post", nil, func(s *store.Store, _ int64) error {
			_, _, err := createPost(ctx, s, r.ID, bob.ID, "another", "")
			return err
		}},
		{"Edit", nil, func(s *store.Store, id int64) error { _, _, err := editPost(ctx, s, id, bob.ID, "edited"); return err }},
		{"Boost", nil, boost},
		{"Unboost", boost, boost},
		{"Card", nil, card},
		{"CardRemoved", card, func(s *store.Store, id int64) error {
			return s.WriteBatch(ctx, func(bt *store.Batch) error {
				_, _, err := bt.RemoveCard(ctx, id, bob.ID)
				return err
			})
		}},
		{"Delete", nil, func(s *store.Store, id int64) error { _, _, err := deletePost(ctx, s, id, bob.ID, false); return err }},
		{"Join", leave, join},
		{"Leave", join, leave},
		{"Rename", nil, func(s *store.Store, id int64) error {
			return s.WriteBatch(ctx, func(bt *store.Batch) error {
				_, _, err := bt.RenameRoom(ctx, r.ID, alice.ID, fmt.Sprint("renamed ", id))
				return err
			})
		}},
	} {
		for _, via := range []struct {
			name string
			s    *store.Store
		}{{"Here", a}, {"OtherInstance", b}} {
			t.Run(c.name+via.name, func(t *testing.T) {
				id := fresh(a)
				if c.setup != nil {
					if err := c.setup(a, id); err != nil {
						t.Fatal(err)
					}
				}
				// Kept: asked twice, the same entries.
				before, err := a.ListLatestMessages(ctx, r.ID, 200)
				if err != nil {
					t.Fatal(err)
				}
				if again, err := a.ListLatestMessages(ctx, r.ID, 200); err != nil || !reflect.DeepEqual(again, before) {
					t.Fatalf("asked again: %v, %v", again, err)
				}
				if err := c.change(via.s, id); err != nil {
					t.Fatal(err)
				}
				got, err := a.ListLatestMessages(ctx, r.ID, 200)
				if err != nil {
					t.Fatal(err)
				}
				want, err := b.ListMessagesAfter(ctx, r.ID, 0, 200)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("after the change:\n got %+v\nwant %+v", got, want)
				}
				if reflect.DeepEqual(got, before) {
					t.Errorf("the change changed nothing: %+v", got)
				}
			})
		}
	}
}
