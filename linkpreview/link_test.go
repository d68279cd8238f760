package linkpreview_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"

	"chat/linkpreview"
	"chat/views"
)

// TestFirstLink: the first http(s) link of a post, where the formatter
// makes one.
func TestFirstLink(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"", ""},
		{"no link here", ""},
		{"see https://example.com/path.", "https://example.com/path"},
		{"(https://en.wikipedia.org/wiki/Go_(language))", "https://en.wikipedia.org/wiki/Go_(language)"},
		{"HTTP://EXAMPLE.COM/A and http://b.example", "HTTP://EXAMPLE.COM/A"},
		{"ftp://x.example then http://y.example/?q=1&r=2!", "http://y.example/?q=1&r=2"},
		{"javascript:alert(1) data:text/html,x", ""},
		{"https:// and http://", ""},
		{"xhttps://example.com", ""},
		{"mid-word:https://example.com ok", "https://example.com"},
		{`https://x.example/?a=<b>"x"`, "https://x.example/?a="},
		{"https://exa\u202emple.com", "https://exa"},
		{"run `go https://x.example` then https://y.example", "https://y.example"},
		{"```\nhttps://in.fence\n```\nhttps://after.fence", "https://after.fence"},
		{"```\nan open fence https://x.example", "https://x.example"},
		{"> quoted https://q.example\nhttps://r.example", "https://q.example"},
		{">https://q.example", "https://q.example"},
		{"*https://bold.example*", "https://bold.example"},
		{"_https://it.example_", "https://it.example"},
		{"[https://x.example/a]", "https://x.example/a"},
		{"https://[::1]:8080/x", "https://[::1]:8080/x"},
		{"http://%zz", ""},
		{"http://x\thttp://y.example", "http://x"},
		{"日本語https://x.example", ""},
		{"日本語 https://x.example/日本", "https://x.example/日本"},
	} {
		if got := linkpreview.FirstLink(c.text); got != c.want {
			t.Errorf("FirstLink(%q) = %q, want %q", c.text, got, c.want)
		}
	}
}

// FuzzFirstLink: FirstLink is the href of the first link the chat's
// formatter makes of the same text.
func FuzzFirstLink(f *testing.F) {
	for _, s := range []string{
		"see https://example.com/path.",
		"run `go https://x.example` then https://y.example",
		"```\nhttps://in.fence\n```\nhttps://after.fence",
		"> q http://a.example/(x)]. _https://b.example_",
		"http://x`y` https://z.example",
		"`a` `b https://c.example` https://d.example",
		"> ```\nhttps://e.example\n```",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || strings.ContainsAny(text, "\x00\r") {
			return
		}
		if got, want := linkpreview.FirstLink(text), formattedLink(t, text); got != want {
			t.Fatalf("FirstLink(%q) = %q, the formatter links %q", text, got, want)
		}
	})
}

// formattedLink is the href of the first link in the post's text as the
// chat renders it.
func formattedLink(t *testing.T, text string) string {
	var buf bytes.Buffer
	e := views.Entry{ID: 1, RoomID: 1, Kind: "post", Author: "ada", Text: text}
	if err := views.MessageItem(e).Render(context.Background(), &buf); err != nil {
		t.Fatal(err)
	}
	doc, err := xhtml.Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var find func(n *xhtml.Node, inText bool) (string, bool)
	find = func(n *xhtml.Node, inText bool) (string, bool) {
		if n.Type == xhtml.ElementNode {
			class, href := "", ""
			for _, a := range n.Attr {
				switch a.Key {
				case "class":
					class = a.Val
				case "href":
					href = a.Val
				}
			}
			if inText && n.Data == "a" {
				return href, true
			}
			inText = inText || class == "text"
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if h, ok := find(c, inText); ok {
				return h, true
			}
		}
		return "", false
	}
	h, _ := find(doc, false)
	return h
}
