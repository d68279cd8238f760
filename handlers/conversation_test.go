package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/internal/testutil"
	"chat/views"

	"github.com/PuerkitoBio/goquery"
)

// postID posts text to room as c and returns the new entry's id.
func postID(t *testing.T, c *client, room, text string) int64 {
	t.Helper()
	if res := c.post(room+"/messages", url.Values{"text": {text}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("post %q: %d", text, res.StatusCode)
	}
	// The newest entry of the user with that text: a bot may have answered
	// meanwhile.
	msgs, err := c.srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 20)
	for i := len(msgs) - 1; err == nil && i >= 0; i-- {
		if msgs[i].Text == text && msgs[i].Author == c.name {
			return msgs[i].ID
		}
	}
	t.Fatalf("no post %q by %s in %v (%v)", text, c.name, msgs, err)
	return 0
}

func roomNumber(t *testing.T, room string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(room, "/rooms/"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func msgPath(id int64) string { return "/messages/" + strconv.FormatInt(id, 10) }

func TestMentions(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "Bob")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	ws := bob.dial(room, -1).settle()

	id := postID(t, alice, room, "hi @bob, meet @nobody and mail bob@example.com")
	pushed := ws.next("#"+views.MessageID(id), long)
	page := bob.get(room).doc(t)
	for where, e := range map[string]*goquery.Selection{"pushed": pushed, "page": page.Find("#" + views.MessageID(id))} {
		spans := e.Find("span.mention")
		if spans.Length() != 1 || spans.AttrOr("data-user", "") != "Bob" || spans.Text() != "@bob" {
			t.Errorf("%s: mentions %d %q %q", where, spans.Length(), spans.AttrOr("data-user", ""), spans.Text())
		}
		if e.AttrOr("data-mentions", "") != "Bob" {
			t.Errorf("%s: data-mentions %q", where, e.AttrOr("data-mentions", ""))
		}
		if got := e.Find(".text").Text(); got != "hi @bob, meet @nobody and mail bob@example.com" {
			t.Errorf("%s: text %q", where, got)
		}
	}
	// The entry stands out for Bob alone: his stylesheet says so, alice's
	// does not.
	if css := bob.get("/viewer.css").Body; !strings.Contains(css, `.entry-post[data-mentions~="Bob"]`) {
		t.Errorf("Bob's css lacks his mentions: %s", css)
	}
	if css := alice.get("/viewer.css").Body; strings.Contains(css, `"Bob"`) {
		t.Errorf("alice's css names Bob: %s", css)
	}

	t.Run("Options", func(t *testing.T) {
		carol := srv.register(t, "carol")
		_ = carol // not a member: never offered
		for q, want := range map[string]string{"": "alice Bob", "B": "Bob", "a": "alice", "zz": "", "c": "", "%": "", "<x>": ""} {
			res := alice.get(room+"/mentions?q="+url.QueryEscape(q), "HX-Request", "true")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("q=%q: %d", q, res.StatusCode)
			}
			var names []string
			res.doc(t).Find("[role=option]").Each(func(_ int, s *goquery.Selection) { names = append(names, s.AttrOr("data-name", "")) })
			if strings.Join(names, " ") != want {
				t.Errorf("q=%q offers %q, want %q", q, names, want)
			}
		}
		if res := alice.get("/rooms/99/mentions?q=a"); res.StatusCode != http.StatusNotFound {
			t.Errorf("unknown room: %d", res.StatusCode)
		}
	})
}

