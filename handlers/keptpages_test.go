package handlers_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/internal/testdb"
	"chat/internal/testutil"

	"github.com/PuerkitoBio/goquery"
	_ "github.com/mattn/go-sqlite3"
)

// TestKeptPagesShowEveryChange: the lobby, a room's page, its history and
// a search are kept per session (keptpages.go) and given again while
// nothing changed; each kind of change is on the very next request of
// every page that shows it. Each page is asked twice before each change,
// so that the second answer, and the one after the change, could come
// from what was kept.
func TestKeptPagesShowEveryChange(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withRoomLimit(0))
	root := srv.register(t, "root") // the first account: an admin
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	room := root.createRoom("general")
	other := root.createRoom("elsewhere")
	for _, c := range []*client{bob, carol} {
		c.post(room+"/join", nil)
		c.post(other+"/join", nil)
	}
	first := postID(t, bob, room, "the first word of bob")
	for i := range 60 {
		postID(t, root, room, fmt.Sprintf("filler %d", i))
	}

	// doc is path as c reads it now, asked until two answers in a row
	// are the same page (a first visit to a room marks it read, which
	// the next shows): the last may be kept.
	doc := func(c *client, path string) *goquery.Document {
		t.Helper()
		var body string
		for i := 0; ; i++ {
			res := c.get(path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%s: GET %s: %d", c.name, path, res.StatusCode)
			}
			if res.Body == body {
				break
			}
			if i == 3 {
				t.Fatalf("%s: GET %s: a new page each time, nothing changed", c.name, path)
			}
			body = res.Body
		}
		d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	has := func(d *goquery.Document, sel, text string) bool {
		return strings.Contains(d.Find(sel).Text(), text)
	}
	history := room + "/messages?before=" + fmt.Sprint(first+40)
	search := "/search?q=bob"
	// Every page is kept before the changes start.
	for _, c := range []*client{root, bob, carol} {
		for _, p := range []string{"/", room, history, search} {
			doc(c, p)
		}
	}

	t.Run("post", func(t *testing.T) {
		doc(root, room)
		doc(root, search)
		postID(t, bob, room, "bob says pineapple")
		if !has(doc(root, room), "#messages", "bob says pineapple") {
			t.Error("root's room page misses bob's post")
		}
		if !has(doc(root, "/search?q=bob"), "main", "pineapple") {
			t.Error("root's search misses bob's post")
		}
	})
	t.Run("edit", func(t *testing.T) {
		doc(root, history)
		if res := bob.post(fmt.Sprintf("/messages/%d/edit", first), url.Values{"text": {"the first word, edited"}}); res.StatusCode >= 400 {
			t.Fatalf("edit: %d", res.StatusCode)
		}
		if !has(doc(root, history), "li", "the first word, edited") {
			t.Error("root's history misses bob's edit")
		}
	})
	t.Run("reaction", func(t *testing.T) {
		doc(bob, history)
		if res := root.post(fmt.Sprintf("/messages/%d/boosts", first), url.Values{"emoji": {"🍍"}}); res.StatusCode >= 400 {
			t.Fatalf("react: %d", res.StatusCode)
		}
		if !strings.Contains(doc(bob, history).Text(), "🍍") {
			t.Error("bob's history misses root's reaction")
		}
	})
	t.Run("rename", func(t *testing.T) {
		doc(bob, "/")
		if res := root.post(room+"/rename", url.Values{"name": {"renamed"}}); res.StatusCode >= 400 {
			t.Fatalf("rename: %d", res.StatusCode)
		}
		if !has(doc(bob, "/"), "main", "renamed") || !has(doc(bob, room), "h1", "renamed") {
			t.Error("bob's pages miss the new name")
		}
	})
	t.Run("membership", func(t *testing.T) {
		doc(root, room)
		if res := bob.post(room+"/leave", nil); res.StatusCode >= 400 {
			t.Fatalf("leave: %d", res.StatusCode)
		}
		if has(doc(root, room), "#members", "bob") {
			t.Error("root's room page still lists bob as a member")
		}
		if res := root.post(room+"/members", url.Values{"username": {"bob"}}); res.StatusCode >= 400 {
			t.Fatalf("add member: %d", res.StatusCode)
		}
		if !has(doc(root, room), "#members", "bob") {
			t.Error("root's room page misses bob, added")
		}
	})
	t.Run("unread and read", func(t *testing.T) {
		unread := func() bool {
			return doc(bob, "/").Find(`a[href="`+other+`"][data-unread]`).Length() > 0
		}
		doc(bob, other)
		if unread() {
			t.Fatal("bob's lobby marks a room he read")
		}
		postID(t, carol, other, "news elsewhere")
		if !unread() {
			t.Error("bob's lobby misses the news elsewhere")
		}
		doc(bob, other)
		if unread() {
			t.Error("bob's lobby still marks the room he opened")
		}
	})
	t.Run("presence", func(t *testing.T) {
		doc(root, room)
		ws := carol.dial(room, -1).settle()
		if !has(doc(root, room), "#presence", "carol") {
			t.Error("root's room page misses carol, online")
		}
		ws.conn.Close()
		testutil.Eventually(t, long, func() bool { return !has(doc(root, room), "#presence", "carol") },
			"root's room page still shows carol online, gone")
	})
	t.Run("settings", func(t *testing.T) {
		doc(bob, "/")
		if res := bob.post("/account/language", url.Values{"lang": {"es"}}); res.StatusCode >= 400 {
			t.Fatalf("language: %d", res.StatusCode)
		}
		if lang, _ := doc(bob, "/").Find("html").Attr("lang"); lang != "es" {
			t.Errorf("bob's lobby in %q after he chose Spanish", lang)
		}
		if doc(bob, "/").Find(`a[href="/admin"]`).Length() != 0 {
			t.Fatal("bob sees the admin link before he is one")
		}
		if res := root.post("/admin/users/bob/admin", nil); res.StatusCode >= 400 {
			t.Fatalf("make admin: %d", res.StatusCode)
		}
		if doc(bob, "/").Find(`a[href="/admin"]`).Length() == 0 {
			t.Error("bob, made admin, misses the admin link")
		}
	})
	t.Run("sign-out and deactivation", func(t *testing.T) {
		for _, who := range []struct {
			c   *client
			end func()
		}{
			{bob, func() { bob.post("/logout", nil) }},
			{carol, func() { root.post("/admin/users/carol/deactivate", nil) }},
		} {
			token := who.c.cookie("chat_session").Value
			doc(who.c, room)
			who.end()
			old := srv.anon(t)
			u, _ := url.Parse(srv.URL)
			old.http.Jar.SetCookies(u, []*http.Cookie{{Name: "chat_session", Value: token}})
			for _, p := range []string{"/", room, history, search} {
				if res := old.get(p); res.StatusCode != http.StatusSeeOther {
					t.Errorf("%s's ended session: GET %s: %d, want 303 to sign in", who.c.name, p, res.StatusCode)
				}
			}
		}
	})
}

