package linkpreview_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestImageRules: the card's picture is fetched under the page's rules
// (address, port, scheme, redirects, size, time) and taken only when its
// bytes are a picture; when it cannot be had, the card comes without one.
func TestImageRules(t *testing.T) {
	pic := pngOf(t, 8, 6)
	other := newSite(t, serve("image/png", pic))
	var imgRef string
	var s *site
	s = newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			html(`<title>page</title><meta property="og:image" content="`+imgRef+`">`)(w, r)
		case "/ok.png":
			serve("image/png", pic)(w, r)
		case "/svg":
			serve("image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="8" height="6"/></svg>`))(w, r)
		case "/html":
			serve("image/png", []byte(`<html><script>alert(1)</script></html>`))(w, r)
		case "/bmp":
			serve("image/bmp", append([]byte("BM"), make([]byte, 64)...))(w, r)
		case "/broken.png":
			serve("image/png", pic[:len(pic)/2])(w, r)
		case "/huge.png":
			serve("image/png", append(append([]byte{}, pic...), make([]byte, 64<<10)...))(w, r)
		case "/stall.png":
			w.Header().Set("Content-Type", "image/png")
			w.Write(pic[:16])
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			s.sawClose()
		case "/to-private":
			http.Redirect(w, r, "http://10.0.0.1/x.png", http.StatusFound)
		case "/to-other":
			http.Redirect(w, r, other.url("/x.png"), http.StatusFound)
		case "/to-ok":
			http.Redirect(w, r, "/ok.png", http.StatusFound)
		case "/404.png":
			http.NotFound(w, r)
		}
	})
	cfg := allowing(s)
	cfg.Timeout = 2 * time.Second // the stalled picture's
	for _, c := range []struct {
		ref  string
		want bool
	}{
		{"/ok.png", true},
		{"ok.png", true},
		{s.url("/ok.png"), true},
		{"  /to-ok  ", true},
		{"//127.0.0.1:" + itoa(s.port) + "/ok.png", true},
		{"/svg", false},
		{"/html", false},
		{"/bmp", false},
		{"/broken.png", false},
		{"/huge.png", false},
		{"/stall.png", false},
		{"/404.png", false},
		{"/to-private", false},
		{"/to-other", false},
		{other.url("/x.png"), false},
		{"http://169.254.169.254/latest/meta-data/", false},
		{"http://[::1]:" + itoa(s.port) + "/ok.png", false},
		{"file:///etc/passwd", false},
		{"data:image/png;base64,iVBORw0KGgo=", false},
		{"javascript:alert(1)", false},
		{"ftp://127.0.0.1:" + itoa(s.port) + "/ok.png", false},
	} {
		t.Run(c.ref, func(t *testing.T) {
			imgRef = c.ref
			card, err := fetchWithin(t, cfg, s.url("/"))
			if err != nil || card.Title != "page" {
				t.Fatalf("%+v, %v; want the page's card", card, err)
			}
			if got := card.Image != nil; got != c.want || got && (card.ImageWidth != 8 || card.ImageHeight != 6 || card.ImageType != "image/png") {
				t.Errorf("picture %v (%s %dx%d), want %v", got, card.ImageType, card.ImageWidth, card.ImageHeight, c.want)
			}
		})
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("a server on a port not let through was reached %d times", n)
	}
	s.waitClosed(t) // the stalled picture's connection was closed
}

// TestNoReencodeNoImage: without Reencode no picture is fetched at all;
// a Reencode that fails leaves the card without one.
func TestNoReencodeNoImage(t *testing.T) {
	var pics atomic.Int64
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/p.png" {
			pics.Add(1)
			w.Write(pngOf(t, 2, 2))
			return
		}
		html(`<title>page</title><meta property="og:image" content="/p.png">`)(w, r)
	})
	cfg := allowing(s)
	cfg.Reencode = nil
	card, err := fetch(t, cfg, s.url("/"))
	if err != nil || card.Image != nil || pics.Load() != 0 {
		t.Errorf("%+v, %v, %d fetches of the picture; want a card without picture, and none", card, err, pics.Load())
	}
	cfg.Reencode = func(context.Context, io.Reader) ([]byte, string, int, int, error) {
		return nil, "", 0, 0, errors.New("no")
	}
	card, err = fetch(t, cfg, s.url("/"))
	if err != nil || card.Image != nil || pics.Load() != 1 {
		t.Errorf("%+v, %v, %d fetches of the picture; want a card without picture", card, err, pics.Load())
	}
	cfg.Reencode = func(context.Context, io.Reader) ([]byte, string, int, int, error) {
		return []byte("x"), "image/png", 0, 0, nil // no size: no picture
	}
	card, err = fetch(t, cfg, s.url("/"))
	if err != nil || card.Image != nil || pics.Load() != 2 {
		t.Errorf("%+v, %v, %d fetches of the picture; want a card without picture", card, err, pics.Load())
	}
}

// TestImageOwnTimeout: the picture has a time of its own, whatever the
// page took, and the caller's context still ends it.
func TestImageOwnTimeout(t *testing.T) {
	var s *site
	s = newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/p.png" { // the header, a start, then nothing
			w.Header().Set("Content-Type", "image/png")
			w.Write([]byte("\x89PNG\r\n\x1a\n"))
			w.(http.Flusher).Flush()
			<-r.Context().Done()
			s.sawClose()
			return
		}
		html(`<title>page</title><meta property="og:image" content="/p.png">`)(w, r)
	})
	cfg := allowing(s)
	cfg.Timeout = time.Second
	card, err := fetchWithin(t, cfg, s.url("/"))
	if err != nil || card.Image != nil || !strings.Contains(card.Title, "page") {
		t.Errorf("%+v, %v", card, err)
	}
	s.waitClosed(t)
}
