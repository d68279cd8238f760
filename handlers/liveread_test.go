package handlers_test

import (
	"net/http"
	"strings"
	"testing"

	"chat/internal/testutil"
	"chat/views"

	"github.com/PuerkitoBio/goquery"
)

// A post that a room's open page received live is read: the lobby, asked
// while that page is still open and nothing more has come, shows the room
// read. (The socket tells the unread marks what it sent once a burst is
// over, not only every FlushEvery while posts keep coming, or at its
// close.)
func TestLiveReadShowsInTheLobby(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	if res := bob.get(room); res.StatusCode != http.StatusOK {
		t.Fatalf("bob opens the room: %d", res.StatusCode)
	}
	ws := bob.dial(room, -1).settle()
	id := postID(t, alice, room, "read live")
	ws.next("#"+views.MessageID(id), long)
	unread := func() bool {
		res := bob.get("/")
		d, err := goquery.NewDocumentFromReader(strings.NewReader(res.Body))
		if err != nil {
			t.Fatal(err)
		}
		return d.Find(`a[href="`+room+`"][data-unread]`).Length() > 0
	}
	testutil.Eventually(t, long, func() bool { return !unread() },
		"bob's lobby marks unread the room whose post his open page received")
}
