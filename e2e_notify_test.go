package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// recordNotifications stands in, on every page of the person, for the two
// things a headless browser cannot show a test: whether the tab is hidden
// (headless tabs are always visible; document.hidden and visibilityState
// read window.chatHidden instead, which the test sets) and the system's
// notifications (window.Notification records each one made, in
// window.chatNotes, and each request for the permission, in
// window.chatAsked, granting it as a user who clicks "Allow" would, for
// the site's later pages too), and the sound (window.AudioContext counts
// the tones made, in window.chatTones).
// Everything else is real: the server's choice of who is notified, the
// push, and the page's script.
func recordNotifications() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`(() => {
			window.chatHidden = false;
			Object.defineProperty(Document.prototype, "hidden", { configurable: true, get() { return window.chatHidden; } });
			Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get() { return window.chatHidden ? "hidden" : "visible"; } });
			window.chatNotes = [];
			window.chatAsked = 0;
			function Recorded(title, opts) {
				this.title = title;
				this.body = opts && opts.body;
				this.tag = opts && opts.tag;
				this.onclick = null;
				window.chatNotes.push(this);
			}
			// A permission granted lasts, for the site, as a browser's does.
			Recorded.permission = localStorage.getItem("chatGranted") ? "granted" : "default";
			Recorded.requestPermission = function () {
				window.chatAsked++;
				localStorage.setItem("chatGranted", "1");
				Recorded.permission = "granted";
				return Promise.resolve("granted");
			};
			Recorded.prototype.close = function () {};
			window.Notification = Recorded;
			// The sound: each tone the page makes is counted, none played.
			window.chatTones = 0;
			function Audio() { this.state = "running"; this.currentTime = 0; this.destination = {}; }
			Audio.prototype.resume = function () { return Promise.resolve(); };
			Audio.prototype.createOscillator = function () {
				window.chatTones++;
				return { type: "", frequency: { setValueAtTime() {} }, connect() {}, start() {}, stop() {} };
			};
			Audio.prototype.createGain = function () {
				return { gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} }, connect() {} };
			};
			window.AudioContext = Audio;
			// The notices the server pushed, counted as they land, before
			// the page's script takes them away (observers are called in
			// the order they were made).
			window.chatNotices = 0;
			new MutationObserver(records => records.forEach(r => r.addedNodes.forEach(n => {
				if (n.nodeType === 1 && n.matches("[data-notice]")) window.chatNotices++;
			}))).observe(document, { childList: true, subtree: true });
		})()`).Do(ctx)
		return err
	})
}

