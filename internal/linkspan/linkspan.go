// Package linkspan says where the links of a post's text start and end:
// the one rule that the formatter (views) and the link cards
// (linkpreview) share, so that a card is always for a link the post
// shows. It knows nothing of code, quotes or fences; its callers say which
// bytes are taken.
package linkspan

import (
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Start reports whether an http:// or https:// URL starts at i: at the
// start of a word.
func Start(text string, i int) bool {
	if i > 0 {
		if r, _ := utf8.DecodeLastRuneInString(text[:i]); unicode.IsLetter(r) || unicode.IsDigit(r) {
			return false
		}
	}
	rest := text[i:]
	return len(rest) > 8 && strings.EqualFold(rest[:8], "https://") || len(rest) > 7 && strings.EqualFold(rest[:7], "http://")
}

// End is where the URL that starts at i ends: at a space, a control
// character or what no URL holds, before to or a byte that stop says is
// taken; punctuation that ends a sentence, and a closing bracket that
// closes none of the URL's, are left out.
func End(text string, i, to int, stop func(int) bool) int {
	end := i
	for end < to && !stop(end) {
		r, size := utf8.DecodeRuneInString(text[end:to])
		// A format character (a direction override, say) ends it too: it
		// could make a link read as another.
		if unicode.IsSpace(r) || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '<' || r == '>' || r == '"' || r == '`' || r == utf8.RuneError {
			break
		}
		end += size
	}
	// Brackets are counted once, and kept count of as the end moves back.
	open := strings.Count(text[i:end], "(") - strings.Count(text[i:end], ")")
	square := strings.Count(text[i:end], "[") - strings.Count(text[i:end], "]")
	for end > i {
		switch c := text[end-1]; {
		case strings.IndexByte(".,:;!?'*_", c) >= 0:
		case c == ')' && open < 0:
			open++
		case c == ']' && square < 0:
			square++
		default:
			return end
		}
		end--
	}
	return end
}

// Link reports whether s, a run from Start to End, is a link: an http or
// https URL that parses and names a host. A run that is not stays text.
func Link(s string) bool {
	u, err := url.Parse(s)
	return err == nil && u.Host != "" && (u.Scheme == "http" || u.Scheme == "https")
}
