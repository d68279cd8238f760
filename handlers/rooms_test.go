package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/views"

	"github.com/PuerkitoBio/goquery"
)

func TestRoomCreate(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	ctx := context.Background()

	t.Run("OK", func(t *testing.T) {
		loc := alice.createRoom("  General  ")
		if !strings.HasPrefix(loc, "/rooms/") {
			t.Fatalf("redirect to %q", loc)
		}
		id, _ := strconv.ParseInt(strings.TrimPrefix(loc, "/rooms/"), 10, 64)
		room, err := srv.Store.FindRoomByID(ctx, id)
		if err != nil || room.Name != "General" {
			t.Fatalf("room %+v, %v", room, err)
		}
		if ok, _ := srv.Store.IsMember(ctx, id, 1); !ok {
			t.Error("creator is no member")
		}
		doc := alice.get("/").doc(t)
		link := doc.Find(fmt.Sprintf(`a[href="/rooms/%d"]`, id))
		if link.Length() == 0 || strings.TrimSpace(link.First().Text()) != "General" {
			t.Errorf("lobby link %q", link.Text())
		}
		if doc.Find(`form[action="/rooms"][method=post] input[name=name]`).Length() != 1 {
			t.Error("lobby has no create form")
		}
	})

	t.Run("UnicodeAndHTML", func(t *testing.T) {
		for _, name := range []string{"Café ☕ 日本語", "<img src=x onerror=alert(1)>", strings.Repeat("é", 64)} {
			loc := alice.createRoom(name)
			page := alice.get(loc)
			if page.StatusCode != http.StatusOK {
				t.Fatalf("room %q: %d", name, page.StatusCode)
			}
			if got := strings.TrimSpace(page.doc(t).Find("h1").Text()); got != name {
				t.Errorf("room page title %q, want %q", got, name)
			}
			lobby := alice.get("/")
			if strings.Contains(lobby.Body, "<img src=x") || strings.Contains(page.Body, "<img src=x") {
				t.Error("room name reached the page unescaped")
			}
		}
	})

	for _, tc := range []struct {
		name, input string
		status      int
	}{
		{"ErrBlank", "   ", 422},
		{"ErrEmpty", "", 422},
		{"ErrTooLong", strings.Repeat("x", 65), 422},
		{"ErrLineBreak", "two\nlines", 422},
		{"ErrNameTakenOtherCase", "GENERAL", 409},
		{"ErrNameTakenUnicodeCase", "CAFÉ ☕ 日本語", 409},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := srv.Store.ListRooms(ctx, 1)
			res := alice.post("/rooms", url.Values{"name": {tc.input}})
			if res.StatusCode != tc.status {
				t.Fatalf("got %d, want %d", res.StatusCode, tc.status)
			}
			doc := res.doc(t)
			if doc.Find(`[data-kind=error]`).Length() != 1 {
				t.Error("no error shown")
			}
			if v, _ := doc.Find(`input[name=name]`).Attr("value"); v != tc.input {
				t.Errorf("field holds %q, want %q", v, tc.input)
			}
			after, _ := srv.Store.ListRooms(ctx, 1)
			if len(after) != len(before) {
				t.Error("a room was created")
			}
		})
	}
}

