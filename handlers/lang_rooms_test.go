package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// roomsWorld is a chat with something of everything the rooms' pages
// show: open, closed and archived rooms, a direct message, posts by
// others (one mentions alice) that alice has not read, and members.
type roomsWorld struct {
	srv                      *testServer
	alice, bob, carol        *client
	general, quiet, old, dm  string
	names                    []string
	generalPost, mentionPost string
}

func newRoomsWorld(t *testing.T) roomsWorld {
	t.Helper()
	srv := newServer(t)
	w := roomsWorld{srv: srv, alice: srv.register(t, "alice"), bob: srv.register(t, "bob"), carol: srv.register(t, "carol")}
	w.general = w.alice.createRoom("general")
	w.quiet = w.alice.createRoomAccess("quiet", "closed")
	w.old = w.alice.createRoom("olden")
	if res := w.alice.post(w.old+"/archive", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("archive: %d %s", res.StatusCode, res.Body)
	}
	if res := w.bob.post(w.general+"/join", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("join: %d", res.StatusCode)
	}
	res := w.alice.post("/users/bob/dm", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("dm: %d", res.StatusCode)
	}
	w.dm = res.Header.Get("Location")
	w.generalPost, w.mentionPost = "pancakes tomorrow", "@alice bring syrup"
	postID(t, w.bob, w.general, w.generalPost)
	postID(t, w.bob, w.general, w.mentionPost)
	postID(t, w.bob, w.dm, "psst")
	w.names = []string{"alice", "bob", "carol", "general", "quiet", "olden", w.generalPost, "bring syrup", "psst"}
	return w
}

// assertPage is assertTranslated for a page of the given status.
func assertPage(t *testing.T, c *client, path string, want int, ignore ...string) {
	t.Helper()
	assertTranslatedBy(t, path, want, getIn(c, path), ignore...)
}

// getIn is a GET in a language, with headers on top.
func getIn(c *client, path string, headers ...string) func(string) response {
	return func(lang string) response {
		return c.get(path, append([]string{"Accept-Language", lang}, headers...)...)
	}
}

// postIn is a POST of a form in a language, with headers on top.
func postIn(c *client, path string, form url.Values, headers ...string) func(string) response {
	return func(lang string) response {
		return c.post(path, form, append([]string{"Accept-Language", lang}, headers...)...)
	}
}

func TestLangRoomsLobby(t *testing.T) {
	w := newRoomsWorld(t)
	lobby := w.alice.get("/", "Accept-Language", "es")
	doc := lobby.doc(t)
	// What the page must hold for the test to mean anything: the unread
	// marks, a direct message and an archived room.
	if doc.Find("[data-count] .unread-count").Length() == 0 || doc.Find(".unread-mention").Length() == 0 {
		t.Fatalf("the lobby shows no unread marks:\n%s", lobby.Body)
	}
	if doc.Find("[data-dm]").Length() == 0 || doc.Find("#archived-list li").Length() == 0 {
		t.Fatalf("the lobby shows no direct message or archived room:\n%s", lobby.Body)
	}
	for _, want := range []string{"<title>Salas", "sin leer", `title="Para ti"`, "Mensajes directos", "Archivadas", "Nueva sala"} {
		if !strings.Contains(lobby.Body, want) {
			t.Errorf("the Spanish lobby does not say %q", want)
		}
	}
	assertPage(t, w.alice, "/", http.StatusOK, w.names...)
	// A reader with no rooms at all.
	assertPage(t, w.srv.register(t, "dave"), "/", http.StatusOK, "dave", "general", "olden")
}

