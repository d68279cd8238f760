package handlers

import (
	"context"
	"time"

	"chat/hub"
	"chat/posting"
	"chat/store"

	"github.com/gofiber/fiber/v2"
)

// ClusterHooks are what package cluster needs of the chat to link this
// instance's hub to the others'.
type ClusterHooks struct {
	// Latest is each room's newest entry.
	Latest func(ctx context.Context) (map[int64]int64, error)
	// Fill renders a room's entries after an id, oldest first, as events.
	Fill func(ctx context.Context, roomID, after int64) ([]hub.Event, error)
	// OnEntry takes each entry delivered on this instance, in each room's
	// order: it marks rooms unread on this instance's pages, and calls the
	// webhooks of the entries written here.
	OnEntry func(roomID int64, ev hub.Event)
	// OnUser takes what another instance sent a user's pages: a room
	// opened there is no longer marked unread here.
	OnUser func(user string, ev hub.Event)
	// OnEvent takes the other events of a room that carry a description:
	// a room deleted on any instance is taken out of this one's pages,
	// and its connections here close.
	OnEvent func(roomID int64, ev hub.Event)
}

// botsRefresh is how often an instance linked to others reads the bots
// again.
const botsRefresh = 5 * time.Second

// fillMax bounds the entries one Fill reads; the cluster asks again if a
// gap is longer.
const fillMax = 500

// NewClusteredApp is NewApp for an instance linked to others (d.Clustered
// must be set), with the hooks its cluster link needs.
func NewClusteredApp(d Deps) (*fiber.App, ClusterHooks) {
	a, app := newApp(d)
	return app, ClusterHooks{
		Latest: a.store.LatestEntries,
		Fill: func(ctx context.Context, roomID, after int64) ([]hub.Event, error) {
			msgs, err := a.store.ListMessagesAfter(ctx, roomID, after, fillMax)
			if err != nil {
				return nil, err
			}
			evs := make([]hub.Event, len(msgs))
			prev := after
			for i, m := range msgs {
				evs[i] = hub.Event{Seq: m.ID, Prev: prev, Text: entryFrame(m), Meta: entryMeta(m)}
				prev = m.ID
			}
			return evs, nil
		},
		OnEntry: a.clusterEntry,
		OnUser:  a.unread.OpenedElsewhere,
		OnEvent: a.clusterEvent,
	}
}

// clusterWriter sets the writer up for an instance linked to others: it
// describes each entry for them, and keeps those written here until they
// come back, for their webhooks.
func (a *App) clusterWriter(c *posting.Config) {
	c.Meta = entryMeta
	c.NoteFirst = true
	// The webhooks of entries written here are called when the cluster
	// hands them back.
	c.OnEntry = a.webhooks.Written
}

// entryMeta is what other instances need to know of an entry for their
// unread marks: its author and kind. Two kinds say more, for the sockets
// each instance closes: a member removed (a leave by someone else), and a
// room closed to non-members.
func entryMeta(m store.Message) *hub.Meta {
	kind := m.Kind
	switch {
	case m.Kind == store.KindLeave && m.Text != "":
		kind = metaRemoved
	case m.Kind == store.KindAccess && m.Text == store.AccessClosed:
		kind = metaClosed
	}
	return &hub.Meta{AuthorID: m.UserID, Author: m.Author, Kind: kind}
}

// The kinds entryMeta tells apart.
const (
	metaRemoved = "leave:removed"
	metaClosed  = "access:closed"
	// metaDeleted is no entry: the event a room's deletion sends to
	// every instance.
	metaDeleted = "room:deleted"
)

// closeOnEntry closes this instance's sockets and streams that an entry
// from any instance ends: a removed member's of the room, and the
// non-members' of a room that closed. It runs where entries are delivered,
// in each room's order, right after the entry: the connections it closes
// take nothing published after it. It returns the entry's kind in the
// store's words.
func (a *App) closeOnEntry(roomID int64, meta *hub.Meta) string {
	switch meta.Kind {
	case metaRemoved:
		a.hub.CloseInRoom(roomID, func(user string) bool { return user == meta.Author }, hub.ClosePolicy, "removed from the room")
		return store.KindLeave
	case metaClosed:
		// On the goroutine that delivers the room's entries, before the
		// next: nothing posted after the room closed reaches a
		// non-member. Reading the members holds that room's deliveries up
		// (briefly, and bounded); if they cannot be read, every
		// connection of the room closes and members come back.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		a.closeNonMembers(ctx, roomID)
		return store.KindAccess
	}
	return meta.Kind
}

func (a *App) clusterEntry(roomID int64, ev hub.Event) {
	m, mine := a.webhooks.Returned(ev.Seq)
	kind := ""
	if ev.Meta != nil {
		kind = a.closeOnEntry(roomID, ev.Meta)
	}
	if !mine {
		if ev.Meta == nil {
			a.log.Error("cluster entry without its description", "room", roomID, "entry", ev.Seq)
			return
		}
		m = store.Message{ID: ev.Seq, RoomID: roomID, UserID: ev.Meta.AuthorID, Kind: kind, Author: ev.Meta.Author}
	}
	room := a.unread.Entry(m)
	if mine && room != nil {
		a.webhooks.Entry(m, room.Kind, room.Members)
	}
	// A room's first entry is its creator's join: the room is new.
	a.lists.Entry(m, m.Kind == store.KindJoin && ev.Prev == 0)
}

// clusterEvent takes a room's events that are no entry, from any
// instance, this one's too.
func (a *App) clusterEvent(roomID int64, ev hub.Event) {
	if ev.Meta.Kind == metaDeleted {
		a.lists.Deleted(roomID)
	}
}

// roomDeleted takes a deleted room out of every page, and closes every
// connection to it, on every instance.
func (a *App) roomDeleted(roomID int64) {
	if !a.clustered {
		a.lists.Deleted(roomID)
		return
	}
	// Back to this instance too, through the link (clusterEvent).
	a.hub.Publish(roomID, hub.Event{Text: roomGoneFrame(roomID), Meta: &hub.Meta{Kind: metaDeleted}})
}
