package linkpreview_test

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"chat/linkpreview"
)

// serve answers body with the Content-Type given ("" for none).
func serve(contentType string, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if contentType == "" {
			w.Header()["Content-Type"] = nil // no sniffing by the server either
		} else {
			w.Header().Set("Content-Type", contentType)
		}
		w.Write(body)
	}
}

// TestContentType: text/html only, by the header and by the bytes: a
// server that says text/html and sends a picture or other binary bytes
// gives no card (and no panic).
func TestContentType(t *testing.T) {
	page := []byte(`<title>a page</title>`)
	noise := make([]byte, 4096)
	rand.Read(noise)
	noise[0] = 0 // binary for sure
	for _, c := range []struct {
		name, contentType string
		body              []byte
		want              error
	}{
		{"html", "text/html; charset=utf-8", page, nil},
		{"html in capitals", "TEXT/HTML", page, nil},
		{"html, leading blank lines", "text/html", append([]byte("\n\n  "), page...), nil},
		{"no type", "", page, linkpreview.ErrNotHTML},
		{"plain text", "text/plain", page, linkpreview.ErrNotHTML},
		{"json", "application/json", page, linkpreview.ErrNotHTML},
		{"xhtml", "application/xhtml+xml", page, linkpreview.ErrNotHTML},
		{"a picture said", "image/png", pngOf(t, 2, 2), linkpreview.ErrNotHTML},
		{"bad type", "text/html; charset", page, linkpreview.ErrNotHTML},
		{"a PNG said to be html", "text/html", pngOf(t, 2, 2), linkpreview.ErrNotHTML},
		{"a GIF said to be html", "text/html", []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;<title>x</title>"), linkpreview.ErrNotHTML},
		{"a zip said to be html", "text/html", []byte("PK\x03\x04<title>x</title>"), linkpreview.ErrNotHTML},
		{"noise said to be html", "text/html", noise, linkpreview.ErrNotHTML},
		{"gzip said to be html", "text/html", []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03<title>x</title>"), linkpreview.ErrNotHTML},
		{"a PDF said to be html", "text/html", []byte("%PDF-1.7\n<title>x</title>"), linkpreview.ErrNotHTML},
		{"no title, no description", "text/html", []byte("<p>just text</p>"), linkpreview.ErrNothingToShow},
		{"empty", "text/html", nil, linkpreview.ErrNothingToShow},
		{"a blank title", "text/html", []byte("<title> \u202e\t</title>"), linkpreview.ErrNothingToShow},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t, serve(c.contentType, c.body))
			card, err := fetch(t, allowing(s), s.url("/"))
			switch {
			case c.want == nil && (err != nil || card.Title != "a page"):
				t.Errorf("%+v, %v; want the card", card, err)
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("error %v, want %v", err, c.want)
			}
		})
	}
}

// TestStatus: only a success makes a card.
func TestStatus(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<title>Not found</title>"))
	})
	_, err := fetch(t, allowing(s), s.url("/"))
	wantErr(t, err, linkpreview.ErrStatus)
}

// TestTitleAndDescription: og:title, else twitter:title, else <title>;
// og:description, else the meta description; the text cleaned and
// bounded.
func TestTitleAndDescription(t *testing.T) {
	for _, c := range []struct {
		name, head, title, description, site string
	}{
		{"og", `<meta property="og:title" content="OG"><meta name="twitter:title" content="TW"><title>T</title><meta property="og:description" content="OD"><meta name="description" content="D">`, "OG", "OD", ""},
		{"twitter", `<meta name="twitter:title" content="TW"><title>T</title><meta name="description" content="D">`, "TW", "D", ""},
		{"title", `<title>
   T   itle
</title>`, "T itle", "", ""},
		{"an empty og:title falls through", `<meta property="og:title" content="  "><title>T</title>`, "T", "", ""},
		{"entities decoded once", `<title>&lt;script&gt;alert(1)&lt;/script&gt; &amp;amp;</title><meta name="description" content="&quot;q&quot; &#x27;s&#39;">`, "<script>alert(1)</script> &amp;", `"q" 's'`, ""},
		{"direction and control characters", "<title>gnp.\u202eexe\u0007</title>", "gnp.exe", "", ""},
		{"site name", `<title>T</title><meta property="og:site_name" content=" The  Site ">`, "T", "", "The Site"},
		{"long", `<title>` + strings.Repeat("word ", 100) + `</title><meta name="description" content="` + strings.Repeat("ab ", 200) + `">`,
			strings.TrimSpace(strings.Repeat("word ", 40)[:199]) + "…", strings.TrimSpace(strings.Repeat("ab ", 100)[:299]) + "…", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t, html("<html><head>"+c.head+"</head><body></body></html>"))
			card, err := fetch(t, allowing(s), s.url("/"))
			if err != nil {
				t.Fatal(err)
			}
			site := c.site
			if site == "" {
				site = "127.0.0.1"
			}
			if card.Title != c.title || card.Description != c.description || card.Site != site {
				t.Errorf("got %q / %q / %q\nwant %q / %q / %q", card.Title, card.Description, card.Site, c.title, c.description, site)
			}
		})
	}
}

// TestCharset: pages in other encodings are decoded, by their header or
// their <meta>; invalid bytes of a UTF-8 page are dropped.
func TestCharset(t *testing.T) {
	for _, c := range []struct {
		name, contentType string
		body              []byte
		want              string
	}{
		{"latin-1 by meta", "text/html", []byte("<meta charset=\"iso-8859-1\"><title>Caf\xe9 cr\xe8me</title>"), "Café crème"},
		{"windows-1252 by header", "text/html; charset=windows-1252", []byte("<title>\x93quoted\x94 \x80</title>"), "\u201cquoted\u201d €"},
		{"shift_jis by http-equiv", "text/html", []byte("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=shift_jis\"><title>\x93\xfa\x96{\x8c\xea</title>"), "日本語"},
		{"utf-8 with bad bytes", "text/html; charset=utf-8", []byte("<title>ok\xff\xfe then</title>"), "ok then"},
		{"utf-8 by default", "text/html", []byte("<title>naïve</title>"), "naïve"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := newSite(t, serve(c.contentType, c.body))
			card, err := fetch(t, allowing(s), s.url("/"))
			if err != nil || card.Title != c.want {
				t.Errorf("%q, %v; want %q", card.Title, err, c.want)
			}
		})
	}
}

// TestConcurrent: one Fetcher, many fetches at once (run with -race).
func TestConcurrent(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/p.png" {
			w.Write(pngOf(t, 3, 3))
			return
		}
		html(`<title>`+r.URL.Path+`</title><meta property="og:image" content="/p.png">`)(w, r)
	})
	f := linkpreview.New(allowing(s))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Go(func() {
			card, err := f.Fetch(t.Context(), s.url("/"+itoa(i)))
			if err == nil && (card.Title != "/"+itoa(i) || card.ImageWidth != 3) {
				err = errors.New("card " + card.Title)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
