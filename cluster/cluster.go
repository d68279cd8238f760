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
//
// The package is in four parts: order.go puts each room's entries in
// order (pure: tested without NATS); presence.go keeps the presence
// protocol (pure too); codec.go encodes the messages; this file is the
// link itself, which carries them over NATS and carries out what the
// other parts decide.
package cluster

import (
	"context"
	"crypto/rand"
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
	// OnEvent, if set, is told of every other event of a room that
	// carries a description (hub.Meta), after this instance's connections
	// have it: a room deleted, say.
	OnEvent func(roomID int64, ev hub.Event)
	Log     *slog.Logger
	// Subject prefixes every subject; "chat" if empty. Chats sharing a
	// NATS server need prefixes of their own.
	Subject   string
	Heartbeat time.Duration // 1 s if zero
	GapWait   time.Duration // 250 ms if zero
}

// DrainTimeout bounds how long Close waits for what this instance
// published to reach NATS: its part of the chat's 8 s shutdown.
const DrainTimeout = 2 * time.Second

// fillTimeout bounds one read back from the database.
const fillTimeout = 10 * time.Second

// Cluster is one instance's link to the others.
type Cluster struct {
	cfg Config
	id  string
	nc  *nats.Conn
	in  *hub.Inbound
	log *slog.Logger

	// mu guards order and peers: what is decided. deliverMu is taken
	// before mu is let go and held while the decisions are carried out,
	// so that they are carried out in the order they were made (settle).
	mu        sync.Mutex
	deliverMu sync.Mutex
	order     *order
	peers     *peers

	// pubMu orders what this instance says of its own presence.
	pubMu sync.Mutex
	own   own

	// ready is closed once the link is set up: messages wait for it.
	ready chan struct{}
	// closed is closed once the NATS connection is.
	closed chan struct{}
	// ctx ends when the link stops: the heartbeat and the reads back
	// stop with it, and tasks waits for them.
	ctx    context.Context
	cancel context.CancelFunc
	tasks  tasks
	halted sync.Once
}

// Start connects to NATS and links the hub to the other instances. Call
// it before the hub takes its first connection.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	c := newCluster(cfg)
	if err := c.connect(); err != nil {
		return nil, err
	}
	// Subscribed: whatever commits from now on comes on the subjects.
	// What committed before is where each room starts.
	latest, err := cfg.Latest(ctx)
	if err != nil {
		c.abort()
		return nil, fmt.Errorf("cluster: newest entries: %w", err)
	}
	c.order = newOrder(c.cfg.GapWait, latest)
	if c.in, err = cfg.Hub.Link(c); err != nil {
		c.abort()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	close(c.ready)
	c.sendFull()
	c.tasks.start(c.heartbeat)
	return c, nil
}

func newCluster(cfg Config) *Cluster {
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
	id := hex.EncodeToString(idb)
	c := &Cluster{
		cfg:    cfg,
		id:     id,
		log:    cfg.Log,
		peers:  newPeers(cfg.Heartbeat),
		own:    own{id: id, rooms: make(map[int64]map[string]struct{})},
		ready:  make(chan struct{}),
		closed: make(chan struct{}),
	}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	return c
}

// connect connects to NATS and subscribes to the rooms' subjects and the
// control subject.
func (c *Cluster) connect() error {
	nc, err := nats.Connect(c.cfg.URL,
		nats.Name("chat "+c.id),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250*time.Millisecond),
		nats.DrainTimeout(DrainTimeout),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			c.log.Warn("nats disconnected", "err", err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) { c.reconnected() }),
		nats.ClosedHandler(func(*nats.Conn) { close(c.closed) }),
	)
	if err != nil {
		return fmt.Errorf("cluster: connect to nats: %w", err)
	}
	c.nc = nc
	for subject, handle := range map[string]nats.MsgHandler{
		c.cfg.Subject + ".room.*":  c.onRoom,
		c.cfg.Subject + ".control": c.onControl,
	} {
		sub, err := nc.Subscribe(subject, handle)
		if err != nil {
			nc.Close()
			return fmt.Errorf("cluster: subscribe: %w", err)
		}
		// An instance that falls behind keeps up to 1M messages rather
		// than dropping; a dropped entry is read back from the database.
		sub.SetPendingLimits(1<<20, 1<<30)
	}
	if err := nc.Flush(); err != nil {
		nc.Close()
		return fmt.Errorf("cluster: subscribe: %w", err)
	}
	return nil
}

