// Package unread keeps what each user has seen of each room, and marks
// rooms unread, live, on their members' open pages.
package unread

import (
	"container/list"
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
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
	store  *store.Store
	hub    *hub.Hub
	log    *slog.Logger
	link   func(views.RoomLink) *hub.Text
	notice func(views.Notice) *hub.Text

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
	// pending are read marks not yet written, by user and room; seen
	// counts their moves (Changes).
	pending map[readKey]int64
	seen    atomic.Uint64
	// marked are, by user and room, what this instance knows of the
	// user's unread posts there, and whether their open pages show the
	// room unread.
	marked map[string]map[int64]*mark
	// levelsChanged are rooms whose notification levels changed here
	// since they were read.
	levelsChanged map[int64]struct{}

	stop chan struct{}
	done chan struct{}
}

type readKey struct{ user, room int64 }

// mark is what is known of a user's unread posts in a room: counted from
// the database at the room's first entry the user's pages are told of,
// then one more at each post by someone else, until the user opens it
// (from zero again).
type mark struct {
	// shown: the user's pages were told the room is unread.
	shown   bool
	count   int
	mention bool
	// seen is the newest entry the user was shown when they opened the
	// room: an entry up to it, taken after (the writer's pushing, or
	// another instance, can be behind the page), is not unread.
	seen int64
}

// levelsFresh is how long a room's notification levels, read, are used
// before they are read again: a change made on another instance reaches
// this one's notifications within it.
const levelsFresh = 30 * time.Second

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
	// ids are the members' user ids; levels the notification levels of
	// those who chose another than the default, read at levelsAt.
	ids      map[string]int64
	levels   map[string]string
	levelsAt time.Time
}

// Config is what the marks are built from.
type Config struct {
	Store *store.Store
	Hub   *hub.Hub
	Log   *slog.Logger
	// Link renders the frame that changes a room's link in the room list.
	Link func(views.RoomLink) *hub.Text
	// Notice renders the frame that tells a user's pages of a post that
	// matches their notification level.
	Notice func(views.Notice) *hub.Text
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
		store:         c.Store,
		hub:           c.Hub,
		log:           c.Log,
		link:          c.Link,
		notice:        c.Notice,
		here:          c.Here,
		rooms:         make(map[int64]*list.Element),
		order:         list.New(),
		max:           roomsMax,
		pending:       make(map[readKey]int64),
		marked:        make(map[string]map[int64]*mark),
		levelsChanged: make(map[int64]struct{}),
		stop:          make(chan struct{}),
		done:          make(chan struct{}),
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
	if err != nil {
		// Let go unwritten, they no longer answer for what was seen:
		// pages kept from before are made again.
		u.seen.Add(1)
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
		u.seen.Add(1)
	}
	u.mu.Unlock()
}

// Changes counts the changes of what LastSeen answers that pages show:
// it moves each time a user is known to have seen more of a room. (A
// mark let go once written answers the same through the database.)
func (u *Rooms) Changes() uint64 { return u.seen.Load() }

// LastSeen is the newest entry the user is known to have seen, of those
// not written yet (0: none).
func (u *Rooms) LastSeen(userID, roomID int64) int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.pending[readKey{userID, roomID}]
}

// Opened records that the user looks at the room now, shown its entries
// up to seen: their other open pages stop showing it unread.
func (u *Rooms) Opened(user string, link views.RoomLink, seen int64) {
	was := u.unmark(user, link.ID, seen)
	link.Unread, link.Current = false, false
	switch {
	case u.here:
		// Other instances may have marked the user's pages there: each
		// clears its own (see OpenedElsewhere).
		ev := hub.Event{Text: u.link(link), Meta: openedMeta(link.ID, seen)}
		if was {
			u.hub.SendUser(user, link.ID, ev, hub.Everywhere)
		} else {
			u.hub.SendUser(user, link.ID, ev, hub.Elsewhere)
		}
	case was:
		u.hub.SendUser(user, link.ID, hub.Event{Text: u.link(link)}, hub.Everywhere)
	}
}

// Counted is the count of unread posts by others, and whether one
// mentions the user, that the user's pages show beside the room, as far
// as this instance has told them (zero for a room it has not).
func (u *Rooms) Counted(user string, roomID int64) (count int, mention bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if mk := u.marked[user][roomID]; mk != nil {
		return mk.count, mk.mention
	}
	return 0, false
}

