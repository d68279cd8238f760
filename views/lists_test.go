package views_test

import (
	"testing"

	"chat/views"
)

// RoomListed empties what a page shows of the room, then appends it to
// the list it belongs in, and the lobby's item to the lobby's list (or,
// on a page without one, to the sink); direct messages have no lobby's
// item.
func TestRoomListed(t *testing.T) {
	for _, c := range []struct {
		name        string
		link        views.RoomLink
		list, lobby string
	}{
		{"Room", views.RoomLink{ID: 7, Name: "Plans", Unread: true}, "beforeend:#room-list", "beforeend:#lobby-rooms, body:not(:has(#lobby-rooms)) #room-sink"},
		{"Archived", views.RoomLink{ID: 7, Name: "Plans", Archived: true}, "beforeend:#archived-list", "beforeend:#lobby-archived, body:not(:has(#lobby-archived)) #room-sink"},
		{"DM", views.RoomLink{ID: 7, Name: "ann", DM: true, Member: true}, "beforeend:#dm-list", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, html := render(t, views.RoomListed(c.link))
			parts := doc.Find("body > [hx-swap-oob]")
			if got := parts.First().AttrOr("hx-swap-oob", ""); got != "innerHTML:[data-room-item='7'], #room-sink" || parts.First().Children().Length() != 0 {
				t.Errorf("first part %q, want the room's items emptied: %s", got, html)
			}
			if got := parts.Eq(1).AttrOr("hx-swap-oob", ""); got != c.list || parts.Eq(1).Find("li#"+views.RoomLinkID(7)).Length() != 1 {
				t.Errorf("room list part %q: %s", got, html)
			}
			if got := parts.Eq(2).AttrOr("hx-swap-oob", ""); got != c.lobby {
				t.Errorf("lobby part %q, want %q", got, c.lobby)
			}
			if c.link.Unread != (doc.Find("a[data-unread]").Length() > 0) {
				t.Errorf("unread mark: %s", html)
			}
		})
	}
}
