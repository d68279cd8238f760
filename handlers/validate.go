package handlers

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"chat/i18n"
	"chat/store"

	"golang.org/x/text/unicode/norm"
)

// Limits of what users type; the contract fixes them.
const (
	usernameMin = 3
	usernameMax = 32
	passwordMin = 8
	passwordMax = 256
	roomNameMax = 64
	postMax     = 4000
)

// The validators say what is wrong in the reader's language (l): a
// handler has it as a.tr(c), a job as i18n.From(ctx).

// validateUsername returns what is wrong with a username, or "".
func validateUsername(l *i18n.Lang, name string) string {
	if len(name) < usernameMin || len(name) > usernameMax {
		return l.T("validate.username_length")
	}
	for i := 0; i < len(name); i++ {
		if !store.IsNameByte(name[i]) {
			return l.T("validate.username_chars")
		}
	}
	return ""
}

// validatePassword returns what is wrong with a new password, or "".
func validatePassword(l *i18n.Lang, pw string) string {
	if !utf8.ValidString(pw) {
		return l.T("validate.password_not_text")
	}
	n := utf8.RuneCountInString(pw)
	if n < passwordMin {
		return l.T("validate.password_short")
	}
	if n > passwordMax {
		return l.T("validate.password_long")
	}
	return ""
}

// cleanRoomName trims a room name and returns what is wrong with it, or "".
func cleanRoomName(l *i18n.Lang, raw string) (string, string) {
	if !utf8.ValidString(raw) {
		return "", l.T("validate.room_name_not_text")
	}
	name := strings.TrimSpace(raw)
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return name, l.T("validate.room_name_empty")
	}
	if n > roomNameMax {
		return name, l.T("validate.room_name_long")
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return name, l.T("validate.room_name_control")
		}
	}
	if hasBidiControl(name) {
		return name, l.T("validate.room_name_bidi")
	}
	if hasInvisible(name) {
		return name, l.T("validate.room_name_invisible")
	}
	return name, ""
}

// hasBidiControl reports whether s holds a character that changes the
// direction of the text around it (U+202A–U+202E, U+2066–U+2069, U+200E,
// U+200F, U+061C). A short name has no use for them, and with them it can
// show as something else (a room "txt.exe" that reads "exe.txt"). Posts
// keep them (right-to-left writers use the marks); their text is isolated
// where it is shown.
func hasBidiControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return unicode.Is(unicode.Bidi_Control, r) })
}

// hasInvisible reports whether s holds a character that shows as nothing
// or as blank: format characters (zero-width space, soft hyphen, BOM…)
// but the zero-width joiner emoji are made with, line and paragraph
// separators, and the other default-ignorable ones (Hangul fillers, the
// grapheme joiner). In a short name or a reaction they only serve to make
// a lookalike of another ("gen\u200beral", a second 👍).
func hasInvisible(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r != '\u200d' && unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Other_Default_Ignorable_Code_Point)
	})
}

// invisibleProblem says why a short field with an invisible character is
// refused, in English (a reaction's: its words are the messages' area).
func invisibleProblem(what string) string {
	return what + " cannot hold invisible characters."
}

// bidiProblem says why a short field with a direction control is refused,
// in English (a reaction's: its words are the messages' area).
func bidiProblem(what string) string {
	return what + " cannot hold characters that change the direction of text."
}

// cleanPost normalises a post's line breaks and trims it, and returns what
// is wrong with it, or "". Line breaks and tabs are kept; other control
// characters are refused. It may come out empty only when mayBeEmpty (a
// post that carries files).
func cleanPost(l *i18n.Lang, raw string, mayBeEmpty bool) (string, string) {
	if !utf8.ValidString(raw) {
		return "", l.T("validate.post_not_text")
	}
	text := strings.ReplaceAll(norm.NFC.String(raw), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.TrimSpace(text)
	if text == "" && !mayBeEmpty {
		return "", l.T("validate.post_empty")
	}
	if utf8.RuneCountInString(text) > postMax {
		return "", l.T("validate.post_long")
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", l.T("validate.post_control")
		}
	}
	return text, ""
}

// validClientID: the id a page gives a post is empty (none) or 8 to 64
// characters of A-Z a-z 0-9 _ -.
func validClientID(id string) bool {
	if id == "" {
		return true
	}
	if len(id) < 8 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
