package views_test

import (
	"strings"
	"testing"

	"chat/views"
)

// TestFormatting: what each piece of the formatting subset becomes, as
// markup inside the post's text element.
func TestFormatting(t *testing.T) {
	const rel = ` rel="nofollow noopener noreferrer ugc" target="_blank"`
	link := func(u string) string { return `<a href="` + u + `"` + rel + `>` + u + `</a>` }
	for _, c := range []struct {
		name, text string
		mentions   []views.Span
		marks      []views.Span
		want       string
	}{
		{name: "plain", text: "just words", want: "just words"},
		{name: "link, sentence punctuation left out", text: "see https://example.com/path.", want: "see " + link("https://example.com/path") + "."},
		{name: "link with its own brackets", text: "(https://en.wikipedia.org/wiki/Go_(language))", want: "(" + link("https://en.wikipedia.org/wiki/Go_(language)") + ")"},
		{name: "link in capitals", text: "HTTP://EXAMPLE.COM/A", want: link("HTTP://EXAMPLE.COM/A")},
		{name: "two links", text: "http://a.example and https://b.example/x?y=1&z=2", want: link("http://a.example") + " and " + `<a href="https://b.example/x?y=1&amp;z=2"` + rel + `>https://b.example/x?y=1&amp;z=2</a>`},
		{name: "no other scheme", text: "ftp://x.example javascript:alert(1) data:text/html,x mailto:a@b.c", want: "ftp://x.example javascript:alert(1) data:text/html,x mailto:a@b.c"},
		{name: "no host, no link", text: "https:// and http://", want: "https:// and http://"},
		{name: "inside a word, no link", text: "xhttps://example.com", want: "xhttps://example.com"},
		{name: "markup ends a link and stays text", text: `https://x.example/?a=<b>"x"`, want: link("https://x.example/?a=") + "&lt;b&gt;&#34;x&#34;"},
		{name: "a direction override ends a link", text: "https://exa\u202emple.com", want: link("https://exa") + "\u202emple.com"},
		{name: "inline code is literal", text: "run `go *test* https://x.example` now", want: "run <code>go *test* https://x.example</code> now"},
		{name: "bold and italic", text: "*bold* and _italic_ in a line", want: "<strong>bold</strong> and <em>italic</em> in a line"},
		{name: "not emphasis", text: "snake_case_name 2*3*4 a * b * c __init__", want: "snake_case_name 2*3*4 a * b * c __init__"},
		{name: "emphasis holds a link", text: "*see https://x.example*", want: "<strong>see </strong>" + `<a href="https://x.example"` + rel + `><strong>https://x.example</strong></a>`},
		{name: "emphasis in one line", text: "*one\ntwo*", want: "*one\ntwo*"},
		{name: "quote", text: "> quoted\n>more\nafter", want: `<span class="quote">quoted` + "\n" + `more</span>after`},
		{name: "fenced code", text: "before\n```\n<b>x</b>\n*y* `z`\n```\nafter", want: "before\n" + `<code class="code-block">&lt;b&gt;x&lt;/b&gt;` + "\n*y* `z`</code>after"},
		{name: "a fence left open is text", text: "```\ncode", want: "```\ncode"},
		{name: "mention", text: "hi @ada", mentions: []views.Span{{Start: 3, End: 7, Name: "ada"}}, want: `hi <span class="mention" data-user="ada">@ada</span>`},
		{name: "mention in emphasis", text: "*hi @ada*", mentions: []views.Span{{Start: 4, End: 8, Name: "ada"}}, want: `<strong>hi </strong><span class="mention" data-user="ada"><strong>@ada</strong></span>`},
		{name: "no mention in a link or code", text: "https://x.example/@ada `@ada`", mentions: []views.Span{{Start: 18, End: 22, Name: "ada"}, {Start: 24, End: 28, Name: "ada"}}, want: link("https://x.example/@ada") + " <code>@ada</code>"},
		{name: "search mark in a link", text: "https://example.com", marks: []views.Span{{Start: 8, End: 15}}, want: `<a href="https://example.com"` + rel + `>https://<mark>example</mark>.com</a>`},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := views.Entry{ID: 1, RoomID: 1, Kind: "post", Author: "ada", Text: c.text, Mentions: c.mentions, Marks: c.marks}
			_, html := render(t, views.MessageItem(e))
			start := strings.Index(html, `<p class="text" dir="auto">`)
			end := strings.Index(html, "</p>")
			if start < 0 || end < start {
				t.Fatalf("no text element in %s", html)
			}
			if got := html[start+len(`<p class="text" dir="auto">`) : end]; got != c.want {
				t.Errorf("%q\n got %s\nwant %s", c.text, got, c.want)
			}
		})
	}
}
