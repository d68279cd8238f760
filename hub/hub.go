// Package hub fans events out to the connections of each room. It carries
// bytes rendered once per event and knows nothing of templates, SQL or
// HTTP: whoever publishes has already rendered, and each connection's own
// writer drains its queue.
package hub

import (
	"context"
	"errors"
	"sort"
	"sync"
	"sync/atomic"
)

// Close codes the hub asks connections to close with.
const (
	CloseGoingAway     = 1001
	ClosePolicy        = 1008
	CloseServiceReboot = 1012
	CloseTryAgainLater = 1013
)

// NoRoom is the room of a connection that follows no room: a page's own
// events reach it (SendUser), no room's; it has no presence.
const NoRoom int64 = 0

// ErrClosed is returned by Subscribe once the hub is shutting down.
var ErrClosed = errors.New("hub: closed")

// ErrTooMany is returned by Subscribe when the user holds as many
// connections as Config.MaxPerUser allows.
var ErrTooMany = errors.New("hub: too many connections")

// ErrLinked is returned by Link when the hub is linked already, or holds
// connections: a relay must see every connection come and go.
var ErrLinked = errors.New("hub: linked too late")

// Scope says which instances' connections a call reaches.
type Scope uint8

const (
	// Everywhere is this instance's connections and the other instances'.
	Everywhere Scope = iota
	// Here is this instance's connections alone.
	Here
	// Elsewhere is the other instances' connections alone.
	Elsewhere
)

// Event is what one connection is sent: bytes rendered once and shared by
// every receiver, never modified after publishing.
type Event struct {
	// Seq is the id of the room entry the event carries, or 0 for events
	// that are no entry (presence, typing, errors). A connection that
	// replayed history up to some id skips entries it already has.
	Seq int64
	// Prev is the room's entry before Seq, where the store knows it:
	// instances that pass entries to each other put them in order by it.
	Prev int64
	// Rev is the room's change counter as of this event, for a change to
	// an entry (an edit, a delete, a reaction), or 0: a stream that
	// resumes from where its reader stood asks for the changes after it.
	Rev int64
	// Data is the event's bytes when they are the same in every
	// language; Text, when set, is the event in each language instead.
	Data []byte
	Text *Text
	// Meta is what the publisher says of the event besides its bytes,
	// carried as it is to every instance; the hub reads none of it. Nil
	// when there is nothing to say.
	Meta *Meta
}

// Meta describes an event to the other instances.
type Meta struct {
	// AuthorID, Author and Kind describe an entry: who wrote it, and its
	// kind (a post, a join, …), for the unread marks of each instance.
	AuthorID int64
	Author   string
	Kind     string
	// Opened is the room a user opened, on what is sent to the user's
	// other pages: each instance clears its own unread mark of it.
	// OpenedSeen is the newest entry of it the user was shown: an
	// instance that takes an entry up to it late does not mark the room
	// again for it.
	Opened, OpenedSeen int64
}

// Relay carries what a hub publishes to the hubs of the chat's other
// instances, and theirs back to it (package cluster does, over NATS).
type Relay interface {
	// Publish sends the room's event to every instance, this one too:
	// the hub delivers it when the relay hands it back (Inbound.Deliver),
	// so that every instance delivers a room's events in one order.
	Publish(roomID int64, ev Event)
	// Present tells the other instances that the user's first connection
	// to the room here opened (true), or the last closed (false).
	Present(roomID int64, user string, present bool)
	// CloseSession and SendUser reach the other instances' connections;
	// the hub has done its own.
	CloseSession(session string, code int, reason string)
	SendUser(user string, skipRoom int64, ev Event)
}

// Presence renders the parts of a room's presence list.
type Presence interface {
	// List is the whole list, sent to a connection when it subscribes.
	List(roomID int64, users []string) *Text
	// Joined adds one user to the list everywhere.
	Joined(roomID int64, user string) *Text
	// Left removes one user from the list everywhere.
	Left(roomID int64, user string) *Text
}

// Config sets up a hub.
type Config struct {
	// QueueLen bounds the events waiting for one connection's writer; a
	// connection whose queue is full is closed with 1013.
	QueueLen int
	Presence Presence
	// MaxPerUser bounds the connections one user may hold across all
	// rooms; 0 means no bound.
	MaxPerUser int
}

