package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// Direct messages started from a member's name, live with unread marks;
// an avatar uploaded and shown; the admin page and a bot's token.
func TestBrowserPeople(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0", "-webhook-allow", "127.0.0.1")
	base := srv.base
	errs := &pageErrors{}
	alice := newPerson(t, "alice", errs)
	bob := newPerson(t, "bob", errs)
	roomURL := meetInARoom(base, "Team", alice, bob) // alice: the first account, an admin

	// Alice uploads a picture: it replaces her initials.
	pic := filepath.Join(t.TempDir(), "me.png")
	img := image.NewRGBA(image.Rect(0, 0, 400, 300))
	for x := range 400 {
		for y := range 300 {
			img.Set(x, y, color.RGBA{uint8(x / 2), 120, uint8(y), 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	os.WriteFile(pic, buf.Bytes(), 0o644)
	var natural int
	alice.do(chromedp.Navigate(base+"/account/password"),
		chromedp.SetUploadFiles(`input[name=avatar]`, []string{pic}, chromedp.ByQuery),
		chromedp.Submit(`input[name=avatar]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.notice`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector(".avatar-large").complete && document.querySelector(".avatar-large").naturalWidth`, &natural),
	)
	if natural != 128 {
		t.Errorf("the uploaded picture is %d pixels wide, want 128", natural)
	}
	alice.shot("13-account")

	// Bob writes to Alice from the member list: her name, then her profile.
	bob.do(chromedp.Click(`#members a[href="/users/alice"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`form[action="/users/alice/dm"] button`, chromedp.ByQuery),
		chromedp.Click(`form[action="/users/alice/dm"] button`, chromedp.ByQuery),
		chromedp.WaitVisible(`h1.dm-title`, chromedp.ByQuery),
	)
	var dmURL string
	bob.do(chromedp.Location(&dmURL))
	dmPath := strings.TrimPrefix(dmURL, base)
	// Alice, in the room, sees the new direct messages marked, live.
	alice.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery))
	alice.do(socketOpen())
	bob.do(chromedp.SendKeys(`#compose textarea`, "Lunch, just us?", chromedp.ByQuery), pressEnter(false))
	alice.do(chromedp.WaitVisible(`#dm-list a[href="`+dmPath+`"][data-unread]`, chromedp.ByQuery))
	alice.shot("14-dm-unread")
	alice.do(chromedp.Click(`#dm-list a[href="`+dmPath+`"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[text()="Lunch, just us?"]`, chromedp.BySearch),
		chromedp.SendKeys(`#compose textarea`, "Yes!", chromedp.ByQuery), pressEnter(false),
	)
	bob.do(chromedp.WaitVisible(`//p[text()="Yes!"]`, chromedp.BySearch))
	var title string
	bob.do(chromedp.Text(`h1.dm-title`, &title, chromedp.ByQuery))
	if strings.TrimSpace(title) != "alice" {
		t.Errorf("bob's dm is titled %q", title)
	}
	bob.shot("15-dm")

	// The admin page, and a bot's token shown once.
	alice.do(chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible(`tr[data-user="bob"]`, chromedp.ByQuery),
	)
	alice.shot("16-admin")
	alice.do(chromedp.SendKeys(`input[name=name][pattern]`, "helper", chromedp.ByQuery),
		chromedp.Submit(`input[name=name][pattern]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#bot-token`, chromedp.ByQuery),
	)
	var token string
	alice.do(chromedp.Text(`#bot-token`, &token, chromedp.ByQuery))
	if !strings.HasPrefix(token, "chatbot_") {
		t.Errorf("token %q", token)
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %q", e)
	}
}