// Unread counts go up live in the room list and the tab's title; the
// permission is asked for on a click, never on load; a hidden page shows
// a notification for a post that matches the level chosen, which opens
// the post; and a room with posts not seen opens at the "New since you
// were here" line, not at the bottom.
func TestBrowserNotify(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	errs := &pageErrors{}
	ada := newPerson(t, "ada", errs)
	bob := newPerson(t, "bob", errs)
	bob.do(recordNotifications())
	roomURL := meetInARoom(srv.base, "Lounge", ada, bob)
	roomID := strings.TrimPrefix(roomURL, srv.base+"/rooms/")
	link := fmt.Sprintf(`document.querySelector("#room-link-%s a")`, roomID)

	// Bob waits in the lobby, having seen the room to its end.
	bob.do(chromedp.Navigate(srv.base+"/"), chromedp.WaitVisible(`#lobby-rooms`, chromedp.ByQuery), socketOpen())
	var title string
	bob.do(chromedp.Title(&title))
	if title != "Rooms · Chat" {
		t.Fatalf("title with nothing unread: %q", title)
	}
	// Loading asked for nothing; the control to ask is offered.
	var asked int
	bob.do(chromedp.Evaluate(`window.chatAsked`, &asked), chromedp.WaitVisible(`#notify-enable`, chromedp.ByQuery))
	if asked != 0 {
		t.Fatalf("the permission was asked for on load (%d)", asked)
	}

	// Ada posts thirty: the count goes up live, and the title with it.
	ada.do(chromedp.Evaluate(`(async () => {
		for (let i = 0; i < 30; i++) {
			const r = await fetch(location.pathname + "/messages", { method: "POST", body: new URLSearchParams({ text: "news " + i }) });
			if (!r.ok) throw new Error("post " + i + ": " + r.status);
		}
		return true;
	})()`, nil, awaitPromise))
	bob.do(chromedp.Poll(link+`.getAttribute("data-count") === "30" && document.title === "(30) Rooms · Chat"`, nil))
	ada.do(chromedp.Evaluate(`fetch(location.pathname + "/messages", { method: "POST", body: new URLSearchParams({ text: "@bob look" }) }).then(r => r.ok)`, nil, awaitPromise))
	bob.do(chromedp.Poll(link+`.getAttribute("data-count") === "31" && `+link+`.hasAttribute("data-mention") && document.title === "(31) Rooms · Chat"`, nil))
	shots(bob, "room-list-counts", "")

	// Ada's room page offers one control to ask, wide or narrow: the
	// sidebar's, or on a phone the room panel's.
	shown := `[...document.querySelectorAll("[data-notify-enable]")].filter(b => !b.hidden && getComputedStyle(b).display !== "none").map(b => b.id).join(" ")`
	for _, size := range []struct {
		w, h int64
		want string
	}{{1280, 800, "notify-enable"}, {390, 844, "notify-enable-room"}} {
		var got string
		ada.do(chromedp.EmulateViewport(size.w, size.h), nextFrame(), chromedp.Evaluate(shown, &got))
		if got != size.want {
			t.Errorf("at %d px wide the room page shows the controls %q, want %q", size.w, got, size.want)
		}
	}
	ada.do(chromedp.EmulateViewport(1280, 800), nextFrame())

	// The permission, on a click.
	bob.do(chromedp.Click(`#notify-enable`, chromedp.ByQuery), chromedp.Poll(`window.chatAsked === 1`, nil),
		chromedp.WaitNotVisible(`#notify-enable`, chromedp.ByQuery))

	// The sound, on the account page.
	bob.do(chromedp.Navigate(srv.base+"/account/password"), chromedp.Click(`form[action="/account/sound"] input[name=sound]`, chromedp.ByQuery),
		chromedp.Click(`form[action="/account/sound"] button`, chromedp.ByQuery), chromedp.WaitVisible(`body[data-sound] #sound`, chromedp.ByQuery))

	// The room opens at the line, above ada's first post, not at the
	// bottom, and stays there once the page has settled.
	bob.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#new-since`, chromedp.ByQuery), socketOpen(), nextFrame(), nextFrame())
	var at struct {
		Next     string  `json:"next"`
		Offset   float64 `json:"offset"`
		ToBottom float64 `json:"toBottom"`
	}
	where := chromedp.Evaluate(`(() => {
		const sc = document.getElementById("scroller"), line = document.getElementById("new-since");
		let next = line.nextElementSibling;
		while (next && !next.id.startsWith("msg-")) next = next.nextElementSibling;
		return { next: next.querySelector(".text").textContent,
			offset: line.getBoundingClientRect().top - sc.getBoundingClientRect().top,
			toBottom: sc.scrollHeight - sc.scrollTop - sc.clientHeight };
	})()`, &at)
	bob.do(where)
	if at.Next != "news 0" || at.Offset < -2 || at.Offset > 40 || at.ToBottom < 200 {
		t.Errorf("the room opened with the line above %q, %.0f px from the top, %.0f px above the bottom", at.Next, at.Offset, at.ToBottom)
	}
	bob.do(chromedp.Poll(`document.title === "Lounge · Chat"`, nil))
	shots(bob, "new-since", "")

	// Every message, set with the form in the room's panel.
	bob.do(chromedp.Click(`#notify-form input[value=all]`, chromedp.ByQuery),
		chromedp.Click(`#notify-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#notify-form[data-level=all] .notice`, chromedp.ByQuery))
	shots(bob, "notify-form", "#room-panel")

	// Visible: a post notifies no one. Hidden: it does, and the
	// notification opens the post.
	post := func(text string) {
		ada.do(chromedp.Evaluate(fmt.Sprintf(`fetch(location.pathname + "/messages", { method: "POST", body: new URLSearchParams({ text: %q }) }).then(r => r.ok)`, text), nil, awaitPromise))
	}
	post("while you look")
	// Its notice landed (level all), while the page was visible.
	bob.do(chromedp.WaitVisible(`//p[text()="while you look"]`, chromedp.BySearch), chromedp.Poll(`window.chatNotices === 1`, nil),
		chromedp.Evaluate(`window.chatHidden = true`, nil))
	post("while you are away")
	bob.do(chromedp.Poll(`window.chatNotes.length >= 1`, nil))
	var notes []struct{ Title, Body, Tag string }
	bob.do(chromedp.Evaluate(`window.chatNotes.map(n => ({ Title: n.title, Body: n.body, Tag: n.tag }))`, &notes))
	if len(notes) != 1 || notes[0].Title != "ada in Lounge" || notes[0].Body != "while you are away" {
		t.Fatalf("notifications %+v, want the one posted while hidden", notes)
	}
	// With it, the chime's two tones (the clicks on the form let the page
	// make sound); none for the post seen while visible.
	var tones int
	bob.do(chromedp.Evaluate(`window.chatTones`, &tones))
	if tones != 2 {
		t.Errorf("%d tones, want the chime's 2", tones)
	}
	bob.do(chromedp.Evaluate(`window.chatNotes[0].onclick(), true`, nil),
		chromedp.WaitVisible(`#messages [data-highlight]`, chromedp.ByQuery))
	var loc, highlighted string
	bob.do(chromedp.Location(&loc), chromedp.Text(`#messages [data-highlight] .text`, &highlighted, chromedp.ByQuery))
	if !strings.Contains(loc, "/rooms/"+roomID+"/at/") || highlighted != "while you are away" || "chat-"+strings.TrimPrefix(loc[strings.LastIndex(loc, "/"):], "/") != notes[0].Tag {
		t.Errorf("the notification opened %q (%q), tag %q", loc, highlighted, notes[0].Tag)
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %v", e)
	}
}

