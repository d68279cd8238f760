package views

import (
	"context"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"chat/internal/linkspan"

	"github.com/a-h/templ"
)

// A post's text is stored as its author typed it and formatted when it is
// rendered, with a small, safe subset of what people type in chats:
//
//   - an http(s) URL is a link (only those two schemes, ever);
//   - `code` and lines fenced by ``` are code, taken literally;
//   - *bold* and _italic_ inside a line;
//   - a line that starts with > is a quote.
//
// No HTML the author typed ever reaches the page: every character of the
// text is escaped, and the markup around it comes from here alone. The
// characters that only mark formatting (the backticks, asterisks,
// underscores and the > of a quote) are left out; every other character
// is shown, in order. Search reads the stored text, so it still matches
// what people typed.

// fmtStyle is what a byte of a post's text is, for formatting.
type fmtStyle uint8

const (
	fmtHidden fmtStyle = 1 << iota // a formatting mark, not shown
	fmtBold
	fmtItalic
	fmtMark // matched by a search
)

// fmtByte is the formatting of one byte of the text.
type fmtByte struct {
	style fmtStyle
	// The element the byte is in, one of them at most, each numbered from
	// 1 so that two neighbours of one kind stay two elements: a link, a
	// mention or inline code.
	link, mention, code int32
	// block is the quote or fenced code the byte is in (0: none); pre
	// says which of the two.
	block int32
	pre   bool
}

// fmtText is a post's text, cut into what formatText renders.
type fmtText struct {
	text  string
	bytes []fmtByte
	links []string // by link number - 1: the href
	names []string // by mention number - 1: the username
	codes int32    // inline code spans so far
}

// needsFormat reports whether text may hold formatting, links, mentions or
// marks: most posts hold none and are written as they are.
func needsFormat(text string, mentions, marks []Span) bool {
	if len(mentions) > 0 || len(marks) > 0 || strings.ContainsAny(text, "`*_>") {
		return true
	}
	for i := 0; i+4 <= len(text); i++ {
		if (text[i] == 'h' || text[i] == 'H') && strings.EqualFold(text[i:i+4], "http") {
			return true
		}
	}
	return false
}

// formatPost works out the formatting of text: blocks first, then in
// each line outside fenced code its inline code and links, then the
// mentions that fall outside those, then emphasis.
func formatPost(text string, mentions, marks []Span) *fmtText {
	f := &fmtText{text: text, bytes: make([]fmtByte, len(text))}
	f.blocks()
	var lines []line
	for start := 0; start < len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		from := start
		for from < end && f.bytes[from].style&fmtHidden != 0 {
			from++ // a quote's >, or a whole fence
		}
		if from < end && !f.bytes[from].pre {
			lines = append(lines, line{from, end})
		}
		start = end + 1
	}
	for _, l := range lines {
		f.codeAndLinks(l.start, l.end)
	}
	for _, m := range fitting(text, mentions) {
		if f.free(m.Start, m.End) {
			f.names = append(f.names, m.Name)
			for i := m.Start; i < m.End; i++ {
				f.bytes[i].mention = int32(len(f.names))
			}
		}
	}
	for _, l := range lines {
		f.emphasis(l.start, l.end, '*', fmtBold)
		f.emphasis(l.start, l.end, '_', fmtItalic)
	}
	for _, m := range fitting(text, marks) {
		for i := m.Start; i < m.End; i++ {
			f.bytes[i].style |= fmtMark
		}
	}
	return f
}

// free reports whether the bytes from..to are in no link or code, where
// neither a mention nor emphasis applies.
func (f *fmtText) free(from, to int) bool {
	for i := from; i < to; i++ {
		if b := f.bytes[i]; b.link != 0 || b.code != 0 || b.pre {
			return false
		}
	}
	return true
}

// line is a line of the text: its bytes from start to end, without the
// line feed.
type line struct{ start, end int }

func (l line) trimmed(text string) string { return strings.TrimRight(text[l.start:l.end], " \t\r") }

