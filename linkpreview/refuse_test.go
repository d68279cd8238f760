package linkpreview_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"chat/linkpreview"
)

// TestNewRefuses: the Fetcher the chat builds, New(Config{}), refuses
// loopback, private, link-local and metadata addresses however the URL
// spells them, and a name that resolves to one ("localhost") when it
// connects. Each refusal is the package's own (ErrAddress or ErrPort),
// not a connection that happened to fail.
func TestNewRefuses(t *testing.T) {
	f := linkpreview.New(linkpreview.Config{})
	for _, u := range []string{
		"http://127.0.0.1/",
		"https://127.0.0.1/",
		"http://127.0.0.1:80/",
		"http://127.0.0.53/",
		"http://[::1]/",
		"https://[::1]:443/",
		"http://10.0.0.1/",
		"http://10.255.255.254/",
		"http://172.16.0.1/",
		"http://192.168.0.1/",
		"http://100.64.0.1/",
		"http://169.254.169.254/latest/meta-data/",
		"http://[::ffff:169.254.169.254]/latest/meta-data/",
		"http://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
		"http://[fd00:ec2::254]/latest/meta-data/",
		"http://[::ffff:127.0.0.1]/",
		"http://[::ffff:7f00:1]/",
		"http://[::]/",
		"http://0.0.0.0/",
		"http://0/",
		"http://127.1/",
		"http://2130706433/",
		"http://0x7f000001/",
		"http://0177.0.0.1/",
		"http://[fe80::1%25lo]/",
		"http://224.0.0.1/",
		"http://255.255.255.255/",
		"http://user:pass@127.0.0.1/",
		"http://localhost/",
		"https://localhost/",
		"http://LOCALHOST/",
		"http://127.0.0.1:8080/",
		"http://localhost:22/",
	} {
		_, err := f.Fetch(context.Background(), u)
		if !errors.Is(err, linkpreview.ErrAddress) && !errors.Is(err, linkpreview.ErrPort) {
			t.Errorf("%s: %v, want a refusal", u, err)
		}
	}
}

// TestRefusedWithoutAllowance: a server on 127.0.0.1, on a port that is
// let through but with no address allowance, is refused and never
// reached, by its address or by a name that resolves to it: the dialer's
// hook sees the address whatever the URL says.
func TestRefusedWithoutAllowance(t *testing.T) {
	s := newSite(t, html(`<title>secret</title>`))
	cfg := allowing(s)
	cfg.AllowAddr = nil
	for _, u := range []string{
		s.url("/"),
		"http://localhost:" + itoa(s.port) + "/",
		"http://[::ffff:127.0.0.1]:" + itoa(s.port) + "/",
	} {
		_, err := fetch(t, cfg, u)
		wantErr(t, err, linkpreview.ErrAddress)
	}
	// The name was refused when connecting: by the dialer, after it was
	// resolved, not by its spelling.
	_, err := fetch(t, cfg, "http://localhost:"+itoa(s.port)+"/")
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("localhost refused by %v, want the dialer", err)
	}
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the server was reached %d times", n)
	}
}

// TestPortRefused: a test server's own address let through, but not its
// port: refused, never reached.
func TestPortRefused(t *testing.T) {
	s := newSite(t, html(`<title>x</title>`))
	cfg := allowing()
	_, err := fetch(t, cfg, s.url("/"))
	wantErr(t, err, linkpreview.ErrPort)
	if n := s.hits.Load(); n != 0 {
		t.Errorf("the server was reached %d times", n)
	}
}

// TestSchemesRefused: only http and https.
func TestSchemesRefused(t *testing.T) {
	for _, u := range []string{"file:///etc/passwd", "ftp://example.com/", "javascript:alert(1)", "data:text/html,<title>x</title>", "gopher://example.com/", "ws://example.com/"} {
		_, err := fetch(t, linkpreview.Config{}, u)
		wantErr(t, err, linkpreview.ErrScheme)
	}
}

