// Package views renders the chat's pages and fragments with templ. It sees
// only the plain data declared here, never the store or the server.
package views

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"chat/i18n"
)

// Viewer is who a page is rendered for; empty when signed out.
type Viewer struct {
	Username string
	Admin    bool
	// Sound: a short sound goes with the viewer's notifications.
	Sound bool
	// SkipToCompose: the page has a message box, and a link to it comes
	// first (a room's page, for a member).
	SkipToCompose bool
}

// Entry is one element of a room's history.
type Entry struct {
	ID     int64
	RoomID int64
	Kind   string // post, join, leave; a deleted post is "deleted"
	Author string
	Text   string
	Time   time.Time
	// ClientID is the id the sender's page gave a post, so that the page
	// knows its send has landed; "" for none.
	ClientID string
	// Rev is the room's change counter at the entry's last change: a page
	// keeps the newest it has seen, and never swaps in an older one.
	Rev      int64
	EditedAt time.Time // zero if never edited
	Mentions []Span
	Boosts   []Boost
	// Marks are the byte ranges of Text a search matched.
	Marks []Span
	// Highlight marks the entry a permalink points at.
	Highlight bool
	// RoomName, when set, shows which room the entry is in (a search
	// result).
	RoomName string
	// By is who added (a join) or removed (a leave) the author, when
	// someone else did; From and To are a rename's names.
	By, From, To string
	// Files are a post's attachments, in the order they were sent; Card
	// is the preview of its first link, if it has one.
	Files []Attachment
	Card  *Card
}

// Boost is one reaction to a post and the users who gave it.
type Boost struct {
	Emoji string
	Users []string
}

// QuickBoosts are the reactions offered with one click.
var QuickBoosts = []string{"👍", "❤️", "😂", "🎉", "😮", "🙏"}

// RoomLink is a room in the room list.
type RoomLink struct {
	ID      int64
	Name    string
	Member  bool
	Current bool
	// Unread: the room has entries the user has not seen.
	Unread bool
	// Count is how many of those are posts by others (the store's
	// bounded count); Mention: one of them is for the user (it mentions
	// them, or the room is a direct message).
	Count   int
	Mention bool
	// DM: direct messages, named after the other user.
	DM bool
	// Closed: only members see the room; Archived: it is read-only.
	Closed, Archived bool
}

// ComposeForm is the form that posts to a room.
type ComposeForm struct {
	RoomID   int64
	Text     string
	ClientID string
	Error    string
	// UploadLimit is the largest file the server takes, in bytes, which
	// the page checks before sending (0: DefaultUploadLimit).
	UploadLimit int64
}

// DefaultUploadLimit is the largest file of a post when no other is set:
// 10 MB.
const DefaultUploadLimit = 10 << 20

// MaxFilesPerPost is how many files one post may carry.
const MaxFilesPerPost = 10

// The compose form's file field, and the list of what it will send.
const (
	ComposeFileID  = "compose-file"
	ComposeFilesID = "compose-files"
)

// uploadLimit is the form's limit of a file, in bytes.
func (f ComposeForm) uploadLimit() int64 {
	if f.UploadLimit > 0 {
		return f.UploadLimit
	}
	return DefaultUploadLimit
}

// RoomPage is everything the room page shows.
type RoomPage struct {
	Viewer   Viewer
	RoomID   int64
	RoomName string
	Rooms    []RoomLink
	Entries  []Entry
	HasOlder bool
	Members  []string
	Member   bool
	Compose  ComposeForm
	// Rev is the room's change counter when the page was read.
	Rev int64
	// At is the entry a permalink opened the room around (0: the latest
	// entries, live); HasNewer says entries newer than those shown exist.
	At       int64
	HasNewer bool
	// DM: the room is the direct messages of the viewer and RoomName.
	DM bool
	// Closed and Archived are the room's state; Manage is what its
	// creator or an admin may change (nil for anyone else).
	Closed, Archived bool
	Manage           *RoomManage
	// Online are the users connected to the room as the page is made
	// (#presence before any script runs).
	Online []string
	// NewSince is the first entry the viewer had not seen when the page
	// was made, where the "New since you were here" line goes (0: none).
	NewSince int64
	// Notify is the viewer's notification level, for a member.
	Notify string
}

// SearchPage lists the posts that match a query.
type SearchPage struct {
	Viewer  Viewer
	Rooms   []RoomLink
	Query   string
	Error   string
	Results []SearchResult
	// Searched: a query was run (an empty list then means no match).
	Searched bool
}

// SearchResult is a post found, and the room it is in.
type SearchResult struct {
	Entry
	RoomName string
}

