package handlers_test

import (
	"archive/zip"
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"chat/i18n"
	"chat/store"
	"chat/views"
)

// answerTranslated is assertTranslated for any request: ask(lang) makes
// it with Accept-Language lang. It fails on a status other than want, on
// a key with no message, and on English left in the Spanish answer; the
// Spanish answer is returned.
func answerTranslated(t *testing.T, what string, want int, ask func(lang string) response, ignore ...string) response {
	t.Helper()
	en, es := ask("en"), ask("es")
	if en.StatusCode != want || es.StatusCode != want {
		t.Fatalf("%s: %d in English, %d in Spanish; want %d\n%s", what, en.StatusCode, es.StatusCode, want, es.Body)
	}
	for _, body := range []string{en.Body, es.Body} {
		if i := strings.Index(body, i18n.MissingMark); i >= 0 {
			t.Errorf("%s: a key with no message: %s", what, body[i:min(len(body), i+80)])
		}
	}
	for _, s := range untranslated(t, "es", en.Body, es.Body, ignore...) {
		t.Errorf("%s in Spanish: %s", what, s)
	}
	return es
}

// saysSpanish fails unless the Spanish answer holds each of words: the
// check sees Spanish, not an empty or English answer that passed.
func saysSpanish(t *testing.T, what string, res response, words ...string) {
	t.Helper()
	for _, w := range words {
		if !strings.Contains(res.Body, w) {
			t.Errorf("%s: no %q in the Spanish answer:\n%s", what, w, res.Body)
		}
	}
}

func zipOf(name, content string) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	w, _ := zw.Create(name)
	w.Write([]byte(content))
	zw.Close()
	return b.Bytes()
}

