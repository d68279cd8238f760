package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// With script, an admin's deactivate asks in a dialog that cancels and
// confirms; each admin action says what it did; a bot's token copies from
// the keyboard, or is selected where the clipboard is refused; putting a
// bot in a room says so.
func TestBrowserAdmin(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	meetInARoom(base, "Team", alice) // alice: the first account, an admin
	bob := browser(t)
	postForm(t, bob, base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}})

	deactivate := `tr[data-user="bob"] a[data-action="/admin/users/bob/deactivate"]`
	var question string
	alice.do(chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(deactivate, chromedp.ByQuery),
		chromedp.Click(deactivate, chromedp.ByQuery),
		chromedp.WaitVisible(`#confirm-dialog[open]`, chromedp.ByQuery),
		chromedp.Text(`#confirm-dialog .confirm-question`, &question, chromedp.ByQuery))
	if question != "Deactivate bob?" {
		t.Errorf("the dialog asks %q", question)
	}
	alice.shot("admin-dialog")
	// Cancel (focused first) closes it, and nothing happened.
	var focused string
	alice.do(chromedp.Evaluate(`document.activeElement.className`, &focused))
	if !strings.Contains(focused, "confirm-cancel") {
		t.Errorf("the dialog opens with %q focused, not Cancel", focused)
	}
	alice.do(chromedp.KeyEvent(kb.Enter), chromedp.WaitNotPresent(`#confirm-dialog[open]`, chromedp.ByQuery))
	var loc string
	alice.do(chromedp.Location(&loc))
	if strings.Contains(loc, "done=") || strings.Contains(loc, "deactivate") {
		t.Errorf("cancelling led to %s", loc)
	}
	alice.do(chromedp.WaitNotPresent(`tr[data-user="bob"][data-deactivated]`, chromedp.ByQuery))
	// Asked again and confirmed: done, and the page says so.
	var said string
	alice.do(chromedp.Click(deactivate, chromedp.ByQuery), chromedp.WaitVisible(`#confirm-dialog[open]`, chromedp.ByQuery),
		chromedp.Click(`#confirm-dialog button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.admin-done[role=status]`, chromedp.ByQuery),
		chromedp.Text(`.admin-done`, &said, chromedp.ByQuery),
		chromedp.WaitVisible(`tr[data-user="bob"][data-deactivated]`, chromedp.ByQuery))
	if !strings.HasPrefix(said, "bob is deactivated") {
		t.Errorf("after deactivating, the page says %q", said)
	}

	// A bot's token: Copy, reached and pressed with the keyboard.
	alice.do(cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "clipboard-read"}, cdpbrowser.PermissionSettingGranted).WithOrigin(base),
		cdpbrowser.SetPermission(&cdpbrowser.PermissionDescriptor{Name: "clipboard-write"}, cdpbrowser.PermissionSettingGranted).WithOrigin(base))
	var token, copied, status string
	alice.do(chromedp.Navigate(base+"/admin"),
		chromedp.SendKeys(`input[name=name][pattern]`, "helper", chromedp.ByQuery),
		chromedp.Submit(`input[name=name][pattern]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#bot-token`, chromedp.ByQuery),
		chromedp.Text(`#bot-token`, &token, chromedp.ByQuery),
		chromedp.Focus(`button[data-copy="#bot-token"]`, chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.Poll(`document.querySelector(".copy-status").textContent !== ""`, nil),
		chromedp.Text(`.copy-status`, &status, chromedp.ByQuery),
		chromedp.Evaluate(`navigator.clipboard.readText()`, &copied, awaitPromise))
	if status != "Copied" || copied != token || !strings.HasPrefix(token, "chatbot_") {
		t.Errorf("copying the token %q: status %q, clipboard %q", token, status, copied)
	}
	alice.shot("admin-bot-copied")
	// Where the clipboard is refused, the token is selected for the reader.
	var selected string
	alice.do(chromedp.Evaluate(`Object.defineProperty(navigator, "clipboard", {value: undefined}); document.querySelector(".copy-status").textContent = ""; true`, nil),
		chromedp.Click(`button[data-copy="#bot-token"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector(".copy-status").textContent !== ""`, nil),
		chromedp.Text(`.copy-status`, &status, chromedp.ByQuery),
		chromedp.Evaluate(`getSelection().toString()`, &selected))
	if selected != token || !strings.HasPrefix(status, "Selected") {
		t.Errorf("without a clipboard: selected %q, status %q", selected, status)
	}

	// Putting the bot in a room says so.
	alice.do(chromedp.Navigate(base+"/admin"),
		chromedp.Click(`form[action="/admin/bots/helper/rooms"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`.admin-done[role=status]`, chromedp.ByQuery),
		chromedp.Text(`.admin-done`, &said, chromedp.ByQuery))
	if said != "helper is in Team now: it may post there." {
		t.Errorf("after putting the bot in a room, the page says %q", said)
	}
	alice.shot("admin-done")
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }
