package handlers

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"chat/hub"
	"chat/store"
	"chat/views"
)

// readFlushEvery is how often what users have seen is written down.
const readFlushEvery = 2 * time.Second

// unreadRooms keeps track of what each user has seen of each room, and
// marks a room unread, live, in the room list of its members' open pages
// when an entry lands there while they are not looking at it. (Any room
// with entries newer than what a user has seen is marked when a page is
// rendered; live marks go to members alone, so that an entry costs a look
// at its room's members, not at everyone online.)
//
// What a user has seen comes from the room pages they open and the entries
// their sockets take; it is kept in memory and written to the database in
// one transaction every readFlushEvery, so that a busy room costs no write
// per reader and entry.
type unreadRooms struct {
	store *store.Store
	hub   *hub.Hub
	log   *slog.Logger

	// rooms caches, for the pushing goroutine alone, the name and members
	// of rooms with new entries; join and leave entries keep it current.
	rooms map[int64]*roomMembers
	// here: other instances mark their own users' pages (Entry runs on
	// every instance), so marks go to this instance's connections alone.
	here bool

	mu sync.Mutex
	// pending are read marks not yet written, by user and room.
	pending map[readKey]int64
	// marked are the rooms a user's open pages show as unread.
	marked map[string]map[int64]struct{}

	stop chan struct{}
	done chan struct{}
}

type readKey struct{ user, room int64 }

type roomMembers struct {
	name    string
	kind    string
	members map[string]struct{}
}

func newUnreadRooms(s *store.Store, h *hub.Hub, log *slog.Logger) *unreadRooms {
	u := &unreadRooms{
		store:   s,
		hub:     h,
		log:     log,
		rooms:   make(map[int64]*roomMembers),
		pending: make(map[readKey]int64),
		marked:  make(map[string]map[int64]struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go u.run()
	return u
}

func (u *unreadRooms) run() {
	defer close(u.done)
	t := time.NewTicker(readFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			u.flush()
		case <-u.stop:
			u.flush()
			return
		}
	}
}

// Close writes what is pending and stops.
func (u *unreadRooms) Close() {
	select {
	case <-u.stop:
	default:
		close(u.stop)
	}
	<-u.done
}

func (u *unreadRooms) flush() {
	u.mu.Lock()
	if len(u.pending) == 0 {
		u.mu.Unlock()
		return
	}
	marks := make([]store.ReadMark, 0, len(u.pending))
	for k, id := range u.pending {
		marks = append(marks, store.ReadMark{UserID: k.user, RoomID: k.room, LastID: id})
	}
	clear(u.pending)
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := u.store.MarkRead(ctx, marks...); err != nil {
		u.log.Error("read marks not stored", "marks", len(marks), "err", err)
	}
}

// Seen records that the user has seen the room's entries up to lastID.
func (u *unreadRooms) Seen(userID, roomID, lastID int64) {
	if lastID <= 0 {
		return
	}
	u.mu.Lock()
	k := readKey{userID, roomID}
	if lastID > u.pending[k] {
		u.pending[k] = lastID
	}
	u.mu.Unlock()
}

// LastSeen is the newest entry the user is known to have seen, of those
// not written yet (0: none).
func (u *unreadRooms) LastSeen(userID, roomID int64) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pending[readKey{userID, roomID}]
}

// Opened records that the user looks at the room now: their other open
// pages stop showing it unread.
func (u *unreadRooms) Opened(user string, link views.RoomLink) {
	was := u.unmark(user, link.ID)
	link.Unread, link.Current = false, false
	switch {
	case u.here:
		// Other instances may have marked the user's pages there: each
		// clears its own (see OpenedElsewhere).
		ev := hub.Event{Data: renderBytes(views.RoomLinkChanged(link)), Meta: openedMeta(link.ID)}
		if was {
			u.hub.SendUser(user, link.ID, ev, hub.Everywhere)
		} else {
			u.hub.SendUser(user, link.ID, ev, hub.Elsewhere)
		}
	case was:
		u.hub.SendUser(user, link.ID, hub.Event{Data: renderBytes(views.RoomLinkChanged(link))}, hub.Everywhere)
	}
}

// unmark forgets that the user's pages show the room unread, and reports
// whether they did.
func (u *unreadRooms) unmark(user string, roomID int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	_, was := u.marked[user][roomID]
	delete(u.marked[user], roomID)
	return was
}

// OpenedElsewhere takes what another instance sent the user's pages here:
// if the user opened a room there, and this instance had marked it unread
// on their pages, the mark goes (the frame said so already), and the
// room's next entry marks it again.
func (u *unreadRooms) OpenedElsewhere(user string, ev hub.Event) {
	if ev.Meta != nil && ev.Meta.Opened != 0 {
		u.unmark(user, ev.Meta.Opened)
	}
}

func openedMeta(roomID int64) *hub.Meta { return &hub.Meta{Opened: roomID} }

// Entry marks the entry's room unread on the open pages of its members who
// are not following it, once until they open it, and returns what it knows
// of the room. It runs on the writer's pushing goroutine, in stored order.
func (u *unreadRooms) Entry(m store.Message) *roomMembers {
	// Its author has seen it.
	u.Seen(m.UserID, m.RoomID, m.ID)
	r := u.room(m.RoomID)
	if r == nil {
		return nil
	}
	switch m.Kind {
	case store.KindJoin:
		r.members[m.Author] = struct{}{}
	case store.KindLeave:
		delete(r.members, m.Author)
	}
	// The members on a page of another room, or none, not told yet: one
	// look at the hub and one at the marks, however large the room.
	var tell []string
	away := u.hub.OnlineElsewhere(m.RoomID, r.members)
	u.mu.Lock()
	for _, name := range away {
		if name == m.Author {
			continue
		}
		rooms := u.marked[name]
		if _, done := rooms[m.RoomID]; done {
			continue
		}
		if rooms == nil {
			rooms = make(map[int64]struct{})
			u.marked[name] = rooms
		}
		rooms[m.RoomID] = struct{}{}
		tell = append(tell, name)
	}
	u.mu.Unlock()
	if len(tell) == 0 {
		return r
	}
	link := views.RoomLink{ID: m.RoomID, Name: r.name, Member: true, Unread: true}
	if r.kind == store.RoomKindDM {
		// Direct messages are named, for each of the two, after the
		// other: for the one told, the author.
		link.Name, link.DM = m.Author, true
	}
	ev := hub.Event{Data: renderBytes(views.RoomLinkChanged(link))}
	for _, name := range tell {
		if u.here {
			u.hub.SendUser(name, m.RoomID, ev, hub.Here)
		} else {
			u.hub.SendUser(name, m.RoomID, ev, hub.Everywhere)
		}
	}
	return r
}

// Forget drops what is known of a user's open pages, once they have none.
func (u *unreadRooms) Forget(user string) {
	if u.hub.UserOnline(user) {
		return
	}
	u.mu.Lock()
	delete(u.marked, user)
	u.mu.Unlock()
}

func (u *unreadRooms) room(id int64) *roomMembers {
	if r, ok := u.rooms[id]; ok {
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	room, err := u.store.FindRoomByID(ctx, id)
	if err != nil {
		u.log.Error("unread marks: room not read", "room", id, "err", err)
		return nil
	}
	names, err := u.store.ListMembers(ctx, id)
	if err != nil {
		u.log.Error("unread marks: members not read", "room", id, "err", err)
		return nil
	}
	r := &roomMembers{name: room.Name, kind: room.Kind, members: make(map[string]struct{}, len(names))}
	for _, n := range names {
		r.members[n] = struct{}{}
	}
	u.rooms[id] = r
	return r
}
