package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"chat/internal/testutil"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// A key as the keyboard sends it: its name, its code, its virtual key
// code and the text it types (none for keys that type nothing).
type keyDef struct {
	key, code string
	vk        int64
	text      string
}

var keysByName = map[string]keyDef{
	"Tab":       {"Tab", "Tab", 9, ""},
	"Enter":     {"Enter", "Enter", 13, "\r"},
	"Escape":    {"Escape", "Escape", 27, ""},
	"ArrowUp":   {"ArrowUp", "ArrowUp", 38, ""},
	"ArrowDown": {"ArrowDown", "ArrowDown", 40, ""},
	"Home":      {"Home", "Home", 36, ""},
	"End":       {"End", "End", 35, ""},
	"k":         {"k", "KeyK", 75, "k"},
}

// press presses a key and lets it go, with modifiers held, as a person
// at a keyboard does: no pointer is involved.
func press(name string, mods input.Modifier) chromedp.Action {
	k, ok := keysByName[name]
	if !ok {
		panic("no key " + name)
	}
	return chromedp.ActionFunc(func(ctx context.Context) error {
		down := input.DispatchKeyEvent(input.KeyRawDown)
		if k.text != "" && mods&(input.ModifierCtrl|input.ModifierMeta|input.ModifierAlt) == 0 {
			down = input.DispatchKeyEvent(input.KeyDown).WithText(k.text).WithUnmodifiedText(k.text)
		}
		down = down.WithKey(k.key).WithCode(k.code).WithWindowsVirtualKeyCode(k.vk).WithNativeVirtualKeyCode(k.vk).WithModifiers(mods)
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey(k.key).WithCode(k.code).
			WithWindowsVirtualKeyCode(k.vk).WithNativeVirtualKeyCode(k.vk).WithModifiers(mods).Do(ctx)
	})
}

// focused waits until the focused element matches the CSS selector sel.
func focused(sel string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel), nil)
}

// activeID is the id of the focused element.
func (p *person) activeID() string {
	var id string
	p.eval(`document.activeElement ? document.activeElement.id : ""`, &id)
	return id
}

// at checks that the page is the one at u.
func (p *person) at(u string) {
	p.t.Helper()
	var here string
	p.do(chromedp.Location(&here))
	if here != u {
		p.t.Fatalf("at %s, want %s", here, u)
	}
}

// tabTo presses Tab (with Shift, back) until the focus is on what sel
// matches, at most max times.
func (p *person) tabTo(sel string, mods input.Modifier, max int) int {
	p.t.Helper()
	var there bool
	for i := 0; i <= max; i++ {
		p.eval(fmt.Sprintf(`!!document.activeElement && document.activeElement.matches(%q)`, sel), &there)
		if there {
			return i
		}
		if i < max {
			p.do(press("Tab", mods))
		}
	}
	p.t.Fatalf("%d presses of Tab never reached %s (at %q)", max, sel, p.activeID())
	return 0
}

