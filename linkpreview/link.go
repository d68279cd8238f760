package linkpreview

import (
	"strings"

	"chat/internal/linkspan"
)

// FirstLink is the first http(s) URL of a post's text as the chat's
// formatter (views/format.go, with internal/linkspan) makes links of it, or "": a URL starts a
// word; it ends at a space, a control or format character or what no URL
// holds, and leaves out the punctuation that ends a sentence and a closing
// bracket that closes none of its own; it is never inside inline code or a
// fenced block. The URL is returned as it was typed, as the link's href
// is.
func FirstLink(text string) string {
	if !strings.Contains(strings.ToLower(text), "http") {
		return ""
	}
	lines := splitLines(text)
	fenced := fences(text, lines)
	for i, l := range lines {
		if fenced[i] {
			continue
		}
		// A quote's > (which the formatter leaves out) needs no care: no
		// link starts with it, and none reaches back over it.
		if u := lineLink(text, l.start, l.end); u != "" {
			return u
		}
	}
	return ""
}

type span struct{ start, end int }

func splitLines(text string) []span {
	var lines []span
	for start := 0; start <= len(text); {
		end := strings.IndexByte(text[start:], '\n')
		if end < 0 {
			lines = append(lines, span{start, len(text)})
			break
		}
		lines = append(lines, span{start, start + end})
		start += end + 1
	}
	return lines
}

// fences marks the lines that are fenced code or a fence: lines that are
// ``` alone (trailing blanks aside) pair up, and each pair's lines and the
// lines between are no text of links.
func fences(text string, lines []span) []bool {
	var at []int
	for i, l := range lines {
		if strings.TrimRight(text[l.start:l.end], " \t\r") == "```" {
			at = append(at, i)
		}
	}
	fenced := make([]bool, len(lines))
	for k := 0; k+1 < len(at); k += 2 {
		for i := at[k]; i <= at[k+1]; i++ {
			fenced[i] = true
		}
	}
	return fenced
}

// lineLink is the first link of the line from..to, outside its inline
// code (text between two backticks, the first taking the next).
func lineLink(text string, from, to int) string {
	code := make([]bool, to-from)
	for i := from; i < to; i++ {
		if text[i] != '`' {
			continue
		}
		j := strings.IndexByte(text[i+1:to], '`')
		if j <= 0 {
			continue
		}
		j += i + 1
		for k := i; k <= j; k++ {
			code[k-from] = true
		}
		i = j
	}
	inCode := func(k int) bool { return code[k-from] }
	for i := from; i < to; i++ {
		if inCode(i) || !linkspan.Start(text, i) {
			continue
		}
		end := linkspan.End(text, i, to, inCode)
		if linkspan.Link(text[i:end]) {
			return text[i:end]
		}
		i = max(i, end-1)
	}
	return ""
}
