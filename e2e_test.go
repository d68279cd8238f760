package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/internal/testutil"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath finds Debian's Chromium. CI installs it; elsewhere the
// browser test is skipped without it.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed; .ci/run installs it")
	}
	t.Skip("chromium is not installed")
	return ""
}

// pageErrors collects what a page reports as an error: exceptions, console
// errors, and the browser's own (a refused Content-Security-Policy, say).
type pageErrors struct {
	mu   sync.Mutex
	errs []string
}

func (p *pageErrors) listen(ctx context.Context, who string) {
	chromedp.ListenTarget(ctx, func(ev any) {
		var msg string
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			msg = e.ExceptionDetails.Error()
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				msg = fmt.Sprint(e.Args)
			}
		case *log.EventEntryAdded:
			if e.Entry.Level == log.LevelError {
				msg = e.Entry.Text
			}
		}
		if msg != "" {
			p.mu.Lock()
			p.errs = append(p.errs, who+": "+msg)
			p.mu.Unlock()
		}
	})
}

func (p *pageErrors) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	errs := p.errs
	p.errs = nil
	return errs
}

func newBrowser(t *testing.T) context.Context {
	// The profile is removed after the browser has gone (cleanups run last
	// first); Chromium's helpers may still write in it as it exits, which
	// t.TempDir would report as a failure.
	profile, err := os.MkdirTemp("", "chat-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		testutil.Within(10*time.Second, func() bool { return os.RemoveAll(profile) == nil })
	})
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 800),
	)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	return alloc
}

// person is one user in a browser of their own: own process, profile and
// cookies.
type person struct {
	t    *testing.T
	name string
	ctx  context.Context
}

func newPerson(t *testing.T, name string, errs *pageErrors) *person {
	ctx, cancel := chromedp.NewContext(newBrowser(t))
	t.Cleanup(cancel)
	errs.listen(ctx, name)
	if err := chromedp.Run(ctx, log.Enable(), countSockets()); err != nil {
		t.Fatal(err)
	}
	return &person{t: t, name: name, ctx: ctx}
}

// browserWait bounds each step in a browser: generous for a loaded
// machine, and free when things are fast, as a step that is done returns.
const browserWait = 3 * time.Minute

// countSockets makes every page count its WebSockets that opened, in
// window.chatSocketsOpen, so that a test can wait for a page's socket.
func countSockets() chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		_, err := page.AddScriptToEvaluateOnNewDocument(`(() => {
			const Native = window.WebSocket;
			window.chatSocketsOpen = 0;
			window.WebSocket = function (...args) {
				const s = new Native(...args);
				s.addEventListener("open", () => { window.chatSocketsOpen++; });
				return s;
			};
			window.WebSocket.prototype = Native.prototype;
			Object.assign(window.WebSocket, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
		})()`).Do(ctx)
		return err
	})
}

// socketOpen waits until the page's socket is open: the server subscribes
// it before it answers the handshake.
func socketOpen() chromedp.Action {
	return chromedp.Poll(`window.chatSocketsOpen > 0`, nil)
}

// nextFrame waits until the page has handled what the last action
// caused (scroll and resize events) and drawn a frame.
func nextFrame() chromedp.Action {
	return chromedp.Evaluate(`new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done(true))))`, nil,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) })
}

// do runs the actions in order. An action whose node went away before it
// acted is run again: the browser forgets every node id it handed out
// when the page's tree is read afresh (a document committed just before,
// or an htmx swap that replaced the node), and a query action fails on
// such an id before it types, clicks or submits anything, so running it
// again is what a person would do: look again and act.
func (p *person) do(actions ...chromedp.Action) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	var err error
	for _, a := range actions {
		for tries := 1; ; tries++ {
			err = chromedp.Run(ctx, a)
			if err == nil || tries == 3 || !nodeGone(err) {
				break
			}
			p.t.Logf("%s: a node went away under an action, looking again: %v", p.name, err)
		}
		if err != nil {
			break
		}
	}
	if err != nil {
		var url, html string
		chromedp.Run(p.ctx, chromedp.Location(&url), chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		p.t.Fatalf("%s at %s: %v\n%.3000s", p.name, url, err, html)
	}
}

// nodeGone tells whether the browser refused a node id it no longer knows.
func nodeGone(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "Could not find node with given id") ||
		strings.Contains(msg, "No node with given id found")
}

