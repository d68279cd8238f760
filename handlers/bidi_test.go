package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/views"
)

// The characters that turn text around (U+202E reads "txt.exe" as
// "exe.txt") are refused in short fields, a reaction and a room name, with
// 422 and the reason, and nothing is stored. A post keeps them (its text
// is isolated where it shows).
func TestBidiControlsRefused(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	id := postID(t, alice, room, "lunch?")
	ctx := context.Background()

	for _, ctl := range []string{"\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c"} {
		res := alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {"ok" + ctl + "go"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.doc(t).Find("[data-kind=error]").Text(), "direction of text") {
			t.Errorf("reaction with %U: %d", []rune(ctl)[0], res.StatusCode)
		}
		res = alice.post("/rooms", url.Values{"name": {"exe" + ctl + ".txt"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.doc(t).Find("[data-kind=error], .form-error").Text(), "direction of text") {
			t.Errorf("room name with %U: %d", []rune(ctl)[0], res.StatusCode)
		}
	}
	if m, err := srv.Store.FindMessage(ctx, id); err != nil || len(m.Boosts) != 0 {
		t.Errorf("stored reactions %+v (%v), want none", m.Boosts, err)
	}
	rooms, err := srv.Store.ListRooms(ctx, 0)
	if err != nil || len(rooms) != 1 {
		t.Errorf("%d rooms (%v), want general alone", len(rooms), err)
	}
	// A post may hold them, isolated on the page.
	post := postID(t, alice, room, "abc \u202edef")
	if p := alice.get(room).doc(t).Find("#" + views.MessageID(post) + ` p.text[dir=auto]`); p.Text() != "abc \u202edef" {
		t.Errorf("the post's text shows as %q, isolated: %v", p.Text(), p.Length() == 1)
	}
	// A reaction joined by ZWJ (an emoji of several) is not a control.
	if res := alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {"👩\u200d💻"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("an emoji with a joiner: %d", res.StatusCode)
	}
}
