package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"chat/internal/testutil"
	"chat/views"

	"github.com/PuerkitoBio/goquery"
)

// Live room lists: what a page's lists of rooms are pushed equals what a
// reload of the page shows, for each reader, on sockets and streams.

// feed is a live page's socket or stream, as the lists test reads it.
type feed interface {
	// upTo returns what arrived up to the first frame marker accepts,
	// that frame last.
	upTo(marker func(frame string) bool) []string
}

type wsFeed struct{ *wsClient }

func (w wsFeed) upTo(marker func(string) bool) []string { return w.through(marker, long) }

type sseFeed struct{ *sseClient }

func (s sseFeed) upTo(marker func(string) bool) []string {
	var out []string
	for _, ev := range s.through(marker, long) {
		out = append(out, ev.data)
	}
	return out
}

// listedSel finds, in a frame, a room put in the room list.
func listedSel(id int64) string {
	return `[hx-swap-oob^="beforeend:#"] > li[data-room-item="` + strconv.FormatInt(id, 10) + `"]`
}

// goneSel finds, in a frame, a room taken out of the lists.
func goneSel(id int64) string {
	return `[hx-swap-oob="innerHTML:[data-room-item='` + strconv.FormatInt(id, 10) + `'], #room-sink"]`
}

// frameDoc parses a frame.
func frameDoc(t *testing.T, frame string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(frame))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func outer(t *testing.T, s *goquery.Selection) string {
	t.Helper()
	h, err := goquery.OuterHtml(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// listedAsReload waits on f for the room to be put in the lists, and
// checks that each list the frame puts it in (the room list, and the
// lobby's) shows it, on a reload of page by c, exactly as pushed, and in
// no other list. It returns the frame.
func listedAsReload(t *testing.T, who string, f feed, c *client, page string, id int64) *goquery.Document {
	t.Helper()
	frames := f.upTo(has(listedSel(id)))
	doc := frameDoc(t, frames[len(frames)-1])
	item := `li[data-room-item="` + strconv.FormatInt(id, 10) + `"]`
	if n := doc.Find(`[hx-swap-oob^="beforeend:"]`).Length(); n == 0 {
		t.Fatalf("%s: no list in frame %q", who, frames[len(frames)-1])
	}
	// What a reader has seen is written down as their sockets take
	// entries: the reload may have to wait for it.
	var problems []string
	same := func() bool {
		problems = nil
		reload := c.get(page).doc(t)
		doc.Find(`[hx-swap-oob^="beforeend:"]`).Each(func(_ int, s *goquery.Selection) {
			target := strings.TrimPrefix(s.AttrOr("hx-swap-oob", ""), "beforeend:")
			list, _, _ := strings.Cut(target, ",")
			if page != "/" && strings.HasPrefix(list, "#lobby-") {
				return // the page has no lobby's list: the item goes to its sink
			}
			got := reload.Find(list + " > " + item)
			if got.Length() != 1 {
				problems = append(problems, fmt.Sprintf("pushed into %s, which on a reload of %s holds %d such items", list, page, got.Length()))
				return
			}
			if want, pushed := outer(t, got), outer(t, s.Find(item)); want != pushed {
				problems = append(problems, fmt.Sprintf("%s pushed\n%s\nreload shows\n%s", list, pushed, want))
			}
		})
		pushed := doc.Find(item).Length()
		if page != "/" && doc.Find(`[hx-swap-oob^="beforeend:#lobby-"]`).Length() > 0 {
			pushed-- // to the sink
		}
		if n := reload.Find(item).Length(); n != pushed {
			problems = append(problems, fmt.Sprintf("a reload of %s shows the room %d times, the frame %d", page, n, pushed))
		}
		return len(problems) == 0
	}
	if !testutil.Within(long, same) {
		for _, p := range problems {
			t.Errorf("%s: %s", who, p)
		}
	}
	// A room pushed again first empties what the page showed of it.
	if doc.Find(goneSel(id)).Length() != 1 {
		t.Errorf("%s: the frame does not empty the room's old items first", who)
	}
	return doc
}

// goneAsReload waits on f for the room to be taken out of the lists, and
// checks that a reload of page by c does not show it. The frames that came
// before are returned.
func goneAsReload(t *testing.T, who string, f feed, c *client, page string, id int64) []string {
	t.Helper()
	// (A room put in again is emptied first: that frame is no removal.)
	frames := f.upTo(func(f string) bool { return has(goneSel(id))(f) && !has(listedSel(id))(f) })
	if n := c.get(page).doc(t).Find(`[data-room-item="` + strconv.FormatInt(id, 10) + `"]`).Length(); n != 0 {
		t.Errorf("%s: a reload of %s still shows the room (%d items)", who, page, n)
	}
	return frames[:len(frames)-1]
}

// noneMention fails if a frame names the room or lists its id.
func noneMention(t *testing.T, who string, frames []string, id int64, name string) {
	t.Helper()
	for _, f := range frames {
		if strings.Contains(f, name) || frameDoc(t, f).Find(listedSel(id)).Length() > 0 {
			t.Errorf("%s was told of the closed room: %q", who, f)
		}
	}
}

func TestLiveLists(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root") // an admin
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	hall := bob.createRoom("Hall")

	// bob follows: his lobby (socket), his own stream (the fallback of a
	// page that follows no room), and a room page (its socket).
	lobby := wsFeed{bob.dial("", -1)}
	lobby.sync()
	stream := sseFeed{bob.stream("/events")}
	room := wsFeed{bob.dial(hall, -1).settle()}
	// carol's lobby, and ann's own lobby in another tab.
	carols := wsFeed{carol.dial("", -1)}
	carols.sync()
	anns := wsFeed{ann.dial("", -1)}
	anns.sync()

	var open, secret int64
	t.Run("Created", func(t *testing.T) {
		open = roomID(t, ann.createRoom("Plans"))
		listedAsReload(t, "bob's lobby", lobby, bob, "/", open)
		listedAsReload(t, "bob's stream", stream, bob, "/", open)
		listedAsReload(t, "bob's room page", room, bob, hall, open)
		listedAsReload(t, "carol's lobby", carols, carol, "/", open)
		// Theirs: unread, not members; ann's: hers, read.
		if doc := listedAsReload(t, "ann's lobby", anns, ann, "/", open); doc.Find("a[data-unread]").Length() != 0 ||
			!strings.Contains(doc.Find("#lobby-room-"+strconv.FormatInt(open, 10)).Text(), "member") {
			t.Error("ann's own room is pushed to her unread, or not hers")
		}
	})
	t.Run("ClosedNotLeaked", func(t *testing.T) {
		secret = roomID(t, ann.createRoomAccess("Secret Cabal", "closed"))
		listedAsReload(t, "ann's lobby", anns, ann, "/", secret)
		// The next room anyone sees is the marker: nothing of the closed
		// one came before it.
		marker := roomID(t, root.createRoom("Marker"))
		for who, f := range map[string]feed{"bob's lobby": lobby, "bob's stream": stream, "bob's room page": room, "carol's lobby": carols} {
			noneMention(t, who, f.upTo(has(listedSel(marker))), secret, "Secret Cabal")
		}
		anns.upTo(has(listedSel(marker)))
	})
	t.Run("AddedAndRemoved", func(t *testing.T) {
		ann.post(views.RoomURL(secret)+"/members", url.Values{"username": {"carol"}})
		listedAsReload(t, "carol's lobby", carols, carol, "/", secret)
		carolsRoom := wsFeed{carol.dial(views.RoomURL(secret), -1).settle()}
		if res := ann.post(views.RoomURL(secret)+"/members/carol/remove", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("remove: %d", res.StatusCode)
		}
		goneAsReload(t, "carol's lobby", carols, carol, "/", secret)
		if code := carolsRoom.closeCode(long); code != 1008 {
			t.Errorf("carol's socket of the room closed with %d", code)
		}
	})
	t.Run("JoinedAndLeft", func(t *testing.T) {
		badge := func(doc *goquery.Document) bool {
			return strings.Contains(doc.Find("#lobby-room-"+strconv.FormatInt(open, 10)).Text(), "member")
		}
		bob.post(views.RoomURL(open)+"/join", nil)
		if !badge(listedAsReload(t, "bob's lobby", lobby, bob, "/", open)) {
			t.Error("the room joined is not bob's in his lobby")
		}
		listedAsReload(t, "bob's stream", stream, bob, "/", open)
		listedAsReload(t, "bob's room page", room, bob, hall, open)
		bob.post(views.RoomURL(open)+"/leave", nil)
		// An open room left stays listed, no longer his.
		if badge(listedAsReload(t, "bob's lobby", lobby, bob, "/", open)) {
			t.Error("the room left is still bob's in his lobby")
		}
		listedAsReload(t, "bob's room page", room, bob, hall, open)
		listedAsReload(t, "bob's stream", stream, bob, "/", open)
	})
	t.Run("Renamed", func(t *testing.T) {
		// carol follows the room: the change is no news to her.
		follows := carol.dial(views.RoomURL(open), -1).settle()
		ann.post(views.RoomURL(open)+"/rename", url.Values{"name": {"Roadmap"}})
		if follows.next("[data-kind=rename]", long).Length() != 1 {
			t.Fatal("carol's socket of the room has no rename")
		}
		// What a socket took is written down every few seconds, and as it
		// closes: then a reload says what the push said.
		follows.conn.Close()
		if listedAsReload(t, "carol's lobby, following", carols, carol, "/", open).Find("[data-unread]").Length() != 0 {
			t.Error("the room carol follows is pushed to her lobby unread")
		}
		for who, f := range map[string]feed{"bob's lobby": lobby, "bob's stream": stream} {
			if doc := listedAsReload(t, who, f, bob, "/", open); doc.Find("#room-name-"+strconv.FormatInt(open, 10)).Text() != "Roadmap" ||
				doc.Find("[data-unread]").Length() == 0 {
				t.Errorf("%s: not renamed, or not unread", who)
			}
		}
		listedAsReload(t, "bob's room page", room, bob, hall, open)
		listedAsReload(t, "ann's lobby", anns, ann, "/", open)
	})
	t.Run("RenamedKeepsCounts", func(t *testing.T) {
		// A room of bob's he does not follow, where ann writes twice,
		// once to him: his lobby counts two, one mentioning him.
		desk := bob.createRoom("Desk")
		id := roomID(t, desk)
		listedAsReload(t, "bob's lobby", lobby, bob, "/", id)
		ann.post(desk+"/join", nil)
		ann.post(desk+"/messages", url.Values{"text": {"morning"}})
		ann.post(desk+"/messages", url.Values{"text": {"@bob the plan"}})
		counted := `#room-link-` + strconv.FormatInt(id, 10) + ` a[data-count="2"][data-mention]`
		lobby.upTo(has(counted))
		// Renamed by an admin: the room is put in his lists again, with
		// its count and mention as a reload shows them.
		root.post(desk+"/rename", url.Values{"name": {"Front desk"}})
		if doc := listedAsReload(t, "bob's lobby", lobby, bob, "/", id); doc.Find(`a[data-count="2"][data-mention]`).Length() == 0 {
			t.Error("the renamed room lost bob's count of unread posts")
		}
	})
	t.Run("ClosedAndOpened", func(t *testing.T) {
		ann.post(views.RoomURL(open)+"/access", url.Values{"access": {"closed"}})
		goneAsReload(t, "bob's lobby", lobby, bob, "/", open)
		goneAsReload(t, "bob's room page", room, bob, hall, open)
		goneAsReload(t, "bob's stream", stream, bob, "/", open)
		if doc := listedAsReload(t, "ann's lobby", anns, ann, "/", open); doc.Find("a[data-closed]").Length() == 0 {
			t.Error("ann's lobby does not show the room closed")
		}
		ann.post(views.RoomURL(open)+"/access", url.Values{"access": {"open"}})
		listedAsReload(t, "bob's lobby", lobby, bob, "/", open)
		listedAsReload(t, "bob's room page", room, bob, hall, open)
		listedAsReload(t, "bob's stream", stream, bob, "/", open)
	})
	t.Run("Archived", func(t *testing.T) {
		ann.post(views.RoomURL(open)+"/archive", nil)
		doc := listedAsReload(t, "bob's lobby", lobby, bob, "/", open)
		if doc.Find(`[hx-swap-oob="beforeend:#archived-list"]`).Length() != 1 {
			t.Error("an archived room is not pushed to the archived list")
		}
		listedAsReload(t, "bob's room page", room, bob, hall, open)
		listedAsReload(t, "bob's stream", stream, bob, "/", open)
		ann.post(views.RoomURL(open)+"/unarchive", nil)
		for who, f := range map[string]feed{"bob's lobby": lobby, "bob's stream": stream} {
			if listedAsReload(t, who, f, bob, "/", open).Find(`[hx-swap-oob="beforeend:#room-list"]`).Length() != 1 {
				t.Errorf("%s: a room brought back is not pushed to the room list", who)
			}
		}
		listedAsReload(t, "bob's room page", room, bob, hall, open)
	})
	t.Run("DM", func(t *testing.T) {
		res := ann.post("/users/bob/dm", nil)
		dm := roomID(t, res.Header.Get("Location"))
		doc := listedAsReload(t, "bob's lobby", lobby, bob, "/", dm)
		if doc.Find(`[hx-swap-oob="beforeend:#dm-list"] [data-dm-name]`).Text() != "ann" {
			t.Error("bob's direct messages with ann are not named after her")
		}
		listedAsReload(t, "bob's room page", room, bob, hall, dm)
		listedAsReload(t, "bob's stream", stream, bob, "/", dm)
		listedAsReload(t, "ann's lobby", anns, ann, "/", dm)
		// carol hears of none of it.
		marker := roomID(t, root.createRoom("Second marker"))
		for _, f := range carols.upTo(has(listedSel(marker))) {
			if frameDoc(t, f).Find(listedSel(dm)).Length() > 0 {
				t.Errorf("carol was told of ann and bob's direct messages: %q", f)
			}
		}
	})
	t.Run("Deleted", func(t *testing.T) {
		follower := wsFeed{carol.dial(views.RoomURL(open), -1).settle()}
		res := root.post(views.RoomURL(open)+"/delete", url.Values{"confirm": {"Roadmap"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d %s", res.StatusCode, res.Body)
		}
		goneAsReload(t, "bob's lobby", lobby, bob, "/", open)
		goneAsReload(t, "bob's stream", stream, bob, "/", open)
		goneAsReload(t, "bob's room page", room, bob, hall, open)
		goneAsReload(t, "carol's lobby", carols, carol, "/", open)
		if code := follower.closeCode(long); code != 1008 {
			t.Errorf("a socket of the deleted room closed with %d", code)
		}
	})
}

// An unread mark pushed for a closed room keeps its lock, as a reload
// shows it.
func TestLiveListsUnreadMarkOfClosedRoom(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	room := ann.createRoomAccess("Den", "closed")
	ann.post(room+"/members", url.Values{"username": {"bob"}})
	lobby := bob.dial("", -1)
	lobby.sync()
	ann.post(room+"/messages", url.Values{"text": {"news"}})
	item := "li#" + views.RoomLinkID(roomID(t, room))
	frames := lobby.through(has(item+" a[data-unread]"), long)
	pushed := outer(t, frameDoc(t, frames[len(frames)-1]).Find(item).RemoveAttr("hx-swap-oob"))
	if want := outer(t, bob.get("/").doc(t).Find("#room-list > "+item)); pushed != want {
		t.Errorf("pushed\n%s\nreload shows\n%s", pushed, want)
	}
}
