package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/store"
	"chat/views"

	"github.com/PuerkitoBio/goquery"
)

// roomLink is the user's link to the room in the room list of a page.
func roomLink(t *testing.T, doc *goquery.Document, room string) *goquery.Selection {
	t.Helper()
	a := doc.Find("#" + views.RoomLinkID(roomNumber(t, room)) + " a")
	if a.Length() != 1 {
		t.Fatalf("no link to %s in the room list", room)
	}
	return a
}

// The room list counts the posts by others a member has not seen, marks
// those with one for them, caps the number, and keeps both live.
func TestUnreadCounts(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	other := alice.createRoom("other")
	bob.post(room+"/join", nil)
	bob.post(other+"/join", nil)
	bob.get(room)
	bob.get(other)

	postID(t, alice, room, "one")
	postID(t, alice, room, "two")
	bob.post(room+"/messages", url.Values{"text": {"my own"}}) // seen: his own, and all before it
	postID(t, alice, room, "three")
	postID(t, alice, room, "four")
	carol := srv.register(t, "carol")
	carol.post(room+"/join", nil) // a join: unread, but not counted
	for _, page := range []string{"/", other} {
		a := roomLink(t, bob.get(page).doc(t), room)
		if _, ok := a.Attr("data-unread"); !ok || a.AttrOr("data-count", "") != "2" || a.Find(".unread-count").Length() != 1 {
			t.Errorf("%s: link %q data-count=%q, want 2 and data-unread", page, a.Text(), a.AttrOr("data-count", ""))
		}
		if _, ok := a.Attr("data-mention"); ok {
			t.Errorf("%s: a mention mark with no mention", page)
		}
	}
	// The room's own page shows no count for it.
	if a := roomLink(t, alice.get(room).doc(t), room); a.AttrOr("data-count", "") != "" {
		t.Errorf("count on the room's own page: %q", a.AttrOr("data-count", ""))
	}

	// Live, on bob's lobby: each post by someone else counts one more; a
	// mention of him marks the room.
	lobby := bob.dial("", -1)
	link := "#" + views.RoomLinkID(roomNumber(t, room)) + " a"
	postID(t, alice, room, "five")
	if a := lobby.next(link+"[data-count]", long); a.AttrOr("data-count", "") != "3" {
		t.Errorf("live count %q, want 3", a.AttrOr("data-count", ""))
	}
	postID(t, alice, room, "hey @bob")
	a := lobby.next(link+"[data-count]", long)
	if _, ok := a.Attr("data-mention"); !ok || a.AttrOr("data-count", "") != "4" || a.Find(".unread-mention").Length() != 1 {
		t.Errorf("live count after a mention %q mention=%v", a.AttrOr("data-count", ""), ok)
	}
	// Opening the room clears it, live, and on the next page.
	bob.get(room)
	lobby.next(link+":not([data-count]):not([data-mention]):not([data-unread])", long)
	postID(t, alice, room, "six")
	if a := lobby.next(link+"[data-count]", long); a.AttrOr("data-count", "") != "1" {
		t.Errorf("count after opening, then a post: %q, want 1", a.AttrOr("data-count", ""))
	}

	// A direct message is for him: counted and marked.
	dm := alice.post("/users/bob/dm", nil).Header.Get("Location")
	postID(t, alice, dm, "psst")
	if a := lobby.next("#"+views.RoomLinkID(roomNumber(t, dm))+" a[data-count]", long); a.AttrOr("data-count", "") != "1" || a.AttrOr("data-mention", "x") != "" {
		t.Errorf("direct message link %q count %q", a.Text(), a.AttrOr("data-count", ""))
	}
	lobby.conn.Close()

	// Past 99, "99+".
	for i := range 101 {
		alice.post(other+"/messages", url.Values{"text": {fmt.Sprint("many ", i)}})
	}
	if a := roomLink(t, bob.get("/").doc(t), other); a.Find(".unread-count").Contents().First().Text() != "99+" || a.AttrOr("data-count", "") != "100" {
		t.Errorf("capped count %q data-count=%q", a.Find(".unread-count").Text(), a.AttrOr("data-count", ""))
	}
}

