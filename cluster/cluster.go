// Package cluster links the hubs of several chat instances through NATS,
// so that a room's connections on every instance get its events, in the
// room's stored order, once each.
//
// Every event a hub publishes goes out on the room's subject and comes
// back, to every instance (the publisher too), in the order NATS hands it
// out. Entries carry their id and the id of the room's entry before them
// (their writer found it under the room's lock in PostgreSQL): an
// instance delivers an entry only once it has delivered the one before.
// An entry whose predecessor does not come within GapWait (its publisher
// died between commit and publish, or NATS dropped it) is read back from
// the database with every entry after the last delivered, in order.
//
// Presence is each instance's own, told to the others as deltas with a
// version number; an instance that misses one, or hears from an instance
// it does not know, asks for that instance's whole list. An instance
// silent for three heartbeats is taken to be gone, with its users.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"chat/hub"

	"github.com/nats-io/nats.go"
)

// Config sets up a cluster link.
type Config struct {
	// URL is the NATS server's (nats://host:port, or several, comma
	// separated).
	URL string
	Hub *hub.Hub
	// Latest returns the newest entry of each room now.
	Latest func(ctx context.Context) (map[int64]int64, error)
	// Fill returns the room's entries after the entry after, oldest first,
	// as events with Seq and Prev set.
	Fill func(ctx context.Context, roomID, after int64) ([]hub.Event, error)
	// OnEntry, if set, is told of every entry delivered here, in each
	// room's order.
	OnEntry func(roomID int64, ev hub.Event)
	// OnUser, if set, is told of every event another instance sent to a
	// user's connections, after this instance's have it.
	OnUser func(user string, ev hub.Event)
	Log    *slog.Logger
	// Subject prefixes every subject; "chat" if empty. Chats sharing a
	// NATS server need prefixes of their own.
	Subject   string
	Heartbeat time.Duration // 1 s if zero
	GapWait   time.Duration // 250 ms if zero
}

// Cluster is one instance's link to the others.
type Cluster struct {
	cfg  Config
	id   string
	nc   *nats.Conn
	subs []*nats.Subscription
	in   *hub.Inbound
	log  *slog.Logger

	// mu guards rooms and peers: what is decided. deliverMu is taken
	// before mu is let go and held while the decisions are carried out,
	// so that they are carried out in the order they were made.
	mu        sync.Mutex
	deliverMu sync.Mutex
	rooms     map[int64]*roomOrder
	peers     map[string]*peer

	// pubMu orders what this instance says of its own presence: version
	// counts the deltas sent, mine mirrors the hub's presence.
	pubMu   sync.Mutex
	version uint64
	mine    map[int64]map[string]struct{}

	ready    chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
	done     sync.WaitGroup
}

// roomOrder is where an instance is in a room's entries.
type roomOrder struct {
	last int64 // the newest entry delivered here
	// waiting are entries whose predecessor has not come yet, by it.
	waiting map[int64]hub.Event
	// behind are the room's other events (changes, typing) that came
	// while entries waited: they follow those entries, so that a change
	// never reaches a page before the entry it changes.
	behind  []hub.Event
	filling bool
}

// peer is another instance, as this one knows it.
type peer struct {
	version uint64
	synced  bool
	seen    time.Time
	asked   time.Time
	rooms   map[int64]map[string]struct{}
}

// Message kinds on the wire (first byte).
const (
	kindEntry   = 'e' // an entry of a room: seq, prev, meta, data
	kindEvent   = 'v' // any other event of a room: meta, data
	kindDelta   = 'd' // presence: instance, version, room, present, user
	kindFull    = 'f' // presence: instance, version, then room, user pairs
	kindAlive   = 'a' // presence: instance, version
	kindWant    = 'w' // presence: instance asked for its full list
	kindBye     = 'b' // presence: instance leaving
	kindSession = 's' // instance, code, session, reason
	kindUser    = 'u' // instance, skip room, user, meta, data
)

