package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/store"
)

func TestRegister(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		c := srv.anon(t)
		res := c.post("/register", url.Values{"username": {"alice"}, "password": {"correct horse"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("got %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		cookie := res.Header.Get("Set-Cookie")
		for _, want := range []string{"chat_session=", "httponly", "samesite=lax", "path=/"} {
			if !strings.Contains(strings.ToLower(cookie), want) {
				t.Errorf("cookie %q lacks %s", cookie, want)
			}
		}
		if strings.Contains(strings.ToLower(cookie), "secure") {
			t.Errorf("cookie %q is Secure without TLS", cookie)
		}
		if got := c.get("/"); got.StatusCode != http.StatusOK {
			t.Errorf("signed in lobby: %d", got.StatusCode)
		}
		u, err := srv.Store.FindUserByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "correct horse") {
			t.Errorf("password stored as %q", u.PasswordHash)
		}
	})

	t.Run("SecureBehindTLS", func(t *testing.T) {
		proxied := newServer(t, withTrustedProxies("127.0.0.0/8"))
		res := proxied.anon(t).post("/register", url.Values{"username": {"tls_user"}, "password": {"password12"}}, "X-Forwarded-Proto", "https")
		if !strings.Contains(strings.ToLower(res.Header.Get("Set-Cookie")), "secure") {
			t.Errorf("cookie behind a TLS proxy is not Secure: %q", res.Header.Get("Set-Cookie"))
		}
		// From any peer: a cookie marked Secure is only more restricted.
		res = srv.anon(t).post("/register", url.Values{"username": {"tls_user2"}, "password": {"password12"}}, "X-Forwarded-Proto", "https")
		if !strings.Contains(strings.ToLower(res.Header.Get("Set-Cookie")), "secure") {
			t.Errorf("cookie behind TLS is not Secure: %q", res.Header.Get("Set-Cookie"))
		}
	})

	t.Run("Form", func(t *testing.T) {
		doc := srv.anon(t).get("/register").doc(t)
		if doc.Find(`form[action="/register"][method="post"] input[name=username]`).Length() != 1 ||
			doc.Find(`form[action="/register"] input[name=password]`).Length() != 1 {
			t.Error("register form lacks its fields")
		}
	})

	invalid := []struct{ name, username, password string }{
		{"UsernameTooShort", "ab", "password1"},
		{"UsernameTooLong", strings.Repeat("a", 33), "password1"},
		{"UsernameWithSpace", "al ice", "password1"},
		{"UsernameWithScript", "<script>", "password1"},
		{"UsernameUnicode", "élodie", "password1"},
		{"PasswordOf7", "carol", "1234567"},
		{"PasswordOf257", "carol", strings.Repeat("p", 257)},
		{"Empty", "", ""},
	}
	for _, tc := range invalid {
		t.Run("ErrInvalid/"+tc.name, func(t *testing.T) {
			res := srv.anon(t).post("/register", url.Values{"username": {tc.username}, "password": {tc.password}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", res.StatusCode)
			}
			doc := res.doc(t)
			if doc.Find(`[data-kind=error]`).Length() != 1 {
				t.Error("no error shown")
			}
			if v, _ := doc.Find(`input[name=username]`).Attr("value"); v != tc.username {
				t.Errorf("username field holds %q, want the input %q", v, tc.username)
			}
			if strings.Contains(res.Body, "<script>") {
				t.Error("input reached the page unescaped")
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Error("a failed registration set a cookie")
			}
			if tc.username != "" {
				if _, err := srv.Store.FindUserByUsername(ctx, tc.username); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("account created: %v", err)
				}
			}
		})
	}

	t.Run("Boundaries", func(t *testing.T) {
		for _, tc := range []struct{ username, password string }{
			{"abc", "12345678"},
			{strings.Repeat("b", 32), strings.Repeat("p", 256)},
			{"A.b-c_9", "pässwörd"},
		} {
			res := srv.anon(t).post("/register", url.Values{"username": {tc.username}, "password": {tc.password}})
			if res.StatusCode != http.StatusSeeOther {
				t.Errorf("register %q: %d, want 303", tc.username, res.StatusCode)
			}
		}
	})

	t.Run("ErrNameTaken", func(t *testing.T) {
		res := srv.anon(t).post("/register", url.Values{"username": {"ALICE"}, "password": {"password1"}})
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("got %d, want 409", res.StatusCode)
		}
		if res.doc(t).Find(`[data-kind=error]`).Length() != 1 {
			t.Error("no error shown")
		}
		u, _ := srv.Store.FindUserByUsername(ctx, "alice")
		if u.Username != "alice" {
			t.Errorf("account changed: %+v", u)
		}
	})
}

