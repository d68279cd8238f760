package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"chat/handlers"
	"chat/store"
)

// Every limit is taken before the work it guards: these tests fire many
// requests at once over real HTTP and count exactly the limit through.

func withLoginAddrLimit(n int) serverOption {
	return func(d *handlers.Deps) { d.LoginAddrLimit = n }
}

// formRequest is the request client.post sends, made to be sent later.
func formRequest(t *testing.T, c *client, path string, form url.Values, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// shot is one request of a burst, sent by a browser.
type shot struct {
	c   *client
	req *http.Request
}

// burst sends the requests all at once and returns each one's status, in
// the order given.
func burst(t *testing.T, shots []shot) []int {
	t.Helper()
	codes := make([]int, len(shots))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range shots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			res, err := s.c.http.Do(s.req)
			if err != nil {
				t.Errorf("request %d: %v", i, err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			codes[i] = res.StatusCode
		}()
	}
	close(start)
	wg.Wait()
	return codes
}

// tally counts the statuses.
func tally(codes []int) map[int]int {
	n := map[int]int{}
	for _, c := range codes {
		n[c]++
	}
	return n
}

func wantTally(t *testing.T, what string, codes []int, want map[int]int) {
	t.Helper()
	got := tally(codes)
	for code, n := range want {
		if got[code] != n {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %v, want %v", what, got, want)
	}
}

func signedIn(c *client) bool { return c.cookie("chat_session") != nil }

func TestBurstLoginPerName(t *testing.T) {
	srv := newServer(t, withLoginLimit(10))
	srv.register(t, "alice")
	srv.register(t, "bob")
	guesses := func(name string, n int) []shot {
		var shots []shot
		for i := range n {
			c := srv.anon(t)
			shots = append(shots, shot{c, formRequest(t, c, "/login", url.Values{"username": {name}, "password": {"guess " + strconv.Itoa(i)}})})
		}
		return shots
	}

	t.Run("WrongGuesses", func(t *testing.T) {
		// 100 guesses at once: ten are checked, the rest refused unchecked.
		wantTally(t, "100 wrong guesses", burst(t, guesses("alice", 100)), map[int]int{http.StatusUnauthorized: 10, http.StatusTooManyRequests: 90})
	})

	t.Run("RightPasswordOnceTheLimitIsUsed", func(t *testing.T) {
		shots := guesses("alice", 100)
		right := srv.anon(t)
		shots = append(shots[:50], append([]shot{{right, formRequest(t, right, "/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})}}, shots[50:]...)...)
		wantTally(t, "the right password among 100 guesses", burst(t, shots), map[int]int{http.StatusTooManyRequests: 101})
		if signedIn(right) {
			t.Error("the right password signed in past the limit")
		}
	})

	t.Run("RightPasswordInTheBurst", func(t *testing.T) {
		// Whatever the order they come in, ten wrong guesses at bob's
		// password are checked and no more; the right one signs in only if
		// it came before the tenth (and gives its place back: it is no
		// failure). Back too late, when the rest of the burst was already
		// refused (a loaded machine checks slowly), its place made the
		// tenth: nine wrong guesses checked.
		shots := guesses("bob", 100)
		right := srv.anon(t)
		shots = append(shots[:50], append([]shot{{right, formRequest(t, right, "/login", url.Values{"username": {"bob"}, "password": {"password-bob"}})}}, shots[50:]...)...)
		n := tally(burst(t, shots))
		checked := n[http.StatusUnauthorized]
		if (checked != 10 && (checked != 9 || n[http.StatusSeeOther] != 1)) || n[http.StatusSeeOther]+n[http.StatusTooManyRequests] != 101-checked {
			t.Errorf("%d wrong guesses at bob's password checked (%v), want 10", n[http.StatusUnauthorized], n)
		}
		if signedIn(right) != (n[http.StatusSeeOther] == 1) {
			t.Errorf("signed in %v, statuses %v", signedIn(right), n)
		}
	})
}

func TestBurstLoginPerAddress(t *testing.T) {
	// The test's requests come from 127.0.0.1, a trusted proxy here, so
	// X-Forwarded-For names the client address.
	srv := newServer(t, withLoginAddrLimit(20), withTrustedProxies("127.0.0.1/32"))
	srv.register(t, "bob")
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }
	var shots []shot
	for i := range 100 {
		c := srv.anon(t)
		shots = append(shots, shot{c, formRequest(t, c, "/login", url.Values{"username": {"nobody" + strconv.Itoa(i)}, "password": {"guess"}}, from("203.0.113.7")...)})
	}
	wantTally(t, "100 names from one address", burst(t, shots), map[int]int{http.StatusUnauthorized: 20, http.StatusTooManyRequests: 80})
	if res := login(srv.anon(t), "bob", "password-bob", from("203.0.113.7")...); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("past the address's limit: %d, want 429", res.StatusCode)
	}
	if res := login(srv.anon(t), "bob", "password-bob", from("203.0.113.8")...); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another address: %d", res.StatusCode)
	}
}

func TestLoginSharedAddress(t *testing.T) {
	// An office behind one address: others there mistype their passwords,
	// 60 times at once, while alice types hers right.
	srv := newServer(t, withLoginLimit(10), withLoginAddrLimit(100), withTrustedProxies("127.0.0.1/32"))
	office := []string{"X-Forwarded-For", "198.51.100.20"}
	srv.register(t, "alice")
	var shots []shot
	for i := range 60 {
		name := "colleague" + strconv.Itoa(i%30)
		if i < 30 {
			srv.register(t, name)
		}
		c := srv.anon(t)
		shots = append(shots, shot{c, formRequest(t, c, "/login", url.Values{"username": {name}, "password": {"typo"}}, office...)})
	}
	alice := srv.anon(t)
	shots = append(shots, shot{alice, formRequest(t, alice, "/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}, office...)})
	codes := burst(t, shots)
	wantTally(t, "60 typos and alice", codes[:60], map[int]int{http.StatusUnauthorized: 60})
	if codes[60] != http.StatusSeeOther || !signedIn(alice) {
		t.Errorf("alice among the typos: %d, want 303", codes[60])
	}
	// And after them, slowed but let in.
	later := srv.anon(t)
	if res := login(later, "alice", "password-alice", office...); res.StatusCode != http.StatusSeeOther {
		t.Errorf("alice after 60 typos at her address: %d, want 303", res.StatusCode)
	}
}

func TestBurstPasswordChecks(t *testing.T) {
	srv := newServer(t, withLoginLimit(10))
	alice := srv.register(t, "alice")
	var shots []shot
	for i := range 100 {
		shots = append(shots, shot{alice, formRequest(t, alice, "/account/password", url.Values{"current_password": {"guess " + strconv.Itoa(i)}, "new_password": {"taken over 1"}})})
	}
	wantTally(t, "100 wrong current passwords", burst(t, shots), map[int]int{http.StatusUnauthorized: 10, http.StatusTooManyRequests: 90})
	res := alice.post("/account/password", url.Values{"current_password": {"password-alice"}, "new_password": {"taken over 1"}})
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("past the limit, the right password: %d, want 429", res.StatusCode)
	}
	if res.doc(t).Find("[data-kind=error]").Length() != 1 {
		t.Error("no error shown")
	}
	// They count as failed sign-ins of alice's.
	if res := login(srv.anon(t), "alice", "password-alice"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-in after the guesses: %d, want 429", res.StatusCode)
	}
}

func TestBurstRooms(t *testing.T) {
	srv := newServer(t, withRoomLimit(10))
	alice := srv.register(t, "alice")
	var shots []shot
	for i := range 60 {
		shots = append(shots, shot{alice, formRequest(t, alice, "/rooms", url.Values{"name": {"room " + strconv.Itoa(i)}})})
	}
	wantTally(t, "60 rooms at once", burst(t, shots), map[int]int{http.StatusSeeOther: 10, http.StatusTooManyRequests: 50})
	rooms, err := srv.Store.ListRooms(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 10 {
		t.Errorf("%d rooms made, want 10", len(rooms))
	}
}

func TestBurstPosts(t *testing.T) {
	srv := newServer(t, withPostLimit(5))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	var shots []shot
	for i := range 40 {
		shots = append(shots, shot{alice, formRequest(t, alice, room+"/messages", url.Values{"text": {"post " + strconv.Itoa(i)}})})
	}
	wantTally(t, "40 posts at once", burst(t, shots), map[int]int{http.StatusSeeOther: 5, http.StatusTooManyRequests: 35})
	msgs, err := srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 100)
	if err != nil {
		t.Fatal(err)
	}
	posts := 0
	for _, m := range msgs {
		if strings.HasPrefix(m.Text, "post ") {
			posts++
		}
	}
	if posts != 5 {
		t.Errorf("%d posts stored, want 5", posts)
	}
}

func TestBurstReactions(t *testing.T) {
	srv := newServer(t, withPostLimit(5))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	id := postID(t, alice, room, "react to this")
	var shots []shot
	for i := range 40 {
		shots = append(shots, shot{alice, formRequest(t, alice, msgPath(id)+"/boosts", url.Values{"emoji": {"r" + strconv.Itoa(i)}})})
	}
	wantTally(t, "40 reactions at once", burst(t, shots), map[int]int{http.StatusSeeOther: 5, http.StatusTooManyRequests: 35})
	m, err := srv.Store.FindMessage(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Boosts) != 5 {
		t.Errorf("%d reactions stored, want 5", len(m.Boosts))
	}
}

func TestBurstSockets(t *testing.T) {
	srv := newServer(t, withMaxSockets(3))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	codes := make([]int, 30)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, res, err := alice.tryDial(room, -1, srv.URL)
			switch {
			case err == nil:
				codes[i] = http.StatusSwitchingProtocols
			case res != nil:
				codes[i] = res.StatusCode
			default:
				t.Errorf("dial %d: %v", i, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	wantTally(t, "30 sockets at once", codes, map[int]int{http.StatusSwitchingProtocols: 3, http.StatusTooManyRequests: 27})
}

// TestBurstRoomChanges: each change of a room is pushed to every page
// that lists it, so a user's changes of rooms (renames, access, archive)
// and new direct messages are limited to three times -room-limit an
// hour, reserved before the change; an admin's are not counted, and
// direct messages that exist open whatever the limit.
func TestBurstRoomChanges(t *testing.T) {
	srv := newServer(t, withRoomLimit(2))
	root := srv.register(t, "root") // the first account: an admin
	alice := srv.register(t, "alice")
	room := alice.createRoom("plans")
	var shots []shot
	for i := range 20 {
		shots = append(shots, shot{alice, formRequest(t, alice, room+"/rename", url.Values{"name": {"plans " + strconv.Itoa(i)}})})
	}
	wantTally(t, "20 renames at once", burst(t, shots), map[int]int{http.StatusSeeOther: 6, http.StatusTooManyRequests: 14})
	if res := alice.post(room+"/archive", nil); res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
		t.Errorf("alice's archive past her changes: %d (Retry-After %q), want 429 with Retry-After", res.StatusCode, res.Header.Get("Retry-After"))
	}
	entries, err := srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 100)
	if err != nil {
		t.Fatal(err)
	}
	renames := 0
	for _, m := range entries {
		if m.Kind == store.KindRename {
			renames++
		}
	}
	if renames != 6 {
		t.Errorf("%d renames stored, want 6", renames)
	}
	// An admin's changes are not counted.
	for i := range 8 {
		if res := root.post(room+"/rename", url.Values{"name": {"by root " + strconv.Itoa(i)}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("root's rename %d: %d, want 303", i, res.StatusCode)
		}
	}
	// New direct messages count too; one that exists opens anyway.
	bob := srv.register(t, "bob")
	srv.register(t, "carol")
	existing := root.post("/users/bob/dm", nil) // root and bob's
	if existing.StatusCode != http.StatusSeeOther {
		t.Fatalf("root's DM: %d", existing.StatusCode)
	}
	for _, to := range []string{"alice", "carol", "root"} {
		if res := bob.post("/users/"+to+"/dm", nil); res.StatusCode != http.StatusSeeOther {
			t.Errorf("bob's DM with %s: %d, want 303 (root's exists; the others are new)", to, res.StatusCode)
		}
	}
	if res := alice.post("/users/carol/dm", nil); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("alice's new DM past her changes: %d, want 429", res.StatusCode)
	}
	if res := alice.post("/users/bob/dm", nil); res.StatusCode != http.StatusSeeOther {
		t.Errorf("alice opening her DM that bob made: %d, want 303", res.StatusCode)
	}
}
