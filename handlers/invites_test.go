package handlers_test

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/store"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// invite makes an invitation on /admin and returns its token.
func (c *client) invite(uses, days string) string {
	c.t.Helper()
	res := c.post("/admin/invitations", url.Values{"uses": {uses}, "days": {days}})
	if res.StatusCode != http.StatusOK {
		c.t.Fatalf("make an invitation: %d %s", res.StatusCode, res.Body)
	}
	doc := res.doc(c.t)
	link := doc.Find("#invite-link").Text()
	_, token, ok := strings.Cut(link, "/join/")
	if !ok || token == "" || doc.Find(`[data-copy="#invite-link"]`).Length() != 1 {
		c.t.Fatalf("invitation link %q", link)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		c.t.Errorf("the page with the link may be cached: %q", res.Header.Get("Cache-Control"))
	}
	return token
}

// registerWith tries to register name with an invitation token.
func (s *testServer) registerWith(t testing.TB, name, token string) response {
	return s.anon(t).post("/register", url.Values{"username": {name}, "password": {"password-" + name}, "invite": {token}})
}

func (s *testServer) userCount(t testing.TB) int {
	users, err := s.Store.ListUsers(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return len(users)
}

func TestRegistrationPolicy(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	bob := srv.register(t, "bob")

	t.Run("ErrForbidden", func(t *testing.T) {
		for _, p := range []string{"/admin/invitations", "/admin/registration", "/admin/invitations/1/revoke"} {
			if res := bob.post(p, url.Values{"uses": {"1"}, "days": {"1"}, "registration": {"invite"}}); res.StatusCode != http.StatusForbidden {
				t.Errorf("bob posts %s: %d", p, res.StatusCode)
			}
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		if res := root.post("/admin/registration", url.Values{"registration": {"closed"}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("policy closed: %d", res.StatusCode)
		}
		for _, f := range []url.Values{{"uses": {"0"}, "days": {"1"}}, {"uses": {"1"}, "days": {"91"}}, {"uses": {"x"}, "days": {"1"}}} {
			res := root.post("/admin/invitations", f)
			if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find("#invitations [data-kind=error]").Length() != 1 {
				t.Errorf("invitation %v: %d", f, res.StatusCode)
			}
		}
		if list, _ := srv.Store.ListInvitations(t.Context()); len(list) != 0 {
			t.Errorf("refused invitations were made: %v", list)
		}
	})
	// Open: anyone registers, with or without a token.
	if res := srv.registerWith(t, "carol", ""); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open registration: %d", res.StatusCode)
	}
	if res := root.post("/admin/registration", url.Values{"registration": {"invite"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set invite: %d", res.StatusCode)
	}
	if root.get("/admin").doc(t).Find("#registration-policy[data-policy=invite]").Length() != 1 {
		t.Error("the admin page does not show the policy")
	}
	t.Run("ErrInviteNeeded", func(t *testing.T) {
		form := srv.anon(t).get("/register")
		if form.StatusCode != http.StatusOK || form.doc(t).Find("[data-invitation-needed]").Length() != 1 {
			t.Errorf("the form does not say an invitation is needed: %d", form.StatusCode)
		}
		n := srv.userCount(t)
		for _, token := range []string{"", "not-a-token"} {
			res := srv.registerWith(t, "dave", token)
			if res.StatusCode != http.StatusForbidden || res.doc(t).Find("[data-kind=error]").Length() != 1 {
				t.Errorf("register with %q: %d", token, res.StatusCode)
			}
		}
		if res := srv.registerWith(t, "bad name", ""); res.StatusCode != http.StatusForbidden {
			t.Errorf("register a bad name without an invitation: %d", res.StatusCode)
		}
		if srv.userCount(t) != n {
			t.Error("an account was made without an invitation")
		}
	})
	t.Run("OK", func(t *testing.T) {
		token := root.invite("2", "7")
		if strings.Contains(srv.Logs.String(), token) {
			t.Error("the token is in the logs")
		}
		form := srv.anon(t).get("/join/" + token)
		if form.StatusCode != http.StatusOK || form.doc(t).Find(`input[name=invite][value="`+token+`"]`).Length() != 1 ||
			form.doc(t).Find("input[name=username]").Length() != 1 || form.doc(t).Find("[data-invited]").Length() != 1 {
			t.Fatalf("join form: %d", form.StatusCode)
		}
		if res := srv.registerWith(t, "erin", token); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("register with the invitation: %d %s", res.StatusCode, res.Body)
		}
		// A name taken spends no use.
		if res := srv.registerWith(t, "ERIN", token); res.StatusCode != http.StatusConflict {
			t.Errorf("taken name: %d", res.StatusCode)
		}
		if res := srv.registerWith(t, "fred", token); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("second use: %d", res.StatusCode)
		}
		// Used up.
		res := srv.registerWith(t, "gina", token)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "used as many times as it allows") {
			t.Errorf("used up: %d", res.StatusCode)
		}
		if res := srv.anon(t).get("/join/" + token); res.StatusCode != http.StatusGone || !strings.Contains(res.Body, "used as many times") {
			t.Errorf("used-up link: %d", res.StatusCode)
		}
		row := root.get("/admin").doc(t).Find("[data-invitation]").First()
		if row.AttrOr("data-state", "") != "used up" {
			t.Errorf("the admin page lists it as %q", row.AttrOr("data-state", ""))
		}
	})
	t.Run("Revoked", func(t *testing.T) {
		token := root.invite("5", "1")
		list, _ := srv.Store.ListInvitations(t.Context())
		if res := root.post("/admin/invitations/"+itoa(list[0].ID)+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		if res := srv.registerWith(t, "hank", token); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "revoked") {
			t.Errorf("revoked: %d", res.StatusCode)
		}
		if res := srv.anon(t).get("/join/" + token); res.StatusCode != http.StatusGone || !strings.Contains(res.Body, "revoked") {
			t.Errorf("revoked link: %d", res.StatusCode)
		}
		if res := root.post("/admin/invitations/9999/revoke", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("revoke nothing: %d", res.StatusCode)
		}
	})
	t.Run("Expired", func(t *testing.T) {
		// An invitation made a day ago, for an hour, by a store whose
		// clock says so.
		past, err := store.Open(t.Context(), srv.DB, store.WithClock(func() time.Time { return time.Now().Add(-24 * time.Hour) }))
		if err != nil {
			t.Fatal(err)
		}
		defer past.Close()
		u, _ := srv.Store.FindUserByUsername(t.Context(), "root")
		_, token, err := past.CreateInvitation(t.Context(), u.ID, 3, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if res := srv.registerWith(t, "ines", token); res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "expired") {
			t.Errorf("expired: %d", res.StatusCode)
		}
		if res := srv.anon(t).get("/join/" + token); res.StatusCode != http.StatusGone || !strings.Contains(res.Body, "expired") {
			t.Errorf("expired link: %d", res.StatusCode)
		}
	})
	t.Run("Wrong", func(t *testing.T) {
		if res := srv.anon(t).get("/join/nothing-here"); res.StatusCode != http.StatusNotFound || !strings.Contains(res.Body, "not valid") {
			t.Errorf("wrong link: %d", res.StatusCode)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		token := root.invite("1", "1")
		n := srv.userCount(t)
		const tries = 20
		statuses := make([]int, tries)
		var wg sync.WaitGroup
		for i := range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i] = srv.registerWith(t, "racer"+itoa(int64(i)), token).StatusCode
			}()
		}
		wg.Wait()
		made := 0
		for _, s := range statuses {
			switch s {
			case http.StatusSeeOther:
				made++
			case http.StatusForbidden:
			default:
				t.Errorf("status %d", s)
			}
		}
		if made != 1 || srv.userCount(t) != n+1 {
			t.Errorf("%d registrations went through on a one-use invitation; %d accounts made", made, srv.userCount(t)-n)
		}
	})
	// Open again.
	root.post("/admin/registration", url.Values{"registration": {"open"}})
	if res := srv.registerWith(t, "ivan", ""); res.StatusCode != http.StatusSeeOther {
		t.Errorf("open again: %d", res.StatusCode)
	}
}

