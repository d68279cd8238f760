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