// A keyboard-only walk, no pointer event used: a room opens with the
// message box focused and a skip link before all else; a post sent keeps
// the focus in the box; ↑ in the empty box edits one's last post (the
// caret at the end; Enter saves, Esc cancels back to the entry); the
// message list is one stop of Tab, ↑/↓ move between its entries, Enter
// reaches an entry's toolbar, and a reaction is given from it; Ctrl+K
// switches rooms, and Esc closes the switcher back where one was; entries
// that arrive live and history loaded by scrolling keep the list one
// stop. Only the setup (sign-up, the room) and the screenshots use more.
func TestBrowserKeyboard(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	alice.acceptDialogs()

	// Set up, by whatever means: alice's room, bob in it with a post, and
	// bob's own room.
	// (Kitchen comes before alice has a page open: a room made while she
	// has one is not yet added to its list live.)
	bob := browser(t)
	postForm(t, bob, base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}})
	kitchen := postForm(t, bob, base+"/rooms", url.Values{"name": {"Kitchen"}}).Request.URL.String()
	roomURL := meetInARoom(base, "Planning", alice)
	postForm(t, bob, roomURL+"/join", nil)
	postForm(t, bob, roomURL+"/messages", url.Values{"text": {"Hello from bob"}})
	bobSees := func(path, want string) {
		t.Helper()
		var body string
		ok := testutil.Within(browserWait, func() bool {
			res, err := bob.Get(base + path)
			if err != nil {
				return false
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			body = string(b)
			return strings.Contains(body, want)
		})
		if !ok {
			t.Fatalf("the server never showed %q at %s:\n%.2000s", want, path, body)
		}
	}

	// Opening the room: the message box has the focus; the skip link is
	// the page's first stop, shown when focused, and leads to the box.
	alice.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#messages [data-author="bob"][data-kind="post"]`, chromedp.ByQuery),
		focused(`#compose textarea`), socketOpen())
	var firstStop string
	alice.eval(`[...document.querySelectorAll("a[href], button, input, textarea, select, [tabindex]")].find(el => el.tabIndex >= 0 && !el.disabled && el.checkVisibility()).className`, &firstStop)
	if firstStop != "skip-link" {
		t.Errorf("the page's first stop is %q, not the skip link", firstStop)
	}
	// Back from the box to the top of the page, the skip link is the last
	// stop: the message list on the way counts one.
	alice.tabTo(`.skip-link`, input.ModifierShift, 14)
	var skipTop float64
	alice.eval(`document.querySelector(".skip-link").getBoundingClientRect().top`, &skipTop)
	if skipTop < 0 {
		t.Errorf("the focused skip link is off the screen (top %v)", skipTop)
	}
	alice.shot("keys-skip-link")
	alice.do(press("Enter", 0), focused(`#compose textarea`))

	// The whole message list is one stop: one entry tabbable, none of its
	// time links or buttons.
	var stops int
	// The list's stops of Tab: what Tab reaches in it, but for the
	// controls of the entry the focus is in (Tab goes into those).
	countStops := `(() => {
		const open = document.activeElement && document.activeElement.closest("#messages > .entry");
		return [...document.querySelectorAll("#messages *")].filter(el => el.tabIndex >= 0 && el.checkVisibility() &&
			!(open && open !== el && open.contains(el))).length;
	})()`
	alice.eval(countStops, &stops)
	if stops != 1 {
		t.Errorf("the message list has %d stops of Tab, want 1", stops)
	}
	// Shift+Tab from the box: the list (its latest entry), then out of it.
	alice.do(press("Tab", input.ModifierShift), chromedp.Poll(`document.activeElement === [...document.querySelectorAll("#messages > .entry")].pop()`, nil),
		press("Tab", input.ModifierShift), chromedp.Poll(`!document.activeElement.closest("#messages")`, nil),
		press("Tab", 0), focused(`#messages > .entry`), press("Tab", 0))
	// Tab from the entry goes into its own controls, and on: into the
	// message box it comes in few steps.
	alice.tabTo(`#compose textarea`, 0, 8)

	// A post sent: the box is empty and focused again.
	alice.do(chromedp.KeyEvent("Lunch at noon?"), press("Enter", 0),
		chromedp.WaitVisible(`#messages > [data-author="alice"][data-kind="post"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector("#compose textarea").value === ""`, nil), focused(`#compose textarea`))
	bobSees(strings.TrimPrefix(roomURL, base), "Lunch at noon?")
	var mine string
	alice.eval(`document.querySelector('#messages > [data-author="alice"][data-kind="post"]').id`, &mine)

	// ↑ in the empty box: the last post's edit box, the caret at its end.
	alice.do(press("ArrowUp", 0), focused(`#`+mine+` .edit-form textarea`))
	var caret []int
	alice.eval(`(f => [f.selectionStart, f.selectionEnd, f.value.length])(document.activeElement)`, &caret)
	if len(caret) != 3 || caret[0] != caret[2] || caret[1] != caret[2] {
		t.Errorf("caret %v, want at the end", caret)
	}
	// Esc cancels, back to the entry.
	alice.do(press("Escape", 0), chromedp.WaitNotPresent(`#`+mine+` .edit-form`, chromedp.ByQuery), focused(`#`+mine))
	// Again, and Enter saves: the box has the focus after.
	alice.tabTo(`#compose textarea`, 0, 8)
	alice.do(press("ArrowUp", 0), focused(`#`+mine+` .edit-form textarea`), chromedp.KeyEvent(" Or one?"), press("Enter", 0),
		chromedp.WaitNotPresent(`#`+mine+` .edit-form`, chromedp.ByQuery), focused(`#compose textarea`))
	bobSees(strings.TrimPrefix(roomURL, base), "Lunch at noon? Or one?")
	alice.at(roomURL) // the edits never left the room

	// Into the list and up to bob's post: ↑ moves between entries, and the
	// entry focused is the list's one stop.
	alice.do(press("Tab", input.ModifierShift), focused(`#`+mine), press("ArrowUp", 0),
		focused(`#messages > [data-author="bob"][data-kind="post"]`))
	var bobs string
	alice.eval(`document.activeElement.id`, &bobs)
	var tabbable []string
	alice.eval(`[...document.querySelectorAll("#messages > .entry")].filter(el => el.tabIndex === 0).map(el => el.id)`, &tabbable)
	if len(tabbable) != 1 || tabbable[0] != bobs {
		t.Errorf("tabbable entries %v, want only %s", tabbable, bobs)
	}
	alice.do(press("Home", 0), chromedp.Poll(`document.activeElement === document.querySelector("#messages > .entry")`, nil), press("End", 0), focused(`#`+mine),
		press("ArrowUp", 0), focused(`#`+bobs))
	alice.shot("keys-entry-focused")

	// Enter: the toolbar's first button (react); Enter opens the picker,
	// whose first reaction has the focus; Enter gives it.
	alice.do(press("Enter", 0), focused(`#`+bobs+` #entry-toolbar [data-act="react"]`))
	alice.shot("keys-toolbar-focused")
	alice.do(press("Enter", 0), focused(`#`+bobs+` .picker .boost-choice`))
	var emoji string
	alice.eval(`document.activeElement.value`, &emoji)
	alice.do(press("Enter", 0), chromedp.WaitVisible(`#`+bobs+` .boosts .boost`, chromedp.ByQuery), focused(`#`+bobs))
	bobSees(strings.TrimPrefix(roomURL, base), `data-users="alice"`)
	bobSees(strings.TrimPrefix(roomURL, base), emoji)
	// Esc from an entry's control comes back to the entry.
	alice.do(press("Tab", 0), chromedp.Poll(fmt.Sprintf(`document.activeElement.closest("#%s") && document.activeElement.id !== %q`, bobs, bobs), nil),
		press("Escape", 0), focused(`#`+bobs))

	// Ctrl+K: the switcher, its field focused; Esc closes it, back to
	// the entry.
	alice.do(press("k", input.ModifierCtrl), focused(`#switcher-q`),
		chromedp.WaitVisible(`#switcher-results .switch-item`, chromedp.ByQuery))
	alice.shot("keys-switcher-open")
	alice.do(press("Escape", 0), chromedp.Poll(`!document.getElementById("switcher").open`, nil), focused(`#`+bobs))
	// Again: "kitch" and Enter goes to bob's room.
	alice.do(press("k", input.ModifierCtrl), focused(`#switcher-q`), chromedp.KeyEvent("kitch"),
		chromedp.WaitVisible(`#switcher-results .switch-item[data-switch-kind="room"]`, chromedp.ByQuery),
		chromedp.Poll(`[...document.querySelectorAll("#switcher-results .switch-name")].map(e => e.textContent).join() === "Kitchen"`, nil))
	alice.shot("keys-switcher-kitchen")
	alice.do(press("Enter", 0), chromedp.WaitVisible(`form[action$="/join"]`, chromedp.ByQuery))
	alice.at(kitchen)
	// And back with ↓ and Enter: the room opens with the box focused.
	alice.do(press("k", input.ModifierCtrl), focused(`#switcher-q`), chromedp.KeyEvent("PLAN"),
		chromedp.Poll(`[...document.querySelectorAll("#switcher-results .switch-name")].map(e => e.textContent).join() === "Planning"`, nil),
		press("ArrowDown", 0), focused(`#switcher-results .switch-go`), press("Enter", 0),
		chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery), focused(`#compose textarea`))
	alice.at(roomURL)

	// Entries that arrive live join the list's one stop, and End reaches
	// the newest.
	for i := 1; i <= 60; i++ {
		postForm(t, bob, roomURL+"/messages", url.Values{"text": {fmt.Sprintf("Filler %d", i)}})
	}
	alice.do(chromedp.WaitVisible(`//ol[@id="messages"]/li/div/p[text()="Filler 60"]`, chromedp.BySearch),
		press("Tab", input.ModifierShift), press("End", 0),
		chromedp.Poll(`document.activeElement.textContent.includes("Filler 60")`, nil))
	if alice.eval(countStops, &stops); stops != 1 {
		t.Errorf("with live entries, the list has %d stops of Tab, want 1", stops)
	}
	// History loaded by scrolling: Home goes to the first entry loaded,
	// whose coming into view loads older ones; they join the one stop, and
	// Home again reaches the room's very first.
	alice.do(chromedp.Navigate(roomURL), focused(`#compose textarea`), chromedp.WaitVisible(`#history-more[hx-get]`, chromedp.ByQuery),
		press("Tab", input.ModifierShift), press("Home", 0),
		chromedp.Poll(`document.querySelectorAll("#messages > .entry").length > 60`, nil),
		chromedp.WaitVisible(`#history-more.history-start`, chromedp.ByQuery))
	if alice.eval(countStops, &stops); stops != 1 {
		t.Errorf("with history loaded, the list has %d stops of Tab, want 1", stops)
	}
	alice.do(press("Home", 0), chromedp.Poll(`document.activeElement === document.querySelector("#messages > .entry") &&
		document.activeElement.matches('[data-kind="join"][data-author="alice"]')`, nil),
		press("ArrowDown", 0), chromedp.Poll(`document.activeElement === document.querySelectorAll("#messages > .entry")[1]`, nil))
	// From the top of a page of 65 entries to the message box, the long
	// way (not by the skip link): the list costs one press.
	alice.do(chromedp.Navigate(roomURL), focused(`#compose textarea`))
	alice.tabTo(`.skip-link`, input.ModifierShift, 20)
	alice.do(press("Tab", 0))
	presses := 1 + alice.tabTo(`#compose textarea`, 0, 20)
	t.Logf("Tab presses from the top of the page to the message box: %d", presses)

	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}

	if dir := os.Getenv("CHAT_SCREENSHOTS"); dir != "" {
		keyboardShots(alice, bobs, mine)
	}
}

