package cluster

import (
	"time"

	"chat/hub"
)

// order puts each room's events in the room's stored order: the link's
// core, with no I/O and no goroutines, and no clock but the times it is
// given. Each call returns the events it lets out, in the order to
// deliver them, and, if a gap must be filled from the database, when.
// The caller serializes the calls.
//
// An entry is let out once the one before it (Prev) is; one that comes
// before its predecessor waits. A first wait in a room asks for a fill
// GapWait later: the caller reads the entries after the last let out
// (startFill, or startCatchUp when the link comes back), and hands them
// in (filled, or fillFailed). A copy of an entry let out already is
// dropped. The room's other events (changes, typing) that come while
// entries wait follow those entries.
type order struct {
	gapWait time.Duration
	rooms   map[int64]*roomOrder
}

// roomOrder is where an instance is in a room's entries.
type roomOrder struct {
	last int64 // the newest entry let out
	// waiting are entries whose predecessor has not come yet, by it.
	waiting map[int64]hub.Event
	// behind are the room's other events that came while entries
	// waited.
	behind []hub.Event
	// filling is set from the moment a fill is asked for until its
	// entries are handed in.
	filling bool
}

// newOrder starts each room after its newest entry in latest; a room
// not in it starts at its first entry.
func newOrder(gapWait time.Duration, latest map[int64]int64) *order {
	o := &order{gapWait: gapWait, rooms: make(map[int64]*roomOrder)}
	for room, last := range latest {
		o.rooms[room] = &roomOrder{last: last}
	}
	return o
}

func (o *order) room(roomID int64) *roomOrder {
	ro := o.rooms[roomID]
	if ro == nil {
		// A room new since this instance started: it had no entry then.
		ro = &roomOrder{}
		o.rooms[roomID] = ro
	}
	return ro
}

// entry takes an entry's arrival: nothing comes out if it was let out
// already; itself and the entries waiting for it if it follows the last
// let out; otherwise it waits, and fillAt is set if the wait is the
// room's first.
func (o *order) entry(roomID int64, ev hub.Event, now time.Time) (out []hub.Event, fillAt time.Time) {
	ro := o.room(roomID)
	if ev.Seq <= ro.last {
		return nil, time.Time{}
	}
	if ev.Prev > ro.last {
		if ro.waiting == nil {
			ro.waiting = make(map[int64]hub.Event)
		}
		ro.waiting[ev.Prev] = ev
		if !ro.filling {
			ro.filling = true
			fillAt = now.Add(o.gapWait)
		}
		return nil, fillAt
	}
	ro.last = ev.Seq
	return ro.drain([]hub.Event{ev}), time.Time{}
}

// other takes any other event of a room: out at once, unless entries
// wait, then after them.
func (o *order) other(roomID int64, ev hub.Event) []hub.Event {
	if ro := o.rooms[roomID]; ro != nil && len(ro.waiting) > 0 {
		ro.behind = append(ro.behind, ev)
		return nil
	}
	return []hub.Event{ev}
}

// startFill is the fill asked for come due: it reports the entry after
// which to read, or false if nothing waits any more.
func (o *order) startFill(roomID int64) (after int64, ok bool) {
	ro := o.room(roomID)
	if len(ro.waiting) == 0 {
		ro.filling = false
		return 0, false
	}
	return ro.last, true
}

// startCatchUp is startFill for a room whose entries may have been
// missed though none waits (the link was down); false if a fill is on
// its way already.
func (o *order) startCatchUp(roomID int64) (after int64, ok bool) {
	ro := o.room(roomID)
	if ro.filling {
		return 0, false
	}
	ro.filling = true
	return ro.last, true
}

// filled takes the entries read back after a startFill or startCatchUp,
// oldest first, and lets them out with what waited for them. If a gap
// is left (the read stopped short), fillAt asks for the next read now.
func (o *order) filled(roomID int64, evs []hub.Event, now time.Time) (out []hub.Event, fillAt time.Time) {
	ro := o.room(roomID)
	ro.filling = false
	for _, ev := range evs {
		if ev.Seq > ro.last {
			out = append(out, ev)
			ro.last = ev.Seq
		}
	}
	out = ro.drain(out)
	if len(ro.waiting) > 0 {
		ro.filling = true
		fillAt = now
	}
	return out, fillAt
}

// fillFailed is a read back that failed: if entries still wait, fillAt
// asks for another a GapWait later.
func (o *order) fillFailed(roomID int64, now time.Time) (fillAt time.Time) {
	ro := o.room(roomID)
	ro.filling = false
	if len(ro.waiting) > 0 {
		ro.filling = true
		fillAt = now.Add(o.gapWait)
	}
	return fillAt
}

// drain appends to out the waiting entries that now follow, drops those
// let out meanwhile, and, once none waits, the events behind them.
func (ro *roomOrder) drain(out []hub.Event) []hub.Event {
	for {
		next, ok := ro.waiting[ro.last]
		if !ok {
			break
		}
		delete(ro.waiting, ro.last)
		out = append(out, next)
		ro.last = next.Seq
	}
	for prev, ev := range ro.waiting {
		if ev.Seq <= ro.last {
			delete(ro.waiting, prev)
		}
	}
	if len(ro.waiting) == 0 {
		out = append(out, ro.behind...)
		ro.behind = nil
	}
	return out
}
