package main

import (
	"strings"
	"testing"

	"chat/internal/testdb"
	"chat/internal/testnats"

	"github.com/chromedp/chromedp"
)

// Two people in two browsers, each on an instance of their own, the
// instances linked over NATS on one PostgreSQL database: the room behaves
// as on one machine.
func TestBrowserAcrossInstances(t *testing.T) {
	chromiumPath(t)
	testdb.RequirePostgres(t)
	dbURL := testdb.NewPostgres(t)
	natsURL := testnats.Start(t)
	a := start(t, dbURL, "-nats", natsURL, "-post-limit", "0")
	b := start(t, dbURL, "-nats", natsURL, "-post-limit", "0")
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)

	roomURL := meetInARoom(a.base, "Across the wire", alice)
	bob.register(b.base)
	bobRoom := b.base + strings.TrimPrefix(roomURL, a.base)
	bob.do(chromedp.Navigate(bobRoom),
		chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
	)
	// Each sees the other online, and Bob's join, on the other instance.
	alice.do(chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-kind="join"][data-author="bob"]`, chromedp.ByQuery),
	)
	bob.do(chromedp.WaitVisible(`#presence [data-user="alice"]`, chromedp.ByQuery))

	// Typing and posts cross both ways.
	alice.do(chromedp.SendKeys(`#compose textarea`, "Hello from instance A", chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`#typing .typing-user[data-user="alice"]`, chromedp.ByQuery))
	alice.do(pressEnter(false))
	bob.do(chromedp.WaitVisible(`#messages [data-kind="post"][data-author="alice"]`, chromedp.ByQuery))
	bob.do(chromedp.SendKeys(`#compose textarea`, "And hello from B", chromedp.ByQuery),
		pressEnter(false),
	)
	alice.do(chromedp.WaitVisible(`#messages [data-kind="post"][data-author="bob"]`, chromedp.ByQuery))
	// Bob's own page has it too: it comes back to him over NATS like to
	// anyone, and may do so after it reached Alice.
	bob.do(chromedp.WaitVisible(`#messages [data-kind="post"][data-author="bob"]`, chromedp.ByQuery))
	alice.shot("cluster-1-alice-on-a")
	bob.shot("cluster-2-bob-on-b")

	// Both pages hold the same entries, in the same order.
	var onA, onB []string
	ids := `[...document.querySelectorAll("#messages [id^=msg-]")].map(e => e.id)`
	alice.do(chromedp.Evaluate(ids, &onA))
	bob.do(chromedp.Evaluate(ids, &onB))
	if strings.Join(onA, ",") != strings.Join(onB, ",") || len(onA) < 4 {
		t.Errorf("alice's page holds %v, bob's %v", onA, onB)
	}

	// Bob leaves: Alice's list drops him, from the other instance.
	bob.do(chromedp.Navigate(b.base + "/"))
	alice.do(chromedp.WaitNotPresent(`#presence [data-user="bob"]`, chromedp.ByQuery))
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %v", e)
	}
}
