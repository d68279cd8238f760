package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"chat/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

func render(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatal(err)
	}
	return doc, buf.String()
}

var when = time.Date(2026, 11, 22, 9, 5, 0, 0, time.UTC)

func TestMessageItem(t *testing.T) {
	t.Run("Post", func(t *testing.T) {
		doc, html := render(t, views.MessageItem(views.Entry{ID: 42, Kind: "post", Author: "alice", Text: "<script>alert(1)</script>\nline two", Time: when}))
		li := doc.Find("#" + views.MessageID(42))
		if li.Length() != 1 {
			t.Fatalf("no element with id msg-42 in %s", html)
		}
		if li.AttrOr("data-kind", "") != "post" || li.AttrOr("data-author", "") != "alice" {
			t.Errorf("attributes: %s", html)
		}
		if doc.Find("script").Length() != 0 || !strings.Contains(html, "&lt;script&gt;") {
			t.Errorf("text not escaped: %s", html)
		}
		if got := li.Find(".text").Text(); got != "<script>alert(1)</script>\nline two" {
			t.Errorf("text %q", got)
		}
		if dt := li.Find("time").AttrOr("datetime", ""); dt != "2026-11-22T09:05:00Z" {
			t.Errorf("datetime %q", dt)
		}
		if src := li.Find("img.avatar").AttrOr("src", ""); src != "/users/alice/avatar" {
			t.Errorf("avatar %q", src)
		}
		if li.Find(".author").Text() != "alice" {
			t.Error("no author name")
		}
	})
	t.Run("JoinAndLeave", func(t *testing.T) {
		for kind, says := range map[string]string{"join": "joined", "leave": "left"} {
			doc, html := render(t, views.MessageItem(views.Entry{ID: 7, Kind: kind, Author: "bob", Time: when}))
			li := doc.Find("#msg-7")
			if li.AttrOr("data-kind", "") != kind || li.AttrOr("data-author", "") != "bob" || !strings.Contains(li.Text(), "bob") || !strings.Contains(li.Text(), says) {
				t.Errorf("%s: %s", kind, html)
			}
		}
	})
}

// The live push carries exactly the markup of the history.
func TestEntryPushIsTheSameMarkup(t *testing.T) {
	e := views.Entry{ID: 9, Kind: "post", Author: "carol", Text: "hi & bye", Time: when}
	_, item := render(t, views.MessageItem(e))
	doc, push := render(t, views.EntryPush(e))
	if !strings.Contains(push, item) {
		t.Errorf("push %q does not hold the item %q", push, item)
	}
	if doc.Find(`[hx-swap-oob="beforeend:#messages"] > #msg-9`).Length() != 1 {
		t.Errorf("push is not an append to #messages: %s", push)
	}
	_, list := render(t, views.MessageList([]views.Entry{e}))
	if !strings.HasSuffix(list, item) {
		t.Errorf("history fragment %q does not end with the item %q", list, item)
	}
}

