package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/i18n"

	"github.com/PuerkitoBio/goquery"
)

// The admin's pages, profiles, invitations and managing a room, in
// Spanish: each page and each refusal, asked for with Accept-Language en
// and es, holds no English word of the chat's own (assertTranslated and
// its like below).

// Words of the admin pages that are no one's language: the bots' API
// route, a flag, an example address.
var adminTechnical = []string{"POST /api/rooms/{id}/messages", "-webhook-allow", "https://bots.example/hook"}

// postBoth sends a form twice, once in each language, the way
// assertTranslated asks for a page.
func (c *client) postBoth(path string, form url.Values, headers ...string) (en, es response) {
	c.t.Helper()
	en = c.post(path, form, append([]string{"Accept-Language", "en"}, headers...)...)
	es = c.post(path, form, append([]string{"Accept-Language", "es"}, headers...)...)
	return en, es
}

// assertPairTranslated fails on what the Spanish answer (es) says in
// English, or on a key with no message in either answer. With a selector,
// only that part of the two answers is compared (a part of a page whose
// rest is another's).
func assertPairTranslated(t testing.TB, what string, en, es response, want int, sel string, ignore ...string) {
	t.Helper()
	if en.StatusCode != want || es.StatusCode != want {
		t.Fatalf("%s: %d in English, %d in Spanish, want %d\n%s", what, en.StatusCode, es.StatusCode, want, es.Body)
	}
	enBody, esBody := en.Body, es.Body
	if sel != "" {
		enBody, esBody = part(t, en, sel), part(t, es, sel)
		if esBody == "" {
			t.Fatalf("%s: no %s in the Spanish answer", what, sel)
		}
	}
	for _, body := range []string{enBody, esBody} {
		if i := strings.Index(body, i18n.MissingMark); i >= 0 {
			t.Errorf("%s: a key with no message: %s", what, body[i:min(len(body), i+80)])
		}
	}
	for _, s := range untranslated(t, "es", enBody, esBody, ignore...) {
		t.Errorf("%s in Spanish: %s", what, s)
	}
}

// part is the markup of what sel selects in an answer.
func part(t testing.TB, r response, sel string) string {
	t.Helper()
	var b strings.Builder
	r.doc(t).Find(sel).Each(func(_ int, s *goquery.Selection) {
		h, err := goquery.OuterHtml(s)
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString(h)
	})
	return b.String()
}

// getBoth asks for a page in each language.
func (c *client) getBoth(path string, headers ...string) (en, es response) {
	c.t.Helper()
	en = c.get(path, append([]string{"Accept-Language", "en"}, headers...)...)
	es = c.get(path, append([]string{"Accept-Language", "es"}, headers...)...)
	return en, es
}