// Hub is the set of rooms with connections. Its methods are safe for
// concurrent use.
type Hub struct {
	cfg    Config
	mu     sync.Mutex
	rooms  map[int64]*room
	closed bool
	// perUser counts each user's connections, across rooms; byUser holds
	// them.
	perUser map[string]int
	byUser  map[string]map[*Sub]struct{}
	// live counts subscribed connections, for Wait.
	live sync.WaitGroup
	// relay, once Link set it, links this hub to the other instances'.
	relay atomic.Pointer[Relay]
	// presence counts the changes of who is online, in any room
	// (Presence).
	presence atomic.Uint64
}

// Presence counts the changes of who is online in the rooms: it moves
// each time someone arrives in a room or leaves it (after Online says
// so), and at no other time.
func (h *Hub) Presence() uint64 { return h.presence.Load() }

type room struct {
	id int64
	// mu guards subs and users, and is held while an event is queued to
	// every subscriber so that all of them see events in one order.
	mu    sync.Mutex
	subs  map[*Sub]struct{}
	users map[string]int
	// remote counts, for each user connected to the room on other
	// instances, how many instances: presence is the union of both.
	remote map[string]int
	// list is the rendered presence list, shared by every connection that
	// joins until someone arrives or leaves; nil when it must be rendered.
	list *Text
	// refs counts subscribers; a room with none and no remote presence
	// is dropped.
	refs int
}

// New makes a hub.
func New(cfg Config) *Hub {
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 256
	}
	return &Hub{cfg: cfg, rooms: make(map[int64]*room), perUser: make(map[string]int), byUser: make(map[string]map[*Sub]struct{})}
}

// Sub is one connection to one room.
type Sub struct {
	room    *room
	User    string
	Session string
	// Lang is the language the connection reads (an index the hub's
	// users agree on, 0 the first): its writer takes Event.Bytes(Lang).
	Lang int

	// pending holds the events not yet taken, in order; it grows when
	// events come and is let go when a burst is over, so that an idle
	// connection holds no queue at all.
	qmu     sync.Mutex
	pending []Event
	max     int
	// asked is set when the connection is asked to close, before
	// closing is closed: what the paths of every event look at, beside
	// the queue they touch anyway, rather than the channel.
	asked atomic.Bool
	ready chan struct{}
	// notify, once set, is called where ready is signalled, and on
	// Close (see Notify).
	notify func()

	closing chan struct{}
	once    sync.Once
	code    int
	reason  string
}

// Ready receives when events are waiting to be taken.
func (s *Sub) Ready() <-chan struct{} { return s.ready }

// Notify has f called whenever events are queued for the connection, and
// when it is asked to close, as well as Ready and Closing being signalled;
// and at once if events wait already, or it is closing. A connection's
// writer then needs no goroutine waiting on Ready while nothing happens:
// f starts one. f is called by whoever publishes, with the room's lock
// held, so it must not block nor call into the hub; a call may find
// nothing new to do.
func (s *Sub) Notify(f func()) {
	s.qmu.Lock()
	s.notify = f
	waiting := len(s.pending) > 0
	s.qmu.Unlock()
	select {
	case <-s.closing:
		waiting = true
	default:
	}
	if waiting && f != nil {
		f()
	}
}

// notifier is the function Notify set, or nil.
func (s *Sub) notifier() func() {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	return s.notify
}

// Take appends every waiting event, in the order the room published them,
// to buf and returns it.
func (s *Sub) Take(buf []Event) []Event {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	buf = append(buf, s.pending...)
	clear(s.pending)
	if cap(s.pending) > 64 {
		s.pending = nil
	} else {
		s.pending = s.pending[:0]
	}
	return buf
}

// Closing is closed when the connection is asked to close.
func (s *Sub) Closing() <-chan struct{} { return s.closing }

// Asked tells whether the connection is asked to close: Closing, for who
// does not wait on it.
func (s *Sub) Asked() bool { return s.asked.Load() }

// CloseCode is the WebSocket close code and reason the connection was asked
// to close with; read it after Closing is closed, or once Asked says so.
func (s *Sub) CloseCode() (int, string) { return s.code, s.reason }

// Close asks the connection to close with the code; the first call wins.
func (s *Sub) Close(code int, reason string) {
	s.once.Do(func() {
		s.code, s.reason = code, reason
		s.asked.Store(true)
		close(s.closing)
		if f := s.notifier(); f != nil {
			f()
		}
	})
}

