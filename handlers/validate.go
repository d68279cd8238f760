package handlers

import (
	"strings"
	"unicode"
	"unicode/utf8"

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

// validateUsername returns what is wrong with a username, or "".
func validateUsername(name string) string {
	if len(name) < usernameMin || len(name) > usernameMax {
		return "A username is 3 to 32 characters long."
	}
	for i := 0; i < len(name); i++ {
		if !store.IsNameByte(name[i]) {
			return "A username may hold only letters A to Z, digits, and _ . -"
		}
	}
	return ""
}

// validatePassword returns what is wrong with a new password, or "".
func validatePassword(pw string) string {
	if !utf8.ValidString(pw) {
		return "That password holds bytes that are not text."
	}
	n := utf8.RuneCountInString(pw)
	if n < passwordMin {
		return "A password needs at least 8 characters."
	}
	if n > passwordMax {
		return "A password may have at most 256 characters."
	}
	return ""
}

// cleanRoomName trims a room name and returns what is wrong with it, or "".
func cleanRoomName(raw string) (string, string) {
	if !utf8.ValidString(raw) {
		return "", "A room name must be text."
	}
	name := strings.TrimSpace(raw)
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return name, "A room needs a name."
	}
	if n > roomNameMax {
		return name, "A room name may have at most 64 characters."
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return name, "A room name cannot hold line breaks or control characters."
		}
	}
	if hasBidiControl(name) {
		return name, bidiProblem("A room name")
	}
	if hasInvisible(name) {
		return name, invisibleProblem("A room name")
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
// refused.
func invisibleProblem(what string) string {
	return what + " cannot hold invisible characters."
}

// bidiProblem says why a short field with a direction control is refused.
func bidiProblem(what string) string {
	return what + " cannot hold characters that change the direction of text."
}

// cleanPost normalises a post's line breaks and trims it, and returns what
// is wrong with it, or "". Line breaks and tabs are kept; other control
// characters are refused. It may come out empty only when mayBeEmpty (a
// post that carries files).
func cleanPost(raw string, mayBeEmpty bool) (string, string) {
	if !utf8.ValidString(raw) {
		return "", "The message is not valid text."
	}
	text := strings.ReplaceAll(norm.NFC.String(raw), "\r\n", "\n")
	text = strings.ReplaceAll(text, "\r", "\n")
	text = strings.TrimSpace(text)
	if text == "" && !mayBeEmpty {
		return "", "The message is empty."
	}
	if utf8.RuneCountInString(text) > postMax {
		return "", "The message is too long: at most 4000 characters."
	}
	for _, r := range text {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", "The message holds control characters that cannot be shown."
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
