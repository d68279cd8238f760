package views

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// Initials are what a generated avatar shows: the first letter of the
// first two parts of the name ("ada_lovelace" is AL), or its first letter.
func Initials(username string) string {
	parts := strings.FieldsFunc(username, func(r rune) bool { return r == '_' || r == '.' || r == '-' })
	if len(parts) == 0 {
		return "?"
	}
	out := []rune{unicode.ToUpper([]rune(parts[0])[0])}
	if len(parts) > 1 {
		out = append(out, unicode.ToUpper([]rune(parts[1])[0]))
	}
	return string(out)
}

// AvatarColor is a colour of the user's own, the same on every page and
// dark enough for white initials: a hue from a hash of the name in any
// letter case.
func AvatarColor(username string) string {
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(username)))
	sum := h.Sum32()
	hue := sum % 360
	sat := 45 + (sum>>9)%25
	return fmt.Sprintf("hsl(%d %d%% 40%%)", hue, sat)
}

// ViewerCSS is the stylesheet of one signed-in user: it sets their own
// entries apart, makes entries that mention them stand out, marks their own
// reactions and shows the actions open to them. Entries are rendered once
// for everyone; only this file knows who is looking. Usernames hold only
// [A-Za-z0-9_.-], which need no escaping inside a quoted CSS string.
func ViewerCSS(username string, admin bool) string {
	if username == "" {
		return "/* signed out */\n"
	}
	me := fmt.Sprintf(`body[data-viewer=%q]`, username)
	mine := fmt.Sprintf(`[data-author=%q]`, username)
	var b strings.Builder
	fmt.Fprintf(&b, "/* Entries of %s */\n", username)
	fmt.Fprintf(&b, "%s .entry-post%s { flex-direction: row-reverse; }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .bubble { background: var(--mine-bg); color: var(--mine-fg); border-color: var(--mine-bg); border-radius: 16px 4px 16px 16px; }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .meta { flex-direction: row-reverse; }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .author { display: none; }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s time { color: var(--mine-meta); }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s[data-cont] time { left: auto; right: 0; }\n", me, mine)
	fmt.Fprintf(&b, "%s .typing-user[data-user=%q] { display: none; }\n", me, username)
	fmt.Fprintf(&b, "%s .entry-post%s .own-only, %s #entry-toolbar%s .own-only { display: inline-flex; }\n", me, mine, me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .mention { color: var(--mine-fg); background: rgb(0 0 0 / 12%%); }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .edited, %s .entry-post%s .permalink time, %s .entry-post%s .entry-room { color: var(--mine-meta); }\n", me, mine, me, mine, me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s mark { background: #ffe066; color: #1c2026; }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .text a, %s .entry-post%s .text .quote { color: var(--mine-fg); }\n", me, mine, me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .text .quote { border-left-color: rgb(255 255 255 / 45%%); }\n", me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .actions-plain a, %s .entry-post%s .button-link { color: var(--mine-fg); }\n", me, mine, me, mine)
	fmt.Fprintf(&b, "%s .entry-post%s .bubble:has(.edit-form) { background: var(--panel); color: var(--text); border-color: var(--accent); }\n", me, mine)
	if admin {
		fmt.Fprintf(&b, "%s .entry-post .admin-too, %s #entry-toolbar .admin-too { display: inline-flex; }\n", me, me)
	}
	fmt.Fprintf(&b, "/* Mentions of %s */\n", username)
	fmt.Fprintf(&b, "%s .entry-post[data-mentions~=%q] { background: var(--mention-bg); box-shadow: inset 3px 0 0 var(--mention-edge); }\n", me, username)
	fmt.Fprintf(&b, "%s .mention[data-user=%q] { background: var(--mention-edge); color: var(--mention-fg); }\n", me, username)
	fmt.Fprintf(&b, "/* Reactions of %s */\n", username)
	fmt.Fprintf(&b, "%s .boost[data-users~=%q] { background: var(--boost-mine-bg); border-color: var(--accent); }\n", me, username)
	return b.String()
}

// The admin pages' dates, in the reader's words and in UTC: the
// catalog's names of months and weekdays, in its order of the parts.

// dateShort is a day: "2 Jan 2006", "2 ene 2006".
func dateShort(ctx context.Context, t time.Time) string {
	t = t.UTC()
	return tf(ctx, "admin.date", "Day", strconv.Itoa(t.Day()), "Month", monthShort(ctx, t.Month()), "Year", strconv.Itoa(t.Year()))
}

// dateTime is a day and a time: "2 Jan 2006 15:04 UTC".
func dateTime(ctx context.Context, t time.Time) string {
	return tf(ctx, "admin.date_time", "Date", dateShort(ctx, t), "Time", t.UTC().Format("15:04"))
}
