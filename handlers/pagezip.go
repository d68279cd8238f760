package handlers

import (
	"bytes"
	"hash/maphash"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// zippedPages keeps pages as they were compressed, by their bytes, so
// that a page asked again while nothing on it changed (a reload, the
// next visit) is not compressed again: compressing was about a sixth of
// a room page's processor time.
//
// What invalidates a kept page: nothing needs to. It is found by the
// whole of the bytes it was compressed from (a hash, then the bytes
// compared), with the encoding; a page that differs by one byte, for
// whatever reason, on whatever instance, is compressed anew. What is
// sent is always exactly the compression of what the handler rendered
// for this request, after its authorization and with every change.
//
// Bound: maxBytes of pages and their compressed forms together; past
// it, kept pages are dropped, any, until there is room. Only whole
// pages (GET, 200, HTML) are kept: the pages asked again and again.
type zippedPages struct {
	seed     maphash.Seed
	mu       sync.Mutex
	m        map[zipKey]*zippedPage
	bytes    int
	maxBytes int
}

type zipKey struct {
	hash uint64
	enc  string
}

type zippedPage struct {
	plain, zipped []byte
}

// zippedPagesBytes bounds the pages kept: a room page is about 10 KB
// and 3 KB compressed, so about a thousand pages.
const zippedPagesBytes = 16 << 20

// minZipLen is fasthttp's: a smaller body is sent as it is.
const minZipLen = 200

func newZippedPages(maxBytes int) *zippedPages {
	return &zippedPages{seed: maphash.MakeSeed(), m: make(map[zipKey]*zippedPage), maxBytes: maxBytes}
}

// compressPages compresses the whole pages a handler made, through the
// pages kept; the compress middleware around it does the rest as before
// (it leaves alone an answer that has its encoding). The encoding is
// chosen as that middleware chooses it: br, else gzip, else none here.
func (a *App) compressPages(c *fiber.Ctx) error {
	if isEventStream(c) || strings.HasPrefix(c.Path(), "/files/") {
		return c.Next()
	}
	if err := c.Next(); err != nil {
		return err
	}
	res := c.Response()
	if c.Method() != fiber.MethodGet || res.StatusCode() != fiber.StatusOK || res.IsBodyStream() ||
		len(res.Header.ContentEncoding()) > 0 || !strings.HasPrefix(string(res.Header.ContentType()), fiber.MIMETextHTML) {
		return nil
	}
	enc := pageEncoding(c)
	if enc == "" {
		return nil
	}
	body := res.Body()
	if len(body) < minZipLen {
		return nil
	}
	zipped := a.zipped.get(enc, body)
	res.SetBodyRaw(zipped)
	res.Header.Set(fiber.HeaderContentEncoding, enc)
	c.Vary(fiber.HeaderAcceptEncoding)
	return nil
}

// pageEncoding is the encoding a page is sent in, as the compress
// middleware would choose it: br, else gzip, else none ("").
func pageEncoding(c *fiber.Ctx) string {
	switch {
	case c.Request().Header.HasAcceptEncoding("br"):
		return "br"
	case c.Request().Header.HasAcceptEncoding("gzip"):
		return "gzip"
	}
	return ""
}

// get is body compressed in enc, kept or made (and kept). What it gives
// is never changed after.
func (z *zippedPages) get(enc string, body []byte) []byte {
	k := zipKey{maphash.Bytes(z.seed, body), enc}
	z.mu.Lock()
	p := z.m[k]
	z.mu.Unlock()
	if p != nil && bytes.Equal(p.plain, body) {
		return p.zipped
	}
	var zipped []byte
	if enc == "br" {
		zipped = fasthttp.AppendBrotliBytesLevel(nil, body, fasthttp.CompressBrotliBestSpeed)
	} else {
		zipped = fasthttp.AppendGzipBytesLevel(nil, body, fasthttp.CompressBestSpeed)
	}
	z.put(k, &zippedPage{plain: bytes.Clone(body), zipped: zipped})
	return zipped
}

func (z *zippedPages) put(k zipKey, p *zippedPage) {
	size := len(p.plain) + len(p.zipped)
	if size > z.maxBytes {
		return
	}
	z.mu.Lock()
	defer z.mu.Unlock()
	if old := z.m[k]; old != nil {
		z.bytes -= len(old.plain) + len(old.zipped)
		delete(z.m, k)
	}
	for old, v := range z.m {
		if z.bytes+size <= z.maxBytes {
			break
		}
		z.bytes -= len(v.plain) + len(v.zipped)
		delete(z.m, old)
	}
	z.m[k] = p
	z.bytes += size
}
