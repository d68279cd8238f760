package hub

import (
	"sync"
	"sync/atomic"
)

// Text is an event's bytes in each language its readers read: rendered
// once per language, by the first connection of that language that takes
// the event, and shared by the others. A room whose readers share one
// language renders each event once, as before there were two.
type Text struct {
	render func(lang int) []byte
	mu     sync.Mutex // held while rendering
	by     []atomic.Pointer[[]byte]
}

// NewText is an event in langs languages (numbered from 0), rendered by
// render when first asked for. render must read only what will not
// change.
func NewText(langs int, render func(lang int) []byte) *Text {
	return &Text{render: render, by: make([]atomic.Pointer[[]byte], max(langs, 1))}
}

// Rendered is an event already rendered in each language, in order: what
// comes from another instance.
func Rendered(by [][]byte) *Text {
	t := &Text{by: make([]atomic.Pointer[[]byte], max(len(by), 1))}
	for i := range by {
		b := by[i]
		t.by[i].Store(&b)
	}
	return t
}

// Same is an event that is the same bytes in every language.
func Same(b []byte) *Text { return Rendered([][]byte{b}) }

// In is the event in a language; a language the event does not have gets
// the first's.
func (t *Text) In(lang int) []byte {
	if lang < 0 || lang >= len(t.by) {
		lang = 0
	}
	if b := t.by[lang].Load(); b != nil {
		return *b
	}
	if t.render == nil {
		// Rendered text with a hole (never from what instances send
		// each other, which has every language): the first's, or none.
		if lang != 0 {
			return t.In(0)
		}
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.by[lang].Load(); b != nil {
		return *b
	}
	b := t.render(lang)
	t.by[lang].Store(&b)
	return b
}

// All is the event in every language, in order (for the other instances,
// which may have readers of any of them).
func (t *Text) All() [][]byte {
	out := make([][]byte, len(t.by))
	for i := range out {
		out[i] = t.In(i)
	}
	return out
}

// Bytes is the event in a language: its Text in that language, or its
// Data when it is the same in all.
func (ev Event) Bytes(lang int) []byte {
	if ev.Text != nil {
		return ev.Text.In(lang)
	}
	return ev.Data
}
