package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// With JavaScript off, every conversation feature still works as plain
// links and forms: post, open a post's permalink, react, edit, delete,
// search.
func TestBrowserWithoutJavaScript(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	errs := &pageErrors{}
	ada := newPerson(t, "ada", errs)
	ada.do(emulation.SetScriptExecutionDisabled(true))
	roomURL := meetInARoom(srv.base, "Plain", ada)
	text := func(sel string) string {
		var s string
		ada.do(chromedp.Text(sel, &s, chromedp.ByQuery))
		return strings.TrimSpace(s)
	}
	ada.do(chromedp.SendKeys(`#compose textarea`, "no scripts here", chromedp.ByQuery),
		chromedp.Submit(`#compose textarea`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[text()="no scripts here"]`, chromedp.BySearch),
	)
	post := `#messages [data-kind="post"]`
	// The time is the permalink; the entry it opens has its actions.
	ada.do(chromedp.Click(post+` a.permalink`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-highlight] .actions-plain`, chromedp.ByQuery),
	)
	ada.shot("17-nojs-permalink")
	ada.do(chromedp.Click(`.actions-plain a[href$="/react"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.quick-boosts button`, chromedp.ByQuery),
		chromedp.Click(`.quick-boosts button[value="🎉"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-highlight] .boost[data-users="ada"]`, chromedp.ByQuery),
	)
	ada.do(chromedp.Click(`.actions-plain a[href$="/edit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form.edit-form textarea`, chromedp.ByQuery),
		chromedp.SetValue(`form.edit-form textarea`, "no scripts, edited", chromedp.ByQuery),
		chromedp.Submit(`form.edit-form textarea`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-highlight][data-edited]`, chromedp.ByQuery),
	)
	if got := text(`#messages [data-highlight] .text`); got != "no scripts, edited" {
		t.Errorf("after the edit: %q", got)
	}
	ada.do(chromedp.SendKeys(`.sidebar-search input[name=q]`, "scripts", chromedp.ByQuery),
		chromedp.Submit(`.sidebar-search input[name=q]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#results mark`, chromedp.ByQuery),
	)
	if got := text(`#results mark`); got != "scripts" {
		t.Errorf("search marks %q", got)
	}
	ada.do(chromedp.Click(`#results a.permalink`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-highlight] .actions-plain`, chromedp.ByQuery),
		chromedp.Submit(`#messages [data-highlight] .actions-plain form button`, chromedp.ByQuery),
		chromedp.WaitVisible(`#messages [data-highlight][data-kind="deleted"]`, chromedp.ByQuery),
	)
	ada.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#messages [data-kind="deleted"]`, chromedp.ByQuery))
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}
