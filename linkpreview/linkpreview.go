// Package linkpreview fetches the card of a link: the title, description
// and picture a page gives of itself (OpenGraph, Twitter's tags, or its
// <title>).
//
// Fetching what a user names is the dangerous part, and this package is
// made for it: only http and https on ports 80 and 443; every connection
// checked, at the moment of connecting, against the address it goes to
// (public unicast only: no loopback, private, link-local or metadata
// address, whatever name resolved to it); no proxy; at most three
// redirects, each checked the same way; the page and its picture each
// within a time and a size; text/html only; the picture taken only when
// its bytes are a picture, and handed to the caller to re-encode, so that
// a page never reaches a browser.
//
// A Fetcher is safe for concurrent use; how many fetches run at once is
// the caller's to bound.
//
// How the chat uses it: with -link-previews set, it makes one Fetcher,
// New(Config{Reencode: its picture package's function}), and never sets
// AllowAddr or AllowPort (they exist for tests on 127.0.0.1). After a post
// is stored, FirstLink(text) names the link, if any; a bounded pool calls
// Fetch with a context that ends at shutdown, and a card that comes back
// is stored and pushed as an update of the entry. An error means no card;
// it says why (errors.Is against the Err values) and holds no password a
// URL may have carried.
package linkpreview

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Card is what a link shows under a post.
type Card struct {
	// URL is the link as it was fetched (as the post holds it); Site is
	// og:site_name or the host the page came from, after redirects.
	URL, Title, Description, Site string

	// The picture, already re-encoded by Config.Reencode; nil: none.
	Image                   []byte
	ImageType               string
	ImageWidth, ImageHeight int
}

// Config is what a Fetcher is made with; its zero value is what the chat
// runs with.
type Config struct {
	Timeout      time.Duration // the whole fetch of the page, redirects included (default 5 s); the picture has its own, the same
	MaxBytes     int64         // of the page and of the picture (default 512 KiB)
	MaxRedirects int           // default 3; below 0, none
	UserAgent    string        // default "chat-linkpreview/1"

	// Reencode turns the fetched picture's bytes into the card's picture
	// (decoded within bounds, scaled, re-encoded by the server: the page
	// never loads a third-party image). nil: cards have no picture, and
	// none is fetched.
	Reencode func(ctx context.Context, r io.Reader) (data []byte, typ string, w, h int, err error)

	// AllowAddr, for tests only (the chat never sets it): addresses that
	// would be refused but are let through (a test server on 127.0.0.1).
	// nil: only public unicast addresses.
	AllowAddr func(netip.Addr) bool
	// AllowPort, for tests only (the chat never sets it): ports other than
	// 80 and 443 that are let through (a test server's). nil: none.
	AllowPort func(port int) bool
}

// Defaults of Config.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultMaxBytes     = 512 << 10
	DefaultMaxRedirects = 3
	DefaultUserAgent    = "chat-linkpreview/1"
)

// maxHeaderBytes bounds a response's header.
const maxHeaderBytes = 32 << 10

// Why a fetch gives no card. Fetch's errors wrap one of these (or a
// network error, a timeout among them).
var (
	ErrScheme        = errors.New("linkpreview: only http and https")
	ErrPort          = errors.New("linkpreview: only ports 80 and 443")
	ErrAddress       = errors.New("linkpreview: refused address (not public unicast)")
	ErrRedirects     = errors.New("linkpreview: too many redirects")
	ErrStatus        = errors.New("linkpreview: not a success")
	ErrTooLarge      = errors.New("linkpreview: too large")
	ErrNotHTML       = errors.New("linkpreview: not text/html")
	ErrNotImage      = errors.New("linkpreview: not a picture (PNG, JPEG, GIF or WebP)")
	ErrNothingToShow = errors.New("linkpreview: the page has no title or description")
)

// Fetcher fetches cards. Its fields are set by New and never after.
type Fetcher struct {
	cfg    Config
	client *http.Client
}

// New makes a Fetcher; it starts nothing.
func New(cfg Config) *Fetcher {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	switch {
	case cfg.MaxRedirects == 0:
		cfg.MaxRedirects = DefaultMaxRedirects
	case cfg.MaxRedirects < 0:
		cfg.MaxRedirects = 0
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	f := &Fetcher{cfg: cfg}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: f.control}
	transport := &http.Transport{
		Proxy:                  nil, // never one from the environment: it would connect for us
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: maxHeaderBytes,
		DisableKeepAlives:      true, // no pool of connections to whatever hosts posts name
		DisableCompression:     true,
	}
	f.client = &http.Client{
		Transport: transport,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.cfg.MaxRedirects {
				return fmt.Errorf("%w (%d)", ErrRedirects, f.cfg.MaxRedirects)
			}
			return f.checkURL(req.URL)
		},
	}
	return f
}

