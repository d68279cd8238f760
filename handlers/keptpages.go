package handlers

import (
	"slices"
	"strings"
	"sync"

	"chat/i18n"

	"github.com/gofiber/fiber/v2"
)

// keptPages keeps the pages people ask for again and again (the lobby, a
// room, its history, a search), as they were made for each session, so
// that asking again while nothing they show has changed costs a look-up
// instead of a dozen queries and a rendering.
//
// What invalidates a kept page: a change of anything it could show. A
// page is kept with the stamp read before it was made: the store's count
// of its writes (Store.Changes: every post, edit, reaction, rename,
// membership, deactivation, sign-out, read mark, setting, on any room),
// the count of what users were seen to read (unread.Rooms.Changes) and
// of who is online (hub.Hub.Presence). It is given again only while the
// stamp is the same: any change at all, made after the page was read,
// moves the stamp, and the next request makes the page afresh. Its key
// is the session (a session ended, or its user deactivated, finds no
// session and no page), the address with its query, the language and
// whether htmx asks; nothing else of a request changes these pages.
//
// Only the one process that writes the database can count every write:
// pages are kept on SQLite alone, whose file one chat serves. On
// PostgreSQL, which other instances may write, they are made each time.
//
// What a page's making did beside the page (the room page tells the
// user's other pages the room is read) is done again when it is given
// again: see afterPage.
//
// Bound: maxBytes of pages; past it, kept pages are dropped, any, until
// there is room. One session keeps at most perSession of them (the one
// it asked for least lately is dropped first), so that one user asking
// for address after address cannot push out everyone else's. A page
// larger than maxPage is not kept.
type keptPages struct {
	mu         sync.Mutex
	m          map[pageKey]*keptPage
	sessions   map[string]*sessionPages
	bytes      int
	maxBytes   int
	perSession int
}

// sessionPages are the pages a session keeps, the one asked for least
// lately first.
type sessionPages struct {
	keys  []pageKey
	bytes int
}

type pageKey struct {
	session string
	uri     string
	lang    *i18n.Lang
	htmx    bool
}

// pageStamp is what a kept page was made from: see keptPages. It is read
// before the request's session (loadSession).
type pageStamp struct {
	store, seen, presence uint64
}

type keptPage struct {
	stamp   pageStamp
	headers [][2]string
	body    []byte
	after   func()
	// html: the page is HTML, which is sent compressed (pagezip.go);
	// br and gzip are its body so, once asked for (guarded by
	// keptPages.mu), so that a page given again is not even looked for
	// among the compressed pages.
	html     bool
	br, gzip []byte
}

// keptPagesBytes bounds the pages kept: a room page is about 30 KB, so
// about a thousand of them; keptPerSession, about thirty a session.
const (
	keptPagesBytes = 32 << 20
	keptPerSession = 1 << 20
)

// maxPage is the largest page kept.
const maxPage = 1 << 20

func newKeptPages(maxBytes, perSession int) *keptPages {
	return &keptPages{m: make(map[pageKey]*keptPage), sessions: make(map[string]*sessionPages),
		maxBytes: maxBytes, perSession: perSession}
}

// localStamp is the pageStamp loadSession read.
const localStamp = "pagestamp"

// localAfter is the func() a handler leaves for afterPage.
const localAfter = "afterpage"

// afterPage records what making the page did beside it, to be done again
// each time the page kept is given: it must hold only values, and do
// what the handler did with them.
func afterPage(c *fiber.Ctx, f func()) { c.Locals(localAfter, f) }

// stamp is the stamp of a page made from now on.
func (a *App) stamp() pageStamp {
	return pageStamp{store: a.store.Changes(), seen: a.unread.Changes(), presence: a.hub.Presence()}
}