// acquire takes a reference to the room, making it if need be. A
// subscriber (a user other than "") is counted for Wait and against the
// user's bound.
func (h *Hub) acquire(roomID int64, user string) (*room, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	if user != "" {
		if h.cfg.MaxPerUser > 0 && h.perUser[user] >= h.cfg.MaxPerUser {
			return nil, ErrTooMany
		}
		h.perUser[user]++
		h.live.Add(1)
	}
	r := h.rooms[roomID]
	if r == nil {
		r = &room{id: roomID, subs: make(map[*Sub]struct{}), users: make(map[string]int), remote: make(map[string]int)}
		h.rooms[roomID] = r
	}
	r.refs++
	return r, nil
}

func (h *Hub) release(r *room, user string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if user != "" {
		if h.perUser[user]--; h.perUser[user] <= 0 {
			delete(h.perUser, user)
		}
	}
	r.refs--
	h.dropUnusedLocked(r)
}

// dropUnusedLocked forgets a room no one is connected to, here or
// elsewhere. h.mu is held.
func (h *Hub) dropUnusedLocked(r *room) {
	if r.refs > 0 || h.rooms[r.id] != r {
		return
	}
	r.mu.Lock()
	unused := len(r.remote) == 0
	r.mu.Unlock()
	if unused {
		delete(h.rooms, r.id)
	}
}

// Link links the hub to the other instances' through relay, and returns
// the side by which the relay hands in what comes from them. A hub is
// linked once, before its first connection (ErrLinked otherwise).
func (h *Hub) Link(relay Relay) (*Inbound, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.relay.Load() != nil || len(h.perUser) > 0 || len(h.rooms) > 0 {
		return nil, ErrLinked
	}
	h.relay.Store(&relay)
	return &Inbound{h: h}, nil
}

// linked is the relay, or nil.
func (h *Hub) linked() Relay {
	if r := h.relay.Load(); r != nil {
		return *r
	}
	return nil
}

// Inbound is how a relay hands a hub what comes from the other
// instances: each call reaches this instance's connections alone.
type Inbound struct{ h *Hub }

