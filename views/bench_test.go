package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"chat/i18n"
	"chat/views"

	"github.com/a-h/templ"
)

// benchPost is an ordinary post: a line of text that needs escaping.
var benchPost = views.Entry{ID: 123456, Kind: "post", Author: "alice", Text: "Hello everyone, the build is green <again> & ready.", Time: when}

// benchRender renders c again and again into one buffer.
func benchRender(b *testing.B, c templ.Component) {
	var buf bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.Render(context.Background(), &buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMessageItem renders one post's markup, as the room page, the
// history fragment and a search result do for each message.
func BenchmarkMessageItem(b *testing.B) { benchRender(b, views.MessageItem(benchPost)) }

// BenchmarkEntryPush renders the frame that pushes one post to a room's
// sockets: the same markup, wrapped in an out-of-band append.
// In Spanish, the frame a room's Spanish readers share.
func BenchmarkEntryPush(b *testing.B) {
	for _, l := range i18n.Default().Langs() {
		b.Run(l.Tag, func(b *testing.B) { benchRenderIn(b, l, views.EntryPush(benchPost)) })
	}
}

// benchRenderIn is benchRender in a language.
func benchRenderIn(b *testing.B, l *i18n.Lang, c templ.Component) {
	var buf bytes.Buffer
	ctx := i18n.With(context.Background(), l)
	b.ReportAllocs()
	for b.Loop() {
		buf.Reset()
		if err := c.Render(ctx, &buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFormattedPost renders a post with a link, emphasis and code.
func BenchmarkFormattedPost(b *testing.B) {
	e := benchPost
	e.Text = "The *deploy* notes are at https://example.com/docs/deploy_guide; run `go test ./...` first."
	benchRender(b, views.MessageItem(e))
}

// BenchmarkFormatWorst renders the longest posts that formatting finds
// most to do in: each costs in proportion to its length, not its square.
func BenchmarkFormatWorst(b *testing.B) {
	for name, text := range map[string]string{
		"stars":  strings.Repeat("*a ", 1333),
		"parens": "http://x.y/" + strings.Repeat(")", 3980),
		"links":  strings.Repeat("http://a.b ", 363),
		"quotes": strings.Repeat(">\n", 2000),
		"mixed":  strings.Repeat("*_`http://a.b/_* ", 235),
		// URLs with no host, and one that does not parse: each a run
		// of would-be links that is not one.
		"hostless": strings.Repeat("http:///", 499),
		"unparsed": strings.Repeat("http://a/", 444) + "%zz",
	} {
		e := benchPost
		e.Text = text
		b.Run(name, func(b *testing.B) { benchRender(b, views.MessageItem(e)) })
	}
}