// blocks finds fenced code (between lines that are ``` alone, in pairs)
// and quotes (lines that start with >).
func (f *fmtText) blocks() {
	var lines []line
	for start := 0; start <= len(f.text); {
		end := strings.IndexByte(f.text[start:], '\n')
		if end < 0 {
			lines = append(lines, line{start, len(f.text)})
			break
		}
		lines = append(lines, line{start, start + end})
		start += end + 1
	}
	var fences []int
	for i, l := range lines {
		if l.trimmed(f.text) == "```" {
			fences = append(fences, i)
		}
	}
	inFence := make([]bool, len(lines))
	isFence := make([]bool, len(lines))
	var block int32
	for k := 0; k+1 < len(fences); k += 2 {
		open, close := fences[k], fences[k+1]
		isFence[open], isFence[close] = true, true
		block++
		for i := open + 1; i < close; i++ {
			inFence[i] = true
			f.mark(lines[i].start, lines[i].end, func(b *fmtByte) { b.block, b.pre = block, true })
			// The line feed between two lines of code is code; the one
			// before the closing fence ends the block, which ends the line
			// anyway.
			if i+1 < close {
				f.mark(lines[i].end, lines[i].end+1, func(b *fmtByte) { b.block, b.pre = block, true })
			}
		}
	}
	quote := func(i int) bool {
		return !inFence[i] && !isFence[i] && lines[i].start < lines[i].end && f.text[lines[i].start] == '>'
	}
	for i, l := range lines {
		switch {
		case isFence[i]:
			f.hide(l.start, l.end+1)
			if i > 0 && inFence[i-1] {
				f.hide(lines[i-1].end, lines[i-1].end+1)
			}
		case quote(i):
			if i == 0 || !quote(i-1) {
				block++
			}
			marker := l.start + 1
			if marker < l.end && f.text[marker] == ' ' {
				marker++
			}
			f.hide(l.start, marker)
			f.mark(marker, l.end, func(b *fmtByte) { b.block = block })
			if i+1 < len(lines) && quote(i+1) {
				f.mark(l.end, l.end+1, func(b *fmtByte) { b.block = block })
			} else {
				f.hide(l.end, l.end+1) // the quote's end ends the line
			}
		}
	}
}

// mark applies set to the bytes from..to that the text has.
func (f *fmtText) mark(from, to int, set func(*fmtByte)) {
	for i := from; i < to && i < len(f.bytes); i++ {
		set(&f.bytes[i])
	}
}

func (f *fmtText) hide(from, to int) {
	f.mark(from, to, func(b *fmtByte) { b.style |= fmtHidden })
}

// codeAndLinks finds, in the line from..to (outside fenced code), inline
// code, then the links outside it.
func (f *fmtText) codeAndLinks(from, to int) {
	for i := from; i < to; i++ {
		if f.text[i] != '`' {
			continue
		}
		j := strings.IndexByte(f.text[i+1:to], '`')
		if j <= 0 {
			continue
		}
		j += i + 1
		f.codes++
		n := f.codes
		f.hide(i, i+1)
		f.hide(j, j+1)
		f.mark(i+1, j, func(b *fmtByte) { b.code = n })
		i = j
	}
	for i := from; i < to; i++ {
		if f.bytes[i].code != 0 || f.bytes[i].style&fmtHidden != 0 || !linkspan.Start(f.text, i) {
			continue
		}
		end := linkspan.End(f.text, i, to, func(k int) bool { return f.bytes[k].code != 0 || f.bytes[k].style&fmtHidden != 0 })
		// Whatever the run is, a link or not, the search goes on after it:
		// a URL that does not parse is text, and a link starting inside it
		// would be a piece of it (and looking again from each byte would
		// cost a line of them its square).
		if linkspan.Link(f.text[i:end]) {
			f.links = append(f.links, f.text[i:end])
			n := int32(len(f.links))
			f.mark(i, end, func(b *fmtByte) { b.link = n })
		}
		i = max(i, end-1)
	}
}

// emphasis finds *bold* or _italic_ in the line from..to: a mark at the
// start of a word, before something that is not a space, closed by the
// next mark after something that is not a space, at the end of a word.
// Emphasis may hold a link, a mention or code whole; none of them holds a
// mark of emphasis.
func (f *fmtText) emphasis(from, to int, mark byte, style fmtStyle) {
	taken := func(k int) bool {
		b := f.bytes[k]
		return b.code != 0 || b.link != 0 || b.mention != 0 || b.style&fmtHidden != 0
	}
	before := func(k int) rune {
		if k <= from {
			return ' '
		}
		r, _ := utf8.DecodeLastRuneInString(f.text[from:k])
		return r
	}
	after := func(k int) rune {
		if k+1 >= to {
			return ' '
		}
		r, _ := utf8.DecodeRuneInString(f.text[k+1 : to])
		return r
	}
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == rune(mark) }
	// Whether a mark may close does not depend on where emphasis opened:
	// the places are found once, and each opening takes the next one, so
	// that a line of marks costs its length, not its square.
	var closers []int
	for j := from + 1; j < to; j++ {
		if f.text[j] == mark && !taken(j) && !unicode.IsSpace(before(j)) && before(j) != rune(mark) && !word(after(j)) {
			closers = append(closers, j)
		}
	}
	next := 0
	for i := from; i+2 < to; i++ {
		if f.text[i] != mark || taken(i) || word(before(i)) || unicode.IsSpace(after(i)) || after(i) == rune(mark) {
			continue
		}
		for next < len(closers) && closers[next] < i+2 {
			next++
		}
		if next == len(closers) {
			return
		}
		j := closers[next]
		f.hide(i, i+1)
		f.hide(j, j+1)
		f.mark(i+1, j, func(b *fmtByte) { b.style |= style })
		i = j
	}
}

