// Package unread keeps what each user has seen of each room, and marks
// rooms unread, live, on their members' open pages.
package unread

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"time"

	"chat/hub"
	"chat/store"
	"chat/views"
)

// FlushEvery is how often what users have seen is written down.
const FlushEvery = 2 * time.Second

// Rooms keeps track of what each user has seen of each room, and
// marks a room unread, live, in the room list of its members' open pages
// when an entry lands there while they are not looking at it. (Any room
// with entries newer than what a user has seen is marked when a page is
// rendered; live marks go to members alone, so that an entry costs a look
// at its room's members, not at everyone online.)
//
// What a user has seen comes from the room pages they open and the entries
// their sockets take; it is kept in memory and written to the database in
// one transaction every FlushEvery, so that a busy room costs no write
// per reader and entry.
type Rooms struct {
	store *store.Store
	hub   *hub.Hub
	log   *slog.Logger
	link  func(views.RoomLink) []byte

	// rooms caches, for the pushing goroutine alone, the name and members
	// of the roomsMax rooms with the latest entries; join and leave entries
	// keep it current. order holds their ids, the latest used first.
	rooms map[int64]*list.Element
	order *list.List
	max   int // roomsMax
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

// roomsMax bounds the rooms whose members are kept in memory; a room
// let go is read again at its next entry.
const roomsMax = 1024

// flushMax bounds the last write of read marks, at shutdown.
const flushMax = 3 * time.Second

// Room is what is known of a room with new entries: its name, kind
// (store.RoomKind…) and members by name. It belongs to the pushing
// goroutine: others read it there, and only there.
type Room struct {
	ID      int64
	Name    string
	Kind    string
	Members map[string]struct{}
	// Closed and Archived, as the room list shows them.
	Closed, Archived bool
}

// Config is what the marks are built from.
type Config struct {
	Store *store.Store
	Hub   *hub.Hub
	Log   *slog.Logger
	// Link renders the frame that changes a room's link in the room list.
	Link func(views.RoomLink) []byte
	// Here: other instances mark their own users' pages (Entry runs on
	// every instance), so marks go to this instance's connections alone.
	Here bool
}

// New makes the marks; Start starts their writing, Close stops it.
func New(c Config) *Rooms {
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Rooms{
		store:   c.Store,
		hub:     c.Hub,
		log:     c.Log,
		link:    c.Link,
		here:    c.Here,
		rooms:   make(map[int64]*list.Element),
		order:   list.New(),
		max:     roomsMax,
		pending: make(map[readKey]int64),
		marked:  make(map[string]map[int64]struct{}),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// Start writes what users have seen every FlushEvery until Close.
func (u *Rooms) Start() { go u.run() }

func (u *Rooms) run() {
	defer close(u.done)
	t := time.NewTicker(FlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			u.flush()
		case <-u.stop:
			u.flushWithin(flushMax)
			return
		}
	}
}

// Close writes what is pending and stops.
func (u *Rooms) Close() {
	select {
	case <-u.stop:
	default:
		close(u.stop)
	}
	<-u.done
}

func (u *Rooms) flush() { u.flushWithin(10 * time.Second) }

func (u *Rooms) flushWithin(bound time.Duration) {
	u.mu.Lock()
	if len(u.pending) == 0 {
		u.mu.Unlock()
		return
	}
	marks := make([]store.ReadMark, 0, len(u.pending))
	for k, id := range u.pending {
		marks = append(marks, store.ReadMark{UserID: k.user, RoomID: k.room, LastID: id})
	}
	u.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	err := u.store.MarkRead(ctx, marks...)
	if err != nil {
		u.log.Error("read marks not stored", "marks", len(marks), "err", err)
	}
	// Only once written are the marks let go (those that did not move
	// meanwhile): until then LastSeen answers for them, so that a page
	// rendered while they are written does not show read rooms unread.
	u.mu.Lock()
	for _, m := range marks {
		k := readKey{m.UserID, m.RoomID}
		if u.pending[k] == m.LastID {
			delete(u.pending, k)
		}
	}
	u.mu.Unlock()
}

// Seen records that the user has seen the room's entries up to lastID.
func (u *Rooms) Seen(userID, roomID, lastID int64) {
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
func (u *Rooms) LastSeen(userID, roomID int64) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pending[readKey{userID, roomID}]
}

// Opened records that the user looks at the room now: their other open
// pages stop showing it unread.
func (u *Rooms) Opened(user string, link views.RoomLink) {
	was := u.unmark(user, link.ID)
	link.Unread, link.Current = false, false
	switch {
	case u.here:
		// Other instances may have marked the user's pages there: each
		// clears its own (see OpenedElsewhere).
		ev := hub.Event{Data: u.link(link), Meta: openedMeta(link.ID)}
		if was {
			u.hub.SendUser(user, link.ID, ev, hub.Everywhere)
		} else {
			u.hub.SendUser(user, link.ID, ev, hub.Elsewhere)
		}
	case was:
		u.hub.SendUser(user, link.ID, hub.Event{Data: u.link(link)}, hub.Everywhere)
	}
}

// unmark forgets that the user's pages show the room unread, and reports
// whether they did.
func (u *Rooms) unmark(user string, roomID int64) bool {
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
func (u *Rooms) OpenedElsewhere(user string, ev hub.Event) {
	if ev.Meta != nil && ev.Meta.Opened != 0 {
		u.unmark(user, ev.Meta.Opened)
	}
}

func openedMeta(roomID int64) *hub.Meta { return &hub.Meta{Opened: roomID} }

// Entry marks the entry's room unread on the open pages of its members who
// are not following it, once until they open it, and returns what it knows
// of the room. It runs on the writer's pushing goroutine, in stored order.
func (u *Rooms) Entry(m store.Message) *Room {
	// Its author has seen it.
	u.Seen(m.UserID, m.RoomID, m.ID)
	if m.Kind == store.KindAccess || m.Kind == store.KindArchive {
		// Opened or closed, archived or brought back: read again.
		u.drop(m.RoomID)
	}
	r := u.room(m.RoomID)
	if r == nil {
		return nil
	}
	switch m.Kind {
	case store.KindJoin:
		r.Members[m.Author] = struct{}{}
	case store.KindLeave:
		delete(r.Members, m.Author)
	case store.KindRename:
		if to := store.RenameOf(m).To; to != "" {
			r.Name = to
		}
	}
	// The members on a page of another room, or none, not told yet: one
	// look at the hub and one at the marks, however large the room.
	var tell []string
	away := u.hub.OnlineElsewhere(m.RoomID, r.Members)
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
	link := views.RoomLink{ID: m.RoomID, Name: r.Name, Member: true, Unread: true, Closed: r.Closed, Archived: r.Archived}
	if r.Kind == store.RoomKindDM {
		// Direct messages are named, for each of the two, after the
		// other: for the one told, the author.
		link.Name, link.DM = m.Author, true
	}
	ev := hub.Event{Data: u.link(link)}
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
func (u *Rooms) Forget(user string) {
	if u.hub.UserOnline(user) {
		return
	}
	u.mu.Lock()
	delete(u.marked, user)
	u.mu.Unlock()
}

// room is what is known of the room, read on a miss; the room least
// recently used is let go past roomsMax.
func (u *Rooms) room(id int64) *Room {
	if e, ok := u.rooms[id]; ok {
		u.order.MoveToFront(e)
		return e.Value.(*Room)
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
	r := &Room{ID: id, Name: room.Name, Kind: room.Kind, Members: make(map[string]struct{}, len(names)),
		Closed: room.Kind == store.RoomKindRoom && room.Access == store.AccessClosed, Archived: room.Archived}
	for _, n := range names {
		r.Members[n] = struct{}{}
	}
	u.rooms[id] = u.order.PushFront(r)
	if u.order.Len() > u.max {
		last := u.order.Back()
		u.order.Remove(last)
		delete(u.rooms, last.Value.(*Room).ID)
	}
	return r
}

// drop lets go of what is known of a room: it is read again when next
// needed.
func (u *Rooms) drop(id int64) {
	if e, ok := u.rooms[id]; ok {
		u.order.Remove(e)
		delete(u.rooms, id)
	}
}