// TestMessagesInSpanish: a room's history (posts, joins and leaves, a
// member added and removed, the room renamed, closed and opened, archived
// and brought back, an edited post, reactions, a file, a picture, a
// deleted post), a message, its edit and react forms and pages, the
// search page and a permalink, and what each answers when it refuses,
// hold no English for a reader who asks for Spanish.
func TestMessagesInSpanish(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	srv.register(t, "carol")
	room := alice.createRoom("general")
	must := func(res response, want int, what string) {
		t.Helper()
		if res.StatusCode != want {
			t.Fatalf("%s: %d, want %d: %s", what, res.StatusCode, want, res.Body)
		}
	}
	must(bob.post(room+"/join", nil), http.StatusSeeOther, "bob joins")
	must(bob.post(room+"/leave", nil), http.StatusSeeOther, "bob leaves")
	must(alice.post(room+"/access", url.Values{"access": {"closed"}}), http.StatusSeeOther, "close")
	must(alice.post(room+"/members", url.Values{"username": {"carol"}}), http.StatusSeeOther, "add carol")
	must(alice.post(room+"/members/carol/remove", nil), http.StatusSeeOther, "remove carol")
	must(alice.post(room+"/access", url.Values{"access": {"open"}}), http.StatusSeeOther, "open")
	must(alice.post(room+"/rename", url.Values{"name": {"plans"}}), http.StatusSeeOther, "rename")
	must(bob.post(room+"/join", nil), http.StatusSeeOther, "bob joins again")

	post := postID(t, alice, room, "hello there")
	must(alice.post(msgPath(post)+"/edit", url.Values{"text": {"hello again"}}), http.StatusSeeOther, "edit")
	must(bob.post(msgPath(post)+"/boosts", url.Values{"emoji": {"👍"}}), http.StatusSeeOther, "boost")
	must(alice.postFiles(room, "the files", []upFile{
		{name: "notes.zip", ctype: "application/zip", data: zipOf("a.txt", strings.Repeat("words ", 300))},
		{name: "tower.jpg", ctype: "image/jpeg", data: photoOf(64, 48)},
	}), http.StatusSeeOther, "files")
	gone := postID(t, alice, room, "soon gone")
	must(alice.post(msgPath(gone)+"/delete", nil), http.StatusSeeOther, "delete")
	must(alice.post(room+"/archive", nil), http.StatusSeeOther, "archive")
	must(alice.post(room+"/unarchive", nil), http.StatusSeeOther, "unarchive")
	event := bob.lastEntryID(room) // the room brought back: no post
	if event == 0 {
		t.Fatal("no entries")
	}

	// What is never translated: names, rooms, posts, files.
	ignore := []string{"alice", "bob", "carol", "general", "plans", "hello again", "hello there", "again", "the files", "notes.zip", "tower.jpg"}
	get := func(c *client, path string, headers ...string) func(string) response {
		return func(lang string) response {
			return c.get(path, append([]string{"Accept-Language", lang}, headers...)...)
		}
	}
	send := func(c *client, path string, form url.Values, headers ...string) func(string) response {
		return func(lang string) response {
			return c.post(path, form, append([]string{"Accept-Language", lang}, headers...)...)
		}
	}
	hx := []string{"HX-Request", "true"}

	// Fragments: all of their words are this area's.
	t.Run("History", func(t *testing.T) {
		es := answerTranslated(t, "history", http.StatusOK, get(bob, room+"/messages?before="+strconv.FormatInt(event+1000, 10)), ignore...)
		saysSpanish(t, "history", es, "se unió", "salió", `</span> añadió a <span class="author">carol<`, `</span> sacó a <span class="author">carol</span> de la sala`, "cambió el nombre de", "cerró la sala",
			"abrió la sala", "archivó la sala", "sacó la sala del archivo", ">editado<", "Editado el ", "Mensaje eliminado",
			"Archivo ZIP · ", " UTC")
		divider := es.doc(t).Find(".day-divider time").First().Text()
		if !regexp.MustCompile(`^\pL+, \d{1,2} de \pL+ de \d{4}$`).MatchString(divider) {
			t.Errorf("day divider %q, want one as \"lunes, 2 de enero de 2006\"", divider)
		}
	})
	t.Run("Message", func(t *testing.T) {
		answerTranslated(t, "message", http.StatusOK, get(bob, msgPath(post), hx...), ignore...)
	})
	t.Run("EditForm", func(t *testing.T) {
		es := answerTranslated(t, "edit form", http.StatusOK, get(alice, msgPath(post)+"/edit", hx...), ignore...)
		saysSpanish(t, "edit form", es, "Guardar", "Cancelar")
	})
	t.Run("Picker", func(t *testing.T) {
		es := answerTranslated(t, "picker", http.StatusOK, get(bob, msgPath(post)+"/react", hx...), ignore...)
		saysSpanish(t, "picker", es, "Reaccionar con 👍", "La tuya, hasta 16 caracteres")
	})
	t.Run("ReactionRefused", func(t *testing.T) {
		for _, tc := range []struct {
			emoji string
			want  string
		}{
			{"", "Elige una reacción."},
			{"seventeen letters", "como máximo 16 caracteres"},
			{"a\u200bb", "caracteres invisibles"},
		} {
			es := answerTranslated(t, "reaction "+strconv.Quote(tc.emoji), http.StatusUnprocessableEntity,
				send(bob, msgPath(post)+"/boosts", url.Values{"emoji": {tc.emoji}}, hx...), ignore...)
			saysSpanish(t, "reaction "+strconv.Quote(tc.emoji), es, tc.want)
		}
	})
	t.Run("PostRefused", func(t *testing.T) {
		es := answerTranslated(t, "client id", http.StatusUnprocessableEntity,
			send(alice, room+"/messages", url.Values{"text": {"hi"}, "client_id": {"bad"}}, hx...), ignore...)
		saysSpanish(t, "client id", es, "Recarga la página", "Inténtalo de nuevo")
		var many []upFile
		for i := range store.MaxFilesPerPost + 1 {
			many = append(many, upFile{name: "f" + strconv.Itoa(i) + ".txt", ctype: "text/plain", data: []byte("x")})
		}
		es = answerTranslated(t, "too many files", http.StatusUnprocessableEntity, func(lang string) response {
			return alice.postFiles(room, "", many, "HX-Request", "true", "Accept-Language", lang)
		}, ignore...)
		saysSpanish(t, "too many files", es, "como máximo 10 archivos; este tiene 11")
		es = answerTranslated(t, "empty file", http.StatusUnprocessableEntity, func(lang string) response {
			return alice.postFiles(room, "", []upFile{{name: "empty.txt", ctype: "text/plain"}}, "HX-Request", "true", "Accept-Language", lang)
		}, append(ignore, "empty.txt")...)
		saysSpanish(t, "empty file", es, "está vacío")
	})
	t.Run("NoSuchFile", func(t *testing.T) {
		answerTranslated(t, "no file", http.StatusNotFound, get(bob, "/files/999999/x.txt", hx...), ignore...)
	})

	// Pages: the layout, the room list and the compose form around
	// these are other areas' words.
	t.Run("Permalink", func(t *testing.T) {
		// Its title is the room's name and the chat's ("plans · Chat"),
		// the same in every language.
		es := answerTranslated(t, "permalink", http.StatusOK, get(bob, views.PermalinkURL(roomID(t, room), post)), append(ignore, "Chat")...)
		saysSpanish(t, "permalink", es, "Reaccionar", "editado")
	})
	t.Run("EditPage", func(t *testing.T) {
		es := answerTranslated(t, "edit page", http.StatusOK, get(alice, msgPath(post)+"/edit"), ignore...)
		saysSpanish(t, "edit page", es, "Editar mensaje")
	})
	t.Run("ReactPage", func(t *testing.T) {
		es := answerTranslated(t, "react page", http.StatusOK, get(bob, msgPath(post)+"/react"), ignore...)
		saysSpanish(t, "react page", es, "Reacciona al mensaje de alice", "Volver a la sala")
	})
	t.Run("Search", func(t *testing.T) {
		es := answerTranslated(t, "search hits", http.StatusOK, get(bob, "/search?q=hello"), append(ignore, "hello")...)
		saysSpanish(t, "search hits", es, "hello · Buscar")
		es = answerTranslated(t, "search none", http.StatusOK, get(bob, "/search?q=zebras"), append(ignore, "zebras")...)
		saysSpanish(t, "search none", es, "Ningún mensaje coincide con «zebras».")
		es = answerTranslated(t, "search short", http.StatusUnprocessableEntity, get(bob, "/search?q=ab"), append(ignore, "ab")...)
		saysSpanish(t, "search short", es, "al menos tres caracteres")
		long := strings.Repeat("z", 201)
		answerTranslated(t, "search long", http.StatusUnprocessableEntity, get(bob, "/search?q="+long), append(ignore, long)...)
	})
	t.Run("EditRefused", func(t *testing.T) {
		answerTranslated(t, "empty edit", http.StatusUnprocessableEntity,
			send(alice, msgPath(post)+"/edit", url.Values{"text": {"  "}}), ignore...)
		long := strings.Repeat("y", 4001)
		answerTranslated(t, "long edit", http.StatusUnprocessableEntity,
			send(alice, msgPath(post)+"/edit", url.Values{"text": {long}}, hx...), append(ignore, long)...)
		es := answerTranslated(t, "someone else's post", http.StatusForbidden, get(bob, msgPath(post)+"/edit"), ignore...)
		saysSpanish(t, "someone else's post", es, "Solo quien escribió un mensaje puede editarlo.")
		es = answerTranslated(t, "react to a join", http.StatusForbidden, get(bob, msgPath(event)+"/react", hx...), ignore...)
		saysSpanish(t, "react to a join", es, "Solo se puede reaccionar a los mensajes.")
	})
}
