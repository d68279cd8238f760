package views

import (
	"bytes"
	"context"
	"io"
	"reflect"
	"slices"
	"sync"

	"chat/i18n"

	"github.com/a-h/templ"
)

// EntryCache keeps the markup of entries as MessageItem rendered it, so
// that a page showing the entries another page showed before copies
// their bytes instead of rendering them again (most of a room page's
// rendering).
//
// What invalidates an entry's markup: nothing needs to. The markup is a
// function of the entry (every field of Entry: its text, revision,
// boosts, files, card, marks, highlight, whatever is added later) and of
// the reader's language, and of nothing else: whatever differs per viewer
// is done in CSS (ViewerCSS). The cache keeps, beside the bytes, the
// entry they were rendered from, and gives them back only for an entry
// equal to it in every field (reflect.DeepEqual) and the same language;
// any change (an edit, a deletion, a boost, a card, a rename, on this
// instance or another) makes the entry differ, and it is rendered again
// and kept in place of the old. So a page is always what rendering would
// give, on every instance, with no message between them.
//
// Bound: maxBytes of markup (the entries themselves besides, about as
// much again); past it, kept entries are dropped, any, until there is
// room.
type EntryCache struct {
	mu       sync.Mutex
	m        map[entryKey]*cachedEntry
	bytes    int
	maxBytes int
}

type entryKey struct {
	id   int64
	lang *i18n.Lang
}

type cachedEntry struct {
	e    Entry
	html []byte
}

// NewEntryCache is a cache of at most maxBytes of markup.
func NewEntryCache(maxBytes int) *EntryCache {
	return &EntryCache{m: make(map[entryKey]*cachedEntry), maxBytes: maxBytes}
}

type entryCacheKey struct{}

// WithEntryCache is ctx carrying c, which the lists of entries (a room
// page, a history page, search results) render through.
func WithEntryCache(ctx context.Context, c *EntryCache) context.Context {
	return context.WithValue(ctx, entryCacheKey{}, c)
}

// cachedMessageItem is MessageItem, through the context's EntryCache if
// it carries one.
func cachedMessageItem(e Entry) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		c, _ := ctx.Value(entryCacheKey{}).(*EntryCache)
		if c == nil {
			return MessageItem(e).Render(ctx, w)
		}
		return c.render(ctx, e, w)
	})
}

func (c *EntryCache) render(ctx context.Context, e Entry, w io.Writer) error {
	k := entryKey{e.ID, i18n.From(ctx)}
	c.mu.Lock()
	kept := c.m[k]
	c.mu.Unlock()
	// The kept entry is never changed once kept (put keeps a copy of its
	// own), so it is compared outside the lock.
	if kept != nil && reflect.DeepEqual(kept.e, e) {
		_, err := w.Write(kept.html)
		return err
	}
	var buf bytes.Buffer
	if err := MessageItem(e).Render(ctx, &buf); err != nil {
		return err
	}
	c.put(k, cloneEntry(e), buf.Bytes())
	_, err := w.Write(buf.Bytes())
	return err
}

func (c *EntryCache) put(k entryKey, e Entry, html []byte) {
	size := len(html)
	if size > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old := c.m[k]; old != nil {
		c.bytes -= len(old.html)
		delete(c.m, k)
	}
	for old, v := range c.m {
		if c.bytes+size <= c.maxBytes {
			break
		}
		c.bytes -= len(v.html)
		delete(c.m, old)
	}
	c.m[k] = &cachedEntry{e: e, html: html}
	c.bytes += size
}

// Len is how many entries' markup is kept.
func (c *EntryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// cloneEntry is a copy of e sharing nothing with it that a caller could
// change later (the slices and the card); a nil slice stays nil and an
// empty one empty, as DeepEqual tells them apart.
func cloneEntry(e Entry) Entry {
	e.Mentions = slices.Clone(e.Mentions)
	e.Marks = slices.Clone(e.Marks)
	e.Files = slices.Clone(e.Files)
	if e.Boosts != nil {
		boosts := make([]Boost, len(e.Boosts))
		for i, b := range e.Boosts {
			boosts[i] = Boost{Emoji: b.Emoji, Users: slices.Clone(b.Users)}
		}
		e.Boosts = boosts
	}
	if e.Card != nil {
		card := *e.Card
		e.Card = &card
	}
	return e
}