// EditPage is the form that edits a post, without JavaScript.
type EditPage struct {
	Viewer Viewer
	Rooms  []RoomLink
	Entry  Entry
	Text   string
	Error  string
}

// ReactPage offers reactions to a post, without JavaScript.
type ReactPage struct {
	Viewer Viewer
	Rooms  []RoomLink
	Entry  Entry
	Error  string
}

// LobbyPage is the list of rooms and the form that creates one.
type LobbyPage struct {
	Viewer Viewer
	Rooms  []RoomLink
	Name   string
	Access string // the new room's access as given: "open" or "closed"
	Error  string
}

// AuthForm is the sign-in or register form.
type AuthForm struct {
	Register bool
	Username string
	Error    string
	// Invite is the invitation token the form registers with; Closed says
	// that registering needs one, and none is at hand.
	Invite string
	Closed bool
}

// ErrorPage tells a user what went wrong.
type ErrorPage struct {
	Viewer  Viewer
	Status  int
	Title   string
	Message string
}

// MessageID is the DOM id of an entry: templates and tests take it from here.
func MessageID(id int64) string { return "msg-" + strconv.FormatInt(id, 10) }

// LatestID is the DOM id of the mark after a room's newest entry: a link
// to RoomURL(id)+"#"+LatestID opens the room there.
const LatestID = "latest"

// RoomPanelID is the DOM id of a room page's members and settings: on a
// narrow screen a panel of their own, opened by a link to it.
const RoomPanelID = "room-panel"

// RoomURL is the path of a room's page.
func RoomURL(id int64) string { return "/rooms/" + strconv.FormatInt(id, 10) }

