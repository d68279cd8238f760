package views

import "strconv"

// Element ids of the notifications.
const (
	NotifySinkID = "notify-sink"
	NotifyFormID = "notify-form"
	NewSinceID   = "new-since"
)

// CountLabel is how the room list shows an unread count: "99+" past 99.
func CountLabel(n int) string {
	if n > 99 {
		return "99+"
	}
	return strconv.Itoa(n)
}

// NoticeText is a post's text as a notification shows it: at most 140
// characters.
func NoticeText(text string) string {
	r := []rune(text)
	if len(r) > 140 {
		return string(r[:139]) + "…"
	}
	return text
}
