package views

import (
	"context"
	"strconv"
)

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

// noticeTitle is who wrote a notice's post where, in the reader's words.
func noticeTitle(ctx context.Context, n Notice) string {
	if n.DM {
		return tf(ctx, "notify.title_dm", "Name", n.Author)
	}
	return tf(ctx, "notify.title_room", "Name", n.Author, "Room", n.Room)
}

// noticeBody is what a notice says of its post: its text, or, for a post
// of files alone, their names; cut short (NoticeText).
func noticeBody(ctx context.Context, n Notice) string {
	if n.Text != "" || n.File == "" {
		return NoticeText(n.Text)
	}
	text := "📎 " + n.File
	if n.MoreFiles > 0 {
		text = "📎 " + tn(ctx, "notify.more_files", n.MoreFiles, "Name", n.File)
	}
	return NoticeText(text)
}
