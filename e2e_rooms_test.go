package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A closed room in two browsers: it appears live in the room list of a
// person its creator adds, its new name shows live on their page, and it
// vanishes live from their lists when they are removed.
func TestBrowserClosedRoom(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	srv := start(t, dbPath)
	base := srv.base
	errs := &pageErrors{}
	ann := newPerson(t, "ann", errs)
	bob := newPerson(t, "bob", errs)

	ann.register(base)
	var roomURL string
	ann.do(chromedp.SendKeys(`input[name=name]`, "Hideout", chromedp.ByQuery),
		chromedp.SetValue(`select[name=access]`, "closed", chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		chromedp.Location(&roomURL),
	)
	path := strings.TrimPrefix(roomURL, base)
	link := `#room-list a[href="` + path + `"]`

	bob.register(base) // on the lobby, following his own socket
	bob.do(socketOpen())
	var n int
	bob.do(chromedp.Evaluate(`document.querySelectorAll('a[href="`+path+`"]').length`, &n))
	if n != 0 {
		t.Fatal("bob's lobby shows the closed room before he is in it")
	}

	// Ann adds bob: the room appears in his list without a reload.
	ann.do(chromedp.SendKeys(`form.add-member input[name=username]`, "bob", chromedp.ByQuery),
		chromedp.Submit(`form.add-member input[name=username]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-kind="join"][data-author="bob"]`, chromedp.ByQuery),
	)
	bob.do(chromedp.WaitVisible(link, chromedp.ByQuery))
	bob.shot("rooms-1-added")

	// He opens it; ann renames it: the new name shows on his page live.
	bob.do(chromedp.Click(link, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		socketOpen(),
	)
	ann.do(chromedp.SetValue(`#room-manage input[name=name]`, "Den", chromedp.ByQuery),
		chromedp.Submit(`#room-manage input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-kind="rename"]`, chromedp.ByQuery),
	)
	bob.do(chromedp.Poll(`document.querySelector("#room-title").textContent.trim() === "Den"`, nil),
		chromedp.Poll(`document.querySelector('`+link+`').textContent.trim() === "Den"`, nil),
		chromedp.WaitVisible(`#messages [data-kind="rename"][data-author="ann"]`, chromedp.ByQuery),
	)
	var entry string
	bob.do(chromedp.Text(`#messages [data-kind="rename"]`, &entry, chromedp.ByQuery))
	if !strings.Contains(entry, "renamed Hideout to Den") {
		t.Errorf("the rename entry reads %q", entry)
	}
	bob.shot("rooms-2-renamed")

	// Back on the lobby, ann removes him: the room vanishes from his lists.
	bob.do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(link, chromedp.ByQuery), socketOpen())
	ann.do(chromedp.Navigate(roomURL),
		chromedp.Click(`#room-manage button[aria-label="Remove bob"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-kind="leave"][data-author="bob"]`, chromedp.ByQuery),
	)
	bob.do(chromedp.Poll(`document.querySelectorAll('a[href="`+path+`"]').length === 0`, nil))
	bob.shot("rooms-3-removed")
	ann.shot("rooms-4-manage")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}

// An invitation in a browser: an admin makes registration invite-only and
// a link on /admin; the register page says an invitation is needed; the
// link opens the form, which registers; archiving and the delete
// confirmation, seen.
func TestBrowserInvitation(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"))
	errs := &pageErrors{}
	root := newPerson(t, "root", errs)
	root.register(srv.base)
	root.do(chromedp.Navigate(srv.base+"/admin"),
		chromedp.SetValue(`select[name=registration]`, "invite", chromedp.ByQuery),
		chromedp.Submit(`select[name=registration]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#registration-policy[data-policy=invite]`, chromedp.ByQuery),
		chromedp.SetValue(`input[name=uses]`, "3", chromedp.ByQuery),
		chromedp.Submit(`input[name=uses]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#invite-link`, chromedp.ByQuery),
		chromedp.ScrollIntoView(`#invitations`, chromedp.ByQuery),
	)
	root.shot("invite-1-admin")
	var link string
	root.do(chromedp.Text(`#invite-link`, &link, chromedp.ByQuery))
	_, token, ok := strings.Cut(link, "/join/")
	if !ok {
		t.Fatalf("invitation link %q", link)
	}

	guest := newPerson(t, "guest", errs)
	guest.do(chromedp.Navigate(srv.base+"/register"), chromedp.WaitVisible(`[data-invitation-needed]`, chromedp.ByQuery))
	guest.shot("invite-2-register-needs-one")
	guest.do(chromedp.Navigate(srv.base+"/join/"+token),
		chromedp.WaitReady(`input[name=invite]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name=username]`, "guest", chromedp.ByQuery),
		chromedp.SendKeys(`input[name=password]`, "password-guest", chromedp.ByQuery),
		chromedp.Submit(`input[name=password]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/rooms"]`, chromedp.ByQuery),
	)

	root.do(chromedp.Navigate(srv.base+"/"),
		chromedp.SendKeys(`input[name=name]`, "Old times", chromedp.ByQuery),
		chromedp.Submit(`input[name=name]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#room-manage`, chromedp.ByQuery),
		chromedp.Click(`form[action$="/archive"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.join-bar[data-archived]`, chromedp.ByQuery),
	)
	root.shot("invite-3-archived-room")
	root.do(chromedp.Navigate(srv.base+"/"), chromedp.WaitVisible(`#lobby-archived a`, chromedp.ByQuery))
	root.shot("invite-4-lobby-archived")
	root.do(chromedp.Navigate(srv.base+"/rooms/1"),
		chromedp.Click(`#room-manage a[href$="/delete"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#delete-summary`, chromedp.ByQuery),
	)
	root.shot("invite-5-delete-confirm")
	root.do(chromedp.Click(`form[action$="/delete"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/rooms"]`, chromedp.ByQuery),
	)
	var n int
	root.do(chromedp.Evaluate(`document.querySelectorAll('a[href="/rooms/1"]').length`, &n))
	if n != 0 {
		t.Error("the deleted room is still listed")
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}