// SetRemote records that the user is connected to the room on n other
// instances (0: none), and tells the room's connections here if that
// makes the user arrive or leave.
func (in *Inbound) SetRemote(roomID int64, user string, n int) {
	h := in.h
	if roomID == NoRoom {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.rooms[roomID]
	if r == nil {
		if n == 0 {
			return
		}
		r = &room{id: roomID, subs: make(map[*Sub]struct{}), users: make(map[string]int), remote: make(map[string]int)}
		h.rooms[roomID] = r
	}
	r.mu.Lock()
	was := r.remote[user] > 0 || r.users[user] > 0
	if n > 0 {
		r.remote[user] = n
	} else {
		delete(r.remote, user)
	}
	now := n > 0 || r.users[user] > 0
	if was != now {
		r.list = nil
		h.presence.Add(1)
		if h.cfg.Presence != nil {
			if now {
				r.publishLocked(Event{Text: h.cfg.Presence.Joined(roomID, user)}, nil)
			} else {
				r.publishLocked(Event{Text: h.cfg.Presence.Left(roomID, user)}, nil)
			}
		}
	}
	r.mu.Unlock()
	h.dropUnusedLocked(r)
}

// LocalPresence lists, for each room, the users with a connection to it
// on this instance.
func (in *Inbound) LocalPresence() map[int64][]string {
	out := make(map[int64][]string)
	for _, r := range in.h.snapshot() {
		if r.id == NoRoom {
			continue
		}
		r.mu.Lock()
		for u := range r.users {
			out[r.id] = append(out[r.id], u)
		}
		r.mu.Unlock()
	}
	return out
}

func (h *Hub) lookup(roomID int64) *room {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.rooms[roomID]
}

// Subscribe adds a connection of the user to the room, reading the first
// language (SubscribeIn).
func (h *Hub) Subscribe(roomID int64, user, session string) (*Sub, error) {
	return h.SubscribeIn(roomID, user, session, 0)
}

// SubscribeIn adds a connection of the user to the room, reading the
// language lang. Events published from then on reach its queue; the first
// event queued is the room's presence list, which includes the user.
func (h *Hub) SubscribeIn(roomID int64, user, session string, lang int) (*Sub, error) {
	r, err := h.acquire(roomID, user)
	if err != nil {
		return nil, err
	}
	s := &Sub{
		room:    r,
		User:    user,
		Session: session,
		Lang:    lang,
		max:     h.cfg.QueueLen,
		ready:   make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	h.mu.Lock()
	if h.byUser[user] == nil {
		h.byUser[user] = make(map[*Sub]struct{})
	}
	h.byUser[user][s] = struct{}{}
	h.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.subs[s] = struct{}{}
	r.users[user]++
	first := r.users[user] == 1 && roomID != NoRoom
	arrived := first && r.remote[user] == 0
	if arrived {
		r.list = nil
		h.presence.Add(1)
	}
	if relay := h.linked(); first && relay != nil {
		relay.Present(roomID, user, true)
	}
	if h.cfg.Presence != nil && roomID != NoRoom {
		if r.list == nil {
			r.list = h.cfg.Presence.List(roomID, r.onlineLocked())
		}
		s.deliverLocked(Event{Text: r.list})
		if arrived {
			r.publishLocked(Event{Text: h.cfg.Presence.Joined(roomID, user)}, s)
		}
	}
	return s, nil
}

// Unsubscribe removes the connection from its room. It is safe to call
// more than once.
func (h *Hub) Unsubscribe(s *Sub) {
	r := s.room
	r.mu.Lock()
	if _, ok := r.subs[s]; !ok {
		r.mu.Unlock()
		return
	}
	delete(r.subs, s)
	r.users[s.User]--
	if r.users[s.User] == 0 {
		delete(r.users, s.User)
		if relay := h.linked(); relay != nil && r.id != NoRoom {
			relay.Present(r.id, s.User, false)
		}
		if r.remote[s.User] == 0 {
			r.list = nil
			if r.id != NoRoom {
				h.presence.Add(1)
			}
			if h.cfg.Presence != nil && r.id != NoRoom {
				r.publishLocked(Event{Text: h.cfg.Presence.Left(r.id, s.User)}, nil)
			}
		}
	}
	r.mu.Unlock()
	h.mu.Lock()
	delete(h.byUser[s.User], s)
	if len(h.byUser[s.User]) == 0 {
		delete(h.byUser, s.User)
	}
	h.mu.Unlock()
	h.release(r, s.User)
	h.live.Done()
}

// SendUser queues the event to every connection of the user that follows
// another room than skipRoom, on the instances of scope, and returns how
// many it was queued to here.
func (h *Hub) SendUser(user string, skipRoom int64, ev Event, scope Scope) int {
	if relay := h.linked(); relay != nil && scope != Here {
		relay.SendUser(user, skipRoom, ev)
	}
	if scope == Elsewhere {
		return 0
	}
	h.mu.Lock()
	var subs []*Sub
	for s := range h.byUser[user] {
		if s.room.id != skipRoom {
			subs = append(subs, s)
		}
	}
	h.mu.Unlock()
	for _, s := range subs {
		h.Send(s, ev)
	}
	return len(subs)
}

// SendUser is Hub.SendUser on this instance alone.
func (in *Inbound) SendUser(user string, skipRoom int64, ev Event) int {
	return in.h.SendUser(user, skipRoom, ev, Here)
}

// OnlineElsewhere returns, of users, those connected now none of whose
// connections follows the room: in one look, whichever of the two sets is
// smaller is walked.
func (h *Hub) OnlineElsewhere(roomID int64, users map[string]struct{}) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	elsewhere := func(name string, subs map[*Sub]struct{}) {
		for s := range subs {
			if s.room.id == roomID {
				return
			}
		}
		out = append(out, name)
	}
	if len(users) < len(h.byUser) {
		for name := range users {
			if subs, ok := h.byUser[name]; ok {
				elsewhere(name, subs)
			}
		}
	} else {
		for name, subs := range h.byUser {
			if _, ok := users[name]; ok {
				elsewhere(name, subs)
			}
		}
	}
	return out
}

// UserOnline reports whether the user has a connection here.
func (h *Hub) UserOnline(user string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.byUser[user]) > 0
}

