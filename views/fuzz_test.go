package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"unicode"
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
		"<textarea>", "</p></div></li>", "https://example.com/?q=<b>&x=\"1\"", "*https://a.b/*", "_a *b_ c*",
		"```\n<b>x</b>\n```", "> > nested\n> two", "javascript:alert(1) http://x.y/(a)) `http://in.code`", "**", "_", "`", "> ",
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
			if n.Type == html.ElementNode && attr(n, "class") == "text" {
				// Isolated, so that an override in it ends with it.
				if dir := attr(n, "dir"); dir != "auto" {
					t.Fatalf("the text has dir=%q for %q", dir, text)
				}
				got.WriteString(checkFormatted(t, n, text))
				return
			}
			if n.Type == html.ElementNode {
				if !entryElements[n.Data] {
					t.Fatalf("element <%s> from %q", n.Data, text)
				}
				for _, a := range n.Attr {
					if !entryAttributes[a.Key] {
						t.Fatalf("attribute %s from %q", a.Key, text)
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
		// those, what shows is what was written, but for the marks of
		// formatting and the spaces around them.
		if utf8.ValidString(text) && !strings.ContainsAny(text, "\x00\r") && shown(got.String()) != shown(text) {
			t.Fatalf("text %q reads back as %q", text, got.String())
		}
	})
}

// The markup formatting may put in a post's text, and what each of its
// attributes may be.
var formatElements = map[string]map[string]func(string) bool{
	"a": {
		"href": func(v string) bool {
			l := strings.ToLower(v)
			return strings.HasPrefix(l, "http://") || strings.HasPrefix(l, "https://")
		},
		"rel":    func(v string) bool { return v == "nofollow noopener noreferrer ugc" },
		"target": func(v string) bool { return v == "_blank" },
	},
	"span":   {"class": func(v string) bool { return v == "mention" || v == "quote" }, "data-user": func(string) bool { return true }},
	"code":   {"class": func(v string) bool { return v == "code-block" }},
	"strong": {}, "em": {}, "mark": {},
}

// checkFormatted fails the test if the text's element holds markup that
// formatting does not make, and returns the text it shows.
func checkFormatted(t *testing.T, p *html.Node, text string) string {
	t.Helper()
	var got strings.Builder
	var walk func(n *html.Node, inLink bool)
	walk = func(n *html.Node, inLink bool) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			switch c.Type {
			case html.TextNode:
				got.WriteString(c.Data)
			case html.ElementNode:
				attrs, ok := formatElements[c.Data]
				if !ok {
					t.Fatalf("<%s> in the text of %q", c.Data, text)
				}
				for _, a := range c.Attr {
					if check, ok := attrs[a.Key]; !ok || !check(a.Val) {
						t.Fatalf("<%s %s=%q> in the text of %q", c.Data, a.Key, a.Val, text)
					}
				}
				if c.Data == "a" {
					if inLink {
						t.Fatalf("a link in a link in %q", text)
					}
					if attr(c, "href") != textOf(c) {
						t.Fatalf("a link to %q shows %q in %q", attr(c, "href"), textOf(c), text)
					}
				}
				walk(c, inLink || c.Data == "a")
			default:
				t.Fatalf("a %v node in the text of %q", c.Type, text)
			}
		}
	}
	walk(p, false)
	return got.String()
}

func textOf(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// shown is text without what formatting may leave out: its marks, and
// white space.
func shown(text string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune("`*_>", r) || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, text)
}

// FuzzPostText: whatever spans a post's mentions and marks are said to
// cover, and whatever formatting it holds, its text reads back whole (but
// for the marks of formatting), and nothing reaches the markup but what
// formatting makes.
func FuzzPostText(f *testing.F) {
	f.Add("hi @ada and café", 3, 7, 12, 17)
	f.Add("日本語 @bob", 10, 14, 0, 3)
	f.Add("", 0, 0, 0, 0)
	f.Add("x", -5, 50, 1, 0)
	f.Add("see https://example.com/a_b*c*, @ada", 31, 35, 4, 20)
	f.Add("> *quoted* `code` _it_\n```\nfenced @ada\n```\nafter", 40, 44, 2, 30)
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
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && attr(n, "class") == "text" {
				got.WriteString(checkFormatted(t, n, text))
				return
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		want := strings.ReplaceAll(text, "\x00", "\ufffd")
		if shown(got.String()) != shown(want) && !strings.ContainsAny(text, "\x00\r") {
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
