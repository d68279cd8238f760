// Package lists keeps the lists of rooms on open pages (each page's room
// list, the lobby's list) equal to what a reload would show, as rooms are
// made, joined, left, renamed, opened, closed, archived and deleted.
package lists

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"chat/hub"
	"chat/store"
	"chat/views"
)

// Lists pushes changes of rooms to the lists of the pages of this
// instance. On several linked instances each instance runs it for its
// own connections alone, from the entries delivered to it: the entries of
// a room reach every instance, in the room's order.
type Lists struct {
	store *store.Store
	hub   *hub.Hub
	log   *slog.Logger
	// listed renders a room put in the lists (or put again, changed);
	// gone renders a room taken out.
	listed  func(views.RoomLink) *hub.Text
	gone    func(roomID int64) *hub.Text
	counted func(user string, roomID int64) (int, bool)
}

// Config is what the lists are built from.
type Config struct {
	Store *store.Store
	Hub   *hub.Hub
	Log   *slog.Logger
	// Listed renders the frame that puts a room in a page's lists, in
	// place of what the page showed of it.
	Listed func(views.RoomLink) *hub.Text
	// Gone renders the frame that takes a room out of a page's lists.
	Gone func(roomID int64) *hub.Text
	// Counted is the count of unread posts, and whether one mentions
	// the user, that the user's pages show beside the room (package
	// unread): a room put in the lists again keeps them. Nil: none.
	Counted func(user string, roomID int64) (count int, mention bool)
}

// New makes the lists' pusher; it starts nothing.
func New(c Config) *Lists {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.Counted == nil {
		c.Counted = func(string, int64) (int, bool) { return 0, false }
	}
	return &Lists{store: c.Store, hub: c.Hub, log: c.Log, listed: c.Listed, gone: c.Gone, counted: c.Counted}
}

// everyPage skips no room's connections, when sending to a user: not even
// those that follow no room (hub.NoRoom).
const everyPage int64 = -1

// readMax bounds the reads of one change.
const readMax = 5 * time.Second

// Entry pushes what an entry changes in the lists, to this instance's
// pages: first says the entry is a room's first (the join of its
// creator: the room is new). It runs where entries are delivered, in each
// room's order. Posts change no list (the unread marks are package
// unread's).
//
// What a reload shows of a listed room depends on the reader in three
// ways alone: whether they are a member (the lobby says so), whether the
// room has entries they have not seen, and, for a member, how many posts
// of those (and whether one mentions them). The entry is one such, for
// everyone but its author and those following the room, whose sockets
// take it: so each change is rendered at most four times, and once more
// for each count of unread posts a member's pages show.
func (l *Lists) Entry(m store.Message, first bool) {
	switch m.Kind {
	case store.KindJoin, store.KindLeave, store.KindRename, store.KindAccess, store.KindArchive:
	default:
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), readMax)
	defer cancel()
	room, err := l.store.FindRoomByID(ctx, m.RoomID)
	if err != nil {
		// Deleted since: Deleted takes it out.
		if !errors.Is(err, store.ErrNotFound) {
			l.log.Error("room lists: room not read", "room", m.RoomID, "err", err)
		}
		return
	}
	if room.Kind != store.RoomKindRoom {
		return
	}
	switch {
	case m.Kind == store.KindJoin && !first:
		// Only the one who joined (or was added) sees a change: the lobby
		// marks the room theirs, and a closed room appears.
		l.send(m, room, map[string]bool{m.Author: true}, func(user string) bool { return user == m.Author })
		return
	case m.Kind == store.KindLeave:
		// Only the one who left (or was removed): an open room is no
		// longer theirs, a closed room disappears.
		if room.Access == store.AccessClosed {
			l.hub.SendUser(m.Author, everyPage, hub.Event{Text: l.gone(room.ID)}, hub.Here)
			return
		}
		l.send(m, room, nil, func(user string) bool { return user == m.Author })
		return
	}
	// The room is new, renamed, opened, closed, archived or brought back:
	// everyone who lists it sees it again; a closed room disappears for
	// everyone else.
	names, err := l.store.ListMembers(ctx, room.ID)
	if err != nil {
		l.log.Error("room lists: members not read", "room", room.ID, "err", err)
		return
	}
	members := make(map[string]bool, len(names))
	for _, n := range names {
		members[n] = true
	}
	if room.Access == store.AccessOpen {
		l.send(m, room, members, nil)
		return
	}
	// Closed: its members; and, if it closed just now, everyone else,
	// who no longer sees it.
	closing := m.Kind == store.KindAccess
	l.send(m, room, members, func(user string) bool { return closing || members[user] })
}

// send puts the room in the lists of the pages of this instance whose
// user to picks (nil: everyone's), as each would see it on a reload; a
// user to picks who may not see the room has it taken out.
func (l *Lists) send(m store.Message, room store.Room, members map[string]bool, to func(user string) bool) {
	following := make(map[string]bool)
	for _, u := range l.hub.Online(room.ID) {
		following[u] = true
	}
	if m.Kind == store.KindLeave {
		// The author's other pages: they follow the room no more.
		following = nil
	}
	var frames [4]*hub.Event
	type counted struct {
		count   int
		mention bool
	}
	withCount := make(map[counted]*hub.Event)
	var gone *hub.Event
	closed := room.Access == store.AccessClosed
	l.hub.SendEach(func(user string) *hub.Event {
		if to != nil && !to(user) {
			return nil
		}
		member := members[user]
		if closed && !member {
			if gone == nil {
				gone = &hub.Event{Text: l.gone(room.ID)}
			}
			return gone
		}
		unread := user != m.Author && !following[user]
		i := 0
		if member {
			i |= 1
		}
		if unread {
			i |= 2
		}
		if member && unread {
			if n, mention := l.counted(user, room.ID); n > 0 || mention {
				k := counted{n, mention}
				if withCount[k] == nil {
					withCount[k] = &hub.Event{Text: l.listed(views.RoomLink{ID: room.ID, Name: room.Name, Member: true,
						Unread: true, Closed: closed, Archived: room.Archived, Count: n, Mention: mention})}
				}
				return withCount[k]
			}
		}
		if frames[i] == nil {
			frames[i] = &hub.Event{Text: l.listed(views.RoomLink{ID: room.ID, Name: room.Name, Member: member,
				Unread: unread, Closed: closed, Archived: room.Archived})}
		}
		return frames[i]
	})
}

// Deleted takes a deleted room out of every page's lists on this
// instance, and closes the connections that follow it. The frame names
// no room, only its id.
func (l *Lists) Deleted(roomID int64) {
	l.hub.CloseRoom(roomID, hub.ClosePolicy, "the room was deleted")
	ev := hub.Event{Text: l.gone(roomID)}
	l.hub.SendEach(func(string) *hub.Event { return &ev })
}

// DMOpened puts new direct messages in the lists of both users' pages,
// on every instance: each sees them named after the other. New direct
// messages have no entries, so none is unread.
func (l *Lists) DMOpened(roomID int64, a, b string) {
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		ev := hub.Event{Text: l.listed(views.RoomLink{ID: roomID, Name: pair[1], Member: true, DM: true})}
		l.hub.SendUser(pair[0], everyPage, ev, hub.Everywhere)
	}
}
