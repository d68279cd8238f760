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

	"chat/internal/testutil"
	"chat/linkpreview"
)

// flood writes to w until the client goes, counting what it wrote, and
// records that it went.
func flood(s **site, written *atomic.Int64, chunk []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		defer (*s).sawClose()
		for written.Load() < 8<<30 { // gigabytes, unless cut
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}
}

// TestTooLarge: a page that never ends (gigabytes, with or without a
// length said first) is cut at the cap: the fetch fails with ErrTooLarge,
// not at its timeout, and the server sees its connection closed long
// before it has written what it meant to.
func TestTooLarge(t *testing.T) {
	chunk := []byte("<p>" + strings.Repeat("x", 32<<10) + "</p>")
	for _, c := range []struct {
		name   string
		length string
	}{
		{"no length", ""},
		{"a length said", "8589934592"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var written atomic.Int64
			var s *site
			h := flood(&s, &written, chunk)
			s = newSite(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				if c.length != "" {
					w.Header().Set("Content-Length", c.length)
				}
				io.WriteString(w, "<title>big</title>")
				h(w, r)
			})
			cfg := allowing(s)
			cfg.Timeout = 10 * time.Second // the cap, not the clock, must end it
			_, err := fetch(t, cfg, s.url("/"))
			wantErr(t, err, linkpreview.ErrTooLarge)
			s.waitClosed(t)
			// What the server wrote is what the client read (at most the
			// cap and a byte) and what the sockets' buffers held.
			n := written.Load()
			if n > 64<<20 {
				t.Errorf("the server wrote %d bytes before its connection closed", n)
			}
			t.Logf("cap %d bytes: the server wrote %d before its connection closed", cfg.MaxBytes, n)
		})
	}
}

// TestAtTheCap: a page of exactly MaxBytes is read; one byte more is too
// large.
func TestAtTheCap(t *testing.T) {
	page := func(n int) string {
		head := "<title>fits</title>"
		return head + strings.Repeat(" ", n-len(head))
	}
	for _, c := range []struct {
		size int
		want error
	}{{64 << 10, nil}, {64<<10 + 1, linkpreview.ErrTooLarge}} {
		for _, chunked := range []bool{false, true} {
			s := newSite(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				p := page(c.size)
				if chunked {
					w.Write([]byte(p[:100]))
					w.(http.Flusher).Flush()
					p = p[100:]
				}
				w.Write([]byte(p))
			})
			card, err := fetch(t, allowing(s), s.url("/"))
			if c.want == nil && (err != nil || card.Title != "fits") || c.want != nil && !errors.Is(err, c.want) {
				t.Errorf("%d bytes (chunked %v): %+v, %v; want %v", c.size, chunked, card, err, c.want)
			}
		}
	}
}

// TestStalls: a server that stalls (before its header, after it, or
// sending a byte now and then) is cut at the timeout: the fetch fails
// with the context's deadline and the server sees its connection closed.
func TestStalls(t *testing.T) {
	for _, c := range []struct {
		name string
		h    func(s *site) http.HandlerFunc
	}{
		{"before the header", func(s *site) http.HandlerFunc {
			return func(_ http.ResponseWriter, r *http.Request) {
				<-r.Context().Done()
				s.sawClose()
			}
		}},
		{"after the header", func(s *site) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<title>slow")
				w.(http.Flusher).Flush()
				<-r.Context().Done()
				s.sawClose()
			}
		}},
		{"a byte now and then", func(s *site) http.HandlerFunc {
			return func(w http.ResponseWriter, r *http.Request) {
				defer s.sawClose()
				w.Header().Set("Content-Type", "text/html")
				tick := time.NewTicker(10 * time.Millisecond) // the server's pace, not a wait of the test
				defer tick.Stop()
				for {
					if _, err := io.WriteString(w, "x"); err != nil {
						return
					}
					w.(http.Flusher).Flush()
					select {
					case <-r.Context().Done():
						return
					case <-tick.C:
					}
				}
			}
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var s *site
			s = newSite(t, func(w http.ResponseWriter, r *http.Request) { c.h(s)(w, r) })
			cfg := allowing(s)
			cfg.Timeout = 300 * time.Millisecond
			_, err := fetchWithin(t, cfg, s.url("/"))
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v, want the deadline", err)
			}
			s.waitClosed(t)
		})
	}
}

// TestHugeHeader: a header without end is cut too.
func TestHugeHeader(t *testing.T) {
	s := newSite(t, func(w http.ResponseWriter, _ *http.Request) {
		for i := range 64 {
			w.Header().Set("X-Filler-"+itoa(i), strings.Repeat("y", 4<<10))
		}
		html(`<title>x</title>`)(w, nil)
	})
	cfg := allowing(s)
	cfg.Timeout = time.Minute
	_, err := fetch(t, cfg, s.url("/"))
	if err == nil || !strings.Contains(err.Error(), "header") {
		t.Errorf("error %v, want the header refused", err)
	}
}

// TestCallerCancels: the caller's context ends a fetch too.
func TestCallerCancels(t *testing.T) {
	var s *site
	s = newSite(t, func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
		s.sawClose()
	})
	cfg := allowing(s)
	cfg.Timeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := linkpreview.New(cfg).Fetch(ctx, s.url("/"))
		done <- err
	}()
	testutil.Eventually(t, 10*time.Second, func() bool { return s.hits.Load() > 0 }, "the request never arrived")
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want canceled", err)
	}
	s.waitClosed(t)
}
