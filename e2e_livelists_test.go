package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chat/internal/testutil"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// roomListsNow reads a page's lists of rooms (the room list's three, and
// the lobby's two) as they show now, and as a fresh GET of the same page
// shows them: each item in a canonical form (attributes sorted, htmx's
// passing classes left out), one list a line.
const roomListsNow = `(async () => {
	const canon = (n) => {
		if (n.nodeType === 3) return n.textContent.replace(/\s+/g, " ");
		if (n.nodeType !== 1) return "";
		const attrs = Array.from(n.attributes).map((a) => {
			let v = a.value;
			if (a.name === "class") v = v.split(/\s+/).filter((c) => c && !c.startsWith("htmx-")).sort().join(" ");
			return a.name + "=" + JSON.stringify(v);
		}).sort();
		return "<" + n.tagName.toLowerCase() + " " + attrs.join(" ") + ">" + Array.from(n.childNodes).map(canon).join("") + "</>";
	};
	const lists = (doc) => ["room-list", "archived-list", "dm-list", "lobby-rooms", "lobby-archived"].map((id) => {
		const ul = doc.getElementById(id);
		return id + ": " + (ul ? Array.from(ul.children).map(canon).join(" | ") : "(none)");
	}).join("\n");
	const res = await fetch(location.href, { credentials: "same-origin" });
	const fresh = new DOMParser().parseFromString(await res.text(), "text/html");
	return JSON.stringify([lists(document), lists(fresh)]);
})()`

// listsAsReload waits until the page's lists of rooms equal a reload's.
func (p *person) listsAsReload(when string) {
	p.t.Helper()
	var live, reload string
	same := func() bool {
		var pair string
		p.do(chromedp.Evaluate(roomListsNow, &pair, func(e *runtime.EvaluateParams) *runtime.EvaluateParams {
			return e.WithAwaitPromise(true)
		}))
		var both [2]string
		if err := json.Unmarshal([]byte(pair), &both); err != nil {
			p.t.Fatalf("lists %q: %v", pair, err)
		}
		live, reload = both[0], both[1]
		return live == reload
	}
	if !testutil.Within(10*time.Second, same) {
		p.t.Errorf("%s, %s: the live lists\n%s\ndiffer from a reload's\n%s", p.name, when, live, reload)
	}
}

// tab opens another tab of the person's browser, with the same cookies.
func (p *person) tab(name string, errs *pageErrors) *person {
	ctx, cancel := chromedp.NewContext(p.ctx)
	p.t.Cleanup(cancel)
	errs.listen(ctx, name)
	if err := chromedp.Run(ctx, log.Enable(), countSockets()); err != nil {
		p.t.Fatal(err)
	}
	return &person{t: p.t, name: name, ctx: ctx}
}