// Entries of different days are apart, each day after a divider that
// names it; pushed entries come alone.
func TestDayDividers(t *testing.T) {
	day := func(d, h int) time.Time { return time.Date(2026, 11, d, h, 0, 0, 0, time.UTC) }
	entries := []views.Entry{
		{ID: 1, Kind: "post", Author: "ada", Text: "late", Time: day(29, 23)},
		{ID: 2, Kind: "join", Author: "bob", Time: day(30, 0)},
		{ID: 3, Kind: "post", Author: "bob", Text: "hi", Time: day(30, 9)},
		{ID: 4, Kind: "post", Author: "ada", Text: "next", Time: day(30, 23).Add(59 * time.Minute)},
		{ID: 5, Kind: "post", Author: "ada", Text: "december", Time: day(31, 0)}, // 1 December
	}
	doc, _ := render(t, views.MessageList(entries))
	var got []string
	doc.Find("body > li").Each(func(_ int, s *goquery.Selection) {
		if s.HasClass("day-divider") {
			got = append(got, s.Find("time").AttrOr("datetime", "")+" "+s.Text())
		} else {
			got = append(got, s.AttrOr("id", ""))
		}
	})
	want := "2026-11-29 Sunday 29 November 2026|msg-1|2026-11-30 Monday 30 November 2026|msg-2|msg-3|msg-4|2026-12-01 Tuesday 1 December 2026|msg-5"
	if strings.Join(got, "|") != want {
		t.Errorf("list\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	doc, _ = render(t, views.EntriesPush(entries))
	if n := doc.Find(".day-divider").Length(); n != 0 {
		t.Errorf("a push holds %d dividers", n)
	}
}

func TestPresenceFrames(t *testing.T) {
	doc, _ := render(t, views.PresenceList([]string{"alice", "bob"}))
	if doc.Find(`ul#presence[hx-swap-oob=true] [data-user]`).Length() != 2 {
		t.Error("presence list")
	}
	doc, _ = render(t, views.PresenceJoined("carol"))
	if doc.Find(`[hx-swap-oob="beforeend:#presence"] [data-user=carol]`).Length() != 1 {
		t.Error("presence joined")
	}
	doc, _ = render(t, views.PresenceLeft("carol"))
	if doc.Find(`#presence-carol[hx-swap-oob=delete]`).Length() != 1 {
		t.Error("presence left")
	}
}

func TestAvatar(t *testing.T) {
	for name, want := range map[string]string{"alice": "A", "ada_lovelace": "AL", "j.r.r": "JR", "x-9": "X9", "__a": "A"} {
		if got := views.Initials(name); got != want {
			t.Errorf("Initials(%q) = %q, want %q", name, got, want)
		}
	}
	if views.AvatarColor("Alice") != views.AvatarColor("alice") {
		t.Error("colour depends on letter case")
	}
	if views.AvatarColor("alice") == views.AvatarColor("bob") {
		t.Error("alice and bob share a colour")
	}
	_, svg := render(t, views.Avatar("ada_lovelace"))
	if !strings.HasPrefix(svg, "<svg") || !strings.Contains(svg, ">AL</text>") {
		t.Errorf("svg %s", svg)
	}
}

func TestViewerCSS(t *testing.T) {
	css := views.ViewerCSS("alice", false)
	for _, want := range []string{
		`body[data-viewer="alice"] .entry-post[data-author="alice"]`,
		`.entry-post[data-mentions~="alice"]`,
		`.mention[data-user="alice"]`,
		`.boost[data-users~="alice"]`,
		`.entry-post[data-author="alice"] .own-only`,
	} {
		if !strings.Contains(css, want) {
			t.Errorf("no %s in css %s", want, css)
		}
	}
	if strings.Contains(css, "bob") || strings.Contains(css, "admin-too") {
		t.Error("css names another user, or gives a user an admin's delete")
	}
	if admin := views.ViewerCSS("root", true); !strings.Contains(admin, `body[data-viewer="root"] .entry-post .admin-too`) {
		t.Errorf("admin css %s", admin)
	}
}

func TestPostTextMentionsAndMarks(t *testing.T) {
	text := "hi @Ada, café @bob"
	e := views.Entry{ID: 7, RoomID: 1, Kind: "post", Author: "bob", Text: text, Time: when,
		Mentions: []views.Span{{Start: 3, End: 7, Name: "ada"}, {Start: 15, End: 19, Name: "bob"}},
		// "ada, c" crosses the first mention's end; "bo" is inside the second.
		Marks: []views.Span{{Start: 4, End: 10}, {Start: 16, End: 18}}}
	doc, _ := render(t, views.MessageItem(e))
	p := doc.Find(".text")
	if p.Text() != text {
		t.Errorf("text reads %q", p.Text())
	}
	mentions := p.Find("span.mention")
	if mentions.Length() != 2 || mentions.First().AttrOr("data-user", "") != "ada" || mentions.First().Text() != "@Ada" ||
		mentions.Last().AttrOr("data-user", "") != "bob" || mentions.Last().Text() != "@bob" {
		t.Errorf("mentions %d: %q %q", mentions.Length(), mentions.First().Text(), mentions.Last().Text())
	}
	var marks []string
	p.Find("mark").Each(func(_ int, s *goquery.Selection) { marks = append(marks, s.Text()) })
	if strings.Join(marks, "|") != "Ada|, c|bo" {
		t.Errorf("marks %q", marks)
	}
	if e := doc.Find("li").AttrOr("data-mentions", ""); e != "ada bob" {
		t.Errorf("data-mentions %q", e)
	}
	// Spans that do not fit the text are left out, not a panic.
	e.Mentions = []views.Span{{Start: 10, End: 500, Name: "x"}}
	e.Marks = []views.Span{{Start: -1, End: 2}}
	if doc, _ := render(t, views.MessageItem(e)); doc.Find(".text").Text() != text || doc.Find(".text span, .text mark").Length() != 0 {
		t.Error("bad spans changed the text, or made a mention or a mark")
	}
}

// An admin's header reads: Go to, Admin, then who is signed in (avatar and
// name together), then Sign out.
func TestTopbarOrder(t *testing.T) {
	doc, html := render(t, views.Layout("Rooms", views.Viewer{Username: "root", Admin: true}))
	var got []string
	doc.Find(".topbar .whoami").Children().Each(func(_ int, s *goquery.Selection) {
		switch {
		case s.Is("a.switch-open"):
			got = append(got, "goto")
		case s.Is(`a[href="/admin"]`):
			got = append(got, "admin")
		case s.Is("img.avatar"):
			got = append(got, "avatar")
		case s.Is("a.whoami-name"):
			got = append(got, "name")
		case s.Is(`form[action="/logout"]`):
			got = append(got, "signout")
		}
	})
	if want := "goto admin avatar name signout"; strings.Join(got, " ") != want {
		t.Errorf("header order %q, want %q: %s", strings.Join(got, " "), want, html)
	}
}
