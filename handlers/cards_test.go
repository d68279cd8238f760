package handlers_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"chat/handlers"
	"chat/internal/testutil"
	"chat/linkpreview"
	"chat/media"
)

// withLinkPreviews turns link previews on, with a fetcher that may reach
// the test's own site on loopback (the chat's never may).
func withLinkPreviews() serverOption {
	pictures := media.NewPictures(1, 24_000_000)
	f := linkpreview.New(linkpreview.Config{
		Timeout:   5 * time.Second,
		AllowAddr: func(a netip.Addr) bool { return a.IsLoopback() },
		AllowPort: func(int) bool { return true },
		Reencode: func(ctx context.Context, r io.Reader) ([]byte, string, int, int, error) {
			return pictures.Preview(ctx, r, 400)
		},
	})
	return func(d *handlers.Deps) { d.LinkPreviews = f }
}

// TestLinkCards: a post's first link gets a card after the post is
// pushed: the page's title, description and a picture the chat made
// again and serves itself; the author removes it, for good; no one else
// may.
func TestLinkCards(t *testing.T) {
	var pageHits atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/article":
			pageHits.Add(1)
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, `<!doctype html><html><head><title>Fallback</title>
<meta property="og:title" content="Lighthouses of the North &amp; more">
<meta property="og:description" content="A tour of twelve lighthouses.">
<meta property="og:site_name" content="Coast Weekly">
<meta property="og:image" content="/cover.png"></head><body>…</body></html>`)
		case "/cover.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pngOf(800, 400))
		default:
			http.NotFound(w, r)
		}
	}))
	defer site.Close()
	srv := newServer(t, withLinkPreviews())
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("reading")
	bob.post(room+"/join", nil)
	live := bob.dial(room, -1).settle()

	alice.post(room+"/messages", url.Values{"text": {"Read this: " + site.URL + "/article and " + site.URL + "/other"}})
	first := live.next(`[data-kind="post"]`, 10*time.Second)
	if first.Find(".link-card").Length() != 0 {
		t.Fatal("the post waited for its card")
	}
	card := live.next(".link-card", 10*time.Second)
	if got := card.Find(".link-card-title").Text(); strings.TrimSpace(got) != "Lighthouses of the North & more" {
		t.Errorf("title %q", got)
	}
	if got := card.Find(".link-card-title").AttrOr("href", ""); got != site.URL+"/article" {
		t.Errorf("the card links to %q", got)
	}
	if !strings.Contains(card.Find(".link-card-desc").Text(), "twelve lighthouses") || !strings.Contains(card.Find(".link-card-site").Text(), "Coast Weekly") {
		t.Errorf("card: %q / %q", card.Find(".link-card-desc").Text(), card.Find(".link-card-site").Text())
	}
	img := card.Find("img")
	src := img.AttrOr("src", "")
	if !strings.HasPrefix(src, "/files/") || img.AttrOr("width", "") != "400" || img.AttrOr("height", "") != "200" {
		t.Fatalf("card picture %q %s×%s", src, img.AttrOr("width", ""), img.AttrOr("height", ""))
	}
	if res := bob.get(src); res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "image/") {
		t.Errorf("card picture to a reader: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}

	id := alice.lastEntryID(room)
	idSel := "#msg-" + strconv.FormatInt(id, 10)
	edit := "/messages/" + strconv.FormatInt(id, 10) + "/edit"
	// An edit that keeps the link keeps its card.
	alice.post(edit, url.Values{"text": {"Read this, really: " + site.URL + "/article"}})
	if kept := live.next(idSel+"[data-edited]", 10*time.Second); kept.Find(".link-card").Length() != 1 {
		t.Error("an edit keeping the link lost its card")
	}
	remove := "/messages/" + strconv.FormatInt(id, 10) + "/card/remove"
	if res := bob.post(remove, nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("someone else removes the card: %d", res.StatusCode)
	}
	if res := alice.post(remove, nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the author removes the card: %d %s", res.StatusCode, res.Body)
	}
	gone := live.next(idSel, 10*time.Second)
	for gone.Find(".link-card").Length() > 0 {
		gone = live.next(idSel, 10*time.Second)
	}
	if res := bob.get(room); strings.Contains(res.Body, "link-card") {
		t.Error("the removed card is still on the page")
	}
	if res := bob.get(src); res.StatusCode != http.StatusNotFound {
		t.Errorf("the removed card's picture: %d", res.StatusCode)
	}

	// A card is of the post's first link: an edit to another link no
	// longer shows it.
	alice.post(room+"/messages", url.Values{"text": {site.URL + "/article"}})
	second := live.next(".link-card", 10*time.Second).Closest(".entry").AttrOr("id", "")
	alice.post("/messages/"+strings.TrimPrefix(second, "msg-")+"/edit", url.Values{"text": {"no link now"}})
	if after := live.next("#"+second+"[data-edited]", 10*time.Second); after.Find(".link-card").Length() != 0 {
		t.Error("the card stayed after its link was edited away")
	}
	if pageHits.Load() != 2 {
		t.Errorf("the page was fetched %d times for two posts", pageHits.Load())
	}
}

// TestLinkCardsOff: without -link-previews, no site is ever asked.
func TestLinkCardsOff(t *testing.T) {
	var hits atomic.Int32
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer site.Close()
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("reading")
	live := alice.dial(room, -1).settle()
	alice.post(room+"/messages", url.Values{"text": {site.URL + "/article"}})
	live.next(`[data-kind="post"]`, 10*time.Second)
	alice.post(room+"/messages", url.Values{"text": {"marker"}})
	live.next(`[data-kind="post"]`, 10*time.Second)
	if hits.Load() != 0 {
		t.Errorf("the site was asked %d times with previews off", hits.Load())
	}
}

// TestLinkCardsLogNoAddress: a link that gets no card is logged by its
// site alone: its path and query (a token, say) never reach the log.
func TestLinkCardsLogNoAddress(t *testing.T) {
	f := linkpreview.New(linkpreview.Config{Timeout: 5 * time.Second, AllowPort: func(int) bool { return true }})
	srv := newServer(t, func(d *handlers.Deps) { d.LinkPreviews = f })
	alice := srv.register(t, "alice")
	room := alice.createRoom("reading")
	alice.post(room+"/messages", url.Values{"text": {"http://localhost:9/reset/SECRET-TOKEN-123?key=QUERY-SECRET"}})
	testutil.Eventually(t, 10*time.Second, func() bool { return strings.Contains(srv.Logs.String(), "no link preview") }, "no log of the refused preview")
	if logs := srv.Logs.String(); strings.Contains(logs, "SECRET-TOKEN") || strings.Contains(logs, "QUERY-SECRET") {
		t.Errorf("the log holds the link's path or query:\n%s", logs)
	}
}
