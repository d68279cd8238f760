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
	var b strings.Builder
	b.Grow(len(query) + 16)
	next := 0
	operand := false // the last token was an operand: a ? now is an operator
	for i := 0; i < len(query); {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := endQuoted(query, i)
			if j < 0 {
				return "", refuse(query, i, "unterminated quote")
			}
			b.WriteString(query[i:j])
			i, operand = j, true
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
			b.WriteString("$" + strconv.Itoa(n))
			i, operand = j, true
		case isWordStart(c):
			j := i + 1
			for j < len(query) && isWordPart(query[j]) {
				j++
			}
			word := query[i:j]
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
			i, operand = j, true
		default:
			b.WriteByte(c)
			i++
			switch {
			case c == ')' || c == ']':
				operand = true
			case c != ' ' && c != '\t' && c != '\n' && c != '\r':
				operand = false
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