// abort closes the connection of a link that failed to start: the
// messages waiting for it to be ready are dropped.
func (c *Cluster) abort() {
	c.cancel()
	c.nc.Close()
}

// started waits until the link is ready; false if it never will be.
func (c *Cluster) started() bool {
	select {
	case <-c.ready:
		return true
	default:
	}
	select {
	case <-c.ready:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// reconnected follows the link's coming back.
func (c *Cluster) reconnected() {
	c.log.Info("nats reconnected")
	select {
	case <-c.ready:
	default:
		return // Start says it all once ready
	}
	// Others may have dropped this instance meanwhile.
	c.sendFull()
	// What others published meanwhile never came: the rooms followed
	// here read it back now, not at their next entry.
	c.tasks.start(c.catchUp)
}

// ID names this instance among the others.
func (c *Cluster) ID() string { return c.id }

// Close tells the others this instance is leaving and disconnects,
// having sent everything published, within DrainTimeout.
func (c *Cluster) Close() error {
	if !c.halt() {
		return nil
	}
	c.send(control{kind: kindBye, from: c.id})
	err := c.nc.Drain()
	t := time.NewTimer(DrainTimeout + 500*time.Millisecond)
	defer t.Stop()
	select {
	case <-c.closed:
	case <-t.C:
		c.nc.Close()
		err = errors.Join(err, errors.New("cluster: nats drain timed out"))
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

// halt stops the heartbeat and the reads back, and waits for them; it
// reports false if the link was stopped already.
func (c *Cluster) halt() bool {
	first := false
	c.halted.Do(func() {
		first = true
		c.cancel()
		c.tasks.stop()
	})
	return first
}

func (c *Cluster) publish(subject string, b []byte) {
	if err := c.nc.Publish(subject, b); err != nil {
		c.log.Error("nats publish failed", "subject", subject, "err", err)
	}
}

func (c *Cluster) send(m control) {
	c.publish(c.cfg.Subject+".control", appendControl(nil, m))
}

// Publish sends the room's event to every instance (hub.Relay).
func (c *Cluster) Publish(roomID int64, ev hub.Event) {
	c.publish(c.cfg.Subject+".room."+strconv.FormatInt(roomID, 10), appendRoomEvent(nil, ev))
}

// Present tells the others of a change in this instance's presence
// (hub.Relay). The hub calls it in the order the changes happen.
func (c *Cluster) Present(roomID int64, user string, present bool) {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.send(c.own.change(roomID, user, present))
}

// CloseSession asks the other instances to close the session's
// connections (hub.Relay).
func (c *Cluster) CloseSession(session string, code int, reason string) {
	c.send(control{kind: kindSession, from: c.id, session: session, code: code, reason: reason})
}

// SendUser sends the event to the user's connections on the other
// instances (hub.Relay).
func (c *Cluster) SendUser(user string, skipRoom int64, ev hub.Event) {
	c.send(control{kind: kindUser, from: c.id, user: user, room: skipRoom, ev: ev})
}

// sendFull tells the others everything of this instance's presence.
func (c *Cluster) sendFull() {
	c.pubMu.Lock()
	defer c.pubMu.Unlock()
	c.send(c.own.full())
}

func (c *Cluster) heartbeat() {
	t := time.NewTicker(c.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return
		case now := <-t.C:
			c.pubMu.Lock()
			c.send(c.own.alive())
			c.pubMu.Unlock()
			c.settle(func() outcome {
				changes, gone := c.peers.expire(now)
				for _, id := range gone {
					c.log.Warn("instance gone silent: its users are offline", "instance", id)
				}
				return outcome{changes: changes}
			})
		}
	}
}

// outcome is what a decision taken under mu leaves to carry out.
type outcome struct {
	room    int64
	events  []hub.Event      // the room's, to deliver in order
	fillAt  time.Time        // when the room's gap is to be filled
	changes []presenceChange // the other instances' presence
	ask     string           // an instance to ask for its whole list
}

// settle decides under mu, then carries the decision out: deliverMu is
// taken before mu is let go, so that decisions are carried out in the
// order they were taken.
func (c *Cluster) settle(decide func() outcome) {
	c.mu.Lock()
	o := decide()
	c.deliverMu.Lock()
	c.mu.Unlock()
	defer c.deliverMu.Unlock()
	for _, ch := range o.changes {
		c.in.SetRemote(ch.room, ch.user, ch.n)
	}
	for _, ev := range o.events {
		c.in.Deliver(o.room, ev)
		switch {
		case ev.Seq != 0 && c.cfg.OnEntry != nil:
			c.cfg.OnEntry(o.room, ev)
		case ev.Seq == 0 && ev.Meta != nil && c.cfg.OnEvent != nil:
			c.cfg.OnEvent(o.room, ev)
		}
	}
	if !o.fillAt.IsZero() {
		c.tasks.after(time.Until(o.fillAt), func() { c.fill(o.room) })
	}
	if o.ask != "" {
		c.send(control{kind: kindWant, from: c.id, target: o.ask})
	}
}

func (c *Cluster) onRoom(m *nats.Msg) {
	if !c.started() {
		return
	}
	roomID, err := strconv.ParseInt(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 10, 64)
	if err != nil || len(m.Data) == 0 {
		return
	}
	// m.Data is this message's own: the event may keep it.
	ev, err := parseRoomEvent(m.Data)
	if err != nil {
		c.log.Error("bad cluster message", "subject", m.Subject, "err", err)
		return
	}
	now := time.Now()
	c.settle(func() outcome {
		if ev.Seq == 0 {
			return outcome{room: roomID, events: c.order.other(roomID, ev)}
		}
		out, fillAt := c.order.entry(roomID, ev, now)
		return outcome{room: roomID, events: out, fillAt: fillAt}
	})
}

// fill reads back the entries a gap in the room's stream left out, if
// entries still wait.
func (c *Cluster) fill(roomID int64) {
	c.mu.Lock()
	after, ok := c.order.startFill(roomID)
	c.mu.Unlock()
	if ok {
		c.readBack(roomID, after)
	}
}

// catchUp reads back the entries of every room with connections here
// that came after the last delivered.
func (c *Cluster) catchUp() {
	for roomID := range c.in.LocalPresence() {
		c.mu.Lock()
		after, ok := c.order.startCatchUp(roomID)
		c.mu.Unlock()
		if ok {
			c.readBack(roomID, after)
		}
	}
}

// readBack reads the room's entries after the entry after from the
// database, and delivers them and what waited behind them.
func (c *Cluster) readBack(roomID, after int64) {
	ctx, cancel := context.WithTimeout(c.ctx, fillTimeout)
	evs, err := c.cfg.Fill(ctx, roomID, after)
	cancel()
	c.settle(func() outcome {
		now := time.Now()
		if err != nil {
			if c.ctx.Err() == nil {
				c.log.Error("cluster: entries not read back", "room", roomID, "err", err)
			}
			return outcome{room: roomID, fillAt: c.order.fillFailed(roomID, now)}
		}
		out, fillAt := c.order.filled(roomID, evs, now)
		if len(out) > 0 {
			c.log.Warn("cluster: entries read back from the database", "room", roomID, "entries", len(out))
		}
		return outcome{room: roomID, events: out, fillAt: fillAt}
	})
}

func (c *Cluster) onControl(m *nats.Msg) {
	if !c.started() {
		return
	}
	msg, err := parseControl(m.Data)
	if err != nil || msg.from == c.id {
		return
	}
	switch msg.kind {
	case kindSession:
		c.in.CloseSession(msg.session, msg.code, msg.reason)
	case kindUser:
		c.in.SendUser(msg.user, msg.room, msg.ev)
		if c.cfg.OnUser != nil {
			c.cfg.OnUser(msg.user, msg.ev)
		}
	case kindWant:
		if msg.target == c.id {
			c.sendFull()
		}
	default:
		now := time.Now()
		c.settle(func() outcome {
			changes, ask := c.peers.heard(msg, now)
			o := outcome{changes: changes}
			if ask {
				o.ask = msg.from
			}
			return o
		})
	}
}
