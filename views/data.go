// Package views renders the chat's pages and fragments with templ. It sees
// only the plain data declared here, never the store or the server.
package views

import (
	"strconv"
	"time"
)

// Viewer is who a page is rendered for; empty when signed out.
type Viewer struct {
	Username string
}

// Entry is one element of a room's history.
type Entry struct {
	ID     int64
	Kind   string // post, join or leave
	Author string
	Text   string
	Time   time.Time
	// ClientID is the id the sender's page gave a post, so that the page
	// knows its send has landed; "" for none.
	ClientID string
}

// RoomLink is a room in the room list.
type RoomLink struct {
	ID      int64
	Name    string
	Member  bool
	Current bool
}

// ComposeForm is the form that posts to a room.
type ComposeForm struct {
	RoomID   int64
	Text     string
	ClientID string
	Error    string
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
}

// LobbyPage is the list of rooms and the form that creates one.
type LobbyPage struct {
	Viewer Viewer
	Rooms  []RoomLink
	Name   string
	Error  string
}

// AuthForm is the sign-in or register form.
type AuthForm struct {
	Register bool
	Username string
	Error    string
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

// RoomURL is the path of a room's page.
func RoomURL(id int64) string { return "/rooms/" + strconv.FormatInt(id, 10) }

// AvatarURL is the path of a user's avatar.
func AvatarURL(username string) string { return "/users/" + username + "/avatar" }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func timeAttr(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func timeShort(t time.Time) string { return t.UTC().Format("15:04") }

func timeLong(t time.Time) string { return t.UTC().Format("Mon 2 Jan 2006, 15:04 UTC") }

func presenceID(user string) string { return "presence-" + user }

func memberID(user string) string { return "member-" + user }