func TestLangRoomsRoomPage(t *testing.T) {
	w := newRoomsWorld(t)
	// A member's page of a room with posts, members, and a new-since line.
	postID(t, w.alice, w.general, "first")
	w.alice.get(w.general)
	postID(t, w.bob, w.general, "second")
	page := w.alice.get(w.general, "Accept-Language", "es")
	for _, want := range []string{"Mensajes nuevos ↓", "Nuevo desde tu última visita", "Escribe un mensaje", "Miembros", "Notificarme de"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the Spanish room page does not say %q", want)
		}
	}
	names := append(w.names, "first", "second")
	assertPage(t, w.alice, w.general, http.StatusOK, names...)
	// A reader who is no member (the join bar), the start of a room, and
	// of direct messages.
	assertPage(t, w.carol, w.general, http.StatusOK, names...)
	dm := w.alice.get(w.dm, "Accept-Language", "es")
	if !strings.Contains(dm.Body, "Este es el comienzo de <bdi>tus mensajes directos con bob</bdi>.") {
		t.Errorf("the Spanish direct messages do not say where they start:\n%s", dm.Body)
	}
	if en := w.alice.get(w.dm, "Accept-Language", "en"); !strings.Contains(en.Body, "This is the start of <bdi>your direct messages with bob</bdi>.") {
		t.Errorf("the English direct messages do not say where they start as before")
	}
	assertPage(t, w.alice, w.dm, http.StatusOK, names...)
	// An archived room, and a permalink page (its plain compose form and
	// its way back to the live room).
	assertPage(t, w.alice, w.old, http.StatusOK, names...)
	first := postID(t, w.alice, w.general, "third")
	assertPage(t, w.alice, w.general+"/at/"+itoa(first), http.StatusOK, append(names, "third")...)
}

func TestLangRoomsErrors(t *testing.T) {
	w := newRoomsWorld(t)
	// The room-create errors: an empty name (422), a taken one (409).
	assertTranslatedBy(t, "empty room name", http.StatusUnprocessableEntity,
		postIn(w.alice, "/rooms", url.Values{"name": {" "}}), w.names...)
	taken := assertTranslatedBy(t, "taken room name", http.StatusConflict,
		postIn(w.alice, "/rooms", url.Values{"name": {"general"}}), w.names...)
	if !strings.Contains(taken.Body, "Ya existe una sala con ese nombre.") {
		t.Errorf("a taken room name, in Spanish, is not said so:\n%s", taken.Body)
	}
	access := assertTranslatedBy(t, "unknown access", http.StatusUnprocessableEntity,
		postIn(w.alice, "/rooms", url.Values{"name": {"newer"}, "access": {"secret"}}), append(w.names, "newer")...)
	if !strings.Contains(access.Body, "Una sala es abierta") {
		t.Errorf("an unknown access, in Spanish, is not said so:\n%s", access.Body)
	}
	// A post too long: the room page again, or (htmx) the compose error.
	long := url.Values{"text": {strings.Repeat("9", 4001)}}
	assertTranslatedBy(t, "too long a post", http.StatusUnprocessableEntity,
		postIn(w.alice, w.general+"/messages", long), w.names...)
	assertTranslatedBy(t, "too long a post, htmx", http.StatusUnprocessableEntity,
		postIn(w.alice, w.general+"/messages", long, "HX-Request", "true"), w.names...)
	// A post sent with htmx: a fresh compose form comes back.
	sent := assertTranslatedBy(t, "a post, htmx", http.StatusOK,
		postIn(w.alice, w.general+"/messages", url.Values{"text": {"hello"}}, "HX-Request", "true"), w.names...)
	if !strings.Contains(sent.Body, `placeholder="Escribe un mensaje"`) {
		t.Errorf("no Spanish compose form after a post sent with htmx:\n%s", sent.Body)
	}
	// A room that does not exist, and someone else's direct messages.
	assertPage(t, w.alice, "/rooms/987654", http.StatusNotFound, w.names...)
	assertPage(t, w.carol, w.dm, http.StatusForbidden, w.names...)
	if res := w.carol.get(w.dm, "Accept-Language", "es"); !strings.Contains(res.Body, "Estos mensajes directos son de otras personas.") {
		t.Errorf("someone else's direct messages, in Spanish, do not say so: %d", res.StatusCode)
	}
}

