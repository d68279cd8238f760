package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// A room's page begins with a link to its message box, for a member who
// may post; the box has the id it names. Where there is no box to skip
// to, there is no link.
func TestSkipLink(t *testing.T) {
	srv := newServer(t)
	ann := srv.register(t, "ann")
	bob := srv.register(t, "bob")
	room := ann.createRoom("Porch")

	doc := ann.get(room).doc(t)
	first := doc.Find("body").Children().First()
	if !first.Is("a.skip-link") || first.AttrOr("href", "") != "#compose-text" || first.Text() != "Skip to message box" {
		t.Errorf("the page begins with %v %q", first.Nodes, first.AttrOr("href", ""))
	}
	if doc.Find(`#compose textarea#compose-text[name="text"]`).Length() != 1 {
		t.Error("no message box with the id the skip link names")
	}
	// A permalink's page has its plain form, and the link.
	perma := ann.get(room + "/at/1").doc(t)
	if perma.Find("body > a.skip-link").Length() != 1 || perma.Find(`#compose textarea#compose-text`).Length() != 1 {
		t.Error("a permalink's page has no skip link to its box")
	}
	// Not a member: no box, no link; nor on pages that are no room's.
	if res := bob.get(room); res.StatusCode != http.StatusOK || res.doc(t).Find(".skip-link").Length() != 0 {
		t.Errorf("a non-member's page: %d, skip links: %d", res.StatusCode, res.doc(t).Find(".skip-link").Length())
	}
	if ann.get("/").doc(t).Find(".skip-link").Length() != 0 {
		t.Error("the lobby has a skip link to no box")
	}
	// Archived: read-only, no box.
	if res := ann.post(room+"/archive", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d", res.StatusCode)
	}
	if ann.get(room).doc(t).Find(".skip-link").Length() != 0 {
		t.Error("an archived room has a skip link to no box")
	}
	// Every signed-in page holds the switcher's dialog, with its field
	// labelled; a signed-out page does not.
	d := ann.get("/").doc(t).Find(`dialog#switcher`)
	if d.Find(`label[for="switcher-q"]`).Length() != 1 || d.Find(`input#switcher-q[hx-get="/switch"][maxlength="100"]`).Length() != 1 {
		t.Error("no labelled switcher in the lobby")
	}
	if srv.anon(t).get("/login").doc(t).Find("#switcher").Length() != 0 {
		t.Error("a signed-out page holds the switcher")
	}
}