func TestNotifyLevelRoute(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	closed := alice.createRoomAccess("secret", "closed")
	ctx := context.Background()
	level := func(c *client, room string) string {
		t.Helper()
		u, err := srv.Store.FindUserByUsername(ctx, c.name)
		if err != nil {
			t.Fatal(err)
		}
		l, err := srv.Store.FindNotifyLevel(ctx, roomNumber(t, room), u.ID)
		if errors.Is(err, store.ErrNotMember) {
			return "(no member)"
		}
		if err != nil {
			t.Fatal(err)
		}
		return l
	}

	t.Run("PlainForm", func(t *testing.T) {
		form := alice.get(room).doc(t).Find("#" + views.NotifyFormID)
		if form.AttrOr("action", "") != room+"/notify" || form.Find("input[name=level][value=mentions]").AttrOr("checked", "x") != "" {
			t.Fatalf("the room page's form: action %q, mentions checked: %v", form.AttrOr("action", ""), form.Find("input[value=mentions][checked]").Length())
		}
		res := alice.post(room+"/notify", url.Values{"level": {"all"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != room {
			t.Fatalf("plain form: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if got := level(alice, room); got != "all" {
			t.Errorf("level %q", got)
		}
		if alice.get(room).doc(t).Find("#"+views.NotifyFormID+" input[value=all][checked]").Length() != 1 {
			t.Error("the form does not show the level set")
		}
	})
	t.Run("HTMX", func(t *testing.T) {
		res := alice.post(room+"/notify", url.Values{"level": {"nothing"}}, "HX-Request", "true")
		doc := res.doc(t)
		if res.StatusCode != http.StatusOK || doc.Find("form#"+views.NotifyFormID+"[data-level=nothing]").Length() != 1 || doc.Find("html").Length() != 0 && doc.Find("body > *").Length() > 1 {
			t.Fatalf("htmx: %d %s", res.StatusCode, res.Body)
		}
		if strings.Contains(res.Body, "<html") {
			t.Error("htmx got a whole page")
		}
		if got := level(alice, room); got != "nothing" {
			t.Errorf("level %q", got)
		}
	})
	t.Run("BadLevel", func(t *testing.T) {
		for _, bad := range []string{"", "loud", "ALL"} {
			res := alice.post(room+"/notify", url.Values{"level": {bad}})
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "mentions of you and direct messages") {
				t.Errorf("level %q: %d", bad, res.StatusCode)
			}
		}
		if got := level(alice, room); got != "nothing" {
			t.Errorf("a refused level changed it: %q", got)
		}
	})
	t.Run("NotMember", func(t *testing.T) {
		res := bob.post(room+"/notify", url.Values{"level": {"all"}})
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("non-member: %d", res.StatusCode)
		}
		if got := level(bob, room); got != "(no member)" {
			t.Errorf("stored for a non-member: %q", got)
		}
		if bob.get(room).doc(t).Find("#"+views.NotifyFormID).Length() != 0 {
			t.Error("a non-member is offered the form")
		}
	})
	t.Run("ClosedRoomStranger", func(t *testing.T) {
		res := bob.post(closed+"/notify", url.Values{"level": {"all"}})
		unknown := bob.post("/rooms/99999/notify", url.Values{"level": {"all"}})
		if res.StatusCode != http.StatusNotFound || unknown.StatusCode != http.StatusNotFound || res.Body != strings.ReplaceAll(unknown.Body, "99999", fmt.Sprint(roomNumber(t, closed))) && res.Body != unknown.Body {
			t.Errorf("closed room stranger: %d, unknown room: %d", res.StatusCode, unknown.StatusCode)
		}
		if got := level(bob, closed); got != "(no member)" {
			t.Errorf("stored: %q", got)
		}
	})
}

// A post that matches a member's level reaches every page of theirs,
// the room's own too, as a notice to show; one that does not, none.
func TestNotices(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	inRoom := bob.dial(room, -1).settle()
	lobby := bob.dial("", -1)
	set := func(level string) {
		t.Helper()
		if res := bob.post(room+"/notify", url.Values{"level": {level}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("set %s: %d", level, res.StatusCode)
		}
	}
	// notices are the texts of the notices each page got, up to a marker
	// posted now (under the level all: it notifies).
	notices := func(want ...string) {
		t.Helper()
		m := alice.mark(room)
		want = append(want, m)
		for name, w := range map[string]*wsClient{"room": inRoom, "lobby": lobby} {
			var got []string
			for _, f := range w.through(has("[data-notice][data-body='"+m+"']"), long) {
				doc, _ := goquery.NewDocumentFromReader(strings.NewReader(f))
				doc.Find("[data-notice]").Each(func(_ int, n *goquery.Selection) {
					got = append(got, n.AttrOr("data-body", ""))
					id := postIDOf(t, alice, room, n.AttrOr("data-body", ""))
					if n.AttrOr("data-notice", "") != fmt.Sprint(id) || n.AttrOr("data-url", "") != views.PermalinkURL(roomNumber(t, room), id) ||
						n.AttrOr("data-title", "") != "alice in general" {
						t.Errorf("%s: notice %v, want entry %d", name, n.Nodes[0].Attr, id)
					}
				})
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("%s page: notices %q, want %q", name, got, want)
			}
		}
	}

	// Mentions (the default): a mention, on both pages; a plain post, no.
	postID(t, alice, room, "plain words")
	postID(t, alice, room, "look @bob")
	set("all")
	notices("look @bob")
	// All: every post by someone else; his own, never.
	postID(t, alice, room, "for all")
	bob.post(room+"/messages", url.Values{"text": {"mine"}})
	notices("for all")
	// Nothing: not even a mention.
	set("nothing")
	postID(t, alice, room, "@bob are you there")
	set("all")
	notices()
}

// postIDOf is the id of the newest post of c with that text.
func postIDOf(t *testing.T, c *client, room, text string) int64 {
	t.Helper()
	msgs, err := c.srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 50)
	for i := len(msgs) - 1; err == nil && i >= 0; i-- {
		if msgs[i].Text == text && msgs[i].Author == c.name {
			return msgs[i].ID
		}
	}
	t.Fatalf("no post %q", text)
	return 0
}

func TestSoundSetting(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	sound := func() (page bool, checked bool) {
		doc := alice.get("/account/password").doc(t)
		_, page = doc.Find("body").Attr("data-sound")
		return page, doc.Find("form[action='/account/sound'] input[name=sound][checked]").Length() == 1
	}
	if p, c := sound(); p || c {
		t.Fatalf("sound on by default: %v %v", p, c)
	}
	if res := alice.post("/account/sound", url.Values{"sound": {"on"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("on: %d", res.StatusCode)
	}
	if p, c := sound(); !p || !c {
		t.Errorf("after on: body data-sound %v, checked %v", p, c)
	}
	res := alice.post("/account/sound", url.Values{"sound": {"loud"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "on or off") {
		t.Errorf("bad value: %d", res.StatusCode)
	}
	if p, _ := sound(); !p {
		t.Error("a refused value changed the setting")
	}
	// An unchecked box sends nothing: off.
	if res := alice.post("/account/sound", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("off: %d", res.StatusCode)
	}
	if p, c := sound(); p || c {
		t.Errorf("after off: %v %v", p, c)
	}
}

// Opening a room with posts not seen puts the line above the first; a
// room seen to the end, or never opened, has none.
func TestNewSinceLine(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	postID(t, alice, room, "before bob came")
	bob.post(room+"/join", nil)
	bob.get(room)
	if bob.get(room).doc(t).Find("#"+views.NewSinceID).Length() != 0 {
		t.Error("a line with nothing new")
	}
	bob.post(room+"/messages", url.Values{"text": {"bob speaks"}})
	if bob.get(room).doc(t).Find("#"+views.NewSinceID).Length() != 0 {
		t.Error("a line above his own post")
	}
	first := postID(t, alice, room, "new one")
	postID(t, alice, room, "new two")
	doc := bob.get(room).doc(t)
	line := doc.Find("#messages > #" + views.NewSinceID)
	if line.Length() != 1 || !strings.Contains(line.Text(), "New since you were here") {
		t.Fatalf("no line: %d", line.Length())
	}
	next := line.NextAllFiltered("[id^=msg-]").First()
	if next.AttrOr("id", "") != views.MessageID(first) {
		t.Errorf("the line is above %q, want %q", next.AttrOr("id", ""), views.MessageID(first))
	}
	if prev := line.PrevAllFiltered("[id^=msg-]").First(); !strings.Contains(prev.Text(), "bob speaks") {
		t.Errorf("the entry before the line: %q", prev.Text())
	}
	// Seen now: the next visit has no line.
	if bob.get(room).doc(t).Find("#"+views.NewSinceID).Length() != 0 {
		t.Error("the line again on the next visit")
	}
	// A room never opened has nothing to be new since.
	carol := srv.register(t, "carol")
	if carol.get(room).doc(t).Find("#"+views.NewSinceID).Length() != 0 {
		t.Error("a line in a room never opened")
	}
}
