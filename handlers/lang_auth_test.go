package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"chat/i18n"
)

// The language choice (contract "Languages") and the pages of the auth
// area (sign-in, register, account, reset, error pages) in both languages.

// htmlLang is the page's <html lang>.
func htmlLang(t *testing.T, res response) string {
	t.Helper()
	lang, _ := res.doc(t).Find("html").Attr("lang")
	return lang
}

// varies reports whether an answer says it depends on Accept-Language.
func varies(res response) bool {
	for _, v := range res.Header.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(f), "Accept-Language") {
				return true
			}
		}
	}
	return false
}

// chooseLanguage posts the language form as the page does.
func chooseLanguage(c *client, lang, next string, headers ...string) response {
	c.t.Helper()
	return c.post("/account/language", url.Values{"lang": {lang}, "next": {next}}, headers...)
}

func TestLanguageChoice(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	srv.register(t, "root") // the first account is an admin's

	t.Run("HeaderAlone", func(t *testing.T) {
		c := srv.anon(t)
		for _, tc := range []struct{ header, want string }{
			{"es", "es"}, {"es-MX,es;q=0.9,en;q=0.5", "es"}, {"en", "en"}, {"fr", "en"}, {"", "en"}, {"de, es;q=0.4", "es"},
		} {
			res := c.get("/login", "Accept-Language", tc.header)
			if got := htmlLang(t, res); got != tc.want {
				t.Errorf("Accept-Language %q: <html lang=%q>, want %q", tc.header, got, tc.want)
			}
			if !varies(res) {
				t.Errorf("Accept-Language %q: the page says no Vary: Accept-Language (%q)", tc.header, res.Header.Values("Vary"))
			}
		}
	})

	t.Run("CookieSignedOut", func(t *testing.T) {
		c := srv.anon(t)
		res := chooseLanguage(c, "es", "/register", "Accept-Language", "en")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/register" {
			t.Fatalf("choice: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		ck := c.cookie("lang")
		if ck == nil || ck.Value != "es" {
			t.Fatalf("lang cookie: %v", ck)
		}
		res = c.get("/register", "Accept-Language", "en")
		if got := htmlLang(t, res); got != "es" {
			t.Fatalf("with the cookie, <html lang=%q>", got)
		}
		if varies(res) {
			t.Errorf("a page chosen by the cookie says Vary: Accept-Language")
		}
		if vary := strings.Join(res.Header.Values("Vary"), ","); !strings.Contains(vary, "Cookie") {
			t.Errorf("a page chosen by the cookie says Vary %q, not Cookie", vary)
		}
		if h1 := res.doc(t).Find("h1").Text(); h1 != "Crear una cuenta" {
			t.Errorf("h1 %q", h1)
		}
		if sel := res.doc(t).Find(`select[name=lang] option[selected]`).AttrOr("value", ""); sel != "es" {
			t.Errorf("the form's selected language is %q", sel)
		}
		// Back to English the same way.
		chooseLanguage(c, "en", "/login", "Accept-Language", "es")
		if got := htmlLang(t, c.get("/login", "Accept-Language", "es")); got != "en" {
			t.Fatalf("after choosing English, <html lang=%q>", got)
		}
	})

	t.Run("AccountOverridesHeader", func(t *testing.T) {
		c := srv.register(t, "alice")
		if res := chooseLanguage(c, "es", "/account/password"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/password" {
			t.Fatalf("choice: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		u, err := srv.Store.FindUserByUsername(ctx, "alice")
		if err != nil || u.Language != "es" {
			t.Fatalf("alice's language %q, %v", u.Language, err)
		}
		// Another browser of hers, with no cookie of the choice, asking
		// for English.
		other := srv.anon(t)
		if res := other.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login: %d", res.StatusCode)
		}
		if other.cookie("lang") != nil {
			t.Fatal("the other browser has a lang cookie already")
		}
		res := other.get("/account/password", "Accept-Language", "en")
		if got := htmlLang(t, res); got != "es" {
			t.Fatalf("her account says es, the header en: <html lang=%q>", got)
		}
		if varies(res) {
			t.Errorf("a page chosen by the account says Vary: Accept-Language")
		}
		if h1 := res.doc(t).Find("h1").Text(); h1 != "Cambia tu contraseña" {
			t.Errorf("h1 %q", h1)
		}
		// Signing out keeps the cookie: the sign-in page stays Spanish.
		if res := c.post("/logout", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("logout: %d", res.StatusCode)
		}
		if ck := c.cookie("lang"); ck == nil || ck.Value != "es" {
			t.Fatalf("after signing out, lang cookie %v", ck)
		}
		if got := htmlLang(t, c.get("/login", "Accept-Language", "en")); got != "es" {
			t.Fatalf("signed out, <html lang=%q>", got)
		}
	})

	t.Run("UnknownLanguage", func(t *testing.T) {
		c := srv.register(t, "bob")
		for _, tc := range []struct{ header, want string }{
			{"en", i18n.Default().English().T("language.unknown")},
			{"es", mustLang(t, "es").T("language.unknown")},
		} {
			res := chooseLanguage(c, "xx", "/", "Accept-Language", tc.header)
			if res.StatusCode != http.StatusUnprocessableEntity {
				t.Fatalf("lang=xx: %d", res.StatusCode)
			}
			if !strings.Contains(res.Body, tc.want) {
				t.Errorf("lang=xx in %s: the answer lacks %q", tc.header, tc.want)
			}
			if strings.Contains(res.Header.Get("Set-Cookie"), "lang=") {
				t.Errorf("lang=xx set a cookie: %q", res.Header.Get("Set-Cookie"))
			}
		}
		if c.cookie("lang") != nil {
			t.Error("lang=xx left a cookie")
		}
		if u, err := srv.Store.FindUserByUsername(ctx, "bob"); err != nil || u.Language != "" {
			t.Errorf("bob's language %q, %v", u.Language, err)
		}
		// A visitor's unknown choice changes nothing either.
		v := srv.anon(t)
		if res := chooseLanguage(v, "", "/login"); res.StatusCode != http.StatusUnprocessableEntity || v.cookie("lang") != nil {
			t.Errorf("lang= (empty): %d, cookie %v", res.StatusCode, v.cookie("lang"))
		}
	})

	t.Run("NextStaysOnSite", func(t *testing.T) {
		c := srv.anon(t)
		for _, tc := range []struct{ next, want string }{
			{"//evil.example", "/"},
			{"https://evil.example", "/"},
			{"/\\evil", "/"},
			{"\\\\evil.example", "/"},
			{"/%0d%0aSet-Cookie:x", "/%0d%0aSet-Cookie:x"},
			{"/login\r\nX: y", "/"},
			{"/a\x00b", "/"},
			{"/a\x7fb", "/"},
			{"/rooms/3?after=5", "/rooms/3?after=5"},
			{"javascript:alert(1)", "/"},
			{"", "/"},
			{"/rooms/3", "/rooms/3"},
			{"/reset/abc", "/reset/abc"},
		} {
			res := chooseLanguage(c, "es", tc.next)
			if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != tc.want {
				t.Errorf("next %q: %d to %q, want %q", tc.next, res.StatusCode, res.Header.Get("Location"), tc.want)
			}
		}
	})

	t.Run("FormComesBack", func(t *testing.T) {
		next := func(res response) string {
			t.Helper()
			v, ok := res.doc(t).Find(`form[action="/account/language"] input[name=next]`).Attr("value")
			if !ok {
				t.Fatalf("no language form in %.300s", res.Body)
			}
			return v
		}
		v := srv.anon(t)
		if got := next(v.get("/register")); got != "/register" {
			t.Errorf("GET /register: next %q", got)
		}
		wrong := url.Values{"username": {"nobody"}, "password": {"wrong password"}}
		if got := next(v.post("/login", wrong, "Referer", srv.URL+"/login")); got != "/login" {
			t.Errorf("a wrong password: next %q", got)
		}
		for _, ref := range []string{"", "https://evil.example/login", srv.URL + "//evil.example"} {
			if got := next(v.post("/login", wrong, "Referer", ref)); got != "/" {
				t.Errorf("a wrong password, Referer %q: next %q", ref, got)
			}
		}
		// The avatar's form is answered at its POST-only address.
		u := srv.register(t, "frank")
		if got := next(u.post("/account/avatar", url.Values{}, "Referer", srv.URL+"/account/password")); got != "/account/password" {
			t.Errorf("an avatar refused: next %q", got)
		}
	})

	t.Run("RegisterKeepsChoice", func(t *testing.T) {
		c := srv.anon(t)
		chooseLanguage(c, "es", "/register", "Accept-Language", "en")
		res := c.post("/register", url.Values{"username": {"carol"}, "password": {"password-carol"}}, "Accept-Language", "en")
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("register: %d", res.StatusCode)
		}
		u, err := srv.Store.FindUserByUsername(ctx, "carol")
		if err != nil || u.Language != "es" {
			t.Fatalf("carol's language %q, %v", u.Language, err)
		}
		// Without the choice, an account chooses nothing.
		srv.register(t, "dave")
		if u, err := srv.Store.FindUserByUsername(ctx, "dave"); err != nil || u.Language != "" {
			t.Fatalf("dave's language %q, %v", u.Language, err)
		}
	})

	t.Run("APIStaysEnglish", func(t *testing.T) {
		c := srv.anon(t)
		for _, ask := range []func(lang string) response{
			func(lang string) response { return c.get("/api/rooms/1/messages", "Accept-Language", lang) },
			func(lang string) response {
				return c.post("/api/rooms/1/messages", url.Values{"text": {"hi"}}, "Accept-Language", lang, "Authorization", "Bearer nothing")
			},
		} {
			en, es := ask("en"), ask("es")
			if en.StatusCode < 400 || es.StatusCode != en.StatusCode || es.Body != en.Body || varies(es) {
				t.Errorf("the bots' API: %d %s in English, %d %s in Spanish (Vary %q)", en.StatusCode, en.Body, es.StatusCode, es.Body, es.Header.Values("Vary"))
			}
		}
	})
}

func mustLang(t *testing.T, tag string) *i18n.Lang {
	t.Helper()
	l, ok := i18n.Default().Lookup(tag)
	if !ok {
		t.Fatalf("no language %q", tag)
	}
	return l
}

// assertOwnTranslated is assertTranslatedBy for a page of this area
// (scope and others told which parts were this area's while the areas
// were translated apart; every page is now checked whole).
func assertOwnTranslated(t *testing.T, name string, others []string, scope string, fetch func(lang string) response, ignore ...string) {
	t.Helper()
	assertTranslatedBy(t, name, 0, fetch, ignore...)
}

// The other areas whose markup the auth area's pages hold.
var (
	signedInAreas = []string{"switch.", "notify."} // the switcher, the sound setting
	resetAreas    = []string{"admin.", "people."}  // the reset form
)

func TestAuthPagesTranslated(t *testing.T) {
	srv := newServer(t, withLoginLimit(2))
	ctx := context.Background()
	root := srv.register(t, "root")
	alice := srv.register(t, "alice")
	visitor := srv.anon(t)
	get := func(c *client, path string, headers ...string) func(string) response {
		return func(lang string) response {
			return c.get(path, append([]string{"Accept-Language", lang}, headers...)...)
		}
	}
	post := func(c *client, path string, form url.Values, headers ...string) func(string) response {
		return func(lang string) response {
			return c.post(path, form, append([]string{"Accept-Language", lang}, headers...)...)
		}
	}

	t.Run("SignedOut", func(t *testing.T) {
		for _, path := range []string{"/login", "/register", "/nope", "/reset/not-a-token", "/rooms/1/ws"} {
			assertTranslated(t, visitor, path)
		}
		// Errors of the forms: a 422 of each validator, a name taken (409).
		for _, form := range []url.Values{
			{"username": {"ab"}, "password": {"long enough"}},
			{"username": {"a b"}, "password": {"long enough"}},
			{"username": {"erin"}, "password": {"short"}},
			{"username": {"erin"}, "password": {strings.Repeat("x", 257)}},
			{"username": {"erin"}, "password": {"\xff\xfe long enough"}},
			{"username": {"alice"}, "password": {"long enough"}},
		} {
			assertTranslatedBy(t, "POST /register "+form.Get("username"), 0, post(visitor, "/register", form))
		}
		// Another site's form (403), a compressed body (415).
		assertTranslatedBy(t, "POST /login from another site", 0, post(visitor, "/login", url.Values{"username": {"alice"}}, "Sec-Fetch-Site", "cross-site"))
		assertTranslatedBy(t, "POST /login compressed", 0, post(visitor, "/login", url.Values{"username": {"alice"}}, "Content-Encoding", "gzip"))
		// A 404 to htmx is a fragment.
		assertTranslatedBy(t, "GET /nope by htmx", 0, get(visitor, "/nope", "HX-Request", "true"))
	})

	t.Run("SignIn", func(t *testing.T) {
		// A wrong password (401), twice; then, past the limit of two, 429.
		res := srv.anon(t).post("/login", url.Values{"username": {"someone"}, "password": {"wrong password"}}, "Accept-Language", "es")
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", res.StatusCode)
		}
		if got := res.doc(t).Find(".form-error").Text(); got != mustLang(t, "es").T("auth.no_match") {
			t.Errorf("wrong password in Spanish: %q", got)
		}
		wrong := post(visitor, "/login", url.Values{"username": {"nobody"}, "password": {"wrong password"}})
		assertTranslatedBy(t, "POST /login wrong", 0, wrong, "nobody")
		if res := wrong("es"); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("past the limit: %d", res.StatusCode)
		}
		assertTranslatedBy(t, "POST /login throttled", 0, wrong, "nobody")
	})

	t.Run("SignedIn", func(t *testing.T) {
		assertOwnTranslated(t, "/account/password", signedInAreas, "html", get(alice, "/account/password"), "alice")
		assertOwnTranslated(t, "/account/password?changed=1&avatar=1", signedInAreas, "html", get(alice, "/account/password?changed=1&avatar=1"), "alice")
		assertOwnTranslated(t, "/nope signed in", signedInAreas, "html", get(alice, "/nope"), "alice")
		assertOwnTranslated(t, "/admin as a user", signedInAreas, "html", get(alice, "/admin"), "alice")
		// A wrong current password (401) and a short new one (422): the
		// right password first, as each wrong one counts against the limit.
		assertOwnTranslated(t, "POST /account/password short", signedInAreas, "html",
			post(alice, "/account/password", url.Values{"current_password": {"password-alice"}, "new_password": {"short"}}), "alice")
		assertOwnTranslated(t, "POST /account/avatar empty", signedInAreas, "html",
			post(alice, "/account/avatar", url.Values{}), "alice")
		assertOwnTranslated(t, "POST /account/password wrong", signedInAreas, "html",
			post(root, "/account/password", url.Values{"current_password": {"not it"}, "new_password": {"long enough"}}), "root")
	})

	t.Run("Validators", func(t *testing.T) {
		// The validators' words reach the other areas' forms in the
		// reader's language: a room's name, a post.
		es := mustLang(t, "es")
		room := alice.createRoom("tea")
		for _, tc := range []struct {
			path string
			form url.Values
			key  string
		}{
			{"/rooms", url.Values{"name": {"   "}}, "validate.room_name_empty"},
			{"/rooms", url.Values{"name": {strings.Repeat("n", 65)}}, "validate.room_name_long"},
			{"/rooms", url.Values{"name": {"a\u200bb"}}, "validate.room_name_invisible"},
			{room + "/messages", url.Values{"text": {strings.Repeat("x", 4001)}}, "validate.post_long"},
			{room + "/messages", url.Values{"text": {"   "}}, "validate.post_empty"},
		} {
			res := alice.post(tc.path, tc.form, "Accept-Language", "es", "HX-Request", "true")
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, es.T(tc.key)) {
				t.Errorf("POST %s %v: %d, want 422 with %q: %.300s", tc.path, tc.form, res.StatusCode, es.T(tc.key), res.Body)
			}
		}
	})

	t.Run("Reset", func(t *testing.T) {
		u, err := srv.Store.FindUserByUsername(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		r, err := srv.Store.FindUserByUsername(ctx, "root")
		if err != nil {
			t.Fatal(err)
		}
		token, err := srv.Store.CreateResetToken(ctx, u.ID, r.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		page := srv.anon(t)
		assertOwnTranslated(t, "/reset/TOKEN", resetAreas, "header, .form-error", get(page, "/reset/"+token), "alice")
		res := page.post("/reset/"+token, url.Values{"password": {"short"}}, "Accept-Language", "es")
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("a short password: %d", res.StatusCode)
		}
		if got := res.doc(t).Find(".form-error").Text(); got != mustLang(t, "es").T("validate.password_short") {
			t.Errorf("a short password in Spanish: %q", got)
		}
		assertOwnTranslated(t, "POST /reset/TOKEN short", resetAreas, "header, .form-error", post(page, "/reset/"+token, url.Values{"password": {"short"}}), "alice")
	})
}