// AvatarURL is the path of a user's avatar.
func AvatarURL(username string) string { return "/users/" + username + "/avatar" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func timeAttr(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func timeShort(t time.Time) string { return t.UTC().Format("15:04") }

// timeLong is a moment in full, in the reader's language: "Mon 2 Jan
// 2006, 15:04 UTC", "lun 2 ene 2006, 15:04 UTC" (the page's script shows
// it in the reader's zone).
func timeLong(ctx context.Context, t time.Time) string {
	t = t.UTC()
	l := i18n.From(ctx)
	// Every entry of a page has one: written straight into one buffer.
	var buf [64]byte
	return string(l.AppendF(buf[:0], "date.time_long", func(dst []byte, name string) []byte {
		switch name {
		case "Weekday":
			return append(dst, l.T(weekdayAbbr[t.Weekday()])...)
		case "Day":
			return strconv.AppendInt(dst, int64(t.Day()), 10)
		case "Month":
			return append(dst, l.T(monthAbbr[t.Month()-1])...)
		case "Year":
			return strconv.AppendInt(dst, int64(t.Year()), 10)
		case "Time":
			return t.AppendFormat(dst, "15:04")
		}
		return append(dst, i18n.MissingMark+"."+name+"⟧"...)
	}))
}

// dayOf is the day of t (UTC), as a <time> names a date: 2026-12-02.
func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// dayLong names a day (UTC) in the reader's language: "Monday 2 January
// 2006", "lunes, 2 de enero de 2006".
func dayLong(ctx context.Context, t time.Time) string {
	t = t.UTC()
	l := i18n.From(ctx)
	return l.F("date.day_long",
		"Weekday", l.T(weekdayKeys[t.Weekday()]), "Day", t.Day(), "Month", l.T(monthKeys[t.Month()-1]), "Year", t.Year())
}

// The catalog's names of the days of the week (Sunday first, as
// time.Weekday counts) and of the months, in full and short.
var (
	weekdayKeys = [7]string{"date.sunday", "date.monday", "date.tuesday", "date.wednesday", "date.thursday", "date.friday", "date.saturday"}
	weekdayAbbr = [7]string{"date.sun", "date.mon", "date.tue", "date.wed", "date.thu", "date.fri", "date.sat"}
	monthKeys   = [12]string{"date.january", "date.february", "date.march", "date.april", "date.may", "date.june", "date.july", "date.august", "date.september", "date.october", "date.november", "date.december"}
	monthAbbr   = [12]string{"date.jan", "date.feb", "date.mar", "date.apr", "date.may_short", "date.jun", "date.jul", "date.aug", "date.sep", "date.oct", "date.nov", "date.dec"}
)

func weekdayShort(ctx context.Context, d time.Weekday) string {
	return i18n.From(ctx).T(weekdayAbbr[d])
}

func monthShort(ctx context.Context, m time.Month) string { return i18n.From(ctx).T(monthAbbr[m-1]) }

func presenceID(user string) string { return "presence-" + user }

func memberID(user string) string { return "member-" + user }

// PermalinkURL is the path of a room opened around one entry.
func PermalinkURL(roomID, id int64) string {
	return RoomURL(roomID) + "/at/" + strconv.FormatInt(id, 10)
}

// MessageURL is the path of an entry's actions.
func MessageURL(id int64) string { return "/messages/" + strconv.FormatInt(id, 10) }

// BoostsID is the DOM id of a post's reactions.
func BoostsID(id int64) string { return "boosts-" + strconv.FormatInt(id, 10) }

// PickerID is the DOM id of the place a post's reaction picker opens.
func PickerID(id int64) string { return "picker-" + strconv.FormatInt(id, 10) }

// RoomLinkID is the DOM id of a room's link in the room list.
func RoomLinkID(id int64) string { return "room-link-" + strconv.FormatInt(id, 10) }

func (e Entry) mentioned() string {
	var names []string
	for _, m := range e.Mentions {
		if !slices.Contains(names, m.Name) {
			names = append(names, m.Name)
		}
	}
	return strings.Join(names, " ")
}

// boostTitle names who gave a reaction: the first dozen, and how many
// more.
func boostTitle(ctx context.Context, b Boost) string {
	const shown = 12
	if len(b.Users) <= shown {
		return strings.Join(b.Users, ", ")
	}
	return tn(ctx, "msg.boost_more", len(b.Users)-shown, "Names", strings.Join(b.Users[:shown], ", "))
}

func joinNames(names []string) string { return strings.Join(names, " ") }

// noBoostsPattern is the empty .boosts of a post without reactions, with
// "{id}" and "{rev}" (its data-rev attribute, none for 0) where they go.
var noBoostsPattern = strings.Split(`<div id="boosts-{id}" class="boosts"{rev}></div>`, "{")

// noBoostsHTML is the empty .boosts of a post, put together by hand: it is
// in nearly every post rendered and holds nothing but numbers.
func noBoostsHTML(id, rev int64) string {
	var b strings.Builder
	b.Grow(64)
	for i, part := range noBoostsPattern {
		if i > 0 {
			name, rest, _ := strings.Cut(part, "}")
			if name == "id" {
				b.WriteString(strconv.FormatInt(id, 10))
			} else if rev > 0 {
				b.WriteString(` data-rev="`)
				b.WriteString(strconv.FormatInt(rev, 10))
				b.WriteString(`"`)
			}
			part = rest
		}
		b.WriteString(part)
	}
	return b.String()
}

// AdminUser is an account as the admin page lists it.
type AdminUser struct {
	Username    string
	Admin       bool
	Bot         bool
	Deactivated bool
	Created     time.Time
	WebhookURL  string
}

// AdminPage is the admins' page: the accounts, and the bots.
type AdminPage struct {
	Viewer     Viewer
	Users      []AdminUser
	Rooms      []RoomLink
	Error      string
	BotName    string
	BotWebhook string
	// Allowed are the webhook hosts the server was started with.
	Allowed []string
	// Invitations are the registration policy and the invitations.
	Invitations InvitationsPart
	// Done says what the admin's last action did.
	Done string
}

// BotCreatedPage shows a new bot's token, the one time it is shown.
type BotCreatedPage struct {
	Viewer Viewer
	Name   string
	Token  string
}

// ResetLinkPage shows the password-reset link an admin hands on.
type ResetLinkPage struct {
	Viewer   Viewer
	Username string
	Link     string
	Expires  time.Time
}

// ResetPage is the form a reset link opens.
type ResetPage struct {
	Token    string
	Username string
	Error    string
}

// UserPage is a user's profile: their avatar, and a way to write to them.
type UserPage struct {
	Viewer      Viewer
	Rooms       []RoomLink
	Username    string
	Bot         bool
	Deactivated bool
	Self        bool
}

func resetURL(token string) string { return "/reset/" + token }

// UserURL is the path of a user's profile.
func UserURL(username string) string { return "/users/" + username }

func joinComma(list []string) string { return strings.Join(list, ", ") }

// SwitchQueryMax is the most characters the quick switcher takes.
const SwitchQueryMax = 100

// The kinds of the quick switcher's matches.
const (
	SwitchRoom   = "room"
	SwitchClosed = "closed"
	SwitchDM     = "dm"
	SwitchPerson = "person"
)

// SwitchView is the quick switcher: what was asked, and what matches.
type SwitchView struct {
	Viewer  Viewer
	Query   string
	Error   string
	Results []SwitchResult
}

// SwitchResult is one match of the quick switcher: a room (RoomID), or a
// person to open direct messages with.
type SwitchResult struct {
	Kind   string
	RoomID int64
	Name   string
}