// TestRedirects: every redirect is checked as the first URL was: another
// port, a private, metadata or loopback address, another scheme are
// refused and never reached; at most three are followed, so a loop ends.
func TestRedirects(t *testing.T) {
	other := newSite(t, html(`<title>other</title>`))
	var target string
	s := newSite(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/go":
			http.Redirect(w, r, target, http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusMovedPermanently)
		case "/1", "/2", "/3":
			n := r.URL.Path[1] - '0'
			http.Redirect(w, r, "/"+string('0'+n+1), http.StatusSeeOther)
		case "/4":
			html(`<title>arrived</title>`)(w, r)
		}
	})
	cfg := allowing(s) // not other's port
	port := itoa(s.port)
	for _, c := range []struct {
		target string
		want   error
	}{
		{other.url("/"), linkpreview.ErrPort},
		{"http://10.0.0.1:" + port + "/", linkpreview.ErrAddress},
		{"http://192.168.1.1/", linkpreview.ErrAddress},
		{"http://169.254.169.254/latest/meta-data/", linkpreview.ErrAddress},
		{"http://169.254.169.254:" + port + "/latest/meta-data/", linkpreview.ErrAddress},
		{"http://[::ffff:169.254.169.254]:" + port + "/", linkpreview.ErrAddress},
		{"http://[::1]:" + port + "/", linkpreview.ErrAddress},
		{"http://127.0.0.2:" + port + "/", linkpreview.ErrAddress},
		{"http://2130706433:" + port + "/", linkpreview.ErrAddress},
		{"file:///etc/passwd", linkpreview.ErrScheme},
		{"ftp://127.0.0.1:" + port + "/", linkpreview.ErrScheme},
		{"gopher://127.0.0.1:" + port + "/", linkpreview.ErrScheme},
	} {
		target = c.target
		_, err := fetch(t, cfg, s.url("/go"))
		if !errors.Is(err, c.want) {
			t.Errorf("redirect to %s: %v, want %v", c.target, err, c.want)
		}
	}
	if n := other.hits.Load(); n != 0 {
		t.Errorf("the other port was reached %d times", n)
	}

	before := s.hits.Load()
	_, err := fetch(t, cfg, s.url("/loop"))
	wantErr(t, err, linkpreview.ErrRedirects)
	if n := s.hits.Load() - before; n != 4 {
		t.Errorf("a loop made %d requests, want 4 (the first and 3 redirects)", n)
	}

	card, err := fetch(t, cfg, s.url("/1"))
	if err != nil || card.Title != "arrived" {
		t.Errorf("three redirects: %+v, %v; want the card of the end", card, err)
	}
	cfg.MaxRedirects = -1
	_, err = fetch(t, cfg, s.url("/3"))
	wantErr(t, err, linkpreview.ErrRedirects)
}

// TestRedirectToNameRebound: a redirect to a name is checked on the
// address the name resolves to when connecting: a server let through on
// 127.0.0.2 that redirects to "localhost" (127.0.0.1 here) is refused by
// the dialer, and the server on 127.0.0.1 is never reached.
func TestRedirectToNameRebound(t *testing.T) {
	var target string
	s := newSiteOn(t, "127.0.0.2:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusFound)
	})
	inside := newSiteOn(t, "127.0.0.1:0", html(`<title>inside</title>`))
	target = "http://localhost:" + itoa(inside.port) + "/"
	cfg := allowing(s, inside)
	cfg.AllowAddr = func(a netip.Addr) bool { return a == netip.MustParseAddr("127.0.0.2") }
	_, err := fetch(t, cfg, s.url("/"))
	wantErr(t, err, linkpreview.ErrAddress)
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		t.Errorf("refused by %v, want the dialer", err)
	}
	if s.hits.Load() != 1 || inside.hits.Load() != 0 {
		t.Errorf("requests: %d to the allowed server (want 1), %d inside (want 0)", s.hits.Load(), inside.hits.Load())
	}
}

// TestNoProxyFromEnvironment: the fetch never goes through a proxy named
// by the environment (which would connect for it, unchecked).
func TestNoProxyFromEnvironment(t *testing.T) {
	proxy := newSite(t, html(`<title>from the proxy</title>`))
	for _, k := range []string{"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"} {
		t.Setenv(k, proxy.URL)
	}
	t.Setenv("NO_PROXY", "")
	t.Setenv("no_proxy", "")
	s := newSite(t, html(`<title>direct</title>`))
	cfg := allowing(s, proxy) // the proxy could be reached, were it asked
	card, err := fetch(t, cfg, s.url("/"))
	if err != nil || card.Title != "direct" {
		t.Fatalf("%+v, %v", card, err)
	}
	// A name that does not resolve: with a proxy, the proxy would be asked.
	_, err = fetch(t, cfg, "http://nowhere.invalid/")
	if err == nil || strings.Contains(err.Error(), "proxy") {
		t.Errorf("nowhere.invalid: %v", err)
	}
	if n := proxy.hits.Load(); n != 0 {
		t.Errorf("the proxy was asked %d times", n)
	}
}
