package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// switchNames is what a quick switcher's answer offers: each match's
// kind and name, in order.
func switchNames(t *testing.T, res response) []string {
	t.Helper()
	var out []string
	res.doc(t).Find(".switch-item").Each(func(_ int, s *goquery.Selection) {
		kind, _ := s.Attr("data-switch-kind")
		out = append(out, kind+":"+strings.TrimSpace(s.Find(".switch-name").Text()))
	})
	return out
}

// The quick switcher offers what the viewer may read and whom they may
// write to, and nothing else: a closed room only to its members, no one
// else's direct messages, no deactivated account.
func TestSwitch(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root") // the first account: an admin
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	srv.register(t, "carol")
	srv.register(t, "annex")
	hx := []string{"HX-Request", "true"}

	open := ann.createRoom("Garden party")
	secret := ann.post("/rooms", url.Values{"name": {"Garden secrets"}, "access": {"closed"}}).Header.Get("Location")
	if secret == "" {
		t.Fatal("no closed room made")
	}
	bob.createRoom("Gardening tips") // bob is its only member
	if res := root.post("/users/carol/dm", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open a DM: %d", res.StatusCode)
	}
	if res := ann.post("/users/bob/dm", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open a DM: %d", res.StatusCode)
	}
	if res := root.post("/admin/users/annex/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}

	t.Run("Member", func(t *testing.T) {
		res := ann.get("/switch?q=GARDEN", hx...)
		got := strings.Join(switchNames(t, res), ", ")
		// Her own rooms first, then those she may read.
		if want := "room:Garden party, closed:Garden secrets, room:Gardening tips"; got != want {
			t.Errorf("ann finds %q, want %q", got, want)
		}
		if res.StatusCode != http.StatusOK || strings.Contains(res.Body, "<html") {
			t.Errorf("to htmx: %d, a whole page: %v", res.StatusCode, strings.Contains(res.Body, "<html"))
		}
		if href, _ := res.doc(t).Find(`.switch-item a`).First().Attr("href"); href != open {
			t.Errorf("the first match links to %q, want %q", href, open)
		}
	})
	t.Run("NotMember", func(t *testing.T) {
		res := bob.get("/switch?q=garden", hx...)
		got := strings.Join(switchNames(t, res), ", ")
		if want := "room:Gardening tips, room:Garden party"; got != want {
			t.Errorf("bob finds %q, want %q", got, want)
		}
		if strings.Contains(res.Body, "secrets") || strings.Contains(res.Body, secret+`"`) {
			t.Errorf("a closed room shows to one not in it:\n%s", res.Body)
		}
	})
	t.Run("People", func(t *testing.T) {
		// ann: bob is her DM already, carol a person to write to; not
		// herself, not the deactivated annex, not root and carol's DM.
		got := strings.Join(switchNames(t, ann.get("/switch?q=o", hx...)), ", ")
		if want := "dm:bob, person:carol, person:root"; got != want {
			t.Errorf("ann finds %q, want %q", got, want)
		}
		res := ann.get("/switch?q=ann", hx...)
		if got := switchNames(t, res); len(got) != 0 {
			t.Errorf("ann finds herself or a deactivated account: %q", got)
		}
		if !strings.Contains(res.Body, "Nothing matches") {
			t.Errorf("no match says nothing:\n%s", res.Body)
		}
		// A person opens direct messages as the contract says.
		form := ann.get("/switch?q=carol", hx...).doc(t).Find(`.switch-item form`)
		if action, _ := form.Attr("action"); action != "/users/carol/dm" || form.AttrOr("method", "") != "post" {
			t.Errorf("a person's form: %q %q", action, form.AttrOr("method", ""))
		}
		// root sees his DM with carol; ann never does.
		if got := strings.Join(switchNames(t, root.get("/switch?q=carol", hx...)), ", "); got != "dm:carol" {
			t.Errorf("root finds %q", got)
		}
	})
	t.Run("Empty", func(t *testing.T) {
		got := strings.Join(switchNames(t, bob.get("/switch?q=", hx...)), ", ")
		if want := "room:Gardening tips, dm:ann"; got != want {
			t.Errorf("bob's own rooms: %q, want %q", got, want)
		}
	})
	t.Run("Many", func(t *testing.T) {
		for i := range 23 {
			bob.createRoom("Plot " + string(rune('a'+i)))
		}
		if got := switchNames(t, bob.get("/switch?q=plot", hx...)); len(got) != 20 {
			t.Errorf("%d matches shown, want 20", len(got))
		}
	})
	t.Run("ErrTooLong", func(t *testing.T) {
		long := strings.Repeat("g", 101)
		for _, h := range [][]string{hx, nil} {
			res := ann.get("/switch?q="+long, h...)
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at most 100 characters") ||
				len(switchNames(t, res)) != 0 || strings.Contains(res.Body, long) {
				t.Errorf("a long query (%v): %d\n%.400s", h, res.StatusCode, res.Body)
			}
		}
		if res := ann.get("/switch?q="+url.QueryEscape(strings.Repeat("é", 100)), hx...); res.StatusCode != http.StatusOK {
			t.Errorf("100 characters: %d", res.StatusCode)
		}
	})
	t.Run("Page", func(t *testing.T) {
		// Without JavaScript: a page, whose form asks the same address.
		res := ann.get("/switch?q=garden")
		doc := res.doc(t)
		if res.StatusCode != http.StatusOK || doc.Find(`main form[action="/switch"][method="get"] input[name="q"]`).AttrOr("value", "") != "garden" {
			t.Fatalf("page: %d\n%.600s", res.StatusCode, res.Body)
		}
		if got := len(switchNames(t, res)); got != 3 {
			t.Errorf("the page shows %d matches", got)
		}
	})
	t.Run("Stranger", func(t *testing.T) {
		res := srv.anon(t).get("/switch?q=garden")
		if res.StatusCode != http.StatusSeeOther || strings.Contains(res.Body, "Garden") {
			t.Errorf("signed out: %d %q", res.StatusCode, res.Body)
		}
	})
}
