package linkpreview

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	"golang.org/x/text/transform"
)

// The longest title, description and site name a card keeps, in
// characters (runes).
const (
	maxTitle       = 200
	maxDescription = 300
	maxSite        = 100

	// maxTitleBytes is as much of a <title> as is read: enough for the
	// longest title once white space and dropped characters are left out.
	maxTitleBytes = 4 * maxTitle * utf8.UTFMax
)

// meta is what a page says of itself, as written (entities decoded).
type meta struct {
	title, twitterTitle, ogTitle      string
	description, twitterDescription   string
	ogDescription, ogImage, twitImage string
	siteName                          string
}

// utf8Page is the page's bytes as UTF-8: decoded from the charset its
// byte-order mark, its Content-Type or its <meta> names (UTF-8 when none
// does), with invalid bytes dropped.
func utf8Page(body []byte, contentType string) []byte {
	if enc, name, _ := charset.DetermineEncoding(body, contentType); name != "utf-8" {
		if out, _, err := transform.Bytes(enc.NewDecoder(), body); err == nil {
			body = out
		}
	}
	return bytes.ToValidUTF8(body, nil)
}

// parseMeta reads the page's title, OpenGraph and Twitter tags and meta
// description: the first of each. The tokenizer keeps nothing but the
// token at hand, so the page's size bounds the work.
func parseMeta(page []byte) meta {
	var m meta
	z := html.NewTokenizer(bytes.NewReader(page))
	inTitle, titleSeen := false, false
	svg := 0 // how deep in <svg>, whose <title> names a drawing, not the page
	var title strings.Builder
	for {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			if inTitle {
				m.title = title.String()
			}
			return m
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			switch string(name) {
			case "svg":
				if tt == html.StartTagToken {
					svg++
				}
			case "title":
				if !titleSeen && svg == 0 {
					inTitle, titleSeen = true, true
				}
			case "meta":
				if hasAttr {
					m.tag(z)
				}
			}
		case html.EndTagToken:
			switch name, _ := z.TagName(); string(name) {
			case "title":
				if inTitle {
					m.title, inTitle = title.String(), false
				}
			case "svg":
				svg = max(svg-1, 0)
			}
		case html.TextToken:
			// More than the card keeps is not kept (a title left open runs
			// to the page's end); cut on a character's edge, clean drops
			// what is left of one.
			if room := maxTitleBytes - title.Len(); inTitle && room > 0 {
				text := z.Text()
				title.Write(text[:min(room, len(text))])
			}
		}
	}
}

// tag takes what a <meta> tag says, when it is one of those a card uses
// and the first of its kind.
func (m *meta) tag(z *html.Tokenizer) {
	var key, content string
	hasContent := false
	for {
		k, v, more := z.TagAttr()
		switch string(k) {
		case "property", "name":
			if key == "" {
				key = strings.ToLower(strings.TrimSpace(string(v)))
			}
		case "content":
			content, hasContent = string(v), true
		}
		if !more {
			break
		}
	}
	if !hasContent {
		return
	}
	set := func(p *string) {
		if *p == "" {
			*p = content
		}
	}
	switch key {
	case "og:title":
		set(&m.ogTitle)
	case "twitter:title":
		set(&m.twitterTitle)
	case "og:description":
		set(&m.ogDescription)
	case "twitter:description":
		set(&m.twitterDescription)
	case "description":
		set(&m.description)
	case "og:image", "og:image:url", "og:image:secure_url":
		set(&m.ogImage)
	case "twitter:image", "twitter:image:src":
		set(&m.twitImage)
	case "og:site_name":
		set(&m.siteName)
	}
}

// first is the first of ss that has something to show once cleaned.
func first(limit int, ss ...string) string {
	for _, s := range ss {
		if c := clean(s, limit); c != "" {
			return c
		}
	}
	return ""
}

// clean makes s fit for a card: invalid bytes, control characters and the
// characters that change the direction of text (or hide themselves)
// dropped, white space collapsed and trimmed, at most limit characters
// (the last one an ellipsis when it was cut). The chat escapes it on
// output: this is text, not markup.
func clean(s string, limit int) string {
	var b strings.Builder
	n, space := 0, false
	for _, r := range strings.ToValidUTF8(s, "") {
		switch {
		case unicode.IsSpace(r):
			space = n > 0
			continue
		case dropped(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			n, space = n+1, false
		}
		b.WriteRune(r)
		if n++; n > limit {
			return cut(b.String(), limit)
		}
	}
	return b.String()
}

// cut shortens s, of more than limit characters, to limit-1 of them and
// an ellipsis.
func cut(s string, limit int) string {
	n := 0
	for i := range s {
		if n == limit-1 {
			return strings.TrimRight(s[:i], " ") + "…"
		}
		n++
	}
	return s
}

// dropped reports whether r is a character a card never shows: a control
// character, a mark of direction (which could make the card, or the text
// around it, read as something else), a zero-width space or byte-order
// mark, a noncharacter or the replacement of an invalid byte.
func dropped(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f', r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true // the bidirectional marks, embeddings, overrides and isolates
	case r == '\u200b', r == '\u2060', r == '\ufeff', r == utf8.RuneError:
		return true
	case r >= '\ufdd0' && r <= '\ufdef', r&0xfffe == 0xfffe:
		return true // noncharacters
	}
	return false
}
