package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode/utf8"

	"chat/views"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// The markup an entry may have; anything else came from the user's text.
var (
	entryElements   = map[string]bool{"li": true, "img": true, "div": true, "span": true, "time": true, "p": true, "a": true, "form": true, "button": true}
	entryAttributes = map[string]bool{"id": true, "class": true, "data-kind": true, "data-author": true, "data-client-id": true,
		"src": true, "alt": true, "width": true, "height": true, "loading": true, "datetime": true, "title": true, "data-rev": true,
		"href": true, "hx-get": true, "hx-post": true, "hx-target": true, "hx-swap": true, "hx-confirm": true, "aria-label": true,
		"method": true, "action": true, "type": true, "dir": true}
)

// FuzzMessageItem: whatever a post says, no element or attribute of it
// reaches the HTML, and the text reads back as written.
func FuzzMessageItem(f *testing.F) {
	for _, seed := range []string{
		"hello", "<script>alert(1)</script>", `"><img src=x onerror=alert(1)>`, "a & b < c > d",
		"line one\nline two", "<!-- comment -->", "<![CDATA[x]]>", "&lt;already escaped&gt;", "&#x3C;b&#x3E;",
		"<svg><style>*{}</style></svg>", "</li><li id=msg-1>", "' onmouseover='x", "`${x}`", "日本語 🍵", "\u202eevil",
		"<textarea>", "</p></div></li>",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var buf bytes.Buffer
		e := views.Entry{ID: 1, Kind: "post", Author: "alice", Text: text}
		if err := views.MessageItem(e).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		// Parse as a fragment of a list, as it sits in #messages.
		ctx := &html.Node{Type: html.ElementNode, Data: "ol", DataAtom: atom.Ol}
		nodes, err := html.ParseFragment(strings.NewReader(buf.String()), ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(nodes) != 1 {
			t.Fatalf("%d top-level nodes for %q", len(nodes), text)
		}
		var walk func(*html.Node)
		var got strings.Builder
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				if !entryElements[n.Data] {
					t.Fatalf("element <%s> from %q", n.Data, text)
				}
				for _, a := range n.Attr {
					if !entryAttributes[a.Key] {
						t.Fatalf("attribute %s from %q", a.Key, text)
					}
				}
				for _, a := range n.Attr {
					if a.Key == "class" && a.Val == "text" {
						// Isolated, so that an override in it ends with it.
						if dir := attr(n, "dir"); dir != "auto" {
							t.Fatalf("the text has dir=%q for %q", dir, text)
						}
						for c := n.FirstChild; c != nil; c = c.NextSibling {
							if c.Type != html.TextNode {
								t.Fatalf("the text holds a %v node for %q", c.Type, text)
							}
							got.WriteString(c.Data)
						}
					}
				}
			}
			if n.Type == html.CommentNode {
				t.Fatalf("comment from %q", text)
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(nodes[0])
		// The parser turns NUL, CR and invalid bytes into other text; past
		// those, what shows is what was written.
		if utf8.ValidString(text) && !strings.ContainsAny(text, "\x00\r") && !strings.HasPrefix(text, "\n") && got.String() != text {
			t.Fatalf("text %q reads back as %q", text, got.String())
		}
	})
}

// FuzzPostText: whatever spans a post's mentions and marks are said to
// cover, its text reads back whole, and no span reaches the markup but as
// a mention or a mark.
func FuzzPostText(f *testing.F) {
	f.Add("hi @ada and café", 3, 7, 12, 17)
	f.Add("日本語 @bob", 10, 14, 0, 3)
	f.Add("", 0, 0, 0, 0)
	f.Add("x", -5, 50, 1, 0)
	f.Fuzz(func(t *testing.T, text string, ms, me, ks, ke int) {
		if !utf8.ValidString(text) {
			return
		}
		e := views.Entry{ID: 1, RoomID: 1, Kind: "post", Author: "ada", Text: text,
			Mentions: []views.Span{{Start: ms, End: me, Name: "ada"}}, Marks: []views.Span{{Start: ks, End: ke}}}
		var buf bytes.Buffer
		if err := views.MessageItem(e).Render(context.Background(), &buf); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader(buf.String()))
		if err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		var walk func(*html.Node, bool)
		walk = func(n *html.Node, in bool) {
			if n.Type == html.ElementNode {
				for _, a := range n.Attr {
					if a.Key == "class" && a.Val == "text" {
						in = true
					}
				}
				if in && n.Data != "p" && n.Data != "span" && n.Data != "mark" {
					t.Fatalf("<%s> inside the text of %q", n.Data, text)
				}
			}
			if in && n.Type == html.TextNode {
				got.WriteString(n.Data)
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c, in)
			}
		}
		walk(doc, false)
		want := strings.ReplaceAll(text, "\r\n", "\n")
		want = strings.ReplaceAll(want, "\r", "\n")
		want = strings.ReplaceAll(want, "\x00", "\ufffd")
		if got.String() != want && !strings.ContainsAny(text, "\x00\r") {
			t.Fatalf("text %q reads back %q", text, got.String())
		}
	})
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}
