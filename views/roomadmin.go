package views

import (
	"context"
	"strconv"
	"time"
)

// RoomManage is what the creator of a room or an admin may change on its
// page: its name, access and archive, and who is in it.
type RoomManage struct {
	RoomID   int64
	Name     string // the name field as given (the room's name at first)
	Closed   bool
	Archived bool
	Members  []string
	// Delete: the viewer is an admin, who may delete the room.
	Delete bool
	Error  string
}

// RoomDeletePage asks an admin to confirm deleting a room and its history.
type RoomDeletePage struct {
	Viewer   Viewer
	Rooms    []RoomLink
	RoomID   int64
	RoomName string
	Entries  int
}

// InvitationRow is an invitation on the admin page.
type InvitationRow struct {
	ID        int64
	CreatedBy string
	Created   time.Time
	Expires   time.Time
	Uses, Max int
	State     string // "good", "revoked", "expired" or "used up"
}

// invitationState is an invitation's state in the reader's words.
func invitationState(ctx context.Context, state string) string {
	switch state {
	case "good":
		return t(ctx, "invites.state_good")
	case "revoked":
		return t(ctx, "invites.state_revoked")
	case "expired":
		return t(ctx, "invites.state_expired")
	case "used up":
		return t(ctx, "invites.state_used_up")
	}
	return state
}

// InvitationsPart is the registration policy and the invitations, on the
// admin page.
type InvitationsPart struct {
	Policy string // "open" or "invite"
	List   []InvitationRow
	// Link is an invitation just made: shown this once.
	Link  string
	Error string
	// Uses and Days are the form's values as given.
	Uses, Days string
}

// RoomNameID is the DOM id of a room's name in the room list; the
// lobby's list and the room page's title have their own.
func RoomNameID(id int64) string { return "room-name-" + strconv.FormatInt(id, 10) }

func lobbyRoomID(id int64) string     { return "lobby-room-" + strconv.FormatInt(id, 10) }
func lobbyRoomNameID(id int64) string { return "lobby-room-name-" + strconv.FormatInt(id, 10) }

// RoomSinkID is the DOM id of a hidden element of the room list that
// room frames target besides the room's own elements (see RoomGone).
const RoomSinkID = "room-sink"

// RoomTitleID is the DOM id of the room page's title.
const RoomTitleID = "room-title"

func accessLabel(closed bool) string {
	if closed {
		return "closed"
	}
	return "open"
}

// roomItemSelector finds a room's items in the room lists of a page.
func roomItemSelector(id int64) string { return "[data-room-item='" + itoa(id) + "']" }

// roomNameSelector finds a room's name wherever a page shows it.
func roomNameSelector(id int64) string { return "[data-room-name='" + itoa(id) + "']" }

// The ids of the lists of rooms: the room list of every page (rooms,
// archived rooms, direct messages) and the lobby's own.
const (
	RoomListID      = "room-list"
	ArchivedListID  = "archived-list"
	DMListID        = "dm-list"
	LobbyRoomsID    = "lobby-rooms"
	LobbyArchivedID = "lobby-archived"
)

// roomListOf is the id of the room list a room belongs in.
func roomListOf(r RoomLink) string {
	switch {
	case r.DM:
		return DMListID
	case r.Archived:
		return ArchivedListID
	}
	return RoomListID
}

// lobbyTarget selects the lobby's list a room belongs in, or, on a page
// that has no such list, the room list's sink (app.js empties it).
func lobbyTarget(r RoomLink) string {
	id := LobbyRoomsID
	if r.Archived {
		id = LobbyArchivedID
	}
	return "#" + id + ", body:not(:has(#" + id + ")) #" + RoomSinkID
}