func TestRoomShow(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")

	t.Run("ErrNotFound", func(t *testing.T) {
		for _, path := range []string{"/rooms/999", "/rooms/abc", "/rooms/-1", "/rooms/0", "/rooms/1.5", "/rooms/99999999999999999999"} {
			res := alice.get(path)
			if res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
			}
			if res.doc(t).Find(".card h1").Length() != 1 {
				t.Errorf("GET %s: no error page", path)
			}
		}
		for _, path := range []string{"/rooms/999/join", "/rooms/999/leave", "/rooms/x/messages"} {
			if res := alice.post(path, url.Values{"text": {"hi"}}); res.StatusCode != http.StatusNotFound {
				t.Errorf("POST %s: %d, want 404", path, res.StatusCode)
			}
		}
	})

	t.Run("LatestFiftyOldestFirst", func(t *testing.T) {
		for i := range 60 {
			text := fmt.Sprintf("post %d <i>x</i>\nsecond line", i)
			if res := alice.post(room+"/messages", url.Values{"text": {text}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("post %d: %d", i, res.StatusCode)
			}
		}
		doc := alice.get(room).doc(t)
		items := doc.Find("#messages > [id^=msg-]")
		if items.Length() != 50 {
			t.Fatalf("#messages holds %d entries, want 50", items.Length())
		}
		if others := doc.Find("#messages > :not([id^=msg-])"); others.Length() != others.Filter(".day-divider").Length() {
			t.Errorf("#messages holds other elements than entries and days: %d", others.Length())
		}
		var prev int64
		items.Each(func(i int, e *goquery.Selection) {
			id, _ := e.Attr("id")
			n, err := strconv.ParseInt(strings.TrimPrefix(id, "msg-"), 10, 64)
			if err != nil || id != views.MessageID(n) || n <= prev {
				t.Errorf("entry %d id %q after %d", i, id, prev)
			}
			prev = n
			if k, _ := e.Attr("data-kind"); k != "post" {
				t.Errorf("entry %d kind %q", i, k)
			}
			if a, _ := e.Attr("data-author"); a != "alice" {
				t.Errorf("entry %d author %q", i, a)
			}
		})
		last := items.Last()
		if got := last.Find(".text").Text(); got != "post 59 <i>x</i>\nsecond line" {
			t.Errorf("last text %q", got)
		}
		if last.Find("i").Length() != 0 {
			t.Error("post markup was not escaped")
		}
		dt, _ := last.Find("time").Attr("datetime")
		if ts, err := time.Parse(time.RFC3339, dt); err != nil || time.Since(ts) > time.Minute {
			t.Errorf("time datetime %q: %v", dt, err)
		}
		if src, _ := last.Find("img.avatar").Attr("src"); src != "/users/alice/avatar" {
			t.Errorf("avatar %q", src)
		}
		if !strings.Contains(last.Text(), "alice") {
			t.Error("post does not show its author")
		}
		if doc.Find("#history-more[hx-get]").Length() != 1 {
			t.Error("no loader of older entries")
		}
	})

	t.Run("ComposeForm", func(t *testing.T) {
		doc := alice.get(room).doc(t)
		form := doc.Find("form#compose")
		if form.Length() != 1 {
			t.Fatal("no compose form")
		}
		action, _ := form.Attr("action")
		method, _ := form.Attr("method")
		_, wsSend := form.Attr("ws-send")
		if action != room+"/messages" || method != "post" || !wsSend || form.Find(`[name=text]`).Length() != 1 {
			t.Errorf("compose form action=%q method=%q ws-send=%v", action, method, wsSend)
		}
		if doc.Find("#presence").Length() != 1 {
			t.Error("no #presence")
		}
		if v, _ := doc.Find("body").Attr("data-viewer"); v != "alice" {
			t.Errorf("body data-viewer %q", v)
		}
	})

	t.Run("NonMemberReadsButCannotPost", func(t *testing.T) {
		bob := srv.register(t, "bob")
		res := bob.get(room)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("non-member read: %d", res.StatusCode)
		}
		doc := res.doc(t)
		if doc.Find("form#compose").Length() != 0 || doc.Find(`form[action="`+room+`/join"]`).Length() != 1 {
			t.Error("a non-member is offered the compose form, or no join button")
		}
	})
}

