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

// openFixture is a room "side" of alice's that bob has joined, the marks
// over it, and every room link they render, in order.
type openFixture struct {
	t          *testing.T
	db         *store.Store
	h          *hub.Hub
	u          *Rooms
	alice, bob store.User
	room       store.Room
	links      []views.RoomLink
}

func newOpenFixture(t *testing.T) *openFixture {
	ctx := context.Background()
	db, err := store.Open(ctx, testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &openFixture{t: t, db: db, h: hub.New(hub.Config{})}
	f.u = New(Config{Store: db, Hub: f.h, Link: func(l views.RoomLink) *hub.Text {
		f.links = append(f.links, l)
		return hub.Same([]byte(fmt.Sprintf("link %d %v %d", l.ID, l.Unread, l.Count)))
	}})
	f.alice, _ = db.CreateUser(ctx, "alice", "x")
	f.bob, _ = db.CreateUser(ctx, "bob", "x")
	if f.room, _, err = db.CreateRoom(ctx, "side", f.alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.WriteBatch(ctx, func(b *store.Batch) error {
		_, _, err := b.JoinRoom(ctx, f.room.ID, f.bob.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return f
}

// post stores a post of alice's in the room, as the entry the writer's
// pushing takes.
func (f *openFixture) post(text string) store.Message {
	var m store.Message
	if err := f.db.WriteBatch(context.Background(), func(b *store.Batch) error {
		var err error
		m, _, err = b.CreatePost(context.Background(), f.room.ID, f.alice.ID, text, "")
		return err
	}); err != nil {
		f.t.Fatal(err)
	}
	m.Author, m.Kind = "alice", store.KindPost
	return m
}

// opened is bob opening the room, shown its entries up to seen: as the
// room page does, what he saw, then the opening.
func (f *openFixture) opened(seen int64) {
	f.u.Seen(f.bob.ID, f.room.ID, seen)
	f.u.Opened("bob", views.RoomLink{ID: f.room.ID, Name: "side", Member: true}, seen)
}

// last is the room link told last: unread, and its count.
func (f *openFixture) last() (bool, int) {
	if len(f.links) == 0 {
		return false, 0
	}
	l := f.links[len(f.links)-1]
	return l.Unread, l.Count
}

// A room opened on a page that shows its entries up to some post is not
// marked again for that post when the writer's pushing (or another
// instance) takes it only afterwards; the next post marks it, counted
// from the opening.
func TestOpenedBeforeItsEntryIsTaken(t *testing.T) {
	f := newOpenFixture(t)
	// bob's lobby is open: he is online, on no room's page.
	lobby, err := f.h.Subscribe(hub.NoRoom, "bob", "s")
	if err != nil {
		t.Fatal(err)
	}
	defer f.h.Unsubscribe(lobby)

	f.u.Entry(f.post("one")) // marks the room: one unread
	if on, n := f.last(); !on || n != 1 {
		t.Fatalf("after the first post: unread %v, count %d; want true, 1", on, n)
	}
	// A second post is stored; bob opens the room and is shown both,
	// before the writer's pushing has taken the second.
	second := f.post("two")
	f.opened(second.ID)
	if on, _ := f.last(); on {
		t.Fatal("opening the room did not clear its mark")
	}
	told := len(f.links)
	f.u.Entry(second)
	if len(f.links) != told {
		t.Errorf("a post bob was shown on opening marked the room again: %+v", f.links[told:])
	}
	f.u.Entry(f.post("three"))
	if on, n := f.last(); !on || n != 1 {
		t.Errorf("after a post newer than the opening: unread %v, count %d; want true, 1", on, n)
	}
}

// The same with bob's pages all closed when he opens the room (no mark
// of his is kept then): a page of his that opens before the entry is
// taken does not show the room unread for a post he was shown, whether
// what he saw is still in memory or already written.
func TestOpenedOfflineBeforeItsEntryIsTaken(t *testing.T) {
	f := newOpenFixture(t)
	for _, written := range []bool{false, true} {
		f.links = nil
		m := f.post(fmt.Sprintf("shown on opening, written %v", written))
		f.opened(m.ID)
		if written {
			f.u.flush()
		}
		lobby, err := f.h.Subscribe(hub.NoRoom, "bob", "s")
		if err != nil {
			t.Fatal(err)
		}
		f.u.Entry(m)
		for _, l := range f.links {
			if l.Unread {
				t.Errorf("written %v: a post bob was shown on opening marked the room: %+v", written, l)
			}
		}
		f.u.Entry(f.post("after the opening"))
		if on, n := f.last(); !on || n != 1 {
			t.Errorf("written %v: after a newer post, links %+v; want the room unread, 1", written, f.links)
		}
		f.h.Unsubscribe(lobby)
		f.u.Forget("bob")
	}
}
