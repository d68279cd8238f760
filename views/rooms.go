package views

import "context"

// startLabel names what the first entry of a room page starts, in the
// reader's words: the room, or the viewer's direct messages with someone.
func startLabel(ctx context.Context, p RoomPage) string {
	if p.DM {
		return tf(ctx, "room.start_dm", "Name", p.RoomName)
	}
	return p.RoomName
}
