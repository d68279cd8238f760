package linkpreview_test

import (
	"bytes"
	"image/png"
	"net/http"
	"testing"

	"chat/linkpreview"
)

// TestFetchCard: a page's OpenGraph title, description, site name and
// picture make its card; the picture is fetched from the page's own
// server, resolved against the page's URL, and re-encoded.
func TestFetchCard(t *testing.T) {
	pic := pngOf(t, 40, 30)
	var s *site
	s = newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/post":
			html(`<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Caf&eacute; &amp; friends">
<meta property="og:description" content="  A   page
 about   coffee. ">
<meta property="og:site_name" content="Coffee Times">
<meta property="og:image" content="img/cup.png">
</head><body>hi</body></html>`)(w, r)
		case "/img/cup.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic)
		default:
			http.NotFound(w, r)
		}
	})
	card, err := fetch(t, allowing(s), s.url("/post"))
	if err != nil {
		t.Fatal(err)
	}
	want := linkpreview.Card{URL: s.url("/post"), Title: "Café & friends", Description: "A page about coffee.", Site: "Coffee Times"}
	if card.URL != want.URL || card.Title != want.Title || card.Description != want.Description || card.Site != want.Site {
		t.Errorf("card %+v, want %+v", card, want)
	}
	if card.ImageType != "image/png" || card.ImageWidth != 40 || card.ImageHeight != 30 {
		t.Fatalf("picture %s %dx%d, want image/png 40x30", card.ImageType, card.ImageWidth, card.ImageHeight)
	}
	img, err := png.Decode(bytes.NewReader(card.Image))
	if err != nil || img.Bounds().Dx() != 40 {
		t.Fatalf("the card's picture does not decode: %v", err)
	}
	if s.hits.Load() != 2 {
		t.Errorf("%d requests, want 2 (page and picture)", s.hits.Load())
	}
}

// TestRedirectedCard: after a redirect, the picture is resolved against
// the page it came to, and the site is that page's host; the card's URL
// is the link as given.
func TestRedirectedCard(t *testing.T) {
	pic := pngOf(t, 5, 5)
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/short":
			http.Redirect(w, r, "/articles/long", http.StatusMovedPermanently)
		case "/articles/long":
			html(`<title>moved</title><meta property="og:image" content="pic.png">`)(w, r)
		case "/articles/pic.png":
			w.Write(pic)
		default:
			http.NotFound(w, r)
		}
	})
	card, err := fetch(t, allowing(s), s.url("/short"))
	if err != nil || card.Title != "moved" || card.URL != s.url("/short") || card.Site != "127.0.0.1" || card.ImageWidth != 5 {
		t.Errorf("%+v, %v", card, err)
	}
}
