package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"chat/internal/axe"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// a11yPage is one page the accessibility test opens and checks: who opens
// it and how (a navigation, or a form submitted, for a page that answers
// a POST). Pages added later go in the table of TestBrowserAccessibility.
type a11yPage struct {
	name string
	who  *person
	// open gets there; it is called once per look (size and theme).
	open func() []chromedp.Action
}

// look is a size and a colour scheme a page is checked in.
type look struct {
	name          string
	width, height int64
	phone, dark   bool
}

var (
	lookDesktop     = look{name: "1280", width: 1280, height: 900}
	lookDesktopDark = look{name: "1280-dark", width: 1280, height: 900, dark: true}
	lookPhone       = look{name: "390", width: 390, height: 844}
	lookPhoneDark   = look{name: "390-dark", width: 390, height: 844, phone: true, dark: true}
)

func (l look) apply() chromedp.Action {
	scheme := "light"
	if l.dark {
		scheme = "dark"
	}
	var opts []chromedp.EmulateViewportOption
	if l.phone {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch)
	}
	return chromedp.Tasks{
		chromedp.EmulateViewport(l.width, l.height, opts...),
		emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}),
	}
}

func visit(base, path string) func() []chromedp.Action {
	return func() []chromedp.Action { return []chromedp.Action{chromedp.Navigate(base + path)} }
}

var msgIDRE = regexp.MustCompile(`<li id="msg-(\d+)"[^>]*data-author="([^"]+)"`)

// entryIDs answers the ids of a room page's entries by an author, in order.
func entryIDs(t *testing.T, body, author string) []string {
	var ids []string
	for _, m := range msgIDRE.FindAllStringSubmatch(body, -1) {
		if m[2] == author {
			ids = append(ids, m[1])
		}
	}
	if len(ids) == 0 {
		t.Fatalf("no entries by %s", author)
	}
	return ids
}