// Start connects to NATS and links the hub to the other instances. Call
// it before the hub takes its first connection.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Subject == "" {
		cfg.Subject = "chat"
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = time.Second
	}
	if cfg.GapWait <= 0 {
		cfg.GapWait = 250 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	idb := make([]byte, 6)
	rand.Read(idb)
	c := &Cluster{
		cfg:   cfg,
		id:    hex.EncodeToString(idb),
		log:   cfg.Log,
		rooms: make(map[int64]*roomOrder),
		peers: make(map[string]*peer),
		mine:  make(map[int64]map[string]struct{}),
		ready: make(chan struct{}),
		stop:  make(chan struct{}),
	}
	nc, err := nats.Connect(cfg.URL,
		nats.Name("chat "+c.id),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.log.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) {
			c.log.Info("nats reconnected")
			// Others may have dropped this instance meanwhile.
			c.sendFull()
			// What others published meanwhile never came: the rooms
			// followed here read it back now, not at their next entry.
			go c.catchUp()
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("cluster: connect to nats: %w", err)
	}
	c.nc = nc
	for subject, handle := range map[string]nats.MsgHandler{
		cfg.Subject + ".room.*":  c.onRoom,
		cfg.Subject + ".control": c.onControl,
	} {
		sub, err := nc.Subscribe(subject, handle)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("cluster: subscribe: %w", err)
		}
		// An instance that falls behind keeps up to 1M messages rather
		// than dropping; a dropped entry is read back from the database.
		sub.SetPendingLimits(1<<20, 1<<30)
		c.subs = append(c.subs, sub)
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: subscribe: %w", err)
	}
	// Subscribed: whatever commits from now on comes on the subjects.
	// What committed before is where each room starts.
	latest, err := cfg.Latest(ctx)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: newest entries: %w", err)
	}
	for room, last := range latest {
		c.rooms[room] = &roomOrder{last: last}
	}
	if c.in, err = cfg.Hub.Link(c); err != nil {
		nc.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	close(c.ready)
	c.sendFull()
	c.done.Add(1)
	go c.heartbeat()
	return c, nil
}

// ID names this instance among the others.
func (c *Cluster) ID() string { return c.id }

