package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/internal/testutil"
)

// createRoomAccess makes an open or closed room through the form and
// returns its path.
func (c *client) createRoomAccess(name, access string) string {
	c.t.Helper()
	res := c.post("/rooms", url.Values{"name": {name}, "access": {access}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("create room %q (%s): %d %s", name, access, res.StatusCode, res.Body)
	}
	return res.Header.Get("Location")
}

// roomID is the id of a room path.
func roomID(t testing.TB, room string) int64 {
	id, err := strconv.ParseInt(strings.TrimPrefix(room, "/rooms/"), 10, 64)
	if err != nil {
		t.Fatalf("room path %q", room)
	}
	return id
}

// lastEntryID is the id of the newest entry a room page shows.
func (c *client) lastEntryID(room string) int64 {
	c.t.Helper()
	res := c.get(room)
	ids := c.ids(res.doc(c.t).Find("#messages [id^=msg-]").Last().AttrOr("id", ""))
	return ids
}

func (c *client) ids(id string) int64 {
	n, err := strconv.ParseInt(strings.TrimPrefix(id, "msg-"), 10, 64)
	if err != nil {
		c.t.Fatalf("entry id %q", id)
	}
	return n
}

func TestRoomCreateAccess(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	res := ann.post("/rooms", url.Values{"name": {"Team"}, "access": {"secret"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "open (everyone sees it) or closed") {
		t.Fatalf("access=secret: %d", res.StatusCode)
	}
	if rooms, _ := srv.Store.ListRooms(t.Context(), 1); len(rooms) != 0 {
		t.Fatalf("a refused room was made: %v", rooms)
	}
	open := ann.createRoom("Town") // no access: open
	closed := ann.createRoomAccess("Team", "closed")
	bob := srv.register(t, "bob")
	lobby := bob.get("/").doc(t)
	if lobby.Find(`a[href="`+open+`"]`).Length() == 0 {
		t.Error("bob's lobby lacks the open room")
	}
	if lobby.Find(`a[href="`+closed+`"]`).Length() != 0 || strings.Contains(bob.get("/").Body, "Team") {
		t.Error("bob's lobby shows the closed room")
	}
	if ann.get("/").doc(t).Find(`a[href="`+closed+`"][data-closed]`).Length() == 0 {
		t.Error("ann's lobby lacks her closed room")
	}
}

// TestClosedRoomLooksUnknown: to a non-member, every way into a closed room
// answers exactly as for a room that does not exist.
func TestClosedRoomLooksUnknown(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	eve := srv.register(t, "eve")
	closed := ann.createRoomAccess("Team", "closed")
	ann.post(closed+"/messages", url.Values{"text": {"secret plans tonight"}})
	msg := ann.lastEntryID(closed)
	unknown := "/rooms/" + strconv.FormatInt(roomID(t, closed)+1000, 10)
	noMsg := strconv.FormatInt(msg+1000, 10)
	m := strconv.FormatInt(msg, 10)

	same := func(what string, a, b response) {
		t.Helper()
		if a.StatusCode != b.StatusCode || a.Body != b.Body || a.Header.Get("Content-Type") != b.Header.Get("Content-Type") {
			t.Errorf("%s: closed room %d %q, unknown room %d %q", what, a.StatusCode, a.Body, b.StatusCode, b.Body)
		}
		if a.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", what, a.StatusCode)
		}
	}
	for _, htmx := range []bool{false, true} {
		var h []string
		if htmx {
			h = []string{"HX-Request", "true"}
		}
		for _, p := range []struct{ what, closed, unknown string }{
			{"page", closed, unknown},
			{"history", closed + "/messages?before=" + noMsg, unknown + "/messages?before=" + noMsg},
			{"newer history", closed + "/messages?after=0", unknown + "/messages?after=0"},
			{"permalink", closed + "/at/" + m, unknown + "/at/" + m},
			{"mention options", closed + "/mentions?q=a", unknown + "/mentions?q=a"},
			{"entry", "/messages/" + m, "/messages/" + noMsg},
			{"edit form", "/messages/" + m + "/edit", "/messages/" + noMsg + "/edit"},
			{"reaction form", "/messages/" + m + "/react", "/messages/" + noMsg + "/react"},
			{"delete confirmation", closed + "/delete", unknown + "/delete"},
		} {
			same(p.what, eve.get(p.closed, h...), eve.get(p.unknown, h...))
		}
		for _, p := range []struct {
			what, closed, unknown string
			form                  url.Values
		}{
			{"join", closed + "/join", unknown + "/join", nil},
			{"leave", closed + "/leave", unknown + "/leave", nil},
			{"post", closed + "/messages", unknown + "/messages", url.Values{"text": {"hello"}}},
			{"add a member", closed + "/members", unknown + "/members", url.Values{"username": {"eve"}}},
			{"remove a member", closed + "/members/ann/remove", unknown + "/members/ann/remove", nil},
			{"rename", closed + "/rename", unknown + "/rename", url.Values{"name": {"Mine"}}},
			{"access", closed + "/access", unknown + "/access", url.Values{"access": {"open"}}},
			{"archive", closed + "/archive", unknown + "/archive", nil},
			{"unarchive", closed + "/unarchive", unknown + "/unarchive", nil},
			{"delete", closed + "/delete", unknown + "/delete", url.Values{"confirm": {"Team"}}},
			{"edit", "/messages/" + m + "/edit", "/messages/" + noMsg + "/edit", url.Values{"text": {"mine"}}},
			{"delete entry", "/messages/" + m + "/delete", "/messages/" + noMsg + "/delete", nil},
			{"react", "/messages/" + m + "/boosts", "/messages/" + noMsg + "/boosts", url.Values{"emoji": {"👍"}}},
		} {
			same(p.what, eve.post(p.closed, p.form, h...), eve.post(p.unknown, p.form, h...))
		}
	}
	// The socket.
	_, resClosed, errClosed := eve.tryDial(closed, -1, srv.URL)
	_, resUnknown, errUnknown := eve.tryDial(unknown, -1, srv.URL)
	if errClosed == nil || errUnknown == nil || resClosed.StatusCode != http.StatusNotFound || resClosed.StatusCode != resUnknown.StatusCode {
		t.Errorf("socket: closed %v %v, unknown %v %v", resClosed, errClosed, resUnknown, errUnknown)
	}
	// The event stream, with and without a place to resume from.
	for _, h := range [][]string{nil, {"Last-Event-ID", "1-0"}} {
		_, closedRes := eve.tryStream(closed+"/events", h...)
		_, unknownRes := eve.tryStream(unknown+"/events", h...)
		same("event stream", closedRes, unknownRes)
	}
	// Search and the lobby.
	if doc := eve.get("/search?q=plans").doc(t); doc.Find("#results [id^=msg-]").Length() != 0 {
		t.Error("eve finds the closed room's post")
	}
	if doc := ann.get("/search?q=plans").doc(t); doc.Find("#results [id^=msg-]").Length() != 1 {
		t.Error("ann does not find her own room's post")
	}
	if strings.Contains(eve.get("/").Body, "Team") || strings.Contains(eve.get("/search?q=plans").Body, "Team") {
		t.Error("eve's pages name the closed room")
	}
	// Unread marks: eve's own socket hears nothing of the closed room; a
	// post in an open room she is in comes after, as a marker.
	open := ann.createRoom("Town")
	eve.post(open+"/join", nil)
	lobby := eve.dial("", -1)
	lobby.sync()
	ann.post(closed+"/messages", url.Values{"text": {"more secrets"}})
	ann.post(open+"/messages", url.Values{"text": {"hello town"}})
	frames := lobby.through(has(`#room-link-`+strconv.FormatInt(roomID(t, open), 10)), long)
	for _, f := range frames {
		if strings.Contains(f, closed) || strings.Contains(f, "Team") {
			t.Errorf("eve's socket was told of the closed room: %q", f)
		}
	}
}

func TestMemberAdd(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	eve := srv.register(t, "eve")
	closed := ann.createRoomAccess("Team", "closed")
	watch := ann.dial(closed, -1).settle()
	bobsLobby := bob.dial("", -1)
	bobsLobby.sync()

	for _, c := range []struct {
		name, user string
		status     int
		says       string
	}{
		{"UnknownUser", "nobody", http.StatusUnprocessableEntity, "There is no one named nobody"},
		{"BadName", "a b", http.StatusUnprocessableEntity, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := ann.post(closed+"/members", url.Values{"username": {c.user}})
			if res.StatusCode != c.status || !strings.Contains(res.Body, c.says) {
				t.Errorf("%d %q", res.StatusCode, res.Body)
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		if res := ann.post(closed+"/members", url.Values{"username": {"bob"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("add bob: %d %s", res.StatusCode, res.Body)
		}
		// The room appears in bob's lists, live.
		link := bobsLobby.next(`[hx-swap-oob="beforeend:#room-list"] a[href="`+closed+`"]`, long)
		if !strings.Contains(link.Text(), "Team") {
			t.Errorf("link text %q", link.Text())
		}
		// A join entry says who added him.
		e := watch.next(`[data-kind=join][data-author=bob]`, long)
		if !strings.Contains(e.Text(), "added by") || !strings.Contains(e.Find(".by").Text(), "ann") {
			t.Errorf("join entry %q", e.Text())
		}
		if res := bob.get(closed); res.StatusCode != http.StatusOK {
			t.Errorf("bob reads the room: %d", res.StatusCode)
		}
		if bob.get("/").doc(t).Find(`a[href="`+closed+`"]`).Length() == 0 {
			t.Error("bob's lobby lacks the room")
		}
		// Twice adds nothing.
		before := ann.lastEntryID(closed)
		ann.post(closed+"/members", url.Values{"username": {"bob"}})
		if after := ann.lastEntryID(closed); after != before {
			t.Errorf("adding twice wrote entry %d", after)
		}
	})
	t.Run("MemberAddsToo", func(t *testing.T) {
		if res := bob.post(closed+"/members", url.Values{"username": {"eve"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("bob adds eve: %d", res.StatusCode)
		}
		if res := eve.get(closed); res.StatusCode != http.StatusOK {
			t.Errorf("eve reads: %d", res.StatusCode)
		}
		// Anyone leaves.
		if res := eve.post(closed+"/leave", nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("eve leaves: %d", res.StatusCode)
		}
		if res := eve.get(closed); res.StatusCode != http.StatusNotFound {
			t.Errorf("eve after leaving: %d", res.StatusCode)
		}
	})
	t.Run("ErrNotMember", func(t *testing.T) {
		open := ann.createRoom("Town")
		res := eve.post(open+"/members", url.Values{"username": {"bob"}})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Only the room&#39;s members may add people") {
			t.Errorf("a non-member adds to an open room: %d %q", res.StatusCode, res.Body)
		}
	})
}

// TestMemberRemove: the creator or an admin removes a member, whose open
// sockets of the room close at once, and whose lists lose a closed room.
func TestMemberRemove(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root") // the first account: an admin
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	closed := ann.createRoomAccess("Team", "closed")
	for _, u := range []string{"bob", "carol"} {
		ann.post(closed+"/members", url.Values{"username": {u}})
	}
	watch := ann.dial(closed, -1).settle()
	bobsRoom := bob.dial(closed, -1).settle()
	bobsStream := bob.stream(closed + "/events").settle()
	bobsLobby := bob.dial("", -1)
	bobsLobby.sync()

	t.Run("Offered", func(t *testing.T) {
		page := ann.get(closed).doc(t)
		if page.Find(`#room-manage button[aria-label="Remove bob"]`).Length() != 1 || page.Find(`#room-manage button[aria-label="Remove ann"]`).Length() != 0 {
			t.Error("the creator is offered the others to remove, not herself")
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		res := carol.post(closed+"/members/bob/remove", nil)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Only the room&#39;s creator or an admin may change it.") {
			t.Errorf("carol removes bob: %d %q", res.StatusCode, res.Body)
		}
	})
	t.Run("OK", func(t *testing.T) {
		sent := url.Values{"text": {"mine"}, "client_id": {"bob-send-1"}}
		if res := bob.post(closed+"/messages", sent, "HX-Request", "true"); res.StatusCode != http.StatusOK {
			t.Fatalf("bob's post: %d", res.StatusCode)
		}
		began := time.Now()
		if res := ann.post(closed+"/members/bob/remove", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d %s", res.StatusCode, res.Body)
		}
		code := bobsRoom.closeCode(long)
		took := time.Since(began)
		t.Logf("bob's socket closed %v after the request went out", took)
		if code != 1008 || took > time.Second {
			t.Errorf("bob's socket closed with %d after %v, want 1008 within 1 s", code, took)
		}
		bobsLobby.next(`[hx-swap-oob="innerHTML:[data-room-item='`+strconv.FormatInt(roomID(t, closed), 10)+`'], #room-sink"]`, long)
		e := watch.next(`[data-kind=leave][data-author=bob]`, long)
		if !strings.Contains(e.Text(), "removed by") || e.Find(".by").Text() != "ann" {
			t.Errorf("leave entry %q", e.Text())
		}
		if res := bob.get(closed); res.StatusCode != http.StatusNotFound {
			t.Errorf("bob reads the room after: %d", res.StatusCode)
		}
		if _, res, err := bob.tryDial(closed, -1, srv.URL); err == nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("bob's socket after: %v", err)
		}
		// The same send again tells him no more than a new one would.
		for _, h := range [][]string{nil, {"HX-Request", "true"}} {
			if res := bob.post(closed+"/messages", sent, h...); res.StatusCode != http.StatusNotFound {
				t.Errorf("bob repeats his send %v: %d, want 404", h, res.StatusCode)
			}
		}
		// His event stream of the room ends as his socket did.
		if code := bobsStream.ended(long); code != 1008 {
			t.Errorf("bob's stream ended with %d, want 1008", code)
		}
		// Logged as what it was, not as a sign-out.
		testutil.Eventually(t, long, func() bool {
			return strings.Count(srv.Logs.String(), "user=bob reason=removed") >= 2
		}, "bob's socket and stream are not logged as removed: %s", srv.Logs.String())
		if _, res := bob.tryStream(closed + "/events"); res.StatusCode != http.StatusNotFound {
			t.Errorf("bob's stream after: %d", res.StatusCode)
		}
	})
	t.Run("Admin", func(t *testing.T) {
		if res := root.post(closed+"/members/carol/remove", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("admin removes carol: %d", res.StatusCode)
		}
		if res := carol.get(closed); res.StatusCode != http.StatusNotFound {
			t.Errorf("carol after: %d", res.StatusCode)
		}
	})
	t.Run("NoSuchMember", func(t *testing.T) {
		if res := ann.post(closed+"/members/nobody/remove", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("remove nobody: %d", res.StatusCode)
		}
	})
}

func TestRoomRename(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	room := ann.createRoom("Town")
	ann.createRoom("Other")
	bob.post(room+"/join", nil)
	id := strconv.FormatInt(roomID(t, room), 10)
	bobsRoom := bob.dial(room, -1).settle()
	rootsLobby := root.dial("", -1) // no member: the open room's name reaches the lobby
	rootsLobby.sync()

	for _, c := range []struct {
		name    string
		who     *client
		newName string
		status  int
		says    string
	}{
		{"ErrInvalid", ann, "   ", http.StatusUnprocessableEntity, ""},
		{"ErrTooLong", ann, strings.Repeat("x", 65), http.StatusUnprocessableEntity, ""},
		{"ErrNameTaken", ann, "OTHER", http.StatusConflict, "A room with that name exists already."},
		{"ErrForbidden", bob, "Bob&#39;s", http.StatusForbidden, "Only the room&#39;s creator or an admin may change it."},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := c.who.post(room+"/rename", url.Values{"name": {c.newName}})
			if res.StatusCode != c.status || !strings.Contains(res.Body, c.says) {
				t.Errorf("%d %q", res.StatusCode, res.Body)
			}
			if doc := ann.get(room).doc(t); doc.Find("#room-title").Text() != "Town" {
				t.Errorf("name now %q", doc.Find("#room-title").Text())
			}
		})
	}
	t.Run("OK", func(t *testing.T) {
		if res := ann.post(room+"/rename", url.Values{"name": {"City"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("rename: %d %s", res.StatusCode, res.Body)
		}
		renamed := `[hx-swap-oob="innerHTML:[data-room-name='` + id + `'], #room-sink"]`
		f := bobsRoom.through(has(renamed), long)
		doc := (response{Body: f[len(f)-1]}).doc(t)
		if doc.Find(renamed).Text() != "City" {
			t.Errorf("title frame %q", f[len(f)-1])
		}
		e := doc.Find("[data-kind=rename][data-author=ann]")
		if e.Length() != 1 || e.Find(".from").Text() != "Town" || e.Find(".to").Text() != "City" || !strings.Contains(e.Text(), "renamed") {
			t.Errorf("rename entry %q", f[len(f)-1])
		}
		// The lobby of someone who is no member has it again, renamed.
		if got := rootsLobby.next("#room-name-"+id, long).Text(); got != "City" {
			t.Errorf("root's lobby shows %q", got)
		}
		if doc := bob.get(room).doc(t); doc.Find("#room-title").Text() != "City" || doc.Find("#room-name-"+id).Text() != "City" {
			t.Error("the page does not show the new name")
		}
		// The history keeps the entry, in the same markup.
		if doc := bob.get(room).doc(t); doc.Find("#messages [data-kind=rename] .to").Text() != "City" {
			t.Error("the rename is not in the history")
		}
	})
	t.Run("Admin", func(t *testing.T) {
		if res := root.post(room+"/rename", url.Values{"name": {"Village"}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("admin renames: %d", res.StatusCode)
		}
	})
}

func TestRoomAccessAndArchive(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	eve := srv.register(t, "eve")
	room := ann.createRoom("Town")
	bob.post(room+"/join", nil)
	ann.post(room+"/messages", url.Values{"text": {"an archived thought"}})
	post := ann.lastEntryID(room)

	t.Run("Access", func(t *testing.T) {
		if res := ann.post(room+"/access", url.Values{"access": {"ajar"}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("ajar: %d", res.StatusCode)
		}
		if res := bob.post(room+"/access", url.Values{"access": {"closed"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("bob closes: %d", res.StatusCode)
		}
		evesRoom := eve.dial(room, -1).settle()
		bobsRoom := bob.dial(room, -1).settle()
		if res := ann.post(room+"/access", url.Values{"access": {"closed"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("close: %d", res.StatusCode)
		}
		if code := evesRoom.closeCode(long); code != 1008 {
			t.Errorf("eve's socket closed with %d", code)
		}
		if e := bobsRoom.next("[data-kind=access][data-author=ann]", long); !strings.Contains(e.Text(), "closed the room") {
			t.Errorf("access entry %q", e.Text())
		}
		if res := eve.get(room); res.StatusCode != http.StatusNotFound {
			t.Errorf("eve reads the closed room: %d", res.StatusCode)
		}
		ann.post(room+"/access", url.Values{"access": {"open"}})
		if res := eve.get(room); res.StatusCode != http.StatusOK {
			t.Errorf("eve reads the opened room: %d", res.StatusCode)
		}
	})
	t.Run("Archive", func(t *testing.T) {
		if res := bob.post(room+"/archive", nil); res.StatusCode != http.StatusForbidden {
			t.Errorf("bob archives: %d", res.StatusCode)
		}
		bobsRoom := bob.dial(room, -1).settle()
		if res := ann.post(room+"/archive", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("archive: %d", res.StatusCode)
		}
		bobsRoom.next("[data-kind=archive][data-author=ann]", long)
		before := ann.lastEntryID(room)
		res := bob.post(room+"/messages", url.Values{"text": {"too late"}})
		if res.StatusCode != http.StatusForbidden || res.doc(t).Find("[data-archived]").Length() == 0 {
			t.Errorf("post in an archived room: %d", res.StatusCode)
		}
		bobsRoom.post("too late too")
		if e := bobsRoom.next("#compose-error", long); !strings.Contains(e.Text(), "archived") {
			t.Errorf("socket post: %q", e.Text())
		}
		p := strconv.FormatInt(post, 10)
		for what, r := range map[string]response{
			"react":  bob.post("/messages/"+p+"/boosts", url.Values{"emoji": {"👍"}}),
			"edit":   ann.post("/messages/"+p+"/edit", url.Values{"text": {"changed"}}),
			"delete": ann.post("/messages/"+p+"/delete", nil),
			"join":   eve.post(room+"/join", nil),
			"add":    ann.post(room+"/members", url.Values{"username": {"eve"}}),
			"typing": bob.post(room+"/typing", nil),
		} {
			if r.StatusCode != http.StatusForbidden || !strings.Contains(r.Body, "archived") {
				t.Errorf("%s in an archived room: %d", what, r.StatusCode)
			}
		}
		if after := ann.lastEntryID(room); after != before {
			t.Errorf("an archived room took entry %d", after)
		}
		lobby := bob.get("/").doc(t)
		if lobby.Find(`#lobby-archived a[href="`+room+`"]`).Length() != 1 || lobby.Find(`#lobby-rooms a[href="`+room+`"]`).Length() != 0 {
			t.Error("the lobby does not list the room apart, under Archived")
		}
		if bob.get("/search?q=thought").doc(t).Find("#results [id^=msg-]").Length() != 1 {
			t.Error("an archived room's posts are not found")
		}
		if res := ann.post(room+"/unarchive", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("unarchive: %d", res.StatusCode)
		}
		if res := bob.post(room+"/messages", url.Values{"text": {"back again"}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("post after unarchive: %d", res.StatusCode)
		}
	})
}

func TestRoomDelete(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	ann := srv.register(t, "ann")
	room := ann.createRoomAccess("Doomed", "closed")
	ann.post(room+"/messages", url.Values{"text": {"gone tomorrow"}})
	post := ann.lastEntryID(room)
	if res := ann.get(room + "/delete"); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Only an admin may delete a room.") {
		t.Errorf("the creator asks to delete: %d", res.StatusCode)
	}
	if res := ann.post(room+"/delete", url.Values{"confirm": {"Doomed"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("the creator deletes: %d", res.StatusCode)
	}
	res := root.get(room + "/delete")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("confirmation: %d", res.StatusCode)
	}
	summary := res.doc(t).Find("#delete-summary").Text()
	if !strings.Contains(summary, "Doomed") || !regexp.MustCompile(`\b2 entries`).MatchString(summary) {
		t.Errorf("the confirmation says %q", summary)
	}
	if res := root.post(room+"/delete", nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("delete unconfirmed: %d", res.StatusCode)
	}
	annsRoom := ann.dial(room, -1).settle()
	annsLobby := ann.dial("", -1)
	annsLobby.sync()
	if res := root.post(room+"/delete", url.Values{"confirm": {"Doomed"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
	}
	if code := annsRoom.closeCode(long); code != 1008 {
		t.Errorf("ann's socket closed with %d", code)
	}
	annsLobby.next(`[hx-swap-oob="innerHTML:[data-room-item='`+strconv.FormatInt(roomID(t, room), 10)+`'], #room-sink"]`, long)
	for _, p := range []string{room, "/messages/" + strconv.FormatInt(post, 10)} {
		if res := ann.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s after delete: %d", p, res.StatusCode)
		}
	}
	if ann.get("/search?q=tomorrow").doc(t).Find("#results [id^=msg-]").Length() != 0 {
		t.Error("a deleted room's post is found")
	}
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "connections left: %d", srv.Hub.Conns())
}

// Nothing posted after a member is removed, or after a room closes, reaches
// the connections that change shuts out, however fast the posts come: the
// connections close as the change is pushed, before the next entry.
func TestShutOutTakesNothingAfter(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	carol := srv.register(t, "carol")
	bob := srv.register(t, "bob")
	for trial := range 4 {
		for _, kind := range []string{"remove", "close"} {
			var room string
			if kind == "remove" {
				room = ann.createRoomAccess(fmt.Sprintf("Team %d", trial), "closed")
				ann.post(room+"/members", url.Values{"username": {"bob"}})
			} else {
				room = ann.createRoomAccess(fmt.Sprintf("Town %d", trial), "open")
			}
			ann.post(room+"/members", url.Values{"username": {"carol"}})
			carol.post(room+"/join", nil)
			poster := carol.dial(room, -1).settle()
			shut := bob.dial(room, -1).settle()
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() {
				defer close(done)
				for i := 0; i < 5000; i++ {
					select {
					case <-stop:
						return
					default:
					}
					poster.post(fmt.Sprintf("burst %d", i))
				}
			}()
			// Let the burst run a little, then shut bob out in its midst.
			poster.next(`[data-kind=post]`, long)
			var res response
			if kind == "remove" {
				res = ann.post(room+"/members/bob/remove", nil)
			} else {
				res = ann.post(room+"/access", url.Values{"access": {"closed"}})
			}
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s: %d", kind, res.StatusCode)
			}
			// The change's entry, as the poster sees it: everything after
			// it is what bob must not get.
			change := poster.next(map[string]string{"remove": `[data-kind=leave][data-author=bob]`, "close": `[data-kind=access]`}[kind], long)
			changeID, _ := strconv.ParseInt(strings.TrimPrefix(change.AttrOr("id", ""), "msg-"), 10, 64)
			poster.next(`[data-kind=post]`, long) // the burst went on past it
			close(stop)
			<-done
			var after []string
			timeout := time.After(long)
		frames:
			for {
				select {
				case f, ok := <-shut.frames:
					if !ok {
						break frames // closed, as it must be
					}
					for _, e := range entriesOf(t, f) {
						if id, _ := strconv.ParseInt(strings.Fields(e)[0], 10, 64); id > changeID {
							after = append(after, e)
						}
					}
				case <-timeout:
					t.Fatalf("%s: bob's socket still open", kind)
				}
			}
			if len(after) > 0 {
				t.Errorf("trial %d, %s: bob got %d entries posted after the change (%d): %q", trial, kind, len(after), changeID, after[0])
			}
		}
	}
}
