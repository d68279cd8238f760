package main

import (
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// refusingProxy serves the chat at target through a reverse proxy that
// refuses every WebSocket upgrade, as some corporate proxies and filters
// do, and passes everything else; it returns the proxy's address.
func refusingProxy(t *testing.T, target string) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			http.Error(w, "WebSockets are not allowed here", http.StatusBadGateway)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// within runs a step that must be done within d, as a person would see
// it: the step fails the test when it takes longer.
func (p *person) within(d time.Duration, what string, actions ...chromedp.Action) {
	p.t.Helper()
	began := time.Now()
	p.do(actions...)
	if took := time.Since(began); took > d {
		p.t.Errorf("%s: %s took %v, want within %v", p.name, what, took.Round(time.Millisecond), d)
	}
}

// Two people; one is behind a proxy that refuses WebSockets. Her page
// falls back to the event stream by itself and she chats as fully as
// the other: posts, presence and typing both ways, live; a server
// restart ridden out with nothing missed or doubled; a draft kept across
// a reload. A page with JavaScript off shows who is online and the newest
// entries.
func TestBrowserWithoutWebSockets(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := start(t, dbPath, "-post-limit", "0")
	addr := strings.TrimPrefix(srv.base, "http://")
	behind := refusingProxy(t, srv.base)
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)

	roomURL := meetInARoom(srv.base, "Behind the proxy", alice)
	roomPath := strings.TrimPrefix(roomURL, srv.base)
	bob.register(behind)
	bob.do(chromedp.Navigate(behind+roomPath),
		chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
	)
	// Bob's page gives up on the socket and follows the stream; the dot
	// says so.
	bob.do(chromedp.WaitReady(`#conn[data-transport="sse"]`, chromedp.ByQuery))
	var title string
	var opened int
	bob.do(chromedp.AttributeValue(`#conn`, "title", &title, nil, chromedp.ByQuery),
		chromedp.Evaluate(`window.chatSocketsOpen`, &opened))
	if !strings.Contains(title, "event stream") || opened != 0 {
		t.Errorf("bob's dot says %q, with %d sockets open", title, opened)
	}
	alice.do(chromedp.WaitReady(`#conn[data-transport="ws"]`, chromedp.ByQuery))
	if _, err := http.Get(behind + "/healthz"); err != nil {
		t.Fatal(err)
	}

	// Presence both ways.
	alice.do(chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`#presence [data-user="alice"]`, chromedp.ByQuery))
	// Typing both ways, live.
	alice.do(chromedp.SendKeys(`#compose textarea`, "Can you read me?", chromedp.ByQuery))
	bob.within(2*time.Second, "alice's typing", chromedp.WaitVisible(`#typing .typing-user[data-user="alice"]`, chromedp.ByQuery))
	bob.do(chromedp.SendKeys(`#compose textarea`, "Loud", chromedp.ByQuery))
	alice.within(2*time.Second, "bob's typing", chromedp.WaitVisible(`#typing .typing-user[data-user="bob"]`, chromedp.ByQuery))
	// Posts both ways, live; bob's field is cleared once his is stored.
	alice.do(pressEnter(false))
	bob.within(2*time.Second, "alice's post", chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="Can you read me?"]`, chromedp.BySearch))
	bob.do(chromedp.SendKeys(`#compose textarea`, " and clear", chromedp.ByQuery), pressEnter(false))
	alice.within(2*time.Second, "bob's post", chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="Loud and clear"]`, chromedp.BySearch))
	bob.do(chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="Loud and clear"]`, chromedp.BySearch),
		chromedp.Poll(`document.querySelector("#compose textarea").value === "" && !document.querySelector("#compose[data-pending]")`, nil),
		// Sent over HTTP, the fresh form keeps the focus in the box.
		focused(`#compose textarea`))
	bob.shot("fallback-1-bob-on-the-stream")

	// A draft survives a reload.
	bob.do(chromedp.SendKeys(`#compose textarea`, "a draft to keep", chromedp.ByQuery),
		chromedp.Reload(),
		chromedp.WaitReady(`#conn[data-transport="sse"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#compose textarea").value === "a draft to keep"`, nil),
		// Cleared by hand: nothing is kept.
		chromedp.Evaluate(`(() => { const a = document.querySelector("#compose textarea"); a.value = ""; a.dispatchEvent(new Event("input", {bubbles: true})); return localStorage.length })()`, nil),
	)

	// The server restarts. Bob sends while it is down; Carol posts the
	// moment it is back, before the pages have reconnected.
	if err, _ := srv.shutdown(t); err != nil {
		t.Fatal(err)
	}
	bob.do(chromedp.WaitVisible(`#offline`, chromedp.ByQuery),
		chromedp.WaitReady(`#conn[data-transport="none"]`, chromedp.ByQuery),
		chromedp.Focus(`#compose textarea`, chromedp.ByQuery),
		chromedp.SendKeys(`#compose textarea`, "sent while down", chromedp.ByQuery), pressEnter(false),
		chromedp.WaitVisible(`#compose[data-pending]`, chromedp.ByQuery))
	bob.shot("fallback-2-bob-offline")
	start(t, dbPath, "-addr", addr, "-post-limit", "0")
	carol := browser(t)
	postForm(t, carol, srv.base+"/register", url.Values{"username": {"carol"}, "password": {"password-carol"}})
	postForm(t, carol, roomURL+"/join", nil)
	postForm(t, carol, roomURL+"/messages", url.Values{"text": {"posted during reconnect"}})
	bob.do(chromedp.WaitNotPresent(`#offline`, chromedp.ByQuery), chromedp.WaitReady(`#conn[data-transport="sse"]`, chromedp.ByQuery))
	alice.do(chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="sent while down"]`, chromedp.BySearch))
	bob.do(chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="sent while down"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="posted during reconnect"]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`#compose[data-pending]`, chromedp.ByQuery))
	alice.do(chromedp.SendKeys(`#compose textarea`, "after the restart", chromedp.ByQuery), pressEnter(false))
	bob.within(2*time.Second, "a post after the restart", chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="after the restart"]`, chromedp.BySearch))
	alice.do(chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="after the restart"]`, chromedp.BySearch))
	// Both pages hold the same entries, once each, in one order.
	var onAlice, onBob []string
	ids := `[...document.querySelectorAll("#messages [id^=msg-]")].map(e => e.id + " " + (e.querySelector(".text") || {}).textContent)`
	alice.do(chromedp.Evaluate(ids, &onAlice))
	bob.do(chromedp.Evaluate(ids, &onBob))
	if strings.Join(onAlice, "\n") != strings.Join(onBob, "\n") {
		t.Errorf("alice's page holds\n%s\nbob's\n%s", strings.Join(onAlice, "\n"), strings.Join(onBob, "\n"))
	}
	seen := map[string]bool{}
	for _, e := range onBob {
		if seen[e] {
			t.Errorf("bob holds %q twice", e)
		}
		seen[e] = true
	}
	for _, want := range []string{"Can you read me?", "Loud and clear", "sent while down", "posted during reconnect", "after the restart"} {
		n := 0
		for _, e := range onBob {
			if strings.HasSuffix(e, " "+want) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("bob holds %q %d times, want 1", want, n)
		}
	}

	// With JavaScript off: who is online, and the newest entries in view.
	dee := newPerson(t, "dee", errs)
	dee.do(emulation.SetScriptExecutionDisabled(true))
	dee.register(srv.base)
	for i := range 30 {
		postForm(t, carol, roomURL+"/messages", url.Values{"text": {"filler " + strings.Repeat("line ", i%5+1)}})
	}
	postForm(t, carol, roomURL+"/messages", url.Values{"text": {"the newest"}})
	dee.do(chromedp.Navigate(roomURL),
		chromedp.WaitVisible(`#presence [data-user="alice"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery))
	inView := func(text string) bool {
		var ok bool
		dee.do(chromedp.Evaluate(`(() => {
			const sc = document.getElementById("scroller").getBoundingClientRect();
			const e = [...document.querySelectorAll("#messages .text")].find(e => e.textContent === `+"`"+text+"`"+`);
			if (!e) return false;
			const r = e.getBoundingClientRect();
			return r.top >= sc.top && r.bottom <= sc.bottom;
		})()`, &ok))
		return ok
	}
	if !inView("the newest") {
		t.Error("with JavaScript off, the newest entry is not in view")
	}
	// After a plain form's post, her own post is in view.
	dee.do(chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		chromedp.SendKeys(`#compose textarea`, "from a plain form", chromedp.ByQuery),
		chromedp.Submit(`#compose textarea`, chromedp.ByQuery),
		chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="from a plain form"]`, chromedp.BySearch))
	if !inView("from a plain form") {
		t.Error("with JavaScript off, a post sent is not in view")
	}
	var placeholder string
	dee.do(chromedp.AttributeValue(`#compose textarea`, "placeholder", &placeholder, nil, chromedp.ByQuery))
	if strings.Contains(placeholder, "@") {
		t.Errorf("placeholder without scripts: %q", placeholder)
	}
	dee.shot("fallback-3-nojs-room")
	// Refused sockets and a server away are reported by the browser; an
	// exception in the page's script is a bug.
	for _, e := range errs.take() {
		if strings.Contains(e, "exception") || strings.Contains(e, "Uncaught") {
			t.Errorf("page error: %s", e)
		}
	}
}
