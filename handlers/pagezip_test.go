package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestCompressedPagesAfterChanges: whole pages are compressed once per
// content and kept (pagezip.go); a page asked again after a change is
// the compression of the changed page, in each encoding, and the same
// page as one asked uncompressed.
func TestCompressedPagesAfterChanges(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")

	// page is path as alice reads it in enc, inflated.
	page := func(path, enc string) string {
		t.Helper()
		res := alice.get(path, "Accept-Encoding", enc)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s (%s): %d", path, enc, res.StatusCode)
		}
		if got := res.Header.Get("Content-Encoding"); got != enc {
			t.Fatalf("GET %s (%s): Content-Encoding %q", path, enc, got)
		}
		if !strings.Contains(res.Header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s (%s): Vary %q", path, enc, res.Header.Get("Vary"))
		}
		var plain []byte
		var err error
		switch enc {
		case "gzip":
			plain, err = fasthttp.AppendGunzipBytes(nil, []byte(res.Body))
		case "br":
			plain, err = fasthttp.AppendUnbrotliBytes(nil, []byte(res.Body))
		}
		if err != nil {
			t.Fatalf("GET %s (%s): %v", path, enc, err)
		}
		return string(plain)
	}
	identity := func(path string) string {
		t.Helper()
		res := alice.get(path, "Accept-Encoding", "identity")
		if res.StatusCode != http.StatusOK || res.Header.Get("Content-Encoding") != "" {
			t.Fatalf("GET %s uncompressed: %d %q", path, res.StatusCode, res.Header.Get("Content-Encoding"))
		}
		return res.Body
	}

	for _, enc := range []string{"gzip", "br"} {
		for _, path := range []string{room, "/"} {
			first := page(path, enc)
			if again := page(path, enc); again != first || again != identity(path) {
				t.Fatalf("GET %s (%s) twice: not the same page as uncompressed", path, enc)
			}
		}
	}
	for i, text := range []string{"one change", "another change"} {
		if res := alice.post(room+"/messages", url.Values{"text": {text}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("post: %d", res.StatusCode)
		}
		for _, enc := range []string{"gzip", "br"} {
			got := page(room, enc)
			if !strings.Contains(got, text) || got != identity(room) {
				t.Errorf("change %d: GET %s (%s) is not the page as it is now", i, room, enc)
			}
		}
		if res := alice.post(room+"/rename", url.Values{"name": {"renamed " + text}}); res.StatusCode >= 400 {
			t.Fatalf("rename: %d", res.StatusCode)
		}
		for _, enc := range []string{"gzip", "br"} {
			if got := page("/", enc); !strings.Contains(got, "renamed "+text) || got != identity("/") {
				t.Errorf("change %d: the lobby (%s) is not the lobby as it is now", i, enc)
			}
		}
	}
}