// Fetch fetches the page rawURL names and makes its card: within the
// Config's time and size, through at most its number of redirects, every
// address checked. The picture, when the page names one and Reencode is
// set, is fetched the same way with its own time and size; a picture that
// cannot be had leaves the card without one, and no error. The error says
// why there is no card: it wraps one of the Err values of this package, or
// the network's error.
func (f *Fetcher) Fetch(ctx context.Context, rawURL string) (Card, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL, which may hold a password
		}
		return Card{}, fmt.Errorf("linkpreview: not a URL: %w", err)
	}
	u.User = nil // never credentials a post holds
	u.Fragment = ""
	if err := f.checkURL(u); err != nil {
		return Card{}, err
	}
	pageCtx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	body, final, contentType, err := f.get(pageCtx, u, "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1")
	if err != nil {
		return Card{}, err
	}
	if mt, _, err := mime.ParseMediaType(contentType); err != nil || mt != "text/html" {
		return Card{}, fmt.Errorf("%w: %q", ErrNotHTML, contentType)
	}
	// A server may say text/html and send a picture, or anything: what the
	// bytes are decides.
	if sniffed := http.DetectContentType(body); !strings.HasPrefix(sniffed, "text/") {
		return Card{}, fmt.Errorf("%w: said %q, is %s", ErrNotHTML, contentType, sniffed)
	}
	m := parseMeta(utf8Page(body, contentType))
	card := Card{
		URL:         rawURL,
		Title:       first(maxTitle, m.ogTitle, m.twitterTitle, m.title),
		Description: first(maxDescription, m.ogDescription, m.description, m.twitterDescription),
		Site:        first(maxSite, m.siteName, final.Hostname()),
	}
	if card.Title == "" && card.Description == "" {
		return Card{}, ErrNothingToShow
	}
	if f.cfg.Reencode == nil {
		return card, nil
	}
	ref := strings.TrimSpace(m.ogImage)
	if ref == "" {
		ref = strings.TrimSpace(m.twitImage)
	}
	if ref == "" {
		return card, nil
	}
	img, err := final.Parse(ref)
	if err != nil {
		return card, nil
	}
	if data, typ, w, h, err := f.image(ctx, img); err == nil {
		card.Image, card.ImageType, card.ImageWidth, card.ImageHeight = data, typ, w, h
	}
	return card, nil
}

// image fetches the picture at u under the page's rules, with its own
// time and size, takes it only when its bytes are a PNG, JPEG, GIF or
// WebP, and re-encodes it.
func (f *Fetcher) image(ctx context.Context, u *url.URL) ([]byte, string, int, int, error) {
	u.User = nil
	u.Fragment = ""
	if err := f.checkURL(u); err != nil {
		return nil, "", 0, 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	body, _, _, err := f.get(ctx, u, "image/png,image/jpeg,image/gif,image/webp;q=0.9")
	if err != nil {
		return nil, "", 0, 0, err
	}
	switch sniffed := http.DetectContentType(body); sniffed {
	case "image/png", "image/jpeg", "image/gif", "image/webp":
	default:
		return nil, "", 0, 0, fmt.Errorf("%w: %s", ErrNotImage, sniffed)
	}
	data, typ, w, h, err := f.cfg.Reencode(ctx, bytes.NewReader(body))
	if err != nil {
		return nil, "", 0, 0, fmt.Errorf("linkpreview: re-encode the picture: %w", err)
	}
	if len(data) == 0 || w <= 0 || h <= 0 {
		return nil, "", 0, 0, fmt.Errorf("%w: nothing re-encoded", ErrNotImage)
	}
	return data, typ, w, h, nil
}

// get fetches u (following the redirects CheckRedirect lets through) and
// reads its body, at most MaxBytes of it. It answers the body, the URL it
// came from at last, and its Content-Type.
func (f *Fetcher) get(ctx context.Context, u *url.URL, accept string) ([]byte, *url.URL, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, "", fmt.Errorf("linkpreview: %w", err)
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", accept)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, nil, "", err
	}
	defer resp.Body.Close() // with keep-alives off, closing drops the connection, read or not
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, "", fmt.Errorf("%w: %d", ErrStatus, resp.StatusCode) // not the server's words: they would reach the logs
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return nil, nil, "", fmt.Errorf("%w: %d bytes said, at most %d", ErrTooLarge, resp.ContentLength, f.cfg.MaxBytes)
	}
	body, err := readAtMost(resp.Body, f.cfg.MaxBytes)
	if err != nil {
		return nil, nil, "", err
	}
	return body, resp.Request.URL, resp.Header.Get("Content-Type"), nil
}

// readAtMost reads r to its end when it holds at most max bytes, reading
// max+1 of them at most.
func readAtMost(r io.Reader, max int64) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("linkpreview: read: %w", err)
	}
	if int64(len(body)) > max {
		return nil, fmt.Errorf("%w: over %d bytes", ErrTooLarge, max)
	}
	return body, nil
}

// checkURL checks what can be checked of u before connecting: its scheme,
// its port, and its host when it is an address (or looks like a number
// that a resolver could read as one). A name is checked when the dialer
// connects to what it resolved to (control).
func (f *Fetcher) checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%w: %q", ErrScheme, u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("%w: no host", ErrAddress)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("%w: %q", ErrPort, port)
	}
	if err := f.checkPort(n); err != nil {
		return err
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return f.checkAddr(a)
	}
	if strings.Contains(host, "%") || numericHost(host) {
		return fmt.Errorf("%w: %q", ErrAddress, host)
	}
	return nil
}

func (f *Fetcher) checkPort(port int) error {
	if port == 80 || port == 443 || f.cfg.AllowPort != nil && f.cfg.AllowPort(port) {
		return nil
	}
	return fmt.Errorf("%w: %d", ErrPort, port)
}

func (f *Fetcher) checkAddr(a netip.Addr) error {
	if publicAddr(a) || f.cfg.AllowAddr != nil && f.cfg.AllowAddr(a.Unmap()) {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrAddress, a)
}

// control runs when the dialer has a socket and an address to connect it
// to, after the name was resolved: the one check no name can get around
// (a name that resolves to a public address when checked and to a private
// one when connecting, say).
func (f *Fetcher) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return fmt.Errorf("%w: network %s", ErrAddress, network)
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrAddress, address)
	}
	if err := f.checkPort(int(ap.Port())); err != nil {
		return err
	}
	return f.checkAddr(ap.Addr())
}