func (p *person) shot(name string) {
	dir := os.Getenv("CHAT_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(p.ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

func (p *person) register(base string) {
	p.do(chromedp.Navigate(base+"/register"),
		chromedp.SendKeys(`input[name=username]`, p.name, chromedp.ByQuery),
		chromedp.SendKeys(`input[name=password]`, "password-"+p.name, chromedp.ByQuery),
		chromedp.Submit(`input[name=password]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/rooms"]`, chromedp.ByQuery),
	)
}

// meetInARoom signs up the first person, who creates a room, and the
// others, who join it; it returns the room's address.
func meetInARoom(base, name string, first *person, others ...*person) string {
	first.register(base)
	var roomURL string
	first.do(chromedp.SendKeys(`input[name=name]`, name, chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		chromedp.Location(&roomURL),
	)
	for _, p := range others {
		p.register(base)
		p.do(chromedp.Navigate(roomURL),
			chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
			chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		)
	}
	return roomURL
}

// Two people in two browser contexts: live posts, presence, typing, own
// posts styled apart, and a server restart that the pages ride out.
func TestBrowserChat(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := start(t, dbPath, "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)

	var typingMarks int
	alice.register(base)
	alice.shot("1-lobby-empty")
	var roomURL string
	alice.do(chromedp.SendKeys(`input[name=name]`, "Tea & biscuits ☕", chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		chromedp.Location(&roomURL),
	)
	bob.register(base)
	// Clicked in the page: the lobby's socket may swap the room's link
	// (its unread mark) between finding the node and clicking it.
	bob.do(chromedp.WaitVisible(`a[href^="/rooms/"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('a[href^="/rooms/"]').click()`, nil),
		chromedp.WaitVisible(`form[action$="/join"] button`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
	)
	carol := browser(t)
	postForm(t, carol, base+"/register", url.Values{"username": {"carol"}, "password": {"password-carol"}})
	postForm(t, carol, roomURL+"/join", nil)
	// Presence: each sees the other online, live.
	alice.do(chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`#presence [data-user="alice"]`, chromedp.ByQuery))
	// Bob's join reached Alice's page live.
	alice.do(chromedp.WaitVisible(`#messages [data-kind="join"][data-author="bob"]`, chromedp.ByQuery))

	// Alice types: Bob sees it.
	alice.do(chromedp.SendKeys(`#compose textarea`, "Hello Bob, <b>tea</b>?", chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`#typing .typing-user[data-user="alice"]`, chromedp.ByQuery))
	var typing string
	bob.do(chromedp.Text(`#typing`, &typing, chromedp.ByQuery))
	if !strings.Contains(typing, "alice is typing") {
		t.Errorf("bob sees %q", typing)
	}
	alice.do(chromedp.Evaluate(`[...document.querySelectorAll("#typing .typing-user")].filter(e => e.checkVisibility()).length`, &typingMarks))
	if typingMarks != 0 {
		t.Error("alice sees herself typing")
	}
	// She stops: the mark goes after 5 s. She types again: it is back.
	bob.do(chromedp.WaitNotPresent(`#typing .typing-user[data-user="alice"]`, chromedp.ByQuery))
	// Past the 2 s between signals: the throttle's window is the behaviour
	// under test, so the wait is a span of time, not a synchronization.
	time.Sleep(2 * time.Second)
	alice.do(chromedp.SendKeys(`#compose textarea`, " ", chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`#typing .typing-user[data-user="alice"]`, chromedp.ByQuery))

	// Enter sends; Bob sees the post within 2 s, without a reload; Alice's
	// field is cleared once the post is stored.
	alice.do(pressEnter(false))
	bob.do(chromedp.WaitVisible(`#messages [data-kind="post"][data-author="alice"]`, chromedp.ByQuery))
	var text string
	bob.do(chromedp.Text(`#messages [data-kind="post"][data-author="alice"] .text`, &text, chromedp.ByQuery))
	if text != "Hello Bob, <b>tea</b>? " && text != "Hello Bob, <b>tea</b>?" {
		t.Errorf("bob reads %q", text)
	}
	alice.do(chromedp.WaitVisible(`#messages [data-kind="post"][data-author="alice"]`, chromedp.ByQuery))
	var field string
	alice.do(chromedp.Poll(`document.querySelector("#compose textarea").value === ""`, nil), chromedp.Value(`#compose textarea`, &field, chromedp.ByQuery))
	if field != "" {
		t.Errorf("alice's field holds %q after sending", field)
	}
	// The typing mark goes when her post arrives.
	bob.do(chromedp.WaitNotPresent(`#typing .typing-user[data-user="alice"]`, chromedp.ByQuery))

	// Shift+Enter makes a new line; Bob answers with two lines.
	bob.do(chromedp.SendKeys(`#compose textarea`, "Yes please", chromedp.ByQuery),
		pressEnter(true),
		chromedp.SendKeys(`#compose textarea`, "milk, no sugar", chromedp.ByQuery),
		pressEnter(false),
	)
	alice.do(chromedp.WaitVisible(`#messages [data-kind="post"][data-author="bob"]`, chromedp.ByQuery))
	alice.do(chromedp.Text(`#messages [data-kind="post"][data-author="bob"] .text`, &text, chromedp.ByQuery))
	if text != "Yes please\nmilk, no sugar" {
		t.Errorf("alice reads %q", text)
	}

	// One markup for everyone, styled per viewer: her own post is laid out
	// apart on her page and not on Bob's.
	var mine, theirs string
	alice.do(chromedp.Evaluate(`getComputedStyle(document.querySelector('[data-kind="post"][data-author="alice"]')).flexDirection`, &mine))
	bob.do(chromedp.Evaluate(`getComputedStyle(document.querySelector('[data-kind="post"][data-author="alice"]')).flexDirection`, &theirs))
	if mine != "row-reverse" || theirs != "row" {
		t.Errorf("alice's post: %q on her page, %q on bob's", mine, theirs)
	}
	alice.shot("2-room-alice")
	bob.shot("3-room-bob")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}

	// Restart the server on the same address: the pages get 1012,
	// reconnect by themselves, and posting still works both ways.
	addr := strings.TrimPrefix(base, "http://")
	if err, _ := srv.shutdown(t); err != nil {
		t.Fatal(err)
	}
	alice.do(chromedp.WaitVisible(`#offline`, chromedp.ByQuery))
	// Alice sends while the server is down: the send waits, marked pending.
	alice.do(chromedp.SendKeys(`#compose textarea`, "sent while offline", chromedp.ByQuery), pressEnter(false),
		chromedp.WaitVisible(`#compose[data-pending]`, chromedp.ByQuery))
	var status string
	alice.do(chromedp.Text(`#compose .compose-status`, &status, chromedp.ByQuery))
	if !strings.Contains(status, "Waiting") {
		t.Errorf("pending send says %q", status)
	}
	alice.shot("4-room-offline")
	start(t, dbPath, "-addr", addr, "-post-limit", "0")
	// Carol posts the moment the server is back, before the pages have
	// reconnected: they get it from the replay, once.
	postForm(t, carol, roomURL+"/messages", url.Values{"text": {"posted during reconnect"}})
	alice.do(chromedp.WaitNotPresent(`#offline`, chromedp.ByQuery), chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery))
	bob.do(chromedp.WaitNotPresent(`#offline`, chromedp.ByQuery), chromedp.WaitVisible(`#presence [data-user="alice"]`, chromedp.ByQuery))
	bob.do(chromedp.SendKeys(`#compose textarea`, "back again", chromedp.ByQuery), pressEnter(false))
	alice.do(chromedp.WaitVisible(`//ol[@id="messages"]/li[@data-kind="post"]/div/p[text()="back again"]`, chromedp.BySearch))
	var count int
	alice.do(chromedp.Evaluate(`document.querySelectorAll('#messages [data-kind="post"]').length`, &count))
	if count != 5 {
		t.Errorf("alice holds %d posts after the restart, want 5 (no duplicates)", count)
	}
	// Her offline send landed once, and her form is clear and settled.
	alice.do(chromedp.WaitNotPresent(`#compose[data-pending]`, chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="sent while offline"]`, chromedp.BySearch))
	bob.do(chromedp.Evaluate(`[...document.querySelectorAll('#messages .text')].filter(e => e.textContent === "sent while offline").length`, &count))
	if count != 1 {
		t.Errorf("bob holds the offline send %d times, want 1", count)
	}
	bob.do(chromedp.WaitVisible(`//ol[@id="messages"]/li[@data-kind="post"]/div/p[text()="back again"]`, chromedp.BySearch))
	bob.do(chromedp.Evaluate(`[...document.querySelectorAll('#messages .text')].filter(e => e.textContent === "posted during reconnect").length`, &count))
	if count != 1 {
		t.Errorf("bob holds the post made during his reconnect %d times, want 1", count)
	}
}

// pressEnter presses Enter in the focused element as a person does: a key
// down whose text the page may prevent (chromedp's "\r" types the line
// break whatever the page says), then a key up.
func pressEnter(shift bool) chromedp.Action {
	var mods input.Modifier
	if shift {
		mods = input.ModifierShift
	}
	return chromedp.ActionFunc(func(ctx context.Context) error {
		down := input.DispatchKeyEvent(input.KeyDown).WithKey("Enter").WithCode("Enter").
			WithWindowsVirtualKeyCode(13).WithNativeVirtualKeyCode(13).WithText("\r").WithUnmodifiedText("\r").WithModifiers(mods)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey("Enter").WithCode("Enter").
			WithWindowsVirtualKeyCode(13).WithNativeVirtualKeyCode(13).WithModifiers(mods).Do(ctx)
	})
}

// Scrolling up loads older entries until the room's first; scrolled up, a
// new entry offers a jump instead of moving the view; a phone-sized window
// stacks the layout; the page reads well in a dark theme.
func TestBrowserHistoryAndLayout(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := start(t, dbPath, "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}

	// Bob fills a room over plain HTTP.
	bob := browser(t)
	postForm(t, bob, base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	res := postForm(t, bob, base+"/rooms", url.Values{"name": {"history"}})
	roomURL := res.Request.URL.String()
	for i := range 130 {
		postForm(t, bob, roomURL+"/messages", url.Values{"text": {fmt.Sprintf("entry number %d", i)}})
	}

	alice := newPerson(t, "alice", errs)
	alice.register(base)
	count := func() int {
		var n int
		alice.do(chromedp.Evaluate(`document.querySelectorAll('#messages > [id^="msg-"]').length`, &n))
		return n
	}
	alice.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#messages`, chromedp.ByQuery))
	if n := count(); n != 50 {
		t.Fatalf("room opens with %d entries, want 50", n)
	}
	var atBottom bool
	alice.do(chromedp.Poll(`(() => { const s = document.getElementById("scroller"); return s.scrollHeight - s.scrollTop - s.clientHeight < 5 })()`, &atBottom))
	// Scroll to the top, twice: 50 more each time, then the start.
	for _, want := range []int{100, 131} {
		alice.do(chromedp.Evaluate(`document.getElementById("scroller").scrollTop = 0`, nil),
			chromedp.Poll(fmt.Sprintf(`document.querySelectorAll('#messages > [id^="msg-"]').length >= %d`, want), nil),
		)
	}
	alice.do(chromedp.WaitVisible(`p#history-more.history-start`, chromedp.ByQuery))
	if n := count(); n != 131 {
		t.Errorf("after scrolling back: %d entries, want 131", n)
	}
	var first, last string
	alice.do(chromedp.Text(`#messages > [data-kind="post"] .text`, &first, chromedp.ByQuery),
		chromedp.Text(`#messages > :last-child .text`, &last, chromedp.ByQuery),
	)
	if first != "entry number 0" || last != "entry number 129" {
		t.Errorf("history runs from %q to %q", first, last)
	}

	// Scrolled up, a new entry shows the jump button and leaves the view.
	alice.do(chromedp.Evaluate(`document.getElementById("scroller").scrollTop = 0`, nil), nextFrame())
	postForm(t, bob, roomURL+"/messages", url.Values{"text": {"while you were reading"}})
	alice.do(chromedp.WaitVisible(`#jump`, chromedp.ByQuery))
	var top float64
	alice.do(chromedp.Evaluate(`document.getElementById("scroller").scrollTop`, &top))
	if top > 50 {
		t.Errorf("the view moved to %v while scrolled up", top)
	}
	alice.do(chromedp.Click(`#jump`, chromedp.ByQuery), chromedp.WaitNotVisible(`#jump`, chromedp.ByQuery))

	// A long live session keeps the page bounded: the oldest entries go
	// while she follows at the bottom, and scrolling up can load them back.
	for i := range 420 {
		postForm(t, bob, roomURL+"/messages", url.Values{"text": {fmt.Sprintf("live %d", i)}})
	}
	alice.do(chromedp.WaitVisible(`//p[text()="live 419"]`, chromedp.BySearch))
	if n := count(); n > 400 {
		t.Errorf("the page holds %d entries, want at most 400", n)
	}
	alice.do(chromedp.WaitReady(`div#history-more[hx-get]`, chromedp.ByQuery))
	alice.shot("5-history")
	// A phone: rooms above the conversation, everything within the width.
	alice.do(chromedp.EmulateViewport(390, 780), chromedp.Poll(`window.innerWidth === 390`, nil), nextFrame())
	var overflow bool
	alice.do(chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth`, &overflow))
	if overflow {
		t.Error("the page is wider than a phone")
	}
	alice.shot("6-phone")
	alice.do(chromedp.EmulateViewport(1280, 800), emulateDark(),
		chromedp.Poll(`window.innerWidth === 1280 && matchMedia("(prefers-color-scheme: dark)").matches`, nil), nextFrame())
	var bg string
	alice.do(chromedp.Evaluate(`getComputedStyle(document.body).backgroundColor`, &bg))
	if bg == "rgb(244, 245, 247)" {
		t.Errorf("dark theme keeps the light background %s", bg)
	}
	alice.shot("7-dark")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}

func emulateDark() chromedp.Action {
	return emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}})
}