// shotViewport is shot, of what the viewport shows.
func (p *person) shotViewport(name string) {
	dir := os.Getenv("CHAT_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// shots takes the page at 1280×900 and 390×844, light and dark, when
// CHAT_SCREENSHOTS is set; hash, if any, is set first at each size (a
// panel a phone opens by its link), and the new-since line is brought
// into view again.
func shots(p *person, name, hash string) {
	for _, size := range []struct {
		w, h int64
		name string
	}{{1280, 900, "wide"}, {390, 844, "phone"}} {
		for _, dark := range []bool{false, true} {
			scheme := "light"
			var media chromedp.Action = emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}})
			if dark {
				scheme, media = "dark", emulateDark()
			}
			p.do(chromedp.EmulateViewport(size.w, size.h), media, nextFrame())
			if hash != "" {
				p.do(chromedp.Evaluate(fmt.Sprintf(`location.hash = %q; true`, hash), nil), nextFrame())
			}
			p.do(chromedp.Evaluate(`(() => { const l = document.getElementById("new-since"); if (l) l.scrollIntoView({ block: "start" }); return true; })()`, nil), nextFrame())
			p.shotViewport(fmt.Sprintf("%s-%s-%s", name, size.name, scheme))
		}
	}
	p.do(chromedp.EmulateViewport(1280, 800), emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}), nextFrame())
	if hash != "" {
		p.do(chromedp.Evaluate(`history.replaceState(null, "", location.pathname); true`, nil))
	}
}
