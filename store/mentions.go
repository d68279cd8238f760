package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A mention is "@" and a username, at the start of the text or after a
// character that is not part of a word ("mail@example.com" mentions no one).
// A name at the end of a sentence ("thanks @ada.") drops the trailing dots
// and dashes when the name with them is no user's.

// mentionAt is one "@name" in a text: the byte offsets of the "@" and of
// the end of the longest name, and the names it may mean, longest first.
type mentionAt struct {
	start, end int
	names      []string
}

// IsNameByte reports whether c may stand in a username: A-Z a-z 0-9 _ . -
// alone. The one definition of the alphabet, for mentions and for the
// handlers' validation.
func IsNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// scanMentions finds every "@name" of text.
func scanMentions(text string) []mentionAt {
	var out []mentionAt
	for i := 0; i < len(text); i++ {
		if text[i] != '@' {
			continue
		}
		if i > 0 {
			r, _ := utf8.DecodeLastRuneInString(text[:i])
			if r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || r == '@' {
				continue
			}
		}
		j := i + 1
		for j < len(text) && j-i-1 < 64 && IsNameByte(text[j]) {
			j++
		}
		name := text[i+1 : j]
		var names []string
		for len(name) >= 3 {
			if len(name) <= 32 {
				names = append(names, name)
			}
			last := name[len(name)-1]
			if last != '.' && last != '-' {
				break
			}
			name = name[:len(name)-1]
		}
		if len(names) > 0 {
			out = append(out, mentionAt{start: i, end: j, names: names})
		}
		i = j - 1
	}
	return out
}

// Mention is an "@name" of a post that names a user: the byte range of
// the "@name" in the text, and the username as the account spells it.
type Mention struct {
	Start, End int
	Username   string
}

// mentionsMax bounds the mentions of one post that are looked up.
const mentionsMax = 20

// findMentions finds the "@name"s of text that name users.
func (s *Store) findMentions(ctx context.Context, tx *dbTx, text string) ([]Mention, error) {
	if strings.IndexByte(text, '@') < 0 {
		return nil, nil
	}
	var out []Mention
	for _, m := range scanMentions(text) {
		if len(out) == mentionsMax {
			break
		}
		for _, n := range m.names {
			var name string
			err := tx.StmtContext(ctx, s.stmts.userByName).QueryRowContext(ctx, n).Scan(&name)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("store: find mentions: %w", err)
			}
			out = append(out, Mention{Start: m.start, End: m.start + 1 + len(n), Username: name})
			break
		}
	}
	return out, nil
}

// encodeMentions is how a post's mentions are kept: "start:end:name",
// separated by spaces.
func encodeMentions(ms []Mention) string {
	var b strings.Builder
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(m.Start))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(m.End))
		b.WriteByte(':')
		b.WriteString(m.Username)
	}
	return b.String()
}

func decodeMentions(s string) []Mention {
	if s == "" {
		return nil
	}
	var out []Mention
	for _, f := range strings.Fields(s) {
		start, rest, _ := strings.Cut(f, ":")
		end, name, _ := strings.Cut(rest, ":")
		a, err1 := strconv.Atoi(start)
		b, err2 := strconv.Atoi(end)
		if err1 != nil || err2 != nil || name == "" {
			continue
		}
		out = append(out, Mention{Start: a, End: b, Username: name})
	}
	return out
}
