package main

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"chat/i18n"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// The page's script speaks the reader's language: a reader whose browser
// asks for Spanish (Accept-Language: es) gets <html lang="es"> and the
// script's words in Spanish (the connection's title, the message box's
// hint, the day dividers "Hoy" and a Spanish date, the times, the list of
// files to send and what is said of it, the reconnecting banner); a reader
// who asks for English gets them in English, as they were. Only the
// script's own words are checked here: the server's are the handler
// tests' (handlers/lang_*_test.go).
func TestBrowserLanguage(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := start(t, dbPath, "-post-limit", "0")
	// Bob fills a room over plain HTTP: a post of three days ago (made
	// now, and moved back with the server stopped) and one of today.
	bob := browser(t)
	postForm(t, bob, srv.base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	roomPath := postForm(t, bob, srv.base+"/rooms", url.Values{"name": {"Sobremesa"}}).Request.URL.Path
	postForm(t, bob, srv.base+roomPath+"/messages", url.Values{"text": {"from an earlier day"}})
	postForm(t, bob, srv.base+roomPath+"/messages", url.Values{"text": {"from today"}})
	if err, _ := srv.shutdown(t); err != nil {
		t.Fatal(err)
	}
	moveBack(t, dbPath, "from an earlier day", 3)
	srv = start(t, dbPath, "-post-limit", "0")
	base := srv.base

	errs := &pageErrors{}
	// Both browsers themselves are in English and in UTC: the page's
	// language, not the browser's, decides the words and the dates.
	ana := newPerson(t, "ana", errs)
	ana.do(network.Enable(), network.SetExtraHTTPHeaders(network.Headers{"Accept-Language": "es"}), emulation.SetTimezoneOverride("UTC"))
	ed := newPerson(t, "eddie", errs)
	ed.do(emulation.SetTimezoneOverride("UTC"))

	// The lobby, live: its connection's title.
	ana.register(base)
	ana.do(socketOpen(), chromedp.Poll(`document.querySelector("#conn[data-transport=ws]") !== null`, nil))
	var lobby struct {
		Lang, Title, Label string
	}
	ana.eval(`(() => { const c = document.getElementById("conn");
		return {lang: document.documentElement.lang, title: c.title, label: c.getAttribute("aria-label")}; })()`, &lobby)
	if lobby.Lang != "es" || lobby.Title != "En vivo (WebSocket)" || lobby.Label != lobby.Title {
		t.Errorf("the Spanish lobby: %+v", lobby)
	}
	ana.shot("es-lobby")

	// The room: the message box's hint, the days, the times.
	var stamps []string
	seeRoom := func(p *person) roomWords {
		p.do(chromedp.Navigate(base+roomPath),
			chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
			chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery), socketOpen(),
			chromedp.Poll(`document.querySelector("#conn[data-transport=ws]") !== null &&
				document.querySelectorAll("#messages > .day-divider").length === 2 &&
				document.querySelectorAll("#messages time[data-local]").length >= 2`, nil))
		var w roomWords
		p.eval(`(() => {
			const c = document.getElementById("conn"), posts = [...document.querySelectorAll('#messages > [data-kind="post"] .permalink time')];
			return {
				lang: document.documentElement.lang,
				placeholder: document.querySelector("#compose textarea").placeholder,
				transport: c.title,
				days: [...document.querySelectorAll("#messages > .day-divider time")].map(t => t.getAttribute("datetime") + " " + t.textContent),
				stamps: posts.map(t => t.getAttribute("datetime")),
				times: posts.map(t => t.textContent),
				longTimes: posts.map(t => t.title),
				missing: document.body.innerHTML.includes("⟦"),
			};
		})()`, &w)
		stamps = w.Stamps
		return w
	}
	es := seeRoom(ana)
	if len(stamps) != 2 {
		t.Fatalf("the room shows the posts at %q, want two", stamps)
	}
	earlier, today := parseStamp(t, stamps[0]), parseStamp(t, stamps[1])
	wantDays := []string{
		earlier.Format(time.DateOnly) + " " + spanishDay(earlier, today),
		today.Format(time.DateOnly) + " " + relativeDay(today, "Hoy", "Ayer"),
	}
	if es.Lang != "es" || es.Placeholder != "Escribe un mensaje · @ menciona a alguien" || es.Transport != "En vivo (WebSocket)" ||
		strings.Join(es.Days, "|") != strings.Join(wantDays, "|") || es.Missing {
		t.Errorf("the Spanish room: %+v\nwant days %q", es, wantDays)
	}
	for i, at := range []time.Time{earlier, today} {
		if want := fmt.Sprintf("%d:%02d", at.Hour(), at.Minute()); es.Times[i] != want || !strings.Contains(es.LongTimes[i], " de ") {
			t.Errorf("a post of %s reads %q (%q) in Spanish, want %q", at, es.Times[i], es.LongTimes[i], want)
		}
	}
	ana.shot("es-room")

	ed.register(base)
	en := seeRoom(ed)
	wantDays = []string{earlier.Weekday().String(), relativeDay(today, "Today", "Yesterday")}
	if en.Lang != "en" || en.Placeholder != "Write a message · @ mentions someone" || en.Transport != "Live (WebSocket)" ||
		len(en.Days) != 2 || !strings.HasPrefix(en.Days[0], earlier.Format(time.DateOnly)+" "+wantDays[0]) ||
		en.Days[1] != today.Format(time.DateOnly)+" "+wantDays[1] || en.Missing {
		t.Errorf("the English room: %+v\nwant days %q", en, wantDays)
	}
	if len(en.LongTimes) != 2 || !strings.HasPrefix(en.LongTimes[0], earlier.Weekday().String()) {
		t.Errorf("the English room's times: %q", en.LongTimes)
	}
	ed.shot("en-room")

	// Files to send: listed, said and refused in Spanish, one form or
	// another of a count as the number asks.
	ana.do(chromedp.Evaluate(filesHelpers, nil),
		chromedp.Evaluate(`testFiles.png("gato.png", 240, 180).then(f => testFiles.paste([f]))`, nil, awaitPromise),
		chromedp.WaitVisible(`#compose-files canvas.compose-thumb[data-drawn]`, chromedp.ByQuery))
	said := func() string {
		var s string
		ana.eval(`[...document.querySelectorAll("#announce p")].map(p => p.textContent).join("|")`, &s)
		return s
	}
	var strip []string
	ana.eval(`testFiles.strip()`, &strip)
	if len(strip) != 1 || !strings.HasPrefix(strip[0], "gato.png | PNG · ") || !strings.HasSuffix(strip[0], " | Quitar gato.png") {
		t.Errorf("the Spanish list of files: %q", strip)
	}
	if s := said(); !strings.HasSuffix(s, "Se adjuntó gato.png. 1 archivo para enviar.") {
		t.Errorf("#announce says %q", s)
	}
	var zone string
	ana.eval(`(() => { const f = [testFiles.bytes("nota.txt", "text/plain", btoa("hola"))];
		testFiles.drag("dragenter", f); const z = document.querySelector("#drop-zone").textContent;
		testFiles.drag("dragleave", f); return z; })()`, &zone)
	if zone != "Suelta aquí los archivos para adjuntarlos a tu mensaje" {
		t.Errorf("the drop zone says %q", zone)
	}
	ana.do(chromedp.Evaluate(`testFiles.drop([testFiles.bytes("nota.txt", "text/plain", btoa("hola")), testFiles.bytes("lista.txt", "text/plain", btoa("pan")),
		testFiles.bytes("vacío.txt", "text/plain", "")]); true`, nil),
		chromedp.Poll(`document.querySelectorAll("#compose-files > li").length === 3`, nil))
	var problem string
	ana.eval(`document.getElementById("compose-error").textContent`, &problem)
	if s := said(); !strings.HasSuffix(s, "Se adjuntaron 2 archivos. 3 archivos para enviar.") || problem != "vacío.txt está vacío." {
		t.Errorf("after a drop #announce says %q, and the problem %q", s, problem)
	}
	ana.shot("es-room-files")
	ana.do(chromedp.Click(`#compose-files > li[data-key] + li .compose-file-remove`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelectorAll("#compose-files > li").length === 2`, nil))
	if s := said(); !strings.HasSuffix(s, "Se quitó nota.txt. 2 archivos para enviar.") {
		t.Errorf("after a removal #announce says %q", s)
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}

	// The server goes: the banner and the connection's title say so.
	if err, _ := srv.shutdown(t); err != nil {
		t.Fatal(err)
	}
	ana.do(chromedp.WaitVisible(`#offline`, chromedp.ByQuery), chromedp.Poll(`document.querySelector("#conn[data-transport=none]") !== null`, nil))
	var offline struct{ Banner, Title string }
	ana.eval(`({banner: document.getElementById("offline").textContent, title: document.getElementById("conn").title})`, &offline)
	if offline.Banner != "Se perdió la conexión. Reconectando…" || offline.Title != "Sin conexión: reconectando…" {
		t.Errorf("the Spanish room offline: %+v", offline)
	}
	ana.shot("es-room-offline")
	ed.do(chromedp.WaitVisible(`#offline`, chromedp.ByQuery))
	ed.eval(`({banner: document.getElementById("offline").textContent, title: document.getElementById("conn").title})`, &offline)
	if offline.Banner != "Connection lost. Reconnecting…" || offline.Title != "Offline: reconnecting…" {
		t.Errorf("the English room offline: %+v", offline)
	}
}

// roomWords is what TestBrowserLanguage reads of a room's page.
type roomWords struct {
	Lang, Placeholder, Transport string
	Days, Stamps, Times          []string
	LongTimes                    []string
	Missing                      bool
}

// moveBack moves the entries of a room up to the post with the text upTo
// (its creation, its first join, the post) days back, in the database of
// a stopped server.
func moveBack(t *testing.T, dbPath, upTo string, days int) {
	t.Helper()
	db, err := sql.Open("sqlite3", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.Exec(`UPDATE messages SET created_at = created_at - ? WHERE id <= (SELECT id FROM messages WHERE body = ?)`,
		int64(days)*24*int64(time.Hour/time.Millisecond), upTo)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n < 1 {
		t.Fatalf("no entry up to %q moved back", upTo)
	}
}

func parseStamp(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at.UTC()
}

// relativeDay is what a divider calls the day of at, seen now (UTC): a
// post of today may be of yesterday by the time it is read.
func relativeDay(at time.Time, today, yesterday string) string {
	if now := time.Now().UTC(); now.Format(time.DateOnly) != at.Format(time.DateOnly) {
		return yesterday
	}
	return today
}

// spanishDay is a day as a Spanish heading says it: "Domingo, 29 de
// noviembre", with the year when it is not this one's.
func spanishDay(d, now time.Time) string {
	weekdays := []string{"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"}
	months := []string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
	s := fmt.Sprintf("%s, %d de %s", weekdays[d.Weekday()], d.Day(), months[d.Month()-1])
	if d.Year() != now.Year() {
		s += fmt.Sprintf(" de %d", d.Year())
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// keyLiteral is how app.js writes the key of a word it says:
// say("files.count", …), or a key kept for later ("connection.ws").
var keyLiteral = regexp.MustCompile(`"([a-z]+(?:\.[a-z_]+)+)"`)

// Every key the script says has a message in every language, and every
// message of the script's is said somewhere: a word added to app.js
// without its messages, or one left in the catalogs after the script
// stopped saying it, fails here, before any browser starts.
func TestScriptWordsKnown(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("static", "app.js"))
	if err != nil {
		t.Fatal(err)
	}
	used := map[string]bool{}
	for _, m := range keyLiteral.FindAllStringSubmatch(string(src), -1) {
		used[m[1]] = true
	}
	if len(used) < 30 {
		t.Fatalf("found %d keys in app.js: is keyLiteral still how it writes them?", len(used))
	}
	for _, l := range i18n.Default().Langs() {
		var words map[string]any
		if err := json.Unmarshal(l.Script(), &words); err != nil {
			t.Fatalf("%s: %v", l.Tag, err)
		}
		for k := range used {
			if _, ok := words[k]; !ok {
				t.Errorf("%s: app.js says %q, which has no message %s%s", l.Tag, k, i18n.ScriptPrefix, k)
			}
		}
		for k := range words {
			if !used[k] {
				t.Errorf("%s: %s%s is in the catalog, and app.js never says it", l.Tag, i18n.ScriptPrefix, k)
			}
		}
	}
}
