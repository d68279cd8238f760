package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// acceptDialogs says yes to the page's confirm() questions, as a person
// who means it does.
func (p *person) acceptDialogs() {
	chromedp.ListenTarget(p.ctx, func(ev any) {
		if _, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			go chromedp.Run(p.ctx, page.HandleJavaScriptDialog(true))
		}
	})
}

// hover moves the pointer over the element sel names, as far as the page
// can tell.
func hover(sel string) chromedp.Action {
	return chromedp.Evaluate(`document.querySelector('`+sel+`').dispatchEvent(new MouseEvent("mouseover", {bubbles: true}))`, nil)
}

func (p *person) eval(js string, out any) {
	p.t.Helper()
	p.do(chromedp.Evaluate(js, out))
}

// Mentions offered while typing and highlighted for the one mentioned, an
// edit seen live by another user, a reaction, a delete, a search that
// leads to a permalink, and a room marked unread live.
func TestBrowserConversation(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)
	alice.acceptDialogs()

	roomURL := meetInARoom(base, "Planning", alice, bob)
	alice.do(chromedp.WaitVisible(`#presence [data-user="bob"]`, chromedp.ByQuery))

	// Bob types "@al": the room's members that match are offered; Enter
	// takes the first.
	bob.do(chromedp.SendKeys(`#compose textarea`, "Thanks @al", chromedp.ByQuery),
		chromedp.WaitVisible(`#mention-box [role=option][data-name="alice"][aria-selected=true]`, chromedp.ByQuery),
	)
	bob.shot("6-mention-options")
	bob.do(pressEnter(false), chromedp.WaitNotPresent(`#mention-box [role=option]`, chromedp.ByQuery))
	var field string
	bob.do(chromedp.Value(`#compose textarea`, &field, chromedp.ByQuery))
	if field != "Thanks @alice " {
		t.Fatalf("after choosing, the field holds %q", field)
	}
	bob.do(chromedp.SendKeys(`#compose textarea`, "for the notes", chromedp.ByQuery), pressEnter(false))
	mention := `#messages [data-author="bob"][data-mentions~="alice"]`
	alice.do(chromedp.WaitVisible(mention+` .mention[data-user="alice"]`, chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(mention, chromedp.ByQuery))
	// The same markup stands out on Alice's page alone.
	var onAlice, onBob string
	alice.eval(`getComputedStyle(document.querySelector('`+mention+`')).backgroundColor`, &onAlice)
	bob.eval(`getComputedStyle(document.querySelector('`+mention+`')).backgroundColor`, &onBob)
	if onAlice == onBob || onBob != "rgba(0, 0, 0, 0)" {
		t.Errorf("mention background: %q for alice, %q for bob", onAlice, onBob)
	}

	// Alice posts, then edits her post in place: Bob sees the new text
	// live, marked edited.
	alice.do(chromedp.SendKeys(`#compose textarea`, "Meeting at 10", chromedp.ByQuery), pressEnter(false))
	own := `#messages [data-author="alice"][data-kind="post"]`
	alice.do(chromedp.WaitVisible(own, chromedp.ByQuery))
	var editShown string
	bob.do(chromedp.WaitVisible(own, chromedp.ByQuery), hover(own))
	bob.eval(`getComputedStyle(document.querySelector('`+own+` [data-act=edit]')).display`, &editShown)
	if editShown != "none" {
		t.Errorf("bob is offered to edit alice's post (display %q)", editShown)
	}
	alice.do(hover(own),
		chromedp.Click(own+` [data-act=edit]`, chromedp.ByQuery),
		chromedp.WaitVisible(own+` .edit-form textarea`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('`+own+` .edit-form textarea').value = ""`, nil),
		// Focus, then keys to the page: SendKeys reads the node's
		// attributes while the page may be changing them (a race in
		// chromedp that -race reports).
		chromedp.Focus(own+` .edit-form textarea`, chromedp.ByQuery),
		chromedp.KeyEvent("Meeting at 11, room 2"),
	)
	alice.shot("7-editing")
	alice.do(pressEnter(false), chromedp.WaitNotPresent(own+` .edit-form`, chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(own+`[data-edited] .edited`, chromedp.ByQuery))
	var edited string
	bob.do(chromedp.Text(own+` .text`, &edited, chromedp.ByQuery))
	if edited != "Meeting at 11, room 2" {
		t.Errorf("bob reads %q after the edit", edited)
	}
	var local bool
	bob.eval(`document.querySelector('`+own+` time').hasAttribute("data-local")`, &local)
	if !local {
		t.Error("the edited entry's time is not in the reader's zone")
	}

	// Bob reacts: Alice sees it live, and it is marked as his on his page.
	bob.do(hover(own),
		chromedp.Click(own+` [data-act=react]`, chromedp.ByQuery),
		chromedp.Poll(`!!document.querySelector('`+own+` .picker .boost-choice')`, nil),
	)
	bob.shot("8-picker")
	bob.do(chromedp.Click(own+` .picker .boost-choice[value="🎉"]`, chromedp.ByQuery),
		chromedp.Poll(`!!document.querySelector('`+own+` .boost[data-users="bob"]') && !document.querySelector('`+own+` .picker .boost-choice')`, nil),
	)
	alice.do(chromedp.Poll(`!!document.querySelector('`+own+` .boost[value="🎉"][data-users="bob"]')`, nil))
	var mineBg, theirsBg string
	bob.eval(`getComputedStyle(document.querySelector('`+own+` .boost')).backgroundColor`, &mineBg)
	alice.eval(`getComputedStyle(document.querySelector('`+own+` .boost')).backgroundColor`, &theirsBg)
	if mineBg == theirsBg {
		t.Errorf("bob's own reaction looks the same to him as to alice: %q", mineBg)
	}
	bob.shot("9-room-bob")

	// Alice deletes a slip: Bob sees the mark that stays.
	alice.do(chromedp.SendKeys(`#compose textarea`, "wrong room, sorry", chromedp.ByQuery), pressEnter(false))
	slip := `//ol[@id="messages"]/li[.//p[text()="wrong room, sorry"]]`
	bob.do(chromedp.WaitVisible(slip, chromedp.BySearch))
	var slipID string
	alice.do(chromedp.WaitVisible(slip, chromedp.BySearch), chromedp.AttributeValue(slip, "id", &slipID, nil, chromedp.BySearch))
	alice.do(hover(`#`+slipID), chromedp.Click(`#`+slipID+` [data-act=delete]`, chromedp.ByQuery))
	bob.do(chromedp.WaitVisible(`#`+slipID+`[data-kind="deleted"]`, chromedp.ByQuery))
	alice.do(chromedp.WaitVisible(`#`+slipID+`[data-kind="deleted"]`, chromedp.ByQuery))

	// A room with news is marked in Bob's room list, live, until he looks.
	carol := browser(t)
	postForm(t, carol, base+"/register", url.Values{"username": {"carol"}, "password": {"password-carol"}})
	res := postForm(t, carol, base+"/rooms", url.Values{"name": {"Random"}})
	random := res.Request.URL.String()
	randomPath := strings.TrimPrefix(random, base)
	bob.do(chromedp.Navigate(random),
		chromedp.Click(`form[action$="/join"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
		chromedp.Navigate(roomURL),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery),
	)
	bob.do(socketOpen())
	postForm(t, carol, random+"/messages", url.Values{"text": {"anyone for lunch?"}})
	link := `#room-list a[href="` + randomPath + `"]`
	bob.do(chromedp.WaitVisible(link+`[data-unread]`, chromedp.ByQuery))
	bob.shot("10-unread")
	bob.do(chromedp.Click(link, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[text()="anyone for lunch?"]`, chromedp.BySearch),
		chromedp.WaitNotPresent(link+`[data-unread]`, chromedp.ByQuery),
	)
	// On the lobby too, which follows no room.
	bob.do(chromedp.Navigate(base+"/"), chromedp.WaitVisible(`.lobby-rooms`, chromedp.ByQuery))
	bob.do(socketOpen())
	postForm(t, carol, random+"/messages", url.Values{"text": {"still hungry"}})
	bob.do(chromedp.WaitVisible(link+`[data-unread]`, chromedp.ByQuery))

	// Alice searches from the room list, and a result opens the room around
	// the post, highlighted.
	alice.do(chromedp.SendKeys(`.sidebar-search input[name=q]`, "MEETING", chromedp.ByQuery),
		chromedp.Submit(`.sidebar-search input[name=q]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#results mark`, chromedp.ByQuery),
	)
	var marked string
	alice.do(chromedp.Text(`#results mark`, &marked, chromedp.ByQuery))
	if marked != "Meeting" {
		t.Errorf("the match reads %q", marked)
	}
	alice.shot("11-search")
	alice.do(chromedp.Click(`#results a.permalink`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-highlight]`, chromedp.ByQuery),
	)
	var highlighted string
	alice.do(chromedp.Text(`#messages [data-highlight] .text`, &highlighted, chromedp.ByQuery))
	if highlighted != "Meeting at 11, room 2" {
		t.Errorf("the permalink highlights %q", highlighted)
	}
	alice.shot("12-permalink")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}

}
