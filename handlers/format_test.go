package handlers_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"chat/internal/testutil"
)

// TestFormattedPosts: a post's links and formatting are the same markup on
// the page, in a history fragment, in a search result and pushed live; no
// markup the author typed gets through, and search matches the words as
// typed.
func TestFormattedPosts(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("general")
	bob.post(room+"/join", nil)
	live := bob.dial(room, -1)
	text := "read https://example.com/deploy_notes?a=1&b=2. *now* `<b>x</b>` https://x.example/\"onmouseover=\"alert(1)"
	if res := alice.post(room+"/messages", url.Values{"text": {text}}); res.StatusCode != 303 {
		t.Fatalf("post: %d", res.StatusCode)
	}
	check := func(where string, html string) {
		t.Helper()
		doc := response{Body: html}.doc(t)
		p := doc.Find(".entry-post .text")
		if p.Length() != 1 {
			t.Fatalf("%s: %d texts", where, p.Length())
		}
		links := p.Find("a")
		if links.Length() != 2 {
			t.Fatalf("%s: %d links in %s", where, links.Length(), html)
		}
		for i, want := range []string{"https://example.com/deploy_notes?a=1&b=2", "https://x.example/"} {
			a := links.Eq(i)
			if a.AttrOr("href", "") != want || a.Text() != want || a.AttrOr("rel", "") != "nofollow noopener noreferrer ugc" || a.AttrOr("target", "") != "_blank" {
				t.Errorf("%s: link %d is %q → %q rel %q", where, i, a.Text(), a.AttrOr("href", ""), a.AttrOr("rel", ""))
			}
			if _, extra := a.Attr("onmouseover"); extra {
				t.Errorf("%s: a link took an attribute from the text", where)
			}
		}
		if p.Find("strong").Text() != "now" || p.Find("code").Text() != "<b>x</b>" || p.Find("b").Length() != 0 {
			t.Errorf("%s: formatting %s", where, html)
		}
	}
	page := alice.get(room)
	check("page", page.Body)
	frame := live.next(".entry-post", long)
	html, _ := frame.Parent().Html()
	check("live", html)
	last, _ := strconv.ParseInt(strings.TrimPrefix(page.doc(t).Find(".entry-post").Last().AttrOr("id", ""), "msg-"), 10, 64)
	check("history", alice.get(room+"/messages?before="+strconv.FormatInt(last+1, 10)).Body)
	// Search reads the text as typed: the word inside the link is found,
	// and the result shows the link.
	testutil.Eventually(t, long, func() bool { return strings.Contains(alice.get("/search?q=deploy_notes").Body, "<mark>") }, "the link's words are not found")
	check("search", alice.get("/search?q=deploy_notes").Body)
}
