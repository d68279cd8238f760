package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/internal/testnats"
)

// TestClusterWhoGetsIn: on two instances of one database, the registration
// policy set on one holds on the other, and a member removed on one has
// their socket to the room on the other closed at once.
func TestClusterWhoGetsIn(t *testing.T) {
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
	if code, _ := ann.do(t, a.base, "/admin/registration", url.Values{"registration": {"invite"}}); code != http.StatusSeeOther {
		t.Fatalf("set invite on A: %d", code)
	}
	res := postForm(t, browser(t), b.base+"/register", url.Values{"username": {"carol"}, "password": {"password-carol"}})
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("register on B under the policy set on A: %d", res.StatusCode)
	}

	code, room := ann.do(t, a.base, "/rooms", url.Values{"name": {"Team"}, "access": {"closed"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	if code, _ := ann.do(t, a.base, room+"/members", url.Values{"username": {"bob"}}); code != http.StatusSeeOther {
		t.Fatalf("add bob: %d", code)
	}
	fb := follow(t, bob, b.base, room, -1)
	began := time.Now()
	if code, _ := ann.do(t, a.base, room+"/members/bob/remove", nil); code != http.StatusSeeOther {
		t.Fatalf("remove bob: %d", code)
	}
	select {
	case <-fb.closed:
		took := time.Since(began)
		t.Logf("bob's socket on B closed %v after the removal on A", took)
		if took > time.Second {
			t.Errorf("bob's socket on B closed after %v, want within 1 s", took)
		}
	case <-time.After(long):
		t.Fatal("bob's socket on B is still open")
	}
	if code, body := getBody(t, withCookie(t, b.base, bob.cookie), b.base+room); code != http.StatusNotFound || strings.Contains(body, "Team") {
		t.Errorf("bob reads the room on B after: %d", code)
	}
}

// withCookie is a browser holding a session cookie for base.
func withCookie(t *testing.T, base, cookie string) *http.Client {
	c := browser(t)
	u, _ := url.Parse(base)
	name, value, _ := strings.Cut(cookie, "=")
	c.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value}})
	return c
}