// keyboardShots takes the switcher and a focused entry at a desk and a
// phone's size, light and dark, and the time link of one's own post.
func keyboardShots(p *person, entry, own string) {
	for _, size := range []struct {
		name string
		w, h int64
	}{{"1280", 1280, 900}, {"390", 390, 844}} {
		for _, dark := range []bool{false, true} {
			scheme := "light"
			if dark {
				scheme = "dark"
			}
			mobile := size.w < 600
			p.do(emulation.SetDeviceMetricsOverride(size.w, size.h, 1, mobile),
				emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}),
				chromedp.Evaluate(`document.getElementById("`+entry+`").focus()`, nil), focused(`#`+entry), press("Enter", 0), nextFrame())
			p.viewportShot(fmt.Sprintf("keys-entry-%s-%s", size.name, scheme))
			p.do(press("k", input.ModifierCtrl), focused(`#switcher-q`), chromedp.KeyEvent("o"),
				chromedp.WaitVisible(`#switcher-results .switch-item[data-switch-kind="person"]`, chromedp.ByQuery),
				press("ArrowDown", 0), nextFrame())
			p.viewportShot(fmt.Sprintf("keys-switcher-%s-%s", size.name, scheme))
			p.do(press("Escape", 0), chromedp.Poll(`!document.getElementById("switcher").open`, nil))
		}
	}
	// The time link of one's own post, focused, in both themes.
	for _, scheme := range []string{"light", "dark"} {
		p.do(emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}),
			chromedp.Evaluate(`document.getElementById("`+own+`").focus()`, nil), focused(`#`+own), press("Tab", 0), nextFrame())
		p.viewportShot("keys-own-time-1280-" + scheme)
	}
	// The switcher's page, as a browser without JavaScript gets it.
	var back string
	p.do(chromedp.Location(&back))
	p.do(emulation.SetDeviceMetricsOverride(390, 844, 1, true),
		chromedp.Navigate(back[:strings.Index(back, "/rooms/")]+"/switch?q=o"), chromedp.WaitVisible(`.switch-list`, chromedp.ByQuery))
	p.viewportShot("keys-switch-page-390-dark")
	p.do(emulation.SetDeviceMetricsOverride(1280, 900, 1, false),
		emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "light"}}), nextFrame())
	p.viewportShot("keys-switch-page-1280-light")
}

func (p *person) viewportShot(name string) {
	var png []byte
	if err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	dir := os.Getenv("CHAT_SCREENSHOTS")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}
