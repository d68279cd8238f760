package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"chat/views"
)

// A stranger to a direct message who probes its entries by id, on every
// route that takes an entry's id, gets exactly the answer an id that does
// not exist gets: nothing tells that the entry is there.
func TestStrangerCannotTellDMEntries(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	srv.register(t, "bob")
	carol := srv.register(t, "carol")
	open := carol.createRoom("open")
	res := alice.post("/users/bob/dm", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open dm: %d", res.StatusCode)
	}
	dm := res.Header.Get("Location")
	secret := postID(t, alice, dm, "just between us")
	const unknown = 999999
	dmRoom, openRoom := roomNumber(t, dm), roomNumber(t, open)

	type probe struct {
		name string
		do   func(id int64) response
	}
	hx := []string{"HX-Request", "true"}
	s := func(id int64) string { return strconv.FormatInt(id, 10) }
	probes := []probe{
		{"permalink in the dm", func(id int64) response { return carol.get(views.PermalinkURL(dmRoom, id)) }},
		{"permalink in an open room", func(id int64) response { return carol.get(views.PermalinkURL(openRoom, id)) }},
		{"show", func(id int64) response { return carol.get("/messages/" + s(id)) }},
		{"show to htmx", func(id int64) response { return carol.get("/messages/"+s(id), hx...) }},
		{"edit form", func(id int64) response { return carol.get("/messages/" + s(id) + "/edit") }},
		{"edit form to htmx", func(id int64) response { return carol.get("/messages/"+s(id)+"/edit", hx...) }},
		{"react form", func(id int64) response { return carol.get("/messages/" + s(id) + "/react") }},
		{"edit", func(id int64) response {
			return carol.post("/messages/"+s(id)+"/edit", url.Values{"text": {"mine now"}})
		}},
		{"edit with bad text", func(id int64) response {
			return carol.post("/messages/"+s(id)+"/edit", url.Values{"text": {" "}})
		}},
		{"edit to htmx", func(id int64) response {
			return carol.post("/messages/"+s(id)+"/edit", url.Values{"text": {"mine now"}}, hx...)
		}},
		{"delete", func(id int64) response { return carol.post("/messages/"+s(id)+"/delete", nil) }},
		{"delete to htmx", func(id int64) response { return carol.post("/messages/"+s(id)+"/delete", nil, hx...) }},
		{"react", func(id int64) response {
			return carol.post("/messages/"+s(id)+"/boosts", url.Values{"emoji": {"👍"}})
		}},
		{"react with a bad reaction", func(id int64) response {
			return carol.post("/messages/"+s(id)+"/boosts", url.Values{"emoji": {" "}})
		}},
		{"react to htmx", func(id int64) response {
			return carol.post("/messages/"+s(id)+"/boosts", url.Values{"emoji": {"👍"}}, hx...)
		}},
	}
	for _, p := range probes {
		t.Run(p.name, func(t *testing.T) {
			there, none := p.do(secret), p.do(unknown)
			if there.StatusCode != http.StatusNotFound || none.StatusCode != http.StatusNotFound {
				t.Errorf("dm entry %d, unknown %d; want 404 for both", there.StatusCode, none.StatusCode)
			}
			if there.Body != none.Body {
				t.Errorf("the answers differ:\n%s\n---\n%s", there.Body, none.Body)
			}
		})
	}
	// Nothing the probes sent changed the entry.
	if e := alice.get(views.PermalinkURL(dmRoom, secret)).doc(t).Find("#" + views.MessageID(secret)); e.Find(".text").Text() != "just between us" || e.Find(".boost").Length() != 0 {
		t.Errorf("the dm entry changed: %q", e.Text())
	}
	// The contract's 403 for the dm's page itself stays.
	if res := carol.get(dm); res.StatusCode != http.StatusForbidden {
		t.Errorf("the dm's page to a stranger: %d, want 403", res.StatusCode)
	}
}
