package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A client id names one post of its sender in one room. Sent again in the
// same room it is that post (stored once, answered as before); sent in
// another room it is refused with a reason, over a form and over a
// socket, and nothing is stored there.
func TestClientIDOtherRoom(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	first := alice.createRoom("first")
	second := alice.createRoom("second")
	ctx := context.Background()
	count := func(room string) int {
		t.Helper()
		msgs, err := srv.Store.ListLatestMessages(ctx, roomNumber(t, room), 50)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Kind == "post" {
				n++
			}
		}
		return n
	}
	const id = "c1ient-id-0001"

	if res := alice.post(first+"/messages", url.Values{"text": {"hello first"}, "client_id": {id}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first post: %d", res.StatusCode)
	}
	// The same post again: answered as before, stored once.
	if res := alice.post(first+"/messages", url.Values{"text": {"hello first"}, "client_id": {id}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("replayed post: %d, want 303", res.StatusCode)
	}
	// The same id in the same room with other text is another post:
	// refused, not dropped.
	if res := alice.post(first+"/messages", url.Values{"text": {"something else"}, "client_id": {id}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reused id with other text: %d, want 422", res.StatusCode)
	}
	if n := count(first); n != 1 {
		t.Errorf("%d posts in the first room, want 1", n)
	}
	// Once the post is edited, a late replay of the send is still that
	// post, not a conflict.
	{
		msgs, err := srv.Store.ListLatestMessages(ctx, roomNumber(t, first), 50)
		if err != nil {
			t.Fatal(err)
		}
		sent := msgs[len(msgs)-1]
		if res := alice.post(msgPath(sent.ID)+"/edit", url.Values{"text": {"hello first, edited"}}); res.StatusCode >= 400 {
			t.Fatalf("edit: %d", res.StatusCode)
		}
		if res := alice.post(first+"/messages", url.Values{"text": {"hello first"}, "client_id": {id}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("a replay after an edit: %d, want 303", res.StatusCode)
		}
		if n := count(first); n != 1 {
			t.Errorf("%d posts in the first room after the replay, want 1", n)
		}
	}

	// The id again in another room, from a form.
	res := alice.post(second+"/messages", url.Values{"text": {"hello second"}, "client_id": {id}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("reused id in another room: %d, want 422", res.StatusCode)
	}
	doc := res.doc(t)
	if e := doc.Find("#compose [data-kind=error]"); !strings.Contains(e.Text(), "another room") {
		t.Errorf("form error %q", e.Text())
	}
	if got := doc.Find("#compose textarea").Text(); got != "hello second" {
		t.Errorf("the form lost the text: %q", got)
	}
	// The form comes back with no id, so that sending it again is a new post.
	if v := doc.Find(`#compose input[name=client_id]`).AttrOr("value", "?"); v != "" {
		t.Errorf("the form keeps the reused id %q", v)
	}

	// And from a socket: an error to the sender, nothing to the others.
	bob := srv.register(t, "bob")
	bob.post(second+"/join", nil)
	watcher := bob.dial(second, -1).settle()
	ws := alice.dial(second, -1).settle()
	ws.send(map[string]any{"text": "hello second", "client_id": id})
	if e := ws.next("[data-kind=error]", long); !strings.Contains(e.Text(), "another room") {
		t.Errorf("socket error %q", e.Text())
	}
	// A socket replay in the room of the id is still the same post.
	wsFirst := alice.dial(first, -1).settle()
	wsFirst.send(map[string]any{"text": "hello first", "client_id": id})
	wsFirst.next("form#compose[hx-swap-oob]", long)

	// A marker after the refusal: the watcher sees it and nothing before.
	ws.send(map[string]any{"text": "marker", "client_id": "c1ient-id-0002"})
	if got := watcher.entriesUntil(1, long); len(got) != 1 || !strings.HasSuffix(got[0], "marker") {
		t.Errorf("the watcher got %v, want the marker alone", got)
	}

	if n := count(first); n != 1 {
		t.Errorf("%d posts in the first room, want 1", n)
	}
	if n := count(second); n != 1 {
		t.Errorf("%d posts in the second room, want the marker alone", n)
	}
}