// unmark records that the user has seen the room up to the entry seen
// (the count starts again from zero), and reports whether their pages
// showed it unread.
func (u *Rooms) unmark(user string, roomID, seen int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	rooms := u.marked[user]
	was := rooms[roomID] != nil && rooms[roomID].shown
	if old := rooms[roomID]; old != nil && old.seen > seen {
		// Opened twice, the later page the older: what was shown holds.
		seen = old.seen
	}
	if !u.hub.UserOnline(user) {
		// No page of theirs to count for (Forget would not come):
		// the count is read again at the room's next entry.
		delete(rooms, roomID)
		return was
	}
	if rooms == nil {
		rooms = make(map[int64]*mark)
		u.marked[user] = rooms
	}
	rooms[roomID] = &mark{seen: seen}
	return was
}

// OpenedElsewhere takes what another instance sent the user's pages here:
// if the user opened a room there, and this instance had marked it unread
// on their pages, the mark goes (the frame said so already), and the
// room's next entry marks it again.
func (u *Rooms) OpenedElsewhere(user string, ev hub.Event) {
	if ev.Meta != nil && ev.Meta.Opened != 0 {
		u.unmark(user, ev.Meta.Opened, ev.Meta.OpenedSeen)
	}
}

func openedMeta(roomID, seen int64) *hub.Meta {
	return &hub.Meta{Opened: roomID, OpenedSeen: seen}
}

// Entry marks the entry's room unread on the open pages of its members who
// are not following it, with the count of posts by others they have not
// seen, tells the pages of the members whose notification level the
// entry matches, and returns what it knows of the room. It runs on the
// writer's pushing goroutine, in stored order.
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
		r.ids[m.Author] = m.UserID
	case store.KindLeave:
		delete(r.Members, m.Author)
		delete(r.ids, m.Author)
		delete(r.levels, m.Author)
	case store.KindRename:
		if to := store.RenameOf(m).To; to != "" {
			r.Name = to
		}
	}
	post := m.Kind == store.KindPost
	if post && m.Text == "" && m.Mentions == nil && m.Files == nil {
		// From another instance, the entry is its id and author alone.
		if full, err := u.findMessage(m.ID); err == nil {
			m.Text, m.Mentions, m.Files = full.Text, full.Mentions, full.Files
		}
	}
	forUser := func(name string) bool {
		if r.Kind == store.RoomKindDM {
			return true
		}
		for _, mn := range m.Mentions {
			if mn.Username == name {
				return true
			}
		}
		return false
	}
	if post {
		u.notify(r, m, forUser)
	}
	// The members on a page of another room, or none: one look at the hub
	// and one at the marks, however large the room; a count read from the
	// database for those this instance knows nothing of yet.
	type told struct {
		name string
		mk   mark
	}
	var tell []told
	var fresh []string
	away := u.hub.OnlineElsewhere(m.RoomID, r.Members)
	u.mu.Lock()
	for _, name := range away {
		if name == m.Author {
			continue
		}
		mk := u.marked[name][m.RoomID]
		if mk == nil {
			fresh = append(fresh, name)
			continue
		}
		if m.ID <= mk.seen {
			continue // shown on the page that opened the room
		}
		changed := !mk.shown
		if post {
			mk.count++
			mk.mention = mk.mention || forUser(name)
			changed = true
		}
		if changed {
			mk.shown = true
			tell = append(tell, told{name, *mk})
		}
	}
	u.mu.Unlock()
	for _, name := range fresh {
		id := r.ids[name]
		if m.ID <= u.LastSeen(id, m.RoomID) {
			continue // seen already: the room opened since showed it
		}
		n, err := u.countUnread(m.RoomID, id, name, m.ID)
		if err != nil {
			u.log.Error("unread marks: count not read", "room", m.RoomID, "err", err)
		} else if post && n.Count == 0 {
			continue // seen already: the read mark written is at or past it
		}
		mk := &mark{shown: true, count: n.Count, mention: n.Mention}
		u.mu.Lock()
		rooms := u.marked[name]
		if rooms == nil {
			rooms = make(map[int64]*mark)
			u.marked[name] = rooms
		}
		if rooms[m.RoomID] == nil {
			// (else: the user opened the room meanwhile.)
			rooms[m.RoomID] = mk
			tell = append(tell, told{name, *mk})
		}
		u.mu.Unlock()
	}
	for _, t := range tell {
		link := views.RoomLink{ID: m.RoomID, Name: r.Name, Member: true, Unread: true, Count: t.mk.count, Mention: t.mk.mention, Closed: r.Closed, Archived: r.Archived}
		if r.Kind == store.RoomKindDM {
			// Direct messages are named, for each of the two, after the
			// other: for the one told, the author.
			link.Name, link.DM = m.Author, true
		}
		u.sendUser(t.name, m.RoomID, hub.Event{Text: u.link(link)})
	}
	return r
}