func TestLogin(t *testing.T) {
	srv := newServer(t)
	srv.register(t, "alice")

	t.Run("OK", func(t *testing.T) {
		c := srv.anon(t)
		res := c.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
			t.Fatalf("got %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		cookie := res.Header.Get("Set-Cookie")
		if !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
			t.Errorf("cookie %q", cookie)
		}
		if c.get("/").StatusCode != http.StatusOK {
			t.Error("not signed in")
		}
	})

	t.Run("AnyCaseName", func(t *testing.T) {
		res := srv.anon(t).post("/login", url.Values{"username": {"ALICE"}, "password": {"password-alice"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("got %d", res.StatusCode)
		}
	})

	t.Run("FreshTokenEachLogin", func(t *testing.T) {
		c := srv.anon(t)
		c.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
		first := c.cookie("chat_session").Value
		c.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
		second := c.cookie("chat_session").Value
		if first == second {
			t.Error("a second login kept the token")
		}
		if _, err := srv.Store.FindSession(context.Background(), first); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the replaced session still works: %v", err)
		}
	})

	t.Run("ErrUnauthorized", func(t *testing.T) {
		var bodies []string
		for _, tc := range []struct{ username, password string }{
			{"alice", "wrong password"},
			{"nobody", "password-alice"},
			{"<b>x</b>", "whatever1"},
			{"", ""},
		} {
			res := srv.anon(t).post("/login", url.Values{"username": {tc.username}, "password": {tc.password}})
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("login %q: got %d, want 401", tc.username, res.StatusCode)
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Error("failed login set a cookie")
			}
			bodies = append(bodies, res.doc(t).Find(`[data-kind=error]`).Text())
		}
		for _, b := range bodies {
			if b == "" || b != bodies[0] {
				t.Errorf("login errors differ or are empty: %q", bodies)
			}
		}
	})
}

func TestLogout(t *testing.T) {
	srv := newServer(t)
	c := srv.register(t, "alice")
	stolen := c.cookie("chat_session").Value

	res := c.post("/logout", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("got %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	if got := c.get("/"); got.StatusCode != http.StatusSeeOther {
		t.Errorf("after logout: %d", got.StatusCode)
	}
	thief := srv.anon(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: "chat_session", Value: stolen})
	if got := thief.do(req); got.StatusCode != http.StatusSeeOther || got.Header.Get("Location") != "/login" {
		t.Errorf("copied cookie after logout: %d to %q", got.StatusCode, got.Header.Get("Location"))
	}
}

