package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"chat/i18n"
)

// Readers of one room in two languages get each pushed entry once, in
// order, each in their own language: an English reader (no choice, no
// header), a Spanish one by their account's choice over a socket, and a
// Spanish one by their browser's Accept-Language over an event stream.
func TestPushedInEachReadersLanguage(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	ann := srv.register(t, "ann")
	bea := srv.register(t, "bea")
	if res := bea.post("/account/language", url.Values{"lang": {"es"}, "next": {"/"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose Spanish: %d %s", res.StatusCode, res.Body)
	}
	cat := srv.register(t, "cat")
	eva := srv.register(t, "eva")
	room := ann.createRoom("plaza")
	for _, u := range []*client{bea, cat, eva} {
		u.post(room+"/join", nil)
	}
	enWS := ann.dial(room, -1).settle()
	esWS := bea.dial(room, -1).settle()
	esStream := eva.stream(room+"/events", "Accept-Language", "es-MX,es;q=0.9").settle()
	catWS := cat.dial(room, -1).settle()

	catWS.post("hola a todos")
	catWS.send(map[string]any{"typing": true})
	dan := srv.register(t, "dan")
	dan.post(room+"/join", nil)
	dan.post(room+"/leave", nil)
	mark := cat.mark(room)

	en := enWS.through(holds(saying(mark)), long)
	es := esWS.through(holds(saying(mark)), long)
	var streamed []string
	for _, ev := range esStream.through(func(d string) bool { return holds(saying(mark))(d) }, long) {
		if ev.name == "" {
			streamed = append(streamed, ev.data)
		}
	}
	user := []string{"ann", "bea", "cat", "dan", "eva", "plaza", "hola a todos", mark}

	enEntries, esEntries, streamEntries := entryIDs(t, en), entryIDs(t, es), entryIDs(t, streamed)
	if len(enEntries) < 4 || !slices.Equal(enEntries, esEntries) || !slices.Equal(enEntries, streamEntries) {
		t.Errorf("entries: English %v, Spanish socket %v, Spanish stream %v; want the same, at least a post, a join, a leave and the marker", enEntries, esEntries, streamEntries)
	}
	for name, ids := range map[string][]string{"English": enEntries, "Spanish": esEntries, "stream": streamEntries} {
		if !slices.IsSortedFunc(ids, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y }) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
			t.Errorf("%s: entries %v not once each in order", name, ids)
		}
	}
	enAll, esAll, streamAll := strings.Join(en, "\n"), strings.Join(es, "\n"), strings.Join(streamed, "\n")
	if !strings.Contains(esAll, "typing-user") || !strings.Contains(enAll, "typing-user") {
		t.Error("the typing signal did not reach both readers")
	}
	for _, s := range untranslated(t, "es", enAll, esAll, user...) {
		t.Errorf("Spanish socket: %s", s)
	}
	for _, s := range untranslated(t, "es", enAll, streamAll, user...) {
		t.Errorf("Spanish stream: %s", s)
	}
	for _, s := range foreignWords(t, enAll, "es", "en") {
		t.Errorf("English socket says in Spanish: %s", s)
	}
	for _, body := range []string{enAll, esAll, streamAll} {
		if strings.Contains(body, i18n.MissingMark) {
			t.Errorf("a key with no message pushed: %q", body)
		}
	}
}

// entryIDs lists the ids of the entries frames hold, in order.
func entryIDs(t testing.TB, frames []string) []string {
	var ids []string
	for _, f := range frames {
		for _, e := range entriesOf(t, f) {
			ids = append(ids, strings.Fields(e)[0])
		}
	}
	return ids
}

// foreignWords lists the pieces of body's words that hold words of the
// language from that the language of the body (in) does not share.
func foreignWords(t testing.TB, body, from, in string) []string {
	t.Helper()
	cat := i18n.Default()
	src, _ := cat.Lookup(from)
	dst, _ := cat.Lookup(in)
	shared := map[string]bool{}
	for _, k := range dst.Keys() {
		for _, p := range dst.Parts(k) {
			shared[strings.TrimSpace(p.Text)] = true
		}
	}
	var res []*regexp.Regexp
	for _, k := range src.Keys() {
		for _, p := range src.Parts(k) {
			s := strings.TrimSpace(p.Text)
			if letters(s) >= 3 && !shared[s] && k != "language.name" {
				res = append(res, regexp.MustCompile(`(^|[^\pL])`+regexp.QuoteMeta(s)+`($|[^\pL])`))
			}
		}
	}
	var out []string
	for _, s := range visibleText(t, body) {
		for _, re := range res {
			if re.MatchString(s) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

// A post refused over a socket is explained in the sender's language, as
// over HTTP: the validators' words too.
func TestSocketRefusalInReadersLanguage(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	ana := srv.register(t, "ana")
	room := ana.createRoom("plaza")
	if res := ana.post("/account/language", url.Values{"lang": {"es"}, "next": {"/"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose Spanish: %d", res.StatusCode)
	}
	es, _ := i18n.Default().Lookup("es")
	ws := ana.dial(room, -1).settle()
	for text, key := range map[string]string{"hola \u0007 mundo": "validate.post_control", "": "validate.post_empty"} {
		ws.post(text)
		got := strings.TrimSpace(ws.next("#compose-error", long).Contents().First().Text())
		if want := es.T(key); got != want {
			t.Errorf("post %q refused with %q, want %q", text, got, want)
		}
	}
}