func TestEditAndDelete(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice") // the first account: an admin
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	carol.post(room+"/join", nil)
	id := postID(t, bob, room, "first draft")
	watcher := carol.dial(room, -1).settle()
	text := func(id int64) string {
		m, err := srv.Store.FindMessage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		return m.Text
	}

	for _, c := range []struct {
		who    *client
		form   url.Values
		status int
	}{
		{carol, url.Values{"text": {"not mine"}}, http.StatusForbidden},
		{alice, url.Values{"text": {"admins may not edit"}}, http.StatusForbidden},
		{bob, url.Values{"text": {"   "}}, http.StatusUnprocessableEntity},
		{bob, url.Values{"text": {strings.Repeat("x", 4001)}}, http.StatusUnprocessableEntity},
	} {
		if res := c.who.post(msgPath(id)+"/edit", c.form); res.StatusCode != c.status {
			t.Errorf("edit by %s %q: %d, want %d", c.who.name, c.form.Get("text")[:min(10, len(c.form.Get("text")))], res.StatusCode, c.status)
		}
	}
	if res := bob.post(msgPath(id)+"/edit", url.Values{"text": {"from elsewhere"}}, "Origin", "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-origin edit: %d", res.StatusCode)
	}
	if got := text(id); got != "first draft" {
		t.Fatalf("refused edits changed the post to %q", got)
	}

	// The form without JavaScript, then the edit seen live.
	if res := carol.get(msgPath(id) + "/edit"); res.StatusCode != http.StatusForbidden {
		t.Errorf("edit form for another's post: %d", res.StatusCode)
	}
	form := bob.get(msgPath(id) + "/edit")
	if form.StatusCode != http.StatusOK || form.doc(t).Find(`form[action="`+msgPath(id)+`/edit"] textarea[name=text]`).Text() != "first draft" {
		t.Fatalf("edit form: %d %s", form.StatusCode, form.Body)
	}
	res := bob.post(msgPath(id)+"/edit", url.Values{"text": {"final @carol"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != views.PermalinkURL(roomNumber(t, room), id) {
		t.Fatalf("edit: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	e := watcher.next("#"+views.MessageID(id)+"[data-edited]", long)
	if e.Find(".text").Text() != "final @carol" || e.AttrOr("data-kind", "") != "post" || e.Find(".mention[data-user=carol]").Length() != 1 {
		t.Errorf("pushed edit: %s", e.Text())
	}
	if msgs, _ := srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 1); msgs[0].ID != id {
		t.Errorf("an edit added an entry: latest is %d", msgs[0].ID)
	}
	// With htmx, the answer is the entry itself.
	hx := bob.post(msgPath(id)+"/edit", url.Values{"text": {"final, really"}}, "HX-Request", "true")
	if hx.StatusCode != http.StatusOK || hx.doc(t).Find("#"+views.MessageID(id)+"[data-edited] .text").Text() != "final, really" {
		t.Errorf("htmx edit: %d %s", hx.StatusCode, hx.Body)
	}
	bad := bob.post(msgPath(id)+"/edit", url.Values{"text": {""}}, "HX-Request", "true")
	if bad.StatusCode != http.StatusUnprocessableEntity || bad.Header.Get("HX-Retarget") == "" || bad.doc(t).Find(".edit-form [data-kind=error]").Length() != 1 {
		t.Errorf("htmx refused edit: %d %v %s", bad.StatusCode, bad.Header, bad.Body)
	}

	// Delete: the author, or an admin; no one else.
	other := postID(t, bob, room, "bob's second")
	if res := carol.post(msgPath(other)+"/delete", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("delete by another member: %d", res.StatusCode)
	}
	if got := text(other); got != "bob's second" {
		t.Errorf("refused delete changed the post to %q", got)
	}
	if res := bob.post(msgPath(id)+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("delete by its author: %d", res.StatusCode)
	}
	d := watcher.next("#"+views.MessageID(id)+"[data-kind=deleted]", long)
	if d.Find(".text").Length() != 0 || strings.Contains(d.Text(), "final") || d.AttrOr("data-author", "") != "bob" {
		t.Errorf("pushed delete: %q", d.Text())
	}
	if res := alice.post(msgPath(other)+"/delete", nil, "HX-Request", "true"); res.StatusCode != http.StatusOK ||
		res.doc(t).Find("#"+views.MessageID(other)+"[data-kind=deleted]").Length() != 1 {
		t.Errorf("delete by an admin: %d %s", res.StatusCode, res.Body)
	}
	if res := bob.post(msgPath(id)+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("deleting twice: %d", res.StatusCode)
	}
	if res := bob.post(msgPath(id)+"/edit", url.Values{"text": {"back"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("edit of a deleted post: %d", res.StatusCode)
	}
	joinID := int64(1) // alice's join, the room's first entry
	for _, path := range []string{msgPath(joinID) + "/delete", msgPath(joinID) + "/edit"} {
		if res := alice.post(path, url.Values{"text": {"x"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s of a join entry: %d", path, res.StatusCode)
		}
	}
	for _, path := range []string{"/messages/9999/delete", "/messages/x/delete", "/messages/0/edit"} {
		if res := alice.post(path, url.Values{"text": {"x"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", path, res.StatusCode)
		}
	}
	if carol.get(views.PermalinkURL(roomNumber(t, room), id)).doc(t).Find("#"+views.MessageID(id)+"[data-kind=deleted][data-highlight]").Length() != 1 {
		t.Error("the permalink of a deleted post does not highlight its mark")
	}
	page := carol.get(room).doc(t)
	if page.Find("#"+views.MessageID(id)+"[data-kind=deleted]").Length() != 1 || strings.Contains(page.Find("#messages").Text(), "final, really") {
		t.Error("the room page still shows the deleted text")
	}
}

func TestReplayCoversChanges(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	edited := postID(t, alice, room, "to be edited")
	deleted := postID(t, alice, room, "to be deleted")
	reacted := postID(t, alice, room, "to be liked")

	// Bob's page holds all three, as of change counter 0, then drops.
	page := bob.get(room).doc(t)
	rev := page.Find("#messages").AttrOr("data-rev", "")
	if rev != "0" {
		t.Fatalf("page rev %q", rev)
	}
	alice.post(msgPath(edited)+"/edit", url.Values{"text": {"edited meanwhile"}})
	alice.post(msgPath(deleted)+"/delete", nil)
	bob.post(msgPath(reacted)+"/boosts", url.Values{"emoji": {"🎉"}})
	newer := postID(t, alice, room, "new meanwhile")

	ws := dialRev(t, bob, room, reacted, 0)
	var frames []string
	for len(frames) < 2 {
		select {
		case f := <-ws.frames:
			if strings.Contains(f, "msg-") {
				frames = append(frames, f)
			}
		case <-time.After(long):
			t.Fatalf("frames so far: %q", frames)
		}
	}
	doc, _ := goquery.NewDocumentFromReader(strings.NewReader(strings.Join(frames, "")))
	if doc.Find("#"+views.MessageID(edited)+"[data-edited] .text").Text() != "edited meanwhile" {
		t.Error("the edit was not replayed")
	}
	if doc.Find("#"+views.MessageID(deleted)+"[data-kind=deleted]").Length() != 1 {
		t.Error("the delete was not replayed")
	}
	if doc.Find("#"+views.MessageID(reacted)+` .boost[data-users="bob"]`).Length() != 1 {
		t.Error("the reaction was not replayed")
	}
	if doc.Find("#"+views.MessageID(newer)).Length() != 1 {
		t.Error("the new entry was not replayed")
	}
	// A page that has seen every change gets none again.
	r, _ := srv.Store.RoomRev(context.Background(), roomNumber(t, room))
	again := dialRev(t, bob, room, newer, r)
	if got := again.entriesBefore(saying(alice.mark(room)), long); len(got) != 0 {
		t.Errorf("up to date, yet replayed %v", got)
	}
	if res := bob.get(room + "/ws?after=1&rev=x"); res.StatusCode == http.StatusSwitchingProtocols {
		t.Error("a bad rev upgraded")
	}
}

// dialRev opens a socket that resumes after the entry after and the
// change counter rev.
func dialRev(t *testing.T, c *client, room string, after, rev int64) *wsClient {
	t.Helper()
	ws, res, err := c.tryDial(room, after, c.srv.URL, "rev="+strconv.FormatInt(rev, 10))
	if err != nil {
		t.Fatalf("dial: %v %v", err, res)
	}
	return ws
}

func TestBoosts(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	id := postID(t, alice, room, "lunch?")
	watcher := alice.dial(room, -1).settle()
	boosts := func(want string) {
		t.Helper()
		b := watcher.next("#"+views.BoostsID(id)+"[hx-swap-oob]", long)
		var got []string
		b.Find(".boost").Each(func(_ int, s *goquery.Selection) {
			got = append(got, s.AttrOr("value", "")+"="+s.AttrOr("data-users", "")+"/"+s.Find(".boost-count").Text())
		})
		if strings.Join(got, " ") != want {
			t.Errorf("pushed boosts %q, want %q", got, want)
		}
	}

	if res := bob.post(msgPath(id)+"/boosts", url.Values{"emoji": {"👍"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("react: %d", res.StatusCode)
	}
	boosts("👍=bob/1")
	alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {"👍"}})
	boosts("👍=bob alice/2")
	bob.post(msgPath(id)+"/boosts", url.Values{"emoji": {" on my way "}})
	boosts("👍=bob alice/2 on my way=bob/1")
	bob.post(msgPath(id)+"/boosts", url.Values{"emoji": {"👍"}})
	boosts("👍=alice/1 on my way=bob/1")

	hx := alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {"🎉"}}, "HX-Request", "true")
	if hx.StatusCode != http.StatusOK || hx.doc(t).Find("#"+views.BoostsID(id)+` .boost[value="🎉"]`).Length() != 1 || strings.Contains(hx.Body, "hx-swap-oob") {
		t.Errorf("htmx reaction: %d %s", hx.StatusCode, hx.Body)
	}
	for _, c := range []struct {
		who    *client
		emoji  string
		status int
	}{
		{bob, "", http.StatusUnprocessableEntity},
		{bob, "   ", http.StatusUnprocessableEntity},
		{bob, strings.Repeat("a", 17), http.StatusUnprocessableEntity},
		{bob, "a\nb", http.StatusUnprocessableEntity},
		{carol, "👍", http.StatusForbidden},
	} {
		if res := c.who.post(msgPath(id)+"/boosts", url.Values{"emoji": {c.emoji}}); res.StatusCode != c.status {
			t.Errorf("reaction %q by %s: %d, want %d", c.emoji, c.who.name, res.StatusCode, c.status)
		}
	}
	if res := bob.post(msgPath(id)+"/boosts", url.Values{"emoji": {strings.Repeat("é", 16)}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("16 characters: %d", res.StatusCode)
	}
	if res := bob.post(msgPath(1)+"/boosts", url.Values{"emoji": {"👍"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("reaction to a join entry: %d", res.StatusCode)
	}
	// The page shows them, and the picker offers the quick ones.
	page := bob.get(room).doc(t)
	if page.Find("#"+views.BoostsID(id)+" .boost").Length() != 4 {
		t.Errorf("page boosts: %s", page.Find("#"+views.BoostsID(id)).Text())
	}
	picker := bob.get(msgPath(id) + "/react")
	if picker.StatusCode != http.StatusOK || picker.doc(t).Find(`form[action="`+msgPath(id)+`/boosts"] button[name=emoji]`).Length() < 5 {
		t.Errorf("picker page: %d", picker.StatusCode)
	}
	if css := bob.get("/viewer.css").Body; !strings.Contains(css, `.boost[data-users~="bob"]`) {
		t.Error("bob's css does not mark his reactions")
	}
}

func TestPermalink(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	other := alice.createRoom("other")
	var ids []int64
	for i := range 120 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("entry %d", i)}})
	}
	msgs, _ := srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 200)
	for _, m := range msgs {
		ids = append(ids, m.ID)
	}
	at := ids[60]
	res := alice.get(views.PermalinkURL(roomNumber(t, room), at))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("permalink: %d", res.StatusCode)
	}
	doc := res.doc(t)
	items := doc.Find("#messages > [id^=msg-]")
	if items.Length() != 51 {
		t.Errorf("%d entries around, want 25 + 1 + 25", items.Length())
	}
	hl := doc.Find("#messages [data-highlight]")
	if hl.Length() != 1 || hl.AttrOr("id", "") != views.MessageID(at) {
		t.Errorf("highlighted: %d %q", hl.Length(), hl.AttrOr("id", ""))
	}
	if items.First().AttrOr("id", "") != views.MessageID(ids[35]) || items.Last().AttrOr("id", "") != views.MessageID(ids[85]) {
		t.Errorf("window from %s to %s", items.First().AttrOr("id", ""), items.Last().AttrOr("id", ""))
	}
	// Without JavaScript, the entry opened has its actions as plain links
	// and a form; the others have none (the page's one toolbar serves them).
	for _, sel := range []string{
		`.actions-plain a[href="` + msgPath(at) + `/react"]`,
		`.actions-plain a[href="` + msgPath(at) + `/edit"]`,
		`.actions-plain form[method=post][action="` + msgPath(at) + `/delete"] button`,
	} {
		if hl.Find(sel).Length() != 1 {
			t.Errorf("the highlighted entry lacks %s", sel)
		}
	}
	if n := doc.Find("#messages .actions-plain").Length(); n != 1 {
		t.Errorf("%d entries with plain actions, want the highlighted one", n)
	}
	if doc.Find("#entry-toolbar [data-act]").Length() != 3 {
		t.Error("no toolbar of react, edit and delete")
	}
	if doc.Find("#history-more[hx-get]").Length() != 1 || doc.Find("#history-newer[hx-get]").Length() != 1 {
		t.Error("no loaders both ways")
	}
	if doc.Find("[ws-connect]").Length() != 0 || doc.Find("#compose[ws-send]").Length() != 0 || doc.Find(`#compose[action="`+room+`/messages"]`).Length() != 1 {
		t.Error("a permalink page follows the room live, or has no plain compose form")
	}
	// Scrolling down loads newer pages; the last ends the loading.
	frag := alice.get(room+"/messages?after="+strconv.FormatInt(ids[85], 10), "HX-Request", "true").doc(t)
	if n := frag.Find("[id^=msg-]").Length(); n != len(ids)-86 {
		t.Errorf("newer page: %d entries, want %d", n, len(ids)-86)
	}
	if frag.Find("#history-newer[hx-swap-oob]").Length() != 1 {
		t.Error("the last newer page does not end the loading")
	}
	// Every entry's time links to its permalink.
	live := alice.get(room).doc(t)
	live.Find("#messages > [id^=msg-]").Each(func(_ int, s *goquery.Selection) {
		id, _ := strconv.ParseInt(strings.TrimPrefix(s.AttrOr("id", ""), "msg-"), 10, 64)
		if s.Find("a.permalink time").Length() != 1 || s.Find("a.permalink").AttrOr("href", "") != views.PermalinkURL(roomNumber(t, room), id) {
			t.Errorf("entry %d: no permalink", id)
		}
	})
	for path, want := range map[string]int{
		views.PermalinkURL(roomNumber(t, other), at): http.StatusNotFound,
		room + "/at/999999":                          http.StatusNotFound,
		room + "/at/abc":                             http.StatusNotFound,
		room + "/at/-3":                              http.StatusNotFound,
		room + "/messages?after=x":                   http.StatusBadRequest,
	} {
		if res := alice.get(path); res.StatusCode != want {
			t.Errorf("%s: %d, want %d", path, res.StatusCode, want)
		}
	}
	if res := srv.anon(t).get(views.PermalinkURL(roomNumber(t, room), at)); res.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", res.StatusCode)
	}
}

func TestSearch(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	other := bob.createRoom("random")
	first := postID(t, alice, room, "Meet at the Café Müller")
	second := postID(t, bob, other, "the CAFE is closed")
	gone := postID(t, bob, other, "cafe to delete")
	bob.post(msgPath(gone)+"/delete", nil)
	postID(t, alice, room, "東京タワーで会いましょう")

	res := alice.get("/search?q=" + url.QueryEscape("cafe"))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("search: %d", res.StatusCode)
	}
	doc := res.doc(t)
	var got []string
	doc.Find("#results > [id^=msg-]").Each(func(_ int, s *goquery.Selection) { got = append(got, s.AttrOr("id", "")) })
	if r := doc.Find("#results > #" + views.MessageID(first) + " a.entry-room"); r.Text() != "general" || r.AttrOr("href", "") != room {
		t.Errorf("result's room %q %q", r.Text(), r.AttrOr("href", ""))
	}
	if strings.Join(got, " ") != views.MessageID(second)+" "+views.MessageID(first) {
		t.Errorf("results %v, want newest first, the deleted one left out", got)
	}
	var marks []string
	doc.Find("#results mark").Each(func(_ int, s *goquery.Selection) { marks = append(marks, s.Text()) })
	if strings.Join(marks, ",") != "CAFE,Café" {
		t.Errorf("marks %q", marks)
	}
	if href := doc.Find("#results #"+views.MessageID(first)+" a.permalink").AttrOr("href", ""); href != views.PermalinkURL(roomNumber(t, room), first) {
		t.Errorf("result links to %q", href)
	}
	if n := alice.get("/search?q=" + url.QueryEscape("タワー")).doc(t).Find("#results [id^=msg-]").Length(); n != 1 {
		t.Errorf("Japanese: %d results", n)
	}
	for q, want := range map[string]int{"ca": 422, "a b c": 422, strings.Repeat("x", 201): 422, "": 200, "zzzz": 200} {
		res := alice.get("/search?q=" + url.QueryEscape(q))
		if res.StatusCode != want {
			t.Errorf("q=%q: %d, want %d", q, res.StatusCode, want)
		}
		if res.doc(t).Find("#results [id^=msg-]").Length() != 0 {
			t.Errorf("q=%q found something", q)
		}
	}
	for i := range 60 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("needle %d", i)}})
	}
	items := alice.get("/search?q=needle").doc(t).Find("#results [id^=msg-]")
	if items.Length() != 50 || !strings.HasSuffix(items.First().Find(".text").Text(), "needle 59") {
		t.Errorf("%d results, first %q", items.Length(), items.First().Find(".text").Text())
	}
	if res := srv.anon(t).get("/search?q=cafe"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("signed out: %d", res.StatusCode)
	}
}

