package main

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// On a phone (390 × 844): no page is wider than the screen, the account
// and sign-out are in reach, the conversation has at least 70 % of the
// height, and the people and the room's settings open as a panel.
func TestBrowserPhone(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	errs := &pageErrors{}
	ada := newPerson(t, "ada", errs)
	ada.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateTouch))
	roomURL := meetInARoom(srv.base, "A room with a rather long name", ada)
	room := strings.TrimPrefix(roomURL, srv.base)
	// Posts, one with a long link and one with a wide code block.
	ada.do(chromedp.Evaluate(fmt.Sprintf(`(async () => {
		for (let i = 0; i < 12; i++) {
			let text = "hello number " + i + ", a line long enough to wrap on a phone";
			if (i === 3) text = "see https://example.com/" + "a-very-long-path-segment/".repeat(6);
			if (i === 5) text = "`+"```"+`\n" + "x".repeat(200) + "\n`+"```"+`";
			const r = await fetch(%q, {method: "POST", body: new URLSearchParams({text}), headers: {"HX-Request": "true"}});
			if (!r.ok) throw new Error("post " + i + ": " + r.status);
		}
		return true;
	})()`, roomURL+"/messages"), nil, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	// Others in the admin's table, and an invitation in hers.
	for _, name := range []string{"bob", "a_rather_long_username"} {
		req, _ := http.NewRequest(http.MethodPost, srv.base+"/register", strings.NewReader(url.Values{"username": {name}, "password": {"correct horse battery"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", srv.base)
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil || res.StatusCode != http.StatusSeeOther {
			t.Fatalf("register %s: %v %v", name, res, err)
		}
		res.Body.Close()
	}
	ada.do(chromedp.Evaluate(`fetch("/admin/invitations", {method: "POST", body: new URLSearchParams({uses: "5", days: "7"})}).then(r => r.ok)`, nil, awaitPromise))
	var wide struct {
		Page   string
		Scroll int
		Inner  int
	}
	for _, path := range []string{"/", room, room + "/at/1", "/search?q=hello", "/users/ada", "/account/password", "/admin"} {
		ada.do(chromedp.Navigate(srv.base+path), chromedp.WaitReady("body", chromedp.ByQuery), nextFrame(),
			chromedp.Evaluate(`({Page: location.pathname + location.search, Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`, &wide))
		if wide.Scroll > wide.Inner {
			t.Errorf("%s is %d px wide on a %d px screen", wide.Page, wide.Scroll, wide.Inner)
		}
		// Nor does anything scroll sideways inside the page, but what is
		// made to: a code block, and the row of rooms.
		var sideways []string
		ada.do(chromedp.Evaluate(`[...document.querySelectorAll("body *")].filter(e => {
			const o = getComputedStyle(e).overflowX;
			return (o === "auto" || o === "scroll" || o === "hidden") && e.clientWidth > 1 && e.scrollWidth > e.clientWidth + 1 &&
				getComputedStyle(e).textOverflow !== "ellipsis" && !e.matches(".code-block, .code-block *, .sidebar, .sidebar ul");
		}).map(e => e.tagName.toLowerCase() + "." + e.className + " " + e.scrollWidth + ">" + e.clientWidth)`, &sideways))
		if len(sideways) > 0 {
			t.Errorf("%s: parts wider than their box: %v", path, sideways)
		}
		var reach bool
		ada.do(chromedp.Evaluate(`[".whoami-name", "form[action='/logout'] button"].every(s => { const e = document.querySelector(s); const r = e && e.getBoundingClientRect(); return r && r.width > 0 && r.right <= innerWidth && r.bottom > 0; })`, &reach))
		if !reach {
			t.Errorf("%s: the account link or sign-out is out of reach", path)
		}
		ada.shot("phone-" + strings.NewReplacer("/", "-", "?", "-", "=", "-").Replace(strings.Trim(path, "/")))
	}
	ada.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery), nextFrame())
	var share float64
	ada.do(chromedp.Evaluate(`document.getElementById("scroller").getBoundingClientRect().height / innerHeight`, &share))
	ada.shot("phone-room")
	if share < 0.70 {
		t.Errorf("the conversation has %.0f %% of the screen, want at least 70 %%", share*100)
	}
	// A draft of several lines grows the field; the newest entry stays in
	// view.
	var gap float64
	// The room opened at its newest entry.
	ada.do(chromedp.Poll(`(() => { const s = document.getElementById("scroller"); return s.scrollHeight - s.scrollTop - s.clientHeight < 5 })()`, nil),
		chromedp.Evaluate(`(() => { const a = document.querySelector("#compose textarea"); a.value = "one\ntwo\nthree\nfour\nfive"; a.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, nil),
		nextFrame(),
		chromedp.Evaluate(`(() => { const s = document.getElementById("scroller"); return s.scrollHeight - s.scrollTop - s.clientHeight })()`, &gap))
	if gap > 5 {
		t.Errorf("with the field grown, the newest entry is %.0f px below the view", gap)
	}
	ada.do(chromedp.Evaluate(`(() => { const a = document.querySelector("#compose textarea"); a.value = ""; a.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, nil))
	ada.do(chromedp.Click(`.panel-open`, chromedp.ByQuery), chromedp.WaitVisible(`#room-panel #members`, chromedp.ByQuery),
		chromedp.WaitVisible(`#room-panel form[action$="/rename"]`, chromedp.ByQuery))
	ada.shot("phone-room-panel")
	ada.do(chromedp.Click(`#room-panel .panel-close`, chromedp.ByQuery), chromedp.WaitNotVisible(`#room-panel`, chromedp.ByQuery))
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %v", e)
	}
}