func TestSignedOut(t *testing.T) {
	srv := newServer(t)
	owner := srv.register(t, "owner")
	room := owner.createRoom("general")
	anon := srv.anon(t)

	for _, path := range []string{"/", room, room + "/messages?before=5", "/users/owner/avatar", "/viewer.css", "/rooms/999", "/no/such/page"} {
		res := anon.get(path)
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
			t.Errorf("GET %s: %d to %q, want 303 to /login", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/rooms", room + "/join", room + "/leave", room + "/messages"} {
		res := anon.post(path, url.Values{"name": {"x"}, "text": {"x"}})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
			t.Errorf("POST %s: %d to %q, want 303 to /login", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	for _, path := range []string{"/login", "/register", "/healthz"} {
		if res := anon.get(path); res.StatusCode != http.StatusOK {
			t.Errorf("GET %s signed out: %d", path, res.StatusCode)
		}
	}
	res := anon.get(room+"/ws", "Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==", "Origin", srv.URL)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("socket signed out: %d, want 401", res.StatusCode)
	}
	msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 50)
	if len(msgs) != 1 {
		t.Errorf("signed-out posts changed the room: %d entries", len(msgs))
	}
}

// Every form refuses a post from another site, and changes nothing.
func TestCrossOrigin(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	ctx := context.Background()

	forms := []struct {
		c    *client
		path string
		form url.Values
	}{
		{srv.anon(t), "/register", url.Values{"username": {"mallory"}, "password": {"password1"}}},
		{srv.anon(t), "/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}},
		{alice, "/rooms", url.Values{"name": {"evil"}}},
		{bob, room + "/join", nil},
		{alice, room + "/leave", nil},
		{alice, room + "/messages", url.Values{"text": {"evil"}}},
		{alice, "/logout", nil},
	}
	attacks := [][]string{
		{"Origin", "https://evil.example", "Sec-Fetch-Site", ""},
		{"Origin", "null", "Sec-Fetch-Site", ""},
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site", "Origin", ""},
	}
	for _, f := range forms {
		for _, h := range attacks {
			res := f.c.post(f.path, f.form, h...)
			if res.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with %v: %d, want 403", f.path, h, res.StatusCode)
			}
			if res.Header.Get("Set-Cookie") != "" {
				t.Errorf("POST %s with %v set a cookie", f.path, h)
			}
		}
	}
	if _, err := srv.Store.FindUserByUsername(ctx, "mallory"); !errors.Is(err, store.ErrNotFound) {
		t.Error("cross-site register created an account")
	}
	rooms, _ := srv.Store.ListRooms(ctx, 1)
	msgs, _ := srv.Store.ListLatestMessages(ctx, 1, 50)
	members, _ := srv.Store.ListMembers(ctx, 1)
	if len(rooms) != 1 || len(msgs) != 1 || strings.Join(members, ",") != "alice" {
		t.Errorf("cross-site posts changed state: rooms %d, entries %d, members %v", len(rooms), len(msgs), members)
	}
	if alice.get("/").StatusCode != http.StatusOK {
		t.Error("cross-site logout signed alice out")
	}
	// The same forms from this site still work.
	if res := alice.post(room+"/messages", url.Values{"text": {"hi"}}, "Origin", srv.URL, "Sec-Fetch-Site", ""); res.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin post: %d", res.StatusCode)
	}
	if res := alice.post(room+"/messages", url.Values{"text": {"hi"}}, "Origin", "", "Sec-Fetch-Site", ""); res.StatusCode != http.StatusSeeOther {
		t.Errorf("post from no browser: %d", res.StatusCode)
	}
}

// Nothing a user types gives a server error.
func TestNoServerErrorFromInput(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	nasty := []string{"\xff\xfe", "a\x00b", strings.Repeat("𝓍", 5000), "%zz", "\u202e\u0000", "<svg onload=alert(1)>", "  \r\n  "}
	for _, v := range nasty {
		for _, f := range []struct {
			c    *client
			path string
			form url.Values
		}{
			{srv.anon(t), "/register", url.Values{"username": {v}, "password": {v}}},
			{srv.anon(t), "/login", url.Values{"username": {v}, "password": {v}}},
			{alice, "/rooms", url.Values{"name": {v}}},
			{alice, room + "/messages", url.Values{"text": {v}}},
		} {
			res := f.c.post(f.path, f.form)
			if res.StatusCode >= 500 {
				t.Errorf("POST %s with %q: %d", f.path, v, res.StatusCode)
			}
		}
		for _, path := range []string{"/rooms/" + url.PathEscape(v), room + "/messages?before=" + url.QueryEscape(v), "/users/" + url.PathEscape(v) + "/avatar"} {
			// A request line longer than the server reads (4 KiB of
			// headers) is refused with 431 and the connection closed; the
			// client may see either.
			req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
			res, err := alice.http.Do(req)
			if err != nil {
				if len(path) < 4<<10 || !strings.Contains(err.Error(), "reset by peer") && !strings.Contains(err.Error(), "broken pipe") && !strings.Contains(err.Error(), "EOF") {
					t.Errorf("GET %.80s: %v", path, err)
				}
				continue
			}
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Errorf("GET %.80s: %d", path, res.StatusCode)
			}
		}
	}
	// An oversized body is answered 413 before it is read; the client may
	// see that answer, or the connection closed under its feet.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+room+"/messages", strings.NewReader("text="+strings.Repeat("a", 300<<10)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := alice.http.Do(req); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("oversized body: %d", res.StatusCode)
		}
	} else if !strings.Contains(err.Error(), "reset by peer") && !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("oversized body: %v", err)
	}
	// Of all that, two posts were fit to store ("%zz" and the <svg> text);
	// the rest was refused.
	if msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 100); len(msgs) != 3 {
		t.Errorf("%d posts stored, want 2", len(msgs)-1)
	}
	if strings.Contains(srv.Logs.String(), "password-alice") || strings.Contains(srv.Logs.String(), alice.cookie("chat_session").Value) {
		t.Error("a password or session token reached the logs")
	}
}
