package handlers

import (
	"bytes"
	"context"

	"chat/store"
	"chat/views"

	"github.com/a-h/templ"
)

// renderBytes renders a component into a fresh byte slice, which the hub
// then shares between every connection it is queued to.
func renderBytes(comp templ.Component) []byte {
	var buf bytes.Buffer
	if err := comp.Render(context.Background(), &buf); err != nil {
		// Rendering plain data into a buffer has no way to fail but a bug.
		panic("render frame: " + err.Error())
	}
	return buf.Bytes()
}

func entryFrame(m store.Message) []byte { return renderBytes(views.EntryPush(entry(m))) }

// roomLinkFrame changes a room's link in the room list.
func roomLinkFrame(l views.RoomLink) []byte { return renderBytes(views.RoomLinkChanged(l)) }

// noticeFrame tells a user's pages of a post that matches their
// notification level.
func noticeFrame(n views.Notice) []byte { return renderBytes(views.NoticePush(n)) }

// roomListedFrame puts a room in a page's lists of rooms, and
// roomGoneFrame takes it out (package lists).
func roomListedFrame(l views.RoomLink) []byte { return renderBytes(views.RoomListed(l)) }
func roomGoneFrame(roomID int64) []byte       { return renderBytes(views.RoomGone(roomID)) }

// presenceFrames renders #presence for the hub.
type presenceFrames struct{}

func (presenceFrames) List(_ int64, users []string) []byte {
	return renderBytes(views.PresenceList(users))
}

func (presenceFrames) Joined(_ int64, user string) []byte {
	return renderBytes(views.PresenceJoined(user))
}

func (presenceFrames) Left(_ int64, user string) []byte {
	return renderBytes(views.PresenceLeft(user))
}

// PresenceFrames is the hub's renderer of the presence list.
func PresenceFrames() interface {
	List(int64, []string) []byte
	Joined(int64, string) []byte
	Left(int64, string) []byte
} {
	return presenceFrames{}
}
