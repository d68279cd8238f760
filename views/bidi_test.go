package views_test

import (
	"strings"
	"testing"
	"unicode"

	"chat/views"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// isolated reports whether n sits inside an element that the browser
// isolates from its surroundings (an element with dir, or bdi), below
// the entry: an override within it ends where it ends.
func isolated(n *html.Node) bool {
	for p := n.Parent; p != nil; p = p.Parent {
		if p.Type != html.ElementNode {
			continue
		}
		if p.Data == "bdi" {
			return true
		}
		for _, a := range p.Attr {
			if a.Key == "dir" {
				return true
			}
		}
		if p.Data == "li" {
			return false
		}
	}
	return false
}

// A post's text, its room's name in a search result and its reactions
// come from users: each is rendered inside an isolating element, so that
// a direction override left open (U+202E) cannot turn around what follows
// it (the time, the count, the next entry).
func TestBidiIsolated(t *testing.T) {
	const rlo = "\u202e"
	for _, tc := range []struct {
		name string
		e    views.Entry
	}{
		{"Plain", views.Entry{ID: 7, Kind: "post", Author: "mallory", Text: "invoice" + rlo + "fdp.exe", Time: when}},
		{"Mentions", views.Entry{ID: 7, Kind: "post", Author: "mallory", Text: "@bob " + rlo + "olleh @bob",
			Mentions: []views.Span{{Start: 0, End: 4, Name: "bob"}, {Start: 16, End: 20, Name: "bob"}}, Time: when}},
		{"Search", views.Entry{ID: 7, RoomID: 3, RoomName: "lobby" + rlo, Kind: "post", Author: "mallory", Text: "needle " + rlo + "tail",
			Marks: []views.Span{{Start: 0, End: 6}}, Time: when}},
		{"Reactions", views.Entry{ID: 7, Kind: "post", Author: "mallory", Text: "hi", Time: when,
			Boosts: []views.Boost{{Emoji: "ok" + rlo, Users: []string{"bob"}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, out := render(t, views.MessageItem(tc.e))
			text := doc.Find("#" + views.MessageID(7) + " p.text")
			if text.AttrOr("dir", "") != "auto" {
				t.Errorf("the post's text is not isolated: %s", out)
			}
			found := 0
			doc.Find("*").Each(func(_ int, s *goquery.Selection) {
				for _, n := range s.Nodes {
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						if c.Type != html.TextNode || !strings.ContainsFunc(c.Data, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) }) {
							continue
						}
						found++
						if !isolated(c) {
							t.Errorf("an override in %q inside <%s class=%q> is not isolated", c.Data, n.Data, s.AttrOr("class", ""))
						}
					}
				}
			})
			if found == 0 {
				t.Fatalf("the override did not reach the page: %s", out)
			}
		})
	}
}
