package linkpreview_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	_ "image/gif"
	_ "image/jpeg"
	"image/png"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/linkpreview"
)

// site is a local test server that counts its requests and says when a
// client went away in the middle of one.
type site struct {
	*httptest.Server
	hits   atomic.Int64
	port   int
	closed chan struct{} // closed once a handler saw its client go
	once   sync.Once
}

// newSite serves h on 127.0.0.1 (or on addr, "127.0.0.2:0" say).
func newSite(t *testing.T, h http.HandlerFunc) *site { return newSiteOn(t, "127.0.0.1:0", h) }

func newSiteOn(t *testing.T, addr string, h http.HandlerFunc) *site {
	t.Helper()
	s := &site{closed: make(chan struct{})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h(w, r)
	}))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = l
	srv.Start()
	t.Cleanup(func() {
		srv.CloseClientConnections() // a handler stalled by a test that failed ends too
		srv.Close()
	})
	s.Server = srv
	s.port = l.Addr().(*net.TCPAddr).Port
	return s
}

// sawClose records that the client closed the connection.
func (s *site) sawClose() { s.once.Do(func() { close(s.closed) }) }

// waitClosed fails the test unless a handler saw its client go.
func (s *site) waitClosed(t *testing.T) {
	t.Helper()
	select {
	case <-s.closed:
	case <-time.After(10 * time.Second): // a bound for a loaded machine, met at once when all is well
		t.Fatal("the server never saw its connection closed")
	}
}

func (s *site) url(path string) string { return s.URL + path }

// allowing is a Config that lets 127.0.0.1 through on the ports of sites
// alone, with the tests' small cap and the chat's timeout (a test of a
// stall shortens it: the others must not fail on a loaded machine).
func allowing(sites ...*site) linkpreview.Config {
	return linkpreview.Config{
		Timeout:   linkpreview.DefaultTimeout,
		MaxBytes:  64 << 10,
		Reencode:  reencode,
		AllowAddr: func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.1") },
		AllowPort: ports(sites...),
	}
}

func ports(sites ...*site) func(int) bool {
	return func(p int) bool {
		for _, s := range sites {
			if s.port == p {
				return true
			}
		}
		return false
	}
}

// reencode is a real re-encoding, as the chat's picture package does it
// in essence: decode (the size read first, and bounded), re-encode as PNG.
func reencode(_ context.Context, r io.Reader) ([]byte, string, int, int, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, "", 0, 0, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, "", 0, 0, err
	}
	if cfg.Width*cfg.Height > 4096*4096 {
		return nil, "", 0, 0, errors.New("too many pixels")
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, "", 0, 0, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, "", 0, 0, err
	}
	return b.Bytes(), "image/png", img.Bounds().Dx(), img.Bounds().Dy(), nil
}

// pngOf is a w×h PNG.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, 0, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// html answers a page.
func html(page string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, page)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func fetch(t *testing.T, cfg linkpreview.Config, u string) (linkpreview.Card, error) {
	t.Helper()
	return linkpreview.New(cfg).Fetch(context.Background(), u)
}

// fetchWithin fetches u and fails the test when the fetch is not over
// within a bound far above any configured timeout (a stall not cut).
func fetchWithin(t *testing.T, cfg linkpreview.Config, u string) (linkpreview.Card, error) {
	t.Helper()
	type result struct {
		card linkpreview.Card
		err  error
	}
	done := make(chan result, 1)
	go func() {
		card, err := linkpreview.New(cfg).Fetch(context.Background(), u)
		done <- result{card, err}
	}()
	select {
	case r := <-done:
		return r.card, r.err
	case <-time.After(10 * time.Second): // a bound for a loaded machine; the tests' fetches end within a second
		t.Fatal("the fetch was not cut")
		return linkpreview.Card{}, nil
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %v, want %v", err, want)
	}
}
