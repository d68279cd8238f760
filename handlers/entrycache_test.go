package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/i18n"
	"chat/views"
)

// TestEntryMarkupAfterChanges: the pages that list entries render them
// once and keep their markup (views.EntryCache); each kind of change an
// entry's markup shows is on the very next page, in every list of
// entries: an edit, a boost, a deletion, the reader's language, a search's
// marks and a permalink's highlight that a room page does not have.
func TestEntryMarkupAfterChanges(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	id := postID(t, bob, room, "first draft about coffee")
	sel := "#" + views.MessageID(id)

	// entry is the entry's element on a page alice asks for, which must
	// be a complete page (200).
	entry := func(path string) string {
		t.Helper()
		res := alice.get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		h, err := res.doc(t).Find(sel).Parent().Html()
		if err != nil {
			t.Fatal(err)
		}
		at := strings.Index(h, `id="`+views.MessageID(id)+`"`)
		if at < 0 {
			t.Fatalf("GET %s: no %s in %s", path, sel, h)
		}
		return h[at:]
	}
	pages := []string{room, room + "/messages?after=0"}
	for _, p := range pages {
		if e := entry(p); !strings.Contains(e, "first draft") {
			t.Fatalf("GET %s: %s", p, e)
		}
	}

	t.Run("Edit", func(t *testing.T) {
		if res := bob.post(msgPath(id)+"/edit", url.Values{"text": {"second thoughts on coffee"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("edit: %d", res.StatusCode)
		}
		for _, p := range pages {
			if e := entry(p); !strings.Contains(e, "second thoughts") || strings.Contains(e, "first draft") || !strings.Contains(e, "data-edited") {
				t.Errorf("GET %s after an edit: %s", p, e)
			}
		}
	})
	t.Run("Boost", func(t *testing.T) {
		if res := alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {"🎉"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("boost: %d", res.StatusCode)
		}
		for _, p := range pages {
			if e := entry(p); !strings.Contains(e, `value="🎉"`) || !strings.Contains(e, `data-users="alice"`) {
				t.Errorf("GET %s after a boost: %s", p, e)
			}
		}
	})
	t.Run("SearchMarksAndHighlight", func(t *testing.T) {
		if e := entry("/search?q=coffee"); !strings.Contains(e, "<mark") {
			t.Errorf("search: no mark in %s", e)
		}
		if e := entry(room + "/at/" + strings.TrimPrefix(msgPath(id), "/messages/")); !strings.Contains(e, "data-highlight") {
			t.Errorf("permalink: no highlight in %s", e)
		}
		for _, p := range pages {
			if e := entry(p); strings.Contains(e, "<mark") || strings.Contains(e, "data-highlight") {
				t.Errorf("GET %s after a search and a permalink: %s", p, e)
			}
		}
	})
	t.Run("Delete", func(t *testing.T) {
		if res := bob.post(msgPath(id)+"/delete", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("delete: %d", res.StatusCode)
		}
		for _, p := range pages {
			if e := entry(p); !strings.Contains(e, `data-kind="deleted"`) || strings.Contains(e, "coffee") {
				t.Errorf("GET %s after a deletion: %s", p, e)
			}
		}
	})
	t.Run("Language", func(t *testing.T) {
		en := i18n.Default().English().T("msg.deleted")
		es, ok := i18n.Default().Lookup("es")
		if !ok {
			t.Fatal("no Spanish")
		}
		for _, p := range pages {
			if e := entry(p); !strings.Contains(e, en) {
				t.Fatalf("GET %s in English: %s", p, e)
			}
		}
		if res := alice.post("/account/language", url.Values{"lang": {"es"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("language: %d", res.StatusCode)
		}
		for _, p := range pages {
			if e := entry(p); !strings.Contains(e, es.T("msg.deleted")) || strings.Contains(e, en) {
				t.Errorf("GET %s in Spanish: %s", p, e)
			}
		}
	})
}