// formatted renders a post's text with its formatting, mentions and
// marks: the content of the text's element.
func formatted(e Entry) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		f := formatPost(e.Text, e.Mentions, e.Marks)
		var b strings.Builder
		f.write(&b)
		_, err := io.WriteString(w, b.String())
		return err
	})
}

// write writes the text's markup: blocks hold elements (a link, a mention,
// inline code), which hold emphasis and marks. Each run of bytes alike is
// its own set of elements, so that the markup is always well formed,
// whatever the formatting overlaps.
func (f *fmtText) write(b *strings.Builder) {
	w := fmtWriter{f: f, b: b}
	// Text is written a run at a time: from run to where its formatting
	// changes or a mark is left out.
	run := -1
	flush := func(end int) {
		if run >= 0 {
			b.WriteString(templ.EscapeString(f.text[run:end]))
			run = -1
		}
	}
	for i := 0; i < len(f.text); i++ {
		c := f.bytes[i]
		if c.style&fmtHidden != 0 {
			flush(i)
			continue
		}
		if w.open && c == w.inner && c.block == w.block.block && sameElem(c, w.elem) {
			if run < 0 {
				run = i
			}
			continue
		}
		flush(i)
		w.enter(c)
		run = i
	}
	flush(len(f.text))
	w.closeBlock()
}

// fmtWriter writes the elements around a text's runs: what is open, from
// the outside in, is a block, an element and the emphasis inside it.
type fmtWriter struct {
	f                  *fmtText
	b                  *strings.Builder
	open               bool
	block, elem, inner fmtByte
}

func sameElem(x, y fmtByte) bool {
	return x.link == y.link && x.mention == y.mention && x.code == y.code
}

// enter closes what c does not share with the run before it and opens
// what c needs.
func (w *fmtWriter) enter(c fmtByte) {
	if !w.open || c.block != w.block.block {
		w.closeBlock()
		w.openBlock(c)
	}
	if !w.open || !sameElem(c, w.elem) {
		w.closeElem()
		w.openElem(c)
	}
	if !w.open || c.style != w.inner.style {
		w.closeInner()
		w.openInner(c)
	}
	w.open = true
}

func (w *fmtWriter) openBlock(c fmtByte) {
	if c.block != 0 {
		if c.pre {
			w.b.WriteString(`<code class="code-block">`)
		} else {
			w.b.WriteString(`<span class="quote">`)
		}
	}
	w.block = c
}

func (w *fmtWriter) openElem(c fmtByte) {
	switch {
	case c.link != 0:
		w.b.WriteString(`<a href="`)
		w.b.WriteString(templ.EscapeString(w.f.links[c.link-1]))
		w.b.WriteString(`" rel="nofollow noopener noreferrer ugc" target="_blank">`)
	case c.mention != 0:
		w.b.WriteString(`<span class="mention" data-user="`)
		w.b.WriteString(templ.EscapeString(w.f.names[c.mention-1]))
		w.b.WriteString(`">`)
	case c.code != 0:
		w.b.WriteString("<code>")
	}
	w.elem = c
}

func (w *fmtWriter) openInner(c fmtByte) {
	if c.style&fmtBold != 0 {
		w.b.WriteString("<strong>")
	}
	if c.style&fmtItalic != 0 {
		w.b.WriteString("<em>")
	}
	if c.style&fmtMark != 0 {
		w.b.WriteString("<mark>")
	}
	w.inner = c
}

func (w *fmtWriter) closeInner() {
	if w.inner.style&fmtMark != 0 {
		w.b.WriteString("</mark>")
	}
	if w.inner.style&fmtItalic != 0 {
		w.b.WriteString("</em>")
	}
	if w.inner.style&fmtBold != 0 {
		w.b.WriteString("</strong>")
	}
	w.inner = fmtByte{}
}

func (w *fmtWriter) closeElem() {
	w.closeInner()
	switch {
	case w.elem.link != 0:
		w.b.WriteString("</a>")
	case w.elem.mention != 0:
		w.b.WriteString("</span>")
	case w.elem.code != 0:
		w.b.WriteString("</code>")
	}
	w.elem = fmtByte{}
}

func (w *fmtWriter) closeBlock() {
	w.closeElem()
	if w.block.block != 0 {
		if w.block.pre {
			w.b.WriteString("</code>")
		} else {
			w.b.WriteString("</span>")
		}
	}
	w.block = fmtByte{}
}