// Every page passes axe-core's checks for WCAG 2.0, 2.1 and 2.2 at A and
// AA, and its best practices: in a light and a dark scheme, on a desktop
// (1280 × 900) and on a phone (390 × 844). Any violation fails the
// test, with the rule, the elements and what is wrong with them.
func TestBrowserAccessibility(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0", "-webhook-allow", "127.0.0.1")
	base := srv.base
	errs := &pageErrors{}
	visitor := newPerson(t, "visitor", errs)
	alice := newPerson(t, "alice", errs)
	alice.register(base) // the first account: an admin

	// Bob and Alice talk over plain HTTP: a short room with a mention of
	// Alice, and a busy one of 200 entries, in runs by each (grouped), some
	// edited.
	aliceHTTP, bob := browser(t), browser(t)
	postForm(t, aliceHTTP, base+"/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
	postForm(t, bob, base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	// Dave's account is deactivated: the admin page shows it apart.
	postForm(t, browser(t), base+"/register", url.Values{"username": {"dave"}, "password": {"password-dave"}})
	postForm(t, aliceHTTP, base+"/admin/users/dave/deactivate", nil)
	short := postForm(t, aliceHTTP, base+"/rooms", url.Values{"name": {"Short"}}).Request.URL.String()
	postForm(t, bob, short+"/join", nil)
	for _, p := range []struct {
		c    *http.Client
		text string
	}{
		{aliceHTTP, "Good morning, everyone."},
		{aliceHTTP, "The minutes are at https://example.com/minutes and `make test` passes."},
		{bob, "Morning! @alice, could you look at the *release notes*?"},
		{bob, "> quoted from yesterday\nand an answer"},
		{aliceHTTP, "On it."},
	} {
		postForm(t, p.c, short+"/messages", url.Values{"text": {p.text}})
	}
	_, body := getBody(t, aliceHTTP, short)
	aliceIDs, bobIDs := entryIDs(t, body, "alice"), entryIDs(t, body, "bob")
	// Alice's second post and Bob's last are edited.
	postForm(t, aliceHTTP, base+"/messages/"+aliceIDs[2]+"/edit", url.Values{"text": {"The minutes are at https://example.com/minutes (edited)."}})
	postForm(t, bob, base+"/messages/"+bobIDs[len(bobIDs)-1]+"/edit", url.Values{"text": {"> quoted from yesterday\nand a better answer"}})
	postForm(t, bob, base+"/messages/"+aliceIDs[1]+"/boosts", url.Values{"emoji": {"👍"}})

	busy := postForm(t, bob, base+"/rooms", url.Values{"name": {"Busy"}}).Request.URL.String()
	postForm(t, aliceHTTP, busy+"/join", nil)
	for i := range 198 {
		c, who := bob, "bob"
		if i/6%2 == 1 {
			c, who = aliceHTTP, "alice"
		}
		text := fmt.Sprintf("entry number %d from %s", i, who)
		if i%25 == 7 {
			text = "@alice " + text
		}
		postForm(t, c, busy+"/messages", url.Values{"text": {text}})
	}
	_, body = getBody(t, aliceHTTP, busy)
	busyAlice, busyBob := entryIDs(t, body, "alice"), entryIDs(t, body, "bob")
	postForm(t, aliceHTTP, base+"/messages/"+busyAlice[len(busyAlice)-2]+"/edit", url.Values{"text": {"an edited entry of alice's"}})
	postForm(t, bob, base+"/messages/"+busyBob[len(busyBob)-2]+"/edit", url.Values{"text": {"an edited entry of bob's"}})
	closed := postForm(t, aliceHTTP, base+"/rooms", url.Values{"name": {"Quiet corner"}, "access": {"closed"}}).Request.URL.String()
	// A room Alice has read, where Bob writes on: the room list counts
	// it, with a mention, and the room opens at the line of what is new.
	since := postForm(t, aliceHTTP, base+"/rooms", url.Values{"name": {"Since"}}).Request.URL.String()
	postForm(t, bob, since+"/join", nil)
	postForm(t, bob, since+"/messages", url.Values{"text": {"yesterday's news"}})
	getBody(t, aliceHTTP, since)
	postForm(t, bob, since+"/messages", url.Values{"text": {"@alice today's news"}})
	sinceNews := 0
	roomPath := func(u string) string { return strings.TrimPrefix(u, base) }

	// A reset link for Bob and an invitation, for the pages a visitor opens
	// with them.
	secret := func(path, id string) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader("uses=5&days=7"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := aliceHTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		m := regexp.MustCompile(`id="` + id + `"[^>]*>([^<]+)<`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("POST %s: %d, no #%s", path, res.StatusCode, id)
		}
		return string(m[1])
	}
	inviteLink, resetLink := secret("/admin/invitations", "invite-link"), secret("/admin/users/bob/reset", "reset-link")
	bots := 0
	// loadAll puts a room's whole history on its page: the fragments
	// scrolling back loads, fetched and prepended the same way, to its
	// start (TestBrowserReadingPosition scrolls for them).
	loadAll := chromedp.Tasks{
		chromedp.WaitVisible(`#messages`, chromedp.ByQuery),
		chromedp.Evaluate(`(async () => {
			const list = document.getElementById("messages");
			for (;;) {
				const first = list.querySelector(":scope > [id^=msg-]").id.slice(4);
				const res = await fetch(location.pathname + "/messages?before=" + first, {headers: {"HX-Request": "true"}});
				if (!res.ok) throw new Error("history: " + res.status);
				list.insertAdjacentHTML("afterbegin", await res.text());
				if (res.headers.get("X-History-End") === "true") return true;
			}
		})()`, nil, awaitPromise),
		chromedp.Poll(`document.querySelectorAll("#messages > [id^=msg-]").length >= 200`, nil),
		nextFrame(),
	}

	pages := []a11yPage{
		{name: "login", who: visitor, open: visit(base, "/login")},
		{name: "register", who: visitor, open: visit(base, "/register")},
		{name: "join", who: visitor, open: visit(base, strings.TrimPrefix(inviteLink, base))},
		{name: "reset", who: visitor, open: visit(base, strings.TrimPrefix(resetLink, base))},
		{name: "lobby", who: alice, open: visit(base, "/")},
		{name: "room-short", who: alice, open: visit(base, roomPath(short))},
		{name: "room-200", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(busy), loadAll}
		}},
		{name: "room-panel", who: alice, open: visit(base, roomPath(short)+"#room-panel")},
		{name: "room-new-since", who: alice, open: func() []chromedp.Action {
			// Something new each time the room is opened, posted while
			// alice is elsewhere: on the room's page her socket would take
			// it live, and she would have seen it.
			return []chromedp.Action{chromedp.Navigate(base + "/"), chromedp.WaitVisible(`#room-list`, chromedp.ByQuery),
				chromedp.ActionFunc(func(context.Context) error {
					sinceNews++
					postForm(t, bob, since+"/messages", url.Values{"text": {fmt.Sprintf("more news, %d", sinceNews)}})
					return nil
				}),
				chromedp.Navigate(since), chromedp.WaitVisible(`#new-since`, chromedp.ByQuery)}
		}},
		{name: "switch-page", who: alice, open: visit(base, "/switch?q=s")},
		{name: "switcher-dialog", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(base + "/"), chromedp.WaitVisible(`#room-list`, chromedp.ByQuery),
				press("k", input.ModifierCtrl), chromedp.WaitVisible(`#switcher-results .switch-item`, chromedp.ByQuery)}
		}},
		{name: "room-closed", who: alice, open: visit(base, roomPath(closed))},
		{name: "room-delete", who: alice, open: visit(base, roomPath(closed)+"/delete")},
		{name: "permalink", who: alice, open: visit(base, roomPath(busy)+"/at/"+busyBob[10])},
		{name: "search", who: alice, open: visit(base, "/search?q=entry")},
		{name: "search-empty", who: alice, open: visit(base, "/search")},
		{name: "profile", who: alice, open: visit(base, "/users/bob")},
		{name: "profile-own", who: alice, open: visit(base, "/users/alice")},
		{name: "dm", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(base + "/users/bob"),
				chromedp.Submit(`form[action="/users/bob/dm"] button`, chromedp.ByQuery),
				chromedp.WaitVisible(`h1.dm-title`, chromedp.ByQuery)}
		}},
		{name: "account", who: alice, open: visit(base, "/account/password")},
		{name: "admin", who: alice, open: visit(base, "/admin")},
		{name: "admin-invitation", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(base + "/admin"),
				chromedp.Submit(`form[action="/admin/invitations"] button`, chromedp.ByQuery),
				chromedp.WaitVisible(`#invite-link`, chromedp.ByQuery)}
		}},
		{name: "admin-bot", who: alice, open: func() []chromedp.Action {
			bots++
			return []chromedp.Action{chromedp.Navigate(base + "/admin"),
				chromedp.SendKeys(`input[name=name][pattern]`, fmt.Sprintf("helper%d", bots), chromedp.ByQuery),
				chromedp.Submit(`input[name=name][pattern]`, chromedp.ByQuery),
				chromedp.WaitVisible(`#bot-token`, chromedp.ByQuery),
				chromedp.Click(`button[data-copy]`, chromedp.ByQuery),
				chromedp.Poll(`document.querySelector(".copy-status").textContent !== ""`, nil)}
		}},
		{name: "admin-reset-link", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(base + "/admin"),
				chromedp.Submit(`form[action="/admin/users/bob/reset"] button`, chromedp.ByQuery),
				chromedp.WaitVisible(`#reset-link`, chromedp.ByQuery)}
		}},
		{name: "admin-confirm-deactivate", who: alice, open: visit(base, "/admin/users/bob/deactivate")},
		{name: "admin-confirm-admin", who: alice, open: visit(base, "/admin/users/bob/admin")},
		{name: "admin-dialog", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(base + "/admin"),
				chromedp.Click(`a[data-action="/admin/users/bob/deactivate"]`, chromedp.ByQuery),
				chromedp.WaitVisible(`#confirm-dialog[open]`, chromedp.ByQuery)}
		}},
		{name: "admin-done", who: alice, open: func() []chromedp.Action {
			return []chromedp.Action{chromedp.Navigate(base + "/admin"),
				chromedp.Click(`form[action="/admin/registration"] button`, chromedp.ByQuery),
				chromedp.WaitVisible(`.admin-done`, chromedp.ByQuery)}
		}},
		{name: "edit", who: alice, open: visit(base, "/messages/"+aliceIDs[1]+"/edit")},
		{name: "react", who: alice, open: visit(base, "/messages/"+bobIDs[0]+"/react")},
		{name: "not-found", who: alice, open: visit(base, "/no/such/page")},
		{name: "not-found-room", who: alice, open: visit(base, "/rooms/999999")},
	}

	// "edited" on a grouped post follows its text, on its line: not alone
	// on a line above it.
	var apart []string
	alice.do(lookDesktop.apply(), chromedp.Navigate(short), chromedp.WaitVisible(`#messages [data-cont][data-edited] .edited`, chromedp.ByQuery),
		nextFrame(), chromedp.Evaluate(`[...document.querySelectorAll("#messages [data-cont][data-edited]")].filter(e => {
			const t = e.querySelector(".text").getBoundingClientRect(), d = e.querySelector(".edited").getBoundingClientRect();
			return d.top < t.top || d.bottom > t.bottom + 2;
		}).map(e => e.id)`, &apart))
	if len(apart) > 0 {
		t.Errorf("grouped posts whose \"edited\" stands apart from the text: %v", apart)
	}

	failed, checked := 0, 0
	only := os.Getenv("CHAT_A11Y_PAGES") // a comma-separated list of names, to check a few while working
	for _, p := range pages {
		if only != "" && !slices.Contains(strings.Split(only, ","), p.name) {
			continue
		}
		for _, l := range []look{lookDesktop, lookDesktopDark, lookPhone, lookPhoneDark} {
			var found []axe.Violation
			p.who.do(l.apply())
			p.who.do(p.open()...)
			p.who.do(chromedp.WaitReady(`body`, chromedp.ByQuery), nextFrame())
			p.who.shot("a11y-" + p.name + "-" + l.name)
			p.who.do(axe.Run(axe.Options{}, &found))
			checked++
			if len(found) > 0 {
				failed++
				t.Errorf("%s at %s: %d rules broken:\n%s", p.name, l.name, len(found), axe.Report(found))
			}
		}
	}
	t.Logf("axe %s: %d looks checked, %d with violations", axe.Version, checked, failed)
}
