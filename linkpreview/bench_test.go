package linkpreview_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chat/linkpreview"
)

// TestHTTPSVerified: https is verified as a browser would: a server whose
// certificate no authority signed gives no card.
func TestHTTPSVerified(t *testing.T) {
	srv := httptest.NewTLSServer(html(`<title>self-signed</title>`))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	cfg := allowing()
	cfg.AllowPort = func(p int) bool { return p == port }
	_, err := fetch(t, cfg, srv.URL+"/")
	var unverified *tls.CertificateVerificationError
	if !errors.As(err, &unverified) {
		t.Errorf("error %v, want the certificate refused", err)
	}
}

// BenchmarkFetch: a card from a local page of about 100 KiB with a
// picture (the fetch, the parse and the picture's re-encoding).
func BenchmarkFetch(b *testing.B) {
	pic := pngOf(b, 64, 64)
	page := `<html><head><title>t</title><meta property="og:title" content="A title"><meta property="og:description" content="A description">` +
		`<meta property="og:image" content="/p.png"></head><body>` + strings.Repeat("<p>Some text of the page, and more.</p>\n", 2600) + `</body></html>`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/p.png" {
			w.Write(pic)
			return
		}
		html(page)(w, r)
	}))
	defer srv.Close()
	s := &site{Server: srv, port: srv.Listener.Addr().(*net.TCPAddr).Port}
	cfg := allowing(s)
	cfg.MaxBytes = 512 << 10
	f := linkpreview.New(cfg)
	b.SetBytes(int64(len(page)))
	b.ReportAllocs()
	for b.Loop() {
		card, err := f.Fetch(context.Background(), srv.URL+"/")
		if err != nil || card.Image == nil {
			b.Fatal(card, err)
		}
	}
}

// BenchmarkFirstLink: the longest post (4000 characters) with its link
// at the end.
func BenchmarkFirstLink(b *testing.B) {
	text := strings.Repeat("words `code` *bold* ", 198) + " https://example.com/x"
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if linkpreview.FirstLink(text) == "" {
			b.Fatal("no link")
		}
	}
}