// sendUser sends to the user's pages that follow another room than
// skipRoom: here alone when each instance marks its own users' pages.
func (u *Rooms) sendUser(name string, skipRoom int64, ev hub.Event) {
	if u.here {
		u.hub.SendUser(name, skipRoom, ev, hub.Here)
	} else {
		u.hub.SendUser(name, skipRoom, ev, hub.Everywhere)
	}
}

// notify tells the pages of the members whose level the post matches
// (every post, or those for them) of it, whichever room they follow: a
// page shows it only while hidden. The frame is rendered once for all.
func (u *Rooms) notify(r *Room, m store.Message, forUser func(string) bool) {
	if u.notice == nil {
		return
	}
	u.freshLevels(r)
	// Those who may match: everyone in a direct message, else those
	// mentioned and those who want every post.
	var who []string
	switch {
	case r.Kind == store.RoomKindDM:
		for name := range r.Members {
			who = append(who, name)
		}
	default:
		for _, mn := range m.Mentions {
			who = append(who, mn.Username)
		}
		for name, level := range r.levels {
			if level == store.NotifyAll {
				who = append(who, name)
			}
		}
	}
	var ev hub.Event
	seen := make(map[string]bool, len(who))
	for _, name := range who {
		if name == m.Author || seen[name] {
			continue
		}
		seen[name] = true
		if _, member := r.Members[name]; !member {
			continue
		}
		level := r.levels[name]
		if level == "" {
			level = store.NotifyMentions
		}
		if level == store.NotifyNothing || level == store.NotifyMentions && !forUser(name) {
			continue
		}
		if ev.Text == nil {
			n := views.Notice{ID: m.ID, RoomID: m.RoomID, Author: m.Author, Room: r.Name, DM: r.Kind == store.RoomKindDM, Text: m.Text}
			if m.Text == "" && len(m.Files) > 0 {
				n.File, n.MoreFiles = m.Files[0].Name, len(m.Files)-1
			}
			ev.Text = u.notice(n)
		}
		u.sendUser(name, noRoomToSkip, ev)
	}
}

// noRoomToSkip is a room id no connection follows: a notice goes to every
// page of the user, the room's own too.
const noRoomToSkip = -1

// LevelChanged says that a member's notification level for the room
// changed: the next post reads the room's levels again.
func (u *Rooms) LevelChanged(roomID int64) {
	u.mu.Lock()
	u.levelsChanged[roomID] = struct{}{}
	u.mu.Unlock()
}

// freshLevels reads the room's notification levels again if they changed
// here, or were read more than levelsFresh ago.
func (u *Rooms) freshLevels(r *Room) {
	u.mu.Lock()
	_, changed := u.levelsChanged[r.ID]
	delete(u.levelsChanged, r.ID)
	u.mu.Unlock()
	if !changed && r.levels != nil && time.Since(r.levelsAt) < levelsFresh {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	levels, err := u.store.ListNotifyLevels(ctx, r.ID)
	if err != nil {
		u.log.Error("notifications: levels not read", "room", r.ID, "err", err)
		if r.levels == nil {
			r.levels = map[string]string{}
		}
		return
	}
	r.levels, r.levelsAt = levels, time.Now()
}

func (u *Rooms) findMessage(id int64) (store.Message, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return u.store.FindMessage(ctx, id)
}

// countUnread counts the user's unread posts in the room up to the entry
// upTo, after what they have seen (stored, or not written yet).
func (u *Rooms) countUnread(roomID, userID int64, name string, upTo int64) (store.Unread, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return u.store.CountUnread(ctx, roomID, userID, name, u.LastSeen(userID, roomID), upTo)
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
	members, err := u.store.ListMemberIDs(ctx, id)
	if err != nil {
		u.log.Error("unread marks: members not read", "room", id, "err", err)
		return nil
	}
	r := &Room{ID: id, Name: room.Name, Kind: room.Kind, Members: make(map[string]struct{}, len(members)),
		ids:    make(map[string]int64, len(members)),
		Closed: room.Kind == store.RoomKindRoom && room.Access == store.AccessClosed, Archived: room.Archived}
	for _, m := range members {
		r.Members[m.Username] = struct{}{}
		r.ids[m.Username] = m.ID
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
