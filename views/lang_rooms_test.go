package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"chat/i18n"
	"chat/views"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
)

// renderIn renders a component for a reader of the language tag.
func renderIn(t *testing.T, tag string, c templ.Component) *goquery.Document {
	t.Helper()
	l, ok := i18n.Default().Lookup(tag)
	if !ok {
		t.Fatalf("no language %q", tag)
	}
	var buf bytes.Buffer
	if err := c.Render(i18n.With(context.Background(), l), &buf); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), i18n.MissingMark) {
		t.Fatalf("a key with no message: %s", buf.String())
	}
	doc, err := goquery.NewDocumentFromReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// A notification says who wrote where, and what, in the reader's words:
// the counts of a post's other files in the language's plural forms.
func TestNoticeInLanguages(t *testing.T) {
	cases := []struct {
		name        string
		n           views.Notice
		tag         string
		title, body string
	}{
		{"room", views.Notice{Author: "ada", Room: "Lounge", Text: "hi"}, "en", "ada in Lounge", "hi"},
		{"room es", views.Notice{Author: "ada", Room: "Lounge", Text: "hola"}, "es", "ada en Lounge", "hola"},
		{"dm", views.Notice{Author: "ada", Room: "x", DM: true, Text: "hi"}, "en", "ada (direct message)", "hi"},
		{"dm es", views.Notice{Author: "ada", Room: "x", DM: true, Text: "hola"}, "es", "ada (mensaje directo)", "hola"},
		{"one file", views.Notice{Author: "ada", Room: "L", File: "a.pdf"}, "es", "ada en L", "📎 a.pdf"},
		{"two files", views.Notice{Author: "ada", Room: "L", File: "a.pdf", MoreFiles: 1}, "en", "ada in L", "📎 a.pdf and 1 more file"},
		{"four files", views.Notice{Author: "ada", Room: "L", File: "a.pdf", MoreFiles: 3}, "en", "ada in L", "📎 a.pdf and 3 more files"},
		{"two files es", views.Notice{Author: "ada", Room: "L", File: "a.pdf", MoreFiles: 1}, "es", "ada en L", "📎 a.pdf y 1 archivo más"},
		{"four files es", views.Notice{Author: "ada", Room: "L", File: "a.pdf", MoreFiles: 3}, "es", "ada en L", "📎 a.pdf y 3 archivos más"},
		{"a million files es", views.Notice{Author: "ada", Room: "L", File: "a.pdf", MoreFiles: 1000000}, "es", "ada en L", "📎 a.pdf y 1000000 de archivos más"},
		{"long", views.Notice{Author: "ada", Room: "L", Text: strings.Repeat("é", 200)}, "es", "ada en L", strings.Repeat("é", 139) + "…"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := renderIn(t, c.tag, views.NoticePush(c.n)).Find("[data-notice]")
			if got := s.AttrOr("data-title", ""); got != c.title {
				t.Errorf("title %q, want %q", got, c.title)
			}
			if got := s.AttrOr("data-body", ""); got != c.body {
				t.Errorf("body %q, want %q", got, c.body)
			}
		})
	}
}

// The room list's unread marks are read out in the reader's words.
func TestUnreadMarksInLanguages(t *testing.T) {
	link := views.RoomLink{ID: 7, Name: "Lounge", Unread: true, Count: 3, Mention: true}
	for tag, want := range map[string][3]string{
		"en": {"3 unread", "@ for you", "For you"},
		"es": {"3 sin leer", "@ para ti", "Para ti"},
	} {
		doc := renderIn(t, tag, views.RoomLinkChanged(link))
		if got := doc.Find(".unread-count").Text(); got != want[0] {
			t.Errorf("%s: count %q, want %q", tag, got, want[0])
		}
		if got := doc.Find(".unread-mention").Text(); got != want[1] {
			t.Errorf("%s: mention %q, want %q", tag, got, want[1])
		}
		if got := doc.Find(".unread-mention").AttrOr("title", ""); got != want[2] {
			t.Errorf("%s: mention's title %q, want %q", tag, got, want[2])
		}
	}
}
