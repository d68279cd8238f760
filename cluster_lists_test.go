package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/internal/testnats"
	"chat/internal/testutil"

	fws "github.com/fasthttp/websocket"
)

// listener is a socket of a page (its lobby's, or a room's) that keeps
// every frame it is sent.
type listener struct {
	mu     sync.Mutex
	frames []string
	closed chan int // the close code, once closed
}

func listen(t *testing.T, who member, base, path string) *listener {
	t.Helper()
	u := "ws" + strings.TrimPrefix(base, "http") + path + "/ws"
	conn, _, err := fws.DefaultDialer.Dial(u, http.Header{"Origin": {base}, "Cookie": {who.cookie}})
	if err != nil {
		t.Fatalf("%s: dial %s%s: %v", who.name, base, path, err)
	}
	t.Cleanup(func() { conn.Close() })
	l := &listener{closed: make(chan int, 1)}
	go func() {
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				code := 1006
				if ce, ok := err.(*fws.CloseError); ok {
					code = ce.Code
				}
				l.closed <- code
				return
			}
			l.mu.Lock()
			l.frames = append(l.frames, string(data))
			l.mu.Unlock()
		}
	}()
	return l
}

// count is how many frames so far hold s.
func (l *listener) count(s string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, f := range l.frames {
		if strings.Contains(f, s) {
			n++
		}
	}
	return n
}

// TestClusterLiveLists: on two linked instances, a room made on one
// appears live in the lobby of a page on the other, once; a closed one
// does not reach anyone else; a room deleted on one is taken out of the
// other's pages, and its sockets there close.
func TestClusterLiveLists(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the chat and runs two of it")
	}
	testdb.RequirePostgres(t)
	dbURL := testdb.NewPostgres(t)
	natsURL := testnats.Start(t)
	bin := buildChat(t)
	args := []string{"-db", dbURL, "-nats", natsURL}
	a, b := launchInstance(t, bin, args...), launchInstance(t, bin, args...)

	ann := signUp(t, a.base, "ann") // the first: an admin
	bob := signUp(t, b.base, "bob")
	carol := signUp(t, b.base, "carol")
	lobby := listen(t, bob, b.base, "")
	// bob's lobby on B is subscribed once a room made there reaches it.
	_, hall := bob.do(t, b.base, "/rooms", url.Values{"name": {"Hall"}})
	if !testutil.Within(long, func() bool { return lobby.count(`href="`+hall+`"`) > 0 }) {
		t.Fatal("bob's lobby on B never heard of a room made on B")
	}

	item := func(path string) string {
		return `data-room-item="` + strings.TrimPrefix(path, "/rooms/") + `"`
	}
	code, plans := ann.do(t, a.base, "/rooms", url.Values{"name": {"Plans"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create on A: %d", code)
	}
	_, secret := ann.do(t, a.base, "/rooms", url.Values{"name": {"Secret Cabal"}, "access": {"closed"}})
	_, marker := ann.do(t, a.base, "/rooms", url.Values{"name": {"Marker"}})
	if !testutil.Within(long, func() bool { return lobby.count(`<li id="room-link-`+strings.TrimPrefix(marker, "/rooms/")) > 0 }) {
		t.Fatal("bob's lobby on B does not show the rooms made on A")
	}
	// Once each, though two instances hear of it.
	if n := lobby.count(`<li id="room-link-` + strings.TrimPrefix(plans, "/rooms/") + `"`); n != 1 {
		t.Errorf("bob's lobby on B was told of the room %d times, want once", n)
	}
	if lobby.count("Secret Cabal") != 0 || lobby.count(item(secret)) != 0 {
		t.Error("bob's lobby on B was told of a closed room")
	}
	_, page := getBody(t, withCookie(t, b.base, bob.cookie), b.base+"/")
	if !strings.Contains(page, `id="room-link-`+strings.TrimPrefix(plans, "/rooms/")+`"`) {
		t.Error("a reload on B does not list the room either")
	}

	// Deleted on A: out of bob's lobby on B, and carol's socket of the
	// room on B closes.
	follows := listen(t, carol, b.base, plans)
	if !testutil.Within(long, func() bool { return follows.count(`id="presence"`) > 0 }) {
		t.Fatal("carol's socket on B has no presence list")
	}
	gone := `hx-swap-oob="innerHTML:[data-room-item=&#39;` + strings.TrimPrefix(plans, "/rooms/") + `&#39;], #room-sink"`
	before := lobby.count(gone) // a room put in empties its old items first
	began := time.Now()
	if code, _ := ann.do(t, a.base, plans+"/delete", url.Values{"confirm": {"Plans"}}); code != http.StatusSeeOther {
		t.Fatalf("delete on A: %d", code)
	}
	select {
	case code := <-follows.closed:
		t.Logf("carol's socket on B closed %v after the deletion on A", time.Since(began))
		if code != 1008 {
			t.Errorf("carol's socket on B closed with %d, want 1008", code)
		}
	case <-time.After(long):
		t.Fatal("carol's socket of the deleted room on B is still open")
	}
	if !testutil.Within(long, func() bool { return lobby.count(gone) > before }) {
		t.Error("bob's lobby on B still lists the room deleted on A")
	}
	_, page = getBody(t, withCookie(t, b.base, bob.cookie), b.base+"/")
	if strings.Contains(page, item(plans)) {
		t.Error("a reload on B lists the deleted room")
	}
}