// keepPage gives the kept page of the request when its stamp still
// holds, and otherwise lets the handler make it, keeping it if it is a
// whole page (200, no cookie set).
func (a *App) keepPage(c *fiber.Ctx) error {
	s, ok := session(c)
	stamp, stamped := c.Locals(localStamp).(pageStamp)
	if a.clustered || a.store.Postgres() || !ok || !stamped || c.Method() != fiber.MethodGet {
		return c.Next()
	}
	key := pageKey{session: s.ID, uri: c.OriginalURL(), lang: a.langOf(c), htmx: isHTMX(c)}
	if p := a.kept.get(key, stamp); p != nil {
		res := c.Response()
		res.SetStatusCode(fiber.StatusOK)
		for i, h := range p.headers {
			// A name given again is added to, not set over.
			if slices.ContainsFunc(p.headers[:i], func(e [2]string) bool { return e[0] == h[0] }) {
				res.Header.Add(h[0], h[1])
			} else {
				res.Header.Set(h[0], h[1])
			}
		}
		if enc := pageEncoding(c); enc != "" && p.html && len(p.body) >= minZipLen {
			res.SetBodyRaw(a.kept.zippedOf(key, p, enc, a.zipped))
			res.Header.Set(fiber.HeaderContentEncoding, enc)
			c.Vary(fiber.HeaderAcceptEncoding)
		} else {
			res.SetBodyRaw(p.body)
		}
		if p.after != nil {
			p.after()
		}
		return nil
	}
	// What the middleware before set is set again on every request:
	// only what the handler adds is kept.
	res := c.Response()
	before := make(map[[2]string]bool)
	res.Header.VisitAll(func(k, v []byte) { before[[2]string{string(k), string(v)}] = true })
	if err := c.Next(); err != nil {
		return err
	}
	if res.StatusCode() != fiber.StatusOK || res.IsBodyStream() || len(res.Header.PeekCookie(sessionCookie)) > 0 {
		return nil
	}
	p := &keptPage{stamp: stamp, body: append([]byte(nil), res.Body()...)}
	if len(p.body) > maxPage {
		return nil
	}
	cookie := false
	res.Header.VisitAll(func(k, v []byte) {
		switch h := [2]string{string(k), string(v)}; {
		case strings.EqualFold(h[0], fiber.HeaderSetCookie):
			cookie = true
		case before[h], strings.EqualFold(h[0], fiber.HeaderContentLength),
			strings.EqualFold(h[0], fiber.HeaderDate), strings.EqualFold(h[0], fiber.HeaderServer):
		default:
			p.headers = append(p.headers, h)
		}
	})
	if cookie {
		return nil
	}
	p.html = strings.HasPrefix(string(res.Header.ContentType()), fiber.MIMETextHTML)
	p.after, _ = c.Locals(localAfter).(func())
	key.uri = strings.Clone(key.uri)
	a.kept.put(key, p)
	return nil
}

func (k *keptPages) get(key pageKey, stamp pageStamp) *keptPage {
	k.mu.Lock()
	defer k.mu.Unlock()
	p := k.m[key]
	if p == nil {
		return nil
	}
	if p.stamp != stamp {
		// Made before a change: made again, then replaced (put).
		return nil
	}
	// The session's page asked last goes last in its turn to be dropped.
	sp := k.sessions[key.session]
	if i := slices.Index(sp.keys, key); i >= 0 && i < len(sp.keys)-1 {
		sp.keys = append(slices.Delete(sp.keys, i, i+1), key)
	}
	return p
}

// zippedOf is the kept page's body compressed in enc: compressed (or
// found among the compressed pages) the first time, kept with it after,
// and counted in its size (the next put makes room).
func (k *keptPages) zippedOf(key pageKey, p *keptPage, enc string, zipped *zippedPages) []byte {
	k.mu.Lock()
	z := p.gzip
	if enc == "br" {
		z = p.br
	}
	k.mu.Unlock()
	if z != nil {
		return z
	}
	z = zipped.get(enc, p.body)
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m[key] != p {
		return z // dropped or replaced meanwhile
	}
	old := pageSize(key, p)
	if enc == "br" {
		p.br = z
	} else {
		p.gzip = z
	}
	grown := pageSize(key, p) - old
	k.bytes += grown
	k.sessions[key.session].bytes += grown
	return z
}

func (k *keptPages) put(key pageKey, p *keptPage) {
	size := pageSize(key, p)
	if size > k.maxBytes || size > k.perSession {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if old := k.m[key]; old != nil {
		k.dropLocked(key, old)
	}
	if sp := k.sessions[key.session]; sp != nil {
		for sp.bytes+size > k.perSession {
			k.dropLocked(sp.keys[0], k.m[sp.keys[0]])
		}
	}
	for old, v := range k.m {
		if k.bytes+size <= k.maxBytes {
			break
		}
		k.dropLocked(old, v)
	}
	k.m[key] = p
	k.bytes += size
	sp := k.sessions[key.session]
	if sp == nil {
		sp = &sessionPages{}
		k.sessions[key.session] = sp
	}
	sp.keys = append(sp.keys, key)
	sp.bytes += size
}

func (k *keptPages) dropLocked(key pageKey, p *keptPage) {
	size := pageSize(key, p)
	k.bytes -= size
	delete(k.m, key)
	sp := k.sessions[key.session]
	if i := slices.Index(sp.keys, key); i >= 0 {
		sp.keys = slices.Delete(sp.keys, i, i+1)
	}
	if sp.bytes -= size; len(sp.keys) == 0 {
		delete(k.sessions, key.session)
	}
}

// pageSize is about what a kept page holds in memory.
func pageSize(key pageKey, p *keptPage) int {
	n := len(key.session) + len(key.uri) + len(p.body) + len(p.br) + len(p.gzip) + 128
	for _, h := range p.headers {
		n += len(h[0]) + len(h[1]) + 32
	}
	return n
}