// Publish queues the event to every connection of the room, on every
// instance, and returns how many it was queued to here. Linked to other
// instances, the hub queues the event once the relay hands it back.
func (h *Hub) Publish(roomID int64, ev Event) int {
	if relay := h.linked(); relay != nil {
		relay.Publish(roomID, ev)
		r := h.lookup(roomID)
		if r == nil {
			return 0
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		return len(r.subs)
	}
	return h.deliver(roomID, ev)
}

// Deliver queues the event to every connection of the room on this
// instance, and returns how many it was queued to.
func (in *Inbound) Deliver(roomID int64, ev Event) int { return in.h.deliver(roomID, ev) }

func (h *Hub) deliver(roomID int64, ev Event) int {
	r := h.lookup(roomID)
	if r == nil {
		return 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.publishLocked(ev, nil)
	return len(r.subs)
}

// Rooms counts the rooms with at least one connection.
func (h *Hub) Rooms() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for id, r := range h.rooms {
		// Not rooms known only for who is in them on other instances.
		if id != NoRoom && r.refs > 0 {
			n++
		}
	}
	return n
}

// Send queues the event to one connection alone.
func (h *Hub) Send(s *Sub, ev Event) {
	s.room.mu.Lock()
	s.deliverLocked(ev)
	s.room.mu.Unlock()
}

func (r *room) publishLocked(ev Event, skip *Sub) {
	for s := range r.subs {
		if s != skip {
			s.deliverLocked(ev)
		}
	}
}

// deliverLocked never blocks: a connection that cannot keep up is asked to
// close rather than slow the room down.
func (s *Sub) deliverLocked(ev Event) {
	// A connection asked to close takes nothing more: what is published
	// after a member's removal (or a room's closing, or a sign-out) must
	// not reach it, even before it has gone.
	if s.asked.Load() {
		return
	}
	s.qmu.Lock()
	if len(s.pending) >= s.max {
		s.qmu.Unlock()
		s.Close(CloseTryAgainLater, "too slow")
		return
	}
	s.pending = append(s.pending, ev)
	notify := s.notify
	s.qmu.Unlock()
	select {
	case s.ready <- struct{}{}:
	default:
	}
	if notify != nil {
		notify()
	}
}

func (r *room) onlineLocked() []string {
	users := make([]string, 0, len(r.users)+len(r.remote))
	for u := range r.users {
		users = append(users, u)
	}
	for u := range r.remote {
		if r.users[u] == 0 {
			users = append(users, u)
		}
	}
	sort.Strings(users)
	return users
}

// Online lists the users connected to the room, by name.
func (h *Hub) Online(roomID int64) []string {
	r := h.lookup(roomID)
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.onlineLocked()
}

// CloseSession asks every connection of a session to close, on every
// instance, and returns how many there were here.
func (h *Hub) CloseSession(session string, code int, reason string) int {
	if relay := h.linked(); relay != nil {
		relay.CloseSession(session, code, reason)
	}
	return h.closeWhere(func(s *Sub) bool { return s.Session == session }, code, reason)
}

// CloseSession is Hub.CloseSession on this instance alone.
func (in *Inbound) CloseSession(session string, code int, reason string) int {
	return in.h.closeWhere(func(s *Sub) bool { return s.Session == session }, code, reason)
}

// Shutdown refuses new subscribers and asks every connection to close.
func (h *Hub) Shutdown(code int, reason string) int {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	return h.closeWhere(func(*Sub) bool { return true }, code, reason)
}

// Wait blocks until every connection has unsubscribed, or ctx ends. Call
// it after Shutdown.
func (h *Hub) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		h.live.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Conns counts the connections of every room.
func (h *Hub) Conns() int {
	n := 0
	for _, r := range h.snapshot() {
		r.mu.Lock()
		n += len(r.subs)
		r.mu.Unlock()
	}
	return n
}

func (h *Hub) snapshot() []*room {
	h.mu.Lock()
	defer h.mu.Unlock()
	rooms := make([]*room, 0, len(h.rooms))
	for _, r := range h.rooms {
		rooms = append(rooms, r)
	}
	return rooms
}

func (h *Hub) closeWhere(match func(*Sub) bool, code int, reason string) int {
	n := 0
	for _, r := range h.snapshot() {
		r.mu.Lock()
		for s := range r.subs {
			if match(s) {
				s.Close(code, reason)
				n++
			}
		}
		r.mu.Unlock()
	}
	return n
}
