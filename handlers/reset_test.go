package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/handlers"
)

func withBaseURL(u string) serverOption { return func(d *handlers.Deps) { d.BaseURL = u } }

// resetLink has the admin make a reset link for the user and returns its
// path.
func resetLink(t *testing.T, admin *client, user string) string {
	t.Helper()
	res := admin.post("/admin/users/"+user+"/reset", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("reset link: %d", res.StatusCode)
	}
	link := res.doc(t).Find("#reset-link").Text()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/reset/") {
		t.Fatalf("link %q", link)
	}
	return u.Path
}

// linkEnded checks that a reset link answers as one that does not work,
// and that posting a password to it changes nothing.
func linkEnded(t *testing.T, srv *testServer, link, user, password string) {
	t.Helper()
	anon := srv.anon(t)
	if res := anon.get(link); res.StatusCode != http.StatusNotFound || !strings.Contains(res.Body, "does not work") {
		t.Errorf("GET an ended link: %d", res.StatusCode)
	}
	if res := anon.post(link, url.Values{"password": {"set by an old link"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST an ended link: %d", res.StatusCode)
	}
	login := srv.anon(t)
	if res := login.post("/login", url.Values{"username": {user}, "password": {"set by an old link"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old link's password signs in: %d", res.StatusCode)
	}
	if res := login.post("/login", url.Values{"username": {user}, "password": {password}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the password of before: %d", res.StatusCode)
	}
}

// TestResetLinksEndEachOther: a newer link, a link used, a password
// changed: each ends every other outstanding link of the user.
func TestResetLinksEndEachOther(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	srv.register(t, "bob")
	carol := srv.register(t, "carol")

	t.Run("NewerMade", func(t *testing.T) {
		older := resetLink(t, root, "bob")
		resetLink(t, root, "bob")
		linkEnded(t, srv, older, "bob", "password-bob")
	})
	t.Run("NewerUsed", func(t *testing.T) {
		older := resetLink(t, root, "bob")
		newer := resetLink(t, root, "bob")
		anon := srv.anon(t)
		if res := anon.post(newer, url.Values{"password": {"bob's second one"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("reset with the newer link: %d", res.StatusCode)
		}
		linkEnded(t, srv, older, "bob", "bob's second one")
		linkEnded(t, srv, newer, "bob", "bob's second one")
	})
	t.Run("PasswordChanged", func(t *testing.T) {
		link := resetLink(t, root, "carol")
		res := carol.post("/account/password", url.Values{"current_password": {"password-carol"}, "new_password": {"carol's own new one"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("change password: %d", res.StatusCode)
		}
		linkEnded(t, srv, link, "carol", "carol's own new one")
	})
	t.Run("OthersKeepTheirs", func(t *testing.T) {
		bobs := resetLink(t, root, "bob")
		resetLink(t, root, "carol")
		if res := srv.anon(t).get(bobs); res.StatusCode != http.StatusOK {
			t.Errorf("carol's new link ended bob's: %d", res.StatusCode)
		}
	})
}

// TestResetLinkAddress: the link an admin is shown starts with the
// configured base URL, or is a path; never with a host the request named.
func TestResetLinkAddress(t *testing.T) {
	for _, c := range []struct {
		name, base, prefix string
	}{
		{"BaseURL", "https://chat.example.com/", "https://chat.example.com/reset/"},
		{"NoBaseURL", "", "/reset/"},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := newServer(t, withBaseURL(c.base), withTrustedProxies("127.0.0.1/32"))
			root := srv.register(t, "root")
			srv.register(t, "bob")
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/admin/users/bob/reset", nil)
			req.Host = "evil.test"
			// The jar keeps the cookie for the listener's address, not this
			// host: send it by hand, as a client that forges Host would.
			req.AddCookie(root.cookie("chat_session"))
			req.Header.Set("Origin", "http://evil.test")
			req.Header.Set("X-Forwarded-Host", "evil.test")
			req.Header.Set("X-Forwarded-Proto", "https")
			res := root.do(req)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("reset link: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			link := res.doc(t).Find("#reset-link").Text()
			if strings.Contains(res.Body, "evil.test") || !strings.HasPrefix(link, c.prefix) {
				t.Errorf("link %q, want it to start with %q and name no evil.test", link, c.prefix)
			}
		})
	}
}