// TestRegistrationFirstAccount: under invite, the first account needs no
// invitation, and is an admin.
func TestRegistrationFirstAccount(t *testing.T) {
	srv := newServer(t)
	if err := srv.Store.SetRegistrationPolicy(t.Context(), "invite"); err != nil {
		t.Fatal(err)
	}
	if res := srv.anon(t).get("/register"); res.doc(t).Find("[data-invitation-needed]").Length() != 0 {
		t.Error("the first account is told it needs an invitation")
	}
	root := srv.register(t, "root")
	if res := root.get("/admin"); res.StatusCode != http.StatusOK {
		t.Errorf("the first account is no admin: %d", res.StatusCode)
	}
	if res := srv.registerWith(t, "bob", ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("the second without an invitation: %d", res.StatusCode)
	}
}

// TestBotInClosedRoom: a bot sees a closed room as anyone does: posting to
// one it is no member of answers as for an unknown room.
func TestBotInClosedRoom(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	root := srv.register(t, "root")
	ann := srv.register(t, "ann")
	closed := ann.createRoomAccess("Team", "closed")
	token := createBot(t, root, "helper", "")
	anon := srv.anon(t)
	a := anon.api("/api"+closed+"/messages", token, "hello")
	b := anon.api("/api/rooms/999/messages", token, "hello")
	if a.StatusCode != http.StatusNotFound || a.StatusCode != b.StatusCode || a.Body != b.Body {
		t.Errorf("a bot posts to a closed room: %d %s; to no room: %d %s", a.StatusCode, a.Body, b.StatusCode, b.Body)
	}
	if res := ann.post(closed+"/members", url.Values{"username": {"helper"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("add the bot: %d", res.StatusCode)
	}
	if res := anon.api("/api"+closed+"/messages", token, "hello"); res.StatusCode != http.StatusCreated {
		t.Errorf("a member bot posts: %d %s", res.StatusCode, res.Body)
	}
}

// newServerOn serves another chat instance on the database of srv.
func newServerOn(t testing.TB, srv *testServer) *testServer {
	t.Helper()
	db, err := store.Open(context.Background(), srv.DB)
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(handlers.Deps{Store: db, Hub: h, Argon2: testArgon2})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		app.ShutdownWithContext(ctx)
		db.Close()
	})
	return &testServer{URL: "http://" + ln.Addr().String(), Host: ln.Addr().String(), Store: db, Hub: h, DB: srv.DB}
}

// TestRegistrationAcrossInstances: the policy an admin sets on one
// instance holds on another of the same database at once.
func TestRegistrationAcrossInstances(t *testing.T) {
	one := newServer(t)
	two := newServerOn(t, one)
	root := one.register(t, "root")
	if res := root.post("/admin/registration", url.Values{"registration": {"invite"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("set invite: %d", res.StatusCode)
	}
	if res := two.registerWith(t, "bob", ""); res.StatusCode != http.StatusForbidden {
		t.Errorf("the other instance, without an invitation: %d", res.StatusCode)
	}
	token := root.invite("1", "1")
	if res := two.registerWith(t, "bob", token); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the other instance, with an invitation made on the first: %d", res.StatusCode)
	}
	if res := one.registerWith(t, "carol", token); res.StatusCode != http.StatusForbidden {
		t.Errorf("the first instance, the invitation used on the other: %d", res.StatusCode)
	}
}
