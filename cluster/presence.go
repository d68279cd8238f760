package cluster

import (
	"time"
)

// The presence protocol. Each instance tells the others of its own
// presence (who has a connection to which room here) as deltas counted
// by a version (own); each keeps the others' (peers). An instance that
// misses a delta, or hears from an instance it does not know, asks for
// that instance's whole list; one silent for three heartbeats is taken
// to be gone, with its users. Neither side does I/O: the link sends what
// own makes and carries out what peers decide.

// own is this instance's presence, as told to the others.
type own struct {
	id      string
	version uint64 // the deltas sent
	rooms   map[int64]map[string]struct{}
}

// change records that the user's first connection to the room here
// opened (present) or the last closed, and returns the delta to send.
func (o *own) change(roomID int64, user string, present bool) control {
	users := o.rooms[roomID]
	if present {
		if users == nil {
			users = make(map[string]struct{})
			o.rooms[roomID] = users
		}
		users[user] = struct{}{}
	} else {
		delete(users, user)
		if len(users) == 0 {
			delete(o.rooms, roomID)
		}
	}
	o.version++
	return control{kind: kindDelta, from: o.id, version: o.version, room: roomID, user: user, present: present}
}

// full is the whole list, to send.
func (o *own) full() control {
	return control{kind: kindFull, from: o.id, version: o.version, rooms: o.rooms}
}

// alive is the heartbeat, to send.
func (o *own) alive() control {
	return control{kind: kindAlive, from: o.id, version: o.version}
}

// peers is the other instances' presence, as this one knows it.
type peers struct {
	heartbeat time.Duration
	m         map[string]*peer
}

// peer is another instance.
type peer struct {
	version uint64
	synced  bool
	seen    time.Time
	asked   time.Time
	rooms   map[int64]map[string]struct{}
}

// presenceChange is a user's count of other instances in a room, changed.
type presenceChange struct {
	room int64
	user string
	n    int
}

func newPeers(heartbeat time.Duration) *peers {
	return &peers{heartbeat: heartbeat, m: make(map[string]*peer)}
}

// heard takes a presence message (delta, full, alive, bye) from another
// instance. It returns the counts it changed, and whether to ask the
// sender for its whole list.
func (ps *peers) heard(m control, now time.Time) (changes []presenceChange, ask bool) {
	p := ps.m[m.from]
	if p == nil {
		if m.kind == kindBye {
			return nil, false
		}
		p = &peer{}
		ps.m[m.from] = p
	}
	p.seen = now
	switch m.kind {
	case kindBye:
		changes = ps.replace(p, nil)
		delete(ps.m, m.from)
	case kindAlive:
		ask = ps.ask(p, !p.synced || m.version != p.version, now)
	case kindDelta:
		if !p.synced || m.version != p.version+1 {
			p.synced = false
			return nil, ps.ask(p, true, now)
		}
		p.version = m.version
		changes = ps.delta(p, m)
	case kindFull:
		changes = ps.replace(p, m.rooms)
		p.version, p.synced = m.version, true
	}
	return changes, ask
}

// ask reports whether to ask the instance for its whole list, if need
// be: at most twice a heartbeat.
func (ps *peers) ask(p *peer, need bool, now time.Time) bool {
	if !need || now.Sub(p.asked) < ps.heartbeat/2 {
		return false
	}
	p.asked = now
	return true
}

// delta applies a delta that follows the peer's version.
func (ps *peers) delta(p *peer, m control) []presenceChange {
	users := p.rooms[m.room]
	_, had := users[m.user]
	switch {
	case m.present && !had:
		if users == nil {
			users = make(map[string]struct{})
			p.rooms[m.room] = users
		}
		users[m.user] = struct{}{}
	case !m.present && had:
		delete(users, m.user)
		if len(users) == 0 {
			delete(p.rooms, m.room)
		}
	default:
		return nil
	}
	return []presenceChange{{m.room, m.user, ps.count(m.room, m.user)}}
}

// expire forgets the instances not heard from for three heartbeats, and
// their users; it returns the counts changed and the instances gone.
func (ps *peers) expire(now time.Time) (changes []presenceChange, gone []string) {
	for id, p := range ps.m {
		if now.Sub(p.seen) > 3*ps.heartbeat {
			changes = append(changes, ps.replace(p, nil)...)
			delete(ps.m, id)
			gone = append(gone, id)
		}
	}
	return changes, gone
}

// replace makes rooms the peer's presence, and returns the users whose
// count changed.
func (ps *peers) replace(p *peer, rooms map[int64]map[string]struct{}) []presenceChange {
	var changes []presenceChange
	old := p.rooms
	p.rooms = rooms
	if p.rooms == nil {
		p.rooms = make(map[int64]map[string]struct{})
	}
	for room, users := range old {
		for u := range users {
			if _, still := p.rooms[room][u]; !still {
				changes = append(changes, presenceChange{room, u, ps.count(room, u)})
			}
		}
	}
	for room, users := range p.rooms {
		for u := range users {
			if _, was := old[room][u]; !was {
				changes = append(changes, presenceChange{room, u, ps.count(room, u)})
			}
		}
	}
	return changes
}

// count is how many other instances have the user in the room.
func (ps *peers) count(room int64, user string) int {
	n := 0
	for _, p := range ps.m {
		if _, ok := p.rooms[room][user]; ok {
			n++
		}
	}
	return n
}