func TestJoinLeave(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	ctx := context.Background()

	count := func() int {
		msgs, _ := srv.Store.ListLatestMessages(ctx, 1, 100)
		return len(msgs)
	}
	n := count()
	res := bob.post(room+"/join", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != room {
		t.Fatalf("join: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	bob.post(room+"/join", nil)
	if got := count(); got != n+1 {
		t.Errorf("two joins added %d entries, want 1", got-n)
	}
	if ok, _ := srv.Store.IsMember(ctx, 1, 2); !ok {
		t.Error("bob is no member")
	}
	res = bob.post(room+"/leave", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("leave: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
	bob.post(room+"/leave", nil)
	if got := count(); got != n+2 {
		t.Errorf("two leaves added %d entries, want 1", got-n-1)
	}
	doc := alice.get(room).doc(t)
	last := doc.Find("#messages > [id^=msg-]").Last()
	if k, _ := last.Attr("data-kind"); k != "leave" {
		t.Errorf("last entry kind %q", k)
	}
	if a, _ := last.Attr("data-author"); a != "bob" {
		t.Errorf("last entry author %q", a)
	}
	if !strings.Contains(last.Text(), "left") {
		t.Errorf("leave entry says %q", last.Text())
	}
	if res := bob.post(room+"/messages", url.Values{"text": {"still here?"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("post after leaving: %d, want 403", res.StatusCode)
	}
}

func TestMessageHistory(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	for i := range 120 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("post %d", i)}})
	}
	ids := func(doc *goquery.Document) []int64 {
		var out []int64
		doc.Find("[id^=msg-]").Each(func(_ int, e *goquery.Selection) {
			id, _ := e.Attr("id")
			n, _ := strconv.ParseInt(strings.TrimPrefix(id, "msg-"), 10, 64)
			out = append(out, n)
		})
		return out
	}
	page := ids(alice.get(room).doc(t))
	first := page[0]

	res := alice.get(fmt.Sprintf("%s/messages?before=%d", room, first))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("history: %d", res.StatusCode)
	}
	older := ids(res.doc(t))
	if len(older) != 50 || older[49] >= first {
		t.Fatalf("got %d entries ending at %v, before %d", len(older), older[len(older)-1:], first)
	}
	for i := 1; i < len(older); i++ {
		if older[i] <= older[i-1] {
			t.Fatal("history fragment is not oldest first")
		}
	}
	if res.Header.Get("X-History-End") != "" {
		t.Error("history says it ended early")
	}
	if strings.Contains(res.Body, "<html") {
		t.Error("history answered a whole page")
	}
	rest := alice.get(fmt.Sprintf("%s/messages?before=%d", room, older[0]))
	if got := ids(rest.doc(t)); len(got) != 21 || rest.Header.Get("X-History-End") != "true" {
		t.Errorf("last fragment: %d entries, end %q", len(got), rest.Header.Get("X-History-End"))
	}

	for _, q := range []string{"-1", "0", "abc", "99999999999999999999", "", "1e3"} {
		res := alice.get(room + "/messages?before=" + url.QueryEscape(q))
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("before=%q: %d, want 400", q, res.StatusCode)
		}
	}
	if res := alice.get("/rooms/999/messages?before=5"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown room history: %d", res.StatusCode)
	}
}

func TestPostForm(t *testing.T) {
	srv := newServer(t, withPostLimit(5))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	ctx := context.Background()
	count := func() int {
		msgs, _ := srv.Store.ListLatestMessages(ctx, 1, 100)
		return len(msgs)
	}

	t.Run("OK", func(t *testing.T) {
		res := alice.post(room+"/messages", url.Values{"text": {"  hello\r\nworld  "}})
		// Back to the room, at its newest entry.
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != room {
			t.Fatalf("got %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		msgs, _ := srv.Store.ListLatestMessages(ctx, 1, 1)
		if msgs[0].Text != "hello\nworld" {
			t.Errorf("stored %q", msgs[0].Text)
		}
		if res := alice.post(room+"/messages", url.Values{"text": {strings.Repeat("é", 4000)}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("4000 characters: %d", res.StatusCode)
		}
	})

	for _, tc := range []struct{ name, text string }{
		{"ErrEmpty", ""},
		{"ErrBlank", " \n\t "},
		{"ErrTooLong", strings.Repeat("a", 4001)},
		{"ErrControl", "bell\x07"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := count()
			res := alice.post(room+"/messages", url.Values{"text": {tc.text}})
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("got %d, want 422", res.StatusCode)
			}
			doc := res.doc(t)
			if doc.Find("#compose [data-kind=error]").Length() != 1 {
				t.Error("no error by the form")
			}
			if got := doc.Find("#compose textarea").Text(); got != tc.text {
				t.Errorf("textarea lost the input: %q", got)
			}
			if count() != n {
				t.Error("a refused post was stored")
			}
		})
	}

	t.Run("ErrRateLimited", func(t *testing.T) {
		limited := 0
		for i := range 8 {
			res := alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("burst %d", i)}})
			if res.StatusCode == http.StatusTooManyRequests {
				limited++
				if res.Header.Get("Retry-After") == "" {
					t.Error("429 without Retry-After")
				}
			}
		}
		// Two posts of OK already count against the 5 per 10 s.
		if limited != 5 {
			t.Errorf("%d of 8 refused, want 5", limited)
		}
	})
}

