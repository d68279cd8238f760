package store

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// errPlaceholders is a query toDollars will not rewrite: run on
// PostgreSQL, it fails rather than run as something else.
var errPlaceholders = errors.New("store: query cannot be put in PostgreSQL's placeholders")

// toDollars puts a query written with SQLite's placeholders in
// PostgreSQL's: ?N becomes $N, and each bare ? the next number (one more
// than the highest so far, as SQLite counts). It reads the query as
// PostgreSQL's lexer does, far enough to tell a placeholder from a ?
// in a string, a quoted name or a -- comment, which it copies as they
// are. What it cannot read surely it refuses, with errPlaceholders:
//
//   - a ? right after an operand (a name, a literal, a closing bracket)
//     or right before one: that is an operator, jsonb's ?, not a
//     parameter; so are ?| and ?&;
//   - E'…' strings (a backslash escapes a quote in them), /* comments */
//     (they nest), and $ anywhere outside strings and comments (dollar
//     quotes, or $N written by hand).
//
// It is longer than a function should be for a reason: it is one scanner
// over the query, whose states (in a string, a quoted name, a comment,
// after an operand) are read best in one place.
func toDollars(query string) (string, error) {
	return placeholders(query, func(b *strings.Builder, n int, _, _ string) {
		b.WriteString("$" + strconv.Itoa(n))
	})
}

// toPlusParams is a query for SQLite's read pool, each parameter written
// +? (or +?N) where it was ? (?N), but after LIKE, GLOB and MATCH, whose
// patterns SQLite's planner reads. It is the same query: unary + changes
// no value, type, affinity or collation of what it is applied to, and a
// parameter keeps its number. What it changes is the plan's ties to the
// bound values. SQLite marks a statement to be prepared again when a
// parameter it planned with changes (a LIMIT ?, or col = ? weighed as 0
// or 1), and go-sqlite3 clears every binding before each run, which
// counts as such a change: those statements were parsed and planned
// again at every run, prepared statements or not (most of a room list's
// 160 µs). A +? is no bare parameter to the planner, so nothing marks
// the statement. The planner then plans as it does for a parameter it
// does not look at, which is what it did for any other one.
//
// It reads the query as toDollars does; what toDollars refuses is
// returned as it is.
func toPlusParams(query string) string {
	out, err := placeholders(query, func(b *strings.Builder, _ int, text, before string) {
		switch strings.ToUpper(before) {
		case "LIKE", "GLOB", "MATCH":
		default:
			b.WriteByte('+')
		}
		b.WriteString(text)
	})
	if err != nil {
		return query
	}
	return out
}

// placeholders copies query, giving each parameter to emit: its number,
// its text as written (? or ?N), and the word just before it, if a word
// was ("" otherwise).
func placeholders(query string, emit func(b *strings.Builder, n int, text, before string)) (string, error) {
	var b strings.Builder
	b.Grow(len(query) + 16)
	next := 0
	operand := false // the last token was an operand: a ? now is an operator
	word := ""       // the last token, if it was a word
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := endQuoted(query, i)
			if j < 0 {
				return "", refuse(query, i, "unterminated quote")
			}
			b.WriteString(query[i:j])
			i, operand, word = j, true, ""
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			return "", refuse(query, i, "block comment")
		case c == '$':
			return "", refuse(query, i, "$ outside a string")
		case c == '?':
			if operand {
				return "", refuse(query, i, "? after an operand is an operator")
			}
			j := i + 1
			for j < len(query) && isDigit(query[j]) {
				j++
			}
			n := next + 1
			if j > i+1 {
				var err error
				n, err = strconv.Atoi(query[i+1 : j])
				if err != nil || n < 1 || n > 65535 {
					return "", refuse(query, i, "bad parameter number")
				}
			}
			if j < len(query) && (query[j] == '|' || query[j] == '&') {
				return "", refuse(query, i, "?| and ?& are operators")
			}
			if !placeholderEnds(query[j:]) {
				return "", refuse(query, i, "? before an operand is an operator")
			}
			next = max(next, n)
			emit(&b, n, query[i:j], word)
			i, operand, word = j, true, ""
		case isWordStart(c):
			j := i + 1
			for j < len(query) && isWordPart(query[j]) {
				j++
			}
			word = query[i:j]
			if j < len(query) && query[j] == '\'' && (word == "E" || word == "e") {
				return "", refuse(query, i, "E'' string")
			}
			b.WriteString(word)
			i, operand = j, !isKeyword(word)
		case isDigit(c):
			j := i + 1
			for j < len(query) && (isWordPart(query[j]) || query[j] == '.') {
				j++
			}
			b.WriteString(query[i:j])
			i, operand, word = j, true, ""
		default:
			b.WriteByte(c)
			i++
			switch {
			case c == ')' || c == ']':
				operand, word = true, ""
			case c != ' ' && c != '\t' && c != '\n' && c != '\r':
				operand, word = false, ""
			}
		}
	}
	return b.String(), nil
}

func refuse(query string, at int, why string) error {
	return fmt.Errorf("%w: %s at byte %d of %q", errPlaceholders, why, at, query)
}

// endQuoted is the offset just past the quoted string or name that starts
// at query[i], where a doubled quote stands for one; -1 if it never ends.
func endQuoted(query string, i int) int {
	quote := query[i]
	for j := i + 1; j < len(query); j++ {
		if query[j] != quote {
			continue
		}
		if j+1 < len(query) && query[j+1] == quote {
			j++
			continue
		}
		return j + 1
	}
	return -1
}

// placeholderEnds reports whether what follows a ? may follow a
// parameter: not an operand (a name, a literal, a number, another
// parameter, an opening bracket), which would make the ? an operator.
func placeholderEnds(rest string) bool {
	rest = strings.TrimLeft(rest, " \t\r\n")
	if rest == "" {
		return true
	}
	c := rest[0]
	switch {
	case c == '\'' || c == '"' || c == '?' || c == '(' || c == '$' || isDigit(c):
		return false
	case isWordStart(c):
		j := 1
		for j < len(rest) && isWordPart(rest[j]) {
			j++
		}
		return isKeyword(rest[:j])
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isWordStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
func isWordPart(c byte) bool { return isWordStart(c) || isDigit(c) }

// isKeyword reports whether a parameter may come after or before word.
// Any other word is taken for a name, an operand.
func isKeyword(word string) bool {
	switch strings.ToUpper(word) {
	case "ALL", "AND", "ANY", "AS", "ASC", "BETWEEN", "BY", "CASE", "COLLATE", "CROSS", "DESC", "DISTINCT", "DO",
		"ELSE", "END", "ESCAPE", "EXCEPT", "FETCH", "FOR", "FROM", "FULL", "GROUP", "HAVING", "ILIKE", "IN",
		"INNER", "INTERSECT", "INTO", "IS", "JOIN", "LEFT", "LIKE", "LIMIT", "MATCH", "NATURAL", "NOT", "NULLS",
		"OFFSET", "ON", "OR", "ORDER", "OUTER", "RETURNING", "RIGHT", "SELECT", "SET", "THEN", "UNION", "USING",
		"VALUES", "WHEN", "WHERE", "WINDOW":
		return true
	}
	return false
}
