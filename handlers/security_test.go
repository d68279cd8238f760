package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/internal/testutil"
	"chat/store"
)

func login(c *client, name, password string, headers ...string) response {
	c.t.Helper()
	return c.post("/login", url.Values{"username": {name}, "password": {password}}, headers...)
}

func TestLoginThrottle(t *testing.T) {
	clk := &clock{now: time.Now()}
	// The test's requests come from 127.0.0.1, a trusted proxy here, so
	// X-Forwarded-For names the client address.
	srv := newServer(t, withLoginLimit(3), withLoginAddrLimit(3), withClock(clk), withTrustedProxies("127.0.0.1/32"))
	srv.register(t, "alice")
	srv.register(t, "bob")
	from := func(addr string) []string { return []string{"X-Forwarded-For", addr} }

	t.Run("PerUsername", func(t *testing.T) {
		for i := range 3 {
			if res := login(srv.anon(t), "alice", "wrong", from("198.51.100."+strconv.Itoa(i+1))...); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, res.StatusCode)
			}
		}
		// From yet another address, even the right password waits.
		res := login(srv.anon(t), "ALICE", "password-alice", from("198.51.100.9")...)
		if res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("fourth try: %d, want 429", res.StatusCode)
		}
		wait, err := strconv.Atoi(res.Header.Get("Retry-After"))
		if err != nil || wait < 1 || wait > 15*60+1 {
			t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
		}
		if res.Header.Get("Set-Cookie") != "" {
			t.Error("a throttled login set a cookie")
		}
		// Bob is not affected.
		if res := login(srv.anon(t), "bob", "password-bob", from("198.51.100.9")...); res.StatusCode != http.StatusSeeOther {
			t.Errorf("bob: %d", res.StatusCode)
		}
		// Not for long: 15 minutes after the failures, alice is back.
		clk.Advance(15*time.Minute + time.Second)
		if res := login(srv.anon(t), "alice", "password-alice", from("198.51.100.9")...); res.StatusCode != http.StatusSeeOther {
			t.Errorf("after the window: %d", res.StatusCode)
		}
	})

	t.Run("PerAddress", func(t *testing.T) {
		for i, name := range []string{"nobody1", "nobody2", "nobody3"} {
			if res := login(srv.anon(t), name, "guess", from("203.0.113.7")...); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: %d", i, res.StatusCode)
			}
		}
		if res := login(srv.anon(t), "bob", "password-bob", from("203.0.113.7")...); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("fourth name from one address: %d, want 429", res.StatusCode)
		}
		if res := login(srv.anon(t), "bob", "password-bob", from("203.0.113.8")...); res.StatusCode != http.StatusSeeOther {
			t.Errorf("another address: %d", res.StatusCode)
		}
		// A client cannot pick its address: what it puts before the
		// proxy's own entry is not believed.
		if res := login(srv.anon(t), "bob", "password-bob", from("203.0.113.99, 203.0.113.7")...); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("spoofed first hop: %d, want 429", res.StatusCode)
		}
	})

	t.Run("UntrustedPeerCannotSpoof", func(t *testing.T) {
		direct := newServer(t, withLoginLimit(2), withLoginAddrLimit(2), withClock(clk))
		for i := range 2 {
			login(direct.anon(t), "x"+strconv.Itoa(i)+"yz", "guess", from("192.0.2."+strconv.Itoa(i+1))...)
		}
		if res := login(direct.anon(t), "xyz9", "guess", from("192.0.2.50")...); res.StatusCode != http.StatusTooManyRequests {
			t.Errorf("X-Forwarded-For believed from a peer that is no proxy: %d", res.StatusCode)
		}
	})
}

func TestSessionIdleExpiry(t *testing.T) {
	now := time.Now()
	clk := &clock{now: now}
	s, err := store.Open(context.Background(), testdb.New(t), store.WithSessionIdle(time.Hour), store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	u, _ := s.CreateUser(context.Background(), "alice", "h")
	token, _, _ := s.CreateSession(context.Background(), u.ID)
	clk.Advance(50 * time.Minute)
	if _, err := s.FindSession(context.Background(), token); err != nil {
		t.Fatalf("used within the hour: %v", err)
	}
	clk.Advance(50 * time.Minute) // 50 minutes since the last use
	if _, err := s.FindSession(context.Background(), token); err != nil {
		t.Fatalf("use extends the session: %v", err)
	}
	clk.Advance(61 * time.Minute)
	if _, err := s.FindSession(context.Background(), token); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("idle past the hour: %v", err)
	}
}

