package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// The admin's destructive actions ask first (a page without script, a
// dialog with it), the POST routes still act alone, and every admin action
// says on the page it leads back to what it did: only what holds.
func TestAdminConfirmAndDone(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root") // the first account: an admin
	bob := srv.register(t, "bob")
	srv.register(t, "carol")
	room := root.createRoom("general")

	doc := root.get("/admin").doc(t)
	for _, action := range []string{"/admin/users/bob/deactivate", "/admin/users/bob/admin"} {
		if doc.Find(`a[href="`+action+`"][data-confirm][data-action="`+action+`"]`).Length() != 1 {
			t.Errorf("the admin page has no link that asks before %s", action)
		}
		if doc.Find(`form[action="`+action+`"]`).Length() != 0 {
			t.Errorf("the admin page posts %s on one click", action)
		}
	}
	if doc.Find(`dialog#confirm-dialog form.confirm-form[method=post]`).Length() != 1 {
		t.Error("the admin page has no dialog to ask in")
	}
	if doc.Find(`.admin-done`).Length() != 0 {
		t.Error("the admin page says something was done before anything was")
	}

	// The page that asks, without script: it changes nothing.
	for _, c := range []struct{ path, question string }{
		{"/admin/users/bob/deactivate", "Deactivate bob?"},
		{"/admin/users/bob/admin", "Make bob an admin?"},
	} {
		res := root.get(c.path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", c.path, res.StatusCode)
		}
		d := res.doc(t)
		if h := strings.TrimSpace(d.Find("h1").Text()); h != c.question {
			t.Errorf("GET %s asks %q", c.path, h)
		}
		if d.Find(`form[method=post][action="`+c.path+`"] button[type=submit]`).Length() != 1 || d.Find(`a[href="/admin"]`).Length() == 0 {
			t.Errorf("GET %s has no form to confirm and no way back", c.path)
		}
	}
	if res := bob.get("/"); res.StatusCode != http.StatusOK {
		t.Fatalf("bob, after the pages that ask: %d", res.StatusCode)
	}
	for _, c := range []struct {
		who  *client
		path string
		want int
	}{
		{bob, "/admin/users/carol/deactivate", http.StatusForbidden},
		{bob, "/admin/users/carol/admin", http.StatusForbidden},
		{root, "/admin/users/root/deactivate", http.StatusConflict},
		{root, "/admin/users/nobody/deactivate", http.StatusNotFound},
		{root, "/admin/users/nobody/admin", http.StatusNotFound},
	} {
		if res := c.who.get(c.path); res.StatusCode != c.want {
			t.Errorf("GET %s by %s: %d, want %d", c.path, c.who.name, res.StatusCode, c.want)
		}
	}

	// Made up, the address tells nothing untrue.
	for _, q := range []string{"done=deactivated&user=carol", "done=admin&user=carol", "done=admin&user=nobody",
		"done=bot-room&user=carol&room=1", "done=whatever", "done=admin&user=%3Cb%3E",
		"done=revoked", "done=revoked&invitation=1", "done=revoked&invitation=x"} {
		if n := root.get("/admin?" + q).doc(t).Find(`.admin-done`).Length(); n != 0 {
			t.Errorf("/admin?%s says something was done", q)
		}
	}

	done := func(path string, form url.Values, want string) {
		t.Helper()
		res := root.post(path, form)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d %s", path, res.StatusCode, res.Body)
		}
		loc := res.Header.Get("Location")
		if !strings.HasPrefix(loc, "/admin?") {
			t.Fatalf("POST %s leads to %q", path, loc)
		}
		said := root.get(loc).doc(t).Find(`.admin-done[role=status]`)
		if got := strings.TrimSpace(said.Text()); got != want {
			t.Errorf("after POST %s the admin page says %q, want %q", path, got, want)
		}
	}
	done("/admin/users/bob/admin", nil, "bob is now an admin.")
	done("/admin/users/carol/deactivate", nil, "carol is deactivated: their sessions have ended and they can no longer sign in.")
	if res := root.post("/admin/bots", url.Values{"name": {"helper"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("create bot: %d", res.StatusCode)
	}
	done("/admin/bots/helper/rooms", url.Values{"room": {strings.TrimPrefix(room, "/rooms/")}}, "helper is in general now: it may post there.")
	done("/admin/registration", url.Values{"registration": {"invite"}}, "Registration is now by invitation only.")
	inv := root.post("/admin/invitations", url.Values{"uses": {"1"}, "days": {"1"}}).doc(t)
	id, _ := inv.Find("[data-invitation]").First().Attr("data-invitation")
	done("/admin/invitations/"+id+"/revoke", nil, "The invitation is revoked: its link no longer works.")
	// Asking about what is done already leads to what was done.
	if res := root.get("/admin/users/carol/deactivate"); res.StatusCode != http.StatusSeeOther || !strings.Contains(res.Header.Get("Location"), "done=deactivated") {
		t.Errorf("asking to deactivate carol again: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}
