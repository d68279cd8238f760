package unread

import (
	"context"
	"fmt"
	"testing"

	"chat/hub"
	"chat/internal/testdb"
	"chat/store"
	"chat/views"
)

// The rooms known stay within the bound, the least recently used let go
// first, and a room let go is read again, whole, at its next entry.
func TestRoomsBounded(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u := New(Config{Store: db, Hub: hub.New(hub.Config{}), Link: func(views.RoomLink) *hub.Text { return hub.Same(nil) }})
	u.max = 2
	alice, _ := db.CreateUser(ctx, "alice", "x")
	bob, _ := db.CreateUser(ctx, "bob", "x")
	var rooms []store.Room
	for i := range 3 {
		r, _, err := db.CreateRoom(ctx, fmt.Sprintf("room%d", i), alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		rooms = append(rooms, r)
	}
	post := func(r store.Room) *Room {
		return u.Entry(store.Message{ID: 1, RoomID: r.ID, UserID: alice.ID, Author: "alice", Kind: store.KindPost})
	}
	post(rooms[0])
	post(rooms[1])
	post(rooms[0])
	post(rooms[2]) // room1 is let go
	if len(u.rooms) != 2 || u.order.Len() != 2 {
		t.Fatalf("%d rooms known, want 2", len(u.rooms))
	}
	if _, ok := u.rooms[rooms[1].ID]; ok {
		t.Error("the room least recently used was kept")
	}
	if err := db.WriteBatch(ctx, func(b *store.Batch) error {
		_, _, err := b.JoinRoom(ctx, rooms[1].ID, bob.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	r := post(rooms[1])
	if r == nil || r.Name != "room1" {
		t.Fatalf("room read again: %+v", r)
	}
	if _, ok := r.Members["bob"]; !ok {
		t.Error("the room read again does not have its new member")
	}
}

// A room opened on a page that shows its entries up to some post is not
// marked again for that post when the writer's pushing (or another
// instance) takes it only afterwards; the next post marks it, counted
// from the opening.
func TestOpenedBeforeItsEntryIsTaken(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := hub.New(hub.Config{})
	var links []views.RoomLink
	u := New(Config{Store: db, Hub: h, Link: func(l views.RoomLink) *hub.Text {
		links = append(links, l)
		return hub.Same([]byte(fmt.Sprintf("link %d %v %d", l.ID, l.Unread, l.Count)))
	}})
	alice, _ := db.CreateUser(ctx, "alice", "x")
	bob, _ := db.CreateUser(ctx, "bob", "x")
	room, _, err := db.CreateRoom(ctx, "side", alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.WriteBatch(ctx, func(b *store.Batch) error {
		_, _, err := b.JoinRoom(ctx, room.ID, bob.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// bob's lobby is open: he is online, on no room's page.
	lobby, err := h.Subscribe(hub.NoRoom, "bob", "s")
	if err != nil {
		t.Fatal(err)
	}
	defer h.Unsubscribe(lobby)
	post := func(text string) store.Message {
		var m store.Message
		if err := db.WriteBatch(ctx, func(b *store.Batch) error {
			var err error
			m, _, err = b.CreatePost(ctx, room.ID, alice.ID, text, "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		m.Author, m.Kind = "alice", store.KindPost
		return m
	}
	unread := func() (bool, int) {
		if len(links) == 0 {
			return false, 0
		}
		l := links[len(links)-1]
		return l.Unread, l.Count
	}

	first := post("one")
	u.Entry(first) // marks the room: one unread
	if on, n := unread(); !on || n != 1 {
		t.Fatalf("after the first post: unread %v, count %d; want true, 1", on, n)
	}
	// A second post is stored; bob opens the room and is shown both,
	// before the writer's pushing has taken the second.
	second := post("two")
	u.Opened("bob", views.RoomLink{ID: room.ID, Name: "side", Member: true}, second.ID)
	if on, _ := unread(); on {
		t.Fatal("opening the room did not clear its mark")
	}
	told := len(links)
	u.Entry(second)
	if len(links) != told {
		t.Errorf("a post bob was shown on opening marked the room again: %+v", links[told:])
	}
	u.Entry(post("three"))
	if on, n := unread(); !on || n != 1 {
		t.Errorf("after a post newer than the opening: unread %v, count %d; want true, 1", on, n)
	}
}

// The same with bob's pages all closed when he opens the room (no mark
// of his is kept then): a page of his that opens before the entry is
// taken does not show the room unread for a post he was shown, whether
// what he saw is still in memory or already written.
func TestOpenedOfflineBeforeItsEntryIsTaken(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := hub.New(hub.Config{})
	var links []views.RoomLink
	u := New(Config{Store: db, Hub: h, Link: func(l views.RoomLink) *hub.Text {
		links = append(links, l)
		return hub.Same([]byte(fmt.Sprintf("link %d %v %d", l.ID, l.Unread, l.Count)))
	}})
	alice, _ := db.CreateUser(ctx, "alice", "x")
	bob, _ := db.CreateUser(ctx, "bob", "x")
	room, _, err := db.CreateRoom(ctx, "side", alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	post := func(text string) store.Message {
		var m store.Message
		if err := db.WriteBatch(ctx, func(b *store.Batch) error {
			_, _, err := b.JoinRoom(ctx, room.ID, bob.ID)
			if err != nil {
				return err
			}
			m, _, err = b.CreatePost(ctx, room.ID, alice.ID, text, "")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		m.Author, m.Kind = "alice", store.KindPost
		return m
	}
	for _, written := range []bool{false, true} {
		links = nil
		m := post(fmt.Sprintf("shown on opening, written %v", written))
		// bob opens the room, no other page of his open: as the room
		// page does, what he saw, then the opening.
		u.Seen(bob.ID, room.ID, m.ID)
		u.Opened("bob", views.RoomLink{ID: room.ID, Name: "side", Member: true}, m.ID)
		if written {
			u.flush()
		}
		lobby, err := h.Subscribe(hub.NoRoom, "bob", "s")
		if err != nil {
			t.Fatal(err)
		}
		u.Entry(m)
		for _, l := range links {
			if l.Unread {
				t.Errorf("written %v: a post bob was shown on opening marked the room: %+v", written, l)
			}
		}
		u.Entry(post("after the opening"))
		if n := len(links); n == 0 || !links[n-1].Unread || links[n-1].Count != 1 {
			t.Errorf("written %v: after a newer post, links %+v; want the room unread, 1", written, links)
		}
		h.Unsubscribe(lobby)
		u.Forget("bob")
	}
}