func TestLangRoomsSwitch(t *testing.T) {
	w := newRoomsWorld(t)
	for _, q := range []string{"", "?q=e", "?q=nothing-like-it"} {
		assertPage(t, w.alice, "/switch"+q, http.StatusOK, append(w.names, "nothing-like-it")...)
		assertTranslatedBy(t, "/switch"+q+" to htmx", http.StatusOK,
			getIn(w.alice, "/switch"+q, "HX-Request", "true"), append(w.names, "nothing-like-it")...)
	}
	// A reader in no room yet.
	dave := w.srv.register(t, "dave")
	assertTranslatedBy(t, "/switch of one in no room", http.StatusOK, getIn(dave, "/switch", "HX-Request", "true"), "dave")
	res := w.alice.get("/switch", "Accept-Language", "es", "HX-Request", "true")
	res2 := w.bob.get("/switch?q=carol", "Accept-Language", "es", "HX-Request", "true")
	for _, want := range []string{">sala cerrada<", ">mensajes directos<", ">sala<"} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the Spanish matches do not say %q:\n%s", want, res.Body)
		}
	}
	if !strings.Contains(res2.Body, ">enviarle un mensaje<") {
		t.Errorf("the Spanish matches do not offer to write to carol:\n%s", res2.Body)
	}
	assertTranslatedBy(t, "/switch?q=carol", http.StatusOK, getIn(w.bob, "/switch?q=carol", "HX-Request", "true"), w.names...)
	long := "?q=" + strings.Repeat("9", 101)
	tooLong := assertTranslatedBy(t, "too long a query", http.StatusUnprocessableEntity, getIn(w.alice, "/switch"+long), w.names...)
	if !strings.Contains(tooLong.Body, "Escribe como mucho 100 caracteres") {
		t.Errorf("too long a query, in Spanish, is not said so:\n%s", tooLong.Body)
	}
	assertTranslatedBy(t, "too long a query, htmx", http.StatusUnprocessableEntity, getIn(w.alice, "/switch"+long, "HX-Request", "true"), w.names...)
}

func TestLangRoomsNotify(t *testing.T) {
	w := newRoomsWorld(t)
	// The level saved, to htmx: the form in place, with "Saved.".
	assertTranslatedBy(t, "notify form", http.StatusOK,
		postIn(w.alice, w.general+"/notify", url.Values{"level": {"all"}}, "HX-Request", "true"))
	saved := w.alice.post(w.general+"/notify", url.Values{"level": {"mentions"}}, "HX-Request", "true", "Accept-Language", "es")
	for _, want := range []string{"Guardado.", "Notificarme de", "Mis menciones y mensajes directos", "Activar notificaciones"} {
		if !strings.Contains(saved.Body, want) {
			t.Errorf("the Spanish notification form does not say %q:\n%s", want, saved.Body)
		}
	}
	assertTranslatedBy(t, "unknown level", http.StatusUnprocessableEntity,
		postIn(w.alice, w.general+"/notify", url.Values{"level": {"loud"}}), w.names...)
	level := assertTranslatedBy(t, "unknown level, htmx", http.StatusUnprocessableEntity,
		postIn(w.alice, w.general+"/notify", url.Values{"level": {"loud"}}, "HX-Request", "true"), w.names...)
	if !strings.Contains(level.Body, "Elige de qué quieres que te avisemos") {
		t.Errorf("an unknown level, in Spanish, is not said so:\n%s", level.Body)
	}
	// The sound setting on the account page, saved and refused.
	assertPage(t, w.alice, "/account/password?sound=1", http.StatusOK, w.names...)
	sound := assertTranslatedBy(t, "sound refused", http.StatusUnprocessableEntity,
		postIn(w.alice, "/account/sound", url.Values{"sound": {"loud"}}), w.names...)
	if !strings.Contains(sound.Body, "El sonido solo puede estar activado o desactivado.") {
		t.Errorf("a refused sound setting, in Spanish, is not said so:\n%s", sound.Body)
	}
}