// TestPagesKeptUntilAChange: what keeps a page is the store's count of
// its writes: a change made behind the chat's back (another program on
// its SQLite file, which the chat says not to do) is not seen until the
// chat writes anything; then it is. That is how the test knows pages are
// kept at all.
func TestPagesKeptUntilAChange(t *testing.T) {
	if testdb.Postgres() {
		t.Skip("pages are kept on SQLite alone, whose file one chat writes")
	}
	srv := newServer(t, withPostLimit(0))
	root := srv.register(t, "root")
	room := root.createRoom("general")
	behind, err := sql.Open("sqlite3", srv.DB)
	if err != nil {
		t.Fatal(err)
	}
	defer behind.Close()
	// The chat's own writes in the background (the read marks, written
	// every two seconds) may land between two requests and rightly make
	// the lobby again: a few tries tell that apart from pages not kept.
	name := ""
	for try := 0; ; try++ {
		root.get("/")
		root.get("/")
		name = fmt.Sprintf("behind the back %d", try)
		if _, err := behind.Exec("UPDATE rooms SET name = ? WHERE id = ?", name, roomNumber(t, room)); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(root.get("/").Body, name) {
			break
		}
		if try == 4 {
			t.Fatal("the lobby was made again with nothing counted, five times: pages are not kept")
		}
	}
	postID(t, root, room, "any write at all")
	if !strings.Contains(root.get("/").Body, name) {
		t.Error("the lobby was kept past a write")
	}
}

// TestKeptPageAsMade: a page given again is the page as made, byte for
// byte, with the same headers (but the request's own id and date), in
// each encoding, to htmx and to a plain request.
func TestKeptPageAsMade(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	root := srv.register(t, "root")
	bob := srv.register(t, "bob")
	room := root.createRoom("general")
	first := postID(t, root, room, "about coffee")
	for i := range 60 {
		postID(t, root, room, fmt.Sprintf("filler %d", i))
	}
	history := room + "/messages?before=" + fmt.Sprint(first+40)
	for _, path := range []string{"/", room, history, "/search?q=coffee"} {
		for _, enc := range []string{"identity", "gzip", "br"} {
			for _, htmx := range []string{"", "true"} {
				ask := func() response {
					res := root.get(path, "Accept-Encoding", enc, "HX-Request", htmx)
					if res.StatusCode != http.StatusOK {
						t.Fatalf("GET %s (%s, htmx %q): %d", path, enc, htmx, res.StatusCode)
					}
					return res
				}
				ask()
				ask()
				// A write that changes nothing of root's pages: the next
				// page is made afresh, the one after it is kept.
				if res := bob.post("/account/sound", url.Values{"sound": {"on"}}); res.StatusCode != http.StatusSeeOther {
					t.Fatalf("bob's sound: %d", res.StatusCode)
				}
				made, kept := ask(), ask()
				if made.Body != kept.Body {
					t.Errorf("GET %s (%s, htmx %q): the page kept is not the page made", path, enc, htmx)
				}
				for _, h := range []http.Header{made.Header, kept.Header} {
					h.Del("Date")
					h.Del("X-Request-Id")
				}
				if fmt.Sprint(made.Header) != fmt.Sprint(kept.Header) {
					t.Errorf("GET %s (%s, htmx %q): headers made %v, kept %v", path, enc, htmx, made.Header, kept.Header)
				}
			}
		}
	}
}