func TestPasswordChange(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	laptop := srv.anon(t)
	login(laptop, "alice", "password-alice")
	laptopWS := laptop.dial(room, -1).settle()
	hereWS := alice.dial(room, -1).settle()

	if doc := alice.get("/account/password").doc(t); doc.Find(`form[action="/account/password"] input[name=new_password]`).Length() != 1 {
		t.Fatal("no password form")
	}
	if res := alice.post("/account/password", url.Values{"current_password": {"wrong"}, "new_password": {"new password 1"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong current password: %d", res.StatusCode)
	}
	if res := alice.post("/account/password", url.Values{"current_password": {"password-alice"}, "new_password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("short new password: %d", res.StatusCode)
	}
	if code := laptop.get("/").StatusCode; code != http.StatusOK {
		t.Fatalf("refused changes signed the laptop out: %d", code)
	}

	res := alice.post("/account/password", url.Values{"current_password": {"password-alice"}, "new_password": {"new password 1"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change: %d %s", res.StatusCode, res.Body)
	}
	if code := laptopWS.closeCode(long); code != 1008 {
		t.Errorf("the other session's socket closed with %d, want 1008", code)
	}
	if res := laptop.get("/"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Errorf("other session after the change: %d", res.StatusCode)
	}
	if alice.get("/").StatusCode != http.StatusOK {
		t.Error("the changing session was signed out")
	}
	alice.post(room+"/messages", url.Values{"text": {"still connected"}})
	if got := hereWS.entriesUntil(1, long); len(got) != 1 {
		t.Errorf("this session's socket: %v", got)
	}
	if res := login(srv.anon(t), "alice", "password-alice"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("old password: %d", res.StatusCode)
	}
	if res := login(srv.anon(t), "alice", "new password 1"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("new password: %d", res.StatusCode)
	}
}

func TestLimits(t *testing.T) {
	t.Run("SocketsPerUser", func(t *testing.T) {
		srv := newServer(t, withMaxSockets(2))
		alice := srv.register(t, "alice")
		room := alice.createRoom("general")
		other := alice.createRoom("other")
		first := alice.dial(room, -1).settle()
		alice.dial(other, -1).settle()
		if _, res, err := alice.tryDial(room, -1, srv.URL); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("third socket: %v", res)
		}
		// Others are not affected; a closed socket frees its place.
		bob := srv.register(t, "bob")
		bob.dial(room, -1).settle()
		first.conn.Close()
		testutil.Eventually(t, long, func() bool {
			_, _, err := alice.tryDial(room, -1, srv.URL)
			return err == nil
		}, "a closed socket did not free its place")
	})
	t.Run("RoomsPerHour", func(t *testing.T) {
		clk := &clock{now: time.Now()}
		srv := newServer(t, withRoomLimit(2), withClock(clk))
		alice := srv.register(t, "alice")
		alice.createRoom("one")
		// A refused name does not count.
		alice.post("/rooms", url.Values{"name": {"ONE"}})
		alice.createRoom("two")
		res := alice.post("/rooms", url.Values{"name": {"three"}})
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" {
			t.Fatalf("third room: %d", res.StatusCode)
		}
		if res.doc(t).Find("[data-kind=error]").Length() != 1 {
			t.Error("no error shown")
		}
		if rooms, _ := srv.Store.ListRooms(context.Background(), 1); len(rooms) != 2 {
			t.Errorf("%d rooms", len(rooms))
		}
		srv.register(t, "bob").createRoom("bob's")
		clk.Advance(time.Hour)
		alice.createRoom("three")
	})
	t.Run("BodySize", func(t *testing.T) {
		srv := newServer(t, withBodyLimit(64<<10))
		alice := srv.register(t, "alice")
		room := alice.createRoom("general")
		if res := announceBody(t, srv, room+"/messages", alice.cookie("chat_session").Value, "application/x-www-form-urlencoded", 70<<10); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("70 KiB body: %d, want 413", res.StatusCode)
		}
		if res := alice.post(room+"/messages", url.Values{"text": {strings.Repeat("ü", 4000)}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("the longest post: %d", res.StatusCode)
		}
	})
}
