package handlers_test

import (
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebAppManifest: every page links a manifest that makes the chat
// installable: a name, the lobby to start at, a window of its own, and
// icons of the sizes it says, one of them maskable.
func TestWebAppManifest(t *testing.T) {
	srv := newServer(t)
	c := srv.anon(t)
	doc := c.get("/login").doc(t)
	href := doc.Find(`link[rel="manifest"]`).AttrOr("href", "")
	if href == "" || doc.Find(`link[rel="apple-touch-icon"]`).Length() != 1 || doc.Find(`meta[name="theme-color"]`).Length() != 1 {
		t.Fatalf("the page links no manifest, touch icon or theme colour")
	}
	res := c.get(href)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/manifest+json" {
		t.Fatalf("manifest: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var m struct {
		Name, ShortName, StartURL, Display string
		Icons                              []struct{ Src, Sizes, Type, Purpose string }
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.Body), &raw); err != nil {
		t.Fatalf("manifest is not JSON: %v", err)
	}
	for key, dst := range map[string]any{"name": &m.Name, "short_name": &m.ShortName, "start_url": &m.StartURL, "display": &m.Display, "icons": &m.Icons} {
		if err := json.Unmarshal(raw[key], dst); err != nil {
			t.Fatalf("manifest %s: %v", key, err)
		}
	}
	if m.Name != "Chat" || m.ShortName == "" || m.StartURL != "/" || m.Display != "standalone" {
		t.Errorf("manifest %+v", m)
	}
	base, _ := url.Parse(srv.URL + href)
	maskable, large := false, false
	for _, icon := range m.Icons {
		u, err := base.Parse(icon.Src)
		if err != nil {
			t.Fatal(err)
		}
		got := c.get(u.Path)
		if got.StatusCode != http.StatusOK || got.Header.Get("Content-Type") != icon.Type {
			t.Errorf("%s: %d %q, manifest says %s", icon.Src, got.StatusCode, got.Header.Get("Content-Type"), icon.Type)
			continue
		}
		if icon.Type != "image/png" {
			continue
		}
		img, err := png.Decode(strings.NewReader(got.Body))
		if err != nil {
			t.Errorf("%s: %v", icon.Src, err)
			continue
		}
		if size := fmt.Sprintf("%dx%d", img.Bounds().Dx(), img.Bounds().Dy()); size != icon.Sizes {
			t.Errorf("%s is %s, manifest says %s", icon.Src, size, icon.Sizes)
		}
		large = large || icon.Sizes == "512x512"
		maskable = maskable || icon.Purpose == "maskable"
	}
	if !large || !maskable {
		t.Errorf("icons: a 512 px one %v, a maskable one %v", large, maskable)
	}
}