// Live lists in two browsers: bob keeps his lobby and a room page open
// while alice makes a room, opens direct messages with him and writes,
// renames the room, closes and opens it, archives it and brings it back,
// makes a closed room, and deletes the first. Each change shows on both
// of bob's pages without a reload, exactly as a reload would show them,
// and no page reports an error (htmx's oobErrorNoTarget included).
func TestBrowserLiveLists(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"))
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)
	alice.register(base) // the first account: an admin, who may delete

	bob.register(base)
	bobsRoom := bob.tab("bob's room page", errs)
	bobsRoom.do(chromedp.Navigate(base+"/"),
		chromedp.SendKeys(`input[name=name]`, "Hall", chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		socketOpen(),
	)
	bob.do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(`#lobby-rooms a`, chromedp.ByQuery), socketOpen())
	bob.shot("livelists-1-before")
	bobs := []*person{bob, bobsRoom}

	// A room made: in both of bob's pages, the lobby's list too.
	var roomURL string
	alice.do(chromedp.Navigate(base+"/"),
		chromedp.SendKeys(`input[name=name]`, "Plans", chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		chromedp.Location(&roomURL),
	)
	path := strings.TrimPrefix(roomURL, base)
	link := `#room-list a[href="` + path + `"]`
	bob.do(chromedp.WaitVisible(`#lobby-rooms a[href="`+path+`"]`, chromedp.ByQuery), chromedp.WaitVisible(link, chromedp.ByQuery))
	bobsRoom.do(chromedp.WaitVisible(link, chromedp.ByQuery))
	for _, p := range bobs {
		p.listsAsReload("a room made")
	}

	// Direct messages opened, and a post in them: they appear, unread.
	alice.do(chromedp.Navigate(base+"/users/bob"),
		chromedp.Submit(`form[action="/users/bob/dm"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.WaitVisible(`#dm-list a[data-dm]`, chromedp.ByQuery))
		p.listsAsReload("direct messages opened")
	}
	alice.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery))
	var dm string
	alice.do(chromedp.AttributeValue(`#dm-list a[data-dm]`, "href", &dm, nil, chromedp.ByQuery))
	alice.do(chromedp.Navigate(base+dm), chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery), socketOpen(),
		chromedp.SendKeys(`#compose textarea`, "hi bob\n", chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-kind=post]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.WaitVisible(`#dm-list a[data-dm][data-unread]`, chromedp.ByQuery))
		p.listsAsReload("a direct message written")
	}
	bob.shot("livelists-2-room-and-dm")
	bobsRoom.shot("livelists-2-room-page")

	// Renamed: the new name, in its place in the order.
	alice.do(chromedp.Navigate(roomURL),
		chromedp.SetValue(`#room-manage input[name=name]`, "Agenda", chromedp.ByQuery),
		chromedp.Submit(`#room-manage input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-kind="rename"]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.Poll(`document.querySelector('`+link+`').textContent.trim() === "Agenda"`, nil))
		p.listsAsReload("a room renamed")
	}

	// Closed: gone from bob's lists, who is no member; opened: back.
	alice.do(chromedp.Click(`#room-manage form[action$="/access"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`main[data-closed]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.Poll(`document.querySelectorAll('a[href="`+path+`"]').length === 0`, nil))
		p.listsAsReload("a room closed")
	}
	alice.do(chromedp.Click(`#room-manage form[action$="/access"] button`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`main[data-closed]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.WaitVisible(link, chromedp.ByQuery))
		p.listsAsReload("a room opened")
	}

	// Archived: moved to the archived lists; brought back: moved back.
	alice.do(chromedp.Click(`#room-manage form[action$="/archive"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`main[data-archived]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.WaitVisible(`#archived-list a[href="`+path+`"]`, chromedp.ByQuery))
		p.listsAsReload("a room archived")
	}
	bob.do(chromedp.WaitVisible(`#lobby-archived a[href="`+path+`"]`, chromedp.ByQuery))
	bob.shot("livelists-3-archived")
	alice.do(chromedp.Click(`#room-manage form[action$="/unarchive"] button`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`main[data-archived]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.WaitVisible(link, chromedp.ByQuery))
		p.listsAsReload("a room brought back")
	}

	// A closed room made: nothing of it reaches bob; then the first room
	// deleted: gone from his pages.
	alice.do(chromedp.Navigate(base+"/"),
		chromedp.SendKeys(`input[name=name]`, "Secret Cabal", chromedp.ByQuery),
		chromedp.SetValue(`select[name=access]`, "closed", chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
	)
	alice.do(chromedp.Navigate(roomURL+"/delete"),
		chromedp.Click(`form[action$="/delete"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/rooms"]`, chromedp.ByQuery),
	)
	for _, p := range bobs {
		p.do(chromedp.Poll(`document.querySelectorAll('a[href="`+path+`"]').length === 0`, nil))
		p.listsAsReload("a room deleted")
		var html string
		p.do(chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		if strings.Contains(html, "Secret Cabal") {
			t.Errorf("%s shows the closed room", p.name)
		}
	}
	bob.shot("livelists-4-after")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}