// Close tells the others this instance is leaving and disconnects,
// having sent everything published.
func (c *Cluster) Close() error {
	if !c.halt() {
		return nil
	}
	c.publish(c.cfg.Subject+".control", c.header(kindBye))
	err := c.nc.Drain()
	for !c.nc.IsClosed() {
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// Kill drops the connection at once, saying nothing: what an instance
// that dies does. For tests.
func (c *Cluster) Kill() {
	if c.halt() {
		c.nc.Close()
	}
}

// halt stops the heartbeat; it reports false if it was stopped already.
func (c *Cluster) halt() bool {
	first := false
	c.stopOnce.Do(func() {
		first = true
		close(c.stop)
	})
	c.done.Wait()
	return first
}

func (c *Cluster) publish(subject string, b []byte) {
	if err := c.nc.Publish(subject, b); err != nil {
		c.log.Error("nats publish failed", "subject", subject, "err", err)
	}
}

func (c *Cluster) roomSubject(roomID int64) string {
	return c.cfg.Subject + ".room." + strconv.FormatInt(roomID, 10)
}

// Publish sends the room's event to every instance (hub.Relay).
func (c *Cluster) Publish(roomID int64, ev hub.Event) {
	var b []byte
	if ev.Seq != 0 {
		b = append(b, kindEntry)
		b = binary.AppendUvarint(b, uint64(ev.Seq))
		b = binary.AppendUvarint(b, uint64(ev.Prev))
	} else {
		b = append(b, kindEvent)
	}
	b = appendMeta(b, ev.Meta)
	b = append(b, ev.Data...)
	c.publish(c.roomSubject(roomID), b)
}

// Present tells the others of a change in this instance's presence
// (hub.Relay). The hub calls it in the order the changes happen.
func (c *Cluster) Present(roomID int64, user string, present bool) {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	users := c.mine[roomID]
	if present {
		if users == nil {
			users = make(map[string]struct{})
			c.mine[roomID] = users
		}
		users[user] = struct{}{}
	} else {
		delete(users, user)
		if len(users) == 0 {
			delete(c.mine, roomID)
		}
	}
	c.version++
	b := c.header(kindDelta)
	b = binary.AppendUvarint(b, c.version)
	b = binary.AppendVarint(b, roomID)
	if present {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = appendString(b, user)
	c.publish(c.cfg.Subject+".control", b)
}

// CloseSession asks the other instances to close the session's
// connections (hub.Relay).
func (c *Cluster) CloseSession(session string, code int, reason string) {
	b := c.header(kindSession)
	b = binary.AppendUvarint(b, uint64(code))
	b = appendString(b, session)
	b = appendString(b, reason)
	c.publish(c.cfg.Subject+".control", b)
}

// SendUser sends the event to the user's connections on the other
// instances (hub.Relay).
func (c *Cluster) SendUser(user string, skipRoom int64, ev hub.Event) {
	b := c.header(kindUser)
	b = binary.AppendVarint(b, skipRoom)
	b = appendString(b, user)
	b = appendMeta(b, ev.Meta)
	b = append(b, ev.Data...)
	c.publish(c.cfg.Subject+".control", b)
}

func (c *Cluster) header(kind byte) []byte {
	b := []byte{kind}
	return appendString(b, c.id)
}

// sendFull tells the others everything of this instance's presence.
func (c *Cluster) sendFull() {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	b := c.header(kindFull)
	b = binary.AppendUvarint(b, c.version)
	for room, users := range c.mine {
		for u := range users {
			b = binary.AppendVarint(b, room)
			b = appendString(b, u)
		}
	}
	c.publish(c.cfg.Subject+".control", b)
}

func (c *Cluster) heartbeat() {
	defer c.done.Done()
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.pubMu.Lock()
			b := c.header(kindAlive)
			b = binary.AppendUvarint(b, c.version)
			c.publish(c.cfg.Subject+".control", b)
			c.pubMu.Unlock()
			c.expire(now)
		}
	}
}

// expire forgets the instances not heard from for three heartbeats, and
// their users.
func (c *Cluster) expire(now time.Time) {
	c.mu.Lock()
	var changes []presenceChange
	for id, p := range c.peers {
		if now.Sub(p.seen) > 3*c.cfg.Heartbeat {
			c.log.Warn("instance gone silent: its users are offline", "instance", id)
			changes = c.replaceLocked(id, p, nil, changes)
			delete(c.peers, id)
		}
	}
	c.carryOut(nil, changes)
}

// presenceChange is a user's count of other instances in a room, changed.
type presenceChange struct {
	room int64
	user string
	n    int
}

type delivery struct {
	room int64
	ev   hub.Event
}

// carryOut lets mu go and delivers, in order, what was decided under it.
func (c *Cluster) carryOut(out []delivery, changes []presenceChange) {
	c.deliverMu.Lock()
	c.mu.Unlock()
	defer c.deliverMu.Unlock()
	for _, ch := range changes {
		c.in.SetRemote(ch.room, ch.user, ch.n)
	}
	for _, d := range out {
		c.in.Deliver(d.room, d.ev)
		if d.ev.Seq != 0 && c.cfg.OnEntry != nil {
			c.cfg.OnEntry(d.room, d.ev)
		}
	}
}

func (c *Cluster) onRoom(m *nats.Msg) {
	<-c.ready
	roomID, err := strconv.ParseInt(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 10, 64)
	if err != nil || len(m.Data) == 0 {
		return
	}
	r := reader{b: m.Data}
	kind := r.byte()
	var ev hub.Event
	if kind == kindEntry {
		ev.Seq = int64(r.uvarint())
		ev.Prev = int64(r.uvarint())
	}
	ev.Meta = r.meta()
	if r.err != nil {
		c.log.Error("bad cluster message", "subject", m.Subject)
		return
	}
	// m.Data is this message's own: the event may keep it.
	ev.Data = r.b
	c.mu.Lock()
	var out []delivery
	if kind == kindEntry {
		out = c.entryLocked(roomID, ev, nil)
	} else if ro := c.rooms[roomID]; ro != nil && len(ro.waiting) > 0 {
		ro.behind = append(ro.behind, ev)
	} else {
		out = []delivery{{roomID, ev}}
	}
	c.carryOut(out, nil)
}

// entryLocked decides what an entry's arrival delivers: nothing if it was
// delivered already; itself and the entries waiting for it if it follows
// the last delivered; otherwise it waits, and a fill from the database is
// set for if the gap lasts.
func (c *Cluster) entryLocked(roomID int64, ev hub.Event, out []delivery) []delivery {
	ro := c.rooms[roomID]
	if ro == nil {
		// A room new since this instance started: it had no entry then.
		ro = &roomOrder{}
		c.rooms[roomID] = ro
	}
	if ev.Seq <= ro.last {
		return out
	}
	if ev.Prev > ro.last {
		if ro.waiting == nil {
			ro.waiting = make(map[int64]hub.Event)
		}
		ro.waiting[ev.Prev] = ev
		if !ro.filling {
			ro.filling = true
			time.AfterFunc(c.cfg.GapWait, func() { c.fill(roomID) })
		}
		return out
	}
	out = append(out, delivery{roomID, ev})
	ro.last = ev.Seq
	return c.drainLocked(roomID, ro, out)
}

// drainLocked delivers the waiting entries that now follow.
func (c *Cluster) drainLocked(roomID int64, ro *roomOrder, out []delivery) []delivery {
	for {
		next, ok := ro.waiting[ro.last]
		if !ok {
			break
		}
		delete(ro.waiting, ro.last)
		out = append(out, delivery{roomID, next})
		ro.last = next.Seq
	}
	for prev, ev := range ro.waiting {
		if ev.Seq <= ro.last {
			delete(ro.waiting, prev)
		}
	}
	if len(ro.waiting) == 0 {
		for _, ev := range ro.behind {
			out = append(out, delivery{roomID, ev})
		}
		ro.behind = nil
	}
	return out
}

// fill reads from the database the entries a gap in the room's stream
// left out, and delivers them and what waited behind them.
func (c *Cluster) fill(roomID int64) {
	c.mu.Lock()
	ro := c.rooms[roomID]
	if len(ro.waiting) == 0 {
		ro.filling = false
		c.mu.Unlock()
		return
	}
	c.fillLocked(roomID, ro)
}

// catchUp reads back the entries of every room with connections here
// that came after the last delivered.
func (c *Cluster) catchUp() {
	for roomID := range c.in.LocalPresence() {
		c.mu.Lock()
		ro := c.rooms[roomID]
		if ro == nil {
			ro = &roomOrder{}
			c.rooms[roomID] = ro
		}
		if ro.filling {
			c.mu.Unlock() // a fill is on its way
			continue
		}
		ro.filling = true
		c.fillLocked(roomID, ro)
	}
}

// fillLocked does the reading back of fill; mu is held, and let go.
func (c *Cluster) fillLocked(roomID int64, ro *roomOrder) {
	after := ro.last
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	evs, err := c.cfg.Fill(ctx, roomID, after)
	cancel()
	c.mu.Lock()
	ro.filling = false
	if err != nil {
		c.log.Error("cluster: entries not read back", "room", roomID, "err", err)
		if len(ro.waiting) > 0 {
			ro.filling = true
			time.AfterFunc(c.cfg.GapWait, func() { c.fill(roomID) })
		}
		c.mu.Unlock()
		return
	}
	var out []delivery
	for _, ev := range evs {
		if ev.Seq > ro.last {
			out = append(out, delivery{roomID, ev})
			ro.last = ev.Seq
		}
	}
	out = c.drainLocked(roomID, ro, out)
	if len(ro.waiting) > 0 {
		// Still a gap: the entries read stopped short (a page's worth).
		ro.filling = true
		time.AfterFunc(0, func() { c.fill(roomID) })
	}
	if len(out) > 0 {
		c.log.Warn("cluster: entries read back from the database", "room", roomID, "entries", len(out))
	}
	c.carryOut(out, nil)
}

func (c *Cluster) onControl(m *nats.Msg) {
	<-c.ready
	r := reader{b: m.Data}
	kind := r.byte()
	from := r.string()
	if r.err != nil || from == c.id {
		return
	}
	switch kind {
	case kindSession:
		code := int(r.uvarint())
		session, reason := r.string(), r.string()
		if r.err == nil {
			c.in.CloseSession(session, code, reason)
		}
		return
	case kindUser:
		skip := r.varint()
		user := r.string()
		meta := r.meta()
		if r.err == nil {
			ev := hub.Event{Data: r.b, Meta: meta}
			c.in.SendUser(user, skip, ev)
			if c.cfg.OnUser != nil {
				c.cfg.OnUser(user, ev)
			}
		}
		return
	case kindWant:
		if target := r.string(); r.err == nil && target == c.id {
			c.sendFull()
		}
		return
	}
	now := time.Now()
	c.mu.Lock()
	var changes []presenceChange
	p := c.peers[from]
	if p == nil {
		if kind == kindBye {
			c.mu.Unlock()
			return
		}
		p = &peer{}
		c.peers[from] = p
	}
	p.seen = now
	switch kind {
	case kindBye:
		changes = c.replaceLocked(from, p, nil, changes)
		delete(c.peers, from)
	case kindAlive:
		if v := r.uvarint(); r.err == nil && (!p.synced || v != p.version) {
			c.askLocked(from, p, now)
		}
	case kindDelta:
		v := r.uvarint()
		room := r.varint()
		present := r.byte() == 1
		user := r.string()
		if r.err != nil {
			break
		}
		if !p.synced || v != p.version+1 {
			p.synced = false
			c.askLocked(from, p, now)
			break
		}
		p.version = v
		users := p.rooms[room]
		_, had := users[user]
		if present && !had {
			if users == nil {
				users = make(map[string]struct{})
				p.rooms[room] = users
			}
			users[user] = struct{}{}
			changes = append(changes, presenceChange{room, user, c.countLocked(room, user)})
		} else if !present && had {
			delete(users, user)
			if len(users) == 0 {
				delete(p.rooms, room)
			}
			changes = append(changes, presenceChange{room, user, c.countLocked(room, user)})
		}
	case kindFull:
		v := r.uvarint()
		rooms := make(map[int64]map[string]struct{})
		for len(r.b) > 0 && r.err == nil {
			room := r.varint()
			user := r.string()
			if rooms[room] == nil {
				rooms[room] = make(map[string]struct{})
			}
			rooms[room][user] = struct{}{}
		}
		if r.err != nil {
			break
		}
		changes = c.replaceLocked(from, p, rooms, changes)
		p.version, p.synced = v, true
	}
	c.carryOut(nil, changes)
}

// askLocked asks an instance for its whole list, at most twice a
// heartbeat.
func (c *Cluster) askLocked(id string, p *peer, now time.Time) {
	if now.Sub(p.asked) < c.cfg.Heartbeat/2 {
		return
	}
	p.asked = now
	b := c.header(kindWant)
	b = appendString(b, id)
	c.publish(c.cfg.Subject+".control", b)
}

// replaceLocked makes rooms the peer's presence, and adds to changes the
// users whose count changed.
func (c *Cluster) replaceLocked(id string, p *peer, rooms map[int64]map[string]struct{}, changes []presenceChange) []presenceChange {
	old := p.rooms
	p.rooms = rooms
	if p.rooms == nil {
		p.rooms = make(map[int64]map[string]struct{})
	}
	for room, users := range old {
		for u := range users {
			if _, still := p.rooms[room][u]; !still {
				changes = append(changes, presenceChange{room, u, c.countLocked(room, u)})
			}
		}
	}
	for room, users := range p.rooms {
		for u := range users {
			if _, was := old[room][u]; !was {
				changes = append(changes, presenceChange{room, u, c.countLocked(room, u)})
			}
		}
	}
	return changes
}

// countLocked is how many other instances have the user in the room.
func (c *Cluster) countLocked(room int64, user string) int {
	n := 0
	for _, p := range c.peers {
		if _, ok := p.rooms[room][user]; ok {
			n++
		}
	}
	return n
}

// appendMeta writes 0 for no meta, or 1 and its fields.
func appendMeta(b []byte, m *hub.Meta) []byte {
	if m == nil {
		return append(b, 0)
	}
	b = append(b, 1)
	b = binary.AppendVarint(b, m.AuthorID)
	b = appendString(b, m.Author)
	b = appendString(b, m.Kind)
	return binary.AppendVarint(b, m.Opened)
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader takes apart a message; a short one sets err.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("cluster: message too short")

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.err = errShort
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errShort
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) meta() *hub.Meta {
	if r.byte() != 1 {
		return nil
	}
	m := &hub.Meta{AuthorID: r.varint(), Author: r.string(), Kind: r.string(), Opened: r.varint()}
	if r.err != nil {
		return nil
	}
	return m
}

func (r *reader) string() string {
	n := r.uvarint()
	if r.err != nil || uint64(len(r.b)) < n {
		r.err = errShort
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
