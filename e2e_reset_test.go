package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A reset link works in a browser: the person it is for opens it, sets a
// password, and signs in with it. (Under Referrer-Policy: no-referrer the
// form's POST carries "Origin: null", which the chat refuses as another
// site's.)
func TestBrowserResetLink(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"))
	errs := &pageErrors{}
	root := newPerson(t, "root", errs)
	root.register(srv.base)
	bob := newPerson(t, "bob", errs)
	bob.register(srv.base)
	bob.do(chromedp.Submit(`form[action="/logout"] button`, chromedp.ByQuery), chromedp.WaitVisible(`input[name=password]`, chromedp.ByQuery))
	var link string
	root.do(chromedp.Navigate(srv.base+"/admin"),
		chromedp.Click(`form[action="/admin/users/bob/reset"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#reset-link`, chromedp.ByQuery),
		chromedp.Text(`#reset-link`, &link, chromedp.ByQuery),
	)
	_, token, ok := strings.Cut(link, "/reset/")
	if !ok {
		t.Fatalf("reset link %q", link)
	}
	bob.do(chromedp.Navigate(srv.base+"/reset/"+token),
		chromedp.SendKeys(`input[name=password]`, "a brand new password", chromedp.ByQuery),
		chromedp.Submit(`input[name=password]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/login"]`, chromedp.ByQuery),
		chromedp.SendKeys(`input[name=username]`, "bob", chromedp.ByQuery),
		chromedp.SendKeys(`input[name=password]`, "a brand new password", chromedp.ByQuery),
		chromedp.Submit(`input[name=password]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/rooms"]`, chromedp.ByQuery),
	)
}