func TestAvatarAndViewerCSS(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "ada_lovelace")
	res := alice.get("/users/ada_lovelace/avatar")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("avatar: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(res.Body, ">AL</text>") || !strings.Contains(res.Body, "<svg") {
		t.Errorf("avatar body %q", res.Body)
	}
	if res := alice.get("/users/nobody/avatar"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown avatar: %d", res.StatusCode)
	}
	css := alice.get("/viewer.css")
	if !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") ||
		!strings.Contains(css.Body, `body[data-viewer="ada_lovelace"] .entry-post[data-author="ada_lovelace"]`) {
		t.Errorf("viewer.css: %q", css.Body)
	}
}

func TestStaticAndHealth(t *testing.T) {
	srv := newServer(t)
	c := srv.anon(t)
	doc := c.get("/login").doc(t)
	var scripts []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) {
		src, _ := s.Attr("src")
		scripts = append(scripts, src)
	})
	// htmx, its ws and sse extensions, app.js.
	if len(scripts) != 4 {
		t.Fatalf("scripts %v", scripts)
	}
	for _, src := range scripts {
		res := c.get(src)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "max-age=31536000") {
			t.Errorf("%s: %d %q", src, res.StatusCode, res.Header.Get("Cache-Control"))
		}
		if !strings.Contains(res.Header.Get("Content-Type"), "javascript") {
			t.Errorf("%s: type %q", src, res.Header.Get("Content-Type"))
		}
	}
	if res := c.get("/static/old/app.css"); res.StatusCode != http.StatusOK || res.Header.Get("Cache-Control") != "no-cache" {
		t.Errorf("old version: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
	for _, p := range []string{"/static/x/nope.js", "/static/x/..%2fmain.go"} {
		if res := c.get(p); res.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, res.StatusCode)
		}
	}
	if res := c.get("/healthz"); res.StatusCode != http.StatusOK || res.Body != "ok" {
		t.Errorf("healthz: %d %q", res.StatusCode, res.Body)
	}
	res := c.get("/login")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("Content-Security-Policy %q allows inline code", csp)
	}
	if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") != "same-origin" || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("headers: %v", res.Header)
	}
	if !strings.Contains(res.Body, `"allowEval":false`) || !strings.Contains(res.Body, `"allowScriptTags":false`) || !strings.Contains(res.Body, `"includeIndicatorStyles":false`) {
		t.Error("htmx is not configured to run under the policy")
	}
}

// A server fault answers the house-style 500 page (a fragment to htmx),
// tells the user nothing of the cause, and is logged once with the
// request id.
func TestServerErrorPage(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	srv.Store.Close() // the database goes away under the server
	res := alice.get("/")
	if res.StatusCode != http.StatusInternalServerError {
		t.Fatalf("got %d", res.StatusCode)
	}
	doc := res.doc(t)
	if doc.Find(".card h1").Length() != 1 || !strings.Contains(res.Body, "Something went wrong") || strings.Contains(res.Body, "sql") {
		t.Errorf("500 page: %s", res.Body)
	}
	frag := alice.get("/", "HX-Request", "true")
	if frag.StatusCode != http.StatusInternalServerError || strings.Contains(frag.Body, "<html") || !strings.Contains(frag.Body, `data-kind="error"`) {
		t.Errorf("500 fragment to htmx: %d %s", frag.StatusCode, frag.Body)
	}
	id := res.Header.Get("X-Request-Id")
	if n := strings.Count(srv.Logs.String(), "request_id="+id); n != 2 || !strings.Contains(srv.Logs.String(), "request failed") {
		t.Errorf("request %s logged %d times (want the failure and the request line)", id, n)
	}
}
