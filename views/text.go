package views

import (
	"unicode/utf8"
)

// Span is a byte range of a post's text; Name is the user a mention names.
type Span struct {
	Start, End int
	Name       string
}

// fitting keeps the spans that lie within text, from a character's start
// to another's.
func fitting(text string, spans []Span) []Span {
	var out []Span
	for _, s := range spans {
		if s.Start >= 0 && s.End <= len(text) && s.Start < s.End && boundary(text, s.Start) && boundary(text, s.End) {
			out = append(out, s)
		}
	}
	return out
}

// boundary reports whether i is where a character of s starts (or its end).
func boundary(s string, i int) bool { return i == len(s) || utf8.RuneStart(s[i]) }
