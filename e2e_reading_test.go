package main

import (
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Loading older entries keeps the reader where they were: the entry at the
// top of the view before the load is at the same place on the screen after
// it, grouped posts and day dividers included. And a screen reader hears
// what arrives live, not what history loads: the list itself is no live
// region; a polite status region gets a short line for each new entry by
// someone else.
func TestBrowserReadingPosition(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}
	bob := browser(t)
	postForm(t, bob, base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	roomURL := postForm(t, bob, base+"/rooms", url.Values{"name": {"history"}}).Request.URL.String()
	// Runs of posts by one author, so that most are grouped.
	for i := range 160 {
		postForm(t, bob, roomURL+"/messages", url.Values{"text": {fmt.Sprintf("entry number %d", i)}})
	}
	alice := newPerson(t, "alice", errs)
	alice.register(base)
	alice.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#messages`, chromedp.ByQuery), socketOpen(),
		chromedp.Poll(`(() => { const s = document.getElementById("scroller"); return s.scrollHeight - s.scrollTop - s.clientHeight < 5 })()`, nil))

	// No part of the conversation is a live region.
	var live int
	alice.do(chromedp.Evaluate(`document.querySelectorAll("#messages[aria-live], #messages [aria-live], [aria-live]:has(#messages), [role=status]:has(#messages), [role=log]:has(#messages)").length`, &live))
	if live != 0 {
		t.Errorf("%d live regions hold the conversation", live)
	}

	// Scrolled to the top, the first entry held is the reference; its place
	// on the screen is taken in the same turn, before anything loads.
	for round := range 2 {
		var ref struct {
			ID  string
			Top float64
		}
		alice.do(chromedp.Evaluate(`(() => {
			const s = document.getElementById("scroller");
			s.scrollTop = 0;
			const e = document.querySelector("#messages > [id^=msg-]");
			return {ID: e.id, Top: e.getBoundingClientRect().top};
		})()`, &ref))
		want := 50 * (round + 2)
		alice.do(chromedp.Poll(fmt.Sprintf(`document.querySelectorAll("#messages > [id^=msg-]").length >= %d`, want), nil),
			nextFrame(), nextFrame())
		var top float64
		alice.do(chromedp.Evaluate(fmt.Sprintf(`document.getElementById(%q).getBoundingClientRect().top`, ref.ID), &top))
		if d := math.Abs(top - ref.Top); d > 3 {
			t.Errorf("load %d: %s moved %.0f px on the screen (from %.0f to %.0f)", round+1, ref.ID, top-ref.Top, ref.Top, top)
		}
	}
	var said string
	alice.do(chromedp.Text(`#announce`, &said, chromedp.ByQuery, chromedp.NodeReady))
	if said != "" {
		t.Errorf("loading history announced %q", said)
	}

	// A new entry by Bob is announced, briefly; Alice's own is not.
	postForm(t, bob, roomURL+"/messages", url.Values{"text": {"a new one, live"}})
	alice.do(chromedp.Poll(`document.getElementById("announce").textContent.includes("bob: a new one, live")`, nil))
	alice.do(chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery), chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery), socketOpen(),
		chromedp.SendKeys(`#compose textarea`, "my own answer", chromedp.ByQuery), pressEnter(false),
		chromedp.WaitVisible(`//p[text()="my own answer"]`, chromedp.BySearch))
	postForm(t, bob, roomURL+"/messages", url.Values{"text": {"the marker"}})
	alice.do(chromedp.Poll(`document.getElementById("announce").textContent.includes("bob: the marker")`, nil),
		chromedp.Text(`#announce`, &said, chromedp.ByQuery))
	if !strings.Contains(said, "bob: the marker") {
		t.Errorf("announced %q", said)
	}
	if strings.Contains(said, "my own answer") {
		t.Errorf("her own post was announced to her: %q", said)
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}