func TestLangAdminPages(t *testing.T) {
	srv := newServer(t, withWebhooks("127.0.0.1"))
	boss := srv.register(t, "boss_q1") // the first account: an admin
	pat := srv.register(t, "pat_q2")
	srv.register(t, "gone_q3")
	names := []string{"boss_q1", "pat_q2", "gone_q3", "bot_q4", "bot_q5", "bot_q6", "Plaza_q7"}
	ignore := append(append([]string{}, names...), adminTechnical...)
	room := boss.createRoom("Plaza_q7")
	createBot(t, boss, "bot_q4", "")
	if res := boss.post("/admin/users/gone_q3/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	boss.invite("2", "7")
	revoked := boss.invite("1", "1")
	inv, err := srv.Store.ListInvitations(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var revokedID int64
	for _, i := range inv {
		if i.MaxUses == 1 {
			revokedID = i.ID
		}
	}
	if res := boss.post("/admin/invitations/"+itoa(revokedID)+"/revoke", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	good := boss.invite("3", "3")

	t.Run("Admin", func(t *testing.T) {
		doc := boss.get("/admin", "Accept-Language", "es").doc(t)
		for _, sel := range []string{`tr[data-user="bot_q4"]`, `tr[data-user="gone_q3"][data-deactivated]`, `tr[data-state="good"]`, `tr[data-state="revoked"]`, `form.bot-room`} {
			if doc.Find(sel).Length() == 0 {
				t.Fatalf("the admin page has no %s", sel)
			}
		}
		assertTranslated(t, boss, "/admin", ignore...)
	})
	t.Run("Done", func(t *testing.T) {
		for _, q := range []string{"done=deactivated&user=gone_q3", "done=admin&user=boss_q1", "done=registration", "done=revoked&invitation=" + itoa(revokedID)} {
			en, es := boss.getBoth("/admin?" + q)
			assertPairTranslated(t, q, en, es, http.StatusOK, ".admin-done", ignore...)
		}
		if res := boss.post("/admin/bots/bot_q4/rooms", url.Values{"room": {strings.TrimPrefix(room, "/rooms/")}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("bot in a room: %d", res.StatusCode)
		}
		en, es := boss.getBoth("/admin?done=bot-room&user=bot_q4&room=" + strings.TrimPrefix(room, "/rooms/"))
		assertPairTranslated(t, "bot-room", en, es, http.StatusOK, ".admin-done", ignore...)
	})
	t.Run("Confirm", func(t *testing.T) {
		for _, p := range []string{"/admin/users/pat_q2/deactivate", "/admin/users/bot_q4/deactivate", "/admin/users/pat_q2/admin"} {
			assertTranslated(t, boss, p, ignore...)
		}
	})
	t.Run("BotCreated", func(t *testing.T) {
		en := boss.post("/admin/bots", url.Values{"name": {"bot_q5"}}, "Accept-Language", "en")
		es := boss.post("/admin/bots", url.Values{"name": {"bot_q6"}}, "Accept-Language", "es")
		tokens := []string{en.doc(t).Find("#bot-token").Text(), es.doc(t).Find("#bot-token").Text()}
		assertPairTranslated(t, "bot created", en, es, http.StatusOK, "", append(ignore, tokens...)...)
	})
	t.Run("ResetLink", func(t *testing.T) {
		en, es := boss.postBoth("/admin/users/pat_q2/reset", nil)
		links := []string{en.doc(t).Find("#reset-link").Text(), es.doc(t).Find("#reset-link").Text()}
		assertPairTranslated(t, "reset link", en, es, http.StatusOK, "", append(ignore, links...)...)
		// The page the link opens.
		_, token, _ := strings.Cut(links[1], "/reset/")
		assertTranslated(t, srv.anon(t), "/reset/"+token, ignore...)
	})
	t.Run("Profile", func(t *testing.T) {
		for _, p := range []string{"/users/pat_q2", "/users/boss_q1", "/users/gone_q3", "/users/bot_q4"} {
			assertTranslated(t, boss, p, ignore...)
		}
	})
	t.Run("Join", func(t *testing.T) {
		assertTranslated(t, srv.anon(t), "/join/"+good, ignore...)
		for _, tok := range []string{revoked, "not-a-token"} {
			assertTranslated(t, srv.anon(t), "/join/"+tok, ignore...)
		}
	})
	t.Run("Errors", func(t *testing.T) {
		roomNo := strings.TrimPrefix(room, "/rooms/")
		gets := []struct {
			c    *client
			path string
		}{
			{pat, "/admin"}, // 403: no admin
			{boss, "/admin/users/boss_q1/deactivate"}, // 409: oneself
			{boss, "/admin/users/bot_q4/admin"},       // 409: a bot
		}
		for _, g := range gets {
			assertTranslated(t, g.c, g.path, ignore...)
		}
		posts := []struct {
			c    *client
			path string
			form url.Values
			want int
		}{
			{boss, "/admin/users/bot_q4/reset", nil, http.StatusConflict},
			{boss, "/admin/bots", url.Values{"name": {"bot_q4"}}, http.StatusConflict},
			{boss, "/admin/bots", url.Values{"name": {"bot_q9"}, "webhook_url": {"ftp://127.0.0.1/x"}}, http.StatusUnprocessableEntity},
			{boss, "/admin/bots", url.Values{"name": {"bot_q9"}, "webhook_url": {"http://127.0.0.1:99999/x"}}, http.StatusUnprocessableEntity},
			{boss, "/admin/bots", url.Values{"name": {"bot_q9"}, "webhook_url": {"http://elsewhere.example/x"}}, http.StatusUnprocessableEntity},
			{boss, "/admin/bots/pat_q2/rooms", url.Values{"room": {roomNo}}, http.StatusNotFound},
			{boss, "/admin/bots/bot_q4/rooms", url.Values{"room": {"none"}}, http.StatusUnprocessableEntity},
			{boss, "/admin/registration", url.Values{"registration": {"maybe"}}, http.StatusUnprocessableEntity},
			{boss, "/admin/invitations", url.Values{"uses": {"0"}, "days": {"7"}}, http.StatusUnprocessableEntity},
			{boss, "/admin/invitations", url.Values{"uses": {"1"}, "days": {"91"}}, http.StatusUnprocessableEntity},
			{boss, "/users/boss_q1/dm", nil, http.StatusUnprocessableEntity},
			{boss, "/users/gone_q3/dm", nil, http.StatusForbidden},
		}
		for _, p := range posts {
			en, es := p.c.postBoth(p.path, p.form)
			assertPairTranslated(t, "POST "+p.path, en, es, p.want, "", append(ignore, "elsewhere.example")...)
		}
		// To htmx, a refusal is a fragment.
		en, es := pat.getBoth("/admin", "HX-Request", "true")
		assertPairTranslated(t, "htmx /admin", en, es, http.StatusForbidden, "", ignore...)
	})
}

func TestLangRoomAdmin(t *testing.T) {
	srv := newServer(t, withRoomLimit(2))
	boss := srv.register(t, "boss_q1")
	pat := srv.register(t, "pat_q2")
	lee := srv.register(t, "lee_q3")
	ignore := []string{"boss_q1", "pat_q2", "lee_q3", "Plaza_q7", "Patio_q8", "Closed_q9"}
	plaza := boss.createRoom("Plaza_q7")
	patio := pat.createRoom("Patio_q8")
	closed := pat.createRoomAccess("Closed_q9", "closed")
	for _, r := range []string{plaza, patio} {
		if res := lee.post(r+"/join", nil); res.StatusCode != http.StatusSeeOther && res.StatusCode != http.StatusOK {
			t.Fatalf("join %s: %d", r, res.StatusCode)
		}
	}

	t.Run("Manage", func(t *testing.T) {
		// An admin's view (the delete link), an open room and a closed one,
		// and a member's form to add someone.
		en, es := boss.getBoth(plaza)
		assertPairTranslated(t, plaza, en, es, http.StatusOK, "#room-manage, .add-member", ignore...)
		en, es = pat.getBoth(closed)
		assertPairTranslated(t, closed, en, es, http.StatusOK, "#room-manage, .add-member", ignore...)
		// The lobby's badges of a room.
		en, es = pat.getBoth("/")
		assertPairTranslated(t, "lobby", en, es, http.StatusOK, "[data-room-item] .badge", ignore...)
	})
	t.Run("Delete", func(t *testing.T) {
		assertTranslated(t, boss, patio+"/delete", ignore...)
	})
	t.Run("Errors", func(t *testing.T) {
		dm := pat.post("/users/lee_q3/dm", nil).Header.Get("Location")
		if dm == "" {
			t.Fatal("no direct messages")
		}
		gets := []struct {
			c    *client
			path string
		}{
			{pat, plaza + "/delete"}, // 403: not the creator
			{pat, patio + "/delete"}, // 403: the creator, no admin
		}
		for _, g := range gets {
			assertTranslated(t, g.c, g.path, ignore...)
		}
		posts := []struct {
			c    *client
			path string
			form url.Values
			want int
		}{
			{lee, plaza + "/rename", url.Values{"name": {"Mine"}}, http.StatusForbidden},
			{pat, dm + "/rename", url.Values{"name": {"Ours"}}, http.StatusForbidden},
			{pat, dm + "/members", url.Values{"username": {"boss_q1"}}, http.StatusForbidden},
			{boss, plaza + "/members", url.Values{"username": {"nobody_q0"}}, http.StatusUnprocessableEntity},
			{boss, plaza + "/members/nobody_q0/remove", nil, http.StatusNotFound},
			{boss, plaza + "/access", url.Values{"access": {"ajar"}}, http.StatusUnprocessableEntity},
			{boss, patio + "/delete", url.Values{"confirm": {"wrong"}}, http.StatusUnprocessableEntity},
		}
		for _, p := range posts {
			en, es := p.c.postBoth(p.path, p.form)
			assertPairTranslated(t, "POST "+p.path, en, es, p.want, "", append(ignore, "nobody_q0", "Mine", "Ours")...)
		}
		// A name taken: the room page again, with the error in its form.
		en, es := boss.postBoth(plaza+"/rename", url.Values{"name": {"Patio_q8"}})
		assertPairTranslated(t, "rename to a name taken", en, es, http.StatusConflict, "#room-manage", ignore...)
		// Past the limit of changes (six an hour with -room-limit 2).
		for i := 0; ; i++ {
			res := pat.post(patio+"/rename", url.Values{"name": {"Patio_" + itoa(int64(i))}})
			if res.StatusCode == http.StatusTooManyRequests {
				break
			}
			if res.StatusCode != http.StatusSeeOther || i == 10 {
				t.Fatalf("rename %d: %d", i, res.StatusCode)
			}
		}
		en, es = pat.postBoth(patio+"/rename", url.Values{"name": {"Patio_d"}})
		assertPairTranslated(t, "too many changes", en, es, http.StatusTooManyRequests, "", append(ignore, "Patio_d")...)
		// An archived room takes no new members.
		if res := boss.post(plaza+"/archive", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("archive: %d", res.StatusCode)
		}
		en, es = boss.getBoth(plaza)
		assertPairTranslated(t, "archived room", en, es, http.StatusOK, "p[data-archived], #room-manage", ignore...)
		en, es = boss.postBoth(plaza+"/members", url.Values{"username": {"pat_q2"}})
		assertPairTranslated(t, "add to an archived room", en, es, http.StatusForbidden, "", ignore...)
	})
}