func TestUnread(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	roomA := alice.createRoom("alpha")
	roomB := alice.createRoom("beta")
	roomC := alice.createRoom("gamma") // bob is no member
	bob.post(roomA+"/join", nil)
	bob.post(roomB+"/join", nil)
	unread := func(c *client) []string {
		t.Helper()
		var out []string
		c.get("/").doc(t).Find("#room-list a[data-unread]").Each(func(_ int, s *goquery.Selection) { out = append(out, s.AttrOr("href", "")) })
		return out
	}
	// Alpha and beta he joined (his join is the newest entry: seen);
	// gamma he never opened.
	if got := unread(bob); strings.Join(got, " ") != roomC {
		t.Fatalf("unread %v, want gamma alone", got)
	}
	bob.get(roomA)
	bob.get(roomB)
	bob.get(roomC)
	if got := unread(bob); len(got) != 0 {
		t.Fatalf("unread before anything: %v", got)
	}

	// Bob follows beta; a post in alpha marks alpha on his page, live.
	ws := bob.dial(roomB, -1).settle()
	postID(t, alice, roomA, "news in alpha")
	postID(t, alice, roomC, "news in gamma")
	mark := ws.next("#"+views.RoomLinkID(roomNumber(t, roomA))+" a[data-unread]", long)
	if mark.AttrOr("href", "") != roomA || mark.Find("[data-room-name]").Text() != "alpha" {
		t.Errorf("mark %q %q", mark.AttrOr("href", ""), mark.Text())
	}
	if got := unread(bob); strings.Join(got, " ") != roomA+" "+roomC {
		t.Errorf("unread %v, want alpha and gamma (marked for a reader who is no member too)", got)
	}
	bob.get(roomC)
	if got := unread(alice); strings.Join(got, " ") != roomB {
		t.Errorf("alice has unread %v, want beta alone (bob's join; her own entries are seen)", got)
	}
	// Opening alpha clears it, on his other pages too.
	bob.get(roomA)
	ws.next("#"+views.RoomLinkID(roomNumber(t, roomA))+" a:not([data-unread])", long)
	if got := unread(bob); len(got) != 0 {
		t.Errorf("unread after opening: %v", got)
	}
	// A page that follows no room (the lobby) gets the marks too.
	lobby := bob.dial("", -1) // subscribed when the handshake is answered
	postID(t, alice, roomA, "more news in alpha")
	if mark := lobby.next("#"+views.RoomLinkID(roomNumber(t, roomA))+" a[data-unread]", long); mark.Find("[data-room-name]").Text() != "alpha" {
		t.Errorf("lobby mark %q", mark.Text())
	}
	lobby.send(map[string]any{"text": "posted from the lobby?"})
	lobby.sync() // the server has handled the send
	// Opening alpha clears its mark on every page of his, after anything
	// the send brought about.
	bob.get(roomA)
	cleared := has("#" + views.RoomLinkID(roomNumber(t, roomA)) + " a:not([data-unread])")
	for _, f := range lobby.through(cleared, long) {
		if got := entriesOf(t, f); len(got) != 0 {
			t.Errorf("the lobby's socket got entries: %v", got)
		}
	}
	lobby.conn.Close()
	// Following a room live is seeing it.
	inA := bob.dial(roomA, -1).settle()
	id := postID(t, alice, roomA, "seen live")
	inA.next("#"+views.MessageID(id), long)
	inA.conn.Close()
	testutil.Eventually(t, long, func() bool { return len(unread(bob)) == 0 }, "unread after seeing it live: %v", unread(bob))
	// What he has seen outlives the server's memory: it is flushed to the
	// database.
	ws.conn.Close()
	testutil.Eventually(t, long, func() bool {
		rooms, _ := srv.Store.ListRooms(context.Background(), 2)
		for _, r := range rooms {
			if r.ID == roomNumber(t, roomA) {
				return r.LastReadID == id
			}
		}
		return false
	}, "the read mark of alpha was not stored as %d", id)
}
