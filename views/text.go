package views

import (
	"sort"
	"unicode/utf8"
)

// TextPart is a run of a post's text: plain, a mention of a user, or a
// match of a search (Mark).
type TextPart struct {
	Text    string
	Mention string // the username mentioned, as the account spells it
	Mark    bool
}

// TextRun is a mention, or a run of text between mentions, made of parts
// that a search marked or not.
type TextRun struct {
	Mention string
	Parts   []TextPart
}

// textRuns groups the parts of a post by mention, so that each mention is
// one element however a search marked it.
func textRuns(text string, mentions, marks []Span) []TextRun {
	var runs []TextRun
	for _, p := range textParts(text, mentions, marks) {
		if n := len(runs); n > 0 && runs[n-1].Mention == p.Mention {
			runs[n-1].Parts = append(runs[n-1].Parts, p)
			continue
		}
		runs = append(runs, TextRun{Mention: p.Mention, Parts: []TextPart{p}})
	}
	return runs
}

// Span is a byte range of a post's text; Name is the user a mention names.
type Span struct {
	Start, End int
	Name       string
}

// textParts cuts a post into runs at the edges of its mentions and of
// marks (a search's matches).
func textParts(text string, mentions, marks []Span) []TextPart {
	mentions, marks = fitting(text, mentions), fitting(text, marks)
	if len(mentions) == 0 && len(marks) == 0 {
		return []TextPart{{Text: text}}
	}
	cuts := []int{0, len(text)}
	for _, list := range [][]Span{mentions, marks} {
		for _, s := range list {
			cuts = append(cuts, s.Start, s.End)
		}
	}
	sort.Ints(cuts)
	var parts []TextPart
	for i := 0; i+1 < len(cuts); i++ {
		from, to := cuts[i], cuts[i+1]
		if from == to {
			continue
		}
		p := TextPart{Text: text[from:to]}
		for _, m := range mentions {
			if m.Start <= from && to <= m.End {
				p.Mention = m.Name
			}
		}
		for _, m := range marks {
			if m.Start <= from && to <= m.End {
				p.Mark = true
			}
		}
		parts = append(parts, p)
	}
	return parts
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
